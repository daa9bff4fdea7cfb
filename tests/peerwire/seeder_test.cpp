// Seeder on its own: exact bytes of what it sends, every end reason, every misbehaviour knob.
#include "peerwire/seeder.hpp"

#include "harness.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace bitscrape::peerwire {
namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;
using namespace std::string_view_literals;
using namespace test;

struct Rig {
  SingleMetadata src;
  SeederBehavior b;
  SeederConfig cfg;
  std::optional<Seeder> s;

  explicit Rig(std::size_t size = 40 * 1024) : src(v1_info(size)) { cfg.behavior = &b; }
  Seeder& make(std::optional<IpAddress> peer = std::nullopt) {
    s.emplace(cfg, src, peer);
    s->start(kT0);
    return *s;
  }
  std::string hello(const InfoHash& key) const {
    std::string hs;
    append_handshake(hs, make_reserved(true, false), key, our_id());
    return hs;
  }
  std::string hello() const { return hello(src.v1_key()); }
  static std::string fetcher_ext() { return ext_handshake("d1:md11:ut_metadatai2eee"); }
  static std::string request(std::int64_t piece) {
    std::string r;
    append_ut_request(r, Seeder::kUtMetadataId, piece);
    return r;
  }
};

TEST(SingleMetadata, AnswersBothKeysAndReferencesItsBytes) {
  SingleMetadata m(v2_info(3000));
  EXPECT_EQ(m.v1_key(), v1_key(m.info()));
  EXPECT_EQ(m.v2_key(), v2_key(m.info()));
  ASSERT_TRUE(m.find(m.v1_key()));
  EXPECT_EQ(m.find(m.v1_key())->data(), m.info().data());  // a view, not a copy
  EXPECT_EQ(m.find(m.v2_key())->data(), m.info().data());
  EXPECT_FALSE(m.find(InfoHash{}));
}

TEST(Seeder, AnswersTheHandshakeWithExtensionBitAndExtHandshake) {
  Rig r(5000);
  auto& s = r.make(IpAddress::v4(0x7f000001));
  EXPECT_EQ(s.next_deadline(), kT0 + 30s);
  s.on_bytes(r.hello(), kT0);
  EXPECT_TRUE(s.serving());
  const std::string out = s.take_output();
  Handshake h;
  ASSERT_TRUE(parse_handshake(std::string_view(out).substr(0, kHandshakeSize), h));
  EXPECT_EQ(h.info_hash, r.src.v1_key());
  EXPECT_EQ(h.peer_id, r.cfg.peer_id);
  EXPECT_TRUE(h.supports_extensions());
  EXPECT_FALSE(h.supports_v2());
  const auto fs = frames(out, true);
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].ext, kExtHandshakeId);
  EXPECT_EQ(fs[0].body,
            "d1:md11:ut_metadatai3e6:ut_pexi1ee13:metadata_sizei5000e4:reqqi250e1:v20:BitScrape 0.1 seeder"
            "6:yourip4:\x7f\0\0\x01"
            "e"sv);
}

TEST(Seeder, ServesTheV2KeyToo) {
  Rig r(5000);
  auto& s = r.make();
  s.on_bytes(r.hello(r.src.v2_key()), kT0);
  EXPECT_TRUE(s.serving());
  Handshake h;
  ASSERT_TRUE(parse_handshake(s.take_output().substr(0, kHandshakeSize), h));
  EXPECT_EQ(h.info_hash, r.src.v2_key());
}

TEST(Seeder, AnswersRequestsWithDataOrReject) {
  Rig r;
  auto& s = r.make();
  s.on_bytes(r.hello(), kT0);
  (void)s.take_output();
  s.on_bytes(Rig::fetcher_ext() + Rig::request(0) + Rig::request(2) + Rig::request(3) + Rig::request(-1),
             kT0);
  const auto fs = frames(s.take_output(), false);
  ASSERT_EQ(fs.size(), 4u);
  const std::string info(r.src.info());
  for (const auto& f : fs) EXPECT_EQ(f.ext, 2);  // the fetcher's id
  EXPECT_EQ(fs[0].body, "d8:msg_typei1e5:piecei0e10:total_sizei40960ee" + info.substr(0, 16384));
  EXPECT_EQ(fs[1].body, "d8:msg_typei1e5:piecei2e10:total_sizei40960ee" + info.substr(32768));
  EXPECT_EQ(fs[2].body, "d8:msg_typei2e5:piecei3ee");
  EXPECT_EQ(fs[3].body, "d8:msg_typei2e5:piecei-1ee");
  EXPECT_EQ(s.stats().requests, 4u);
  EXPECT_EQ(s.stats().pieces_sent, 2u);
  EXPECT_EQ(s.stats().rejects_sent, 2u);
  EXPECT_FALSE(s.done());
}

TEST(Seeder, NoAnswersWithoutThePeersExtHandshake) {
  Rig r;
  auto& s = r.make();
  s.on_bytes(r.hello() + Rig::request(0), kT0);
  EXPECT_EQ(frames(s.take_output(), true).size(), 1u);  // only our ext handshake
  EXPECT_EQ(s.stats().requests, 1u);
  EXPECT_EQ(s.stats().pieces_sent, 0u);
  // A malformed ext handshake leaves us without the id too.
  s.on_bytes(ext_handshake("not bencode") + ext_handshake("d1:md11:ut_metadatai0eee") + Rig::request(0), kT0);
  EXPECT_EQ(s.pending_output(), 0u);
  EXPECT_FALSE(s.done());
}

TEST(Seeder, IgnoresOtherMessages) {
  Rig r;
  auto& s = r.make();
  std::string noise;
  append_message(noise, kInterested);
  append_message(noise, kBitfield, std::string(100000, '\xff'));
  append_extended(noise, 1, "d5:added0:e");
  append_extended(noise, Seeder::kUtMetadataId, "d8:msg_typei1e5:piecei0ee");  // data to a seeder
  append_extended(noise, Seeder::kUtMetadataId, "junk");
  s.on_bytes(r.hello() + Rig::fetcher_ext() + noise, kT0);
  EXPECT_EQ(s.stats().messages_ignored, 5u);
  EXPECT_FALSE(s.done());
  EXPECT_LE(s.receive_buffer_capacity(), 256u);
}

TEST(Seeder, UnknownInfoHash) {
  Rig r;
  auto& s = r.make();
  s.on_bytes(r.hello(InfoHash{}), kT0);
  EXPECT_TRUE(s.done());
  EXPECT_EQ(s.end_reason(), SeederEnd::UnknownInfoHash);
  EXPECT_EQ(s.end_detail(), "no metadata for 0000000000000000000000000000000000000000");
  EXPECT_EQ(s.pending_output(), 0u);
  EXPECT_EQ(s.next_deadline(), kNever);
}

TEST(Seeder, BadHandshakeAndLaterFramingErrors) {
  {
    Rig r;
    auto& s = r.make();
    s.on_bytes("GET / HTTP/1.1\r\n", kT0);
    EXPECT_EQ(s.end_reason(), SeederEnd::BadHandshake);
  }
  {
    Rig r;
    r.cfg.max_wire_message = 100;
    auto& s = r.make();
    s.on_bytes(r.hello() + "\0\0\0\x65"s, kT0);
    EXPECT_EQ(s.end_reason(), SeederEnd::ProtocolViolation);
    EXPECT_EQ(s.end_detail(), "message length over sanity cap");
  }
  {
    Rig r;
    auto& s = r.make();
    std::string m;
    append_message(m, kExtended);
    s.on_bytes(r.hello() + m, kT0);
    EXPECT_EQ(s.end_reason(), SeederEnd::ProtocolViolation);
    EXPECT_EQ(s.end_detail(), "extended message without an extended id");
  }
  {
    Rig r;
    r.cfg.max_message_size = 50;
    auto& s = r.make();
    s.on_bytes(r.hello() + ext_handshake(std::string(51, 'x')), kT0);
    EXPECT_EQ(s.end_reason(), SeederEnd::ProtocolViolation);
    EXPECT_EQ(s.end_detail(), "extended message of 51 bytes exceeds the cap");
  }
}

TEST(Seeder, Deadlines) {
  {
    Rig r;
    auto& s = r.make();
    s.tick(kT0 + 29s);
    EXPECT_FALSE(s.done());
    s.on_bytes(r.hello(), kT0 + 20s);  // activity pushes the idle deadline
    EXPECT_EQ(s.next_deadline(), kT0 + 50s);
    s.tick(kT0 + 50s);
    EXPECT_EQ(s.end_reason(), SeederEnd::IdleTimeout);
  }
  {
    Rig r;
    r.cfg.max_lifetime = 45s;
    auto& s = r.make();
    s.on_bytes(r.hello(), kT0 + 20s);
    EXPECT_EQ(s.next_deadline(), kT0 + 45s);
    s.on_bytes(Rig::fetcher_ext(), kT0 + 45s);  // late bytes: the deadline applies first
    EXPECT_EQ(s.end_reason(), SeederEnd::LifetimeExceeded);
  }
}

TEST(Seeder, ByteLimitAndOutputBacklog) {
  {
    Rig r;
    r.cfg.max_bytes_read = 100;
    auto& s = r.make();
    s.on_bytes(r.hello(), kT0);
    s.on_bytes(std::string(33, '\0'), kT0);
    EXPECT_EQ(s.end_reason(), SeederEnd::ByteLimitExceeded);
  }
  {
    Rig r;
    r.cfg.max_output_backlog = 20000;
    auto& s = r.make();
    s.on_bytes(r.hello() + Rig::fetcher_ext() + Rig::request(0), kT0);
    EXPECT_FALSE(s.done());  // ~16.6 KB waiting
    s.on_bytes(Rig::request(1), kT0);
    EXPECT_EQ(s.end_reason(), SeederEnd::OutputBacklog);
    EXPECT_EQ(s.pending_output(), 0u);
  }
}

TEST(Seeder, PeerClosed) {
  Rig r;
  auto& s = r.make();
  s.on_peer_closed();
  EXPECT_EQ(s.end_reason(), SeederEnd::PeerClosed);
  s.on_bytes(r.hello(), kT0);  // ignored once done
  EXPECT_FALSE(s.serving());
  EXPECT_EQ(to_string(SeederEnd::OutputBacklog), "output-backlog");
}

TEST(Seeder, DripReleasesOutputOnTheTimer) {
  Rig honest(5000);
  auto& h = honest.make();
  h.on_bytes(honest.hello(), kT0);
  const std::string all = h.take_output();

  Rig r(5000);
  r.b.drip_bytes = 50;
  r.b.drip_interval = 2s;
  auto& s = r.make();
  s.on_bytes(r.hello(), kT0);
  std::string got = s.take_output();
  EXPECT_EQ(got.size(), 50u);
  EXPECT_EQ(s.next_deadline(), kT0 + 2s);
  s.tick(kT0 + 1s);
  EXPECT_EQ(s.pending_output(), 0u);
  TimePoint t = kT0;
  while (got.size() < all.size()) {
    t = s.next_deadline();
    s.tick(t);
    const std::string part = s.take_output();
    ASSERT_LE(part.size(), 50u);
    got += part;
  }
  EXPECT_EQ(got, all);
  EXPECT_EQ(t, kT0 + 2s * static_cast<int>((all.size() - 1) / 50));
  EXPECT_EQ(s.next_deadline(), kT0 + 30s);  // nothing held: only the idle deadline is left
}

TEST(Seeder, Misbehaviours) {
  {
    Rig r(1000);
    r.b.silent = true;
    auto& s = r.make();
    s.on_bytes(r.hello() + Rig::fetcher_ext() + Rig::request(0), kT0);
    EXPECT_EQ(s.pending_output(), 0u);
  }
  {
    Rig r(1000);
    r.b.bad_protocol = true;
    r.b.wrong_info_hash = true;
    r.b.extension_bit = false;
    r.b.v2_bit = true;
    auto& s = r.make();
    s.on_bytes(r.hello(), kT0);
    const std::string out = s.take_output();
    EXPECT_EQ(out.substr(0, 20),
              "\x13"
              "BitTorrent protocoX");
    EXPECT_EQ(out.substr(20, 8), "\0\0\0\0\0\0\0\x10"sv);
    EXPECT_NE(out.substr(28, 20), r.src.v1_key().view());
  }
  {
    Rig r(1000);
    r.b.omit_ut_metadata = true;
    r.b.omit_metadata_size = true;
    r.b.reqq = 2;
    r.b.second_metadata_size = 77;
    auto& s = r.make();
    s.on_bytes(r.hello(), kT0);
    const auto fs = frames(s.take_output(), true);
    ASSERT_EQ(fs.size(), 2u);
    EXPECT_EQ(fs[0].body, "d1:md6:ut_pexi1ee4:reqqi2e1:v20:BitScrape 0.1 seedere");
    EXPECT_EQ(fs[1].body, "d13:metadata_sizei77ee");
  }
  {
    Rig r(1000);
    r.b.chatter = true;
    r.b.bitfield_bytes = 3;
    r.b.ut_metadata_id = 300;
    r.b.advertised_size = 5;
    auto& s = r.make();
    s.on_bytes(r.hello(), kT0);
    const auto fs = frames(s.take_output(), true);
    std::vector<int> ids;
    for (const auto& f : fs) ids.push_back(f.has_ext ? 1000 + f.ext : f.id);
    EXPECT_EQ(ids, (std::vector<int>{kChoke, kUnchoke, kInterested, kNotInterested, kHave, kRequest, kPiece,
                                     kCancel, kPort, 99, 1001, 1077, kBitfield, 1000}));
    EXPECT_EQ(
        fs.back().body,
        "d1:md11:ut_metadatai300e6:ut_pexi1ee13:metadata_sizei5e4:reqqi250e1:v20:BitScrape 0.1 seedere");
  }
  {
    Rig r(1000);
    r.b.raw_ext_handshake = "raw!";
    r.b.omit_ext_handshake = false;
    auto& s = r.make();
    s.on_bytes(r.hello(), kT0);
    EXPECT_EQ(frames(s.take_output(), true).back().body, "raw!");
  }
  {
    Rig r(1000);
    r.b.omit_ext_handshake = true;
    auto& s = r.make();
    s.on_bytes(r.hello(), kT0);
    EXPECT_EQ(s.take_output().size(), kHandshakeSize);
  }
  {
    Rig r;
    r.b.wait_for_ext_handshake = true;
    r.b.unsolicited_data = true;
    auto& s = r.make();
    s.on_bytes(r.hello(), kT0);
    EXPECT_EQ(s.take_output().size(), kHandshakeSize);
    s.on_bytes(Rig::fetcher_ext(), kT0);
    const auto fs = frames(s.take_output(), false);
    ASSERT_EQ(fs.size(), 2u);
    EXPECT_EQ(fs[0].body.substr(0, 45), "d8:msg_typei1e5:piecei0e10:total_sizei40960ee");
    EXPECT_EQ(fs[1].ext, kExtHandshakeId);
  }
  {
    Rig r;
    r.b.corrupt_piece = 1;
    r.b.piece_length_delta = -100;
    r.b.piece_length_delta_only = 2;
    r.b.piece_index_offset = 10;
    r.b.total_size = 1;
    r.b.reject_piece = 0;
    auto& s = r.make();
    s.on_bytes(r.hello() + Rig::fetcher_ext(), kT0);
    (void)s.take_output();
    s.on_bytes(Rig::request(0) + Rig::request(1) + Rig::request(2), kT0);
    const auto fs = frames(s.take_output(), false);
    ASSERT_EQ(fs.size(), 3u);
    const std::string info(r.src.info());
    EXPECT_EQ(fs[0].body, "d8:msg_typei2e5:piecei0ee");
    const std::string h1 = "d8:msg_typei1e5:piecei11e10:total_sizei1ee";
    ASSERT_EQ(fs[1].body.size(), h1.size() + 16384);
    EXPECT_EQ(fs[1].body.substr(0, h1.size()), h1);
    std::string corrupted = info.substr(16384, 16384);
    corrupted[8192] = static_cast<char>(corrupted[8192] ^ 1);
    EXPECT_EQ(fs[1].body.substr(h1.size()), corrupted);
    EXPECT_EQ(fs[2].body, "d8:msg_typei1e5:piecei12e10:total_sizei1ee" + info.substr(32768, 8192 - 100));
  }
  {
    Rig r(1000);
    r.b.piece_length_delta = 3;
    auto& s = r.make();
    s.on_bytes(r.hello() + Rig::fetcher_ext() + Rig::request(0), kT0);
    const auto fs = frames(s.take_output(), true);
    EXPECT_EQ(fs.back().body,
              "d8:msg_typei1e5:piecei0e10:total_sizei1000ee" + std::string(r.src.info()) + "JJJ");
  }
  {
    Rig r(1000);
    r.b.reject_all = true;
    auto& s = r.make();
    s.on_bytes(r.hello() + Rig::fetcher_ext() + Rig::request(0), kT0);
    EXPECT_EQ(frames(s.take_output(), true).back().body, "d8:msg_typei2e5:piecei0ee");
  }
  {
    Rig r(1000);
    r.b.ignore_requests = true;
    auto& s = r.make();
    s.on_bytes(r.hello() + Rig::fetcher_ext() + Rig::request(0), kT0);
    EXPECT_EQ(frames(s.take_output(), true).size(), 1u);
    EXPECT_EQ(s.stats().requests, 1u);
  }
}

}  // namespace
}  // namespace bitscrape::peerwire
