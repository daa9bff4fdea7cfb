#include "storage/copy_store.hpp"

#include <algorithm>
#include <optional>

namespace bitscrape::storage {
namespace {

// An attempt count beyond this is copied as this many (a record can claim 4 billion).
constexpr std::uint32_t kMaxCopiedAttempts = 10'000;

constexpr Source kSources[] = {Source::Sample, Source::GetPeers, Source::AnnouncePeer, Source::Lookup};

// The writes that rebuild `r` through the merge rules (records.hpp): a sighting per source
// at first_seen (carrying peers and priority), one at last_seen, then the fetch attempts.
void rebuild(const InfohashRecord& r, WriteBatch& b) {
  bool first = true;
  for (const Source s : kSources) {
    if ((r.sources & mask_of(s)) == 0) continue;
    b.sightings.push_back({r.infohash, r.first_seen, s, r.peers, r.priority});
    if (first) b.sightings.push_back({r.infohash, r.last_seen, s, r.peers, r.priority});
    first = false;
  }
  const std::uint32_t attempts = std::min(r.fetch_attempts, kMaxCopiedAttempts);
  const UnixTime at = r.last_attempt.value_or(r.last_seen);
  for (std::uint32_t i = 0; i < attempts; ++i) {
    b.fetch_outcomes.push_back({r.infohash, at, r.state == FetchState::Failed && i + 1 == attempts});
  }
}

class Copier {
 public:
  Copier(Store& from, Store& to, const CopyOptions& o, const CopyProgress& p)
      : from_(from), to_(to), opt_(o), progress_(p) {}

  StoreResult<CopyReport> run() {
    auto st = from_.stats();
    if (!st) return Unexpected<Error>{st.error()};
    total_ = st->nodes + st->torrents + st->pending + st->failed;
    report();

    phase_ = "nodes";
    auto nodes = from_.for_each_node([&](const NodeRecord& n) {
      batch_.nodes.push_back(n);
      ++done_;
      ++out_.nodes;
      return flush_if(batch_.nodes.size() >= opt_.batch_records);
    });
    if (!nodes) return Unexpected<Error>{nodes.error()};
    if (!error_ok()) return Unexpected<Error>{*error_};

    phase_ = "torrents";
    auto torrents = from_.for_each_torrent(ExportOptions{true, true}, [&](const TorrentRecord& t) {
      for (const auto& k : {t.infohash_v1, t.infohash_v2_truncated()}) {
        if (k && !add_key(*k)) return false;
      }
      batch_.torrents.push_back(t);
      ++done_;
      ++out_.torrents;
      return flush_if(batch_.torrents.size() >= opt_.batch_torrents);
    });
    if (!torrents) return Unexpected<Error>{torrents.error()};
    if (!error_ok()) return Unexpected<Error>{*error_};
    if (!flush()) return Unexpected<Error>{*error_};

    phase_ = "infohashes";
    auto keys = from_.for_each_without_metadata([&](const InfohashRecord& r) {
      rebuild(r, batch_);
      if (!add_peers(r.infohash)) return false;
      ++done_;
      ++out_.infohashes;
      return flush_if(batch_.sightings.size() + batch_.fetch_outcomes.size() + batch_.peers.size() >=
                      opt_.batch_records);
    });
    if (!keys) return Unexpected<Error>{keys.error()};
    if (!error_ok()) return Unexpected<Error>{*error_};

    phase_ = "counters";
    auto counters = from_.for_each_counter_sample([&](const CounterSample& c) {
      batch_.counters.push_back(c);
      ++out_.counter_instants;
      return flush_if(batch_.counters.size() >= opt_.batch_records / 64 + 1);
    });
    if (!counters) return Unexpected<Error>{counters.error()};
    if (!error_ok()) return Unexpected<Error>{*error_};
    if (!flush()) return Unexpected<Error>{*error_};
    report();
    return out_;
  }

 private:
  // The key record (before its torrent, so the torrent finds it) and the key's peers.
  bool add_key(const InfoHash& k) {
    auto r = from_.infohash(k);
    if (!r) return set_error(r.error());
    if (r->has_value()) rebuild(**r, batch_);
    return add_peers(k);
  }
  bool add_peers(const InfoHash& k) {
    auto p = from_.peers(k, opt_.max_peers_per_key);
    if (!p) return set_error(p.error());
    out_.peers += p->size();
    batch_.peers.insert(batch_.peers.end(), p->begin(), p->end());
    return true;
  }
  bool flush_if(bool full) { return !full || flush(); }
  bool flush() {
    if (batch_.empty()) return true;
    to_.prepare(batch_);
    auto w = to_.write(batch_);
    batch_.clear();
    if (!w) return set_error(w.error());
    report();
    return true;
  }
  bool set_error(const Error& e) {
    error_ = e;
    return false;
  }
  bool error_ok() const { return !error_.has_value(); }
  void report() {
    if (progress_) progress_(done_, std::max(total_, done_), phase_);
  }

  Store& from_;
  Store& to_;
  CopyOptions opt_;
  const CopyProgress& progress_;
  WriteBatch batch_;
  CopyReport out_;
  std::uint64_t done_ = 0, total_ = 0;
  std::string_view phase_ = "start";
  std::optional<Error> error_;
};

}  // namespace

StoreResult<CopyReport> copy_store(Store& from, Store& to, const CopyOptions& options,
                                   const CopyProgress& progress) {
  return Copier(from, to, options, progress).run();
}

}  // namespace bitscrape::storage
