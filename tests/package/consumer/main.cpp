// Uses the installed headers and libraries: decode a KRPC ping and hash an info dict.
#include <bitscrape/bencode/decoder.hpp>
#include <bitscrape/krpc/codec.hpp>
#include <bitscrape/metainfo/verify.hpp>

#include <cstdio>

int main() {
  bitscrape::bencode::Document doc;
  const auto parsed = bitscrape::krpc::parse("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe", doc);
  const auto h = bitscrape::metainfo::hash_info("d4:name1:xe");
  std::printf("%s %s\n", parsed.ok() ? "ping-ok" : "ping-bad", h.v1.hex().c_str());
  return parsed.ok() ? 0 : 1;
}
