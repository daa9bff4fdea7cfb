#include "net/wire_driver.hpp"

namespace bitscrape::net {

WireDriver::WireDriver(asio::io_context& io, std::shared_ptr<Transport> transport, WireMachine& machine,
                       WireDriverOptions options, OnFinish on_finish)
    : timer_(io),
      transport_(std::move(transport)),
      machine_(machine),
      options_(std::move(options)),
      on_finish_(std::move(on_finish)) {}

WireDriver::~WireDriver() {
  if (!finished_) transport_->close();
}

void WireDriver::start() {
  if (started_ || finished_) return;
  started_ = true;
  transport_->open(*this);
  if (transport_->connected()) on_transport_connected();
}

void WireDriver::start_after(Duration delay) {
  if (delay.count() <= 0) {
    start();
    return;
  }
  timer_.expires_after(delay);
  timer_.async_wait([self = shared_from_this()](std::error_code ec) {
    if (ec || self->finished_) return;
    self->start();
  });
}

void WireDriver::stop(std::string_view why) {
  if (finished_) return;
  auto self = shared_from_this();
  machine_.on_closed(connected_, why);
  finish();
}

void WireDriver::on_transport_connected() {
  if (connected_ || finished_) return;
  auto self = shared_from_this();
  connected_ = true;
  if (options_.on_connected) options_.on_connected();
  machine_.start(Clock::now());
  pump();
}

bool WireDriver::on_transport_data(std::string_view bytes) {
  if (finished_ || machine_.done()) return false;
  if (options_.bytes_in != nullptr) *options_.bytes_in += bytes.size();
  machine_.on_bytes(bytes, Clock::now());
  return !machine_.done();
}

void WireDriver::on_transport_read_done() {
  auto self = shared_from_this();
  pump();
}

void WireDriver::on_transport_sent() {
  if (finished_ || !flushing_) return;
  auto self = shared_from_this();
  finish();
}

void WireDriver::on_transport_closed(std::string_view why) {
  if (finished_) return;
  auto self = shared_from_this();
  machine_.on_closed(connected_, why);
  finish();
}

void WireDriver::pump() {
  if (finished_ || flushing_) return;
  const auto out = machine_.take_output();
  if (!out.empty()) {
    if (options_.bytes_out != nullptr) *options_.bytes_out += out.size();
    transport_->write(out);
  }
  if (machine_.done()) {
    if (options_.flush_grace.count() <= 0 || !transport_->writing()) {
      finish();
      return;
    }
    // The last bytes are still being written: give the peer a grace period to read them.
    flushing_ = true;
    timer_.expires_after(options_.flush_grace);
    timer_.async_wait([self = shared_from_this()](std::error_code ec) {
      if (ec || self->finished_) return;
      self->finish();
    });
    return;
  }
  arm_timer();
}

void WireDriver::arm_timer() {
  const auto deadline = machine_.next_deadline();
  if (deadline == kNever) return;
  timer_.expires_at(deadline);
  timer_.async_wait([self = shared_from_this()](std::error_code ec) {
    if (ec || self->finished_ || self->flushing_) return;
    self->machine_.tick(Clock::now());
    self->pump();
  });
}

void WireDriver::finish() {
  if (finished_) return;
  finished_ = true;
  timer_.cancel();
  transport_->close();
  auto done = std::move(on_finish_);
  if (done) done();
}

}  // namespace bitscrape::net
