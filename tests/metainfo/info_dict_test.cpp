// Hand-built info dicts: every accepted shape and every error path of parse_info_dict.
#include "metainfo/info_dict.hpp"

#include "common/hash.hpp"
#include "common/hex.hpp"
#include "metainfo/sanitize.hpp"
#include "test_util.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <string>

namespace bitscrape::metainfo {
namespace {

using namespace test;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> paths(const std::vector<FileEntry>& files) {
  std::vector<std::string> out;
  for (const auto& f : files) out.push_back(f.path);
  return out;
}

// Parses `dict` and expects failure with `code` and `field`.
InfoError expect_error(const Item& dict, ErrorCode code, std::string_view field, const Limits& limits = {}) {
  const std::string bytes = dict.encode();
  auto r = parse_info_dict(bytes, limits);
  EXPECT_FALSE(r.ok()) << "parsed unexpectedly";
  if (r.ok()) return {};
  EXPECT_EQ(r.error().code, code) << r.error().reason() << " field=" << r.error().field;
  EXPECT_EQ(r.error().field, field);
  EXPECT_FALSE(r.error().reason().empty());
  return r.error();
}

TorrentInfo expect_ok(const std::string& bytes, const Limits& limits = {}) {
  auto r = parse_info_dict(bytes, limits);
  EXPECT_TRUE(r.ok()) << (r.ok()
                              ? ""
                              : std::string(r.error().reason()) + " field=" + std::string(r.error().field));
  if (!r.ok()) return {};
  return std::move(r).value();
}
TorrentInfo expect_ok(const Item& dict, const Limits& limits = {}) {
  return expect_ok(dict.encode(), limits);
}

InfoHash sha1_key(std::string_view bytes) {
  const auto d = sha1(bytes);
  return *InfoHash::from_bytes(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

// ---------------------------------------------------------------- accepted shapes, v1

TEST(InfoDictV1, SingleFile) {
  const std::string bytes = v1_single("movie.mkv", 40000).encode();
  const auto info = expect_ok(bytes);
  EXPECT_EQ(info.version, MetaVersion::V1);
  ASSERT_TRUE(info.v1.has_value());
  EXPECT_EQ(*info.v1, sha1_key(bytes));
  EXPECT_FALSE(info.v2.has_value());
  EXPECT_FALSE(info.v2_key().has_value());
  EXPECT_THAT(info.dht_keys(), ElementsAre(sha1_key(bytes)));
  EXPECT_EQ(info.name, "movie.mkv");
  EXPECT_TRUE(info.single_file);
  EXPECT_EQ(info.piece_length, kPiece);
  EXPECT_EQ(info.piece_count, 3);
  EXPECT_FALSE(info.is_private);
  EXPECT_EQ(info.source, "");
  ASSERT_EQ(info.files.size(), 1u);
  EXPECT_THAT(info.files[0].components, ElementsAre("movie.mkv"));
  EXPECT_EQ(info.files[0].path, "movie.mkv");
  EXPECT_EQ(info.files[0].length, 40000);
  EXPECT_FALSE(info.files[0].is_pad);
  EXPECT_FALSE(info.files[0].pieces_root.has_value());
  EXPECT_EQ(info.total_size, 40000);
  EXPECT_EQ(info.file_count, 1u);
  EXPECT_THAT(info.pad_files, IsEmpty());
  EXPECT_EQ(info.pad_size, 0);
}

TEST(InfoDictV1, MultiFilePathsExcludeTheRootName) {
  const auto info = expect_ok(
      v1_multi({file_entry({"a.txt"}, 10), file_entry({"sub", "dir", "b.bin"}, 20000)}, "My Torrent"));
  EXPECT_EQ(info.name, "My Torrent");
  EXPECT_FALSE(info.single_file);
  EXPECT_THAT(paths(info.files), ElementsAre("a.txt", "sub/dir/b.bin"));
  EXPECT_THAT(info.files[1].components, ElementsAre("sub", "dir", "b.bin"));
  EXPECT_EQ(info.files[0].index, 0u);
  EXPECT_EQ(info.files[1].index, 1u);
  EXPECT_EQ(info.total_size, 20010);
  EXPECT_EQ(info.file_count, 2u);
  EXPECT_EQ(info.piece_count, 2);
}

TEST(InfoDictV1, PrivateAndSource) {
  Item d = v1_single();
  d["private"] = Item(1);
  d["source"] = Item(
      "TRK\n\xE2\x80\xAE"
      "x");
  const auto info = expect_ok(d);
  EXPECT_TRUE(info.is_private);
  EXPECT_EQ(info.source, "TRK_x");

  d["private"] = Item(0);
  EXPECT_FALSE(expect_ok(d).is_private);
  d["private"] = Item(7);  // any non-zero integer, like libtorrent
  EXPECT_TRUE(expect_ok(d).is_private);
  d["private"] = Item("1");  // optional key of the wrong type: ignored
  EXPECT_FALSE(expect_ok(d).is_private);
  d["source"] = Item(5);
  EXPECT_EQ(expect_ok(d).source, "");
}

TEST(InfoDictV1, PrefersUtf8Twins) {
  Item f = file_entry({"legacy\xE9.txt"}, 5);
  f["path.utf-8"] = path_list({"utf8\xC3\xA9.txt"});
  Item d = v1_multi({std::move(f)}, "legacy\xE9");
  d["name.utf-8"] = Item("n\xC3\xA9");
  const auto info = expect_ok(d);
  EXPECT_EQ(info.name, "n\xC3\xA9");
  EXPECT_THAT(paths(info.files), ElementsAre("utf8\xC3\xA9.txt"));
}

TEST(InfoDictV1, IgnoresUnusableUtf8Twins) {
  Item f = file_entry({"plain.txt"}, 5);
  f["path.utf-8"] = Item("not a list");
  Item d = v1_multi({std::move(f)}, "plain");
  d["name.utf-8"] = Item(42);
  const auto info = expect_ok(d);
  EXPECT_EQ(info.name, "plain");
  EXPECT_THAT(paths(info.files), ElementsAre("plain.txt"));
}

TEST(InfoDictV1, NameUtf8AloneIsEnough) {
  Item d = v1_single();
  d.as_dict().erase("name");
  d["name.utf-8"] = Item("only-twin");
  EXPECT_EQ(expect_ok(d).name, "only-twin");
}

TEST(InfoDictV1, PadFilesAreNotUserFiles) {
  Item pad_no_path(Item::Dict{{"attr", Item("p")}, {"length", Item(7)}});
  const auto info = expect_ok(v1_multi({
      file_entry({"a"}, 100), file_entry({".pad", "16284"}, 16284, "p"), file_entry({"b"}, 50),
      file_entry({".pad", "99"}, 99),                     // BEP-47 location, no attr
      file_entry({"_____padding_file_0_ BitComet"}, 33),  // BitComet naming
      std::move(pad_no_path),                             // pad without a path
      file_entry({"c"}, 1, "x"),                          // executable, a user file
  }));
  EXPECT_THAT(paths(info.files), ElementsAre("a", "b", "c"));
  EXPECT_EQ(info.files[1].index, 2u);
  EXPECT_EQ(info.files[2].index, 6u);
  EXPECT_EQ(info.file_count, 3u);
  EXPECT_EQ(info.total_size, 151);
  ASSERT_EQ(info.pad_files.size(), 4u);
  for (const auto& p : info.pad_files) EXPECT_TRUE(p.is_pad);
  EXPECT_EQ(info.pad_files[3].path, ".pad/7");
  EXPECT_EQ(info.pad_files[0].index, 1u);
  EXPECT_EQ(info.pad_size, 16284 + 99 + 33 + 7);
  EXPECT_EQ(info.piece_count, 2);  // (151 + 16423) bytes of payload, pads included
}

TEST(InfoDictV1, SymlinksAreZeroLength) {
  Item link = file_entry({"link"}, 999999, "l");
  link["symlink path"] = path_list({"..", "..", "etc", "passwd"});
  Item d = v1_multi({file_entry({"a"}, 10), std::move(link)});
  d["pieces"] = Item(fake_pieces(1));  // the symlink's `length` does not count
  const auto info = expect_ok(d);
  ASSERT_EQ(info.files.size(), 2u);
  EXPECT_TRUE(info.files[1].is_symlink);
  EXPECT_EQ(info.files[1].length, 0);
  EXPECT_EQ(info.total_size, 10);
  EXPECT_EQ(info.piece_count, 1);
}

TEST(InfoDictV1, UnsortedKeysAndDuplicatesAreReadAsSent) {
  // Hand-written, not canonical: keys out of order and `name` twice (the first one wins,
  // as in libtorrent). The hash covers these exact bytes.
  const std::string fixed =
      "d4:name5:first6:lengthi5e12:piece lengthi16384e6:pieces20:aaaaaaaaaaaaaaaaaaaa4:name6:seconde";
  const auto info = expect_ok(fixed);
  EXPECT_EQ(info.name, "first");
  EXPECT_EQ(*info.v1, sha1_key(fixed));
}

// ---------------------------------------------------------------- sanitising

TEST(InfoDictSanitize, HostilePathComponents) {
  const auto info = expect_ok(v1_multi({
      file_entry({"..", "..", "etc", "passwd"}, 1),
      file_entry({"/", "abs"}, 1),
      file_entry({"", ".", "a", ""}, 1),
      file_entry({"a/b\\c"}, 1),
      file_entry({"bell\x07", "nul\0x"}, 1),
      file_entry({"bad\xFF"
                  "utf8"},
                 1),
      file_entry({".."}, 1),
      file_entry({"x\xE2\x80\xAEgpj.exe"}, 1),
  }));
  EXPECT_THAT(paths(info.files), ElementsAre("etc/passwd", "_/abs", "a", "a_b_c", "bell_/nul",
                                             "bad\xEF\xBF\xBDutf8", "_", "xgpj.exe"));
  for (const auto& f : info.files) {
    for (const auto& c : f.components) EXPECT_TRUE(is_clean_component(c)) << c;
  }
}

TEST(InfoDictSanitize, EmbeddedNulInComponent) {
  // std::string with a real NUL inside (the initializer above stops at it).
  const auto info = expect_ok(v1_multi({file_entry({std::string("a\0b", 3)}, 1)}));
  EXPECT_THAT(paths(info.files), ElementsAre("a_b"));
}

TEST(InfoDictSanitize, NameIsOneComponent) {
  EXPECT_EQ(expect_ok(v1_single("../../evil")).name, ".._.._evil");
  EXPECT_EQ(expect_ok(v1_single("/abs/name")).name, "_abs_name");
  EXPECT_EQ(expect_ok(v1_single("tab\tname\xC0")).name, "tab_name\xEF\xBF\xBD");
  const auto single = expect_ok(v1_single("a/b"));
  EXPECT_EQ(single.files[0].path, "a_b");
  EXPECT_THAT(single.files[0].components, ElementsAre("a_b"));
}

TEST(InfoDictSanitize, UnusableNameFallsBackToTheInfoHash) {
  for (const char* name : {"", ".", "..", "\xE2\x80\xAE"}) {
    const std::string bytes = v1_single(name).encode();
    const auto info = expect_ok(bytes);
    EXPECT_EQ(info.name, sha1_key(bytes).hex()) << name;
    EXPECT_EQ(info.files[0].path, info.name);
  }
  const std::string v2bytes = v2_dict(Item(Item::Dict{{"f", v2_file(5)}}), "..").encode();
  const auto v2 = expect_ok(v2bytes);
  const auto d = sha256(v2bytes);
  EXPECT_EQ(v2.name, to_hex(std::string_view(reinterpret_cast<const char*>(d.data()), d.size())));
}

// ---------------------------------------------------------------- accepted shapes, v2 / hybrid

TEST(InfoDictV2, MultiFileTree) {
  Item::Dict sub{{"b.bin", v2_file(20000, root_hash('\x02'))}, {"deep", Item(Item::Dict{{"c", v2_file(1)}})}};
  Item::Dict tree{{"a.txt", v2_file(300)}, {"empty", v2_file(0)}, {"sub", Item(std::move(sub))}};
  const std::string bytes = v2_dict(Item(std::move(tree)), "v2root").encode();
  const auto info = expect_ok(bytes);
  EXPECT_EQ(info.version, MetaVersion::V2);
  EXPECT_FALSE(info.v1.has_value());
  ASSERT_TRUE(info.v2.has_value());
  EXPECT_EQ(*info.v2, sha256(bytes));
  ASSERT_TRUE(info.v2_key().has_value());
  EXPECT_EQ(0, std::memcmp(info.v2_key()->bytes.data(), info.v2->data(), 20));
  EXPECT_THAT(info.dht_keys(), ElementsAre(*info.v2_key()));
  EXPECT_FALSE(info.single_file);
  EXPECT_THAT(paths(info.files), ElementsAre("a.txt", "empty", "sub/b.bin", "sub/deep/c"));
  EXPECT_EQ(info.files[3].index, 3u);
  EXPECT_EQ(info.total_size, 20301);
  EXPECT_EQ(info.file_count, 4u);
  EXPECT_EQ(info.piece_count, 1 + 0 + 2 + 1);  // each v2 file starts on a piece boundary
  ASSERT_TRUE(info.files[2].pieces_root.has_value());
  EXPECT_EQ((*info.files[2].pieces_root)[0], 0x02);
  EXPECT_FALSE(info.files[1].pieces_root.has_value());
}

TEST(InfoDictV2, SingleFileWhenTheOnlyKeyIsTheName) {
  const auto info = expect_ok(v2_dict(Item(Item::Dict{{"solo.bin", v2_file(40000)}}), "solo.bin"));
  EXPECT_TRUE(info.single_file);
  ASSERT_EQ(info.files.size(), 1u);
  EXPECT_EQ(info.files[0].path, "solo.bin");
  EXPECT_EQ(info.piece_count, 3);
}

TEST(InfoDictV2, OneFileUnderAnotherNameIsADirectory) {
  const auto info = expect_ok(v2_dict(Item(Item::Dict{{"inner.bin", v2_file(10)}}), "outer"));
  EXPECT_FALSE(info.single_file);
  EXPECT_EQ(info.name, "outer");
  EXPECT_THAT(paths(info.files), ElementsAre("inner.bin"));
}

TEST(InfoDictV2, SanitisesTreeKeys) {
  Item::Dict evil{{"..", Item(Item::Dict{{"etc", Item(Item::Dict{{"passwd", v2_file(1)}})}})},
                  {"x/y", v2_file(1)},
                  {"\x01", v2_file(1)}};
  const auto info = expect_ok(v2_dict(Item(std::move(evil))));
  EXPECT_THAT(paths(info.files), ElementsAre("_", "etc/passwd", "x_y"));
}

TEST(InfoDictV2, SymlinkNeedsNoPiecesRoot) {
  Item::Dict leaf{{"attr", Item("l")}, {"symlink path", path_list({"a"})}};
  Item::Dict tree{{"a", v2_file(5)}, {"link", Item(Item::Dict{{"", Item(std::move(leaf))}})}};
  const auto info = expect_ok(v2_dict(Item(std::move(tree))));
  ASSERT_EQ(info.files.size(), 2u);
  EXPECT_TRUE(info.files[1].is_symlink);
  EXPECT_EQ(info.files[1].length, 0);
}

Item hybrid_multi() {
  Item d = v1_multi({file_entry({"a.txt"}, 300), file_entry({".pad", "16084"}, 16084, "p"),
                     file_entry({"sub", "b.bin"}, 20000)},
                    "hyb");
  Item::Dict sub{{"b.bin", v2_file(20000, root_hash('\x0b'))}};
  Item::Dict tree{{"a.txt", v2_file(300, root_hash('\x0a'))}, {"sub", Item(std::move(sub))}};
  d["file tree"] = Item(std::move(tree));
  d["meta version"] = Item(2);
  return d;
}

TEST(InfoDictHybrid, OneRecordTwoHashes) {
  const std::string bytes = hybrid_multi().encode();
  const auto info = expect_ok(bytes);
  EXPECT_EQ(info.version, MetaVersion::Hybrid);
  ASSERT_TRUE(info.v1 && info.v2);
  EXPECT_EQ(*info.v1, sha1_key(bytes));
  EXPECT_EQ(*info.v2, sha256(bytes));
  EXPECT_THAT(info.dht_keys(), ElementsAre(*info.v1, *info.v2_key()));
  EXPECT_THAT(paths(info.files), ElementsAre("a.txt", "sub/b.bin"));
  EXPECT_EQ(info.files[1].index, 2u);  // v1 order, which counts the pad file
  ASSERT_TRUE(info.files[0].pieces_root && info.files[1].pieces_root);
  EXPECT_EQ((*info.files[0].pieces_root)[0], 0x0a);
  EXPECT_EQ((*info.files[1].pieces_root)[0], 0x0b);
  EXPECT_EQ(info.pad_files.size(), 1u);
  EXPECT_EQ(info.pad_size, 16084);
  EXPECT_EQ(info.total_size, 20300);
  EXPECT_EQ(info.piece_count, 3);
}

TEST(InfoDictHybrid, SingleFile) {
  Item d = v1_single("one.iso", 17000);
  d["file tree"] = Item(Item::Dict{{"one.iso", v2_file(17000)}});
  d["meta version"] = Item(2);
  const auto info = expect_ok(d);
  EXPECT_EQ(info.version, MetaVersion::Hybrid);
  EXPECT_TRUE(info.single_file);
  EXPECT_EQ(info.files[0].path, "one.iso");
  EXPECT_TRUE(info.files[0].pieces_root.has_value());
}

// ---------------------------------------------------------------- errors

TEST(InfoDictErrors, TooLarge) {
  Limits l;
  l.max_info_size = 10;
  expect_error(v1_single(), ErrorCode::TooLarge, "", l);
}

TEST(InfoDictErrors, NotBencode) {
  auto r = parse_info_dict("d4:name");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::Bencode);
  EXPECT_EQ(r.error().bencode.code, bencode::ErrorCode::Truncated);
  r = parse_info_dict("");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().bencode.code, bencode::ErrorCode::Empty);
  r = parse_info_dict(v1_single().encode() + "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().bencode.code, bencode::ErrorCode::TrailingData);
}

TEST(InfoDictErrors, NotADict) {
  for (const char* s : {"le", "i1e", "4:spam"}) {
    auto r = parse_info_dict(s);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::NotADict) << s;
  }
}

TEST(InfoDictErrors, Name) {
  Item d = v1_single();
  d.as_dict().erase("name");
  expect_error(d, ErrorCode::MissingKey, "name");
  d["name"] = Item(5);
  const std::string bytes = d.encode();
  const auto e = expect_error(d, ErrorCode::WrongType, "name");
  EXPECT_EQ(e.offset, bytes.find("4:namei5e") + 6);  // points at the value
}

TEST(InfoDictErrors, MetaVersion) {
  Item d = v2_dict(Item(Item::Dict{{"f", v2_file(5)}}));
  d["meta version"] = Item(3);
  expect_error(d, ErrorCode::UnsupportedVersion, "meta version");
  d["meta version"] = Item(0);
  expect_error(d, ErrorCode::UnsupportedVersion, "meta version");
  d["meta version"] = Item(-2);
  expect_error(d, ErrorCode::UnsupportedVersion, "meta version");
  // A file tree without `meta version` (or with a non-integer one) is not a v2 dict.
  d.as_dict().erase("meta version");
  expect_error(d, ErrorCode::MissingKey, "meta version");
  d["meta version"] = Item("2");
  expect_error(d, ErrorCode::MissingKey, "meta version");
}

TEST(InfoDictErrors, FileTreeMissingOrWrongType) {
  Item d = v2_dict(Item(Item::Dict{}));
  d.as_dict().erase("file tree");
  expect_error(d, ErrorCode::MissingKey, "file tree");
  d["file tree"] = Item(Item::List{});
  expect_error(d, ErrorCode::WrongType, "file tree");
}

TEST(InfoDictErrors, PieceLength) {
  Item d = v1_single();
  d.as_dict().erase("piece length");
  expect_error(d, ErrorCode::MissingKey, "piece length");
  d["piece length"] = Item("16384");
  expect_error(d, ErrorCode::WrongType, "piece length");
  for (std::int64_t bad : {std::int64_t{0}, std::int64_t{-16384}, std::int64_t{1} << 30}) {
    d["piece length"] = Item(bad);
    expect_error(d, ErrorCode::InvalidPieceLength, "piece length");
  }
  // v1 allows any positive size (BEP-3 only says "almost always a power of two").
  Item odd = v1_single("f", 1000);
  odd["piece length"] = Item(1000);
  odd["pieces"] = Item(fake_pieces(1));
  EXPECT_EQ(expect_ok(odd).piece_length, 1000);
  odd["piece length"] = Item((std::int64_t{1} << 30) - 1);  // libtorrent's maximum
  EXPECT_TRUE(parse_info_dict(odd.encode()).ok());
}

TEST(InfoDictErrors, V2PieceLengthMustBeAPowerOfTwoOfAtLeast16KiB) {
  for (std::int64_t bad : {8192, 3 * 16384, 16385}) {
    Item d = v2_dict(Item(Item::Dict{{"f", v2_file(5)}}));
    d["piece length"] = Item(bad);
    expect_error(d, ErrorCode::InvalidPieceLength, "piece length");
  }
  Item ok = v2_dict(Item(Item::Dict{{"f", v2_file(5)}}));
  ok["piece length"] = Item(std::int64_t{1} << 22);
  EXPECT_TRUE(parse_info_dict(ok.encode()).ok());
}

TEST(InfoDictErrors, Pieces) {
  Item d = v1_single();
  d.as_dict().erase("pieces");
  expect_error(d, ErrorCode::MissingKey, "pieces");
  d["pieces"] = Item(Item::List{});
  expect_error(d, ErrorCode::WrongType, "pieces");
  d["pieces"] = Item(std::string(21, 'x'));
  expect_error(d, ErrorCode::InvalidPieces, "pieces");
  d["pieces"] = Item(fake_pieces(2));  // 1000 bytes need one piece
  expect_error(d, ErrorCode::PieceCountMismatch, "pieces");
  d["pieces"] = Item(std::string());
  expect_error(d, ErrorCode::PieceCountMismatch, "pieces");
}

TEST(InfoDictErrors, Lengths) {
  expect_error(v1_single("f", -1), ErrorCode::NegativeLength, "length");
  Item d = v1_single();
  d["length"] = Item("1000");
  expect_error(d, ErrorCode::WrongType, "length");
  expect_error(v1_multi({file_entry({"a"}, 5), file_entry({"b"}, -5)}), ErrorCode::NegativeLength, "length");
  expect_error(v2_dict(Item(Item::Dict{{"f", v2_file(-1)}})), ErrorCode::NegativeLength, "length");
}

TEST(InfoDictErrors, LengthsThatOverflowWhenSummed) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  Item d = v1_multi({file_entry({"a"}, kMax / 2 + 1), file_entry({"b"}, kMax / 2 + 1)});
  d["pieces"] = Item(fake_pieces(1));  // not reached
  expect_error(d, ErrorCode::SizeOverflow, "length");
  // A single huge file is fine as long as the hashes match... which they cannot here.
  expect_error(v1_multi({file_entry({"a"}, kMax)}), ErrorCode::PieceCountMismatch, "pieces");
  Item::Dict tree{{"a", v2_file(kMax)}, {"b", v2_file(1)}};
  expect_error(v2_dict(Item(std::move(tree))), ErrorCode::SizeOverflow, "length");
}

TEST(InfoDictErrors, AmbiguousOrMissingLayout) {
  Item d = v1_multi({file_entry({"a"}, 1000)});
  d["length"] = Item(1000);
  expect_error(d, ErrorCode::AmbiguousLayout, "files");
  d.as_dict().erase("length");
  d.as_dict().erase("files");
  expect_error(d, ErrorCode::MissingKey, "files");
  d["files"] = Item("a");
  expect_error(d, ErrorCode::WrongType, "files");
}

TEST(InfoDictErrors, FileEntries) {
  expect_error(v1_multi({Item(5)}), ErrorCode::WrongType, "files");
  Item no_len(Item::Dict{{"path", path_list({"a"})}});
  expect_error(v1_multi({no_len}), ErrorCode::MissingKey, "length");
  Item bad_len(Item::Dict{{"length", Item("5")}, {"path", path_list({"a"})}});
  expect_error(v1_multi({bad_len}), ErrorCode::WrongType, "length");
  Item no_path(Item::Dict{{"length", Item(5)}});
  expect_error(v1_multi({no_path}), ErrorCode::MissingKey, "path");
  Item str_path(Item::Dict{{"length", Item(5)}, {"path", Item("a/b")}});
  expect_error(v1_multi({str_path}), ErrorCode::WrongType, "path");
  Item int_comp(Item::Dict{{"length", Item(5)}, {"path", Item(Item::List{Item("a"), Item(1)})}});
  expect_error(v1_multi({int_comp}), ErrorCode::WrongType, "path");
  expect_error(v1_multi({file_entry({}, 5)}), ErrorCode::EmptyPath, "path");
}

TEST(InfoDictErrors, NoFiles) {
  expect_error(v1_multi({}), ErrorCode::NoFiles, "files");
  expect_error(v2_dict(Item(Item::Dict{})), ErrorCode::NoFiles, "file tree");
  // Empty directories hold nothing either.
  expect_error(v2_dict(Item(Item::Dict{{"d", Item(Item::Dict{})}})), ErrorCode::NoFiles, "file tree");
  // Only pad files: nothing for a user.
  expect_error(v1_multi({file_entry({".pad", "5"}, 5, "p")}), ErrorCode::NoFiles, "files");
}

TEST(InfoDictErrors, EmptyTorrent) {
  Item d = v1_single("f", 0);
  EXPECT_EQ(d.as_dict().at("pieces").as_string(), "");
  expect_error(d, ErrorCode::EmptyTorrent, "length");
  expect_error(v2_dict(Item(Item::Dict{{"f", v2_file(0)}})), ErrorCode::EmptyTorrent, "length");
}

TEST(InfoDictErrors, MalformedFileTree) {
  // A node that is not a dict.
  expect_error(v2_dict(Item(Item::Dict{{"f", Item(5)}})), ErrorCode::InvalidFileTree, "file tree");
  // "" directly under the root: the torrent root itself as a file.
  expect_error(v2_dict(Item(Item::Dict{{"", Item(Item::Dict{{"length", Item(5)}})}})),
               ErrorCode::InvalidFileTree, "file tree");
  // A file node with siblings of "": both a file and a directory.
  Item both = v2_file(5);
  both["child"] = v2_file(5);
  expect_error(v2_dict(Item(Item::Dict{{"f", both}})), ErrorCode::InvalidFileTree, "file tree");
  // The "" value is not a dict.
  expect_error(v2_dict(Item(Item::Dict{{"f", Item(Item::Dict{{"", Item(5)}})}})), ErrorCode::InvalidFileTree,
               "file tree");
  // Pad files have no place in a v2 tree.
  Item::Dict pad_leaf{{"attr", Item("p")}, {"length", Item(5)}, {"pieces root", Item(root_hash())}};
  expect_error(v2_dict(Item(Item::Dict{{"f", Item(Item::Dict{{"", Item(std::move(pad_leaf))}})}})),
               ErrorCode::InvalidFileTree, "attr");
  // Leaf without a length, or with one of the wrong type.
  expect_error(v2_dict(Item(Item::Dict{{"f", Item(Item::Dict{{"", Item(Item::Dict{})}})}})),
               ErrorCode::MissingKey, "length");
  expect_error(
      v2_dict(Item(Item::Dict{{"f", Item(Item::Dict{{"", Item(Item::Dict{{"length", Item("5")}})}})}})),
      ErrorCode::WrongType, "length");
}

TEST(InfoDictErrors, PiecesRoot) {
  Item::Dict no_root{{"length", Item(5)}};
  expect_error(v2_dict(Item(Item::Dict{{"f", Item(Item::Dict{{"", Item(std::move(no_root))}})}})),
               ErrorCode::InvalidPiecesRoot, "pieces root");
  expect_error(v2_dict(Item(Item::Dict{{"f", v2_file(5, std::string(31, 'r'))}})),
               ErrorCode::InvalidPiecesRoot, "pieces root");
  expect_error(v2_dict(Item(Item::Dict{{"f", v2_file(5, std::string(32, '\0'))}})),
               ErrorCode::InvalidPiecesRoot, "pieces root");
  Item::Dict int_root{{"length", Item(5)}, {"pieces root", Item(7)}};
  expect_error(v2_dict(Item(Item::Dict{{"f", Item(Item::Dict{{"", Item(std::move(int_root))}})}})),
               ErrorCode::InvalidPiecesRoot, "pieces root");
}

TEST(InfoDictErrors, HybridHalvesMustAgree) {
  {  // different length
    Item d = hybrid_multi();
    d["file tree"]["a.txt"][""]["length"] = Item(301);
    expect_error(d, ErrorCode::HybridMismatch, "file tree");
  }
  {  // different path
    Item d = hybrid_multi();
    Item moved = d["file tree"]["a.txt"];
    d["file tree"].as_dict().erase("a.txt");
    d["file tree"]["z.txt"] = std::move(moved);
    expect_error(d, ErrorCode::HybridMismatch, "file tree");
  }
  {  // an extra v2 file
    Item d = hybrid_multi();
    d["file tree"]["sub"]["c"] = v2_file(1);
    expect_error(d, ErrorCode::HybridMismatch, "file tree");
  }
  {  // v1 single file, v2 directory
    Item d = v1_single("one.iso", 17000);
    d["file tree"] = Item(Item::Dict{{"other.iso", v2_file(17000)}});
    d["meta version"] = Item(2);
    expect_error(d, ErrorCode::HybridMismatch, "file tree");
  }
  {  // a v2 dict with a partial v1 half
    Item d = hybrid_multi();
    d.as_dict().erase("pieces");
    expect_error(d, ErrorCode::MissingKey, "pieces");
  }
}

TEST(InfoDictLimits, TooManyFiles) {
  Limits l;
  l.max_files = 3;
  std::vector<Item> files;
  for (int i = 0; i < 4; ++i) files.push_back(file_entry({"f" + std::to_string(i)}, 1));
  expect_error(v1_multi(files), ErrorCode::TooManyFiles, "files", l);
  files.pop_back();
  EXPECT_EQ(expect_ok(v1_multi(files), l).file_count, 3u);

  Item::Dict tree;
  for (int i = 0; i < 4; ++i) tree["f" + std::to_string(i)] = v2_file(1);
  expect_error(v2_dict(Item(tree)), ErrorCode::TooManyFiles, "file tree", l);
  // Pad files count against the limit too: they cost the same memory.
  expect_error(v1_multi({file_entry({"a"}, 1), file_entry({".pad", "1"}, 1, "p"), file_entry({"b"}, 1),
                         file_entry({".pad", "2"}, 1, "p")}),
               ErrorCode::TooManyFiles, "files", l);
}

TEST(InfoDictLimits, DefaultFileLimitIsOneHundredThousand) {
  // A real 100 001-file dict (about 2.5 MB): rejected by default, accepted with a higher limit.
  std::string files;
  constexpr int kCount = 100'001;
  for (int i = 0; i < kCount; ++i) files += "d6:lengthi1e4:pathl1:aee";
  const std::int64_t pieces = pieces_for(kCount, kPiece);
  const std::string bytes = "d5:filesl" + files + "e4:name4:huge12:piece lengthi16384e6:pieces" +
                            std::to_string(pieces * 20) + ":" + fake_pieces(pieces) + "e";
  auto r = parse_info_dict(bytes);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::TooManyFiles);
  Limits l;
  l.max_files = 200'000;
  const auto info = expect_ok(bytes, l);
  EXPECT_EQ(info.file_count, static_cast<std::size_t>(kCount));
  EXPECT_EQ(info.total_size, kCount);
}

TEST(InfoDictLimits, TokenLimit) {
  Limits l;
  l.max_tokens = 10;
  auto r = parse_info_dict(v1_multi({file_entry({"a"}, 1), file_entry({"b"}, 1)}).encode(), l);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::Bencode);
  EXPECT_EQ(r.error().bencode.code, bencode::ErrorCode::TooManyTokens);
}

Item deep_tree(std::size_t depth) {
  Item node = v2_file(5);
  for (std::size_t i = 0; i < depth; ++i) {
    Item::Dict parent;
    parent.emplace("d", std::move(node));  // no initializer_list: that would copy the subtree
    node = Item(std::move(parent));
  }
  return node;
}

TEST(InfoDictLimits, PathDepth) {
  std::vector<std::string> deep(64, "d");
  EXPECT_EQ(expect_ok(v1_multi({file_entry(deep, 1)})).files[0].components.size(), 64u);
  deep.push_back("d");
  expect_error(v1_multi({file_entry(deep, 1)}), ErrorCode::PathTooDeep, "path");

  EXPECT_EQ(expect_ok(v2_dict(deep_tree(64))).files[0].components.size(), 64u);
  expect_error(v2_dict(deep_tree(65)), ErrorCode::PathTooDeep, "file tree");
  // Deeper still, the decoder refuses the nesting before the tree walk sees it.
  auto r = parse_info_dict(v2_dict(deep_tree(66)).encode());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::Bencode);
  EXPECT_EQ(r.error().bencode.code, bencode::ErrorCode::TooDeep);
  std::string very_deep = "d4:name1:x12:meta versioni2e9:file tree";
  for (int i = 0; i < 5000; ++i) very_deep += "d1:d";
  very_deep += "de";
  for (int i = 0; i < 5000; ++i) very_deep += "e";
  very_deep += "e";
  r = parse_info_dict(very_deep);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().bencode.code, bencode::ErrorCode::TooDeep);

  Limits l;
  l.max_path_depth = 3;
  expect_error(v2_dict(deep_tree(4)), ErrorCode::PathTooDeep, "file tree", l);
  expect_error(v1_multi({file_entry({"a", "b", "c", "d"}, 1)}), ErrorCode::PathTooDeep, "path", l);
}

TEST(InfoDictLimits, NameLength) {
  const std::string at_limit(1024, 'n');
  const std::string over(1025, 'n');
  EXPECT_EQ(expect_ok(v1_single(at_limit)).name, at_limit);
  expect_error(v1_single(over), ErrorCode::NameTooLong, "name");
  expect_error(v1_multi({file_entry({"ok", over}, 1)}), ErrorCode::NameTooLong, "path");
  expect_error(v2_dict(Item(Item::Dict{{over, v2_file(1)}})), ErrorCode::NameTooLong, "file tree");
  Item d = v1_single();
  d["source"] = Item(over);
  expect_error(d, ErrorCode::NameTooLong, "source");
  Limits l;
  l.max_name_bytes = 4;
  expect_error(v1_single("12345"), ErrorCode::NameTooLong, "name", l);
}

TEST(InfoDictLimits, DecoderLimitsFollowTheInfoLimits) {
  Limits l;
  l.max_info_size = 1234;
  l.max_path_depth = 10;
  l.max_tokens = 99;
  const auto b = decoder_limits(l);
  EXPECT_EQ(b.max_size, 1234u);
  EXPECT_EQ(b.max_depth, 14u);
  EXPECT_EQ(b.max_tokens, 99u);
  EXPECT_FALSE(b.strict);
  l.max_path_depth = 100000;  // clamped under the decoder's own cap
  EXPECT_EQ(decoder_limits(l).max_depth, 1004u);
}

// ---------------------------------------------------------------- parse_verified

TEST(ParseVerified, AcceptsEitherKeyOfAHybrid) {
  const std::string bytes = hybrid_multi().encode();
  const auto info = expect_ok(bytes);
  auto by_v1 = parse_verified(bytes, *info.v1);
  ASSERT_TRUE(by_v1.ok());
  EXPECT_EQ(by_v1->name, "hyb");
  auto by_v2 = parse_verified(bytes, *info.v2_key());
  ASSERT_TRUE(by_v2.ok());
  EXPECT_EQ(by_v2->v1, info.v1);
}

TEST(ParseVerified, RejectsOtherKeys) {
  const std::string bytes = v1_single().encode();
  InfoHash other;
  other.bytes.fill(0x42);
  auto r = parse_verified(bytes, other);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::KeyMismatch);
  // The truncated SHA-256 of a v1-only dict is not a key that torrent is known by.
  const auto d = sha256(bytes);
  const auto v2_form = InfoHash::from_bytes(std::string_view(reinterpret_cast<const char*>(d.data()), 20));
  r = parse_verified(bytes, *v2_form);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::KeyMismatch);
  // And so is the SHA-1 of a v2-only dict.
  const std::string v2bytes = v2_dict(Item(Item::Dict{{"f", v2_file(5)}})).encode();
  r = parse_verified(v2bytes, sha1_key(v2bytes));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::KeyMismatch);
}

TEST(ParseVerified, PassesParseErrorsThrough) {
  const std::string bytes = v1_single("f", -1).encode();
  auto r = parse_verified(bytes, sha1_key(bytes));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::NegativeLength);
}

}  // namespace
}  // namespace bitscrape::metainfo
