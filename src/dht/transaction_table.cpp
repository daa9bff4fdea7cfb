#include "dht/transaction_table.hpp"

#include <algorithm>

namespace bitscrape::dht {

void TransactionTable::write_tid(Tid tid, char* out) noexcept {
  for (std::size_t i = 0; i < kTidSize; ++i) out[i] = static_cast<char>(tid >> (8 * (kTidSize - 1 - i)));
}

std::optional<TransactionTable::Tid> TransactionTable::read_tid(std::string_view wire) noexcept {
  if (wire.size() != kTidSize) return std::nullopt;
  Tid t = 0;
  for (const char c : wire) t = (t << 8) | static_cast<unsigned char>(c);
  return t;
}

std::optional<TransactionTable::Tid> TransactionTable::add(Transaction t, Rng& rng) {
  if (full()) return std::nullopt;
  Tid tid = 0;
  // With the table at most `capacity` ≪ 2^32 full, a free id is found in one or two draws.
  do {
    tid = static_cast<Tid>(rng.next());
  } while (map_.count(tid) != 0);
  t.serial = next_serial_++;
  // Deadlines normally arrive in order; keep the FIFO sorted even if a caller passes an
  // earlier one (a shorter per-query timeout), so expiry never misses it.
  const Pending p{t.deadline, tid, t.serial};
  if (fifo_.empty() || fifo_.back().deadline <= p.deadline) {
    fifo_.push_back(p);
  } else {
    const auto pos = std::upper_bound(fifo_.begin(), fifo_.end(), p.deadline,
                                      [](TimePoint d, const Pending& x) { return d < x.deadline; });
    fifo_.insert(pos, p);
  }
  map_.emplace(tid, t);
  return tid;
}

std::optional<Transaction> TransactionTable::take(std::string_view wire_tid, const Endpoint& from) {
  const auto tid = read_tid(wire_tid);
  if (!tid) return std::nullopt;
  const auto it = map_.find(*tid);
  if (it == map_.end() || it->second.to != from) return std::nullopt;
  Transaction t = it->second;
  map_.erase(it);
  return t;
}

void TransactionTable::cancel(Tid tid) { map_.erase(tid); }

void TransactionTable::expire(TimePoint now, std::vector<Transaction>& out) {
  while (!fifo_.empty() && fifo_.front().deadline <= now) {
    const Pending p = fifo_.front();
    fifo_.pop_front();
    const auto it = map_.find(p.tid);
    if (it == map_.end() || it->second.serial != p.serial) continue;
    out.push_back(it->second);
    map_.erase(it);
  }
  // Answered transactions leave stale FIFO entries behind; drop those at the front so the
  // FIFO stays bounded by (sends within one timeout).
  while (!fifo_.empty()) {
    const auto it = map_.find(fifo_.front().tid);
    if (it != map_.end() && it->second.serial == fifo_.front().serial) break;
    fifo_.pop_front();
  }
}

TimePoint TransactionTable::next_deadline() const noexcept {
  return fifo_.empty() ? kNever : fifo_.front().deadline;
}

}  // namespace bitscrape::dht
