// dht::Node's BEP-51 sampler: starts keyspace walks (KeyspaceWalk, parallel_walks at once), decides
// which nodes a walk asks for samples (SampleSchedule: never before a node's interval), takes their
// samples and intervals, backs off when a walk found nobody to sample, and the sampler's run-time
// controls (on/off, the keyspace). The walks themselves are lookups (node_client.cpp), which call
// in here for SampleWalk lookups.
#include "dht/node_impl.hpp"

#include <algorithm>
#include <chrono>

namespace bitscrape::dht {

void Node::Impl::run_sampler(TimePoint now) {
  sampler_wake = kNever;
  if (!cfg.sampler.enabled) return;
  const bool have_nodes = (table4 && table4->size() > 0) || (table6 && table6->size() > 0);
  if (!have_nodes) {
    sampler_wake = next_maintenance;  // try again once the table may have filled
    return;
  }
  while (sampler_walks < cfg.sampler.parallel_walks && lookups.size() < cfg.client.max_lookups) {
    const auto lid = start_lookup(LookupKind::SampleWalk, walk.next(rng), 3, now);
    if (lid == kNoLookup) break;
    ++sampler_walks;
    ++c.sampler_walks;
  }
}

krpc::Method Node::Impl::walk_method(const NodeId& node_id, const Endpoint& ep, TimePoint now) {
  // Only nodes inside the keyspace we walk: with several crawlers sharing the keyspace, the
  // nodes a walk passes on its way through another's share are that one's to sample.
  const auto& ks = cfg.sampler.keyspace;
  if (!ks.empty() &&
      std::none_of(ks.begin(), ks.end(), [&](const KeyPrefix& p) { return p.contains(node_id); })) {
    ++c.sampler_outside_keyspace;
    return krpc::Method::FindNode;
  }
  if (schedule.may_sample(ep, now)) return krpc::Method::SampleInfohashes;
  ++c.sampler_interval_skips;
  return krpc::Method::FindNode;
}

void Node::Impl::sample_sent(Lookup& l, const Endpoint& ep, TimePoint now) {
  ++l.samples_asked;
  // Hold the node until its answer tells us its interval, so parallel walks do not
  // ask it twice; if it never answers, it may be asked again after this.
  const auto hold = cfg.client.query_timeout * (cfg.client.lookup_retries + 2);
  if (schedule.record(ep, now + hold, now)) ++c.sampler_tracked_evicted;
}

void Node::Impl::sample_answered(const krpc::Response& r, const Endpoint& from, TimePoint now) {
  if (!r.samples) {
    // Answered like find_node: no BEP-51 here. Do not ask again for a long while.
    ++c.sampler_unsupported;
    if (schedule.record(from, now + cfg.sampler.unsupported_backoff, now)) ++c.sampler_tracked_evicted;
    return;
  }
  Duration interval = r.interval ? Duration(std::chrono::seconds(*r.interval)) : cfg.sampler.default_interval;
  interval = std::clamp(interval, Duration::zero(), cfg.sampler.max_interval);
  if (schedule.record(from, now + interval, now)) ++c.sampler_tracked_evicted;
  ++c.sample_replies;
  c.samples_received += r.samples->size();
  for (const auto ih : *r.samples) obs.on_infohash_seen(ih, InfohashSource::Sample, from);
  obs.on_sample(SampleEvent{from, r.id, *r.samples, r.num.value_or(-1), interval});
}

void Node::Impl::sample_refused(const Endpoint& from, TimePoint now) {
  ++c.sampler_unsupported;
  if (schedule.record(from, now + cfg.sampler.unsupported_backoff, now)) ++c.sampler_tracked_evicted;
}

void Node::Impl::walk_done(const Lookup& l, TimePoint now) {
  if (sampler_walks > 0) --sampler_walks;
  if (l.samples_asked > 0) {
    sampler_idle_streak = 0;
    sampler_wake = now;
    return;
  }
  // Nobody in reach may be sampled yet: walking on would be find_node traffic for nothing.
  ++c.sampler_idle_walks;
  sampler_idle_streak = std::min(sampler_idle_streak + 1, 20u);
  const Duration pause =
      std::min<Duration>(cfg.sampler.idle_backoff_max, std::chrono::seconds(1u << (sampler_idle_streak - 1)));
  sampler_wake = std::min(sampler_wake, std::max(now, std::min(now + pause, schedule.next_expiry(now))));
}

// ============================================================================ Node

void Node::set_sampler_enabled(bool on) {
  auto& m = *impl_;
  if (on && !m.cfg.sampler.enabled) m.sampler_wake = TimePoint{};  // start walks at the next tick
  m.cfg.sampler.enabled = on;
}

void Node::set_keyspace(std::vector<KeyPrefix> prefixes) {
  auto& m = *impl_;
  KeyspaceWalk walk(prefixes);
  if (walk.prefixes() == m.walk.prefixes()) return;
  m.walk = std::move(walk);
  m.cfg.sampler.keyspace = std::move(prefixes);
  // The idle backoff measured the old keyspace (everyone in reach sampled within their
  // interval); the new one may have nodes to sample now. The schedule still guards intervals.
  m.sampler_idle_streak = 0;
  if (m.cfg.sampler.enabled) m.sampler_wake = TimePoint{};
}

}  // namespace bitscrape::dht
