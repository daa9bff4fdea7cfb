// JSON views of store records and live data for the API (docs/api.md describes each shape).
//
// Every string from the network goes through nlohmann::json, and dump() replaces invalid UTF-8
// rather than throwing; the UI then renders the values as text only.
//
// Threading: pure functions.
#pragma once

#include "storage/store.hpp"
#include "web/live.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace bitscrape::web {

using Json = nlohmann::json;

// Compact JSON text; invalid UTF-8 in strings becomes U+FFFD.
std::string dump(const Json& j);
Json error_json(std::string_view message);

Json summary_json(const storage::TorrentSummary& t);
Json stats_json(const storage::StoreStats& s);
Json live_json(const telemetry::Snapshot& s);
Json routing_json(const std::vector<RoutingTableFill>& tables);
Json keyspace_json(const KeyspaceCoverage& k);
Json clients_json(const std::vector<ClientCount>& clients, std::size_t max);
Json discovery_json(const Discovery& d);
// The instances table, oldest first: state "live" (heartbeat at or after `alive_since`, not
// stopped), "stopped" (a clean stop) or "gone" (no heartbeat: killed, or its host is down).
Json instances_json(const std::vector<storage::InstanceRecord>& instances, storage::UnixTime alive_since);

// The files of a torrent as a tree: {"name", "size", "files" (file count below), "children":
// [...]} for directories (children: directories first, then files, each by name) and
// {"name", "size"} for files. At most `max_files` files are placed; the root then carries
// "truncated": true.
Json file_tree_json(const storage::TorrentRecord& t, std::size_t max_files);

struct DetailExtras {
  std::vector<storage::InfohashRecord> keys;  // records of the torrent's DHT keys (may be empty)
  std::vector<storage::PeerRecord> peers;     // most recent first
  std::uint32_t peer_count = 0;
  bool has_info_dict = false;
};
Json detail_json(const storage::TorrentRecord& t, const DetailExtras& extras, std::size_t max_tree_files);

}  // namespace bitscrape::web
