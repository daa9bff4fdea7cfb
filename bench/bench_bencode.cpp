// Bencode decode throughput: ours vs libtorrent's lt::bdecode on the same bytes, same process.
//
// Cases: a mix of realistic KRPC datagrams (every message shape), and real info dicts generated
// by libtorrent (v1 single/multi-file, v2-only, hybrid). Both decoders reuse their output object
// across iterations (no allocation in steady state), and both walk the complete structure.
// Run: build/bench/bench/bench_bencode   (prints the ratio table at the end)
#include "bencode/decoder.hpp"
#include "krpc_corpus.hpp"
#include "ratio_reporter.hpp"

#include <benchmark/benchmark.h>
#include <libtorrent/bdecode.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace {

std::vector<std::string> load_infodicts() {
  std::vector<std::string> out;
  for (const char* name : {"v1_single", "v1_multi", "v2_only", "hybrid"}) {
    std::ifstream in(std::string(BENCH_CORPUS_DIR) + "/" + name + ".info", std::ios::binary);
    if (!in) throw std::runtime_error(std::string("missing corpus file ") + name);
    out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return out;
}

const std::vector<std::string>& corpus(int which) {
  static const std::vector<std::string> krpc = bench::make_krpc_corpus();
  static const std::vector<std::string> info = load_infodicts();
  return which == 0 ? krpc : info;
}

std::size_t total_bytes(const std::vector<std::string>& c) {
  std::size_t n = 0;
  for (const auto& s : c) n += s.size();
  return n;
}

void ours(benchmark::State& state, int which) {
  const auto& c = corpus(which);
  bitscrape::bencode::Document doc;
  bitscrape::bencode::Limits limits;
  for (auto _ : state) {
    for (const auto& msg : c) {
      if (!bitscrape::bencode::decode(msg, doc, limits)) state.SkipWithError("decode failed");
      benchmark::DoNotOptimize(doc.tokens().data());
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * total_bytes(c)));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * c.size()));
}

void reference(benchmark::State& state, int which) {
  const auto& c = corpus(which);
  lt::bdecode_node node;
  lt::error_code ec;
  int pos = 0;
  for (auto _ : state) {
    for (const auto& msg : c) {
      if (lt::bdecode(msg.data(), msg.data() + msg.size(), node, ec, &pos, 100, 2000000) != 0) {
        state.SkipWithError("lt::bdecode failed");
      }
      benchmark::DoNotOptimize(node.data_section().data());
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * total_bytes(c)));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * c.size()));
}

// Decode and then read what a DHT node reads from a query: y, t, q, a.id, a.target/info_hash.
template <class F>
void access_krpc(benchmark::State& state, F&& f) {
  const auto& c = corpus(0);
  for (auto _ : state) {
    for (const auto& msg : c) benchmark::DoNotOptimize(f(msg));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * total_bytes(c)));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * c.size()));
}

void ours_access(benchmark::State& state) {
  bitscrape::bencode::Document doc;
  access_krpc(state, [&](const std::string& msg) {
    std::size_t n = 0;
    if (!bitscrape::bencode::decode(msg, doc)) return n;
    auto root = doc.root();
    n += root.get_string("y").value_or("").size() + root.get_string("t").value_or("").size();
    auto body = root["a"] ? root["a"] : root["r"];
    n += body.get_string("id").value_or("").size() + body.get_string("target").value_or("").size() +
         body.get_string("nodes").value_or("").size();
    return n;
  });
}

void reference_access(benchmark::State& state) {
  lt::bdecode_node node;
  lt::error_code ec;
  access_krpc(state, [&](const std::string& msg) {
    std::size_t n = 0;
    if (lt::bdecode(msg.data(), msg.data() + msg.size(), node, ec, nullptr, 100, 2000000) != 0) return n;
    n += node.dict_find_string_value("y").size() + node.dict_find_string_value("t").size();
    auto body = node.dict_find_dict("a");
    if (!body) body = node.dict_find_dict("r");
    if (body) {
      n += body.dict_find_string_value("id").size() + body.dict_find_string_value("target").size() +
           body.dict_find_string_value("nodes").size();
    }
    return n;
  });
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::RegisterBenchmark("decode_krpc/ours", ours, 0);
  benchmark::RegisterBenchmark("decode_krpc/libtorrent", reference, 0);
  benchmark::RegisterBenchmark("decode_infodict/ours", ours, 1);
  benchmark::RegisterBenchmark("decode_infodict/libtorrent", reference, 1);
  benchmark::RegisterBenchmark("decode_access_krpc/ours", ours_access);
  benchmark::RegisterBenchmark("decode_access_krpc/libtorrent", reference_access);
  return bench::run_with_ratios(argc, argv);
}
