// Prometheus text exposition format (version 0.0.4) of store statistics and live counters.
//
//   bitscrape_up 1
//   bitscrape_store_<field>     gauge, from Store::stats()
//   bitscrape_live_<gauge>      gauge, the telemetry::Snapshot headline fields (rates, totals, controls)
//   bitscrape_queue_depth{queue="..."} / bitscrape_queue_capacity{queue="..."}
//   bitscrape_<counter>         counter or gauge, every telemetry::Snapshot::counters entry
//   bitscrape_instance_<field>{bitscrape_instance="ID",host="..."}  gauge, the instances table
//
// A crawl registered in the database (Snapshot::instance_id) labels its live samples
// bitscrape_instance="ID", so the crawlers sharing a database stay apart in one Prometheus
// (the label is not `instance`, which Prometheus sets to the scrape target).
//
// Names are reduced to [a-zA-Z0-9_] and de-duplicated (first wins); label values are escaped
// per the format (backslash, quote, newline).
//
// Threading: pure functions.
#pragma once

#include "storage/store.hpp"
#include "web/live.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace bitscrape::web {

// `instances`: the instances table (Store::instances); live ones: a heartbeat at or after
// `alive_since` and not stopped.
std::string prometheus_text(const std::optional<storage::StoreStats>& stats, const telemetry::Snapshot* live,
                            const std::vector<storage::InstanceRecord>& instances = {},
                            storage::UnixTime alive_since = {});

// A valid metric name from `raw` ([a-zA-Z_:][a-zA-Z0-9_:]*): other bytes become '_'.
std::string metric_name(std::string_view raw);
// A label value escaped for the text format.
std::string label_value(std::string_view raw);

}  // namespace bitscrape::web
