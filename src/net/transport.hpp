// Transport: an ordered, reliable byte stream to one peer (a TCP connection, a uTP connection),
// as net::WireDriver sees it. Implementations: TcpTransport (tcp_transport.hpp) and the streams
// of UtpSocket (utp_socket.hpp).
//
// Contract: open() hands over the event sink and starts the transport (connects an outgoing
// one, starts reading an accepted one); events then arrive on the io_context's thread, never
// from inside open() or write(). After close(), or after on_transport_closed(), no event
// arrives and writes are dropped. Bytes handed to write() are copied; they go out in order.
//
// Threading: one io_context thread.
#pragma once

#include <string_view>

namespace bitscrape::net {

class Transport {
 public:
  class Events {
   public:
    virtual ~Events() = default;
    // An outgoing transport connected (accepted ones are connected from the start).
    virtual void on_transport_connected() = 0;
    // Bytes received; valid during the call only. False: stop delivering for now (the reader is
    // done); the transport resumes after on_transport_read_done().
    virtual bool on_transport_data(std::string_view bytes) = 0;
    // The end of a burst of on_transport_data(): the moment to answer.
    virtual void on_transport_read_done() = 0;
    // Everything written has been handed on (kernel or peer window): writing() is false.
    virtual void on_transport_sent() = 0;
    // The peer closed, reset, timed out, or the connect failed (before on_transport_connected).
    virtual void on_transport_closed(std::string_view why) = 0;
  };

  virtual ~Transport() = default;
  virtual void open(Events& events) = 0;
  virtual bool connected() const noexcept = 0;
  virtual void write(std::string_view bytes) = 0;
  // Bytes written and not yet handed on.
  virtual bool writing() const noexcept = 0;
  // Closes at once (no more events). Bytes still queued may be lost.
  virtual void close() = 0;
};

}  // namespace bitscrape::net
