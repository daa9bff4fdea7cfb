// Test helpers for peerwire: info-dict builders, a frame splitter for captured output, and an
// in-memory link that wires a MetadataFetcher to a Seeder on a virtual clock (no sockets).
#pragma once

#include "bencode/decoder.hpp"
#include "filler.hpp"
#include "bencode/encoder.hpp"
#include "metainfo/verify.hpp"
#include "peerwire/fetcher.hpp"
#include "peerwire/seeder.hpp"
#include "peerwire/wire.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bitscrape::peerwire::test {

inline const TimePoint kT0 = TimePoint{} + std::chrono::hours(1);

using test_support::filler;  // deterministic bytes: a flipped byte changes the hash

// Grows the string stored under `pad_key` until the whole dict encodes to exactly `size` bytes.
inline std::string pad_to(bencode::Item info, const std::string& pad_key, std::size_t size,
                          std::uint32_t seed) {
  info[pad_key] = std::string();
  const std::size_t base = info.encode().size();
  EXPECT_GE(size, base + 10);
  std::size_t len = size - base;
  for (int i = 0; i < 4; ++i) {
    info[pad_key] = filler(len, seed);
    const std::size_t got = info.encode().size();
    if (got == size) break;
    len = len + size - got;
  }
  auto out = info.encode();
  EXPECT_EQ(out.size(), size);
  return out;
}

// A v1 info dict of exactly `size` bytes (the `pieces` string is padded).
inline std::string v1_info(std::size_t size, std::uint32_t seed = 1) {
  bencode::Item info;
  info["name"] = "peerwire-test-" + std::to_string(seed);
  info["piece length"] = 262144;
  info["length"] = 123456789;
  return pad_to(std::move(info), "pieces", size, seed);
}

// A v2 info dict (meta version 2, file tree) of exactly `size` bytes; its key is the
// SHA-256 truncated to 20 bytes.
inline std::string v2_info(std::size_t size, std::uint32_t seed = 2) {
  bencode::Item file;
  file["length"] = 1048576;
  file["pieces root"] = filler(32, seed);
  bencode::Item leaf;
  leaf[""] = file;
  bencode::Item tree;
  tree["data.bin"] = leaf;
  bencode::Item info;
  info["meta version"] = 2;
  info["file tree"] = tree;
  info["name"] = "peerwire-v2";
  info["piece length"] = 65536;
  return pad_to(std::move(info), "x-padding", size, seed);
}

inline InfoHash v1_key(std::string_view info) {
  return metainfo::hash_info(info).v1;
}
inline InfoHash v2_key(std::string_view info) {
  return metainfo::hash_info(info).v2_truncated();
}

inline PeerId our_id() {
  return make_peer_id(kDefaultPeerIdPrefix, "0123456789ab");
}
inline PeerId their_id() {
  return make_peer_id("-XX1000-", "abcdefghijkl");
}

// One message as seen on the wire.
struct Frame {
  std::uint8_t id = 0;
  bool has_ext = false;
  std::uint8_t ext = 0;
  std::string body;
};

// Splits captured bytes into frames; `with_handshake` skips a leading 68-byte handshake.
inline std::vector<Frame> frames(std::string_view bytes, bool with_handshake) {
  std::vector<Frame> out;
  if (with_handshake) {
    EXPECT_GE(bytes.size(), kHandshakeSize);
    bytes.remove_prefix(std::min(bytes.size(), kHandshakeSize));
  }
  while (bytes.size() >= 4) {
    const auto* u = reinterpret_cast<const unsigned char*>(bytes.data());
    const std::uint32_t len =
        (std::uint32_t{u[0]} << 24) | (std::uint32_t{u[1]} << 16) | (std::uint32_t{u[2]} << 8) | u[3];
    EXPECT_LE(4 + std::size_t{len}, bytes.size()) << "truncated frame";
    if (4 + std::size_t{len} > bytes.size()) break;
    if (len == 0) {
      bytes.remove_prefix(4);
      continue;
    }
    Frame f;
    f.id = u[4];
    std::size_t hdr = 5;
    if (f.id == kExtended && len >= 2) {
      f.has_ext = true;
      f.ext = u[5];
      hdr = 6;
    }
    f.body = std::string(bytes.substr(hdr, 4 + len - hdr));
    out.push_back(std::move(f));
    bytes.remove_prefix(4 + len);
  }
  EXPECT_TRUE(bytes.empty()) << "trailing partial frame";
  return out;
}

// ut_metadata requests (msg_type 0) in captured fetcher output sent with ext id `ext`.
inline std::vector<std::int64_t> requested_pieces(const std::vector<Frame>& fs, std::uint8_t ext) {
  std::vector<std::int64_t> pieces;
  for (const auto& f : fs) {
    if (f.id != kExtended || !f.has_ext || f.ext != ext) continue;
    bencode::Document doc;
    if (!bencode::decode(f.body, doc)) continue;
    if (doc.root().get_int("msg_type") == 0) pieces.push_back(*doc.root().get_int("piece"));
  }
  return pieces;
}

inline std::string peer_handshake(const InfoHash& ih, bool ext = true, bool v2 = false) {
  std::string s;
  append_handshake(s, make_reserved(ext, v2), ih, their_id());
  return s;
}

inline std::string ext_handshake(std::string_view payload) {
  std::string s;
  append_extended(s, kExtHandshakeId, payload);
  return s;
}

// A peer ext handshake offering ut_metadata as id `ut` with `metadata_size`.
inline std::string peer_ext_handshake(std::int64_t metadata_size, std::int64_t ut = Seeder::kUtMetadataId) {
  std::string p;
  bencode::Writer(p)
      .begin_dict()
      .key("m")
      .begin_dict()
      .entry("ut_metadata", ut)
      .end()
      .entry("metadata_size", metadata_size)
      .entry("v", "Hand 1.0")
      .end();
  return ext_handshake(p);
}

// A ut_metadata data message as the fetcher must receive it (with the fetcher's ut id).
inline std::string data_msg(std::int64_t piece, std::int64_t total, std::string_view bytes) {
  std::string s;
  append_ut_data(s, MetadataFetcher::kUtMetadataId, piece, total, bytes);
  return s;
}

// Wires a fetcher and a seeder together, byte streams in both directions, on a virtual clock.
// Bytes are delivered `chunk` at a time; time only moves when nothing is in flight, straight
// to the earliest deadline of either side.
struct Link {
  MetadataFetcher& f;
  Seeder& s;
  TimePoint now = kT0;
  std::size_t chunk = SIZE_MAX;
  std::size_t max_recv_capacity = 0;  // largest fetcher receive buffer seen between chunks
  std::size_t max_footprint = 0;      // largest fetcher memory_footprint() seen between chunks
  std::uint64_t to_seeder = 0;
  std::uint64_t to_fetcher = 0;

  void deliver_to_fetcher(std::string_view bytes) {
    while (!bytes.empty() && !f.done()) {
      const std::size_t n = std::min(chunk, bytes.size());
      f.on_bytes(bytes.substr(0, n), now);
      to_fetcher += n;
      bytes.remove_prefix(n);
      max_recv_capacity = std::max(max_recv_capacity, f.receive_buffer_capacity());
      max_footprint = std::max(max_footprint, f.memory_footprint());
    }
  }
  void deliver_to_seeder(std::string_view bytes) {
    while (!bytes.empty() && !s.done()) {
      const std::size_t n = std::min(chunk, bytes.size());
      s.on_bytes(bytes.substr(0, n), now);
      to_seeder += n;
      bytes.remove_prefix(n);
    }
  }

  // Runs until the fetcher is done (or nothing can happen any more).
  void run(int max_rounds = 100000) {
    f.start(now);
    s.start(now);
    for (int round = 0; round < max_rounds && !f.done(); ++round) {
      bool moved = false;
      if (const std::string a = f.take_output(); !a.empty()) {
        moved = true;
        deliver_to_seeder(a);
      }
      if (const std::string b = s.take_output(); !b.empty()) {
        moved = true;
        deliver_to_fetcher(b);
      }
      if (f.done()) break;
      if (s.done() && s.pending_output() == 0) {  // the adapter closes the socket
        f.on_peer_closed();
        break;
      }
      if (!moved) {
        const TimePoint next = std::min(f.next_deadline(), s.next_deadline());
        if (next == kNever) break;
        now = std::max(now, next);
        f.tick(now);
        s.tick(now);
      }
    }
  }
};

}  // namespace bitscrape::peerwire::test
