#include "crawler/fetch_service.hpp"

#include <asio/post.hpp>

namespace bitscrape::crawler {

FetchService::FetchService(asio::io_context& io, FetchServiceConfig config, OnOutcome on_outcome,
                           std::uint64_t seed)
    : io_(io),
      scheduler_(config.scheduler),
      on_outcome_(std::move(on_outcome)),
      pool_(
          io, std::move(config.pool),
          [this](const InfoHash& ih, const Endpoint& peer, peerwire::FetchResult result) {
            if (auto outcome = scheduler_.on_result(ih, peer, std::move(result))) on_outcome_(std::move(*outcome));
            pump();
          },
          seed) {}

bool FetchService::add(const InfoHash& ih, std::span<const Endpoint> peers, int priority) {
  const bool ok = scheduler_.add(ih, peers, priority);
  pump();
  return ok;
}

void FetchService::pump() {
  if (stopped_) return;
  const auto can_start = [this](const Endpoint& peer) { return pool_.can_start(peer); };
  while (pool_.active() < pool_.config().max_connections) {
    const auto job = scheduler_.next(can_start);
    if (!job) break;
    pool_.start(job->infohash, job->peer);
  }
  // Infohashes the scheduler decided without a connection (nobody left to ask). Reported from
  // the event loop, not from inside add(): the caller may be in the middle of queueing them.
  auto decided = scheduler_.take_decided();
  if (decided.empty()) return;
  asio::post(io_, [this, alive = std::weak_ptr<char>(alive_), decided = std::move(decided)]() mutable {
    if (alive.expired()) return;  // the service is gone
    for (auto& outcome : decided) on_outcome_(std::move(outcome));
  });
}

}  // namespace bitscrape::crawler
