// The libtorrent node of bench_dht_serve (see bench_dht_serve_lt.hpp).
#include "bench_dht_serve_lt.hpp"

#include <libtorrent/session.hpp>
#include <libtorrent/session_params.hpp>
#include <libtorrent/settings_pack.hpp>

#include <chrono>
#include <thread>

namespace bench_dht {

void run_libtorrent_dht(int upload_limit, const std::function<void(std::uint16_t)>& ready,
                        const std::atomic<bool>& stop, std::string& error) {
  using namespace std::chrono_literals;
  lt::settings_pack p;
  p.set_int(lt::settings_pack::alert_mask, 0);
  p.set_str(lt::settings_pack::listen_interfaces, "127.0.0.1:0");
  p.set_bool(lt::settings_pack::enable_dht, true);
  p.set_bool(lt::settings_pack::enable_lsd, false);
  p.set_bool(lt::settings_pack::enable_upnp, false);
  p.set_bool(lt::settings_pack::enable_natpmp, false);
  p.set_str(lt::settings_pack::dht_bootstrap_nodes, "");
  p.set_int(lt::settings_pack::dht_block_ratelimit, 1'000'000);
  p.set_int(lt::settings_pack::dht_upload_rate_limit, upload_limit);
  p.set_bool(lt::settings_pack::dht_restrict_routing_ips, false);
  p.set_bool(lt::settings_pack::dht_restrict_search_ips, false);
  p.set_bool(lt::settings_pack::dht_ignore_dark_internet, false);
  p.set_bool(lt::settings_pack::dht_enforce_node_id, false);
  p.set_bool(lt::settings_pack::dht_prefer_verified_node_ids, false);
  p.set_int(lt::settings_pack::recv_socket_buffer_size, 4 << 20);
  p.set_int(lt::settings_pack::send_socket_buffer_size, 4 << 20);
  lt::session ses{lt::session_params(p)};
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (ses.listen_port() == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  if (ses.listen_port() == 0) {
    error = "libtorrent did not listen";
    return;
  }
  std::this_thread::sleep_for(200ms);  // let the DHT start on the socket
  ready(ses.listen_port());
  while (!stop.load()) std::this_thread::sleep_for(20ms);
}

}  // namespace bench_dht
