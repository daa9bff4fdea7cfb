#include "net/tcp_transport.hpp"

#include "net/address.hpp"

#include <asio/write.hpp>

namespace bitscrape::net {

std::shared_ptr<TcpTransport> TcpTransport::outgoing(asio::io_context& io, const Endpoint& peer,
                                                     Duration connect_timeout, std::span<char> rx) {
  auto t = std::make_shared<TcpTransport>(io, asio::ip::tcp::socket(io), rx);
  t->outgoing_ = true;
  t->peer_ = peer;
  t->connect_timeout_ = connect_timeout;
  return t;
}

std::shared_ptr<TcpTransport> TcpTransport::accepted(asio::io_context& io, asio::ip::tcp::socket socket,
                                                     std::span<char> rx) {
  auto t = std::make_shared<TcpTransport>(io, std::move(socket), rx);
  t->connected_ = true;
  std::error_code ec;
  t->socket_.non_blocking(true, ec);
  t->socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  return t;
}

TcpTransport::TcpTransport(asio::io_context& io, asio::ip::tcp::socket socket, std::span<char> rx)
    : socket_(std::move(socket)), timer_(io), rx_(rx) {}

void TcpTransport::open(Events& events) {
  if (closed_ || events_ != nullptr) return;
  events_ = &events;
  if (!outgoing_) {
    arm_read();
    return;
  }
  timer_.expires_after(connect_timeout_);
  timer_.async_wait([self = shared_from_this()](std::error_code ec) {
    if (ec || self->connected_ || self->events_ == nullptr) return;
    self->fail("connect timed out");
  });
  socket_.async_connect(to_asio_tcp(peer_), [self = shared_from_this()](std::error_code ec) {
    if (self->events_ == nullptr) return;
    if (ec) {
      self->fail(ec.message());
      return;
    }
    self->on_connected();
  });
}

void TcpTransport::on_connected() {
  connected_ = true;
  timer_.cancel();
  std::error_code ec;
  socket_.non_blocking(true, ec);
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  events_->on_transport_connected();
  if (events_ != nullptr) arm_read();
}

void TcpTransport::arm_read() {
  socket_.async_wait(asio::socket_base::wait_read, [self = shared_from_this()](std::error_code ec) {
    if (self->events_ == nullptr) return;
    if (ec) {
      self->fail(ec.message());
      return;
    }
    // Drain what the kernel holds into the shared buffer, handing it on chunk by chunk.
    for (;;) {
      std::error_code rec;
      const std::size_t n = self->socket_.read_some(asio::buffer(self->rx_.data(), self->rx_.size()), rec);
      if (rec == asio::error::would_block || rec == asio::error::try_again) break;
      if (rec || n == 0) {
        self->fail(rec ? rec.message() : "closed by peer");
        return;
      }
      const bool more = self->events_->on_transport_data(std::string_view(self->rx_.data(), n));
      if (self->events_ == nullptr) return;
      if (!more) break;
    }
    self->events_->on_transport_read_done();
    if (self->events_ != nullptr) self->arm_read();
  });
}

void TcpTransport::write(std::string_view bytes) {
  if (events_ == nullptr || bytes.empty()) return;
  pending_.append(bytes);
  write_next();
}

void TcpTransport::write_next() {
  if (!writing_.empty() || pending_.empty() || events_ == nullptr || !connected_) return;
  writing_.swap(pending_);
  asio::async_write(socket_, asio::buffer(writing_),
                    [self = shared_from_this()](std::error_code ec, std::size_t) {
                      self->writing_.clear();
                      if (self->events_ == nullptr) return;
                      if (ec) {
                        self->fail(ec.message());
                        return;
                      }
                      self->write_next();
                      if (!self->writing() && self->events_ != nullptr) self->events_->on_transport_sent();
                    });
}

void TcpTransport::fail(std::string_view why) {
  auto* e = events_;
  close();
  if (e != nullptr) e->on_transport_closed(why);
}

void TcpTransport::close() {
  events_ = nullptr;
  closed_ = true;
  std::error_code ec;
  socket_.close(ec);
  timer_.cancel();
}

}  // namespace bitscrape::net
