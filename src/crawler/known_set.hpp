// KnownSet: which infohashes this run has already seen or fetched, in bounded memory.
//
// An open-addressing table of 64-bit slots: a 58-bit fingerprint (the first bytes of the
// infohash, which are uniformly random), the state in the two low bits and, above them, four
// bits of the sources it was seen from (so the database learns each new kind of source once,
// even for keys fetched long ago). A fingerprint can collide
// (odds ~ n²/2^63: negligible at tens of millions) — then a new infohash is taken for a known one
// and skipped; the database stays the truth for what was fetched. When the table reaches its
// capacity (from the memory budget) it stops admitting new keys and says so: callers then treat
// every key as new and rely on the database check.
//
// Threading: single-threaded (the event loop).
#pragma once

#include "common/id160.hpp"

#include <cstdint>
#include <vector>

namespace bitscrape::crawler {

class KnownSet {
 public:
  enum class State : std::uint8_t { Unknown = 0, Seen = 1, Fetched = 2 };

  // Holds up to `capacity` keys. The table starts small and doubles as keys arrive (load kept
  // at most 1/2), so memory follows what was seen, up to 16 bytes a key at the cap.
  explicit KnownSet(std::size_t capacity);

  State get(const InfoHash& ih) const noexcept;
  // Sets the state (never downgrades Fetched to Seen). False when the key is new and the table
  // is full (nothing stored).
  bool set(const InfoHash& ih, State s) noexcept;
  // Adds source bits (4 low bits used) to a known key; returns the bits that were new (0 for an
  // unknown key).
  std::uint8_t add_sources(const InfoHash& ih, std::uint8_t bits) noexcept;

  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return capacity_; }
  bool full() const noexcept { return size_ >= capacity_; }
  std::size_t memory_bytes() const noexcept { return slots_.size() * sizeof(std::uint64_t); }

  // Entries a memory budget of `bytes` can hold.
  static std::size_t capacity_for_bytes(std::size_t bytes) noexcept { return bytes / (2 * sizeof(std::uint64_t)); }

 private:
  static std::uint64_t fingerprint(const InfoHash& ih) noexcept;
  std::size_t find(std::uint64_t fp) const noexcept;  // slot holding fp, or the empty slot to use
  void grow();                                        // doubles the table, re-inserting every slot

  std::vector<std::uint64_t> slots_;  // 0 = empty; else fingerprint | state
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace bitscrape::crawler
