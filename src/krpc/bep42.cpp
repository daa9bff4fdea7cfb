#include "krpc/bep42.hpp"

#include "krpc/crc32c.hpp"

#include <array>
#include <cstring>

namespace bitscrape::krpc {
namespace {

constexpr std::array<std::uint8_t, 4> kV4Mask{0x03, 0x0f, 0x3f, 0xff};
constexpr std::array<std::uint8_t, 8> kV6Mask{0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff};
constexpr std::uint8_t kV4MappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};

// ::ffff:a.b.c.d becomes a.b.c.d; every other address is returned unchanged.
IpAddress unmap(const IpAddress& ip) noexcept {
  if (ip.is_v6() && std::memcmp(ip.raw().data(), kV4MappedPrefix, sizeof kV4MappedPrefix) == 0) {
    return IpAddress::v4(std::array<std::uint8_t, 4>{ip.raw()[12], ip.raw()[13], ip.raw()[14], ip.raw()[15]});
  }
  return ip;
}

}  // namespace

bool is_bep42_exempt(const IpAddress& addr) noexcept {
  const IpAddress ip = unmap(addr);
  const auto& b = ip.raw();
  if (ip.is_v4()) {
    return b[0] == 10 ||                            // 10/8
           (b[0] == 172 && (b[1] & 0xF0) == 16) ||  // 172.16/12
           (b[0] == 192 && b[1] == 168) ||          // 192.168/16
           (b[0] == 169 && b[1] == 254) ||          // 169.254/16
           b[0] == 127;                             // 127/8
  }
  return ip.is_loopback() ||                         // ::1
         (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) ||  // fe80::/10
         (b[0] & 0xFE) == 0xFC;                      // fc00::/7
}

std::uint32_t bep42_crc(const IpAddress& addr, std::uint8_t r) noexcept {
  const IpAddress ip = unmap(addr);
  std::array<std::uint8_t, 8> buf{};
  std::size_t n = 0;
  if (ip.is_v4()) {
    n = kV4Mask.size();
    for (std::size_t i = 0; i < n; ++i) buf[i] = static_cast<std::uint8_t>(ip.raw()[i] & kV4Mask[i]);
  } else {
    n = kV6Mask.size();
    for (std::size_t i = 0; i < n; ++i) buf[i] = static_cast<std::uint8_t>(ip.raw()[i] & kV6Mask[i]);
  }
  buf[0] = static_cast<std::uint8_t>(buf[0] | ((r & 0x07u) << 5));
  return crc32c(std::string_view(reinterpret_cast<const char*>(buf.data()), n));
}

NodeId make_secure_id(const IpAddress& ip, const NodeId& entropy) noexcept {
  NodeId id = entropy;
  const std::uint8_t r = entropy.bytes[19];
  const std::uint32_t c = bep42_crc(ip, r);
  id.bytes[0] = static_cast<std::uint8_t>(c >> 24);
  id.bytes[1] = static_cast<std::uint8_t>(c >> 16);
  id.bytes[2] = static_cast<std::uint8_t>(((c >> 8) & 0xF8u) | (entropy.bytes[2] & 0x07u));
  return id;
}

bool is_secure_id(const NodeId& id, const IpAddress& ip) noexcept {
  if (is_bep42_exempt(ip)) return true;
  const std::uint32_t c = bep42_crc(ip, id.bytes[19]);
  return id.bytes[0] == static_cast<std::uint8_t>(c >> 24) &&
         id.bytes[1] == static_cast<std::uint8_t>(c >> 16) && (id.bytes[2] & 0xF8u) == ((c >> 8) & 0xF8u);
}

}  // namespace bitscrape::krpc
