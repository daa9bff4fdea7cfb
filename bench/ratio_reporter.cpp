#include "ratio_reporter.hpp"

#include <cstdio>

namespace bench {

void RatioReporter::ReportRuns(const std::vector<Run>& runs) {
  ConsoleReporter::ReportRuns(runs);
  for (const auto& run : runs) {
    if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
    const std::string name = run.benchmark_name();
    const auto slash = name.rfind('/');
    if (slash == std::string::npos) continue;
    double bytes = 0;
    double items = 0;
    if (auto it = run.counters.find("bytes_per_second"); it != run.counters.end()) bytes = it->second;
    if (auto it = run.counters.find("items_per_second"); it != run.counters.end()) items = it->second;
    results_[name.substr(0, slash)][name.substr(slash + 1)] = {bytes, items};
  }
}

void RatioReporter::Finalize() {
  ConsoleReporter::Finalize();
  std::printf("\n%-28s %-12s %12s %14s %12s %14s %8s\n", "case", "reference", "ours MB/s", "ours items/s",
              "ref MB/s", "ref items/s", "ratio");
  for (const auto& [name, impls] : results_) {
    const auto ours = impls.find("ours");
    if (ours == impls.end()) continue;
    for (const auto& [impl, figures] : impls) {
      if (impl == "ours" || figures.first <= 0) continue;
      std::printf("%-28s %-12s %12.1f %14.0f %12.1f %14.0f %7.2fx\n", name.c_str(), impl.c_str(),
                  ours->second.first / 1e6, ours->second.second, figures.first / 1e6, figures.second,
                  ours->second.first / figures.first);
    }
  }
}

int run_with_ratios(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}

}  // namespace bench
