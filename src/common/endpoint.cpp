#include "common/endpoint.hpp"

#include <charconv>
#include <cstring>

#ifdef _WIN32
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#endif

namespace bitscrape {

IpAddress IpAddress::v4(std::uint32_t h) noexcept {
  return v4(std::array<std::uint8_t, 4>{static_cast<std::uint8_t>(h >> 24), static_cast<std::uint8_t>(h >> 16),
                                        static_cast<std::uint8_t>(h >> 8), static_cast<std::uint8_t>(h)});
}

IpAddress IpAddress::v4(const std::array<std::uint8_t, 4>& b) noexcept {
  IpAddress a;
  a.family_ = Family::V4;
  std::memcpy(a.b_.data(), b.data(), 4);
  return a;
}

IpAddress IpAddress::v6(const std::array<std::uint8_t, 16>& b) noexcept {
  IpAddress a;
  a.family_ = Family::V6;
  a.b_ = b;
  return a;
}

std::optional<IpAddress> IpAddress::from_bytes(std::string_view raw) noexcept {
  IpAddress a;
  if (raw.size() == 4) {
    a.family_ = Family::V4;
  } else if (raw.size() == 16) {
    a.family_ = Family::V6;
  } else {
    return std::nullopt;
  }
  std::memcpy(a.b_.data(), raw.data(), raw.size());
  return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  char buf[46];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress a;
  if (inet_pton(AF_INET, buf, a.b_.data()) == 1) {
    a.family_ = Family::V4;
    return a;
  }
  if (inet_pton(AF_INET6, buf, a.b_.data()) == 1) {
    a.family_ = Family::V6;
    return a;
  }
  return std::nullopt;
}

std::uint32_t IpAddress::v4_host_order() const noexcept {
  return (std::uint32_t{b_[0]} << 24) | (std::uint32_t{b_[1]} << 16) | (std::uint32_t{b_[2]} << 8) | b_[3];
}

std::string IpAddress::to_string() const {
  char buf[64] = {};
  inet_ntop(is_v4() ? AF_INET : AF_INET6, b_.data(), buf, sizeof buf);
  return buf;
}

namespace {
bool v4_martian(std::uint32_t a) noexcept {
  const auto in = [a](std::uint32_t net, int bits) {
    const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
    return (a & mask) == net;
  };
  return in(0x00000000, 8) || in(0x0A000000, 8) || in(0x64400000, 10) || in(0x7F000000, 8) ||
         in(0xA9FE0000, 16) || in(0xAC100000, 12) || in(0xC0000000, 24) || in(0xC0A80000, 16) ||
         in(0xC6120000, 15) || a >= 0xE0000000;
}
}  // namespace

bool IpAddress::is_martian() const noexcept {
  if (is_v4()) return v4_martian(v4_host_order());
  static constexpr std::array<std::uint8_t, 16> kZero{};
  std::array<std::uint8_t, 16> loop{};
  loop[15] = 1;
  if (b_ == kZero || b_ == loop) return true;
  if ((b_[0] & 0xFE) == 0xFC) return true;                    // fc00::/7 unique local
  if (b_[0] == 0xFE && (b_[1] & 0xC0) == 0x80) return true;   // fe80::/10 link-local
  if (b_[0] == 0xFF) return true;                             // multicast
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
  if (std::memcmp(b_.data(), kMapped, 12) == 0) {
    return v4_martian((std::uint32_t{b_[12]} << 24) | (std::uint32_t{b_[13]} << 16) |
                      (std::uint32_t{b_[14]} << 8) | b_[15]);
  }
  return false;
}

bool IpAddress::is_loopback() const noexcept {
  if (is_v4()) return b_[0] == 127;
  std::array<std::uint8_t, 16> loop{};
  loop[15] = 1;
  return b_ == loop;
}

std::optional<Endpoint> Endpoint::parse(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  auto ip = IpAddress::parse(host);
  if (!ip) return std::nullopt;
  unsigned p = 0;
  const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc{} || ptr != port.data() + port.size() || p > 65535 || port.empty()) return std::nullopt;
  return Endpoint{*ip, static_cast<std::uint16_t>(p)};
}

std::string Endpoint::to_string() const {
  if (ip.is_v4()) return ip.to_string() + ":" + std::to_string(port);
  return "[" + ip.to_string() + "]:" + std::to_string(port);
}

std::size_t IpAddressHash::operator()(const IpAddress& a) const noexcept {
  // FNV-1a over the address bytes; addresses are not attacker-uniform, so mix them all.
  std::size_t h = 1469598103934665603ull;
  for (const char c : a.bytes()) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

std::size_t EndpointHash::operator()(const Endpoint& e) const noexcept {
  return IpAddressHash{}(e.ip) * 31 + e.port;
}

}  // namespace bitscrape
