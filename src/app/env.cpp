#include "app/env.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <random>

#ifndef _WIN32
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#endif

namespace bitscrape::app {

namespace {

class PosixLock final : public FileLock {
 public:
  explicit PosixLock(int fd) : fd_(fd) {}
  ~PosixLock() override {
#ifndef _WIN32
    if (fd_ >= 0) ::close(fd_);  // closing releases the flock
#endif
  }

 private:
  int fd_ = -1;
};

class SystemEnv final : public Env {
 public:
  std::chrono::steady_clock::time_point now() const override { return std::chrono::steady_clock::now(); }
  std::chrono::sys_seconds wall() const override {
    return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  }
  std::uint64_t seed() override {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }
  Result<std::unique_ptr<FileLock>, std::string> lock_database(const std::filesystem::path& db) override {
#ifndef _WIN32
    const auto path = db.string() + ".lock";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Unexpected{"cannot create " + path + ": " + std::strerror(errno)};
    auto lock = std::make_unique<PosixLock>(fd);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      char pid[32] = {};
      (void)!::pread(fd, pid, sizeof pid - 1, 0);
      return Unexpected{fmt::format(
          "database {} is in use by another bitscrape crawl (pid {}). Stop that process, or choose another "
          "database with --db.",
          db.string(), pid[0] != 0 ? pid : "unknown")};
    }
    const auto me = std::to_string(::getpid());
    (void)!::ftruncate(fd, 0);
    (void)!::pwrite(fd, me.data(), me.size(), 0);
    return std::unique_ptr<FileLock>(std::move(lock));
#else
    (void)db;
    return std::unique_ptr<FileLock>(std::make_unique<PosixLock>(-1));
#endif
  }
};

}  // namespace

Env& Env::system() {
  static SystemEnv env;
  return env;
}

}  // namespace bitscrape::app
