// The fuzz seed corpus (fuzz/corpus/krpc/) stays meaningful: every seed parses as the message
// kind its file name says, so the fuzzer starts from every message type.
#include "krpc/codec.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

namespace bitscrape::krpc {
namespace {

TEST(FuzzCorpus, EverySeedParsesAsNamed) {
  const std::map<std::string, MessageKind> expected = {
      {"query_ping", MessageKind::Ping},
      {"query_find_node", MessageKind::FindNode},
      {"query_get_peers", MessageKind::GetPeers},
      {"query_announce_peer", MessageKind::AnnouncePeer},
      {"query_sample_infohashes", MessageKind::SampleInfohashes},
      {"query_unknown_method", MessageKind::Unknown},
      {"response_ping", MessageKind::Response},
      {"response_find_node", MessageKind::Response},
      {"response_get_peers", MessageKind::Response},
      {"response_sample_infohashes", MessageKind::Response},
      {"error", MessageKind::Error},
      {"error_204", MessageKind::Error},
      {"unsorted_query", MessageKind::Ping},
  };
  const std::filesystem::path dir = std::filesystem::path(BITSCRAPE_SOURCE_DIR) / "fuzz" / "corpus" / "krpc";
  std::size_t seen = 0;
  bencode::Document doc;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    SCOPED_TRACE(name);
    std::ifstream f(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const auto it = expected.find(name);
    ASSERT_NE(it, expected.end()) << "seed without an expectation";
    ++seen;
    const auto r = parse(bytes, doc);
    if (it->second == MessageKind::Unknown) {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code, ParseErrorCode::UnknownMethod);
      EXPECT_EQ(r.error().reply_code, 204);
      continue;
    }
    ASSERT_TRUE(r.ok()) << to_string(r.error().code) << " " << r.error().field;
    EXPECT_EQ(r->kind, it->second);
  }
  EXPECT_EQ(seen, expected.size());
}

}  // namespace
}  // namespace bitscrape::krpc
