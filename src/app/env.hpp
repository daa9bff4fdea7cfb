// Env: what the crawl runtime takes from the machine — clocks, randomness, the database lock —
// behind one small interface (leveldb's Env is the model), so app/crawl.cpp can be tested with
// a fixed wall clock, a fixed seed and a lock that is held elsewhere.
//
// Timers still run on asio's steady clock; now() is what the sans-I/O core is fed, and a test
// Env that changes it must stay monotonic.
//
// Threading: Env::system() is thread-safe; test Envs are used from the crawl's loop thread and
// its start-up only.
#pragma once

#include "common/result.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace bitscrape::app {

// Held while the process uses a database; released on destruction.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;
  virtual std::chrono::steady_clock::time_point now() const = 0;
  virtual std::chrono::sys_seconds wall() const = 0;
  // 64 unpredictable bits (node ids, transaction ids, hash seeds).
  virtual std::uint64_t seed() = 0;
  // An exclusive advisory lock for the SQLite database at `db` (a `<db>.lock` file holding our
  // pid), so a second crawler on the same file fails at once with a clear message instead of
  // fighting over SQLite's write lock. The error says who holds it and what to do.
  virtual Result<std::unique_ptr<FileLock>, std::string> lock_database(const std::filesystem::path& db) = 0;

  // The real machine.
  static Env& system();
};

}  // namespace bitscrape::app
