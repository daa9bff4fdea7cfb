#include "dht/search.hpp"

#include "test_util.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

namespace bitscrape::dht {
namespace {

using test::ep4;
using S = Search::State;

// Drives a Search against an ideal network where every node knows the true k closest to any
// target among `ids`: the lookup must end with exactly the k closest.
TEST(Search, ConvergesOnTheKClosest) {
  Rng rng(11);
  std::vector<NodeId> ids;
  std::map<Endpoint, NodeId> by_ep;
  for (std::uint32_t i = 0; i < 1000; ++i) {
    ids.push_back(rng.id());
    by_ep[ep4(i)] = ids.back();
  }
  const auto ep_of = [&](const NodeId& id) {
    for (const auto& [e, x] : by_ep)
      if (x == id) return e;
    return Endpoint{};
  };
  for (int round = 0; round < 20; ++round) {
    const auto target = rng.id();
    auto sorted = ids;
    std::sort(sorted.begin(), sorted.end(), [&](const NodeId& a, const NodeId& b) { return closer_to(target, a, b); });
    Search s(target, 8, 3, 64, true);
    // Start from 8 random nodes, like a sparse routing table.
    for (int i = 0; i < 8; ++i) {
      const auto& id = ids[rng.below(ids.size())];
      (void)s.add(id, ep_of(id));
    }
    int steps = 0;
    while (!s.done() && steps < 1000) {
      std::vector<Search::Candidate> sent;
      s.for_each_to_query([&](Search::Candidate& c) {
        sent.push_back(c);
        return true;
      });
      ASSERT_LE(s.in_flight(), 3u);
      ASSERT_FALSE(sent.empty());
      for (const auto& c : sent) {
        // The contacted node returns the 8 nodes closest to the target among those that
        // share more prefix with the target than it does (a well-populated table).
        std::vector<NodeId> reply;
        for (const auto& id : sorted) {
          if (reply.size() == 8) break;
          if (closer_to(target, id, c.id)) reply.push_back(id);
        }
        ASSERT_NE(s.on_response(c.id, c.endpoint), nullptr);
        for (const auto& id : reply) (void)s.add(id, ep_of(id));
      }
      ++steps;
    }
    ASSERT_TRUE(s.done());
    std::vector<NodeId> got;
    s.for_each_result([&](const Search::Candidate& c) { got.push_back(c.id); });
    EXPECT_EQ(got, std::vector<NodeId>(sorted.begin(), sorted.begin() + 8)) << "round " << round;
    EXPECT_LT(s.queried(), 80u);
  }
}

TEST(Search, FailuresWidenTheWindowAndDoNotBlockTermination) {
  Rng rng(12);
  const auto target = rng.id();
  Search s(target, 2, 3, 16, true);
  std::vector<NodeId> ids;
  for (std::uint32_t i = 0; i < 4; ++i) {
    ids.push_back(rng.id());
    (void)s.add(ids.back(), ep4(i));
  }
  std::vector<Endpoint> asked;
  s.for_each_to_query([&](Search::Candidate& c) {
    asked.push_back(c.endpoint);
    return true;
  });
  EXPECT_EQ(asked.size(), 2u);  // the window is k = 2 wide
  s.on_failure(asked[0]);
  EXPECT_FALSE(s.done());
  std::vector<Endpoint> more;
  s.for_each_to_query([&](Search::Candidate& c) {
    more.push_back(c.endpoint);
    return true;
  });
  ASSERT_EQ(more.size(), 1u);  // the third-closest moved into the window
  EXPECT_FALSE(s.done());
  ASSERT_NE(s.on_response(s.candidates()[0].state == S::Failed ? s.candidates()[1].id : s.candidates()[0].id,
                          s.candidates()[0].state == S::Failed ? s.candidates()[1].endpoint : s.candidates()[0].endpoint),
            nullptr);
  for (const auto& c : s.candidates())
    if (c.state == S::InFlight) (void)s.on_response(c.id, c.endpoint);
  EXPECT_TRUE(s.done());
  EXPECT_EQ(s.in_flight(), 0u);
}

TEST(Search, DeduplicatesAndCapsCandidates) {
  Rng rng(13);
  const auto target = rng.id();
  Search s(target, 8, 3, 10, true);
  const auto id = rng.id();
  EXPECT_TRUE(s.add(id, ep4(1)));
  EXPECT_FALSE(s.add(id, ep4(2)));                            // same id
  EXPECT_FALSE(s.add(rng.id(), Endpoint{ep4(1).ip, 9999}));  // same IP
  for (std::uint32_t i = 2; i < 100; ++i) (void)s.add(rng.id(), ep4(i));
  EXPECT_EQ(s.candidates().size(), 10u);
  for (std::size_t i = 1; i < s.candidates().size(); ++i)
    EXPECT_TRUE(closer_to(target, s.candidates()[i - 1].id, s.candidates()[i].id));
}

TEST(Search, ResponderWithAnotherIdIsRefiled) {
  Rng rng(14);
  const auto target = rng.id();
  Search s(target, 8, 3, 16, true);
  const auto told = rng.id();
  (void)s.add(told, ep4(1));
  s.for_each_to_query([&](Search::Candidate&) { return true; });
  const auto real = rng.id();
  auto* c = s.on_response(real, ep4(1));
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->id, real);
  EXPECT_EQ(c->state, S::Responded);
  EXPECT_EQ(s.candidates().size(), 1u);
  EXPECT_EQ(s.in_flight(), 0u);
}

}  // namespace
}  // namespace bitscrape::dht
