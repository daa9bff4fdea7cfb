#include "storage/memory_store.hpp"

#include "storage/search_text.hpp"
#include "storage/store_rules.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <mutex>
#include <tuple>
#include <unordered_map>
#include <utility>

namespace bitscrape::storage {
namespace {

using EndpointKey = std::pair<std::string, std::uint16_t>;  // (ip bytes, port): SQLite's order

EndpointKey key_of(const Endpoint& e) { return {std::string(e.ip.bytes()), e.port}; }

// Most recent first, then endpoint bytes, then port.
template <class R>
bool recent_first(const R& a, const R& b) {
  if (a.last_seen != b.last_seen) return a.last_seen > b.last_seen;
  return key_of(a.endpoint) < key_of(b.endpoint);
}

struct Indexed {
  TorrentRecord record;  // files truncated, info_dict only when kept
  std::vector<std::string> name_tokens;
  std::vector<std::string> path_tokens;
};

std::size_t term_frequency(const std::vector<std::string>& doc, const std::string& token, bool prefix) {
  std::size_t n = 0;
  for (const auto& t : doc) {
    if (prefix ? t.starts_with(token) : t == token) ++n;
  }
  return n;
}

class MemoryStore final : public Store {
 public:
  explicit MemoryStore(const StoreOptions& o) : opt_(o) {}

  StoreResult<WriteReport> write(const WriteBatch& batch) override {
    std::lock_guard lock(mu_);
    WriteReport report;
    for (const auto& n : batch.nodes) apply_node(n);
    for (const auto& s : batch.sightings) {
      auto it = infohashes_.find(s.infohash);
      if (it == infohashes_.end()) {
        infohashes_.emplace(s.infohash, detail::from_sighting(s));
      } else {
        detail::merge_sighting(it->second, s);
      }
    }
    for (const auto& o : batch.fetch_outcomes) {
      auto& r = ensure_infohash(o.infohash, o.at);
      r.fetch_attempts += 1;
      r.last_attempt = o.at;
      if (o.permanent_failure && r.state != FetchState::Fetched) r.state = FetchState::Failed;
    }
    for (const auto& t : batch.torrents) apply_torrent(t, report);
    apply_peers(batch.peers, report);
    for (const auto& c : batch.counters) {
      for (const auto& [name, value] : c.values) {
        if (!detail::valid_counter_name(name) ||
            (!counters_.contains(name) && counters_.size() >= opt_.max_counter_names)) {
          ++report.rejected;
          continue;
        }
        counters_[name][to_unix(c.at)] = value;
      }
    }
    return report;
  }

  StoreResult<PruneReport> prune(const PruneLimits& limits) override {
    std::lock_guard lock(mu_);
    PruneReport report;
    if (limits.max_nodes > 0 && nodes_.size() > limits.max_nodes) {
      std::vector<NodeRecord> all;
      for (const auto& [k, n] : nodes_) all.push_back(n);
      std::sort(all.begin(), all.end(), recent_first<NodeRecord>);
      for (std::size_t i = limits.max_nodes; i < all.size(); ++i) nodes_.erase(key_of(all[i].endpoint));
      report.nodes = all.size() - limits.max_nodes;
    }
    if (limits.max_infohashes_without_metadata > 0) {
      std::vector<const InfohashRecord*> without;
      for (const auto& [k, r] : infohashes_) {
        if (r.state != FetchState::Fetched) without.push_back(&r);
      }
      if (without.size() > limits.max_infohashes_without_metadata) {
        std::sort(without.begin(), without.end(), [](const InfohashRecord* a, const InfohashRecord* b) {
          if (a->last_seen != b->last_seen) return a->last_seen > b->last_seen;
          return a->infohash < b->infohash;
        });
        std::vector<InfoHash> doomed;
        for (std::size_t i = limits.max_infohashes_without_metadata; i < without.size(); ++i) {
          doomed.push_back(without[i]->infohash);
        }
        for (const auto& k : doomed) {
          infohashes_.erase(k);
          peers_.erase(k);
        }
        report.infohashes = doomed.size();
      }
    }
    if (limits.counters_before) {
      const std::int64_t cut = to_unix(*limits.counters_before);
      for (auto& [name, samples] : counters_) {
        const auto end = samples.lower_bound(cut);
        report.counter_samples += static_cast<std::uint64_t>(std::distance(samples.begin(), end));
        samples.erase(samples.begin(), end);
      }
    }
    return report;
  }

  StoreResult<std::vector<NodeRecord>> good_nodes(std::size_t limit) override {
    if (limit > kMaxNodesLimit) return fail(ErrorCode::InvalidArgument, "node limit over 100000");
    std::lock_guard lock(mu_);
    std::vector<NodeRecord> out;
    for (const auto& [k, n] : nodes_) {
      if (n.good) out.push_back(n);
    }
    std::sort(out.begin(), out.end(), recent_first<NodeRecord>);
    if (out.size() > limit) out.resize(limit);
    return out;
  }

  StoreResult<std::vector<InfohashRecord>> pending_fetch(const PendingQuery& q) override {
    if (q.limit > kMaxPendingLimit) return fail(ErrorCode::InvalidArgument, "pending limit over 100000");
    std::lock_guard lock(mu_);
    std::vector<InfohashRecord> out;
    for (const auto& [k, r] : infohashes_) {
      if (r.state != FetchState::Pending) continue;
      if (q.attempted_before && r.last_attempt && *r.last_attempt > *q.attempted_before) continue;
      out.push_back(r);
    }
    std::sort(out.begin(), out.end(), [](const InfohashRecord& a, const InfohashRecord& b) {
      return std::tuple(-static_cast<std::int64_t>(a.priority), a.fetch_attempts, -to_unix(a.last_seen), a.infohash) <
             std::tuple(-static_cast<std::int64_t>(b.priority), b.fetch_attempts, -to_unix(b.last_seen), b.infohash);
    });
    if (out.size() > q.limit) out.resize(q.limit);
    return out;
  }

  StoreResult<std::vector<bool>> is_fetched(std::span<const InfoHash> keys) override {
    if (keys.size() > kMaxIsFetchedBatch) return fail(ErrorCode::InvalidArgument, "is_fetched batch over 10000");
    std::lock_guard lock(mu_);
    std::vector<bool> out;
    out.reserve(keys.size());
    for (const auto& k : keys) out.push_back(keys_.contains(k));
    return out;
  }

  StoreResult<std::optional<InfohashRecord>> infohash(const InfoHash& key) override {
    std::lock_guard lock(mu_);
    auto it = infohashes_.find(key);
    if (it == infohashes_.end()) return std::optional<InfohashRecord>{};
    return std::optional<InfohashRecord>{it->second};
  }

  StoreResult<std::optional<TorrentRecord>> torrent(const InfoHash& key) override {
    std::lock_guard lock(mu_);
    const Indexed* t = find(key);
    if (!t) return std::optional<TorrentRecord>{};
    TorrentRecord r = t->record;
    r.info_dict.clear();
    return std::optional<TorrentRecord>{std::move(r)};
  }

  StoreResult<std::optional<std::string>> raw_info_dict(const InfoHash& key) override {
    std::lock_guard lock(mu_);
    const Indexed* t = find(key);
    if (!t || !opt_.keep_info_dicts) return std::optional<std::string>{};
    return std::optional<std::string>{t->record.info_dict};
  }

  StoreResult<std::vector<PeerRecord>> peers(const InfoHash& key, std::size_t limit) override {
    std::lock_guard lock(mu_);
    std::vector<PeerRecord> out;
    if (auto it = peers_.find(key); it != peers_.end()) out = it->second;
    std::sort(out.begin(), out.end(), recent_first<PeerRecord>);
    if (out.size() > limit) out.resize(limit);
    return out;
  }

  StoreResult<SearchPage> search(const SearchQuery& q) override {
    if (auto ok = detail::check_search(q); !ok) return Unexpected<Error>{ok.error()};
    const ParsedSearch parsed = parse_search_text(q.text);
    std::lock_guard lock(mu_);
    struct Hit {
      const TorrentRecord* t;
      double score;
    };
    std::vector<Hit> hits;  // in id order
    for (const auto& [id, ix] : torrents_) {
      const TorrentRecord& t = ix.record;
      if (q.min_size && t.total_size < *q.min_size) continue;
      if (q.max_size && t.total_size > *q.max_size) continue;
      if (q.min_files && t.file_count < *q.min_files) continue;
      if (q.max_files && t.file_count > *q.max_files) continue;
      if (q.discovered_from && t.discovered_at < *q.discovered_from) continue;
      if (q.discovered_to && t.discovered_at > *q.discovered_to) continue;
      double occurrences = 0;
      bool match = true;
      for (std::size_t i = 0; i < parsed.tokens.size() && match; ++i) {
        const bool prefix = parsed.last_is_prefix && i + 1 == parsed.tokens.size();
        const auto in_name = term_frequency(ix.name_tokens, parsed.tokens[i], prefix);
        const auto in_paths = term_frequency(ix.path_tokens, parsed.tokens[i], prefix);
        match = in_name + in_paths > 0;
        occurrences += 10.0 * static_cast<double>(in_name) + static_cast<double>(in_paths);
      }
      if (match) hits.push_back({&t, search_relevance(occurrences, t.name.size())});
    }
    SortKey sort = q.sort;
    bool desc = q.descending;
    if (sort == SortKey::Relevance && parsed.empty()) {
      sort = SortKey::Discovered;
      desc = true;
    }
    SearchPage page;
    page.total = std::min<std::uint64_t>(hits.size(), q.count_limit);
    page.total_exact = hits.size() <= q.count_limit;
    const bool windowed = !parsed.empty() || sort == SortKey::Name;
    if (windowed && hits.size() > q.window) {
      page.window_limited = true;
      hits.erase(hits.begin(), hits.end() - static_cast<std::ptrdiff_t>(q.window));  // keep the newest
    }
    auto ordered = [&](auto key) {
      std::sort(hits.begin(), hits.end(), [&](const Hit& a, const Hit& b) {
        const auto ka = std::tuple(key(a), a.t->id);
        const auto kb = std::tuple(key(b), b.t->id);
        return desc ? kb < ka : ka < kb;
      });
    };
    switch (sort) {
      case SortKey::Relevance:
        std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
          if (a.score != b.score) return a.score > b.score;
          return a.t->id > b.t->id;
        });
        break;
      case SortKey::Size: ordered([](const Hit& h) { return h.t->total_size; }); break;
      case SortKey::Discovered: ordered([](const Hit& h) { return h.t->discovered_at; }); break;
      case SortKey::Name: ordered([](const Hit& h) { return std::string_view(h.t->name); }); break;
    }
    for (std::size_t i = q.offset; i < hits.size() && page.items.size() < q.limit; ++i) {
      page.items.push_back(detail::summary_of(*hits[i].t));
    }
    return page;
  }

  StoreResult<std::uint64_t> for_each_torrent(const ExportOptions& options, const TorrentVisitor& visit) override {
    std::uint64_t visited = 0;
    std::int64_t after = 0;
    for (;;) {
      std::vector<TorrentRecord> chunk;
      {
        std::lock_guard lock(mu_);
        for (auto it = torrents_.upper_bound(after); it != torrents_.end() && chunk.size() < detail::kExportChunk;
             ++it) {
          TorrentRecord r = it->second.record;
          if (!options.with_files) r.files.clear();
          if (!options.with_info_dict) r.info_dict.clear();
          chunk.push_back(std::move(r));
        }
      }
      if (chunk.empty()) return visited;
      after = chunk.back().id;
      for (const auto& r : chunk) {
        ++visited;
        if (!visit(r)) return visited;
      }
    }
  }

  StoreResult<std::uint64_t> for_each_without_metadata(const InfohashVisitor& visit) override {
    std::uint64_t visited = 0;
    std::optional<InfoHash> after;
    for (;;) {
      std::vector<InfohashRecord> chunk;
      bool done = false;
      {
        std::lock_guard lock(mu_);
        auto it = after ? infohashes_.upper_bound(*after) : infohashes_.begin();
        for (; it != infohashes_.end() && chunk.size() < detail::kExportChunk; ++it) {
          after = it->first;
          if (it->second.state != FetchState::Fetched) chunk.push_back(it->second);
        }
        done = it == infohashes_.end();
      }
      for (const auto& r : chunk) {
        ++visited;
        if (!visit(r)) return visited;
      }
      if (done) return visited;
    }
  }

  StoreResult<StoreStats> stats() override {
    std::lock_guard lock(mu_);
    StoreStats s;
    s.nodes = nodes_.size();
    s.infohashes = infohashes_.size();
    s.torrents = torrents_.size();
    for (const auto& [id, t] : torrents_) s.files += t.record.file_count;
    for (const auto& [k, v] : peers_) s.peers += v.size();
    for (const auto& [k, r] : infohashes_) {
      s.pending += r.state == FetchState::Pending;
      s.failed += r.state == FetchState::Failed;
    }
    return s;
  }

  StoreResult<std::vector<SeriesPoint>> counter_series(const SeriesQuery& q) override {
    if (auto ok = detail::check_series(q); !ok) return Unexpected<Error>{ok.error()};
    const detail::Buckets b = detail::buckets_of(q);
    std::lock_guard lock(mu_);
    std::vector<SeriesPoint> out;
    auto it = counters_.find(q.name);
    if (it == counters_.end()) return out;
    const auto& samples = it->second;
    auto s = samples.lower_bound(to_unix(q.from));
    const auto end = samples.upper_bound(to_unix(q.to));
    while (s != end) {
      const std::int64_t start = b.start_of(s->first);
      double sum = 0;
      double max = static_cast<double>(s->second);
      double last = 0;
      std::size_t n = 0;
      for (; s != end && b.start_of(s->first) == start; ++s, ++n) {
        const auto v = static_cast<double>(s->second);
        sum += v;
        max = std::max(max, v);
        last = v;
      }
      double value = last;
      if (q.aggregate == Aggregate::Mean) value = sum / static_cast<double>(n);
      if (q.aggregate == Aggregate::Max) value = max;
      out.push_back({from_unix(start), value});
    }
    return out;
  }

  StoreResult<std::uint64_t> for_each_node(const NodeVisitor& visit) override {
    std::uint64_t visited = 0;
    std::optional<EndpointKey> after;
    for (;;) {
      std::vector<NodeRecord> chunk;
      {
        std::lock_guard lock(mu_);
        for (auto it = after ? nodes_.upper_bound(*after) : nodes_.begin();
             it != nodes_.end() && chunk.size() < detail::kExportChunk; ++it) {
          chunk.push_back(it->second);
        }
      }
      if (chunk.empty()) return visited;
      after = key_of(chunk.back().endpoint);
      for (const auto& n : chunk) {
        ++visited;
        if (!visit(n)) return visited;
      }
    }
  }

  StoreResult<std::uint64_t> for_each_counter_sample(const CounterVisitor& visit) override {
    std::map<std::int64_t, CounterSample> by_time;  // the memory store holds it all anyway
    {
      std::lock_guard lock(mu_);
      for (const auto& [name, samples] : counters_) {  // name order
        for (const auto& [at, value] : samples) {
          auto& c = by_time[at];
          c.at = from_unix(at);
          c.values.emplace_back(name, value);
        }
      }
    }
    std::uint64_t visited = 0;
    for (const auto& [at, c] : by_time) {
      ++visited;
      if (!visit(c)) return visited;
    }
    return visited;
  }

  StoreResult<std::vector<std::string>> counter_names() override {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& [name, samples] : counters_) out.push_back(name);
    return out;
  }

  StoreResult<std::int64_t> register_instance(const InstanceInfo& info) override {
    std::lock_guard lock(mu_);
    std::erase_if(instances_, [&](const auto& kv) {
      return kv.second.last.at < info.started - kForgetInstancesAfter;
    });
    InstanceRecord r;
    r.id = ++last_instance_;
    r.info = info;
    r.last.at = info.started;
    instances_.emplace(r.id, r);
    return r.id;
  }

  Status heartbeat(std::int64_t id, const Heartbeat& hb) override {
    std::lock_guard lock(mu_);
    auto it = instances_.find(id);
    if (it == instances_.end()) return fail(ErrorCode::InvalidArgument, "no instance " + std::to_string(id));
    it->second.last = hb;
    return {};
  }

  StoreResult<std::vector<InstanceRecord>> instances(const InstanceQuery& q) override {
    if (q.limit > kMaxInstancesLimit) return fail(ErrorCode::InvalidArgument, "instance limit over 1000");
    std::lock_guard lock(mu_);
    std::vector<InstanceRecord> out;
    for (auto it = instances_.rbegin(); it != instances_.rend() && out.size() < q.limit; ++it) {
      const auto& r = it->second;
      if (q.alive_since && (r.last.stopped || r.last.at < *q.alive_since)) continue;
      out.push_back(r);
    }
    std::reverse(out.begin(), out.end());
    return out;
  }

 private:
  void apply_node(const NodeRecord& n) {
    auto [it, inserted] = nodes_.try_emplace(key_of(n.endpoint), n);
    if (inserted) return;
    NodeRecord& r = it->second;
    if (n.last_seen >= r.last_seen) {
      r.id = n.id;
      r.good = n.good;
      r.last_seen = n.last_seen;
    }
  }

  InfohashRecord& ensure_infohash(const InfoHash& key, UnixTime at) {
    auto it = infohashes_.find(key);
    if (it == infohashes_.end()) it = infohashes_.emplace(key, detail::new_infohash(key, at)).first;
    return it->second;
  }

  const Indexed* find(const InfoHash& key) const {
    auto k = keys_.find(key);
    if (k == keys_.end()) return nullptr;
    return &torrents_.at(k->second);
  }

  void apply_torrent(TorrentRecord t, WriteReport& report) {
    const auto keep = detail::check_torrent(t, opt_);
    if (!keep) {
      ++report.rejected;
      return;
    }
    t.files.resize(*keep);
    const auto v1 = t.infohash_v1;
    const auto v2t = t.infohash_v2_truncated();
    std::optional<std::int64_t> existing;
    if (v1) {
      if (auto k = keys_.find(*v1); k != keys_.end()) existing = k->second;
    }
    if (!existing && v2t) {
      if (auto k = keys_.find(*v2t); k != keys_.end()) existing = k->second;
    }
    if (existing) {
      // The first stored copy wins; only keys it lacks (and no other torrent holds) are added.
      TorrentRecord& r = torrents_.at(*existing).record;
      if (!r.infohash_v1 && v1 && !keys_.contains(*v1)) {
        r.infohash_v1 = v1;
        keys_[*v1] = r.id;
      }
      if (!r.infohash_v2 && v2t && !keys_.contains(*v2t)) {
        r.infohash_v2 = t.infohash_v2;
        keys_[*v2t] = r.id;
      }
      ++report.torrents_duplicate;
    } else {
      t.id = next_id_++;
      if (!opt_.keep_info_dicts) t.info_dict.clear();
      Indexed ix;
      ix.name_tokens = document_tokens(t.name);
      ix.path_tokens = document_tokens(distinct_path_terms(t.name, t.files, detail::kMaxIndexedPathBytes));
      if (v1) keys_[*v1] = t.id;
      if (v2t) keys_[*v2t] = t.id;
      ix.record = std::move(t);
      torrents_.emplace(ix.record.id, std::move(ix));
      ++report.torrents_added;
    }
    const TorrentRecord& stored = torrents_.at(existing ? *existing : next_id_ - 1).record;
    for (const auto& key : {v1, v2t}) {
      if (!key) continue;
      // Only keys of the stored torrent: a key of the copy may be held by another torrent or
      // by none (the stored torrent kept its own key of that kind).
      if (auto k = keys_.find(*key); k == keys_.end() || k->second != stored.id) continue;
      auto& r = ensure_infohash(*key, stored.discovered_at);
      r.first_seen = std::min(r.first_seen, stored.discovered_at);
      r.state = FetchState::Fetched;
    }
  }

  void apply_peers(const std::vector<PeerRecord>& peers, WriteReport& report) {
    std::vector<InfoHash> touched;
    for (const auto& p : peers) {
      ensure_infohash(p.infohash, p.last_seen);
      auto& list = peers_[p.infohash];
      auto it = std::find_if(list.begin(), list.end(), [&](const PeerRecord& q) { return q.endpoint == p.endpoint; });
      if (it == list.end()) {
        list.push_back(p);
      } else {
        it->last_seen = std::max(it->last_seen, p.last_seen);
      }
      touched.push_back(p.infohash);
    }
    for (const auto& k : touched) {
      auto& list = peers_[k];
      if (list.size() <= opt_.max_peers_per_infohash) continue;
      std::sort(list.begin(), list.end(), recent_first<PeerRecord>);
      report.peers_evicted += list.size() - opt_.max_peers_per_infohash;
      list.resize(opt_.max_peers_per_infohash);
    }
  }

  std::mutex mu_;
  StoreOptions opt_;
  std::map<EndpointKey, NodeRecord> nodes_;
  std::map<InfoHash, InfohashRecord> infohashes_;
  std::map<std::int64_t, Indexed> torrents_;
  std::unordered_map<InfoHash, std::int64_t, Id160Hash> keys_;
  std::map<InfoHash, std::vector<PeerRecord>> peers_;
  std::map<std::string, std::map<std::int64_t, std::int64_t>> counters_;
  std::map<std::int64_t, InstanceRecord> instances_;
  std::int64_t last_instance_ = 0;
  std::int64_t next_id_ = 1;
};

}  // namespace

std::unique_ptr<Store> make_memory_store(const StoreOptions& options) {
  return std::make_unique<MemoryStore>(options);
}

}  // namespace bitscrape::storage
