// A Google Benchmark reporter that prints the usual table, then for every pair of benchmarks
// named "<case>/ours" and "<case>/<reference>" the throughput ratio ours/reference.
#pragma once

#include <benchmark/benchmark.h>

#include <map>
#include <string>

namespace bench {

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override;
  void Finalize() override;

 private:
  // case name -> implementation -> (bytes/s, items/s)
  std::map<std::string, std::map<std::string, std::pair<double, double>>> results_;
};

// Runs the registered benchmarks with RatioReporter; call from main().
int run_with_ratios(int argc, char** argv);

}  // namespace bench
