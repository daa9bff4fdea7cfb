// Fuzzes the peer wire state machines with arbitrary peer bytes.
//
// Input: one mode byte, then chunks. A chunk is <n><n bytes> fed to on_bytes() in one call; n == 0
// advances the virtual clock by the next byte's worth of 100 ms steps and calls tick().
// Modes (mode byte % 4) choose how much valid conversation precedes the fuzzed bytes:
//   0: nothing — raw bytes from the start (the handshake parser);
//   1: a valid peer handshake;
//   2: handshake + ext handshake (metadata_size 20000, 2 pieces): the fetcher is Fetching;
//   3: as 2 plus piece 0: only the last piece is missing.
// The same chunks also go to a Seeder (after a valid fetcher handshake in modes 1-3).
//
// Checked after every call: the fetcher's receive buffer, output and footprint stay bounded,
// it never reads past its byte limit, and a success is a real hash match.
#include "metainfo/verify.hpp"
#include "peerwire/fetcher.hpp"
#include "peerwire/seeder.hpp"
#include "peerwire/wire.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace bitscrape;
using namespace bitscrape::peerwire;

namespace {

// The metadata the fuzz peer "has": a 20000-byte dict (2 pieces: 16384 + 3616). The seeds in
// fuzz/corpus/peerwire/ are honest and lying transcripts of a peer serving these bytes.
const std::string& info() {
  static const std::string s = [] {
    const std::size_t n = 20000 - 14;  // "d4:name19986:" + n bytes + "e"
    return "d4:name" + std::to_string(n) + ":" + std::string(n, 'a') + "e";
  }();
  return s;
}

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

void check_fetcher(MetadataFetcher& f, const FetcherConfig& cfg) {
  check(f.receive_buffer_capacity() <= 2 * std::size_t{cfg.max_message_size}, "receive buffer bounded");
  check(f.bytes_read() <= f.byte_limit(), "byte limit");
  check(f.pending_output() <= 64 * 1024, "output bounded");
  check(f.memory_footprint() <= 64 * 1024, "footprint bounded");
  if (f.succeeded()) {
    check(metainfo::match_key(f.metadata(), metainfo::hash_info(info()).v1) != metainfo::KeyMatch::None,
          "success means a hash match");
  }
  if (f.done()) check(f.next_deadline() == kNever, "no deadline once done");
  (void)f.take_output();  // the adapter drains it
}

std::string peer_prefix(int mode, const InfoHash& ih) {
  std::string s;
  if (mode >= 1)
    append_handshake(s, make_reserved(true, false), ih, make_peer_id("-FZ0001-", "fuzzfuzzfuzz"));
  if (mode >= 2) {
    append_extended(s, kExtHandshakeId, "d1:md11:ut_metadatai3ee13:metadata_sizei20000e1:v4:fuzze");
  }
  if (mode >= 3) {
    append_ut_data(s, MetadataFetcher::kUtMetadataId, 0, 20000, std::string_view(info()).substr(0, 16384));
  }
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const int mode = data[0] % 4;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);

  static const InfoHash ih = metainfo::hash_info(info()).v1;
  static const SingleMetadata source(info());

  FetcherConfig cfg;
  cfg.byte_slack = 64 * 1024;  // small enough that the fuzzer reaches it
  MetadataFetcher f(cfg, ih, make_peer_id(kDefaultPeerIdPrefix, "000000000000"));
  TimePoint now = TimePoint{} + std::chrono::hours(1);
  f.start(now);
  check_fetcher(f, cfg);

  SeederConfig scfg;
  scfg.max_output_backlog = 256 * 1024;
  Seeder s(scfg, source, IpAddress::v4(0x7f000001));
  s.start(now);

  const std::string prefix = peer_prefix(mode, ih);
  f.on_bytes(prefix, now);
  check_fetcher(f, cfg);
  if (mode >= 1) {
    std::string hello;
    append_handshake(hello, make_reserved(true, false), ih, make_peer_id("-BS0001-", "xxxxxxxxxxxx"));
    append_extended(hello, kExtHandshakeId, "d1:md11:ut_metadatai2eee");
    s.on_bytes(hello, now);
    (void)s.take_output();
  }

  while (!in.empty()) {
    const auto n = static_cast<std::uint8_t>(in.front());
    in.remove_prefix(1);
    if (n == 0) {
      const std::size_t steps = in.empty() ? 1 : static_cast<std::uint8_t>(in.front());
      if (!in.empty()) in.remove_prefix(1);
      now += std::chrono::milliseconds(100) * static_cast<int>(steps);
      f.tick(now);
      s.tick(now);
    } else {
      const std::string_view chunk = in.substr(0, n);
      in.remove_prefix(chunk.size());
      f.on_bytes(chunk, now);
      s.on_bytes(chunk, now);
    }
    check_fetcher(f, cfg);
    check(s.receive_buffer_capacity() <= 2 * std::size_t{scfg.max_message_size}, "seeder receive buffer");
    check(s.pending_output() <= scfg.max_output_backlog, "seeder backlog");
    (void)s.take_output();
  }
  f.on_peer_closed();
  check(f.done(), "closed means done");
  (void)f.take_result();
  return 0;
}
