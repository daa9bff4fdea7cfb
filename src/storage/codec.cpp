#include "storage/codec.hpp"

#include <zstd.h>

#include <algorithm>
#include <cstdint>

namespace bitscrape::storage {

struct ZstdCompressor::Ctx {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ~Ctx() { ZSTD_freeCCtx(cctx); }
};

ZstdCompressor::ZstdCompressor(int level) : ctx_(std::make_unique<Ctx>()), level_(level) {}
ZstdCompressor::~ZstdCompressor() = default;

std::string ZstdCompressor::compress(std::string_view data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  const std::size_t n = ZSTD_compressCCtx(ctx_->cctx, out.data(), out.size(), data.data(), data.size(), level_);
  // Compression into a buffer of compressBound bytes only fails on allocation failure.
  if (ZSTD_isError(n)) return {};
  out.resize(n);
  return out;
}

StoreResult<std::string> zstd_decompress(std::string_view frame, std::size_t max_bytes) {
  const unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
    return fail(ErrorCode::Corrupt, "stored blob is not a zstd frame with a known size");
  }
  if (size > max_bytes) return fail(ErrorCode::Corrupt, "stored blob decompresses beyond its limit");
  std::string out(static_cast<std::size_t>(size), '\0');
  const std::size_t n = ZSTD_decompress(out.data(), out.size(), frame.data(), frame.size());
  if (ZSTD_isError(n) || n != out.size()) {
    return fail(ErrorCode::Corrupt, std::string("stored blob fails to decompress: ") +
                                        (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "size mismatch"));
  }
  return out;
}

namespace {

enum : char { kRaw = 0, kZstd = 1 };
constexpr std::size_t kMinCompress = 96;           // smaller bodies are stored raw
constexpr std::size_t kMaxListBytes = 256u << 20;  // decoded body bound

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

struct Reader {
  std::string_view in;
  std::size_t pos = 0;

  bool varint(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= in.size()) return false;
      const auto b = static_cast<unsigned char>(in[pos++]);
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  bool bytes(std::size_t n, std::string_view& out) {
    if (n > in.size() - pos) return false;
    out = in.substr(pos, n);
    pos += n;
    return true;
  }
};

Unexpected<Error> corrupt_list() { return fail(ErrorCode::Corrupt, "stored file list is damaged"); }

}  // namespace

std::string encode_file_list(std::span<const FileRecord> files, ZstdCompressor& zstd) {
  std::string body;
  put_varint(body, files.size());
  std::string_view prev;
  for (const auto& f : files) {
    const std::string_view p = f.path;
    const std::size_t limit = std::min(prev.size(), p.size());
    std::size_t shared = 0;
    while (shared < limit && prev[shared] == p[shared]) ++shared;
    put_varint(body, shared);
    put_varint(body, p.size() - shared);
    body.append(p.substr(shared));
    put_varint(body, static_cast<std::uint64_t>(std::max<std::int64_t>(f.length, 0)));
    prev = p;
  }
  std::string out;
  if (body.size() >= kMinCompress) {
    std::string z = zstd.compress(body);
    if (!z.empty() && z.size() < body.size()) {
      out.reserve(z.size() + 1);
      out.push_back(kZstd);
      out += z;
      return out;
    }
  }
  out.reserve(body.size() + 1);
  out.push_back(kRaw);
  out += body;
  return out;
}

StoreResult<std::vector<FileRecord>> decode_file_list(std::string_view blob, std::size_t max_files) {
  if (blob.empty()) return corrupt_list();
  std::string owned;
  std::string_view body = blob.substr(1);
  if (blob[0] == kZstd) {
    auto d = zstd_decompress(body, kMaxListBytes);
    if (!d) return Unexpected<Error>{d.error()};
    owned = std::move(d.value());
    body = owned;
  } else if (blob[0] != kRaw) {
    return corrupt_list();
  }
  Reader r{body};
  std::uint64_t count = 0;
  if (!r.varint(count) || count > max_files) return corrupt_list();
  std::vector<FileRecord> files;
  files.reserve(static_cast<std::size_t>(count));
  std::string prev;
  for (std::uint64_t i = 0; i < count; ++i) {
    std::uint64_t shared = 0;
    std::uint64_t suffix_len = 0;
    std::uint64_t length = 0;
    std::string_view suffix;
    if (!r.varint(shared) || shared > prev.size() || !r.varint(suffix_len) ||
        !r.bytes(static_cast<std::size_t>(std::min<std::uint64_t>(suffix_len, body.size())), suffix) ||
        suffix.size() != suffix_len || !r.varint(length) || length > static_cast<std::uint64_t>(INT64_MAX)) {
      return corrupt_list();
    }
    FileRecord f;
    f.path.reserve(static_cast<std::size_t>(shared) + suffix.size());
    f.path.assign(prev, 0, static_cast<std::size_t>(shared));
    f.path += suffix;
    f.length = static_cast<std::int64_t>(length);
    prev = f.path;
    files.push_back(std::move(f));
  }
  if (r.pos != body.size()) return corrupt_list();
  return files;
}

}  // namespace bitscrape::storage
