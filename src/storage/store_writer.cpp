#include "storage/store_writer.hpp"

#include <algorithm>

namespace bitscrape::storage {

namespace {
template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;
}  // namespace

StoreWriter::StoreWriter(Store& store, const WriterOptions& options, CommitCallback on_commit)
    : store_(store), opt_(options), on_commit_(std::move(on_commit)) {
  committer_ = std::thread([this] { run_committer(); });
  thread_ = std::thread([this] { run(); });
}

StoreWriter::~StoreWriter() { stop(); }

bool StoreWriter::is_precious(const Record& r) noexcept {
  return std::holds_alternative<TorrentRecord>(r) || std::holds_alternative<FetchOutcome>(r);
}

std::size_t StoreWriter::approx_bytes(const Record& r) noexcept {
  std::size_t n = sizeof(Entry);
  if (const auto* t = std::get_if<TorrentRecord>(&r)) {
    n += t->name.size() + t->info_dict.size() + t->files.size() * sizeof(FileRecord);
    for (const auto& f : t->files) n += f.path.size();
  } else if (const auto* c = std::get_if<CounterSample>(&r)) {
    for (const auto& [name, v] : c->values) n += name.size() + sizeof(std::pair<std::string, std::int64_t>);
  }
  return n;
}

std::uint64_t StoreWriter::submit(Record record) {
  const bool precious = is_precious(record);
  const std::size_t bytes = approx_bytes(record);
  std::unique_lock lock(mu_);
  const auto has_room = [&](double fill) {
    return static_cast<double>(queue_.size() + staged_records_ + 1) <= static_cast<double>(opt_.queue_records) * fill &&
           static_cast<double>(queued_bytes_ + staged_bytes_ + bytes) <= static_cast<double>(opt_.queue_bytes) * fill;
  };
  bool accepted = !stopping_;
  if (accepted && !precious) {
    accepted = has_room(opt_.lossy_fill_limit);
  } else if (accepted && !has_room(1.0)) {
    accepted = room_.wait_for(lock, opt_.block_timeout, [&] { return stopping_ || has_room(1.0); }) && !stopping_;
  }
  if (!accepted) {
    ++(precious ? stats_.dropped_precious : stats_.dropped_lossy);
    return 0;
  }
  const std::uint64_t seq = next_seq_++;
  queue_.push_back(Entry{seq, bytes, std::move(record)});
  queued_bytes_ += bytes;
  ++stats_.submitted;
  if (queue_.size() == 1 || queue_.size() >= opt_.max_batch) wake_writer_.notify_one();
  return seq;
}

bool StoreWriter::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  const std::uint64_t target = next_seq_ - 1;
  const std::uint64_t failed_before = stats_.failed;
  flush_upto_ = std::max(flush_upto_, target);
  wake_writer_.notify_one();
  const bool reached = progress_.wait_for(lock, timeout, [&] { return processed_ >= target; });
  return reached && stats_.failed == failed_before;
}

WriterStats StoreWriter::stats() const {
  std::lock_guard lock(mu_);
  WriterStats s = stats_;
  s.queued_records = queue_.size() + staged_records_;
  s.queued_bytes = queued_bytes_ + staged_bytes_;
  return s;
}

void StoreWriter::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_writer_.notify_all();
  handoff_.notify_all();
  room_.notify_all();
  if (thread_.joinable()) thread_.join();  // hands over every queued record, then marks done_
  if (committer_.joinable()) committer_.join();
}

// The batching thread: groups queued records into batches and prepares them (Store::prepare)
// while the committer commits the previous one.
void StoreWriter::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_writer_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) {
      if (!stopping_) continue;
      done_ = true;
      handoff_.notify_all();
      return;
    }
    // Group commit: give the batch max_delay to fill, unless it is full, flushed or stopping.
    const auto deadline = std::chrono::steady_clock::now() + opt_.max_delay;
    wake_writer_.wait_until(lock, deadline, [&] {
      return stopping_ || queue_.size() >= opt_.max_batch || queue_.front().seq <= flush_upto_;
    });
    // Taken records still count against the queue's bounds until the committer takes them:
    // the bounds cover everything waiting to be committed.
    std::deque<Entry> batch;
    Prepared p;
    while (!queue_.empty() && batch.size() < opt_.max_batch) {
      queued_bytes_ -= queue_.front().bytes;
      p.bytes += queue_.front().bytes;
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    staged_records_ += batch.size();
    staged_bytes_ += p.bytes;
    lock.unlock();
    p.first_seq = batch.front().seq;
    p.last_seq = batch.back().seq;
    p.records = batch.size();
    to_write_batch(batch, p.batch);
    batch.clear();
    store_.prepare(p.batch);
    lock.lock();
    // One batch in hand-over at most: a slow store holds the batching thread here, and the
    // queue (bounded) absorbs the rest.
    handoff_.wait(lock, [&] { return !ready_.has_value(); });
    ready_ = std::move(p);
    handoff_.notify_all();
  }
}

void StoreWriter::run_committer() {
  std::unique_lock lock(mu_);
  for (;;) {
    handoff_.wait(lock, [&] { return ready_.has_value() || done_; });
    if (!ready_) return;  // done_ and nothing left
    Prepared p = std::move(*ready_);
    ready_.reset();
    staged_records_ -= p.records;
    staged_bytes_ -= p.bytes;
    handoff_.notify_all();
    room_.notify_all();
    lock.unlock();
    commit(p);
    lock.lock();
  }
}

void StoreWriter::to_write_batch(std::deque<Entry>& entries, WriteBatch& batch) {
  for (auto& e : entries) {
    std::visit(Overloaded{
                   [&](NodeRecord& r) { batch.nodes.push_back(std::move(r)); },
                   [&](InfohashSighting& r) { batch.sightings.push_back(std::move(r)); },
                   [&](FetchOutcome& r) { batch.fetch_outcomes.push_back(std::move(r)); },
                   [&](TorrentRecord& r) { batch.torrents.push_back(std::move(r)); },
                   [&](PeerRecord& r) { batch.peers.push_back(std::move(r)); },
                   [&](CounterSample& r) { batch.counters.push_back(std::move(r)); },
               },
               e.record);
  }
}

void StoreWriter::commit(Prepared& p) {
  const WriteBatch& batch = p.batch;
  CommitReport report;
  report.first_seq = p.first_seq;
  report.last_seq = p.last_seq;
  report.records = p.records;

  auto backoff = std::chrono::milliseconds(10);
  for (int attempt = 1;; ++attempt) {
    const auto t0 = std::chrono::steady_clock::now();
    auto result = store_.write(batch);
    report.duration =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
    if (result) {
      report.ok = true;
      report.report = result.value();
      // The callback first: once flush() returns or durable_seq() moves, it has been told.
      if (on_commit_) on_commit_(report);
      {
        std::lock_guard lock(mu_);
        stats_.committed += p.records;
        ++stats_.batches;
        stats_.torrents_added += report.report.torrents_added;
        stats_.torrents_duplicate += report.report.torrents_duplicate;
        stats_.largest_batch = std::max<std::uint64_t>(stats_.largest_batch, p.records);
        processed_ = report.last_seq;
        durable_.store(report.last_seq, std::memory_order_release);
      }
      progress_.notify_all();
      return;
    }
    bool stopping = false;
    {
      std::lock_guard lock(mu_);
      ++stats_.write_errors;
      stopping = stopping_;
    }
    report.ok = false;
    report.error = result.error();
    // Transient errors are retried until they clear; while stopping, only max_attempts times.
    report.dropped = attempt >= opt_.max_attempts && (!result.error().transient() || stopping);
    if (on_commit_) on_commit_(report);
    if (report.dropped) {
      {
        std::lock_guard lock(mu_);
        stats_.failed += p.records;
        processed_ = report.last_seq;
        durable_.store(report.last_seq, std::memory_order_release);
      }
      progress_.notify_all();
      return;
    }
    std::unique_lock lock(mu_);
    handoff_.wait_for(lock, backoff, [&] { return stopping_ && !stopping; });
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, std::chrono::seconds(1));
  }
}

}  // namespace bitscrape::storage
