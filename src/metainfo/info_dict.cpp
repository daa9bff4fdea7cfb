#include "metainfo/info_dict.hpp"

#include "common/hex.hpp"
#include "metainfo/sanitize.hpp"
#include "metainfo/verify.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

namespace bitscrape::metainfo {
namespace {

using bencode::Value;

// libtorrent's ceiling (INT_MAX / 2): larger pieces overflow its block arithmetic, so no
// client could use such a torrent.
constexpr std::int64_t kMaxPieceLength = std::numeric_limits<std::int32_t>::max() / 2;
constexpr std::int64_t kV2MinPieceLength = 16 * 1024;  // BEP-52: a power of two, at least 16 KiB
constexpr std::size_t kPiecesRootSize = 32;
constexpr std::size_t kHardMaxPathDepth = 1000;  // keeps decoder depth under its 1024 cap

Unexpected<InfoError> fail(ErrorCode code, std::string_view field, std::size_t offset) {
  return Unexpected{InfoError{code, field, offset, {}}};
}

// Either nothing (success) or the first error found.
using Status = std::optional<InfoError>;

Status error(ErrorCode code, std::string_view field, std::size_t offset) {
  return InfoError{code, field, offset, {}};
}

bool add_overflows(std::int64_t a, std::int64_t b, std::int64_t& out) noexcept {
  return __builtin_add_overflow(a, b, &out);
}

std::string join(const std::vector<std::string>& components) {
  std::string out;
  for (const auto& c : components) {
    if (!out.empty()) out.push_back('/');
    out += c;
  }
  return out;
}

// Appends the sanitised form of `raw` unless it sanitises to nothing.
void push_component(std::vector<std::string>& out, std::string_view raw) {
  auto c = sanitize_component(raw);
  if (!c.empty()) out.push_back(std::move(c));
}

// Every path needs at least one component; one that sanitised away entirely becomes "_"
// (libtorrent's choice too), so a file never aliases the torrent root.
void finish_path(FileEntry& f) {
  if (f.components.empty()) f.components.emplace_back("_");
  f.path = join(f.components);
}

struct Layout {
  std::vector<FileEntry> entries;  // all files in dict order, pad files included
  bool single_file = false;
  std::int64_t total = 0;  // sum over entries, pads included
};

class Parser {
 public:
  Parser(const Limits& limits, Value root) : limits_(limits), root_(root) {}

  // v1 half: `length` or `files`, checked against `pieces`.
  Status parse_v1(Layout& out, std::int64_t piece_length, std::int64_t& piece_count) {
    const Value pieces = root_.find("pieces");
    if (!pieces) return error(ErrorCode::MissingKey, "pieces", root_.offset());
    if (!pieces.is_string()) return error(ErrorCode::WrongType, "pieces", pieces.offset());
    const std::size_t pieces_len = pieces.as_string()->size();
    if (pieces_len % 20 != 0) return error(ErrorCode::InvalidPieces, "pieces", pieces.offset());

    const Value files = root_.find("files");
    const Value length = root_.find("length");
    if (files && length) return error(ErrorCode::AmbiguousLayout, "files", files.offset());
    if (files) {
      if (!files.is_list()) return error(ErrorCode::WrongType, "files", files.offset());
      if (auto st = parse_v1_files(files, out)) return st;
    } else if (length) {
      if (!length.is_int()) return error(ErrorCode::WrongType, "length", length.offset());
      const std::int64_t len = *length.as_int();
      if (len < 0) return error(ErrorCode::NegativeLength, "length", length.offset());
      FileEntry f;
      f.length = len;
      out.entries.push_back(std::move(f));  // path filled in once the name is known
      out.single_file = true;
      out.total = len;
    } else {
      return error(ErrorCode::MissingKey, "files", root_.offset());
    }

    // BEP-3: one 20-byte hash per piece of the concatenated files (pads included).
    const std::int64_t needed = out.total / piece_length + (out.total % piece_length != 0 ? 1 : 0);
    piece_count = static_cast<std::int64_t>(pieces_len / 20);
    if (piece_count != needed) return error(ErrorCode::PieceCountMismatch, "pieces", pieces.offset());
    return std::nullopt;
  }

  // v2 half: the file tree.
  Status parse_v2(Value tree, std::string_view raw_name, bool has_v1_files, Layout& out,
                  std::int64_t piece_length, std::int64_t& piece_count) {
    // Single file: exactly one entry at the root, a file, named like the torrent.
    std::size_t root_entries = 0;
    std::string_view first_key;
    Value first_node;
    for (auto [k, v] : tree.entries()) {
      if (root_entries++ == 0) {
        first_key = k;
        first_node = v;
      } else {
        break;
      }
    }
    out.single_file = root_entries == 1 && !has_v1_files && first_key == raw_name && first_node.is_dict() &&
                      first_node.find("");
    std::vector<std::string> prefix;
    if (auto st = walk_tree(tree, prefix, 0, out)) return st;
    if (out.single_file) out.entries.front().components.clear();  // the name, filled in later

    piece_count = 0;
    for (const auto& f : out.entries) {
      // Each v2 file starts on a piece boundary (BEP-52); with pieces ≥ 16 KiB this sum
      // cannot overflow once the total has not.
      piece_count += f.length / piece_length + (f.length % piece_length != 0 ? 1 : 0);
    }
    return std::nullopt;
  }

 private:
  Status parse_v1_files(Value files, Layout& out) {
    std::uint32_t index = 0;
    for (Value entry : files.items()) {
      if (out.entries.size() >= limits_.max_files) {
        return error(ErrorCode::TooManyFiles, "files", entry.offset());
      }
      if (!entry.is_dict()) return error(ErrorCode::WrongType, "files", entry.offset());
      FileEntry f;
      f.index = index++;
      read_attr(entry, f);

      // Symlinks occupy no payload (BEP-47), whatever `length` says; libtorrent agrees.
      if (!f.is_symlink) {
        const Value length = entry.find("length");
        if (!length) return error(ErrorCode::MissingKey, "length", entry.offset());
        if (!length.is_int()) return error(ErrorCode::WrongType, "length", length.offset());
        f.length = *length.as_int();
        if (f.length < 0) return error(ErrorCode::NegativeLength, "length", length.offset());
      }

      // Prefer path.utf-8 when it is usable: it is the UTF-8 twin of a legacy-encoded path.
      Value path = entry.find("path.utf-8");
      if (!path.is_list()) path = entry.find("path");
      if (!path) {
        // BEP-47 pad files may omit the path; name them the way libtorrent does.
        if (!f.is_pad) return error(ErrorCode::MissingKey, "path", entry.offset());
        f.components = {".pad", std::to_string(f.length)};
      } else {
        if (!path.is_list()) return error(ErrorCode::WrongType, "path", path.offset());
        std::size_t depth = 0;
        for (Value c : path.items()) {
          const auto raw = c.as_string();
          if (!raw) return error(ErrorCode::WrongType, "path", c.offset());
          if (++depth > limits_.max_path_depth) return error(ErrorCode::PathTooDeep, "path", c.offset());
          if (raw->size() > limits_.max_name_bytes) return error(ErrorCode::NameTooLong, "path", c.offset());
          // BEP-47 puts pad files under .pad/; BitComet names them _____padding_file_N.
          if ((depth == 1 && *raw == ".pad") || raw->find("_____padding_file_") != std::string_view::npos) {
            f.is_pad = true;
          }
          push_component(f.components, *raw);
        }
        if (depth == 0) {
          if (!f.is_pad) return error(ErrorCode::EmptyPath, "path", path.offset());
          f.components = {".pad", std::to_string(f.length)};
        }
      }
      finish_path(f);
      if (add_overflows(out.total, f.length, out.total)) {
        return error(ErrorCode::SizeOverflow, "length", entry.offset());
      }
      out.entries.push_back(std::move(f));
    }
    if (out.entries.empty()) return error(ErrorCode::NoFiles, "files", files.offset());
    return std::nullopt;
  }

  Status walk_tree(Value dir, std::vector<std::string>& prefix, std::size_t depth, Layout& out) {
    for (auto [key, node] : dir.entries()) {
      // "" is only valid as the single key of a file node, which is handled below; here it
      // would make a directory (or the root) itself a file.
      if (key.empty() || !node.is_dict())
        return error(ErrorCode::InvalidFileTree, "file tree", node.offset());
      if (depth + 1 > limits_.max_path_depth)
        return error(ErrorCode::PathTooDeep, "file tree", node.offset());
      if (key.size() > limits_.max_name_bytes)
        return error(ErrorCode::NameTooLong, "file tree", node.offset());

      auto clean = sanitize_component(key);
      const bool pushed = !clean.empty();
      if (pushed) prefix.push_back(std::move(clean));

      const Value leaf = node.find("");
      Status st;
      if (leaf) {
        st = add_v2_file(node, leaf, prefix, out);
      } else {
        st = walk_tree(node, prefix, depth + 1, out);
      }
      if (pushed) prefix.pop_back();
      if (st) return st;
    }
    return std::nullopt;
  }

  Status add_v2_file(Value node, Value leaf, const std::vector<std::string>& components, Layout& out) {
    if (out.entries.size() >= limits_.max_files)
      return error(ErrorCode::TooManyFiles, "file tree", node.offset());
    // A file node holds only the "" key (a file cannot also be a directory).
    std::size_t keys = 0;
    for ([[maybe_unused]] auto kv : node.entries()) {
      if (++keys > 1) return error(ErrorCode::InvalidFileTree, "file tree", node.offset());
    }
    if (!leaf.is_dict()) return error(ErrorCode::InvalidFileTree, "file tree", leaf.offset());

    FileEntry f;
    f.index = static_cast<std::uint32_t>(out.entries.size());
    read_attr(leaf, f);
    // v2 aligns every file to a piece boundary by itself; a pad file in the tree is bogus.
    if (f.is_pad) return error(ErrorCode::InvalidFileTree, "attr", leaf.offset());
    if (!f.is_symlink) {
      const Value length = leaf.find("length");
      if (!length) return error(ErrorCode::MissingKey, "length", leaf.offset());
      if (!length.is_int()) return error(ErrorCode::WrongType, "length", length.offset());
      f.length = *length.as_int();
      if (f.length < 0) return error(ErrorCode::NegativeLength, "length", length.offset());
    }
    if (f.length > 0) {
      // BEP-52: non-empty files carry the root of their merkle tree; empty files have none.
      const Value root = leaf.find("pieces root");
      const auto bytes = root.as_string();
      if (!bytes || bytes->size() != kPiecesRootSize ||
          std::all_of(bytes->begin(), bytes->end(), [](char c) { return c == 0; })) {
        return error(ErrorCode::InvalidPiecesRoot, "pieces root", root ? root.offset() : leaf.offset());
      }
      Sha256Digest d;
      std::memcpy(d.data(), bytes->data(), kPiecesRootSize);
      f.pieces_root = d;
    }
    f.components = components;
    finish_path(f);
    if (add_overflows(out.total, f.length, out.total)) {
      return error(ErrorCode::SizeOverflow, "length", leaf.offset());
    }
    out.entries.push_back(std::move(f));
    return std::nullopt;
  }

  // BEP-47 `attr`: 'p' pad, 'l' symlink ('x' and 'h' are not shown). Ignored if not a string.
  static void read_attr(Value dict, FileEntry& f) {
    if (const auto attr = dict.get_string("attr")) {
      f.is_pad = attr->find('p') != std::string_view::npos;
      f.is_symlink = attr->find('l') != std::string_view::npos;
    }
  }

  const Limits& limits_;
  Value root_;
};

bool same_user_files(const Layout& a, const Layout& b) {
  if (a.single_file != b.single_file) return false;
  auto ia = a.entries.begin();
  auto ib = b.entries.begin();
  const auto user = [](const FileEntry& f) { return !f.is_pad; };
  for (;;) {
    ia = std::find_if(ia, a.entries.end(), user);
    ib = std::find_if(ib, b.entries.end(), user);
    if (ia == a.entries.end() || ib == b.entries.end()) return ia == a.entries.end() && ib == b.entries.end();
    if (ia->length != ib->length || ia->components != ib->components) return false;
    ++ia;
    ++ib;
  }
}

}  // namespace

std::string_view InfoError::reason() const noexcept {
  switch (code) {
    case ErrorCode::Bencode:
      return "invalid bencode";
    case ErrorCode::TooLarge:
      return "info dict too large";
    case ErrorCode::NotADict:
      return "info is not a dictionary";
    case ErrorCode::MissingKey:
      return "required key missing";
    case ErrorCode::WrongType:
      return "key has the wrong type";
    case ErrorCode::UnsupportedVersion:
      return "unsupported meta version";
    case ErrorCode::InvalidPieceLength:
      return "invalid piece length";
    case ErrorCode::InvalidPieces:
      return "pieces is not a multiple of 20 bytes";
    case ErrorCode::PieceCountMismatch:
      return "piece hash count does not match the total size";
    case ErrorCode::NegativeLength:
      return "negative file length";
    case ErrorCode::SizeOverflow:
      return "file lengths overflow 64 bits";
    case ErrorCode::AmbiguousLayout:
      return "both length and files present";
    case ErrorCode::NoFiles:
      return "no files";
    case ErrorCode::EmptyTorrent:
      return "all files are empty";
    case ErrorCode::EmptyPath:
      return "empty file path";
    case ErrorCode::InvalidFileTree:
      return "malformed file tree";
    case ErrorCode::InvalidPiecesRoot:
      return "missing or invalid pieces root";
    case ErrorCode::TooManyFiles:
      return "too many files";
    case ErrorCode::PathTooDeep:
      return "path too deep";
    case ErrorCode::NameTooLong:
      return "name too long";
    case ErrorCode::HybridMismatch:
      return "v1 and v2 file lists differ";
    case ErrorCode::KeyMismatch:
      return "info dict does not hash to the expected key";
  }
  return "unknown error";
}

std::optional<InfoHash> TorrentInfo::v2_key() const noexcept {
  if (!v2) return std::nullopt;
  InfoHash h;
  std::memcpy(h.bytes.data(), v2->data(), InfoHash::kSize);
  return h;
}

std::vector<InfoHash> TorrentInfo::dht_keys() const {
  std::vector<InfoHash> keys;
  if (v1) keys.push_back(*v1);
  if (auto k = v2_key()) keys.push_back(*k);
  return keys;
}

bencode::Limits decoder_limits(const Limits& limits) noexcept {
  bencode::Limits l;
  // Deepest legitimate value: a v2 file node's "" dict sits at path depth + 3 (info dict,
  // file tree, one dict per component, the "" dict). One level more lets a tree that is one
  // component too deep decode and be reported as PathTooDeep rather than as bad bencode.
  const std::size_t depth = std::min(limits.max_path_depth, kHardMaxPathDepth) + 4;
  l.max_depth = static_cast<std::uint32_t>(depth);
  l.max_tokens = limits.max_tokens;
  l.max_size = limits.max_info_size;
  l.strict = false;  // real info dicts with unsorted keys exist; the hash covers them as sent
  l.allow_trailing = false;
  return l;
}

Result<TorrentInfo, InfoError> parse_info_dict(std::string_view info_bytes, const Limits& limits) {
  if (info_bytes.size() > limits.max_info_size) return fail(ErrorCode::TooLarge, {}, 0);
  bencode::Document doc;
  if (auto r = bencode::decode(info_bytes, doc, decoder_limits(limits)); !r) {
    return Unexpected{InfoError{ErrorCode::Bencode, {}, r.error().offset, r.error()}};
  }
  const Value root = doc.root();
  if (!root.is_dict()) return fail(ErrorCode::NotADict, {}, 0);

  // Name: the UTF-8 twin first when it is a string, as libtorrent does.
  const Value name_v = root.find("name");
  Value chosen = root.find("name.utf-8");
  if (!chosen.is_string()) {
    if (!name_v) return fail(ErrorCode::MissingKey, "name", 0);
    if (!name_v.is_string()) return fail(ErrorCode::WrongType, "name", name_v.offset());
    chosen = name_v;
  }
  const std::string_view name = *chosen.as_string();
  if (name.size() > limits.max_name_bytes) return fail(ErrorCode::NameTooLong, "name", chosen.offset());
  // The v2 single-file test compares the tree's key with `name` itself (BEP-52 has no twin).
  const std::string_view raw_name = name_v.as_string().value_or(name);

  // Version: absent (or not an integer, ignored like libtorrent) means v1.
  std::int64_t meta_version = 1;
  if (const auto mv = root.get_int("meta version")) meta_version = *mv;
  if (meta_version != 1 && meta_version != 2) {
    return fail(ErrorCode::UnsupportedVersion, "meta version", root.find("meta version").offset());
  }
  const Value tree = root.find("file tree");
  if (meta_version == 1 && tree) return fail(ErrorCode::MissingKey, "meta version", 0);
  const bool has_v2 = meta_version == 2;
  if (has_v2 && !tree) return fail(ErrorCode::MissingKey, "file tree", 0);
  if (has_v2 && !tree.is_dict()) return fail(ErrorCode::WrongType, "file tree", tree.offset());
  // A v2 dict is a hybrid as soon as it carries any v1 layout key; then all of them must hold.
  const bool has_v1 = !has_v2 || root.find("pieces") || root.find("files") || root.find("length");

  const Value pl = root.find("piece length");
  if (!pl) return fail(ErrorCode::MissingKey, "piece length", 0);
  if (!pl.is_int()) return fail(ErrorCode::WrongType, "piece length", pl.offset());
  const std::int64_t piece_length = *pl.as_int();
  if (piece_length <= 0 || piece_length > kMaxPieceLength ||
      (has_v2 && (piece_length < kV2MinPieceLength || (piece_length & (piece_length - 1)) != 0))) {
    return fail(ErrorCode::InvalidPieceLength, "piece length", pl.offset());
  }

  Parser parser(limits, root);
  Layout v1_layout;
  Layout v2_layout;
  std::int64_t v1_pieces = 0;
  std::int64_t v2_pieces = 0;
  if (has_v1) {
    if (auto st = parser.parse_v1(v1_layout, piece_length, v1_pieces)) return Unexpected{*st};
  }
  if (has_v2) {
    const bool has_v1_files = static_cast<bool>(root.find("files"));
    if (auto st = parser.parse_v2(tree, raw_name, has_v1_files, v2_layout, piece_length, v2_pieces)) {
      return Unexpected{*st};
    }
  }
  if (has_v1 && has_v2 && !same_user_files(v1_layout, v2_layout)) {
    return fail(ErrorCode::HybridMismatch, "file tree", tree.offset());
  }

  TorrentInfo info;
  info.version = has_v1 && has_v2 ? MetaVersion::Hybrid : has_v2 ? MetaVersion::V2 : MetaVersion::V1;
  const InfoHashes hashes = hash_info(info_bytes);
  if (has_v1) info.v1 = hashes.v1;
  if (has_v2) info.v2 = hashes.v2;

  info.name = sanitize_component(name);
  if (info.name.empty()) {
    // Nothing displayable is left ("", "..", only control characters): name the torrent
    // after its hash, as libtorrent does.
    info.name =
        has_v1 ? hashes.v1.hex()
               : to_hex(std::string_view(reinterpret_cast<const char*>(hashes.v2.data()), hashes.v2.size()));
  }
  info.piece_length = piece_length;
  info.piece_count = has_v1 ? v1_pieces : v2_pieces;
  if (const auto priv = root.get_int("private")) info.is_private = *priv != 0;
  if (const auto source = root.get_string("source")) {
    if (source->size() > limits.max_name_bytes) {
      return fail(ErrorCode::NameTooLong, "source", root.find("source").offset());
    }
    info.source = sanitize_text(*source);
  }

  // The v1 list is the richer view (it knows the pad files); a hybrid's v2 half contributes
  // the per-file merkle roots, matched in order (same_user_files proved the orders agree).
  Layout& layout = has_v1 ? v1_layout : v2_layout;
  info.single_file = layout.single_file;
  if (layout.single_file) {
    FileEntry& f = layout.entries.front();
    f.components = {info.name};
    f.path = info.name;
  }
  auto v2_it = v2_layout.entries.begin();
  for (auto& f : layout.entries) {
    if (f.is_pad) {
      info.pad_size += f.length;  // cannot overflow: the sum over all entries did not
      info.pad_files.push_back(std::move(f));
      continue;
    }
    if (has_v1 && has_v2) {
      f.pieces_root = v2_it->pieces_root;
      ++v2_it;
    }
    info.total_size += f.length;
    info.files.push_back(std::move(f));
  }
  info.file_count = info.files.size();
  if (info.files.empty()) return fail(ErrorCode::NoFiles, has_v1 ? "files" : "file tree", 0);
  if (info.total_size == 0) return fail(ErrorCode::EmptyTorrent, "length", 0);
  return info;
}

Result<TorrentInfo, InfoError> parse_verified(std::string_view info_bytes, const InfoHash& key,
                                              const Limits& limits) {
  const KeyMatch match = match_key(info_bytes, key);
  if (match == KeyMatch::None) return fail(ErrorCode::KeyMismatch, {}, 0);
  auto info = parse_info_dict(info_bytes, limits);
  if (!info) return info;
  if ((match == KeyMatch::V1 && !info->has_v1()) || (match == KeyMatch::V2 && !info->has_v2())) {
    return fail(ErrorCode::KeyMismatch, {}, 0);
  }
  return info;
}

}  // namespace bitscrape::metainfo
