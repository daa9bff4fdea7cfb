// Seeder: the sans-I/O serving side of the metadata exchange — answers a fetcher's BEP-3
// handshake, advertises metadata_size in its BEP-10 extension handshake and answers BEP-9
// ut_metadata requests with data or reject. It can also misbehave on purpose (SeederBehavior)
// so tests, interop liar peers and `bitscrape testnet` can exercise every failure path of a
// fetcher.
//
// Driving it is the same as MetadataFetcher (it is the accepting side: it waits for the
// peer's handshake): start(now), on_bytes(chunk, now), tick(now) at next_deadline(),
// take_output() after each call, on_peer_closed(); stop when done().
//
// Memory: the info dict is referenced through MetadataSource, never copied per connection; a
// connection holds its framing state, one small buffered message (an ext handshake ≤
// max_message_size or a request), and the output it has not handed to the adapter yet,
// bounded by max_output_backlog (a peer that requests without reading is cut off).
// SeederConfig and SeederBehavior are shared: the Seeder keeps a pointer to the behavior, so
// thousands of connections cost one copy.
//
// Time: steady_clock time points from the caller (see wire.hpp). Deadlines: idle_timeout after
// the last byte received, max_lifetime after start, and the drip timer when dripping.
//
// Threading: one object belongs to one thread; MetadataSource::find must be safe to call from
// that thread.
//
// Deviations from BEP-9/10: we never request metadata ourselves; requests for pieces past the
// end are rejected (BEP-9 leaves it open); a peer that sends no ext handshake gets no answers
// (we would not know its ut_metadata id).
#pragma once

#include "common/endpoint.hpp"
#include "common/id160.hpp"
#include "peerwire/wire.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bitscrape::peerwire {

// Where a Seeder finds the info dict for the infohash a peer asks for (the v1 key or the
// truncated v2 key). The returned bytes must stay valid and unchanged while any Seeder
// serves them.
class MetadataSource {
 public:
  virtual ~MetadataSource() = default;
  virtual std::optional<std::string_view> find(const InfoHash& key) const = 0;
};

// One torrent, answering to both its v1 and its truncated v2 key. Owns its copy of the bytes.
class SingleMetadata final : public MetadataSource {
 public:
  explicit SingleMetadata(std::string info);
  std::optional<std::string_view> find(const InfoHash& key) const override;
  const InfoHash& v1_key() const noexcept { return v1_; }
  const InfoHash& v2_key() const noexcept { return v2_; }
  std::string_view info() const noexcept { return info_; }

 private:
  std::string info_;
  InfoHash v1_;
  InfoHash v2_;
};

// Ways to misbehave. The default-constructed value is an honest peer.
struct SeederBehavior {
  // Handshake.
  bool silent = false;                  // never answer the handshake (→ fetcher HandshakeTimeout)
  bool bad_protocol = false;            // answer with a wrong protocol string
  bool wrong_info_hash = false;         // answer with a different infohash
  bool extension_bit = true;            // BEP-10 bit in reserved[5]
  bool v2_bit = false;                  // BEP-52 upgrade bit in reserved[7]
  bool wait_for_ext_handshake = false;  // send our ext handshake only after the peer's
  bool omit_ext_handshake = false;      // never send it
  // Extension handshake contents.
  bool omit_ut_metadata = false;
  std::optional<std::int64_t> ut_metadata_id;  // advertise this id instead of kUtMetadataId
  bool omit_metadata_size = false;
  std::optional<std::int64_t> advertised_size;   // metadata_size to claim instead of the real one
  std::optional<std::string> raw_ext_handshake;  // send these bytes as the ext handshake payload
  std::optional<std::int64_t> reqq;
  std::optional<std::int64_t> second_metadata_size;  // send a second ext handshake with this size
  // Noise before the ext handshake: keep-alive, choke, unchoke, interested, not interested,
  // have, request, piece, cancel, port, an unknown id, a ut_pex style message and an unknown
  // extended message; and a bitfield of this many bytes.
  bool chatter = false;
  std::uint32_t bitfield_bytes = 0;
  // Answers to requests.
  std::optional<std::int64_t> total_size;                // in data messages instead of the real size
  std::optional<std::uint32_t> corrupt_piece;            // flip one byte of this piece
  std::int64_t piece_index_offset = 0;                   // answer piece i as piece i + offset
  std::int32_t piece_length_delta = 0;                   // cut (< 0) or pad with junk (> 0) every piece
  std::optional<std::uint32_t> piece_length_delta_only;  // apply the delta to this piece only
  bool reject_all = false;
  std::optional<std::uint32_t> reject_piece;
  bool ignore_requests = false;   // never answer (→ fetcher PieceTimeout)
  bool unsolicited_data = false;  // send piece 0 right after the ext handshake, unasked
  // Slow drip: hand at most drip_bytes of output to the adapter per drip_interval (0 = off).
  std::uint32_t drip_bytes = 0;
  Duration drip_interval = std::chrono::seconds(1);
};

struct SeederConfig {
  PeerId peer_id = make_peer_id("-BS0001-", "seeder-peer-");
  std::string_view client_version = "BitScrape 0.1 seeder";  // must outlive the seeders
  std::uint32_t max_message_size = 16 * 1024;                // ext handshake / ut_metadata messages we buffer
  std::uint32_t max_wire_message = 32u << 20;                // sanity cap on any length prefix
  std::uint64_t max_bytes_read = 1u << 20;                   // a fetcher sends a few hundred bytes
  std::size_t max_output_backlog = 1u << 20;                 // output not yet taken by the adapter
  Duration idle_timeout = std::chrono::seconds(30);
  Duration max_lifetime = std::chrono::seconds(300);
  const SeederBehavior* behavior = nullptr;  // nullptr = honest; must outlive the seeders
};

enum class SeederEnd : std::uint8_t {
  UnknownInfoHash,  // the source has no metadata for the requested key
  BadHandshake,
  ProtocolViolation,
  IdleTimeout,
  LifetimeExceeded,
  ByteLimitExceeded,
  OutputBacklog,  // the peer does not read what it asks for
  PeerClosed,
};
std::string_view to_string(SeederEnd e) noexcept;

class Seeder {
 public:
  // The ut_metadata id we advertise (different from the fetcher's, which catches id mix-ups).
  static constexpr std::uint8_t kUtMetadataId = 3;

  struct Stats {
    std::uint32_t requests = 0;  // ut_metadata requests received
    std::uint32_t pieces_sent = 0;
    std::uint32_t rejects_sent = 0;
    std::uint32_t messages_ignored = 0;
  };

  // `peer` (optional) is echoed as `yourip`. `config` is copied; `source` must outlive this.
  Seeder(const SeederConfig& config, const MetadataSource& source, std::optional<IpAddress> peer = {});

  void start(TimePoint now);
  void on_bytes(std::string_view data, TimePoint now);
  void tick(TimePoint now);
  void on_peer_closed();

  std::string take_output() { return std::move(out_); }
  std::size_t pending_output() const noexcept { return out_.size(); }
  TimePoint next_deadline() const noexcept;

  bool done() const noexcept { return done_; }
  SeederEnd end_reason() const noexcept { return end_; }
  std::string_view end_detail() const noexcept { return detail_; }
  // True once a handshake named a torrent the source has.
  bool serving() const noexcept { return serving_; }
  const Stats& stats() const noexcept { return stats_; }
  std::size_t receive_buffer_capacity() const noexcept { return recv_.capacity(); }

 private:
  enum class Rx : std::uint8_t { Ignore, ExtHandshake, UtMessage };
  const SeederBehavior& behavior() const noexcept;
  void finish(SeederEnd e, std::string detail);
  void process(std::string_view in);
  void on_handshake();
  void on_message_start();
  void on_message_end();
  void send_ext_handshake();
  void answer(std::int64_t piece);
  // Where output goes: straight to out_, or to held_ when dripping.
  std::string& sink() noexcept;
  void emit(std::string_view bytes) { sink().append(bytes); }
  void release_drip(TimePoint now);

  SeederConfig config_;
  const MetadataSource* source_;
  std::optional<IpAddress> peer_;
  FrameReader reader_;
  std::string_view info_;  // the metadata being served (owned by the source)
  InfoHash key_;           // the key the peer asked for
  std::string recv_;
  std::string out_;
  std::string held_;  // output waiting for the drip timer
  std::string detail_;
  TimePoint now_{};
  TimePoint idle_deadline_ = kNever;
  TimePoint life_deadline_ = kNever;
  TimePoint drip_at_ = kNever;
  std::uint64_t bytes_read_ = 0;
  Stats stats_;
  std::uint8_t peer_ut_ = 0;
  Rx rx_ = Rx::Ignore;
  SeederEnd end_ = SeederEnd::PeerClosed;
  bool started_ = false;
  bool serving_ = false;
  bool done_ = false;
  bool ext_sent_ = false;
};

}  // namespace bitscrape::peerwire
