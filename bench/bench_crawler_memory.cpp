// Crawler memory with many known infohashes: the pipeline (known-key set + lookup queue) as
// `bitscrape crawl` configures it from the default memory budget, fed N distinct infohashes as
// BEP-51 samples while lookups are refused (the worst case: nothing leaves the queue), then the
// process RSS. The database page caches are separate (a fixed 64 + 8 + 16 MiB at most).
//
// Run: build/bench/bench/bench_crawler_memory [N=1000000]
#include "app/config.hpp"
#include "app/crawl.hpp"
#include "crawler/pipeline.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <unistd.h>

namespace {

double rss_mib() {
  std::ifstream f("/proc/self/statm");
  long pages = 0, resident = 0;
  f >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1 << 20);
}

struct NullEnv : bitscrape::crawler::PipelineEnv {
  bitscrape::dht::LookupId start_get_peers(const bitscrape::InfoHash&, bitscrape::dht::TimePoint,
                                           std::span<const bitscrape::krpc::CompactNode>) override {
    return bitscrape::dht::kNoLookup;
  }
  bool fetch(const bitscrape::InfoHash&, std::span<const bitscrape::Endpoint>, int) override { return true; }
  std::size_t fetch_backlog() const override { return 0; }
  std::vector<bool> claim(std::span<const bitscrape::InfoHash> keys) override {
    return std::vector<bool>(keys.size(), true);
  }
  void record(bitscrape::storage::StoreWriter::Record) override { ++records; }
  bitscrape::storage::UnixTime wall_now() const override { return bitscrape::storage::from_unix(1'700'000'000); }
  std::size_t records = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  const double before = rss_mib();
  NullEnv env;
  const auto cfg = bitscrape::app::default_config();
  bitscrape::crawler::Pipeline p(env, bitscrape::app::pipeline_config(cfg));
  std::mt19937_64 rng(1);
  const bitscrape::Endpoint from{bitscrape::IpAddress::v4(0x01020304u), 6881};
  bitscrape::dht::TimePoint now{};
  for (std::size_t i = 0; i < n; ++i) {
    bitscrape::InfoHash ih;
    for (std::size_t b = 0; b < 20; b += 8) {
      const auto r = rng();
      for (std::size_t k = 0; k < 8 && b + k < 20; ++k) ih.bytes[b + k] = static_cast<std::uint8_t>(r >> (8 * k));
    }
    p.on_infohash_seen(ih, bitscrape::dht::InfohashSource::Sample, from);
    if (i % 256 == 0) p.tick(now);
  }
  while (p.unchecked() > 0) p.tick(now);
  const double after = rss_mib();
  std::printf("known infohashes:   %zu (known set %zu entries, %.1f MiB)\n", n, p.known().size(),
              static_cast<double>(p.known().memory_bytes()) / (1 << 20));
  std::printf("lookup queue:       %zu (bound %zu; %llu more left Pending in the database)\n", p.lookup_queue(),
              bitscrape::app::pipeline_config(cfg).max_lookup_queue,
              static_cast<unsigned long long>(p.counters().lookup_queue_drops));
  std::printf("RSS before / after: %.1f MiB / %.1f MiB (pipeline: %.1f MiB; target <= 100 MB for the crawler)\n",
              before, after, after - before);
  return 0;
}
