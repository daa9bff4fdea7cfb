// Fuzz target: arbitrary bytes as an info dict (and as a whole .torrent) into the metainfo
// parser. On success every invariant a consumer relies on is checked: sanitised components
// never contain '/', '\', NUL, control or bidi characters, are never "." or ".." or empty,
// and are valid UTF-8; paths are the components joined with '/'; sizes and counts add up;
// hashes are those of the exact input; a rebuilt .torrent carries the input verbatim.
// Run: build/<dir>/fuzz/fuzz_infodict fuzz/corpus/infodict -max_total_time=60
#include "common/hash.hpp"
#include "common/utf8.hpp"
#include "metainfo/info_dict.hpp"
#include "metainfo/magnet.hpp"
#include "metainfo/sanitize.hpp"
#include "metainfo/torrent_file.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

using namespace bitscrape;
using namespace bitscrape::metainfo;

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

void check_entry(const FileEntry& f, bool pad) {
  check(f.is_pad == pad, "pad flag matches the list");
  check(f.length >= 0, "length >= 0");
  check(!f.components.empty(), "at least one component");
  std::string joined;
  for (const auto& c : f.components) {
    check(is_clean_component(c), "component is clean");
    check(c.find('/') == std::string::npos && c.find('\0') == std::string::npos, "no '/' or NUL");
    check(c != ".." && c != ".", "no dot components");
    if (!joined.empty()) joined.push_back('/');
    joined += c;
  }
  check(joined == f.path, "path == join(components)");
  check(f.path.front() != '/', "relative path");
  if (f.pieces_root) check(f.length > 0, "only non-empty files have a pieces root");
}

void check_info(std::string_view bytes, const TorrentInfo& info, const Limits& limits) {
  check(is_clean_component(info.name), "name is clean");
  check(is_valid_utf8(info.source), "source is UTF-8");
  check(info.piece_length > 0, "piece length > 0");
  check(info.piece_count >= 0, "piece count >= 0");
  check(info.file_count == info.files.size(), "file_count == files.size()");
  check(!info.files.empty(), "has user files");
  check(info.files.size() + info.pad_files.size() <= limits.max_files, "file limit held");

  std::int64_t total = 0;
  for (const auto& f : info.files) {
    check_entry(f, false);
    check(f.components.size() <= limits.max_path_depth || info.single_file, "depth limit held");
    check(!__builtin_add_overflow(total, f.length, &total), "total fits");
  }
  check(total == info.total_size, "total == sum of user file lengths");
  check(total > 0, "not empty");
  std::int64_t pads = 0;
  for (const auto& f : info.pad_files) {
    check_entry(f, true);
    check(!__builtin_add_overflow(pads, f.length, &pads), "pad total fits");
  }
  check(pads == info.pad_size, "pad_size == sum of pad lengths");
  if (info.single_file) {
    check(info.files.size() == 1 && info.files[0].path == info.name, "single file is the name");
  }

  check(info.has_v1() == (info.version != MetaVersion::V2), "v1 hash iff v1 half");
  check(info.has_v2() == (info.version != MetaVersion::V1), "v2 hash iff v2 half");
  if (info.v1) {
    const auto d = sha1(bytes);
    check(std::memcmp(d.data(), info.v1->bytes.data(), 20) == 0, "v1 = SHA-1 of the bytes");
    check(parse_verified(bytes, *info.v1, limits).ok(), "verifies under its v1 key");
  }
  if (info.v2) {
    check(*info.v2 == sha256(bytes), "v2 = SHA-256 of the bytes");
    check(parse_verified(bytes, *info.v2_key(), limits).ok(), "verifies under its v2 key");
  }
  check(info.dht_keys().size() == (info.version == MetaVersion::Hybrid ? 2u : 1u), "one key per half");

  const std::string torrent = make_torrent_file(bytes);
  const auto again = find_info_dict(torrent);
  check(again.ok() && *again == bytes, "rebuilt .torrent carries the bytes verbatim");
  const std::string magnet = make_magnet(info);
  check(magnet.rfind("magnet:?xt=urn:bt", 0) == 0, "magnet link");
  check(magnet.find_first_of(" \"#<>") == std::string::npos, "magnet is percent-encoded");
}

void run(std::string_view bytes, const Limits& limits) {
  const auto info = parse_info_dict(bytes, limits);
  if (info.ok()) {
    check_info(bytes, *info, limits);
  } else {
    check(!info.error().reason().empty(), "errors have a reason");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  run(bytes, Limits{});
  // Tight limits reach the limit paths with small inputs.
  Limits tight;
  tight.max_files = 4;
  tight.max_path_depth = 3;
  tight.max_name_bytes = 16;
  tight.max_tokens = 256;
  run(bytes, tight);

  // The same bytes as a whole .torrent file.
  if (const auto inner = find_info_dict(bytes); inner.ok()) {
    check(inner->size() <= bytes.size() && inner->front() == 'd', "info dict is a sub-span");
    run(*inner, Limits{});
  }

  // Sanitising alone: the result is empty (dropped) or clean.
  const std::string c = sanitize_component(bytes);
  check(c.empty() || is_clean_component(c), "sanitize_component is clean");
  check(is_valid_utf8(sanitize_text(bytes)), "sanitize_text is UTF-8");
  return 0;
}
