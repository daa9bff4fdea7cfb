#include "web/export.hpp"

#include "common/csv.hpp"
#include "common/hex.hpp"
#include "common/utf8.hpp"
#include "metainfo/magnet.hpp"
#include "metainfo/torrent_file.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <system_error>

namespace bitscrape::web {
namespace {

using storage::FileRecord;
using storage::InfohashRecord;
using storage::TorrentRecord;

// Peers read per key to find the count and the latest; the store keeps at most
// max_peers_per_infohash (50 by default) anyway.
constexpr std::size_t kPeersPerKey = 1000;

std::string hex_of(const Sha256Digest& d) {
  return to_hex(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

std::string dump_line(const nlohmann::json& j) {
  // Names come from strangers; replace invalid UTF-8 instead of throwing.
  std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  s += '\n';
  return s;
}

// Buffers output and hands it to the sink in chunks.
class Chunker {
 public:
  Chunker(const ExportSink& sink, std::size_t chunk) : sink_(sink), chunk_(chunk) {
    buf_.reserve(chunk + 4096);
  }
  std::string& buf() { return buf_; }
  // False once the sink refused.
  bool maybe_flush() {
    if (buf_.size() < chunk_) return ok_;
    return flush();
  }
  bool flush() {
    if (ok_ && !buf_.empty()) ok_ = sink_(buf_);
    buf_.clear();
    return ok_;
  }
  bool ok() const { return ok_; }

 private:
  const ExportSink& sink_;
  std::size_t chunk_;
  std::string buf_;
  bool ok_ = true;
};

}  // namespace

std::optional<ExportFormat> parse_export_format(std::string_view text) noexcept {
  if (text == "csv") return ExportFormat::Csv;
  if (text == "jsonl") return ExportFormat::Jsonl;
  return std::nullopt;
}

std::string iso8601(storage::UnixTime t) {
  const std::time_t secs = static_cast<std::time_t>(storage::to_unix(t));
  std::tm tm{};
  if (!gmtime_r(&secs, &tm)) return "1970-01-01T00:00:00Z";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::vector<InfoHash> keys_of(const TorrentRecord& t) {
  std::vector<InfoHash> keys;
  if (t.infohash_v1) keys.push_back(*t.infohash_v1);
  if (auto k = t.infohash_v2_truncated()) keys.push_back(*k);
  return keys;
}

storage::StoreResult<KeySummary> key_summary(storage::Store& store, std::span<const InfoHash> keys) {
  KeySummary s;
  storage::UnixTime latest_at{};
  for (const auto& key : keys) {
    auto rec = store.infohash(key);
    if (!rec) return Unexpected{rec.error()};
    if (*rec) {
      s.count = std::max(s.count, (*rec)->peers);
      s.sources = static_cast<storage::SourceMask>(s.sources | (*rec)->sources);
    }
    auto peers = store.peers(key, kPeersPerKey);
    if (!peers) return Unexpected{peers.error()};
    s.count = std::max(s.count, static_cast<std::uint32_t>(peers->size()));
    // Most recent first.
    if (!peers->empty() && (!s.latest || peers->front().last_seen > latest_at)) {
      s.latest = peers->front().endpoint;
      latest_at = peers->front().last_seen;
    }
  }
  return s;
}

std::vector<FileRecord> export_files(const TorrentRecord& t) {
  if (t.files.empty() && t.file_count == 1) return {FileRecord{t.name, t.total_size}};
  return t.files;
}

void append_csv_torrent(std::string& out, const TorrentRecord& t, const KeySummary& peers) {
  append_csv_row(out, {t.key().hex(), t.name, std::to_string(t.file_count), std::to_string(t.total_size),
                       std::to_string(t.piece_length), peers.latest ? peers.latest->ip.to_string() : "",
                       peers.latest ? std::to_string(peers.latest->port) : "", "True"});
}

void append_csv_without_metadata(std::string& out, const InfohashRecord& r, const KeySummary& peers) {
  append_csv_row(out, {r.infohash.hex(), "", "", "", "", peers.latest ? peers.latest->ip.to_string() : "",
                       peers.latest ? std::to_string(peers.latest->port) : "", "False"});
}

nlohmann::json export_json(const TorrentRecord& t, const KeySummary& peers) {
  using nlohmann::json;
  json files = json::array();
  for (const auto& f : export_files(t)) files.push_back({{"path", f.path}, {"length", f.length}});
  json j;
  put_keys(j, t.infohash_v1, t.infohash_v2);
  j["name"] = t.name;
  j["total_bytes"] = t.total_size;
  j["piece_length"] = t.piece_length;
  j["file_count"] = t.file_count;
  j["files"] = std::move(files);
  j["magnet"] = metainfo::make_magnet(t.infohash_v1, t.infohash_v2, t.name);
  j["discovered_at"] = iso8601(t.discovered_at);
  j["fetched_at"] = iso8601(t.fetched_at);
  j["peers"] = peers.count;
  j["sources"] = sources_json(peers.sources);
  return j;
}

nlohmann::json sources_json(storage::SourceMask mask) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& [bit, name] : {std::pair{storage::Source::Sample, "sample"}, {storage::Source::GetPeers, "get_peers"},
                                  {storage::Source::AnnouncePeer, "announce_peer"}, {storage::Source::Lookup, "lookup"}}) {
    if ((mask & storage::mask_of(bit)) != 0) a.push_back(name);
  }
  return a;
}

void put_keys(nlohmann::json& j, const std::optional<InfoHash>& v1, const std::optional<Sha256Digest>& v2) {
  InfoHash key;
  if (v1) {
    key = *v1;
  } else if (v2) {
    std::copy_n(v2->begin(), InfoHash::kSize, key.bytes.begin());
  }
  j["infohash"] = key.hex();
  j["infohash_v1"] = v1 ? nlohmann::json(v1->hex()) : nlohmann::json(nullptr);
  j["infohash_v2"] = v2 ? nlohmann::json(hex_of(*v2)) : nlohmann::json(nullptr);
}

nlohmann::json export_json(const InfohashRecord& r, const KeySummary& peers) {
  using nlohmann::json;
  json j;
  j["infohash"] = r.infohash.hex();
  j["infohash_v1"] = nullptr;
  j["infohash_v2"] = nullptr;
  j["name"] = nullptr;
  j["total_bytes"] = nullptr;
  j["piece_length"] = nullptr;
  j["file_count"] = nullptr;
  j["files"] = nullptr;
  j["magnet"] = metainfo::make_magnet(r.infohash, std::nullopt, "");
  j["discovered_at"] = iso8601(r.first_seen);
  j["fetched_at"] = nullptr;
  j["peers"] = peers.count;
  // Why it has no metadata yet, for scripts that follow a crawl (and backend-neutral: the
  // interop tests read this instead of the SQLite schema).
  j["state"] = r.state == storage::FetchState::Failed ? "failed" : "pending";
  j["fetch_attempts"] = r.fetch_attempts;
  j["sources"] = sources_json(r.sources);
  return j;
}

Result<ExportCounts, std::string> export_records(storage::Store& store, const ExportSelection& sel,
                                                 const ExportSink& sink, std::size_t chunk_bytes) {
  ExportCounts counts;
  Chunker out(sink, std::max<std::size_t>(chunk_bytes, 1));
  if (sel.format == ExportFormat::Csv) out.buf() += kCsvHeader;
  std::optional<storage::Error> inner;

  storage::ExportOptions opts;
  opts.with_files = sel.format == ExportFormat::Jsonl;
  auto visited = store.for_each_torrent(opts, [&](const TorrentRecord& t) {
    const auto keys = keys_of(t);
    auto peers = key_summary(store, keys);
    if (!peers) {
      inner = peers.error();
      return false;
    }
    if (sel.format == ExportFormat::Csv) {
      append_csv_torrent(out.buf(), t, *peers);
    } else {
      out.buf() += dump_line(export_json(t, *peers));
    }
    ++counts.torrents;
    return out.maybe_flush();
  });
  if (!visited) return Unexpected{"reading torrents: " + visited.error().message};
  if (inner) return Unexpected{"reading peers: " + inner->message};

  if (sel.all && out.ok()) {
    auto rest = store.for_each_without_metadata([&](const InfohashRecord& r) {
      const InfoHash key = r.infohash;
      auto peers = key_summary(store, std::span<const InfoHash>(&key, 1));
      if (!peers) {
        inner = peers.error();
        return false;
      }
      if (sel.format == ExportFormat::Csv) {
        append_csv_without_metadata(out.buf(), r, *peers);
      } else {
        out.buf() += dump_line(export_json(r, *peers));
      }
      ++counts.without_metadata;
      return out.maybe_flush();
    });
    if (!rest) return Unexpected{"reading infohashes: " + rest.error().message};
    if (inner) return Unexpected{"reading peers: " + inner->message};
  }
  out.flush();
  counts.stopped = !out.ok();
  return counts;
}

Result<ExportCounts, std::string> export_torrent_files(storage::Store& store,
                                                       const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Unexpected{"cannot create " + dir.string() + ": " + ec.message()};
  ExportCounts counts;
  std::string failure;
  storage::ExportOptions opts;
  opts.with_files = false;
  opts.with_info_dict = true;
  auto visited = store.for_each_torrent(opts, [&](const TorrentRecord& t) {
    if (t.info_dict.empty()) {
      ++counts.skipped;
      return true;
    }
    const auto key = t.key();
    const auto path = dir / (safe_file_stem(t.name, key) + "-" + key.hex().substr(0, 8) + ".torrent");
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << metainfo::make_torrent_file(t.info_dict);
    if (!f.flush()) {
      failure = "cannot write " + path.string();
      return false;
    }
    ++counts.torrents;
    return true;
  });
  if (!visited) return Unexpected{"reading torrents: " + visited.error().message};
  if (!failure.empty()) return Unexpected{failure};
  return counts;
}

std::string safe_file_stem(std::string_view name, const InfoHash& key) {
  const std::string valid = repair_utf8(name);
  std::string out;
  out.reserve(valid.size());
  for (std::size_t i = 0; i < valid.size();) {
    const auto c = static_cast<unsigned char>(valid[i]);
    // Length of this UTF-8 sequence (valid input).
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : 4;
    len = std::min(len, valid.size() - i);
    const std::string_view ch(valid.data() + i, len);
    i += len;
    bool bad = false;
    if (len == 1) {
      bad = c < 0x20 || c == 0x7F ||
            std::string_view("/\\:*?\"<>|").find(static_cast<char>(c)) != std::string_view::npos;
    } else if (len == 2) {
      // C1 controls U+0080..U+009F.
      bad = c == 0xC2 && static_cast<unsigned char>(ch[1]) < 0xA0;
    } else if (len == 3) {
      // Bidi overrides and isolates, line/paragraph separators (U+2028..U+202E, U+2066..U+2069,
      // U+200E/U+200F): they make names display as something else.
      const auto b1 = static_cast<unsigned char>(ch[1]), b2 = static_cast<unsigned char>(ch[2]);
      if (c == 0xE2 && b1 == 0x80 && ((b2 >= 0xA8 && b2 <= 0xAE) || b2 == 0x8E || b2 == 0x8F)) bad = true;
      if (c == 0xE2 && b1 == 0x81 && b2 >= 0xA6 && b2 <= 0xA9) bad = true;
    }
    if (out.size() + (bad ? 1 : len) > 120) break;
    if (bad) {
      out += '_';
    } else {
      out.append(ch);
    }
  }
  // No leading dots (hidden files, "..") or spaces; no trailing dots or spaces (Windows).
  const auto first = out.find_first_not_of(". ");
  out.erase(0, first == std::string::npos ? out.size() : first);
  while (!out.empty() && (out.back() == '.' || out.back() == ' ')) out.pop_back();
  if (out.empty()) out = key.hex();
  return out;
}

std::string content_disposition(std::string_view filename) {
  std::string ascii;
  for (const char ch : filename) {
    const auto c = static_cast<unsigned char>(ch);
    // Printable ASCII except the characters that end or escape the quoted-string.
    ascii += (c >= 0x20 && c < 0x7F && c != '"' && c != '\\' && c != '%' && c != ';') ? ch : '_';
  }
  return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + metainfo::percent_encode(filename);
}

}  // namespace bitscrape::web
