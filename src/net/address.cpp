#include "net/address.hpp"

#include <cstring>

namespace bitscrape::net {

asio::ip::address to_asio(const IpAddress& a) {
  if (a.is_v4()) {
    asio::ip::address_v4::bytes_type b;
    std::memcpy(b.data(), a.raw().data(), 4);
    return asio::ip::address_v4(b);
  }
  asio::ip::address_v6::bytes_type b;
  std::memcpy(b.data(), a.raw().data(), 16);
  return asio::ip::address_v6(b);
}

IpAddress from_asio(const asio::ip::address& a) {
  if (a.is_v4()) {
    const auto b = a.to_v4().to_bytes();
    return IpAddress::v4({b[0], b[1], b[2], b[3]});
  }
  const auto v6 = a.to_v6();
  if (v6.is_v4_mapped()) {
    const auto b = asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_bytes();
    return IpAddress::v4({b[0], b[1], b[2], b[3]});
  }
  std::array<std::uint8_t, 16> b{};
  const auto raw = v6.to_bytes();
  std::memcpy(b.data(), raw.data(), 16);
  return IpAddress::v6(b);
}

asio::ip::udp::endpoint to_asio(const Endpoint& e) { return {to_asio(e.ip), e.port}; }

}  // namespace bitscrape::net
