// WireDriver: runs one sans-I/O peer-wire machine (peerwire::MetadataFetcher, peerwire::Seeder)
// over one net::Transport (TCP, uTP). The only copy of the read/pump/write loop: the fetch pool
// and the testnet's seeders both use it, over either transport.
//
//   transport connected  -> machine.start(now), pump
//   bytes                -> machine.on_bytes(bytes, now)        (stops reading once it is done)
//   end of a read burst  -> pump
//   timer at deadline    -> machine.tick(now), pump
//   transport closed     -> machine hears it (connect failed, or peer closed), finish
//   pump: write machine.take_output(); done -> finish (after the output is handed on, within
//         flush_grace, when flush_grace > 0: a seeder that answered and then closed must not
//         lose its answer); else re-arm the one timer at machine.next_deadline().
// finish closes the transport and calls on_finish exactly once; the machine is not touched after.
//
// Ownership: the caller owns the machine (it reads the result from it in on_finish) and keeps
// the driver in a shared_ptr; the driver keeps itself alive while asio holds its handlers.
// on_finish may destroy the machine and drop the caller's pointer to the driver.
//
// Threading: the io_context's thread.
#pragma once

#include "common/time.hpp"
#include "net/transport.hpp"

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace bitscrape::net {

// What the driver needs of a machine; WireMachineOf<M> adapts the peerwire classes.
class WireMachine {
 public:
  virtual ~WireMachine() = default;
  virtual void start(TimePoint now) = 0;
  virtual void on_bytes(std::string_view bytes, TimePoint now) = 0;
  virtual void tick(TimePoint now) = 0;
  virtual std::string take_output() = 0;
  virtual TimePoint next_deadline() const = 0;
  virtual bool done() const = 0;
  // The transport ended: `connected` false means the connection never came up.
  virtual void on_closed(bool connected, std::string_view why) = 0;
};

template <class M>
class WireMachineOf final : public WireMachine {
 public:
  explicit WireMachineOf(M& m) : m_(m) {}
  void start(TimePoint now) override { m_.start(now); }
  void on_bytes(std::string_view bytes, TimePoint now) override { m_.on_bytes(bytes, now); }
  void tick(TimePoint now) override { m_.tick(now); }
  std::string take_output() override { return m_.take_output(); }
  TimePoint next_deadline() const override { return m_.next_deadline(); }
  bool done() const override { return m_.done(); }
  void on_closed(bool connected, std::string_view why) override {
    if constexpr (requires { m_.on_connect_failed(why); }) {
      if (!connected) {
        m_.on_connect_failed(why);
        return;
      }
    }
    m_.on_peer_closed();
  }

 private:
  M& m_;
};

struct WireDriverOptions {
  // A machine that is done while its output is still being written: wait this long for the
  // transport to hand it on before closing (0: close at once).
  Duration flush_grace{0};
  // Counters to add received / written bytes to (optional; must outlive the driver).
  std::uint64_t* bytes_in = nullptr;
  std::uint64_t* bytes_out = nullptr;
  // Called once when the transport connects, before the machine starts (optional).
  std::function<void()> on_connected;
};

class WireDriver final : public std::enable_shared_from_this<WireDriver>, private Transport::Events {
 public:
  using OnFinish = std::function<void()>;

  WireDriver(asio::io_context& io, std::shared_ptr<Transport> transport, WireMachine& machine,
             WireDriverOptions options, OnFinish on_finish);
  ~WireDriver() override;
  WireDriver(const WireDriver&) = delete;
  WireDriver& operator=(const WireDriver&) = delete;

  // Opens the transport; the machine starts when it is connected.
  void start();
  // Starts after `delay`, nothing read or written meanwhile (the peer's bytes wait in the
  // transport).
  void start_after(Duration delay);
  // Ends now: the machine hears that the transport closed (`why`, for a connect that never
  // completed), then on_finish runs.
  void stop(std::string_view why);

  bool connected() const noexcept { return connected_; }
  bool finished() const noexcept { return finished_; }
  Transport& transport() noexcept { return *transport_; }

 private:
  void on_transport_connected() override;
  bool on_transport_data(std::string_view bytes) override;
  void on_transport_read_done() override;
  void on_transport_sent() override;
  void on_transport_closed(std::string_view why) override;

  void pump();
  void arm_timer();
  void finish();

  asio::steady_timer timer_;
  std::shared_ptr<Transport> transport_;
  WireMachine& machine_;
  WireDriverOptions options_;
  OnFinish on_finish_;
  bool started_ = false;
  bool connected_ = false;
  bool flushing_ = false;
  bool finished_ = false;
};

}  // namespace bitscrape::net
