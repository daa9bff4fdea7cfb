// FakeLiveSource: a LiveSource for tests — deterministic numbers that rise with every
// snapshot(), controls that record what they were told, and a switch to refuse controls.
// Thread-safe (one mutex), as the LiveSource contract requires.
#pragma once

#include "web/live.hpp"

#include <mutex>
#include <optional>
#include <string>

namespace bitscrape::web::testing {

class FakeLiveSource : public LiveSource {
 public:
  telemetry::Snapshot snapshot() override;
  std::vector<RoutingTableFill> routing_table() override;
  KeyspaceCoverage keyspace_coverage() override;
  std::vector<ClientCount> client_versions() override;
  std::vector<Discovery> recent_discoveries(std::size_t max) override;
  ControlResult set_sampling_paused(bool paused) override;
  ControlResult set_fetching_paused(bool paused) override;
  ControlResult set_packet_budget(double packets_per_s) override;

  // Test hooks.
  void refuse_controls(std::optional<std::string> why);
  // Adds a discovery (newest first in recent_discoveries()).
  void discover(const Discovery& d);
  bool sampling_paused() const;
  bool fetching_paused() const;
  double packet_budget() const;
  int snapshots() const;
  // The instance id snapshots carry (0: a crawl not registered in a database).
  void set_instance_id(std::int64_t id);

 private:
  mutable std::mutex mu_;
  int snapshots_ = 0;
  bool sampling_paused_ = false;
  bool fetching_paused_ = false;
  double budget_ = 1000;
  std::int64_t instance_id_ = 0;
  std::optional<std::string> refuse_;
  std::vector<Discovery> discoveries_;  // oldest first
};

}  // namespace bitscrape::web::testing
