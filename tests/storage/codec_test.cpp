#include "storage/codec.hpp"

#include <gtest/gtest.h>

namespace bitscrape::storage {
namespace {

TEST(FileListCodec, RoundTripsSmallListRaw) {
  ZstdCompressor z;
  const std::vector<FileRecord> files = {{"a.txt", 1}, {"a.txt2", 0}, {"b/c", 123456789012}};
  const std::string blob = encode_file_list(files, z);
  EXPECT_EQ(blob[0], 0);  // raw: too small to compress
  // count, then (shared, suffix len, suffix, length) per file; "a.txt2" shares 5 bytes.
  EXPECT_EQ(blob.substr(1, 9), std::string("\x03\x00\x05" "a.txt\x01", 9));
  auto back = decode_file_list(blob, 100);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, files);
}

TEST(FileListCodec, CompressesLongListsWithSharedPrefixes) {
  ZstdCompressor z;
  std::vector<FileRecord> files;
  std::size_t raw = 0;
  for (int i = 0; i < 300; ++i) {
    files.push_back({"Some Show (2019) Season 1/Some.Show.S01E" + std::to_string(i) + ".1080p.WEB.x264.mkv",
                     1'000'000'000 + i});
    raw += files.back().path.size() + 8;
  }
  const std::string blob = encode_file_list(files, z);
  EXPECT_EQ(blob[0], 1);  // zstd
  EXPECT_LT(blob.size() * 10, raw);
  auto back = decode_file_list(blob, 1000);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, files);
}

TEST(FileListCodec, EmptyAndUnicode) {
  ZstdCompressor z;
  for (const auto& files : {std::vector<FileRecord>{}, std::vector<FileRecord>{{"日本語/ファイル.txt", 5}}}) {
    auto back = decode_file_list(encode_file_list(files, z), 10);
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, files);
  }
}

TEST(FileListCodec, DamagedBlobsAreErrors) {
  ZstdCompressor z;
  const std::string good = encode_file_list(std::vector<FileRecord>{{"abc", 1}, {"abd", 2}}, z);
  // Every truncation and a few corruptions fail cleanly.
  for (std::size_t n = 0; n < good.size(); ++n) {
    auto r = decode_file_list(good.substr(0, n), 10);
    ASSERT_FALSE(r) << n;
    EXPECT_EQ(r.error().code, ErrorCode::Corrupt);
  }
  EXPECT_FALSE(decode_file_list(good + "x", 10));                  // trailing bytes
  EXPECT_FALSE(decode_file_list(std::string("\x02", 1) + good, 10));  // unknown format
  EXPECT_FALSE(decode_file_list(good, 1));                         // more files than allowed
  EXPECT_FALSE(decode_file_list(std::string("\x00\x01\x05\x00\x00", 5), 10));  // shares 5 bytes with nothing
  EXPECT_FALSE(decode_file_list(std::string("\x01garbage", 8), 10));           // not a zstd frame
}

TEST(Zstd, RoundTripAndLimits) {
  ZstdCompressor z(3);
  const std::string data(10000, 'q');
  const std::string frame = z.compress(data);
  EXPECT_LT(frame.size(), 100u);
  auto back = zstd_decompress(frame, 10000);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, data);
  auto too_big = zstd_decompress(frame, 9999);
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error().code, ErrorCode::Corrupt);
  EXPECT_FALSE(zstd_decompress(frame.substr(0, frame.size() - 1), 10000));
  EXPECT_FALSE(zstd_decompress("", 10));
}

}  // namespace
}  // namespace bitscrape::storage
