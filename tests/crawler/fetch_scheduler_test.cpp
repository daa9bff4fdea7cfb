#include "crawler/fetch_scheduler.hpp"

#include <gtest/gtest.h>

namespace bitscrape::crawler {
namespace {

InfoHash ih(int n) {
  InfoHash h;
  h.bytes[0] = static_cast<std::uint8_t>(n);
  return h;
}
Endpoint peer(int n) { return Endpoint{IpAddress::v4(0x01000000u + static_cast<std::uint32_t>(n)), 6881}; }

peerwire::FetchResult ok() {
  peerwire::FetchSuccess s;
  s.info = "d4:name1:xe";
  s.key = metainfo::KeyMatch::V1;
  return s;
}
peerwire::FetchResult fail(peerwire::FailReason r, bool liar = false) {
  peerwire::FetchFailure f;
  f.reason = r;
  f.detail = "x";
  f.liar = liar;
  return f;
}
const auto any = [](const Endpoint&) { return true; };

TEST(FetchScheduler, StopsAtFirstSuccess) {
  FetchScheduler s({.max_attempts = 5, .parallel_per_infohash = 1});
  std::vector<Endpoint> peers{peer(1), peer(2), peer(3)};
  ASSERT_TRUE(s.add(ih(1), peers));
  auto j = s.next(any);
  ASSERT_TRUE(j);
  EXPECT_EQ(j->peer, peer(1));
  EXPECT_FALSE(s.next(any));  // one at a time for this infohash
  EXPECT_FALSE(s.on_result(ih(1), peer(1), fail(peerwire::FailReason::PeerClosed)));
  j = s.next(any);
  ASSERT_TRUE(j);
  EXPECT_EQ(j->peer, peer(2));
  auto out = s.on_result(ih(1), peer(2), ok());
  ASSERT_TRUE(out);
  ASSERT_TRUE(out->success);
  ASSERT_EQ(out->attempts.size(), 2u);
  EXPECT_FALSE(out->attempts[0].ok);
  EXPECT_EQ(out->attempts[0].reason, peerwire::FailReason::PeerClosed);
  EXPECT_TRUE(out->attempts[1].ok);
  EXPECT_FALSE(s.contains(ih(1)));
  EXPECT_FALSE(s.next(any));
  EXPECT_EQ(s.counters().succeeded, 1u);
}

TEST(FetchScheduler, GivesUpAfterMaxAttemptsWithEveryReason) {
  FetchScheduler s({.max_attempts = 2, .parallel_per_infohash = 1});
  std::vector<Endpoint> peers{peer(1), peer(2), peer(3)};
  s.add(ih(1), peers);
  s.next(any);
  EXPECT_FALSE(s.on_result(ih(1), peer(1), fail(peerwire::FailReason::Rejected)));
  s.next(any);
  auto out = s.on_result(ih(1), peer(2), fail(peerwire::FailReason::HashMismatch, true));
  ASSERT_TRUE(out);
  EXPECT_FALSE(out->success);
  ASSERT_EQ(out->attempts.size(), 2u);
  EXPECT_EQ(out->attempts[1].reason, peerwire::FailReason::HashMismatch);
  EXPECT_TRUE(out->attempts[1].liar);
  EXPECT_TRUE(s.is_bad_peer(peer(2)));
  EXPECT_EQ(s.counters().exhausted, 1u);
}

TEST(FetchScheduler, NeverSamePeerTwiceAndSkipsLiars) {
  FetchScheduler s({.max_attempts = 5, .parallel_per_infohash = 2});
  std::vector<Endpoint> a{peer(1), peer(2)};
  s.add(ih(1), a);
  auto j1 = s.next(any);
  s.on_result(ih(1), j1->peer, fail(peerwire::FailReason::HashMismatch, true));  // peer(1) lies
  s.add(ih(1), a);  // re-adding tried peers changes nothing
  std::vector<Endpoint> b{peer(1), peer(3)};
  s.add(ih(2), b);
  std::vector<Endpoint> started;
  while (auto j = s.next(any)) started.push_back(j->peer);
  // ih1: peer(2) only (peer(1) tried); ih2: peer(3) only (peer(1) is a liar).
  EXPECT_EQ(started, (std::vector<Endpoint>{peer(2), peer(3)}));
  EXPECT_EQ(s.counters().skipped_bad_peer, 1u);
}

TEST(FetchScheduler, PriorityOrderAndCapsRespected) {
  FetchScheduler s;
  std::vector<Endpoint> p1{peer(1)}, p2{peer(2)}, p3{peer(3)};
  s.add(ih(1), p1, 0);
  s.add(ih(2), p2, 5);
  s.add(ih(3), p3, 1);
  // The pool refuses peer(2) (e.g. per-IP cap): the next best is taken instead.
  auto j = s.next([](const Endpoint& e) { return !(e == peer(2)); });
  EXPECT_EQ(j->infohash, ih(3));
  j = s.next(any);
  EXPECT_EQ(j->infohash, ih(2));
  j = s.next(any);
  EXPECT_EQ(j->infohash, ih(1));
  EXPECT_EQ(s.in_flight(), 3u);
}

TEST(FetchScheduler, RaisingPriorityReordersAndMerges) {
  FetchScheduler s({.max_candidates = 2});
  std::vector<Endpoint> p1{peer(1)}, p2{peer(2)};
  s.add(ih(1), p1, 0);
  s.add(ih(2), p2, 1);
  std::vector<Endpoint> more{peer(3), peer(4), peer(5)};
  s.add(ih(1), more, 9);  // candidates capped at 2: peer(1), peer(3)
  auto j = s.next(any);
  EXPECT_EQ(j->infohash, ih(1));
  EXPECT_EQ(j->peer, peer(1));
  j = s.next(any);
  EXPECT_EQ(j->infohash, ih(1));
  EXPECT_EQ(j->peer, peer(3));
  j = s.next(any);
  EXPECT_EQ(j->infohash, ih(2));
}

TEST(FetchScheduler, QueueIsBounded) {
  FetchScheduler s({.max_queued = 2});
  std::vector<Endpoint> p{peer(1)};
  EXPECT_TRUE(s.add(ih(1), p));
  EXPECT_TRUE(s.add(ih(2), p));
  EXPECT_FALSE(s.add(ih(3), p));
  EXPECT_TRUE(s.add(ih(1), p));  // merging into a queued entry is always fine
  EXPECT_EQ(s.counters().dropped_queue_full, 1u);
}

TEST(FetchScheduler, LateResultsAfterDecisionAreIgnored) {
  FetchScheduler s({.parallel_per_infohash = 2});
  std::vector<Endpoint> p{peer(1), peer(2)};
  s.add(ih(1), p);
  s.next(any);
  s.next(any);
  EXPECT_EQ(s.in_flight(), 2u);
  ASSERT_TRUE(s.on_result(ih(1), peer(1), ok()));
  EXPECT_EQ(s.in_flight(), 0u);
  EXPECT_FALSE(s.on_result(ih(1), peer(2), ok()));
}

TEST(FetchScheduler, LiarMemoryIsBounded) {
  FetchScheduler s({.max_attempts = 100, .parallel_per_infohash = 1, .max_candidates = 100, .max_bad_peers = 3});
  std::vector<Endpoint> peers;
  for (int i = 0; i < 5; ++i) peers.push_back(peer(i));
  s.add(ih(1), peers);
  for (int i = 0; i < 4; ++i) {
    auto j = s.next(any);
    ASSERT_TRUE(j);
    s.on_result(ih(1), j->peer, fail(peerwire::FailReason::HashMismatch, true));
  }
  EXPECT_FALSE(s.is_bad_peer(peer(0)));  // the oldest was forgotten
  EXPECT_TRUE(s.is_bad_peer(peer(1)));
  EXPECT_TRUE(s.is_bad_peer(peer(3)));
}

// An infohash whose only candidates are known liars can never start a fetch: it is decided at
// once (a failure with no attempts), not left queued forever with nobody to ask. (A key first
// heard from a liar's announce_peer used to wait for an outcome that never came.)
TEST(FetchScheduler, OnlyLiarsLeftIsDecidedNotForgotten) {
  FetchScheduler s({.max_attempts = 5, .parallel_per_infohash = 1});
  std::vector<Endpoint> liar{peer(9)};
  s.add(ih(1), liar);
  s.next(any);
  ASSERT_TRUE(s.on_result(ih(1), peer(9), fail(peerwire::FailReason::HashMismatch, true)));
  EXPECT_TRUE(s.take_decided().empty());

  ASSERT_TRUE(s.add(ih(2), liar));  // accepted: its outcome follows
  EXPECT_FALSE(s.next(any));
  auto decided = s.take_decided();
  ASSERT_EQ(decided.size(), 1u);
  EXPECT_EQ(decided[0].infohash, ih(2));
  EXPECT_FALSE(decided[0].success);
  EXPECT_TRUE(decided[0].attempts.empty());  // nobody was asked: not a verdict on the torrent
  EXPECT_FALSE(s.contains(ih(2)));
  EXPECT_EQ(s.counters().skipped_bad_peer, 1u);
  EXPECT_TRUE(s.take_decided().empty());
}

// A candidate that turns out to be a liar (for another infohash) while it waits: once the peers
// in flight have answered, nothing is left to try and the infohash is decided.
TEST(FetchScheduler, CandidatesThatBecomeLiarsDoNotStrandTheEntry) {
  FetchScheduler s({.max_attempts = 5, .parallel_per_infohash = 1});
  std::vector<Endpoint> a{peer(1), peer(9)};
  s.add(ih(1), a);
  std::vector<Endpoint> b{peer(9)};
  s.add(ih(2), b, 10);  // higher priority: starts first
  auto j = s.next(any);
  ASSERT_EQ(j->infohash, ih(2));
  j = s.next(any);
  ASSERT_EQ(j->infohash, ih(1));
  ASSERT_EQ(j->peer, peer(1));
  ASSERT_TRUE(s.on_result(ih(2), peer(9), fail(peerwire::FailReason::HashMismatch, true)));  // peer(9) lies
  // ih1's last candidate is now a liar: its failing attempt decides it.
  auto out = s.on_result(ih(1), peer(1), fail(peerwire::FailReason::ConnectFailed));
  ASSERT_TRUE(out);
  EXPECT_FALSE(out->success);
  ASSERT_EQ(out->attempts.size(), 1u);
  EXPECT_FALSE(s.contains(ih(1)));
  EXPECT_FALSE(s.next(any));
  EXPECT_TRUE(s.take_decided().empty());
}

// Liars learned while an infohash waits with nothing in flight: next() finds them and decides it.
TEST(FetchScheduler, WaitingEntryWhoseCandidatesAllLieIsDecidedByNext) {
  FetchScheduler s({.max_attempts = 5, .parallel_per_infohash = 1});
  std::vector<Endpoint> liar{peer(9)};
  s.add(ih(1), liar, 10);
  s.add(ih(2), liar, 0);
  const auto busy = [](const Endpoint& p) { return p != peer(9); };
  EXPECT_FALSE(s.next(busy));  // peer(9) has no room yet
  auto j = s.next(any);
  ASSERT_EQ(j->infohash, ih(1));
  ASSERT_TRUE(s.on_result(ih(1), peer(9), fail(peerwire::FailReason::HashMismatch, true)));
  EXPECT_FALSE(s.next(any));
  auto decided = s.take_decided();
  ASSERT_EQ(decided.size(), 1u);
  EXPECT_EQ(decided[0].infohash, ih(2));
  EXPECT_EQ(s.size(), 0u);
}

}  // namespace
}  // namespace bitscrape::crawler
