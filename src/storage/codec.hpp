// Compact blob formats the SQLite store writes: file lists and zstd frames.
//
// File list blob: one format byte, then the body — raw (0) or one zstd frame (1), whichever is
// smaller. The body is varint(count), then per file: varint(bytes shared with the previous
// path), varint(suffix length), suffix bytes, varint(length). Paths in one torrent share long
// prefixes ("Season 1/Show.S01E0"), so front coding plus zstd shrinks lists several-fold.
// Decoding checks every length against the input and the limits: a damaged blob is an error
// value, never a crash.
//
// Threading: ZstdCompressor holds a reusable context — one per thread. Free functions are pure.
#pragma once

#include "storage/error.hpp"
#include "storage/records.hpp"

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bitscrape::storage {

class ZstdCompressor {
 public:
  explicit ZstdCompressor(int level = 3);
  ~ZstdCompressor();
  ZstdCompressor(const ZstdCompressor&) = delete;
  ZstdCompressor& operator=(const ZstdCompressor&) = delete;

  // One zstd frame holding `data` (with its content size recorded).
  std::string compress(std::string_view data);

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
  int level_;
};

// Decompresses one frame; Corrupt when it is not a frame, declares no size or more than
// `max_bytes`, or does not decode to exactly the declared size.
StoreResult<std::string> zstd_decompress(std::string_view frame, std::size_t max_bytes);

std::string encode_file_list(std::span<const FileRecord> files, ZstdCompressor& zstd);
StoreResult<std::vector<FileRecord>> decode_file_list(std::string_view blob, std::size_t max_files);

}  // namespace bitscrape::storage
