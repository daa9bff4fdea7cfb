// crawler::FetchService over real loopback TCP, against testnet::SeederHost listeners: an honest
// seeder and a liar that corrupts piece 0 of everything it serves.
//
// The property: every infohash handed to add() gets exactly one outcome, whoever its candidates
// are. An infohash offered only a peer already found lying used to stay queued for good (the
// scheduler dropped the liar and had nobody left to ask, so no outcome ever came): on a
// libtorrent testnet with a liar announced for every torrent, a key first heard from the liar's
// announce_peer stayed pending for the whole crawl.
#include "crawler/fetch_service.hpp"

#include "bencode/encoder.hpp"
#include "common/hash.hpp"
#include "testnet/seeder_host.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>

namespace bitscrape::testnet {
namespace {

using namespace std::chrono_literals;

std::string info_dict(const std::string& name) {
  bencode::Item info;
  info["name"] = name;
  info["piece length"] = std::int64_t{16384};
  info["length"] = std::int64_t{1000};
  info["pieces"] = std::string(20, 'x');
  return info.encode();
}

InfoHash key_of(const std::string& info) {
  const auto d = sha1(info);
  return *InfoHash::from_bytes(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

// Every listener serves every torrent.
class Catalog final : public MetadataCatalog {
 public:
  InfoHash add(const std::string& name) {
    auto info = std::make_shared<const std::string>(info_dict(name));
    const auto key = key_of(*info);
    infos_[key] = std::move(info);
    return key;
  }
  std::shared_ptr<const std::string> find(const InfoHash& key, std::uint32_t /*listener*/) override {
    const auto it = infos_.find(key);
    return it == infos_.end() ? nullptr : it->second;
  }

 private:
  std::map<InfoHash, std::shared_ptr<const std::string>> infos_;
};

class FetchServiceLiarTest : public ::testing::Test {
 protected:
  FetchServiceLiarTest() : host_(io_, SeederHostConfig{}, catalog_) {
    liar_behavior_.corrupt_piece = 0;
    a_ = catalog_.add("a.bin");
    b_ = catalog_.add("b.bin");
    c_ = catalog_.add("c.bin");
    auto honest = host_.listen(*Endpoint::parse("127.0.0.1:0"), 0, nullptr);
    auto liar = host_.listen(*Endpoint::parse("127.0.0.1:0"), 1, &liar_behavior_);
    EXPECT_TRUE(honest.ok() && liar.ok());
    if (honest.ok()) honest_ = *honest;
    if (liar.ok()) liar_ = *liar;
    crawler::FetchServiceConfig config;
    config.pool.fetcher.total_timeout = 10s;
    service_ = std::make_unique<crawler::FetchService>(
        io_, config, [this](crawler::FetchOutcome o) { outcomes_[o.infohash].push_back(std::move(o)); }, 11);
  }
  ~FetchServiceLiarTest() override {
    service_->stop();
    host_.close();
  }

  // Runs the loop until `ih` has an outcome (or 15 s pass).
  const crawler::FetchOutcome* wait_for(const InfoHash& ih) {
    const auto end = std::chrono::steady_clock::now() + 15s;
    while (outcomes_[ih].empty() && std::chrono::steady_clock::now() < end) {
      io_.run_for(10ms);
      if (io_.stopped()) io_.restart();
    }
    return outcomes_[ih].empty() ? nullptr : &outcomes_[ih].front();
  }

  asio::io_context io_;
  Catalog catalog_;
  peerwire::SeederBehavior liar_behavior_;
  SeederHost host_;
  Endpoint honest_, liar_;
  InfoHash a_, b_, c_;
  std::unique_ptr<crawler::FetchService> service_;
  std::map<InfoHash, std::vector<crawler::FetchOutcome>> outcomes_;
};

TEST_F(FetchServiceLiarTest, AKeyOfferedOnlyAKnownLiarStillGetsItsOutcome) {
  const Endpoint liar[] = {liar_};
  ASSERT_TRUE(service_->add(a_, liar));
  const auto* first = wait_for(a_);
  ASSERT_NE(first, nullptr);
  ASSERT_FALSE(first->success);
  ASSERT_EQ(first->attempts.size(), 1u);
  EXPECT_TRUE(first->attempts[0].liar);

  // The liar is known now: b has nobody to ask. It is decided (no attempts: nobody was asked,
  // which says nothing about b itself), not left waiting.
  ASSERT_TRUE(service_->add(b_, liar));
  const auto* second = wait_for(b_);
  ASSERT_NE(second, nullptr) << "no outcome for a key whose only candidate is a known liar";
  EXPECT_FALSE(second->success);
  EXPECT_TRUE(second->attempts.empty());
  EXPECT_EQ(service_->pending(), 0u);

  // With an honest peer beside the liar, the honest one is asked and the liar skipped.
  const Endpoint both[] = {liar_, honest_};
  ASSERT_TRUE(service_->add(c_, both));
  const auto* third = wait_for(c_);
  ASSERT_NE(third, nullptr);
  ASSERT_TRUE(third->success);
  EXPECT_EQ(third->success->info, info_dict("c.bin"));
  ASSERT_EQ(third->attempts.size(), 1u);
  EXPECT_EQ(third->attempts[0].peer, honest_);

  io_.run_for(100ms);  // nothing is reported twice
  EXPECT_EQ(outcomes_[a_].size(), 1u);
  EXPECT_EQ(outcomes_[b_].size(), 1u);
  EXPECT_EQ(outcomes_[c_].size(), 1u);
}

}  // namespace
}  // namespace bitscrape::testnet
