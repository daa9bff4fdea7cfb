// testnet::SeederHost on loopback TCP: a connection held for SeederHostConfig::hold is served
// only after the hold (bench_fetch's load shape), and then like any other.
#include "testnet/seeder_host.hpp"

#include "bencode/encoder.hpp"
#include "common/hash.hpp"
#include "net/metadata_pool.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <variant>

namespace bitscrape::testnet {
namespace {

using namespace std::chrono_literals;

class OneTorrent final : public MetadataCatalog {
 public:
  explicit OneTorrent(std::string info) : info_(std::make_shared<const std::string>(std::move(info))) {
    const auto d = sha1(*info_);
    key_ = *InfoHash::from_bytes(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
  }
  std::shared_ptr<const std::string> find(const InfoHash& key, std::uint32_t /*listener*/) override {
    return key == key_ ? info_ : nullptr;
  }
  const InfoHash& key() const { return key_; }

 private:
  std::shared_ptr<const std::string> info_;
  InfoHash key_;
};

std::string small_info_dict() {
  bencode::Item info;
  info["name"] = std::string("held.bin");
  info["piece length"] = std::int64_t{16384};
  info["length"] = std::int64_t{1000};
  info["pieces"] = std::string(20, 'x');
  return info.encode();
}

TEST(TestnetSeederHost, HeldConnectionIsServedAfterTheHold) {
  asio::io_context io;
  OneTorrent catalog(small_info_dict());
  SeederHostConfig config;
  config.hold = 300ms;
  SeederHost host(io, config, catalog);
  const auto at = host.listen(*Endpoint::parse("127.0.0.1:0"), 0, nullptr);
  ASSERT_TRUE(at.ok()) << (at.ok() ? "" : at.error());

  std::optional<peerwire::FetchResult> result;
  net::MetadataPoolConfig pc;
  pc.fetcher.total_timeout = 10s;
  net::MetadataPool pool(
      io, pc, [&](const InfoHash&, const Endpoint&, peerwire::FetchResult r) { result = std::move(r); }, 7);
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(pool.start(catalog.key(), *at));
  const auto end = t0 + 20s;
  while (!result && std::chrono::steady_clock::now() < end) {
    io.run_for(10ms);
    if (io.stopped()) io.restart();
  }
  const auto took = std::chrono::steady_clock::now() - t0;

  ASSERT_TRUE(result.has_value());
  ASSERT_TRUE(std::holds_alternative<peerwire::FetchSuccess>(*result));
  EXPECT_EQ(std::get<peerwire::FetchSuccess>(*result).info, small_info_dict());
  EXPECT_GE(took, 300ms);
  EXPECT_EQ(host.counters().accepted, 1u);
  host.close();
  EXPECT_EQ(host.counters().served, 1u);
}

}  // namespace
}  // namespace bitscrape::testnet
