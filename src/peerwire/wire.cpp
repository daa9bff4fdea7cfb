#include "peerwire/wire.hpp"

#include "bencode/encoder.hpp"

#include <algorithm>
#include <cstring>

namespace bitscrape::peerwire {
namespace {

void put_u32(std::string& out, std::uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                     static_cast<char>(v)};
  out.append(b, 4);
}

std::uint32_t get_u32(const char* p) noexcept {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (std::uint32_t{u[0]} << 24) | (std::uint32_t{u[1]} << 16) | (std::uint32_t{u[2]} << 8) |
         std::uint32_t{u[3]};
}

// The bencoded dict of a ut_metadata message; keys in canonical order.
void write_ut_dict(std::string& out, UtMsgType type, std::int64_t piece, const std::int64_t* total_size) {
  bencode::Writer w(out);
  w.begin_dict().entry("msg_type", static_cast<std::int64_t>(type)).entry("piece", piece);
  if (total_size != nullptr) w.entry("total_size", *total_size);
  w.end();
}

void append_ut(std::string& out, std::uint8_t ext_id, UtMsgType type, std::int64_t piece,
               const std::int64_t* total_size, std::string_view trailer) {
  // The dict is tiny (< 64 bytes); build it in place after a placeholder header.
  const std::size_t start = out.size();
  out.append(6, '\0');
  write_ut_dict(out, type, piece, total_size);
  out.append(trailer);
  const auto len = static_cast<std::uint32_t>(out.size() - start - 4);
  out[start + 0] = static_cast<char>(len >> 24);
  out[start + 1] = static_cast<char>(len >> 16);
  out[start + 2] = static_cast<char>(len >> 8);
  out[start + 3] = static_cast<char>(len);
  out[start + 4] = static_cast<char>(kExtended);
  out[start + 5] = static_cast<char>(ext_id);
}

}  // namespace

Reserved make_reserved(bool extensions, bool v2) noexcept {
  Reserved r{};
  if (extensions) r[kExtensionByte] |= kExtensionBit;
  if (v2) r[kV2Byte] |= kV2Bit;
  return r;
}

PeerId make_peer_id(std::string_view prefix, std::string_view random) noexcept {
  PeerId id;
  const std::size_t p = std::min(prefix.size(), PeerId::kSize);
  std::memcpy(id.bytes.data(), prefix.data(), p);
  const std::size_t r = std::min(random.size(), PeerId::kSize - p);
  if (r != 0) std::memcpy(id.bytes.data() + p, random.data(), r);
  return id;
}

void append_handshake(std::string& out, const Reserved& reserved, const InfoHash& info_hash,
                      const PeerId& peer_id) {
  out.append(kProtocol);
  out.append(reinterpret_cast<const char*>(reserved.data()), reserved.size());
  out.append(info_hash.view());
  out.append(peer_id.view());
}

bool parse_handshake(std::string_view bytes, Handshake& out) noexcept {
  if (bytes.size() != kHandshakeSize || bytes.substr(0, kProtocol.size()) != kProtocol) return false;
  std::memcpy(out.reserved.data(), bytes.data() + 20, 8);
  std::memcpy(out.info_hash.bytes.data(), bytes.data() + 28, 20);
  std::memcpy(out.peer_id.bytes.data(), bytes.data() + 48, 20);
  return true;
}

void append_message(std::string& out, std::uint8_t id, std::string_view payload) {
  put_u32(out, static_cast<std::uint32_t>(payload.size() + 1));
  out.push_back(static_cast<char>(id));
  out.append(payload);
}

void append_keepalive(std::string& out) {
  put_u32(out, 0);
}

void append_extended(std::string& out, std::uint8_t ext_id, std::string_view payload,
                     std::string_view trailer) {
  put_u32(out, static_cast<std::uint32_t>(payload.size() + trailer.size() + 2));
  out.push_back(static_cast<char>(kExtended));
  out.push_back(static_cast<char>(ext_id));
  out.append(payload);
  out.append(trailer);
}

void append_ut_request(std::string& out, std::uint8_t ext_id, std::int64_t piece) {
  append_ut(out, ext_id, UtMsgType::Request, piece, nullptr, {});
}

void append_ut_reject(std::string& out, std::uint8_t ext_id, std::int64_t piece) {
  append_ut(out, ext_id, UtMsgType::Reject, piece, nullptr, {});
}

void append_ut_data(std::string& out, std::uint8_t ext_id, std::int64_t piece, std::int64_t total_size,
                    std::string_view bytes) {
  append_ut(out, ext_id, UtMsgType::Data, piece, &total_size, bytes);
}

FrameReader::Event FrameReader::next(std::string_view& input) noexcept {
  for (;;) {
    switch (phase_) {
      case Phase::Failed:
        return Event::Error;

      case Phase::Handshake: {
        if (input.empty()) return Event::NeedMore;
        const std::size_t take = std::min<std::size_t>(kHandshakeSize - got_, input.size());
        for (std::size_t i = 0; i < take; ++i) {
          const std::size_t pos = got_ + i;
          // Check the protocol string as it streams in, so an HTTP server or other junk is
          // refused at its first byte instead of after 68.
          if (pos < kProtocol.size() && input[i] != kProtocol[pos]) {
            input.remove_prefix(i + 1);
            return fail(pos == 0 ? "handshake does not start with 19" : "wrong protocol string");
          }
          buf_[pos] = input[i];
        }
        got_ = static_cast<std::uint8_t>(got_ + take);
        input.remove_prefix(take);
        if (got_ < kHandshakeSize) return Event::NeedMore;
        got_ = 0;
        phase_ = Phase::Header;
        return Event::Handshake;
      }

      case Phase::Header: {
        // Header bytes needed so far: 4 for the length, then the id, then the ext id.
        std::size_t need = 4;     // the length prefix
        if (got_ >= 4) need = 5;  // then the id
        if (got_ >= 5 && length_ >= 2 && static_cast<std::uint8_t>(buf_[4]) == kExtended) need = 6;  // ext id
        if (got_ < need) {
          if (input.empty()) return Event::NeedMore;
          buf_[got_++] = input.front();
          input.remove_prefix(1);
          if (got_ == 4) {
            length_ = get_u32(buf_.data());
            if (length_ == 0) {
              ++keepalives_;
              got_ = 0;
            } else if (length_ > max_length_) {
              return fail("message length over sanity cap");
            }
          }
          continue;
        }
        // Header complete.
        id_ = static_cast<std::uint8_t>(buf_[4]);
        has_ext_ = need == 6;
        ext_ = has_ext_ ? static_cast<std::uint8_t>(buf_[5]) : 0;
        body_len_ = length_ - static_cast<std::uint32_t>(need - 4);
        remaining_ = body_len_;
        got_ = 0;
        chunk_ = {};
        phase_ = Phase::Body;
        return Event::Message;
      }

      case Phase::Body: {
        if (remaining_ == 0) {
          phase_ = Phase::Header;
          chunk_ = {};
          return Event::MessageEnd;
        }
        if (input.empty()) return Event::NeedMore;
        const std::size_t take = std::min<std::size_t>(remaining_, input.size());
        chunk_ = input.substr(0, take);
        input.remove_prefix(take);
        remaining_ -= static_cast<std::uint32_t>(take);
        return Event::Body;
      }
    }
  }
}

}  // namespace bitscrape::peerwire
