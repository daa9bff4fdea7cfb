// StoreWriter: the thread that owns writing to a Store.
//
// Producers (the event loop, fetchers) submit records; the writer groups whatever is queued
// into one Store::write() transaction per batch — group commit, as leveldb's writers do: when
// the first record arrives the writer waits at most max_delay for up to max_batch records,
// then commits them all at once. Commits are in submission order.
//
// "Reported stored" means committed: every accepted record gets a sequence number (1, 2, ...)
// and durable_seq() / the CommitCallback report only sequence numbers whose transaction has
// committed (durable under the store's durability mode — for SQLite in WAL mode that survives
// kill -9 of the process).
//
// Queue policy when full (bounded in records and in bytes). Two classes of records:
//   - lossy (nodes, sightings, peers, counters): the DHT shows them again. Refused at once
//     when the queue is over lossy_fill_limit of either bound, so that a backlog of them can
//     never crowd out precious records. Counted in WriterStats::dropped_lossy.
//   - precious (torrents, fetch outcomes): they cost a metadata fetch. The producer blocks for
//     at most block_timeout waiting for room, then the record is dropped and counted in
//     dropped_precious. The event loop therefore blocks for at most block_timeout, and only
//     when the writer has fallen a whole queue behind.
// submit() returns 0 for a dropped record.
//
// Failures: a transient store error (Locked, Io, Full) keeps the batch and retries it with
// back-off (10 ms doubling to 1 s) until it commits or the writer stops; the queue fills
// meanwhile and producers drop by the policy above. Any other error (a bug) drops the batch
// after max_attempts: its records count as failed and are reported by a CommitReport with
// ok == false — durable_seq() then moves past them, so read it together with stats().failed.
//
// Threading: submit/flush/stats/durable_seq from any thread. The callback runs on the committer
// thread after each commit attempt and before durable_seq() advances or flush() returns for
// those records; keep it short and never call submit() or flush() from it.
// Destruction (or stop()) commits everything already queued, then joins the threads.
//
// Two threads, a pipeline: one takes a batch from the queue and has the store prepare it
// (Store::prepare: encoding and compressing torrents, no database), the other commits the
// previous batch meanwhile, so the thread holding the database does only database work. At
// most one prepared batch waits for the committer. The queue's bounds count every record the
// committer has not yet taken (the prepared batch too); beyond them, memory holds only the
// batch being committed.
#pragma once

#include "common/telemetry.hpp"
#include "storage/store.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <variant>

namespace bitscrape::storage {

struct WriterOptions {
  std::size_t queue_records = 100'000;  // bound on queued records
  std::size_t queue_bytes = 256u << 20;  // bound on their approximate size
  // Records per transaction. Large: when the writer falls behind, one commit of many records
  // rewrites each touched B-tree page once instead of once per small batch (random-key indexes
  // touch a page per record); a crawl at its usual pace commits a few records per window.
  std::size_t max_batch = 32'768;
  std::chrono::milliseconds max_delay{50};       // group-commit window after the first record
  std::chrono::milliseconds block_timeout{20};   // precious records wait this long for room
  double lossy_fill_limit = 0.9;                 // lossy records refused above this fill
  int max_attempts = 3;                          // for non-transient errors
};

struct CommitReport {
  std::uint64_t first_seq = 0;  // the batch's records: first_seq ..= last_seq
  std::uint64_t last_seq = 0;
  std::size_t records = 0;
  bool ok = true;  // committed; false: failed attempt (retried if transient) or dropped
  bool dropped = false;  // !ok and given up on: these records will never be stored
  Error error;     // when !ok
  WriteReport report;  // when ok
  std::chrono::microseconds duration{0};
};
using CommitCallback = std::function<void(const CommitReport&)>;

#define BITSCRAPE_WRITER_STATS(X)                                           \
  X(submitted, counter)        /* accepted into the queue */                 \
  X(committed, counter)        /* records committed */                       \
  X(dropped_lossy, counter)    /* refused: queue over lossy_fill_limit */    \
  X(dropped_precious, counter) /* refused after block_timeout */             \
  X(failed, counter)           /* records of batches given up on */          \
  X(batches, counter)          /* committed transactions */                  \
  X(torrents_added, counter)   /* new torrents committed (what we stored) */ \
  X(torrents_duplicate, counter) /* already stored by an earlier fetch */    \
  X(write_errors, counter)     /* failed write attempts (retried or not) */  \
  X(queued_records, gauge)                                                   \
  X(queued_bytes, gauge)                                                     \
  X(largest_batch, gauge)

struct WriterStats {
  BITSCRAPE_WRITER_STATS(BITSCRAPE_COUNTER_FIELD)
  template <class F>
  void for_each(F&& f) const {
    BITSCRAPE_WRITER_STATS(BITSCRAPE_COUNTER_VISIT)
  }
};

class StoreWriter {
 public:
  using Record = std::variant<NodeRecord, InfohashSighting, FetchOutcome, TorrentRecord, PeerRecord, CounterSample>;

  // `store` must outlive the writer. Starts the threads.
  StoreWriter(Store& store, const WriterOptions& options = {}, CommitCallback on_commit = {});
  ~StoreWriter();
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // Queues one record; its sequence number, or 0 when dropped (see the queue policy).
  std::uint64_t submit(Record record);

  // Waits until every record accepted before the call has been committed or given up on.
  // True when it happened within `timeout` and none of them failed.
  bool flush(std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // Every accepted record with seq ≤ durable_seq() is committed (or counted failed).
  std::uint64_t durable_seq() const noexcept { return durable_.load(std::memory_order_acquire); }
  WriterStats stats() const;

  // Commits what is queued and joins the thread; later submits are dropped. Idempotent.
  void stop();

 private:
  struct Entry {
    std::uint64_t seq;
    std::size_t bytes;
    Record record;
  };
  // A batch taken from the queue, prepared, waiting for or in its commit.
  struct Prepared {
    std::uint64_t first_seq = 0;
    std::uint64_t last_seq = 0;
    std::size_t records = 0;
    std::size_t bytes = 0;  // approx_bytes() of its records
    WriteBatch batch;
  };
  void run();
  void run_committer();
  static void to_write_batch(std::deque<Entry>& entries, WriteBatch& batch);
  void commit(Prepared& p);
  static bool is_precious(const Record& r) noexcept;
  static std::size_t approx_bytes(const Record& r) noexcept;

  Store& store_;
  const WriterOptions opt_;
  CommitCallback on_commit_;

  mutable std::mutex mu_;
  std::condition_variable wake_writer_;  // records arrived / stop / flush
  std::condition_variable room_;         // queue has room
  std::condition_variable progress_;     // durable_ advanced
  std::condition_variable handoff_;      // ready_ filled or emptied / done_ / stop
  std::deque<Entry> queue_;
  std::size_t queued_bytes_ = 0;
  // Taken from the queue by the batching thread, not yet by the committer: still counted
  // against the queue's bounds.
  std::size_t staged_records_ = 0;
  std::size_t staged_bytes_ = 0;
  std::uint64_t next_seq_ = 1;
  std::uint64_t processed_ = 0;  // highest seq committed or given up on
  bool stopping_ = false;
  std::uint64_t flush_upto_ = 0;  // flush() wants everything up to here without the window
  std::optional<Prepared> ready_;  // prepared, for the committer
  bool done_ = false;              // stopping and the batching thread handed over everything
  WriterStats stats_;
  std::atomic<std::uint64_t> durable_{0};
  std::thread committer_;  // commits prepared batches, in order
  std::thread thread_;     // takes batches from the queue and prepares them
};

}  // namespace bitscrape::storage
