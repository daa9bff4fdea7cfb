#include "peerwire/seeder.hpp"

#include "bencode/decoder.hpp"
#include "bencode/encoder.hpp"
#include "metainfo/verify.hpp"

#include <algorithm>

namespace bitscrape::peerwire {
namespace {

using namespace std::string_view_literals;

TimePoint after(TimePoint now, Duration d) noexcept {
  if (d > kNever - now) return kNever;
  return now + d;
}

const SeederBehavior kHonest{};

}  // namespace

std::string_view to_string(SeederEnd e) noexcept {
  switch (e) {
    case SeederEnd::UnknownInfoHash:
      return "unknown-infohash";
    case SeederEnd::BadHandshake:
      return "bad-handshake";
    case SeederEnd::ProtocolViolation:
      return "protocol-violation";
    case SeederEnd::IdleTimeout:
      return "idle-timeout";
    case SeederEnd::LifetimeExceeded:
      return "lifetime-exceeded";
    case SeederEnd::ByteLimitExceeded:
      return "byte-limit-exceeded";
    case SeederEnd::OutputBacklog:
      return "output-backlog";
    case SeederEnd::PeerClosed:
      return "peer-closed";
  }
  return "unknown";
}

SingleMetadata::SingleMetadata(std::string info) : info_(std::move(info)) {
  const auto h = metainfo::hash_info(info_);
  v1_ = h.v1;
  v2_ = h.v2_truncated();
}

std::optional<std::string_view> SingleMetadata::find(const InfoHash& key) const {
  if (key == v1_ || key == v2_) return std::string_view(info_);
  return std::nullopt;
}

Seeder::Seeder(const SeederConfig& config, const MetadataSource& source, std::optional<IpAddress> peer)
    : config_(config), source_(&source), peer_(peer), reader_(config.max_wire_message) {}

const SeederBehavior& Seeder::behavior() const noexcept {
  return config_.behavior != nullptr ? *config_.behavior : kHonest;
}

void Seeder::start(TimePoint now) {
  if (started_) return;
  started_ = true;
  now_ = now;
  idle_deadline_ = after(now, config_.idle_timeout);
  life_deadline_ = after(now, config_.max_lifetime);
  drip_at_ = now;
}

TimePoint Seeder::next_deadline() const noexcept {
  if (!started_ || done_) return kNever;
  TimePoint t = std::min(idle_deadline_, life_deadline_);
  if (!held_.empty()) t = std::min(t, drip_at_);
  return t;
}

void Seeder::finish(SeederEnd e, std::string detail) {
  done_ = true;
  end_ = e;
  detail_ = std::move(detail);
  rx_ = Rx::Ignore;
  std::string().swap(recv_);
  std::string().swap(out_);
  std::string().swap(held_);
}

void Seeder::on_peer_closed() {
  if (!done_) finish(SeederEnd::PeerClosed, "peer closed the connection");
}

void Seeder::tick(TimePoint now) {
  if (!started_ || done_) return;
  now_ = now;
  if (now >= life_deadline_) {
    finish(SeederEnd::LifetimeExceeded, "connection older than its maximum lifetime");
    return;
  }
  if (now >= idle_deadline_) {
    finish(SeederEnd::IdleTimeout, "peer sent nothing for too long");
    return;
  }
  release_drip(now);
}

void Seeder::release_drip(TimePoint now) {
  if (held_.empty() || now < drip_at_) return;
  const std::size_t n = std::min<std::size_t>(behavior().drip_bytes, held_.size());
  out_.append(held_, 0, n);
  held_.erase(0, n);
  drip_at_ = after(now, behavior().drip_interval);
}

void Seeder::on_bytes(std::string_view data, TimePoint now) {
  if (!started_) start(now);
  tick(now);
  if (done_) return;
  idle_deadline_ = after(now, config_.idle_timeout);
  bytes_read_ += data.size();
  if (bytes_read_ > config_.max_bytes_read) {
    finish(SeederEnd::ByteLimitExceeded,
           "peer sent more than " + std::to_string(config_.max_bytes_read) + " bytes");
    return;
  }
  process(data);
  if (done_) return;
  release_drip(now);
  if (out_.size() + held_.size() > config_.max_output_backlog) {
    finish(SeederEnd::OutputBacklog, "more than " + std::to_string(config_.max_output_backlog) +
                                         " bytes of output waiting; the peer is not reading");
  }
}

std::string& Seeder::sink() noexcept {
  return behavior().drip_bytes > 0 ? held_ : out_;
}

void Seeder::process(std::string_view in) {
  while (!done_) {
    switch (reader_.next(in)) {
      case FrameReader::Event::NeedMore:
        return;
      case FrameReader::Event::Handshake:
        on_handshake();
        break;
      case FrameReader::Event::Message:
        on_message_start();
        break;
      case FrameReader::Event::Body:
        if (rx_ == Rx::Ignore) break;
        recv_.append(reader_.chunk());  // ≤ max_message_size, checked in on_message_start
        break;
      case FrameReader::Event::MessageEnd:
        on_message_end();
        break;
      case FrameReader::Event::Error:
        finish(serving_ ? SeederEnd::ProtocolViolation : SeederEnd::BadHandshake, reader_.error());
        return;
    }
  }
}

void Seeder::on_handshake() {
  Handshake h;
  if (!parse_handshake(reader_.handshake(), h)) {
    finish(SeederEnd::BadHandshake, "malformed handshake");
    return;
  }
  const auto found = source_->find(h.info_hash);
  if (!found) {
    finish(SeederEnd::UnknownInfoHash, "no metadata for " + h.info_hash.hex());
    return;
  }
  info_ = *found;
  key_ = h.info_hash;
  serving_ = true;
  const auto& b = behavior();
  if (b.silent) return;

  std::string hs;
  InfoHash answer_key = key_;
  if (b.wrong_info_hash) answer_key.bytes[0] ^= 0xff;
  append_handshake(hs, make_reserved(b.extension_bit, b.v2_bit), answer_key, config_.peer_id);
  if (b.bad_protocol) hs[19] = 'X';  // "\x13BitTorrent protocoX"
  emit(hs);

  if (b.chatter) {
    std::string noise;
    append_keepalive(noise);
    append_message(noise, kChoke);
    append_message(noise, kUnchoke);
    append_message(noise, kInterested);
    append_message(noise, kNotInterested);
    append_message(noise, kHave, std::string_view("\0\0\0\x07", 4));
    append_message(noise, kRequest, std::string_view("\0\0\0\x01\0\0\0\0\0\0\x40\0", 12));
    append_message(noise, kPiece, std::string_view("\0\0\0\x01\0\0\0\0data", 12));
    append_message(noise, kCancel, std::string_view("\0\0\0\x01\0\0\0\0\0\0\x40\0", 12));
    append_message(noise, kPort, std::string_view("\x1a\xe1", 2));
    append_message(noise, 99, "an unknown message id");
    append_extended(noise, 1,
                    "d5:added6:\x7f\0\0\x01\x1a\xe1"
                    "7:added.f1:\0e"sv);  // ut_pex-like
    append_extended(noise, 77, "junk in an extension we never advertised");
    emit(noise);
  }
  if (b.bitfield_bytes > 0) {
    std::string bf;
    append_message(bf, kBitfield, std::string(b.bitfield_bytes, '\xff'));
    emit(bf);
  }
  if (!b.wait_for_ext_handshake) send_ext_handshake();
}

void Seeder::send_ext_handshake() {
  const auto& b = behavior();
  if (ext_sent_ || b.omit_ext_handshake) return;
  ext_sent_ = true;
  std::string payload;
  if (b.raw_ext_handshake) {
    payload = *b.raw_ext_handshake;
  } else {
    bencode::Writer w(payload);
    w.begin_dict();
    w.key("m").begin_dict();
    if (!b.omit_ut_metadata) w.entry("ut_metadata", b.ut_metadata_id.value_or(kUtMetadataId));
    w.entry("ut_pex", std::int64_t{1});
    w.end();
    if (!b.omit_metadata_size) {
      w.entry("metadata_size", b.advertised_size.value_or(static_cast<std::int64_t>(info_.size())));
    }
    w.entry("reqq", b.reqq.value_or(250));
    w.entry("v", config_.client_version);
    if (peer_) w.entry("yourip", peer_->bytes());
    w.end();
  }
  std::string msg;
  append_extended(msg, kExtHandshakeId, payload);
  if (b.second_metadata_size) {
    std::string again;
    bencode::Writer(again).begin_dict().entry("metadata_size", *b.second_metadata_size).end();
    append_extended(msg, kExtHandshakeId, again);
  }
  emit(msg);
}

void Seeder::on_message_start() {
  rx_ = Rx::Ignore;
  if (reader_.id() != kExtended) {
    ++stats_.messages_ignored;
    return;
  }
  if (!reader_.has_ext()) {
    finish(SeederEnd::ProtocolViolation, "extended message without an extended id");
    return;
  }
  const std::uint8_t ext = reader_.ext_id();
  if (ext != kExtHandshakeId && ext != kUtMetadataId) {
    ++stats_.messages_ignored;
    return;
  }
  if (reader_.body_length() > config_.max_message_size) {
    finish(SeederEnd::ProtocolViolation,
           "extended message of " + std::to_string(reader_.body_length()) + " bytes exceeds the cap");
    return;
  }
  rx_ = ext == kExtHandshakeId ? Rx::ExtHandshake : Rx::UtMessage;
  recv_.clear();
}

void Seeder::on_message_end() {
  const Rx rx = rx_;
  rx_ = Rx::Ignore;
  if (rx == Rx::Ignore) return;
  bencode::Limits limits;
  limits.max_depth = 16;
  limits.max_tokens = 2048;
  limits.max_size = config_.max_message_size;
  limits.allow_trailing = rx == Rx::UtMessage;
  bencode::Document doc;
  const bool ok = static_cast<bool>(bencode::decode(recv_, doc, limits)) && doc.root().is_dict();
  if (rx == Rx::ExtHandshake) {
    // Tolerant: a malformed ext handshake just leaves us without the peer's ut_metadata id.
    if (ok) {
      if (const auto id = doc.root()["m"].get_int("ut_metadata"); id && *id >= 1 && *id <= 255) {
        peer_ut_ = static_cast<std::uint8_t>(*id);
      }
    }
    const auto& b = behavior();
    if (b.unsolicited_data && peer_ut_ != 0 && serving_) {
      std::string msg;
      append_ut_data(msg, peer_ut_, 0, static_cast<std::int64_t>(info_.size()),
                     info_.substr(0, metadata_piece_length(static_cast<std::uint32_t>(info_.size()), 0)));
      emit(msg);
    }
    if (b.wait_for_ext_handshake && serving_ && !b.silent) send_ext_handshake();
  } else if (ok) {
    const auto root = doc.root();
    const auto type = root.get_int("msg_type");
    const auto piece = root.get_int("piece");
    if (type == static_cast<std::int64_t>(UtMsgType::Request) && piece) {
      ++stats_.requests;
      answer(*piece);
    } else {
      ++stats_.messages_ignored;
    }
  } else {
    ++stats_.messages_ignored;
  }
  recv_.clear();
  if (recv_.capacity() > 256) std::string().swap(recv_);
}

void Seeder::answer(std::int64_t piece) {
  const auto& b = behavior();
  if (peer_ut_ == 0 || !serving_ || b.silent || b.ignore_requests) return;
  const auto size = static_cast<std::uint32_t>(info_.size());
  const std::uint32_t count = metadata_piece_count(size);
  std::string& out = sink();
  if (piece < 0 || piece >= count || b.reject_all ||
      (b.reject_piece && static_cast<std::int64_t>(*b.reject_piece) == piece)) {
    append_ut_reject(out, peer_ut_, piece);
    ++stats_.rejects_sent;
    return;
  }
  const auto p = static_cast<std::uint32_t>(piece);
  std::string_view bytes = info_.substr(std::size_t{p} * kMetadataPieceSize, metadata_piece_length(size, p));
  const std::int64_t total = b.total_size.value_or(static_cast<std::int64_t>(size));
  const bool resize =
      b.piece_length_delta != 0 && (!b.piece_length_delta_only || *b.piece_length_delta_only == p);
  const bool corrupt = b.corrupt_piece && *b.corrupt_piece == p;
  if (resize || corrupt) {
    std::string copy(bytes);
    if (resize && b.piece_length_delta < 0) {
      const auto cut = static_cast<std::size_t>(-static_cast<std::int64_t>(b.piece_length_delta));
      copy.resize(copy.size() > cut ? copy.size() - cut : 0);
    } else if (resize) {
      copy.append(static_cast<std::size_t>(b.piece_length_delta), 'J');
    }
    if (corrupt && !copy.empty()) copy[copy.size() / 2] = static_cast<char>(copy[copy.size() / 2] ^ 0x01);
    append_ut_data(out, peer_ut_, piece + b.piece_index_offset, total, copy);
  } else {
    // The honest path: one copy, from the shared info bytes into the output buffer.
    append_ut_data(out, peer_ut_, piece + b.piece_index_offset, total, bytes);
  }
  ++stats_.pieces_sent;
}

}  // namespace bitscrape::peerwire
