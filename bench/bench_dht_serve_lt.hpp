// The libtorrent side of bench_dht_serve, in its own translation unit (Boost.Asio and standalone
// Asio do not mix in one).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace bench_dht {

// Runs an lt::session with only the DHT, on 127.0.0.1 (any port), with the rate limits relaxed as
// described in bench_dht_serve.cpp; calls `ready(port)` once it listens, returns when `stop` is
// set. On failure returns early with `error` set (ready not called).
void run_libtorrent_dht(int upload_limit, const std::function<void(std::uint16_t)>& ready,
                        const std::atomic<bool>& stop, std::string& error);

}  // namespace bench_dht
