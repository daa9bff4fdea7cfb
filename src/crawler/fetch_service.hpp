// FetchService: the metadata fetch engine — a FetchScheduler (what to fetch from whom) driving a
// net::MetadataPool (uTP and TCP connections) on one io_context.
//
// add() queues an infohash with candidate peers; the service starts connections while the pool
// has room, feeds every connection's result back to the scheduler, and reports each infohash's
// outcome once decided (first verified metadata, or every candidate failed, or nobody left to
// ask: its candidates were all known liars). The metadata in a
// successful outcome has been checked against the infohash (v1 SHA-1 or v2 truncated SHA-256);
// parsing it is the caller's business (metainfo::parse_verified).
//
// Threading: all methods and callbacks on the io_context's thread.
#pragma once

#include "crawler/fetch_scheduler.hpp"
#include "net/metadata_pool.hpp"

#include <functional>
#include <memory>

namespace bitscrape::crawler {

struct FetchServiceConfig {
  FetchSchedulerConfig scheduler;
  net::MetadataPoolConfig pool;
};

class FetchService {
 public:
  using OnOutcome = std::function<void(FetchOutcome)>;

  FetchService(asio::io_context& io, FetchServiceConfig config, OnOutcome on_outcome, std::uint64_t seed);

  // Queues `ih` with candidate `peers` (merging into a queued entry); false when the queue is full.
  bool add(const InfoHash& ih, std::span<const Endpoint> peers, int priority = 0);
  // Infohashes queued or in flight.
  std::size_t pending() const noexcept { return scheduler_.size(); }
  bool contains(const InfoHash& ih) const { return scheduler_.contains(ih); }
  // Closes every connection (their outcomes are still reported) and starts no more.
  void stop() {
    stopped_ = true;
    pool_.stop();
  }

  // Fetches over uTP on the DHT's socket too (net::MetadataPool::attach_udp).
  void attach_udp(net::UdpSocket& udp) { pool_.attach_udp(udp); }

  const FetchScheduler& scheduler() const noexcept { return scheduler_; }
  const net::MetadataPool& pool() const noexcept { return pool_; }

 private:
  void pump();

  asio::io_context& io_;
  std::shared_ptr<char> alive_ = std::make_shared<char>();  // posted reports check it
  FetchScheduler scheduler_;
  OnOutcome on_outcome_;
  bool stopped_ = false;
  net::MetadataPool pool_;
};

}  // namespace bitscrape::crawler
