// MetadataFetcher: the sans-I/O client side of one metadata download from one peer — BEP-3
// handshake, BEP-10 extension handshake, BEP-9 ut_metadata — sized for a crawler that runs
// thousands at once.
//
// Driving it (the adapter owns the socket and one timer per connection):
//   MetadataFetcher f(config, info_hash, peer_id);
//   f.start(now);                        // when the TCP connect completes; queues our handshake
//   send(f.take_output());
//   on read:   f.on_bytes(chunk, now);  send(f.take_output());
//   on timer:  f.tick(now);             send(f.take_output());
//   re-arm the timer at f.next_deadline() after every call; stop when f.done().
//   on EOF / reset: f.on_peer_closed();   on connect error / timeout: f.on_connect_failed(detail).
// The object never reads a clock, never touches a socket, never throws on peer input.
//
// States (see docs/peerwire.md for the diagram):
//   Idle -start-> AwaitHandshake -peer handshake ok, send ext handshake-> AwaitExtHandshake
//   -peer ext handshake ok, allocate, send requests-> Fetching -all pieces, hash ok-> Succeeded
//   any state -error / deadline / close-> Failed
//
// Time: std::chrono::steady_clock::time_point, passed in by the caller (see wire.hpp).
//   handshake deadline = start + handshake_timeout, until the peer's ext handshake is parsed;
//   piece deadline     = last piece completed (or first requests sent) + piece_timeout;
//   total deadline     = start + total_timeout.
//   on_bytes() first applies deadlines that have passed, so a late chunk never revives a
//   connection whose timer the adapter has not yet run.
//
// Memory (no allocation sized by a peer's claim before the claim is checked against a limit):
//   - the object itself (sizeof 544 B with libstdc++; the budget test prints it);
//   - a receive buffer that holds at most one extension handshake (≤ max_message_size) or one
//     ut_metadata dict header (≤ kMaxUtHeader); ut_metadata piece bytes are streamed straight
//     into the assembly buffer, and every other message is skipped as it streams. The buffer
//     is released after any message that grew it past kKeepReceiveCapacity;
//   - the metadata assembly buffer: allocated once, metadata_size bytes, after the size is
//     checked against max_metadata_size, and left uninitialised so that memory is committed
//     only as piece bytes arrive (a peer claiming 10 MiB and sending nothing costs nothing);
//   - the output buffer (our handshake, ext handshake, requests): moved out by take_output().
//
// Liars: is_liar() is true when the peer sent metadata inconsistent with what it advertised —
// a hash mismatch, total_size ≠ metadata_size, a piece of the wrong length or past the end, a
// data message for a piece we did not ask for (or with no piece index), or a metadata_size
// that changed in a later ext handshake. The crawler remembers such peers as bad. Rejects,
// timeouts, framing errors and refusals (too large, no ut_metadata) are not lies.
//
// Threading: one object belongs to one thread (the event loop); it shares nothing.
//
// Deviations from BEP-9/10:
//   - metadata_size is required in the peer's ext handshake (BEP-9 only says it "should" be
//     there); without it we cannot bound the download, so we give up (NoMetadataSize).
//   - A reject ends the fetch (libtorrent retries later); the crawler asks another peer.
//   - total_size may be missing from a data message (we already know the size); if present it
//     must equal metadata_size.
//   - A later ext handshake may change the peer's ut_metadata id (0 removes it → NoUtMetadata)
//     but not metadata_size (→ ProtocolViolation, liar).
//   - Requests the peer sends us are answered with reject: a fetcher has nothing to serve.
//   - We send no interested/bitfield/keep-alive: the total deadline is under BEP-3's two minutes.
//   - `v` is truncated to kMaxClientLength bytes and repaired to valid UTF-8.
#pragma once

#include "common/endpoint.hpp"
#include "common/id160.hpp"
#include "metainfo/verify.hpp"
#include "peerwire/wire.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace bitscrape::peerwire {

struct FetcherConfig {
  // Largest metadata_size we accept; bigger is refused before any request is sent.
  std::uint32_t max_metadata_size = 10u << 20;
  // Largest extension handshake or ut_metadata message (a 16 KiB piece plus its dict). Longer
  // ones are protocol violations; other message types of any length are skipped, not buffered.
  std::uint32_t max_message_size = kMetadataPieceSize + 1024;
  // Any length prefix above this is a protocol violation (no real message is anywhere near).
  std::uint32_t max_wire_message = 32u << 20;
  // Bytes we read on top of metadata_size (before metadata_size is known: this alone).
  std::uint32_t byte_slack = 1u << 20;
  // ut_metadata requests in flight (1..kMaxPipeline); the peer's `reqq` can lower it.
  std::uint8_t max_outstanding = 4;
  Duration handshake_timeout = std::chrono::seconds(10);
  Duration piece_timeout = std::chrono::seconds(10);
  Duration total_timeout = std::chrono::seconds(60);
  // Sent as `v` in our ext handshake. Must outlive the fetcher (a literal or app-owned string).
  std::string_view client_version = "BitScrape 0.1";
};

enum class FailReason : std::uint8_t {
  ConnectFailed,        // set by the adapter (on_connect_failed)
  HandshakeTimeout,     // no valid handshake + ext handshake within handshake_timeout
  BadHandshake,         // not "\x13BitTorrent protocol"
  InfoHashMismatch,     // the peer's handshake names another torrent
  NoExtensionProtocol,  // reserved bit 0x10 in byte 5 missing
  NoUtMetadata,         // ext handshake without m.ut_metadata (or with 0)
  NoMetadataSize,       // ext handshake without metadata_size
  MetadataTooLarge,     // metadata_size > max_metadata_size
  Rejected,             // the peer rejected a request
  PieceTimeout,         // no piece completed within piece_timeout
  TotalTimeout,         // not done within total_timeout
  ProtocolViolation,    // malformed message, wrong piece index/size, size mismatch, ...
  HashMismatch,         // assembled metadata matches neither the v1 nor the v2 key
  ByteLimitExceeded,    // read more than metadata_size + byte_slack
  PeerClosed,           // EOF before we were done
};
std::string_view to_string(FailReason r) noexcept;

struct FetchSuccess {
  std::string info;  // the info dict exactly as assembled (what the key was checked over)
  metainfo::KeyMatch key = metainfo::KeyMatch::None;  // V1 or V2
  std::string client;                                 // the peer's `v` (valid UTF-8; may be empty)
  std::optional<IpAddress> yourip;                    // our address as the peer sees it
  bool peer_supports_v2 = false;                      // reserved[7] & 0x10 in its handshake
};
struct FetchFailure {
  FailReason reason = FailReason::ConnectFailed;
  std::string detail;  // for humans and logs
  bool liar = false;   // see is_liar()
};
using FetchResult = std::variant<FetchSuccess, FetchFailure>;

class MetadataFetcher {
 public:
  static constexpr std::uint8_t kMaxPipeline = 8;
  // The ut_metadata id we advertise; the peer sends its ut_metadata messages with it.
  static constexpr std::uint8_t kUtMetadataId = 2;
  // A ut_metadata dict header longer than this is a violation (real ones are ~50 bytes).
  static constexpr std::uint32_t kMaxUtHeader = 1024;
  // Receive buffers that grew beyond this are released after the message.
  static constexpr std::size_t kKeepReceiveCapacity = 256;
  static constexpr std::size_t kMaxClientLength = 64;

  enum class State : std::uint8_t { Idle, AwaitHandshake, AwaitExtHandshake, Fetching, Succeeded, Failed };

  struct Stats {
    std::uint32_t messages_ignored = 0;  // messages skipped (other ids, other extensions, ...)
    std::uint64_t bytes_ignored = 0;     // body bytes of those
    std::uint32_t requests_sent = 0;     // ut_metadata requests
    std::uint32_t pieces_received = 0;
    std::uint32_t rejects_sent = 0;  // answers to the peer's own requests
  };

  MetadataFetcher(const FetcherConfig& config, const InfoHash& info_hash, const PeerId& our_peer_id);

  // The TCP connection is up: queue our handshake and start the deadlines.
  void start(TimePoint now);
  // Bytes received from the peer. Calls start(now) first if start was never called.
  void on_bytes(std::string_view data, TimePoint now);
  // Applies deadlines; call at next_deadline() (calling early or late is harmless).
  void tick(TimePoint now);
  void on_connect_failed(std::string_view detail = {});
  void on_peer_closed();

  // Bytes to send, moved out (the object keeps no capacity). Empty when nothing is queued.
  std::string take_output() { return std::move(out_); }
  std::size_t pending_output() const noexcept { return out_.size(); }
  // When tick() must run next; kNever when done or not started.
  TimePoint next_deadline() const noexcept;

  State state() const noexcept { return state_; }
  bool done() const noexcept { return state_ == State::Succeeded || state_ == State::Failed; }
  bool succeeded() const noexcept { return state_ == State::Succeeded; }
  // Valid when state() == Failed.
  FailReason failure_reason() const noexcept { return reason_; }
  std::string_view failure_detail() const noexcept { return detail_; }
  bool is_liar() const noexcept { return liar_; }
  // Valid when succeeded() (until take_result()).
  std::string_view metadata() const noexcept {
    return metadata_ ? std::string_view(metadata_.get(), metadata_size_) : std::string_view();
  }
  metainfo::KeyMatch key_match() const noexcept { return key_; }

  // The outcome, moving the metadata out. Precondition: done().
  FetchResult take_result();

  // Known once the peer's ext handshake is parsed.
  std::uint32_t metadata_size() const noexcept { return metadata_size_; }
  std::string_view peer_client() const noexcept { return client_; }
  const std::optional<IpAddress>& yourip() const noexcept { return yourip_; }
  bool peer_supports_v2() const noexcept { return peer_v2_; }

  const Stats& stats() const noexcept { return stats_; }
  std::uint64_t bytes_read() const noexcept { return bytes_read_; }
  // Current read cap: metadata_size + byte_slack once the size is known, byte_slack before.
  std::uint64_t byte_limit() const noexcept;
  // Heap bytes held for the current partial message (0 while it fits in the object itself).
  std::size_t receive_buffer_capacity() const noexcept;
  std::size_t receive_buffer_size() const noexcept { return recv_.size(); }
  // What one connection costs apart from the metadata assembly buffer (metadata_size() bytes
  // while fetching): sizeof(*this) plus the heap capacity of every other buffer.
  std::size_t memory_footprint() const noexcept;

 private:
  enum class Rx : std::uint8_t { Ignore, ExtHandshake, UtHeader, UtPayload };

  void expire(TimePoint now);
  void fail(FailReason r, std::string detail, bool liar = false);
  void process(std::string_view data);
  void on_handshake(std::string_view hs);
  void on_message_start();
  void on_body(std::string_view chunk);
  void on_message_end();
  void on_ext_handshake();
  // The ut_metadata dict decoded: `header_len` bytes of recv_ are the dict, the rest of recv_
  // and `rest` are payload.
  void on_ut_header(std::size_t header_len, std::string_view rest);
  void on_data_header(std::int64_t piece, std::optional<std::int64_t> total_size, std::size_t payload_len);
  void write_payload(std::string_view bytes);
  void on_piece_complete();
  void send_requests();
  void release_receive_buffer();
  bool is_outstanding(std::uint32_t piece) const noexcept;
  void remove_outstanding(std::uint32_t piece) noexcept;

  FetcherConfig config_;
  InfoHash info_hash_;
  PeerId peer_id_;
  FrameReader reader_;
  std::string recv_;      // the current buffered message (ext handshake or ut_metadata dict)
  std::string out_;       // queued output
  // Assembly buffer, metadata_size_ bytes once allocated. Deliberately not zero-filled: the
  // pages are committed only as piece bytes arrive, so a peer that claims 10 MiB and sends
  // nothing costs address space, not memory.
  std::unique_ptr<char[]> metadata_;
  std::string client_;    // peer's `v`
  std::string detail_;    // failure detail
  std::optional<IpAddress> yourip_;
  TimePoint now_{};
  TimePoint handshake_deadline_ = kNever;
  TimePoint piece_deadline_ = kNever;
  TimePoint total_deadline_ = kNever;
  std::uint64_t bytes_read_ = 0;
  Stats stats_;
  std::uint32_t metadata_size_ = 0;
  std::uint32_t num_pieces_ = 0;
  std::uint32_t next_request_ = 0;   // lowest piece not yet requested
  std::uint32_t received_ = 0;       // pieces complete
  std::uint32_t write_offset_ = 0;   // where the streaming payload goes in metadata_
  std::uint32_t payload_left_ = 0;   // payload bytes still expected for the current piece
  std::uint32_t current_piece_ = 0;  // the piece being streamed
  std::array<std::uint32_t, kMaxPipeline> outstanding_{};
  std::uint8_t n_outstanding_ = 0;
  std::uint8_t window_ = 1;   // requests allowed in flight
  std::uint8_t peer_ut_ = 0;  // the peer's ut_metadata id (0 until known)
  State state_ = State::Idle;
  Rx rx_ = Rx::Ignore;
  FailReason reason_ = FailReason::ConnectFailed;
  metainfo::KeyMatch key_ = metainfo::KeyMatch::None;
  bool liar_ = false;
  bool peer_v2_ = false;
  bool have_ext_handshake_ = false;
  bool ut_header_done_ = false;
};

}  // namespace bitscrape::peerwire
