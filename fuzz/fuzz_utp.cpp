// Fuzzes uTP datagram decoding and the connection state machine with arbitrary datagrams.
//
// Input: one mode byte, then chunks <n><n bytes>: each chunk is one datagram from the peer
// (n == 0 advances the virtual clock by the next byte's worth of 50 ms and calls tick()).
// Modes (mode byte % 3): 0: decode only; 1: an initiator whose SYN was answered (connected,
// with 20 KB queued to send); 2: an acceptor of a valid SYN. Datagrams are handed to the
// connection whatever their connection_id (the demultiplexer's check is not what is fuzzed),
// with the id patched in for half of them so more reach the state machine.
//
// Checked after every call: the connection's memory stays within its configured bounds, the
// app never receives more bytes than datagrams carried, and output datagrams decode.
#include "utp/connection.hpp"
#include "utp/packet.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace bitscrape;
using namespace bitscrape::utp;

namespace {

void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant failed: %s\n", what);
    std::abort();
  }
}

Config small_config() {
  Config c;
  c.max_send_buffer = 32 * 1024;
  c.max_receive_buffer = 16 * 1024;
  return c;
}

void drain(Connection& c, TimePoint now, std::size_t& received) {
  for (const auto& d : c.take_datagrams(now)) check(decode(d).ok(), "our datagram decodes");
  received += c.take_received().size();
  const auto cfg = small_config();
  // Send side: buffer + packet overhead; receive side: window + one packet + reorder slots.
  check(c.memory_footprint() < 4 * (cfg.max_send_buffer + cfg.max_receive_buffer) + 64 * 1024, "footprint bounded");
  check(c.received_size() <= cfg.max_receive_buffer + 2048, "receive buffer bounded");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const int mode = static_cast<unsigned char>(in[0]) % 3;
  TimePoint now{std::chrono::seconds(100)};
  const auto cfg = small_config();

  Connection c = Connection::connect(cfg, 100, 5000, now);
  if (mode == 1) {
    (void)c.take_datagrams(now);
    Packet ack;
    ack.header.type = Type::State;
    ack.header.connection_id = c.recv_id();
    ack.header.seq_nr = 9000;
    ack.header.ack_nr = 5000;
    ack.header.wnd_size = 1 << 20;
    c.on_packet(ack, now);
    check(c.connected(), "forged SYN-ACK connects");
    (void)c.write(std::string(20000, 'x'));
  } else if (mode == 2) {
    Packet syn;
    syn.header.type = Type::Syn;
    syn.header.connection_id = 700;
    syn.header.seq_nr = 1;
    syn.header.wnd_size = 1 << 20;
    c = Connection::accept(cfg, syn, 3000, now);
  }
  std::size_t received = 0;
  std::size_t carried = 0;
  drain(c, now, received);
  std::string patched;
  for (std::size_t at = 1; at < in.size();) {
    const std::size_t n = static_cast<unsigned char>(in[at++]);
    if (n == 0) {
      if (at < in.size()) now += std::chrono::milliseconds(50) * (1 + static_cast<unsigned char>(in[at++]));
      c.tick(now);
      drain(c, now, received);
      continue;
    }
    const auto chunk = in.substr(at, n);
    at += chunk.size();
    auto pk = decode(chunk);
    if (!pk || mode == 0) continue;
    if ((n & 1) != 0 && chunk.size() >= kHeaderSize) {
      patched.assign(chunk);
      patched[2] = static_cast<char>(c.recv_id() >> 8);
      patched[3] = static_cast<char>(c.recv_id());
      pk = decode(patched);
      if (!pk) continue;
    }
    carried += pk->payload.size();
    c.on_packet(*pk, now);
    drain(c, now, received);
    check(received <= carried, "never delivers more than it was sent");
  }
  return 0;
}
