// Counters: every packet, error, timeout and drop a dht::Node sees, by name.
//
// A plain struct of uint64 fields (cheap to bump on the packet path) plus for_each() that
// lists (name, value, kind) for exporters (common/telemetry.hpp); the names are the field
// names, defined once in the X-macro below so the two never drift. Entries of kind `gauge` are
// filled in when Node::counters() takes a snapshot; the rest only grow.
//
// Threading: owned by the Node's thread; copy a snapshot to hand it elsewhere.
#pragma once

#include "common/telemetry.hpp"

#include <cstdint>
#include <string_view>

namespace bitscrape::dht {

#define BITSCRAPE_DHT_COUNTERS(X)                                                                                   \
  /* traffic */                                                                                                     \
  X(packets_in, counter) X(bytes_in, counter) X(packets_out, counter) X(bytes_out, counter)                         \
  X(queries_in_ping, counter) X(queries_in_find_node, counter) X(queries_in_get_peers, counter)                     \
  X(queries_in_announce_peer, counter) X(queries_in_sample_infohashes, counter) X(queries_in_unknown, counter)      \
  X(responses_in, counter) X(errors_in, counter) X(queries_out_ping, counter) X(queries_out_find_node, counter)     \
  X(queries_out_get_peers, counter) X(queries_out_announce_peer, counter) X(queries_out_sample_infohashes, counter) \
  X(responses_out, counter) X(errors_out_201, counter) X(errors_out_202, counter) X(errors_out_203, counter)        \
  X(errors_out_204, counter)                                                                                        \
  /* client side */                                                                                                 \
  X(timeouts, counter) X(retries, counter) X(lookups_started, counter) X(lookups_completed, counter)                \
  X(lookups_refused, counter) X(peers_found, counter) X(announces_sent, counter)                                    \
  /* a query found the outgoing budget empty and waits (counted per attempt: a saturation signal) */               \
  X(out_budget_waits, counter)                                                                                      \
  /* get_peers asked of the key's holders first: ended there with peers / went on to a full lookup */               \
  X(lookups_direct_hits, counter) X(lookups_direct_misses, counter)                                                 \
  /* server side */                                                                                                 \
  X(announces_stored, counter) X(announce_bad_token, counter) X(store_full, counter)                                \
  X(store_peer_replaced, counter) X(store_peers_expired, counter) X(samples_served, counter)                        \
  /* sampler */                                                                                                     \
  X(sample_replies, counter) X(samples_received, counter) X(sampler_interval_skips, counter)                        \
  X(sampler_unsupported, counter) X(sampler_walks, counter) X(sampler_idle_walks, counter)                          \
  X(sampler_tracked_evicted, counter)                                                                               \
  /* walk nodes outside the keyspace walked (another crawler's share): asked find_node, not sampled */             \
  X(sampler_outside_keyspace, counter)                                                                              \
  /* inbound drops */                                                                                               \
  X(drop_oversize, counter) X(drop_inbound_rate, counter) X(drop_inbound_blocked, counter) X(inbound_blocks, counter) X(drop_bencode, counter) X(drop_krpc, counter)            \
  X(drop_unmatched_response, counter) X(drop_response_from_self, counter) X(drop_read_only_query, counter)          \
  /* drops of learned or direct addresses */                                                                        \
  X(drop_martian_node, counter) X(drop_martian_peer, counter) X(drop_martian_source, counter)                       \
  X(drop_port_zero, counter) X(drop_ro_node, counter) X(drop_bep42, counter) X(drop_self_id, counter)               \
  /* outbound drops */                                                                                              \
  X(drop_out_budget, counter) X(drop_out_paced, counter) X(drop_out_pacer_full, counter)                            \
  X(drop_txn_table_full, counter) X(drop_lookup_peers_full, counter)                                                \
  /* routing table */                                                                                               \
  X(table_inserts, counter) X(table_evictions, counter) X(table_refreshes, counter)                                 \
  X(maintenance_pings, counter) X(verification_pings, counter) X(drop_verify_queue_full, counter)                   \
  X(external_ip_changes, counter) X(node_id_changes, counter)                                                       \
  /* gauges (filled by Node::counters()) */                                                                         \
  X(gauge_table_v4_nodes, gauge) X(gauge_table_v6_nodes, gauge) X(gauge_table_replacements, gauge)                  \
  X(gauge_table_splits, gauge) X(gauge_store_infohashes, gauge) X(gauge_store_peers, gauge)                         \
  X(gauge_transactions, gauge) X(gauge_lookups, gauge) X(gauge_sampler_tracked, gauge)

struct Counters {
  BITSCRAPE_DHT_COUNTERS(BITSCRAPE_COUNTER_FIELD)

  // Calls f(std::string_view name, std::uint64_t value, telemetry::MetricKind kind) for every
  // counter, in declaration order.
  template <class F>
  void for_each(F&& f) const {
    BITSCRAPE_DHT_COUNTERS(BITSCRAPE_COUNTER_VISIT)
  }
};

}  // namespace bitscrape::dht
