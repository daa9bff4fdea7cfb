// TcpTransport: net::Transport over an asio TCP socket.
//
// Reads drain what the kernel holds into a receive buffer the caller shares between all its
// connections (the event loop reads one connection at a time, so a buffer per connection would
// only waste memory). One async_write at a time; bytes written meanwhile wait behind it.
// An outgoing transport connects when opened and fails after connect_timeout.
//
// Threading: the io_context's thread.
#pragma once

#include "common/endpoint.hpp"
#include "common/time.hpp"
#include "net/transport.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <memory>
#include <span>
#include <string>

namespace bitscrape::net {

class TcpTransport final : public Transport, public std::enable_shared_from_this<TcpTransport> {
 public:
  // `rx` must outlive every open transport using it.
  static std::shared_ptr<TcpTransport> outgoing(asio::io_context& io, const Endpoint& peer,
                                                Duration connect_timeout, std::span<char> rx);
  static std::shared_ptr<TcpTransport> accepted(asio::io_context& io, asio::ip::tcp::socket socket,
                                                std::span<char> rx);

  TcpTransport(asio::io_context& io, asio::ip::tcp::socket socket, std::span<char> rx);

  void open(Events& events) override;
  bool connected() const noexcept override { return connected_; }
  void write(std::string_view bytes) override;
  bool writing() const noexcept override { return !writing_.empty() || !pending_.empty(); }
  void close() override;

 private:
  void on_connected();
  void arm_read();
  void write_next();
  void fail(std::string_view why);

  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;  // connect timeout
  std::span<char> rx_;
  Endpoint peer_;
  Duration connect_timeout_{};
  Events* events_ = nullptr;  // null: not open yet, or closed
  std::string writing_;       // handed to async_write (alive until it completes)
  std::string pending_;       // written while a write was in flight
  bool outgoing_ = false;
  bool connected_ = false;
  bool closed_ = false;
};

}  // namespace bitscrape::net
