// Helpers shared by the metainfo tests: fixture loading and info-dict builders.
#pragma once

#include "bencode/encoder.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace bitscrape::metainfo::test {

inline std::string data_path(std::string_view name) {
  return std::string(BITSCRAPE_SOURCE_DIR) + "/tests/metainfo/data/" + std::string(name);
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return {std::istreambuf_iterator<char>(in), {}};
}

using bencode::Item;

// `n` fake SHA-1 piece hashes.
inline std::string fake_pieces(std::int64_t n) {
  return std::string(static_cast<std::size_t>(n) * 20, 'h');
}

inline std::int64_t pieces_for(std::int64_t total, std::int64_t piece_length) {
  if (total <= 0) return 0;
  return total / piece_length + (total % piece_length != 0 ? 1 : 0);
}

inline Item path_list(std::vector<std::string> comps) {
  Item::List l;
  for (auto& c : comps) l.emplace_back(std::move(c));
  return Item(std::move(l));
}

inline Item file_entry(std::vector<std::string> path, std::int64_t length, std::string attr = {}) {
  Item::Dict d;
  d["length"] = Item(length);
  d["path"] = path_list(std::move(path));
  if (!attr.empty()) d["attr"] = Item(std::move(attr));
  return Item(std::move(d));
}

constexpr std::int64_t kPiece = 16384;

// A valid v1 single-file info dict.
inline Item v1_single(std::string name = "file.bin", std::int64_t length = 1000) {
  Item::Dict d;
  d["name"] = Item(std::move(name));
  d["length"] = Item(length);
  d["piece length"] = Item(kPiece);
  d["pieces"] = Item(fake_pieces(pieces_for(length, kPiece)));
  return Item(std::move(d));
}

// A valid v1 multi-file info dict; `pieces` matches the summed lengths.
inline Item v1_multi(std::vector<Item> files, std::string name = "root") {
  // Hostile entries (not dicts, bad lengths, sums that overflow) get a token `pieces`; the
  // tests that reach the piece check set their own.
  std::int64_t total = 0;
  bool plausible = true;
  for (const auto& f : files) {
    if (f.type() != bencode::Type::Dict) continue;
    const auto& d = f.as_dict();
    if (auto it = d.find("length"); it != d.end() && it->second.type() == bencode::Type::Integer) {
      if (__builtin_add_overflow(total, it->second.as_int(), &total)) plausible = false;
    }
  }
  if (!plausible || total > (std::int64_t{1} << 32)) total = 1;
  Item::Dict d;
  d["name"] = Item(std::move(name));
  d["files"] = Item(Item::List(std::move(files)));
  d["piece length"] = Item(kPiece);
  d["pieces"] = Item(fake_pieces(pieces_for(total, kPiece)));
  return Item(std::move(d));
}

inline std::string root_hash(char fill = '\x01') {
  return std::string(32, fill);
}

// A v2 file node: {"": {length, pieces root}}.
inline Item v2_file(std::int64_t length, std::string root = root_hash()) {
  Item::Dict leaf;
  leaf["length"] = Item(length);
  if (length > 0) leaf["pieces root"] = Item(std::move(root));
  Item::Dict node;
  node[""] = Item(std::move(leaf));
  return Item(std::move(node));
}

// A valid v2-only info dict around `tree`.
inline Item v2_dict(Item tree, std::string name = "root") {
  Item::Dict d;
  d["name"] = Item(std::move(name));
  d["meta version"] = Item(2);
  d["file tree"] = std::move(tree);
  d["piece length"] = Item(kPiece);
  return Item(std::move(d));
}

}  // namespace bitscrape::metainfo::test

#include <cstdio>
#include <filesystem>
#include <optional>

namespace bitscrape::metainfo::test {

// Runs `script` with Debian's python3 (which has python3-libtorrent) and `arg` (a file path)
// and returns its standard output; nullopt when python3 or libtorrent is not available, so
// the interop tests skip instead of failing on machines without them.
inline std::optional<std::string> run_libtorrent_script(const std::string& script, const std::string& arg) {
  static const bool available = std::filesystem::exists("/usr/bin/python3") &&
                                std::system("/usr/bin/python3 -c 'import libtorrent' >/dev/null 2>&1") == 0;
  if (!available) return std::nullopt;
  const auto dir = std::filesystem::path(::testing::TempDir());
  const auto script_path = dir / "bitscrape_metainfo_lt.py";
  {
    std::ofstream out(script_path, std::ios::binary | std::ios::trunc);
    out << script;
  }
  const std::string cmd = "/usr/bin/python3 '" + script_path.string() + "' '" + arg + "' 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return std::nullopt;
  std::string output;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) output.append(buf, n);
  const int status = ::pclose(p);
  EXPECT_EQ(status, 0) << output;
  return output;
}

inline void write_file(const std::filesystem::path& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

}  // namespace bitscrape::metainfo::test
