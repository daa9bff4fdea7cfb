// IpAddress / Endpoint: an IPv4 or IPv6 address (+ UDP/TCP port) as plain bytes.
//
// The protocol core never touches sockets, so it has its own address type rather than
// asio's; adapters convert at the edge. Threading: plain value types.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bitscrape {

class IpAddress {
 public:
  enum class Family : std::uint8_t { V4, V6 };

  IpAddress() = default;
  static IpAddress v4(std::uint32_t host_order) noexcept;
  static IpAddress v4(const std::array<std::uint8_t, 4>& b) noexcept;
  static IpAddress v6(const std::array<std::uint8_t, 16>& b) noexcept;
  // From 4 or 16 network-order bytes; nullopt for other lengths.
  static std::optional<IpAddress> from_bytes(std::string_view raw) noexcept;
  // "1.2.3.4" or "::1" (no brackets); nullopt when not a literal address.
  static std::optional<IpAddress> parse(std::string_view text);

  Family family() const noexcept { return family_; }
  bool is_v4() const noexcept { return family_ == Family::V4; }
  bool is_v6() const noexcept { return family_ == Family::V6; }
  // Network-order bytes: 4 for v4, 16 for v6.
  std::string_view bytes() const noexcept {
    return {reinterpret_cast<const char*>(b_.data()), is_v4() ? 4u : 16u};
  }
  const std::array<std::uint8_t, 16>& raw() const noexcept { return b_; }
  std::uint32_t v4_host_order() const noexcept;

  std::string to_string() const;

  // Addresses a crawler must never send to when it learned them from a stranger:
  // 0/8, 10/8, 100.64/10, 127/8, 169.254/16, 172.16/12, 192.0.0/24, 192.168/16, 198.18/15,
  // 224/4 and above; ::, ::1, fc00::/7, fe80::/10, ff00::/8, v4-mapped martians.
  bool is_martian() const noexcept;
  bool is_loopback() const noexcept;

  bool operator==(const IpAddress&) const = default;
  std::strong_ordering operator<=>(const IpAddress&) const = default;

 private:
  Family family_ = Family::V4;
  std::array<std::uint8_t, 16> b_{};  // v4 uses the first 4 bytes; the rest stay zero
};

struct Endpoint {
  IpAddress ip;
  std::uint16_t port = 0;

  // "1.2.3.4:6881" or "[::1]:6881"; nullopt otherwise (no name resolution here).
  static std::optional<Endpoint> parse(std::string_view text);
  std::string to_string() const;

  bool operator==(const Endpoint&) const = default;
  std::strong_ordering operator<=>(const Endpoint&) const = default;
};

struct IpAddressHash {
  std::size_t operator()(const IpAddress& a) const noexcept;
};
struct EndpointHash {
  std::size_t operator()(const Endpoint& e) const noexcept;
};

}  // namespace bitscrape
