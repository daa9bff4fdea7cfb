#include "krpc/compact.hpp"

#include <array>
#include <cstring>

namespace bitscrape::krpc {
namespace {

std::uint16_t read_port(const char* p) noexcept {
  return static_cast<std::uint16_t>((static_cast<unsigned char>(p[0]) << 8) |
                                    static_cast<unsigned char>(p[1]));
}

// `raw` is 6 or 18 bytes (checked by the callers).
Endpoint read_peer(const char* p, std::size_t n) noexcept {
  Endpoint ep;
  if (n == kCompactPeerV4Size) {
    std::array<std::uint8_t, 4> a{};
    std::memcpy(a.data(), p, 4);
    ep.ip = IpAddress::v4(a);
    ep.port = read_port(p + 4);
  } else {
    std::array<std::uint8_t, 16> a{};
    std::memcpy(a.data(), p, 16);
    ep.ip = IpAddress::v6(a);
    ep.port = read_port(p + 16);
  }
  return ep;
}

}  // namespace

std::optional<Endpoint> decode_compact_peer(std::string_view raw) noexcept {
  if (raw.size() != kCompactPeerV4Size && raw.size() != kCompactPeerV6Size) return std::nullopt;
  return read_peer(raw.data(), raw.size());
}

std::optional<CompactNode> decode_compact_node(std::string_view raw) noexcept {
  if (raw.size() != kCompactNodeV4Size && raw.size() != kCompactNodeV6Size) return std::nullopt;
  CompactNode n;
  std::memcpy(n.id.bytes.data(), raw.data(), NodeId::kSize);
  n.endpoint = read_peer(raw.data() + NodeId::kSize, raw.size() - NodeId::kSize);
  return n;
}

std::size_t write_compact_peer(const Endpoint& ep, char* out) noexcept {
  const std::string_view ip = ep.ip.bytes();
  std::memcpy(out, ip.data(), ip.size());
  out[ip.size()] = static_cast<char>(ep.port >> 8);
  out[ip.size() + 1] = static_cast<char>(ep.port & 0xFF);
  return ip.size() + 2;
}

void append_compact_peer(std::string& out, const Endpoint& ep) {
  char buf[kMaxCompactPeerSize];
  out.append(buf, write_compact_peer(ep, buf));
}

void append_compact_node(std::string& out, const CompactNode& node) {
  out.append(node.id.view());
  append_compact_peer(out, node.endpoint);
}

std::optional<NodeList> NodeList::v4(std::string_view blob) noexcept {
  if (blob.size() % kCompactNodeV4Size != 0) return std::nullopt;
  return NodeList(blob, IpAddress::Family::V4);
}

std::optional<NodeList> NodeList::v6(std::string_view blob) noexcept {
  if (blob.size() % kCompactNodeV6Size != 0) return std::nullopt;
  return NodeList(blob, IpAddress::Family::V6);
}

CompactNode NodeList::operator[](std::size_t i) const noexcept {
  const std::size_t s = stride();
  const char* p = bytes_.data() + i * s;
  CompactNode n;
  std::memcpy(n.id.bytes.data(), p, NodeId::kSize);
  n.endpoint = read_peer(p + NodeId::kSize, s - NodeId::kSize);
  return n;
}

std::optional<SampleList> SampleList::from(std::string_view blob) noexcept {
  if (blob.size() % InfoHash::kSize != 0) return std::nullopt;
  return SampleList(blob);
}

InfoHash SampleList::operator[](std::size_t i) const noexcept {
  InfoHash h;
  std::memcpy(h.bytes.data(), bytes_.data() + i * InfoHash::kSize, InfoHash::kSize);
  return h;
}

}  // namespace bitscrape::krpc
