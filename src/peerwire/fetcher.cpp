#include "peerwire/fetcher.hpp"

#include "bencode/decoder.hpp"
#include "bencode/encoder.hpp"
#include "common/hex.hpp"
#include "common/utf8.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace bitscrape::peerwire {
namespace {

// now + d without overflowing past kNever (a Duration::max() timeout means "never").
TimePoint after(TimePoint now, Duration d) noexcept {
  if (d > kNever - now) return kNever;
  return now + d;
}

std::string ms(Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

// Heap bytes a std::string holds (0 while its contents fit in the object itself).
std::size_t heap_bytes(const std::string& s) noexcept {
  const auto* p = reinterpret_cast<const char*>(s.data());
  const auto* self = reinterpret_cast<const char*>(&s);
  if (p >= self && p < self + sizeof(std::string)) return 0;  // small-string buffer
  return s.capacity() + 1;
}

// Decoding limits for the two dicts we parse. The ext handshake is small in practice (a few
// hundred bytes, ~50 values); the token cap bounds the decoder's scratch memory regardless.
bencode::Limits ext_handshake_limits(std::uint32_t max_size) {
  bencode::Limits l;
  l.max_depth = 16;
  l.max_tokens = 2048;
  l.max_size = max_size;
  return l;
}
bencode::Limits ut_header_limits() {
  bencode::Limits l;
  l.max_depth = 8;
  l.max_tokens = 128;
  l.max_size = MetadataFetcher::kMaxUtHeader;
  l.allow_trailing = true;  // the raw piece follows the dict
  return l;
}

}  // namespace

std::string_view to_string(FailReason r) noexcept {
  switch (r) {
    case FailReason::ConnectFailed:
      return "connect-failed";
    case FailReason::HandshakeTimeout:
      return "handshake-timeout";
    case FailReason::BadHandshake:
      return "bad-handshake";
    case FailReason::InfoHashMismatch:
      return "infohash-mismatch";
    case FailReason::NoExtensionProtocol:
      return "no-extension-protocol";
    case FailReason::NoUtMetadata:
      return "no-ut-metadata";
    case FailReason::NoMetadataSize:
      return "no-metadata-size";
    case FailReason::MetadataTooLarge:
      return "metadata-too-large";
    case FailReason::Rejected:
      return "rejected";
    case FailReason::PieceTimeout:
      return "piece-timeout";
    case FailReason::TotalTimeout:
      return "total-timeout";
    case FailReason::ProtocolViolation:
      return "protocol-violation";
    case FailReason::HashMismatch:
      return "hash-mismatch";
    case FailReason::ByteLimitExceeded:
      return "byte-limit-exceeded";
    case FailReason::PeerClosed:
      return "peer-closed";
  }
  return "unknown";
}

MetadataFetcher::MetadataFetcher(const FetcherConfig& config, const InfoHash& info_hash,
                                 const PeerId& our_peer_id)
    : config_(config), info_hash_(info_hash), peer_id_(our_peer_id), reader_(config.max_wire_message) {
  config_.max_outstanding = std::clamp<std::uint8_t>(config_.max_outstanding, 1, kMaxPipeline);
}

void MetadataFetcher::start(TimePoint now) {
  if (state_ != State::Idle) return;
  now_ = now;
  // We do not set the v2 bit: it offers BEP-52 hash-tree transfers, which a fetcher cannot serve.
  append_handshake(out_, make_reserved(/*extensions=*/true, /*v2=*/false), info_hash_, peer_id_);
  handshake_deadline_ = after(now, config_.handshake_timeout);
  total_deadline_ = after(now, config_.total_timeout);
  state_ = State::AwaitHandshake;
}

void MetadataFetcher::on_connect_failed(std::string_view detail) {
  if (done()) return;
  fail(FailReason::ConnectFailed, detail.empty() ? std::string("connect failed") : std::string(detail));
}

void MetadataFetcher::on_peer_closed() {
  if (done()) return;
  std::string d = "peer closed the connection";
  if (state_ == State::Fetching) {
    d += " after " + std::to_string(received_) + " of " + std::to_string(num_pieces_) + " pieces";
  } else if (state_ == State::AwaitExtHandshake) {
    d += " before its extension handshake";
  } else {
    d += " before its handshake";
  }
  fail(FailReason::PeerClosed, std::move(d));
}

TimePoint MetadataFetcher::next_deadline() const noexcept {
  switch (state_) {
    case State::AwaitHandshake:
    case State::AwaitExtHandshake:
      return std::min(handshake_deadline_, total_deadline_);
    case State::Fetching:
      return std::min(piece_deadline_, total_deadline_);
    default:
      return kNever;
  }
}

std::uint64_t MetadataFetcher::byte_limit() const noexcept {
  return (have_ext_handshake_ ? std::uint64_t{metadata_size_} : 0) + config_.byte_slack;
}

std::size_t MetadataFetcher::receive_buffer_capacity() const noexcept {
  return heap_bytes(recv_);
}

std::size_t MetadataFetcher::memory_footprint() const noexcept {
  return sizeof(*this) + heap_bytes(recv_) + heap_bytes(out_) + heap_bytes(client_) + heap_bytes(detail_);
}

void MetadataFetcher::tick(TimePoint now) {
  if (state_ == State::Idle || done()) return;
  now_ = now;
  expire(now);
}

void MetadataFetcher::expire(TimePoint now) {
  // The earliest deadline that has passed decides the reason; on a tie the phase deadline wins
  // because it says more about what went wrong.
  TimePoint best = kNever;
  FailReason reason = FailReason::TotalTimeout;
  std::string detail;
  auto consider = [&](TimePoint t, FailReason r, const char* what, Duration d) {
    if (t != kNever && t <= now && t < best) {
      best = t;
      reason = r;
      detail = std::string(what) + ms(d);
    }
  };
  if (state_ == State::AwaitHandshake) {
    consider(handshake_deadline_, FailReason::HandshakeTimeout, "no handshake from the peer within ",
             config_.handshake_timeout);
  } else if (state_ == State::AwaitExtHandshake) {
    consider(handshake_deadline_, FailReason::HandshakeTimeout,
             "no extension handshake from the peer within ", config_.handshake_timeout);
  } else if (state_ == State::Fetching) {
    consider(piece_deadline_, FailReason::PieceTimeout, "no metadata piece completed within ",
             config_.piece_timeout);
  }
  consider(total_deadline_, FailReason::TotalTimeout, "metadata not fetched within ", config_.total_timeout);
  if (best != kNever) fail(reason, std::move(detail));
}

void MetadataFetcher::fail(FailReason r, std::string detail, bool liar) {
  state_ = State::Failed;
  reason_ = r;
  detail_ = std::move(detail);
  liar_ = liar;
  rx_ = Rx::Ignore;
  // A finished connection keeps nothing but its verdict.
  std::string().swap(recv_);
  metadata_.reset();
  std::string().swap(out_);
}

void MetadataFetcher::on_bytes(std::string_view data, TimePoint now) {
  if (state_ == State::Idle) start(now);
  if (done()) return;
  now_ = now;
  expire(now);
  while (!data.empty() && !done()) {
    // The limit can grow while we process (the ext handshake reveals metadata_size), so take
    // only what the current limit allows and look again.
    const std::uint64_t limit = byte_limit();
    if (bytes_read_ >= limit) {
      fail(FailReason::ByteLimitExceeded, "peer sent more than " + std::to_string(limit) + " bytes");
      return;
    }
    const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(limit - bytes_read_, data.size()));
    bytes_read_ += take;
    process(data.substr(0, take));
    data.remove_prefix(take);
  }
}

void MetadataFetcher::process(std::string_view in) {
  while (!done()) {
    switch (reader_.next(in)) {
      case FrameReader::Event::NeedMore:
        return;
      case FrameReader::Event::Handshake:
        on_handshake(reader_.handshake());
        break;
      case FrameReader::Event::Message:
        on_message_start();
        break;
      case FrameReader::Event::Body:
        on_body(reader_.chunk());
        break;
      case FrameReader::Event::MessageEnd:
        on_message_end();
        break;
      case FrameReader::Event::Error:
        if (state_ == State::AwaitHandshake) {
          fail(FailReason::BadHandshake, reader_.error());
        } else {
          fail(FailReason::ProtocolViolation, reader_.error());
        }
        return;
    }
  }
}

void MetadataFetcher::on_handshake(std::string_view hs) {
  Handshake h;
  if (!parse_handshake(hs, h)) {  // the reader checked the protocol string; belt and braces
    fail(FailReason::BadHandshake, "malformed handshake");
    return;
  }
  if (h.info_hash != info_hash_) {
    fail(FailReason::InfoHashMismatch, "peer's handshake names " + h.info_hash.hex());
    return;
  }
  if (!h.supports_extensions()) {
    fail(FailReason::NoExtensionProtocol, "peer does not set the BEP-10 extension bit");
    return;
  }
  peer_v2_ = h.supports_v2();

  // Our extension handshake. It may cross the peer's on the wire; BEP-10 allows any order.
  std::string payload;
  bencode::Writer w(payload);
  w.begin_dict();
  w.key("m").begin_dict().entry("ut_metadata", std::int64_t{kUtMetadataId}).end();
  // reqq: how many requests we take from the peer. We only ever answer with reject.
  w.entry("reqq", std::int64_t{16});
  w.entry("v", config_.client_version);
  w.end();
  append_extended(out_, kExtHandshakeId, payload);
  state_ = State::AwaitExtHandshake;
}

void MetadataFetcher::on_message_start() {
  rx_ = Rx::Ignore;
  if (reader_.id() != kExtended) {
    // choke/unchoke/have/bitfield/...: irrelevant to metadata; skipped as they stream.
    ++stats_.messages_ignored;
    return;
  }
  if (!reader_.has_ext()) {
    fail(FailReason::ProtocolViolation, "extended message without an extended id");
    return;
  }
  const std::uint32_t len = reader_.body_length();
  const std::uint8_t ext = reader_.ext_id();
  if (ext == kExtHandshakeId || ext == kUtMetadataId) {
    if (len > config_.max_message_size) {
      fail(FailReason::ProtocolViolation,
           std::string(ext == kExtHandshakeId ? "extension handshake" : "ut_metadata message") + " of " +
               std::to_string(len) + " bytes exceeds the " + std::to_string(config_.max_message_size) +
               "-byte cap");
      return;
    }
    recv_.clear();
    if (ext == kExtHandshakeId) {
      rx_ = Rx::ExtHandshake;
      recv_.reserve(len);  // ≤ max_message_size, checked above
    } else {
      rx_ = Rx::UtHeader;
      ut_header_done_ = false;
    }
    return;
  }
  ++stats_.messages_ignored;  // ut_pex, lt_donthave, ...: other extensions
}

void MetadataFetcher::on_body(std::string_view chunk) {
  switch (rx_) {
    case Rx::Ignore:
      stats_.bytes_ignored += chunk.size();
      return;
    case Rx::ExtHandshake:
      recv_.append(chunk);
      return;
    case Rx::UtPayload:
      write_payload(chunk);
      return;
    case Rx::UtHeader:
      break;
  }
  // Accumulate the dict header (bounded by kMaxUtHeader) until it decodes; what follows it is
  // piece payload that goes straight to the assembly buffer.
  const std::size_t cap = std::min<std::size_t>(kMaxUtHeader, reader_.body_length());
  const std::size_t take = std::min(cap - recv_.size(), chunk.size());
  const std::string_view part = chunk.substr(0, take);
  const std::string_view rest = chunk.substr(take);
  recv_.append(part);
  const bool full = recv_.size() == cap;
  // The dict can only have become complete if this chunk holds its closing 'e'; otherwise a
  // decode would fail again (this keeps byte-at-a-time delivery linear).
  if (!full && part.find('e') == std::string_view::npos) return;
  bencode::Document doc;
  const auto r = bencode::decode(recv_, doc, ut_header_limits());
  if (!r) {
    // A prefix of a valid header fails too, so only give up when no more header bytes can come.
    if (full) {
      fail(FailReason::ProtocolViolation,
           "ut_metadata message is not a bencoded dict: " + std::string(r.error().reason()) + " at byte " +
               std::to_string(r.error().offset));
    }
    return;
  }
  const auto root = doc.root();
  if (!root.is_dict()) {
    fail(FailReason::ProtocolViolation, "ut_metadata message is not a dict");
    return;
  }
  const auto msg_type = root.get_int("msg_type");
  if (!msg_type) {
    fail(FailReason::ProtocolViolation, "ut_metadata message without an integer msg_type");
    return;
  }
  const auto piece = root.get_int("piece");
  const std::size_t header_len = doc.consumed();
  ut_header_done_ = true;
  rx_ = Rx::Ignore;  // unless it is data, the rest of the body (if any) is ignored

  switch (*msg_type) {
    case static_cast<std::int64_t>(UtMsgType::Data): {
      const auto total_size = root.get_int("total_size");
      if (!piece) {
        fail(FailReason::ProtocolViolation, "ut_metadata data without an integer piece", /*liar=*/true);
        return;
      }
      on_data_header(*piece, total_size, reader_.body_length() - header_len);
      if (done()) return;
      rx_ = Rx::UtPayload;
      // Copy before recv_ is reused: the payload that came with the header, then the rest of
      // this chunk.
      write_payload(std::string_view(recv_).substr(header_len));
      if (!done()) write_payload(rest);
      release_receive_buffer();  // the rest of the piece streams; hold nothing meanwhile
      return;
    }
    case static_cast<std::int64_t>(UtMsgType::Reject): {
      if (!piece) {
        fail(FailReason::ProtocolViolation, "ut_metadata reject without an integer piece");
        return;
      }
      if (state_ == State::Fetching && *piece >= 0 && *piece < num_pieces_ &&
          is_outstanding(static_cast<std::uint32_t>(*piece))) {
        fail(FailReason::Rejected, "peer rejected metadata piece " + std::to_string(*piece));
      } else {
        fail(FailReason::ProtocolViolation,
             "peer rejected piece " + std::to_string(*piece) + ", which we did not request");
      }
      return;
    }
    case static_cast<std::int64_t>(UtMsgType::Request): {
      // We have nothing to serve; BEP-9 says to answer with reject. Only possible once we know
      // the peer's ut_metadata id. Output stays bounded: each reject answers ≥ 30 bytes read.
      if (peer_ut_ != 0 && piece && *piece >= 0 && *piece <= std::numeric_limits<std::int32_t>::max()) {
        append_ut_reject(out_, peer_ut_, *piece);
        ++stats_.rejects_sent;
      }
      return;
    }
    default:
      // BEP-9: unknown msg_type values are ignored.
      ++stats_.messages_ignored;
      return;
  }
}

void MetadataFetcher::on_data_header(std::int64_t piece, std::optional<std::int64_t> total_size,
                                     std::size_t payload_len) {
  if (state_ != State::Fetching || piece < 0 || piece >= num_pieces_ ||
      !is_outstanding(static_cast<std::uint32_t>(piece))) {
    fail(FailReason::ProtocolViolation,
         "peer sent metadata piece " + std::to_string(piece) + ", which we did not request", /*liar=*/true);
    return;
  }
  const auto p = static_cast<std::uint32_t>(piece);
  if (total_size && *total_size != metadata_size_) {
    fail(FailReason::ProtocolViolation,
         "total_size " + std::to_string(*total_size) + " differs from metadata_size " +
             std::to_string(metadata_size_),
         /*liar=*/true);
    return;
  }
  const std::uint32_t expected = metadata_piece_length(metadata_size_, p);
  if (payload_len != expected) {
    const bool beyond = p + 1 == num_pieces_ && payload_len > expected;
    fail(FailReason::ProtocolViolation,
         (beyond ? "data beyond total_size: last piece " : "wrong piece size: piece ") + std::to_string(p) +
             " has " + std::to_string(payload_len) + " bytes, expected " + std::to_string(expected),
         /*liar=*/true);
    return;
  }
  remove_outstanding(p);
  current_piece_ = p;
  write_offset_ = p * kMetadataPieceSize;
  payload_left_ = expected;
}

void MetadataFetcher::write_payload(std::string_view bytes) {
  if (bytes.empty()) return;
  if (bytes.size() > payload_left_) {  // cannot happen: the body length was checked
    fail(FailReason::ProtocolViolation, "internal: payload overrun");
    return;
  }
  std::memcpy(metadata_.get() + write_offset_, bytes.data(), bytes.size());
  write_offset_ += static_cast<std::uint32_t>(bytes.size());
  payload_left_ -= static_cast<std::uint32_t>(bytes.size());
}

void MetadataFetcher::on_message_end() {
  switch (rx_) {
    case Rx::Ignore:
      break;
    case Rx::ExtHandshake:
      on_ext_handshake();
      break;
    case Rx::UtHeader:
      // The body ended before its dict decoded (the last attempt in on_body saw it whole).
      if (!ut_header_done_) fail(FailReason::ProtocolViolation, "malformed ut_metadata message");
      break;
    case Rx::UtPayload:
      on_piece_complete();
      break;
  }
  if (done()) return;
  rx_ = Rx::Ignore;
  release_receive_buffer();
}

void MetadataFetcher::release_receive_buffer() {
  recv_.clear();
  if (recv_.capacity() > kKeepReceiveCapacity) std::string().swap(recv_);
}

void MetadataFetcher::on_ext_handshake() {
  bencode::Document doc;
  const auto r = bencode::decode(recv_, doc, ext_handshake_limits(config_.max_message_size));
  if (!r) {
    fail(FailReason::ProtocolViolation,
         "extension handshake is not bencode: " + std::string(r.error().reason()) + " at byte " +
             std::to_string(r.error().offset));
    return;
  }
  const auto root = doc.root();
  if (!root.is_dict()) {
    fail(FailReason::ProtocolViolation, "extension handshake is not a dict");
    return;
  }
  const bool first = !have_ext_handshake_;

  // m.ut_metadata. BEP-10: a later handshake lists only the extensions that change, so an
  // absent entry then means "unchanged"; 0 means "disabled".
  const auto m = root["m"];
  const auto ut = m.is_dict() ? m["ut_metadata"] : bencode::Value();
  if (!ut) {
    if (first) {
      fail(FailReason::NoUtMetadata, "peer does not offer ut_metadata");
      return;
    }
  } else {
    const auto id = ut.as_int();
    if (!id || *id < 0 || *id > 255) {
      fail(FailReason::ProtocolViolation, "ut_metadata id is not an integer in 0..255");
      return;
    }
    if (*id == 0) {
      fail(FailReason::NoUtMetadata, "peer disabled ut_metadata");
      return;
    }
    peer_ut_ = static_cast<std::uint8_t>(*id);
  }

  if (const auto v = root.get_string("v")) client_ = repair_utf8(v->substr(0, kMaxClientLength));
  if (const auto y = root.get_string("yourip")) {
    if (auto ip = IpAddress::from_bytes(*y)) yourip_ = *ip;
  }

  const auto ms = root["metadata_size"];
  if (!first) {
    if (ms && ms.as_int() != std::optional<std::int64_t>(metadata_size_)) {
      fail(FailReason::ProtocolViolation,
           "metadata_size changed from " + std::to_string(metadata_size_) + " in a later extension handshake",
           /*liar=*/true);
    }
    return;
  }
  if (!ms) {
    fail(FailReason::NoMetadataSize, "peer's extension handshake has no metadata_size");
    return;
  }
  const auto size = ms.as_int();
  if (!size) {
    fail(FailReason::ProtocolViolation, "metadata_size is not an integer");
    return;
  }
  if (*size <= 0) {
    fail(FailReason::ProtocolViolation, "metadata_size " + std::to_string(*size) + " is not positive");
    return;
  }
  if (*size > config_.max_metadata_size) {
    fail(FailReason::MetadataTooLarge, "metadata_size " + std::to_string(*size) + " exceeds the cap of " +
                                           std::to_string(config_.max_metadata_size));
    return;
  }

  // The peer's claim is within limits: now we may allocate by it.
  have_ext_handshake_ = true;
  metadata_size_ = static_cast<std::uint32_t>(*size);
  num_pieces_ = metadata_piece_count(metadata_size_);
  metadata_ = std::make_unique_for_overwrite<char[]>(metadata_size_);
  window_ = config_.max_outstanding;
  // reqq: how many requests the peer queues before dropping; never exceed it.
  if (const auto q = root.get_int("reqq"); q && *q >= 1 && *q < window_)
    window_ = static_cast<std::uint8_t>(*q);
  state_ = State::Fetching;
  handshake_deadline_ = kNever;
  piece_deadline_ = after(now_, config_.piece_timeout);
  send_requests();
}

void MetadataFetcher::send_requests() {
  while (n_outstanding_ < window_ && next_request_ < num_pieces_) {
    append_ut_request(out_, peer_ut_, next_request_);
    outstanding_[n_outstanding_++] = next_request_++;
    ++stats_.requests_sent;
  }
}

bool MetadataFetcher::is_outstanding(std::uint32_t piece) const noexcept {
  return std::find(outstanding_.begin(), outstanding_.begin() + n_outstanding_, piece) !=
         outstanding_.begin() + n_outstanding_;
}

void MetadataFetcher::remove_outstanding(std::uint32_t piece) noexcept {
  auto* end = outstanding_.begin() + n_outstanding_;
  auto* it = std::find(outstanding_.begin(), end, piece);
  if (it == end) return;
  *it = *(end - 1);
  --n_outstanding_;
}

void MetadataFetcher::on_piece_complete() {
  ++received_;
  ++stats_.pieces_received;
  piece_deadline_ = after(now_, config_.piece_timeout);
  if (received_ < num_pieces_) {
    send_requests();
    return;
  }
  // Everything is here: the hash over the exact bytes received decides.
  key_ = metainfo::match_key(metadata(), info_hash_);
  if (key_ == metainfo::KeyMatch::None) {
    fail(FailReason::HashMismatch,
         "metadata of " + std::to_string(metadata_size_) + " bytes matches neither the v1 nor the v2 key",
         /*liar=*/true);
    return;
  }
  state_ = State::Succeeded;
  rx_ = Rx::Ignore;
  std::string().swap(recv_);
}

FetchResult MetadataFetcher::take_result() {
  if (state_ == State::Succeeded) {
    FetchSuccess s;
    // One copy at the end buys the uncommitted assembly buffer above.
    s.info.assign(metadata());
    metadata_.reset();
    s.key = key_;
    s.client = client_;
    s.yourip = yourip_;
    s.peer_supports_v2 = peer_v2_;
    return s;
  }
  FetchFailure f;
  if (state_ == State::Failed) {
    f.reason = reason_;
    f.detail = detail_;
    f.liar = liar_;
  } else {
    f.reason = FailReason::ConnectFailed;
    f.detail = "take_result() called before the fetch finished";
  }
  return f;
}

}  // namespace bitscrape::peerwire
