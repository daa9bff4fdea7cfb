#include "metainfo/verify.hpp"

#include <cstring>

namespace bitscrape::metainfo {

InfoHash InfoHashes::v2_truncated() const noexcept {
  InfoHash h;
  std::memcpy(h.bytes.data(), v2.data(), InfoHash::kSize);
  return h;
}

InfoHashes hash_info(std::string_view info_bytes) {
  InfoHashes h;
  const auto d1 = sha1(info_bytes);
  std::memcpy(h.v1.bytes.data(), d1.data(), InfoHash::kSize);
  h.v2 = sha256(info_bytes);
  return h;
}

KeyMatch match_key(std::string_view info_bytes, const InfoHash& key) {
  const auto d1 = sha1(info_bytes);
  if (std::memcmp(d1.data(), key.bytes.data(), InfoHash::kSize) == 0) return KeyMatch::V1;
  const auto d2 = sha256(info_bytes);
  if (std::memcmp(d2.data(), key.bytes.data(), InfoHash::kSize) == 0) return KeyMatch::V2;
  return KeyMatch::None;
}

}  // namespace bitscrape::metainfo
