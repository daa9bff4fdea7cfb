// Conversions between the core's Endpoint and asio's endpoint types (the adapters' edge).
// IPv4-mapped IPv6 addresses come back as plain IPv4. Threading: pure functions.
#pragma once

#include "common/endpoint.hpp"

#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>

namespace bitscrape::net {

asio::ip::address to_asio(const IpAddress& a);
IpAddress from_asio(const asio::ip::address& a);

asio::ip::udp::endpoint to_asio(const Endpoint& e);
inline asio::ip::tcp::endpoint to_asio_tcp(const Endpoint& e) { return {to_asio(e.ip), e.port}; }
inline Endpoint from_asio(const asio::ip::udp::endpoint& e) { return {from_asio(e.address()), e.port()}; }
inline Endpoint from_asio(const asio::ip::tcp::endpoint& e) { return {from_asio(e.address()), e.port()}; }

}  // namespace bitscrape::net
