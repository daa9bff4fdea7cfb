// A progress bar on standard error for long CLI commands: redrawn in place (\r) at most ten
// times a second when standard error is a terminal; silent otherwise (the command prints one
// summary line at the end instead). Threading: one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace bitscrape::cli {

class ProgressBar {
 public:
  // `enabled`: draw at all (usually: standard error is a terminal and no --json).
  explicit ProgressBar(bool enabled);
  ~ProgressBar();  // ends the line if anything was drawn
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // done of total units, with a short label ("torrents"); `force` redraws now.
  void update(std::uint64_t done, std::uint64_t total, std::string_view label, bool force = false);
  // Clears the bar's line (before printing something else).
  void finish();

 private:
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

// Is standard error a terminal?
bool stderr_is_tty();

}  // namespace bitscrape::cli
