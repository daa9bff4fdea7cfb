// Counters: every packet, error, timeout and drop a dht::Node sees, by name.
//
// A plain struct of uint64 fields (cheap to bump on the packet path) plus for_each() that
// lists (name, value) pairs for exporters; the names are the field names, defined once in
// the X-macro below so the two never drift. Fields marked "gauge" are filled in when
// Node::counters() takes a snapshot; the rest only grow.
//
// Threading: owned by the Node's thread; copy a snapshot to hand it elsewhere.
#pragma once

#include <cstdint>
#include <string_view>

namespace bitscrape::dht {

#define BITSCRAPE_DHT_COUNTERS(X)                                                              \
  /* traffic */                                                                                \
  X(packets_in) X(bytes_in) X(packets_out) X(bytes_out)                                         \
  X(queries_in_ping) X(queries_in_find_node) X(queries_in_get_peers)                            \
  X(queries_in_announce_peer) X(queries_in_sample_infohashes) X(queries_in_unknown)             \
  X(responses_in) X(errors_in)                                                                 \
  X(queries_out_ping) X(queries_out_find_node) X(queries_out_get_peers)                         \
  X(queries_out_announce_peer) X(queries_out_sample_infohashes)                                 \
  X(responses_out) X(errors_out_201) X(errors_out_202) X(errors_out_203) X(errors_out_204)      \
  /* client side */                                                                            \
  X(timeouts) X(retries) X(lookups_started) X(lookups_completed) X(lookups_refused)             \
  X(peers_found) X(announces_sent)                                                             \
  /* server side */                                                                            \
  X(announces_stored) X(announce_bad_token) X(store_full) X(store_peer_replaced)                \
  X(store_peers_expired) X(samples_served)                                                     \
  /* sampler */                                                                                \
  X(sample_replies) X(samples_received) X(sampler_interval_skips) X(sampler_unsupported)        \
  X(sampler_walks) X(sampler_idle_walks) X(sampler_tracked_evicted)                             \
  /* inbound drops */                                                                          \
  X(drop_oversize) X(drop_inbound_rate) X(drop_bencode) X(drop_krpc) X(drop_unmatched_response) \
  X(drop_response_from_self) X(drop_read_only_query)                                           \
  /* drops of learned or direct addresses */                                                    \
  X(drop_martian_node) X(drop_martian_peer) X(drop_martian_source) X(drop_port_zero)            \
  X(drop_ro_node) X(drop_bep42) X(drop_self_id)                                               \
  /* outbound drops */                                                                          \
  X(drop_out_budget) X(drop_out_paced) X(drop_out_pacer_full) X(drop_txn_table_full)            \
  X(drop_lookup_peers_full)                                                                    \
  /* routing table */                                                                          \
  X(table_inserts) X(table_evictions) X(table_refreshes)                                       \
  X(maintenance_pings) X(verification_pings) X(drop_verify_queue_full)                         \
  X(external_ip_changes) X(node_id_changes)                                                    \
  /* gauges (filled by Node::counters()) */                                                     \
  X(gauge_table_v4_nodes) X(gauge_table_v6_nodes) X(gauge_table_replacements) X(gauge_table_splits) \
  X(gauge_store_infohashes) X(gauge_store_peers) X(gauge_transactions) X(gauge_lookups)         \
  X(gauge_sampler_tracked)

struct Counters {
#define BITSCRAPE_DHT_FIELD(name) std::uint64_t name = 0;
  BITSCRAPE_DHT_COUNTERS(BITSCRAPE_DHT_FIELD)
#undef BITSCRAPE_DHT_FIELD

  // Calls f(std::string_view name, std::uint64_t value) for every counter, in declaration order.
  template <class F>
  void for_each(F&& f) const {
#define BITSCRAPE_DHT_VISIT(name) f(std::string_view(#name), name);
    BITSCRAPE_DHT_COUNTERS(BITSCRAPE_DHT_VISIT)
#undef BITSCRAPE_DHT_VISIT
  }
};

}  // namespace bitscrape::dht
