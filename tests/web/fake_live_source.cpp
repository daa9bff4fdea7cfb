#include "fake_live_source.hpp"

#include "common/hash.hpp"

#include <algorithm>
#include <chrono>

namespace bitscrape::web::testing {
namespace {
InfoHash key_of(const std::string& label) {
  const auto d = sha1(label);
  InfoHash k;
  std::copy(d.begin(), d.end(), k.bytes.begin());
  return k;
}
}  // namespace

telemetry::Snapshot FakeLiveSource::snapshot() {
  std::lock_guard lock(mu_);
  const auto n = static_cast<std::uint64_t>(++snapshots_);
  telemetry::Snapshot s;
  s.at = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  s.uptime_s = 3600 + static_cast<double>(n);
  s.nodes_in_table = 180 + n % 7;
  s.samples_per_s = sampling_paused_ ? 0 : 42.5;
  s.infohashes_total = 10'000 + n * 25;
  s.infohashes_per_s = sampling_paused_ ? 0 : 25;
  s.metadata_total = 1'000 + n * 2;
  s.metadata_per_s = fetching_paused_ ? 0 : 2;
  s.metadata_success_rate = 0.625;
  s.packets_in = 500'000 + n * 900;
  s.packets_out = 480'000 + n * 950;
  s.packets_in_per_s = 900;
  s.packets_out_per_s = 950;
  s.queues = {{"lookup", 120, 10'000}, {"fetch", 35, 5'000}, {"store_writer", 3, 100'000}};
  s.sampling_paused = sampling_paused_;
  s.fetching_paused = fetching_paused_;
  s.packet_budget = budget_;
  s.instance_id = instance_id_;
  s.counters = {{"packets_in", static_cast<double>(s.packets_in), false},
                {"timeouts", static_cast<double>(1'000 + n), false},
                {"drop_martian_node", 17, false},
                {"gauge_transactions", 64, true}};
  return s;
}

std::vector<RoutingTableFill> FakeLiveSource::routing_table() {
  RoutingTableFill v4{"ipv4", {}}, v6{"ipv6", {}};
  for (std::uint32_t i = 0; i < 22; ++i) {
    v4.buckets.push_back({i, i < 18 ? 8u : 20u - std::min(i, 20u), 8, i < 10 ? 8u : 2u});
  }
  for (std::uint32_t i = 0; i < 6; ++i) v6.buckets.push_back({i, 8 - i, 8, 0});
  return {v4, v6};
}

KeyspaceCoverage FakeLiveSource::keyspace_coverage() {
  KeyspaceCoverage k;
  k.prefix_bits = 8;
  for (std::uint32_t p = 0; p < 256; ++p) {
    // A deterministic, uneven pattern; a few cells never queried.
    const std::uint64_t q = (p % 17 == 0) ? 0 : 3 + (p * 7919) % 40;
    k.cells.push_back({q, q * ((p * 31) % 19 + 1)});
  }
  return k;
}

std::vector<ClientCount> FakeLiveSource::client_versions() {
  return {
      {"LT 2.0.8", 812}, {"UT 3.6", 404}, {"Tr 4.0", 120}, {"<b>bold</b> \"client\"", 3}, {"0a0b0c0d", 1}};
}

std::vector<Discovery> FakeLiveSource::recent_discoveries(std::size_t max) {
  std::lock_guard lock(mu_);
  std::vector<Discovery> out;
  // A steady trickle: one new infohash per snapshot taken so far, plus explicit ones.
  for (auto it = discoveries_.rbegin(); it != discoveries_.rend() && out.size() < max; ++it)
    out.push_back(*it);
  for (int i = snapshots_; i > 0 && out.size() < max; --i) {
    Discovery d;
    d.at = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    d.infohash = key_of("live-" + std::to_string(i));
    d.kind = i % 3 == 0 ? DiscoveryKind::Metadata : DiscoveryKind::Infohash;
    if (d.kind == DiscoveryKind::Metadata) {
      d.name = "Live torrent #" + std::to_string(i);
      d.total_size = 1'000'000LL * i;
      d.file_count = static_cast<std::uint32_t>(i % 5 + 1);
    }
    out.push_back(d);
  }
  return out;
}

ControlResult FakeLiveSource::set_sampling_paused(bool paused) {
  std::lock_guard lock(mu_);
  if (refuse_) return Unexpected{*refuse_};
  sampling_paused_ = paused;
  return {};
}

ControlResult FakeLiveSource::set_fetching_paused(bool paused) {
  std::lock_guard lock(mu_);
  if (refuse_) return Unexpected{*refuse_};
  fetching_paused_ = paused;
  return {};
}

ControlResult FakeLiveSource::set_packet_budget(double packets_per_s) {
  std::lock_guard lock(mu_);
  if (refuse_) return Unexpected{*refuse_};
  budget_ = packets_per_s;
  return {};
}

void FakeLiveSource::refuse_controls(std::optional<std::string> why) {
  std::lock_guard lock(mu_);
  refuse_ = std::move(why);
}
void FakeLiveSource::discover(const Discovery& d) {
  std::lock_guard lock(mu_);
  discoveries_.push_back(d);
}
bool FakeLiveSource::sampling_paused() const {
  std::lock_guard lock(mu_);
  return sampling_paused_;
}
bool FakeLiveSource::fetching_paused() const {
  std::lock_guard lock(mu_);
  return fetching_paused_;
}
double FakeLiveSource::packet_budget() const {
  std::lock_guard lock(mu_);
  return budget_;
}
int FakeLiveSource::snapshots() const {
  std::lock_guard lock(mu_);
  return snapshots_;
}

void FakeLiveSource::set_instance_id(std::int64_t id) {
  std::lock_guard lk(mu_);
  instance_id_ = id;
}

}  // namespace bitscrape::web::testing
