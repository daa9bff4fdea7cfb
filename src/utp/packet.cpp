#include "utp/packet.hpp"

namespace bitscrape::utp {

namespace {
std::uint16_t get16(const unsigned char* p) noexcept { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }
std::uint32_t get32(const unsigned char* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}
void put16(std::string& o, std::uint16_t v) {
  o.push_back(static_cast<char>(v >> 8));
  o.push_back(static_cast<char>(v));
}
void put32(std::string& o, std::uint32_t v) {
  put16(o, static_cast<std::uint16_t>(v >> 16));
  put16(o, static_cast<std::uint16_t>(v));
}
}  // namespace

std::string_view to_string(Type t) noexcept {
  switch (t) {
    case Type::Data: return "ST_DATA";
    case Type::Fin: return "ST_FIN";
    case Type::State: return "ST_STATE";
    case Type::Reset: return "ST_RESET";
    case Type::Syn: return "ST_SYN";
  }
  return "?";
}

std::string_view to_string(DecodeError e) noexcept {
  switch (e) {
    case DecodeError::TooShort: return "shorter than a uTP header";
    case DecodeError::BadVersion: return "not uTP version 1";
    case DecodeError::BadType: return "unknown packet type";
    case DecodeError::BadExtension: return "extension runs past the end";
    case DecodeError::TooManyExtensions: return "too many extensions";
    case DecodeError::BadSack: return "selective ack length not a multiple of 4";
  }
  return "?";
}

bool looks_like_utp(std::string_view d) noexcept {
  if (d.size() < kHeaderSize) return false;
  const auto b = static_cast<unsigned char>(d[0]);
  return (b & 0x0F) == kVersion && (b >> 4) <= 4;
}

Result<Packet, DecodeError> decode(std::string_view d) noexcept {
  if (d.size() < kHeaderSize) return Unexpected{DecodeError::TooShort};
  const auto* p = reinterpret_cast<const unsigned char*>(d.data());
  if ((p[0] & 0x0F) != kVersion) return Unexpected{DecodeError::BadVersion};
  if ((p[0] >> 4) > 4) return Unexpected{DecodeError::BadType};
  Packet pk;
  pk.header.type = static_cast<Type>(p[0] >> 4);
  pk.header.connection_id = get16(p + 2);
  pk.header.timestamp_us = get32(p + 4);
  pk.header.timestamp_diff_us = get32(p + 8);
  pk.header.wnd_size = get32(p + 12);
  pk.header.seq_nr = get16(p + 16);
  pk.header.ack_nr = get16(p + 18);
  std::size_t at = kHeaderSize;
  unsigned ext = p[1];
  for (std::size_t n = 0; ext != 0; ++n) {
    if (n == kMaxExtensions) return Unexpected{DecodeError::TooManyExtensions};
    if (d.size() - at < 2) return Unexpected{DecodeError::BadExtension};
    const unsigned next = p[at];
    const std::size_t len = p[at + 1];
    at += 2;
    if (d.size() - at < len) return Unexpected{DecodeError::BadExtension};
    if (ext == kExtSelectiveAck) {
      if (len == 0 || len % 4 != 0 || len > kMaxSackBytes) return Unexpected{DecodeError::BadSack};
      pk.sack = d.substr(at, len);
    }
    at += len;
    ext = next;
  }
  pk.payload = d.substr(at);
  return pk;
}

void encode(std::string& out, const Header& h, std::string_view sack, std::string_view payload) {
  out.reserve(out.size() + kHeaderSize + (sack.empty() ? 0 : 2 + sack.size()) + payload.size());
  out.push_back(static_cast<char>((static_cast<unsigned>(h.type) << 4) | kVersion));
  out.push_back(static_cast<char>(sack.empty() ? 0 : kExtSelectiveAck));
  put16(out, h.connection_id);
  put32(out, h.timestamp_us);
  put32(out, h.timestamp_diff_us);
  put32(out, h.wnd_size);
  put16(out, h.seq_nr);
  put16(out, h.ack_nr);
  if (!sack.empty()) {
    out.push_back(0);  // no further extension
    out.push_back(static_cast<char>(sack.size()));
    out.append(sack);
  }
  out.append(payload);
}

}  // namespace bitscrape::utp
