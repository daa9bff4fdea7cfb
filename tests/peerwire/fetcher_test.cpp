// MetadataFetcher against the in-memory Seeder (honest and lying) and against hand-written
// byte streams. Every FailReason and every limit has a test that reaches it.
#include "peerwire/fetcher.hpp"

#include "harness.hpp"

#include <gtest/gtest.h>

#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <variant>

namespace bitscrape::peerwire {
namespace {

using namespace std::chrono_literals;
using namespace std::string_view_literals;
using namespace test;
using metainfo::KeyMatch;

constexpr std::size_t k40KiB = 40 * 1024;  // 3 pieces: 16384 + 16384 + 8192

// Fetcher + seeder + link, configured per test, then run().
class FetchTest : public ::testing::Test {
 protected:
  SeederBehavior behavior;
  SeederConfig seeder_config;
  FetcherConfig config;
  std::optional<SingleMetadata> source;
  std::optional<MetadataFetcher> f;
  std::optional<Seeder> s;
  std::unique_ptr<Link> link;

  void run(std::string info, std::optional<InfoHash> key = std::nullopt, std::size_t chunk = SIZE_MAX) {
    source.emplace(std::move(info));
    seeder_config.behavior = &behavior;
    f.emplace(config, key.value_or(source->v1_key()), our_id());
    s.emplace(seeder_config, *source, IpAddress::v4(0x7f000001));
    link = std::make_unique<Link>(Link{*f, *s});
    link->chunk = chunk;
    link->run();
  }

  void expect_failure(FailReason reason, bool liar, std::string_view detail_part = {}) {
    ASSERT_TRUE(f->done());
    ASSERT_EQ(f->state(), MetadataFetcher::State::Failed);
    EXPECT_EQ(f->failure_reason(), reason)
        << "got " << to_string(f->failure_reason()) << ": " << f->failure_detail();
    EXPECT_EQ(f->is_liar(), liar) << f->failure_detail();
    if (!detail_part.empty()) {
      EXPECT_NE(f->failure_detail().find(detail_part), std::string_view::npos) << f->failure_detail();
    }
    EXPECT_TRUE(f->metadata().empty());  // a failed fetch keeps no metadata
    EXPECT_EQ(f->next_deadline(), kNever);
    const auto r = f->take_result();
    ASSERT_TRUE(std::holds_alternative<FetchFailure>(r));
    EXPECT_EQ(std::get<FetchFailure>(r).reason, reason);
    EXPECT_EQ(std::get<FetchFailure>(r).liar, liar);
    EXPECT_EQ(std::get<FetchFailure>(r).detail, f->failure_detail());
  }

  void expect_success(KeyMatch key) {
    ASSERT_TRUE(f->succeeded()) << to_string(f->failure_reason()) << ": " << f->failure_detail();
    EXPECT_EQ(f->metadata(), source->info());
    EXPECT_EQ(f->key_match(), key);
    EXPECT_FALSE(f->is_liar());
    EXPECT_EQ(f->next_deadline(), kNever);
  }
};

// ---------------------------------------------------------------------------------------------
// Successful fetches

TEST_F(FetchTest, FetchesSinglePieceV1) {
  run(v1_info(5000));
  expect_success(KeyMatch::V1);
  EXPECT_EQ(f->metadata_size(), 5000u);
  EXPECT_EQ(f->stats().requests_sent, 1u);
  EXPECT_EQ(f->stats().pieces_received, 1u);
  EXPECT_EQ(s->stats().pieces_sent, 1u);
  EXPECT_EQ(link->now, kT0);  // no timer was needed

  auto r = f->take_result();
  ASSERT_TRUE(std::holds_alternative<FetchSuccess>(r));
  auto& ok = std::get<FetchSuccess>(r);
  EXPECT_EQ(ok.info, source->info());
  EXPECT_EQ(ok.key, KeyMatch::V1);
  EXPECT_EQ(ok.client, "BitScrape 0.1 seeder");
  ASSERT_TRUE(ok.yourip.has_value());
  EXPECT_EQ(ok.yourip->to_string(), "127.0.0.1");
  EXPECT_FALSE(ok.peer_supports_v2);
}

TEST_F(FetchTest, FetchesV2ByTruncatedSha256) {
  behavior.v2_bit = true;
  const std::string info = v2_info(30000);
  run(info, v2_key(info));
  expect_success(KeyMatch::V2);
  EXPECT_TRUE(f->peer_supports_v2());
  const auto r = f->take_result();
  EXPECT_TRUE(std::get<FetchSuccess>(r).peer_supports_v2);
  EXPECT_EQ(std::get<FetchSuccess>(r).key, KeyMatch::V2);
}

TEST_F(FetchTest, FetchesV2DictByItsV1Key) {  // a hybrid is announced under both keys
  const std::string info = v2_info(20000);
  run(info, v1_key(info));
  expect_success(KeyMatch::V1);
}

TEST_F(FetchTest, TakeResultBeforeDoneIsAFailureValue) {
  source.emplace(v1_info(100));
  MetadataFetcher fetcher(config, source->v1_key(), our_id());
  const auto r = fetcher.take_result();
  ASSERT_TRUE(std::holds_alternative<FetchFailure>(r));
  EXPECT_EQ(std::get<FetchFailure>(r).detail, "take_result() called before the fetch finished");
}

class MultiPiece : public FetchTest, public ::testing::WithParamInterface<std::size_t> {};

TEST_P(MultiPiece, FetchesThreePiecesInAnyChunking) {
  run(v1_info(k40KiB), std::nullopt, GetParam());
  expect_success(KeyMatch::V1);
  EXPECT_EQ(f->stats().requests_sent, 3u);
  EXPECT_EQ(f->stats().pieces_received, 3u);
  EXPECT_EQ(s->stats().requests, 3u);
  EXPECT_EQ(s->stats().pieces_sent, 3u);
  // One message at a time: the receive buffer never holds more than a ut_metadata dict header
  // (piece bytes go straight into the assembly buffer).
  EXPECT_LE(link->max_recv_capacity, MetadataFetcher::kMaxUtHeader);
  EXPECT_LE(link->max_footprint, 2048u);
  EXPECT_EQ(f->receive_buffer_size(), 0u);
  EXPECT_EQ(f->bytes_read(), link->to_fetcher);
}

INSTANTIATE_TEST_SUITE_P(Chunks, MultiPiece,
                         ::testing::Values(std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{50},
                                           std::size_t{1460}, std::size_t{16390}, SIZE_MAX));

TEST_F(FetchTest, ExactlyOnePieceAndOneByteMore) {
  run(v1_info(kMetadataPieceSize));
  expect_success(KeyMatch::V1);
  EXPECT_EQ(f->stats().pieces_received, 1u);
  run(v1_info(kMetadataPieceSize + 1));
  expect_success(KeyMatch::V1);
  EXPECT_EQ(f->stats().pieces_received, 2u);
}

TEST_F(FetchTest, SeederWaitingForOurExtHandshakeFirst) {
  behavior.wait_for_ext_handshake = true;
  run(v1_info(k40KiB), std::nullopt, 7);
  expect_success(KeyMatch::V1);
}

TEST_F(FetchTest, ChatterAndMegabyteBitfieldAreSkippedWithoutBuffering) {
  behavior.chatter = true;
  behavior.bitfield_bytes = 1'000'000;
  seeder_config.max_output_backlog = 4u << 20;
  run(v1_info(k40KiB), std::nullopt, 1460);
  expect_success(KeyMatch::V1);
  // 12 chatter messages (the keep-alive is not a message) + the bitfield.
  EXPECT_EQ(f->stats().messages_ignored, 13u);
  EXPECT_GE(f->stats().bytes_ignored, 1'000'000u);
  EXPECT_LE(link->max_recv_capacity, MetadataFetcher::kMaxUtHeader);
  EXPECT_LE(link->max_footprint, 2048u);
}

TEST_F(FetchTest, HugeSkippedMessageWithinByteSlack) {
  behavior.bitfield_bytes = 5'000'000;  // over max_message_size, under max_wire_message
  seeder_config.max_output_backlog = 8u << 20;
  config.byte_slack = 6u << 20;
  run(v1_info(3000), std::nullopt, 65536);
  expect_success(KeyMatch::V1);
  EXPECT_LE(link->max_recv_capacity, MetadataFetcher::kMaxUtHeader);
}

TEST_F(FetchTest, DripFastEnoughSucceeds) {
  behavior.drip_bytes = 4000;
  behavior.drip_interval = 1s;
  run(v1_info(k40KiB));
  expect_success(KeyMatch::V1);
  EXPECT_GT(link->now, kT0 + 9s);  // 41 KB at 4 KB/s
  EXPECT_LT(link->now, kT0 + 12s);
}

// ---------------------------------------------------------------------------------------------
// What we send

TEST(FetcherOutput, HandshakeThenExtHandshakeThenPipelinedRequests) {
  const std::string info = v1_info(100 * 1024);  // 7 pieces
  const InfoHash ih = v1_key(info);
  MetadataFetcher f(FetcherConfig{}, ih, our_id());
  EXPECT_EQ(f.next_deadline(), kNever);  // not started
  f.start(kT0);
  EXPECT_EQ(f.state(), MetadataFetcher::State::AwaitHandshake);
  EXPECT_EQ(f.next_deadline(), kT0 + 10s);
  const std::string hs = f.take_output();
  ASSERT_EQ(hs.size(), kHandshakeSize);
  Handshake h;
  ASSERT_TRUE(parse_handshake(hs, h));
  EXPECT_EQ(h.info_hash, ih);
  EXPECT_EQ(h.peer_id, our_id());
  EXPECT_TRUE(h.supports_extensions());
  EXPECT_FALSE(h.supports_v2());
  EXPECT_EQ(f.take_output(), "");  // moved out

  f.on_bytes(peer_handshake(ih), kT0 + 1s);
  EXPECT_EQ(f.state(), MetadataFetcher::State::AwaitExtHandshake);
  const auto ext = frames(f.take_output(), false);
  ASSERT_EQ(ext.size(), 1u);
  EXPECT_EQ(ext[0].id, kExtended);
  EXPECT_EQ(ext[0].ext, kExtHandshakeId);
  EXPECT_EQ(ext[0].body, "d1:md11:ut_metadatai2ee4:reqqi16e1:v13:BitScrape 0.1e");

  f.on_bytes(peer_ext_handshake(static_cast<std::int64_t>(info.size())), kT0 + 2s);
  EXPECT_EQ(f.state(), MetadataFetcher::State::Fetching);
  EXPECT_EQ(f.metadata_size(), info.size());
  EXPECT_EQ(f.peer_client(), "Hand 1.0");
  EXPECT_EQ(f.next_deadline(), kT0 + 12s);  // piece deadline
  EXPECT_EQ(f.byte_limit(), info.size() + (1u << 20));
  EXPECT_EQ(requested_pieces(frames(f.take_output(), false), Seeder::kUtMetadataId),
            (std::vector<std::int64_t>{0, 1, 2, 3}));

  // Pieces may arrive out of order; each completion refills the window.
  f.on_bytes(data_msg(2, static_cast<std::int64_t>(info.size()), info.substr(2 * 16384, 16384)), kT0 + 3s);
  EXPECT_EQ(requested_pieces(frames(f.take_output(), false), Seeder::kUtMetadataId),
            (std::vector<std::int64_t>{4}));
  EXPECT_EQ(f.next_deadline(), kT0 + 13s);
  for (std::int64_t p : {0, 1, 3, 4, 5, 6}) {
    const std::size_t off = static_cast<std::size_t>(p) * 16384;
    f.on_bytes(data_msg(p, static_cast<std::int64_t>(info.size()), info.substr(off, 16384)), kT0 + 4s);
  }
  ASSERT_TRUE(f.succeeded()) << f.failure_detail();
  EXPECT_EQ(f.metadata(), info);
  EXPECT_EQ(f.stats().requests_sent, 7u);
}

TEST(FetcherOutput, WindowHonoursConfigAndPeerReqq) {
  const std::string info = v1_info(100 * 1024);
  const InfoHash ih = v1_key(info);
  auto first_requests = [&](std::uint8_t max_outstanding, std::optional<std::int64_t> reqq) {
    FetcherConfig cfg;
    cfg.max_outstanding = max_outstanding;
    MetadataFetcher f(cfg, ih, our_id());
    f.start(kT0);
    std::string p;
    bencode::Writer w(p);
    w.begin_dict().key("m").begin_dict().entry("ut_metadata", 3).end();
    w.entry("metadata_size", static_cast<std::int64_t>(info.size()));
    if (reqq) w.entry("reqq", *reqq);
    w.end();
    f.on_bytes(peer_handshake(ih) + ext_handshake(p), kT0);
    return requested_pieces(frames(f.take_output(), true), 3).size();
  };
  EXPECT_EQ(first_requests(4, std::nullopt), 4u);
  EXPECT_EQ(first_requests(1, std::nullopt), 1u);
  EXPECT_EQ(first_requests(0, std::nullopt), 1u);    // clamped to 1
  EXPECT_EQ(first_requests(200, std::nullopt), 7u);  // clamped to kMaxPipeline (8), 7 pieces
  EXPECT_EQ(first_requests(4, 2), 2u);
  EXPECT_EQ(first_requests(4, 0), 4u);    // nonsense reqq is ignored
  EXPECT_EQ(first_requests(4, 500), 4u);  // reqq never raises our window
}

TEST(FetcherOutput, PeerExtHandshakeArrivingWithItsHandshake) {
  const std::string info = v1_info(k40KiB);
  const InfoHash ih = v1_key(info);
  MetadataFetcher f(FetcherConfig{}, ih, our_id());
  f.start(kT0);
  (void)f.take_output();
  // Both in one chunk, before we sent our ext handshake: ours goes out first, then requests.
  f.on_bytes(peer_handshake(ih) + peer_ext_handshake(static_cast<std::int64_t>(info.size())), kT0);
  const auto fs = frames(f.take_output(), false);
  ASSERT_EQ(fs.size(), 4u);
  EXPECT_EQ(fs[0].ext, kExtHandshakeId);
  EXPECT_EQ(requested_pieces(fs, Seeder::kUtMetadataId), (std::vector<std::int64_t>{0, 1, 2}));
}

TEST(FetcherOutput, PeerRequestsAreAnsweredWithReject) {
  const std::string info = v1_info(3000);
  const InfoHash ih = v1_key(info);
  MetadataFetcher f(FetcherConfig{}, ih, our_id());
  f.start(kT0);
  std::string req;
  append_ut_request(req, MetadataFetcher::kUtMetadataId, 5);
  // Before its ext handshake we do not know the peer's id: nothing to answer with.
  f.on_bytes(peer_handshake(ih) + req, kT0);
  EXPECT_EQ(f.stats().rejects_sent, 0u);
  f.on_bytes(peer_ext_handshake(3000, 9) + req, kT0);
  EXPECT_EQ(f.stats().rejects_sent, 1u);
  const auto fs = frames(f.take_output(), true);
  ASSERT_FALSE(fs.empty());
  EXPECT_EQ(fs.back().ext, 9);
  EXPECT_EQ(fs.back().body, "d8:msg_typei2e5:piecei5ee");
  EXPECT_FALSE(f.done());
  // A request for a negative piece is not answered.
  std::string bad;
  append_ut_request(bad, MetadataFetcher::kUtMetadataId, -1);
  f.on_bytes(bad, kT0);
  EXPECT_EQ(f.stats().rejects_sent, 1u);
  EXPECT_FALSE(f.done());
}

// ---------------------------------------------------------------------------------------------
// Handshake failures

TEST_F(FetchTest, BadProtocolString) {
  behavior.bad_protocol = true;
  run(v1_info(1000));
  expect_failure(FailReason::BadHandshake, false, "wrong protocol string");
}

TEST_F(FetchTest, WrongInfoHash) {
  behavior.wrong_info_hash = true;
  run(v1_info(1000));
  expect_failure(FailReason::InfoHashMismatch, false, "peer's handshake names ");
}

TEST_F(FetchTest, NoExtensionBit) {
  behavior.extension_bit = false;
  run(v1_info(1000));
  expect_failure(FailReason::NoExtensionProtocol, false);
}

TEST_F(FetchTest, UnknownTorrentMeansThePeerCloses) {
  source.emplace(v1_info(1000));
  seeder_config.behavior = &behavior;
  const InfoHash other = v1_key("d4:name5:othere");
  f.emplace(config, other, our_id());
  s.emplace(seeder_config, *source);
  Link l{*f, *s};
  l.run();
  EXPECT_EQ(s->end_reason(), SeederEnd::UnknownInfoHash);
  expect_failure(FailReason::PeerClosed, false, "before its handshake");
}

TEST(FetcherInput, JunkInsteadOfHandshakeFailsAtOnce) {
  MetadataFetcher f(FetcherConfig{}, v1_key("x"), our_id());
  f.start(kT0);
  f.on_bytes("HTTP/1.1 400 Bad Request\r\n\r\n", kT0);
  EXPECT_EQ(f.failure_reason(), FailReason::BadHandshake);
  EXPECT_EQ(f.failure_detail(), "handshake does not start with 19");
  EXPECT_EQ(f.pending_output(), 0u);  // a failed fetcher drops its output
}

// ---------------------------------------------------------------------------------------------
// Extension handshake contents

TEST_F(FetchTest, NoUtMetadata) {
  behavior.omit_ut_metadata = true;
  run(v1_info(1000));
  expect_failure(FailReason::NoUtMetadata, false, "does not offer");
  EXPECT_EQ(s->stats().requests, 0u);
}

TEST_F(FetchTest, UtMetadataZeroMeansDisabled) {
  behavior.ut_metadata_id = 0;
  run(v1_info(1000));
  expect_failure(FailReason::NoUtMetadata, false, "disabled");
}

TEST_F(FetchTest, UtMetadataIdOutOfRange) {
  for (std::int64_t id : {256, -1}) {
    behavior.ut_metadata_id = id;
    run(v1_info(1000));
    expect_failure(FailReason::ProtocolViolation, false, "0..255");
  }
}

TEST_F(FetchTest, UtMetadataId255Works) {
  behavior.ut_metadata_id = 255;
  run(v1_info(1000));
  // The seeder still expects requests on its own id 3, so it never answers: but we did
  // address it as 255, which is what this checks.
  EXPECT_EQ(f->failure_reason(), FailReason::PieceTimeout);
  EXPECT_EQ(s->stats().messages_ignored, 1u);
}

TEST_F(FetchTest, NoMetadataSize) {
  behavior.omit_metadata_size = true;
  run(v1_info(1000));
  expect_failure(FailReason::NoMetadataSize, false);
  EXPECT_EQ(s->stats().requests, 0u);
}

TEST_F(FetchTest, NonPositiveMetadataSize) {
  for (std::int64_t size : {0, -5}) {
    behavior.advertised_size = size;
    run(v1_info(1000));
    expect_failure(FailReason::ProtocolViolation, false, "is not positive");
  }
}

TEST_F(FetchTest, MetadataSizeNotAnInteger) {
  behavior.raw_ext_handshake = "d1:md11:ut_metadatai3ee13:metadata_size4:1000e";
  run(v1_info(1000));
  expect_failure(FailReason::ProtocolViolation, false, "metadata_size is not an integer");
}

TEST_F(FetchTest, MissingMDictMeansNoUtMetadata) {
  behavior.raw_ext_handshake = "d1:mi5e13:metadata_sizei1000ee";
  run(v1_info(1000));
  expect_failure(FailReason::NoUtMetadata, false);
}

TEST_F(FetchTest, ExtHandshakeNotBencode) {
  behavior.raw_ext_handshake = "d1:md11:ut_metadatai3eee trailing";
  run(v1_info(1000));
  expect_failure(FailReason::ProtocolViolation, false, "extension handshake is not bencode");
}

TEST_F(FetchTest, ExtHandshakeNotADict) {
  behavior.raw_ext_handshake = "li1ei2ee";
  run(v1_info(1000));
  expect_failure(FailReason::ProtocolViolation, false, "extension handshake is not a dict");
}

TEST_F(FetchTest, ClientVersionIsTruncatedAndRepaired) {
  const std::string v = std::string(70, 'a') + "\xff";
  std::string p;
  bencode::Writer(p)
      .begin_dict()
      .key("m")
      .begin_dict()
      .entry("ut_metadata", 3)
      .end()
      .entry("metadata_size", 1000)
      .entry("v", v)
      .entry("yourip", std::string_view("\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16))
      .end();
  behavior.raw_ext_handshake = p;
  run(v1_info(1000));
  expect_success(KeyMatch::V1);
  EXPECT_EQ(f->peer_client(), std::string(64, 'a'));
  ASSERT_TRUE(f->yourip());
  EXPECT_EQ(f->yourip()->to_string(), "2001:db8::1");

  std::string p2;
  bencode::Writer(p2)
      .begin_dict()
      .key("m")
      .begin_dict()
      .entry("ut_metadata", 3)
      .end()
      .entry("metadata_size", 1000)
      .entry("v", std::string(60, 'b') + "\xc3")  // a truncated two-byte sequence
      .entry("yourip", "bogus")                   // neither 4 nor 16 bytes: ignored
      .end();
  behavior.raw_ext_handshake = p2;
  run(v1_info(1000));
  expect_success(KeyMatch::V1);
  EXPECT_EQ(f->peer_client(), std::string(60, 'b') + "\xef\xbf\xbd");
  EXPECT_FALSE(f->yourip());
}

// ---------------------------------------------------------------------------------------------
// Limits

TEST_F(FetchTest, MetadataTooLargeIsRefusedBeforeAnyRequest) {
  behavior.advertised_size = (10 << 20) + 1;
  run(v1_info(1000));
  expect_failure(FailReason::MetadataTooLarge, false, "exceeds the cap of 10485760");
  EXPECT_EQ(s->stats().requests, 0u);
  EXPECT_EQ(f->stats().requests_sent, 0u);
  EXPECT_LE(f->memory_footprint(), 2048u);
}

TEST_F(FetchTest, MetadataCapBoundary) {
  const std::string info = v1_info(20000);
  config.max_metadata_size = 20000;
  run(info);
  expect_success(KeyMatch::V1);
  config.max_metadata_size = 19999;
  run(info);
  expect_failure(FailReason::MetadataTooLarge, false);
  EXPECT_EQ(s->stats().requests, 0u);
}

// An ext handshake payload of exactly `size` bytes offering ut_metadata 3 and metadata_size.
std::string padded_ext_handshake(std::size_t size, std::int64_t metadata_size) {
  bencode::Item d;
  d["m"]["ut_metadata"] = 3;
  d["metadata_size"] = metadata_size;
  d["x"] = std::string();
  const std::size_t base = d.encode().size();
  std::size_t len = size - base;
  for (int i = 0; i < 3; ++i) {
    d["x"] = std::string(len, 'p');
    len += size - d.encode().size();
  }
  auto s = d.encode();
  EXPECT_EQ(s.size(), size);
  return s;
}

TEST_F(FetchTest, ExtHandshakeLengthCap) {
  behavior.raw_ext_handshake = padded_ext_handshake(config.max_message_size, 1000);
  run(v1_info(1000));
  expect_success(KeyMatch::V1);
  EXPECT_EQ(f->receive_buffer_capacity(), 0u);  // released after the big message

  behavior.raw_ext_handshake = padded_ext_handshake(config.max_message_size + 1, 1000);
  run(v1_info(1000));
  expect_failure(FailReason::ProtocolViolation, false, "extension handshake of 17409 bytes exceeds");
}

// A fetcher that has exchanged handshakes with a hand-driven peer and sent its requests.
struct Manual {
  std::string info;
  InfoHash ih;
  MetadataFetcher f;
  explicit Manual(std::size_t size = k40KiB, FetcherConfig cfg = {}, bool send_ext = true)
      : info(v1_info(size)), ih(v1_key(info)), f(cfg, ih, our_id()) {
    f.start(kT0);
    f.on_bytes(peer_handshake(ih), kT0);
    if (send_ext) f.on_bytes(peer_ext_handshake(static_cast<std::int64_t>(info.size())), kT0);
    (void)f.take_output();
  }
  std::int64_t total() const { return static_cast<std::int64_t>(info.size()); }
  std::string piece(std::uint32_t p) const {
    return info.substr(std::size_t{p} * kMetadataPieceSize,
                       metadata_piece_length(static_cast<std::uint32_t>(info.size()), p));
  }
  void feed(std::string_view bytes, TimePoint at = kT0) { f.on_bytes(bytes, at); }
  void expect(FailReason r, bool liar, std::string_view detail_part) {
    ASSERT_TRUE(f.done());
    EXPECT_EQ(f.failure_reason(), r) << to_string(f.failure_reason()) << ": " << f.failure_detail();
    EXPECT_EQ(f.is_liar(), liar);
    EXPECT_NE(f.failure_detail().find(detail_part), std::string_view::npos) << f.failure_detail();
  }
};

std::string ut_raw(std::string_view body, std::uint8_t ext = MetadataFetcher::kUtMetadataId) {
  std::string s;
  append_extended(s, ext, body);
  return s;
}

TEST(FetcherInput, UtMetadataMessageLengthCap) {
  Manual m;
  // Header only: the length alone (17409 > 17408) is refused before any body byte.
  std::string hdr;
  hdr += "\0\0\x44\x03\x14\x02"sv;  // length 17411 = 2 + 17409
  m.feed(hdr);
  m.expect(FailReason::ProtocolViolation, false, "ut_metadata message of 17409 bytes exceeds");
}

TEST(FetcherInput, WireLengthSanityCap) {
  FetcherConfig cfg;
  cfg.max_wire_message = 1000;
  Manual m(k40KiB, cfg);
  const auto before = m.f.bytes_read();
  m.feed("\0\0\x03\xe9"sv);  // 1001
  m.expect(FailReason::ProtocolViolation, false, "message length over sanity cap");
  EXPECT_EQ(m.f.bytes_read(), before + 4);
}

TEST(FetcherInput, DefaultWireSanityCapIs32MiB) {
  Manual m;
  m.feed("\x02\0\0\x01"sv);  // 32 MiB + 1
  m.expect(FailReason::ProtocolViolation, false, "sanity cap");
}

TEST(FetcherInput, UtHeaderLongerThanItsCap) {
  Manual m;
  // A dict whose header cannot fit in kMaxUtHeader bytes: refused once 1024 bytes are buffered.
  std::string body = "d8:msg_typei1e5:piecei0e1:x2000:" + std::string(2000, 'x') + "e";
  m.feed(ut_raw(body));
  m.expect(FailReason::ProtocolViolation, false, "not a bencoded dict");
  EXPECT_LE(m.f.receive_buffer_capacity(), MetadataFetcher::kMaxUtHeader);
}

TEST_F(FetchTest, ByteCapBeforeMetadataSizeIsKnown) {
  config.byte_slack = 1000;
  behavior.bitfield_bytes = 2000;
  run(v1_info(1000));
  expect_failure(FailReason::ByteLimitExceeded, false, "more than 1000 bytes");
  EXPECT_EQ(f->bytes_read(), 1000u);
}

TEST_F(FetchTest, ByteCapGrowsWithMetadataSize) {
  // 41 KB of metadata + ~400 bytes of framing fits in metadata_size + 1000.
  config.byte_slack = 1000;
  run(v1_info(k40KiB), std::nullopt, 100);
  expect_success(KeyMatch::V1);
  EXPECT_EQ(f->byte_limit(), k40KiB + 1000);
  EXPECT_LE(f->bytes_read(), f->byte_limit());
}

TEST(FetcherInput, ByteCapAfterMetadataSizeIsKnown) {
  FetcherConfig cfg;
  cfg.byte_slack = 5000;
  Manual m(3000, cfg);
  EXPECT_EQ(m.f.byte_limit(), 8000u);
  std::string noise;
  append_message(noise, kHave, "\0\0\0\x01"sv);  // 9 bytes each
  std::string flood;
  for (int i = 0; i < 1000; ++i) flood += noise;
  m.feed(flood);
  m.expect(FailReason::ByteLimitExceeded, false, "more than 8000 bytes");
  EXPECT_EQ(m.f.bytes_read(), 8000u);
}

TEST(FetcherInput, CompletingExactlyAtTheByteCapSucceeds) {
  const std::string info = v1_info(3000);
  const InfoHash ih = v1_key(info);
  const std::string hs = peer_handshake(ih);
  const std::string ext = peer_ext_handshake(3000);
  const std::string data = data_msg(0, 3000, info);
  FetcherConfig cfg;
  cfg.byte_slack = static_cast<std::uint32_t>(hs.size() + ext.size() + data.size() - 3000);
  MetadataFetcher f(cfg, ih, our_id());
  f.start(kT0);
  f.on_bytes(hs + ext + data + "extra bytes after the end", kT0);
  ASSERT_TRUE(f.succeeded()) << f.failure_detail();
  EXPECT_EQ(f.bytes_read(), f.byte_limit());
}

// ---------------------------------------------------------------------------------------------
// Deadlines

TEST_F(FetchTest, HandshakeTimeout) {
  behavior.silent = true;
  run(v1_info(1000));
  expect_failure(FailReason::HandshakeTimeout, false, "no handshake from the peer within 10000 ms");
  EXPECT_EQ(link->now, kT0 + 10s);
}

TEST_F(FetchTest, ExtHandshakeTimeout) {
  behavior.omit_ext_handshake = true;
  config.handshake_timeout = 3s;
  run(v1_info(1000));
  expect_failure(FailReason::HandshakeTimeout, false, "no extension handshake from the peer within 3000 ms");
  EXPECT_EQ(link->now, kT0 + 3s);
}

TEST_F(FetchTest, PieceTimeout) {
  behavior.ignore_requests = true;
  run(v1_info(k40KiB));
  expect_failure(FailReason::PieceTimeout, false, "no metadata piece completed within 10000 ms");
  EXPECT_EQ(link->now, kT0 + 10s);
  EXPECT_EQ(s->stats().requests, 3u);
}

TEST_F(FetchTest, SlowDripHitsThePieceTimeout) {
  behavior.drip_bytes = 1000;  // a 16 KiB piece takes > 16 s
  run(v1_info(k40KiB));
  expect_failure(FailReason::PieceTimeout, false);
}

TEST_F(FetchTest, SlowDripHitsTheTotalTimeout) {
  behavior.drip_bytes = 2500;  // each piece in < 7 s, all three in ~17 s
  config.total_timeout = 15s;
  run(v1_info(k40KiB));
  expect_failure(FailReason::TotalTimeout, false, "metadata not fetched within 15000 ms");
  EXPECT_EQ(link->now, kT0 + 15s);
  EXPECT_GE(f->stats().pieces_received, 1u);
}

TEST(FetcherDeadlines, PieceDeadlineRestartsOnEveryPiece) {
  Manual m;
  EXPECT_EQ(m.f.next_deadline(), kT0 + 10s);
  m.feed(data_msg(0, m.total(), m.piece(0)), kT0 + 8s);
  EXPECT_EQ(m.f.next_deadline(), kT0 + 18s);
  m.f.tick(kT0 + 17s);
  EXPECT_FALSE(m.f.done());
  m.f.tick(kT0 + 18s);
  EXPECT_EQ(m.f.failure_reason(), FailReason::PieceTimeout);
}

TEST(FetcherDeadlines, TotalDeadlineCapsThePieceDeadline) {
  FetcherConfig cfg;
  cfg.total_timeout = 12s;
  Manual m(k40KiB, cfg);
  m.feed(data_msg(0, m.total(), m.piece(0)), kT0 + 8s);
  EXPECT_EQ(m.f.next_deadline(), kT0 + 12s);
  m.f.tick(kT0 + 12s);
  EXPECT_EQ(m.f.failure_reason(), FailReason::TotalTimeout);
}

TEST(FetcherDeadlines, LateBytesDoNotReviveAnExpiredConnection) {
  Manual m;
  m.feed(data_msg(0, m.total(), m.piece(0)), kT0 + 10s);  // the piece deadline was kT0 + 10s
  EXPECT_EQ(m.f.failure_reason(), FailReason::PieceTimeout);
  EXPECT_EQ(m.f.stats().pieces_received, 0u);
}

TEST(FetcherDeadlines, EarliestExpiredDeadlineWinsAndTiesGoToThePhase) {
  FetcherConfig cfg;
  cfg.handshake_timeout = 10s;
  cfg.total_timeout = 10s;
  MetadataFetcher f(cfg, v1_key("x"), our_id());
  f.start(kT0);
  f.tick(kT0 + 9s);
  EXPECT_FALSE(f.done());
  f.tick(kT0 + 100s);
  EXPECT_EQ(f.failure_reason(), FailReason::HandshakeTimeout);

  cfg.total_timeout = 5s;
  MetadataFetcher g(cfg, v1_key("x"), our_id());
  g.start(kT0);
  EXPECT_EQ(g.next_deadline(), kT0 + 5s);
  g.tick(kT0 + 100s);
  EXPECT_EQ(g.failure_reason(), FailReason::TotalTimeout);
}

TEST(FetcherDeadlines, InfiniteTimeoutsDoNotOverflow) {
  FetcherConfig cfg;
  cfg.handshake_timeout = Duration::max();
  cfg.total_timeout = Duration::max();
  MetadataFetcher f(cfg, v1_key("x"), our_id());
  f.start(kT0);
  EXPECT_EQ(f.next_deadline(), kNever);
  f.tick(kT0 + std::chrono::hours(24 * 365));
  EXPECT_FALSE(f.done());
}

TEST(FetcherDeadlines, OnBytesBeforeStartStartsTheClock) {
  const std::string info = v1_info(1000);
  MetadataFetcher f(FetcherConfig{}, v1_key(info), our_id());
  f.on_bytes(peer_handshake(v1_key(info)), kT0);
  EXPECT_EQ(f.state(), MetadataFetcher::State::AwaitExtHandshake);
  EXPECT_EQ(f.next_deadline(), kT0 + 10s);
  EXPECT_EQ(f.pending_output(), kHandshakeSize + 59);  // our handshake, then our ext handshake
  f.tick(kT0 + 10s);
  EXPECT_EQ(f.failure_reason(), FailReason::HandshakeTimeout);
}

// ---------------------------------------------------------------------------------------------
// Lies

TEST_F(FetchTest, TotalSizeDiffersFromMetadataSize) {
  const std::string info = v1_info(k40KiB);
  behavior.total_size = static_cast<std::int64_t>(info.size()) + 1;
  run(info);
  expect_failure(FailReason::ProtocolViolation, true, "total_size 40961 differs from metadata_size 40960");
}

TEST_F(FetchTest, AdvertisedSizeTooBigMeansAShortLastPiece) {
  const auto size = static_cast<std::int64_t>(k40KiB);
  behavior.advertised_size = size + 1;
  behavior.total_size = size + 1;  // consistent lie
  run(v1_info(k40KiB));
  expect_failure(FailReason::ProtocolViolation, true,
                 "wrong piece size: piece 2 has 8192 bytes, expected 8193");
}

TEST_F(FetchTest, AdvertisedSizeTooSmallMeansDataBeyondTheEnd) {
  const auto size = static_cast<std::int64_t>(k40KiB);
  behavior.advertised_size = size - 1;
  behavior.total_size = size - 1;
  run(v1_info(k40KiB));
  expect_failure(FailReason::ProtocolViolation, true,
                 "data beyond total_size: last piece 2 has 8192 bytes, expected 8191");
}

TEST_F(FetchTest, SizeChangedInALaterExtHandshake) {
  behavior.second_metadata_size = static_cast<std::int64_t>(k40KiB) * 2;
  behavior.ignore_requests = true;
  run(v1_info(k40KiB));
  expect_failure(FailReason::ProtocolViolation, true, "metadata_size changed from 40960");
}

TEST_F(FetchTest, SameSizeInALaterExtHandshakeIsFine) {
  behavior.second_metadata_size = static_cast<std::int64_t>(k40KiB);
  run(v1_info(k40KiB));
  expect_success(KeyMatch::V1);
}

TEST(FetcherInput, LaterExtHandshakeMayChangeOrDisableUtMetadata) {
  {
    Manual m;
    m.feed(ext_handshake("d1:md6:ut_pexi1eee"));        // no ut_metadata entry: unchanged
    m.feed(ext_handshake("d1:md11:ut_metadatai9eee"));  // moved to id 9
    EXPECT_FALSE(m.f.done());
    for (std::uint32_t p = 0; p < 3; ++p) m.feed(data_msg(p, m.total(), m.piece(p)));
    ASSERT_TRUE(m.f.succeeded()) << m.f.failure_detail();
    EXPECT_EQ(requested_pieces(frames(m.f.take_output(), false), 9), (std::vector<std::int64_t>{}));
  }
  {
    Manual m(k40KiB, FetcherConfig{.max_outstanding = 1});
    m.feed(ext_handshake("d1:md11:ut_metadatai9eee"));
    m.feed(data_msg(0, m.total(), m.piece(0)));
    // The next request goes to the new id.
    EXPECT_EQ(requested_pieces(frames(m.f.take_output(), false), 9), (std::vector<std::int64_t>{1}));
    m.feed(ext_handshake("d1:md11:ut_metadatai0eee"));
    m.expect(FailReason::NoUtMetadata, false, "disabled");
  }
}

TEST_F(FetchTest, WrongPieceIndex) {
  behavior.piece_index_offset = 1;
  config.max_outstanding = 1;
  run(v1_info(k40KiB));
  expect_failure(FailReason::ProtocolViolation, true, "peer sent metadata piece 1, which we did not request");
}

TEST_F(FetchTest, NegativePieceIndex) {
  behavior.piece_index_offset = -1;
  run(v1_info(k40KiB));
  expect_failure(FailReason::ProtocolViolation, true, "peer sent metadata piece -1");
}

TEST_F(FetchTest, ShortPiece) {
  behavior.piece_length_delta = -1;
  behavior.piece_length_delta_only = 1;
  run(v1_info(k40KiB));
  expect_failure(FailReason::ProtocolViolation, true,
                 "wrong piece size: piece 1 has 16383 bytes, expected 16384");
}

TEST_F(FetchTest, LongPiece) {
  behavior.piece_length_delta = 1;
  behavior.piece_length_delta_only = 0;
  run(v1_info(k40KiB));
  expect_failure(FailReason::ProtocolViolation, true, "wrong piece size: piece 0 has 16385 bytes");
}

TEST_F(FetchTest, ExtraDataAfterTheLastPiece) {
  behavior.piece_length_delta = 10;
  behavior.piece_length_delta_only = 2;
  run(v1_info(k40KiB), std::nullopt, 1);
  expect_failure(FailReason::ProtocolViolation, true, "data beyond total_size: last piece 2 has 8202 bytes");
}

TEST_F(FetchTest, CorruptPieceIsAHashMismatchAndALiar) {
  behavior.corrupt_piece = 1;
  run(v1_info(k40KiB), std::nullopt, 333);
  expect_failure(FailReason::HashMismatch, true, "matches neither the v1 nor the v2 key");
  EXPECT_EQ(f->stats().pieces_received, 3u);
}

TEST_F(FetchTest, CorruptV2Piece) {
  behavior.corrupt_piece = 0;
  const std::string info = v2_info(5000);
  run(info, v2_key(info));
  expect_failure(FailReason::HashMismatch, true);
}

TEST_F(FetchTest, RejectIsNotALie) {
  behavior.reject_piece = 2;
  run(v1_info(k40KiB));
  expect_failure(FailReason::Rejected, false, "peer rejected metadata piece 2");
}

TEST_F(FetchTest, RejectAll) {
  behavior.reject_all = true;
  run(v1_info(k40KiB));
  expect_failure(FailReason::Rejected, false, "piece 0");
  EXPECT_EQ(f->stats().pieces_received, 0u);
}

TEST_F(FetchTest, UnsolicitedDataBeforeAnyRequest) {
  behavior.wait_for_ext_handshake = true;
  behavior.unsolicited_data = true;
  run(v1_info(k40KiB));
  expect_failure(FailReason::ProtocolViolation, true, "which we did not request");
}

TEST(FetcherInput, DuplicatePieceIsUnrequested) {
  Manual m;
  m.feed(data_msg(0, m.total(), m.piece(0)));
  m.feed(data_msg(0, m.total(), m.piece(0)));
  m.expect(FailReason::ProtocolViolation, true, "peer sent metadata piece 0, which we did not request");
}

TEST(FetcherInput, DataWithoutTotalSizeIsAccepted) {
  Manual m(3000);
  std::string body = "d8:msg_typei1e5:piecei0ee" + m.piece(0);
  m.feed(ut_raw(body));
  ASSERT_TRUE(m.f.succeeded()) << m.f.failure_detail();
}

// ---------------------------------------------------------------------------------------------
// Malformed messages

TEST(FetcherInput, ExtendedMessageWithoutExtId) {
  Manual m;
  std::string msg;
  append_message(msg, kExtended);
  m.feed(msg);
  m.expect(FailReason::ProtocolViolation, false, "extended message without an extended id");
}

TEST(FetcherInput, UtMessageMalformations) {
  struct Case {
    std::string body;
    std::string detail;
    bool liar;
  };
  const std::vector<Case> cases = {
      {"", "malformed ut_metadata message", false},
      {"i1e", "ut_metadata message is not a dict", false},
      {"d5:piecei0ee", "without an integer msg_type", false},
      {"d8:msg_type1:1e", "without an integer msg_type", false},
      {"d8:msg_typei1ee", "ut_metadata data without an integer piece", true},
      {"d8:msg_typei2ee", "ut_metadata reject without an integer piece", false},
      {"d8:msg_typei2e5:piecei7ee", "peer rejected piece 7, which we did not request", false},
      {"d8:msg_typei1e5:piecei0e", "not a bencoded dict", false},  // never closed
      {"xyz", "not a bencoded dict", false},
  };
  for (const auto& c : cases) {
    for (std::size_t chunk : {std::size_t{1}, SIZE_MAX}) {
      Manual m;
      const std::string msg = ut_raw(c.body);
      for (std::size_t i = 0; i < msg.size(); i += chunk) m.feed(std::string_view(msg).substr(i, chunk));
      SCOPED_TRACE(c.body);
      m.expect(FailReason::ProtocolViolation, c.liar, c.detail);
    }
  }
}

TEST(FetcherInput, UnknownUtMsgTypeAndOtherExtensionsAreIgnored) {
  Manual m(3000);
  m.feed(ut_raw("d8:msg_typei7e5:piecei0ee"));
  m.feed(ut_raw("d5:added0:e", 1));  // an extension we never advertised
  m.feed(ut_raw("anything", 200));
  EXPECT_FALSE(m.f.done());
  EXPECT_EQ(m.f.stats().messages_ignored, 3u);
  m.feed(data_msg(0, 3000, m.info));
  EXPECT_TRUE(m.f.succeeded()) << m.f.failure_detail();
}

TEST(FetcherInput, DataBeforeExtHandshake) {
  Manual m(3000, FetcherConfig{}, /*send_ext=*/false);
  m.feed(data_msg(0, 3000, m.info));
  m.expect(FailReason::ProtocolViolation, true, "which we did not request");
}

TEST(FetcherInput, ConnectFailedAndPeerClosed) {
  {
    MetadataFetcher f(FetcherConfig{}, v1_key("x"), our_id());
    f.on_connect_failed("connection refused");
    EXPECT_EQ(f.failure_reason(), FailReason::ConnectFailed);
    EXPECT_EQ(f.failure_detail(), "connection refused");
    f.on_peer_closed();  // no effect once done
    f.on_bytes("\x13", kT0);
    EXPECT_EQ(f.failure_reason(), FailReason::ConnectFailed);
    EXPECT_EQ(f.bytes_read(), 0u);
  }
  {
    MetadataFetcher f(FetcherConfig{}, v1_key("x"), our_id());
    f.on_connect_failed();
    EXPECT_EQ(f.failure_detail(), "connect failed");
  }
  {
    Manual m(3000, FetcherConfig{}, false);
    m.f.on_peer_closed();
    m.expect(FailReason::PeerClosed, false, "before its extension handshake");
  }
  {
    Manual m;
    m.feed(data_msg(0, m.total(), m.piece(0)));
    m.f.on_peer_closed();
    m.expect(FailReason::PeerClosed, false, "after 1 of 3 pieces");
  }
  {
    Manual m(3000);
    m.feed(data_msg(0, 3000, m.info));
    ASSERT_TRUE(m.f.succeeded());
    m.f.on_peer_closed();  // after success: still a success
    EXPECT_TRUE(m.f.succeeded());
  }
}

TEST(FetcherInput, JunkStreamsStayBounded) {
  std::mt19937 rng(12345);
  int failed = 0;
  for (int round = 0; round < 300; ++round) {
    FetcherConfig cfg;
    Manual m(k40KiB, cfg);
    std::string junk(4096, '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    // Sometimes make it look like framing so that deeper paths run.
    if (round % 3 == 0) junk.replace(0, 6, "\0\0\0\x40\x14\x02"sv);
    std::size_t i = 0;
    while (i < junk.size() && !m.f.done()) {
      const std::size_t n = 1 + rng() % 64;
      m.feed(std::string_view(junk).substr(i, n));
      i += n;
      ASSERT_LE(m.f.receive_buffer_capacity(), cfg.max_message_size);
      ASSERT_LE(m.f.pending_output(), 4096u);
    }
    if (m.f.done()) {
      ++failed;
      EXPECT_FALSE(m.f.succeeded());
    }
  }
  EXPECT_GT(failed, 200);  // random lengths are mostly over the sanity cap
}

// ---------------------------------------------------------------------------------------------
// Size budget: 2,000 connections mid-fetch.

TEST(FetcherBudget, TwoThousandConnectionsMidFetch) {
  const std::string info = v1_info(k40KiB);
  const InfoHash ih = v1_key(info);
  const std::string peer_in = peer_handshake(ih) +
                              peer_ext_handshake(static_cast<std::int64_t>(info.size())) +
                              data_msg(0, static_cast<std::int64_t>(info.size()), info.substr(0, 16384)) +
                              data_msg(1, static_cast<std::int64_t>(info.size()), info.substr(16384, 16384))
                                  .substr(0, 700);  // in the middle of piece 1
  std::vector<MetadataFetcher> conns;
  conns.reserve(2000);
  std::size_t footprint = 0;
  std::size_t max_recv = 0;
  for (int i = 0; i < 2000; ++i) {
    conns.emplace_back(FetcherConfig{}, ih, our_id());
    auto& f = conns.back();
    f.start(kT0);
    f.on_bytes(peer_in, kT0);
    (void)f.take_output();  // the adapter drains it
    ASSERT_EQ(f.state(), MetadataFetcher::State::Fetching);
    footprint += f.memory_footprint();
    max_recv = std::max(max_recv, f.receive_buffer_capacity());
  }
  const std::size_t per_conn = footprint / conns.size();
  std::cout << "[ budget ] sizeof(MetadataFetcher) = " << sizeof(MetadataFetcher)
            << " B, sizeof(Seeder) = " << sizeof(Seeder)
            << " B, sizeof(FrameReader) = " << sizeof(FrameReader)
            << " B\n[ budget ] per connection mid-fetch, excluding the " << info.size()
            << "-byte assembly buffer: " << per_conn << " B; largest receive buffer: " << max_recv << " B\n";
  EXPECT_LE(sizeof(MetadataFetcher), 1024u);
  EXPECT_LE(per_conn, 32u * 1024);
  EXPECT_LE(per_conn, 2048u);  // what we actually achieve: piece bytes are never buffered
  EXPECT_EQ(max_recv, 0u);  // mid-piece nothing is buffered: the payload streams into the assembly buffer
}

}  // namespace
}  // namespace bitscrape::peerwire
