#include "storage/memory_store.hpp"
#include "storage/store_writer.hpp"
#include "storage_test_util.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

namespace bitscrape::storage {
namespace {

using namespace bitscrape::storage::testing;
using std::chrono::milliseconds;

// A Store that forwards to a memory store, and can hold writes at a gate or fail them.
class ControlledStore final : public Store {
 public:
  StoreResult<WriteReport> write(const WriteBatch& batch) override {
    {
      std::unique_lock lock(mu_);
      ++writes_entered_;
      changed_.notify_all();
      changed_.wait(lock, [&] { return open_; });
      if (fail_next_ > 0) {
        --fail_next_;
        return fail(fail_code_, "injected failure");
      }
      batch_sizes_.push_back(batch.size());
    }
    return inner_->write(batch);
  }
  StoreResult<PruneReport> prune(const PruneLimits& l) override { return inner_->prune(l); }
  StoreResult<std::vector<NodeRecord>> good_nodes(std::size_t n) override { return inner_->good_nodes(n); }
  StoreResult<std::vector<InfohashRecord>> pending_fetch(const PendingQuery& q) override {
    return inner_->pending_fetch(q);
  }
  StoreResult<std::vector<bool>> is_fetched(std::span<const InfoHash> k) override { return inner_->is_fetched(k); }
  StoreResult<std::optional<InfohashRecord>> infohash(const InfoHash& k) override { return inner_->infohash(k); }
  StoreResult<std::optional<TorrentRecord>> torrent(const InfoHash& k) override { return inner_->torrent(k); }
  StoreResult<std::optional<std::string>> raw_info_dict(const InfoHash& k) override {
    return inner_->raw_info_dict(k);
  }
  StoreResult<std::vector<PeerRecord>> peers(const InfoHash& k, std::size_t n) override {
    return inner_->peers(k, n);
  }
  StoreResult<SearchPage> search(const SearchQuery& q) override { return inner_->search(q); }
  StoreResult<std::uint64_t> for_each_torrent(const ExportOptions& o, const TorrentVisitor& v) override {
    return inner_->for_each_torrent(o, v);
  }
  StoreResult<std::uint64_t> for_each_without_metadata(const InfohashVisitor& v) override {
    return inner_->for_each_without_metadata(v);
  }
  StoreResult<std::uint64_t> for_each_node(const NodeVisitor& v) override { return inner_->for_each_node(v); }
  StoreResult<std::uint64_t> for_each_counter_sample(const CounterVisitor& v) override {
    return inner_->for_each_counter_sample(v);
  }
  StoreResult<StoreStats> stats() override { return inner_->stats(); }
  StoreResult<std::vector<SeriesPoint>> counter_series(const SeriesQuery& q) override {
    return inner_->counter_series(q);
  }
  StoreResult<std::vector<std::string>> counter_names() override { return inner_->counter_names(); }
  StoreResult<std::int64_t> register_instance(const InstanceInfo& i) override {
    return inner_->register_instance(i);
  }
  Status heartbeat(std::int64_t id, const Heartbeat& hb) override { return inner_->heartbeat(id, hb); }
  StoreResult<std::vector<InstanceRecord>> instances(const InstanceQuery& q) override {
    return inner_->instances(q);
  }

  void close_gate() {
    std::lock_guard lock(mu_);
    open_ = false;
  }
  void open_gate() {
    std::lock_guard lock(mu_);
    open_ = true;
    changed_.notify_all();
  }
  void wait_for_writes_entered(int n) {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return writes_entered_ >= n; });
  }
  void fail_next(int n, ErrorCode code) {
    std::lock_guard lock(mu_);
    fail_next_ = n;
    fail_code_ = code;
  }
  std::vector<std::size_t> batch_sizes() {
    std::lock_guard lock(mu_);
    return batch_sizes_;
  }

 private:
  std::unique_ptr<Store> inner_ = make_memory_store();
  std::mutex mu_;
  std::condition_variable changed_;
  bool open_ = true;
  int writes_entered_ = 0;
  int fail_next_ = 0;
  ErrorCode fail_code_ = ErrorCode::Locked;
  std::vector<std::size_t> batch_sizes_;
};

InfohashSighting sighting(int i) { return {key(i), T(i), Source::Sample, 0, 0}; }

TEST(StoreWriter, CommitsEverythingInBoundedBatches) {
  ControlledStore store;
  WriterOptions o;
  o.max_batch = 1000;
  std::mutex mu;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
  {
    StoreWriter w(store, o, [&](const CommitReport& r) {
      EXPECT_TRUE(r.ok);
      std::lock_guard lock(mu);
      ranges.emplace_back(r.first_seq, r.last_seq);
    });
    for (int i = 1; i <= 10'000; ++i) ASSERT_EQ(w.submit(sighting(i)), static_cast<std::uint64_t>(i));
    ASSERT_TRUE(w.flush());
    EXPECT_EQ(w.durable_seq(), 10'000u);
    const auto st = w.stats();
    EXPECT_EQ(st.submitted, 10'000u);
    EXPECT_EQ(st.committed, 10'000u);
    EXPECT_LE(st.largest_batch, 1000u);
    EXPECT_GE(st.batches, 10u);
    EXPECT_EQ(st.queued_records, 0u);
    EXPECT_EQ(st.dropped_lossy + st.dropped_precious + st.failed, 0u);
  }
  for (auto n : store.batch_sizes()) EXPECT_LE(n, 1000u);
  // The reported ranges tile 1..10000 in order.
  std::uint64_t next = 1;
  for (const auto& [first, last] : ranges) {
    EXPECT_EQ(first, next);
    EXPECT_GE(last, first);
    next = last + 1;
  }
  EXPECT_EQ(next, 10'001u);
  EXPECT_EQ(store.stats()->infohashes, 10'000u);
}

TEST(StoreWriter, CountsTheTorrentsItStoredApartFromDuplicates) {
  // What one crawler stored, as its closing line and heartbeats report it: a torrent another
  // fetch (another crawler, the other key of a hybrid) stored first is not counted again.
  ControlledStore store;
  ASSERT_TRUE(store.store_torrents({v1_torrent(1, "first")}));  // stored by someone else
  StoreWriter w(store);
  w.submit(v1_torrent(1, "first"));
  w.submit(v1_torrent(2, "second"));
  w.submit(v1_torrent(3, "third"));
  ASSERT_TRUE(w.flush());
  EXPECT_EQ(w.stats().torrents_added, 2u);
  EXPECT_EQ(w.stats().torrents_duplicate, 1u);
}

TEST(StoreWriter, GroupsWhatArrivesWithinTheWindowIntoOneTransaction) {
  ControlledStore store;
  WriterOptions o;
  o.max_delay = milliseconds(300);
  StoreWriter w(store, o);
  for (int i = 1; i <= 5; ++i) w.submit(sighting(i));
  // Nothing is committed before the window closes...
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(w.durable_seq(), 0u);
  // ...unless someone flushes; then all five go in one transaction.
  ASSERT_TRUE(w.flush());
  EXPECT_EQ(store.batch_sizes(), std::vector<std::size_t>{5});
  EXPECT_EQ(w.durable_seq(), 5u);
}

TEST(StoreWriter, FullQueueDropsLossyAtOnceAndPreciousAfterBlocking) {
  ControlledStore store;
  WriterOptions o;
  o.queue_records = 10;
  o.max_delay = milliseconds(0);
  o.block_timeout = milliseconds(100);
  o.lossy_fill_limit = 0.9;
  StoreWriter w(store, o);
  store.close_gate();
  ASSERT_EQ(w.submit(sighting(0)), 1u);
  store.wait_for_writes_entered(1);  // the writer holds record 1; the queue is empty

  int accepted = 0;
  for (int i = 1; i <= 20; ++i) accepted += w.submit(sighting(i)) != 0;
  EXPECT_EQ(accepted, 9);  // lossy records stop at 90% of 10
  EXPECT_EQ(w.stats().dropped_lossy, 11u);

  // Precious records use the reserve...
  EXPECT_NE(w.submit(v1_torrent(1, "precious")), 0u);
  // ...and, once the queue is full, wait block_timeout for room, then drop.
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(w.submit(v1_torrent(2, "too late")), 0u);
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, milliseconds(95));
  EXPECT_LT(waited, milliseconds(5000));
  EXPECT_EQ(w.stats().dropped_precious, 1u);
  EXPECT_EQ(w.stats().queued_records, 10u);

  // A precious record waiting for room gets in when the writer catches up.
  std::thread release([&] {
    std::this_thread::sleep_for(milliseconds(50));
    store.open_gate();
  });
  WriterOptions patient = o;
  EXPECT_NE(w.submit(FetchOutcome{key(3), T(1), false}), 0u);  // blocks < 100 ms, then fits
  release.join();
  ASSERT_TRUE(w.flush());
  EXPECT_EQ(w.stats().committed, 12u);  // 1 + 9 + 1 torrent + 1 outcome
  EXPECT_TRUE(store.torrent(key(1))->has_value());
  EXPECT_FALSE(store.torrent(key(2))->has_value());
}

TEST(StoreWriter, TransientErrorsAreRetriedUntilCommitted) {
  ControlledStore store;
  store.fail_next(2, ErrorCode::Locked);
  std::mutex mu;
  std::vector<CommitReport> reports;
  StoreWriter w(store, {}, [&](const CommitReport& r) {
    std::lock_guard lock(mu);
    reports.push_back(r);
  });
  w.submit(v1_torrent(1, "retried"));
  ASSERT_TRUE(w.flush());
  std::lock_guard lock(mu);
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_FALSE(reports[0].ok);
  EXPECT_FALSE(reports[0].dropped);
  EXPECT_EQ(reports[0].error.code, ErrorCode::Locked);
  EXPECT_FALSE(reports[1].ok);
  EXPECT_TRUE(reports[2].ok);
  EXPECT_EQ(reports[2].report.torrents_added, 1u);
  EXPECT_EQ(w.stats().write_errors, 2u);
  EXPECT_EQ(w.stats().failed, 0u);
  EXPECT_TRUE(store.torrent(key(1))->has_value());
}

TEST(StoreWriter, PermanentErrorsDropTheBatchAfterMaxAttempts) {
  ControlledStore store;
  store.fail_next(100, ErrorCode::Internal);
  WriterOptions o;
  o.max_attempts = 3;
  std::atomic<int> dropped_reports{0};
  StoreWriter w(store, o, [&](const CommitReport& r) { dropped_reports += r.dropped; });
  w.submit(sighting(1));
  w.submit(sighting(2));
  EXPECT_FALSE(w.flush());  // processed, but failed
  EXPECT_EQ(w.durable_seq(), 2u);
  EXPECT_EQ(w.stats().failed, 2u);
  EXPECT_EQ(w.stats().write_errors, 3u);
  EXPECT_EQ(dropped_reports.load(), 1);
  // The writer carries on with later records.
  store.fail_next(0, ErrorCode::Internal);
  w.submit(sighting(3));
  EXPECT_TRUE(w.flush());
  EXPECT_EQ(store.stats()->infohashes, 1u);
}

TEST(StoreWriter, StopCommitsWhatIsQueuedWithoutWaitingForTheWindow) {
  ControlledStore store;
  WriterOptions o;
  o.max_delay = std::chrono::seconds(30);
  const auto t0 = std::chrono::steady_clock::now();
  {
    StoreWriter w(store, o);
    for (int i = 1; i <= 1000; ++i) w.submit(sighting(i));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  EXPECT_EQ(store.stats()->infohashes, 1000u);
}

TEST(StoreWriter, SubmitAfterStopIsDropped) {
  ControlledStore store;
  StoreWriter w(store);
  w.stop();
  EXPECT_EQ(w.submit(sighting(1)), 0u);
  EXPECT_EQ(w.submit(v1_torrent(1, "x")), 0u);
  EXPECT_EQ(w.stats().dropped_lossy, 1u);
  EXPECT_EQ(w.stats().dropped_precious, 1u);
  w.stop();  // idempotent
}

TEST(StoreWriter, QueueIsBoundedInBytesToo) {
  ControlledStore store;
  WriterOptions o;
  o.queue_bytes = 64 << 10;
  o.max_delay = milliseconds(0);
  o.block_timeout = milliseconds(1);
  StoreWriter w(store, o);
  store.close_gate();
  TorrentRecord big = v1_torrent(1, "big");
  big.info_dict = std::string(40 << 10, 'i');
  EXPECT_NE(w.submit(big), 0u);
  store.wait_for_writes_entered(1);
  big.infohash_v1 = key(2);
  EXPECT_NE(w.submit(big), 0u);  // 40 KiB queued
  big.infohash_v1 = key(3);
  EXPECT_EQ(w.submit(big), 0u);  // 80 KiB would not fit
  store.open_gate();
  ASSERT_TRUE(w.flush());
  EXPECT_EQ(store.stats()->torrents, 2u);
}

}  // namespace
}  // namespace bitscrape::storage
