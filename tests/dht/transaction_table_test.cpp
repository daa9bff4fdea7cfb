#include "dht/transaction_table.hpp"

#include "test_util.hpp"

#include <gtest/gtest.h>

namespace bitscrape::dht {
namespace {

using namespace std::chrono_literals;
using test::at;
using test::ep4;

Transaction txn(const Endpoint& to, TimePoint deadline) {
  Transaction t;
  t.to = to;
  t.deadline = deadline;
  return t;
}

std::string wire(TransactionTable::Tid tid) {
  std::string s(TransactionTable::kTidSize, '\0');
  TransactionTable::write_tid(tid, s.data());
  return s;
}

TEST(TransactionTable, MatchesTidAndEndpoint) {
  Rng rng(1);
  TransactionTable tt(16);
  const auto tid = tt.add(txn(ep4(1), at(2s)), rng);
  ASSERT_TRUE(tid);
  EXPECT_EQ(TransactionTable::read_tid(wire(*tid)), tid);
  EXPECT_FALSE(tt.take(wire(*tid), ep4(2)));             // right tid, wrong endpoint
  EXPECT_FALSE(tt.take(wire(*tid), Endpoint{ep4(1).ip, 1}));  // wrong port
  EXPECT_FALSE(tt.take(wire(*tid + 1), ep4(1)));          // wrong tid
  EXPECT_FALSE(tt.take("ab", ep4(1)));                    // wrong length
  const auto t = tt.take(wire(*tid), ep4(1));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->to, ep4(1));
  EXPECT_FALSE(tt.take(wire(*tid), ep4(1)));  // only once
  EXPECT_EQ(tt.size(), 0u);
}

TEST(TransactionTable, Bounded) {
  Rng rng(2);
  TransactionTable tt(3);
  for (std::uint32_t i = 0; i < 3; ++i) EXPECT_TRUE(tt.add(txn(ep4(i), at(2s)), rng));
  EXPECT_TRUE(tt.full());
  EXPECT_FALSE(tt.add(txn(ep4(9), at(2s)), rng));
}

TEST(TransactionTable, ExpiresInDeadlineOrderAndSkipsAnswered) {
  Rng rng(3);
  TransactionTable tt(16);
  const auto a = *tt.add(txn(ep4(1), at(1s)), rng);
  const auto b = *tt.add(txn(ep4(2), at(2s)), rng);
  const auto c = *tt.add(txn(ep4(3), at(3s)), rng);
  (void)c;
  ASSERT_TRUE(tt.take(wire(a), ep4(1)));
  std::vector<Transaction> out;
  tt.expire(at(1500ms), out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(tt.next_deadline(), at(2s));
  tt.expire(at(2s), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to, ep4(2));
  EXPECT_FALSE(tt.take(wire(b), ep4(2)));
  out.clear();
  tt.expire(at(10s), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to, ep4(3));
  EXPECT_EQ(tt.next_deadline(), kNever);
}

TEST(TransactionTable, OutOfOrderDeadlineStillExpires) {
  Rng rng(4);
  TransactionTable tt(16);
  (void)tt.add(txn(ep4(1), at(5s)), rng);
  (void)tt.add(txn(ep4(2), at(1s)), rng);
  EXPECT_EQ(tt.next_deadline(), at(1s));
  std::vector<Transaction> out;
  tt.expire(at(1s), out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to, ep4(2));
}

}  // namespace
}  // namespace bitscrape::dht
