// Fuzz target for the KRPC layer (krpc/codec.hpp).
//
// Properties checked on every input (abort() on violation, so libFuzzer reports it):
//  - parse() never crashes, throws or reads out of bounds (ASan/UBSan do the watching);
//  - a ParseError is self-consistent: offset within the input, tid a slice of the input of a
//    valid length, reply only for queries, and its reply() encodes and parses back as an error
//    with the same tid and code;
//  - a parsed message always encodes; the encoding parses back to an EQUAL message of the same
//    kind with no diagnostics (everything tolerated was dropped or normalised), and encoding
//    that again is byte-identical (canonical fixpoint). This finds encoder bugs, not just
//    parser crashes.
#include "krpc/codec.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace bitscrape;

void check(bool cond) {
  if (!cond) std::abort();
}

bool within(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

void check_error(const krpc::ParseError& e, std::string_view in, bencode::Document& doc) {
  check(e.offset <= in.size() || e.code == krpc::ParseErrorCode::TooLarge);
  if (!e.tid.empty()) {
    check(within(e.tid, in));
    check(e.tid.size() <= krpc::kMaxTransactionIdSize);
  }
  check(e.is_query == (e.reply_code != 0));
  if (e.code == krpc::ParseErrorCode::UnknownMethod) check(e.reply_code == 204);
  if (!e.can_reply()) return;
  std::string out;
  check(krpc::encode(e.reply(), out).ok());
  const auto back = krpc::parse(out, doc);
  check(back.ok() && back->kind == krpc::MessageKind::Error);
  const auto& em = std::get<krpc::ErrorMessage>(back->message);
  check(em.tid == e.tid && em.code == e.reply_code);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static bencode::Document first;
  static bencode::Document second;
  static bencode::Document scratch;
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  const auto parsed = krpc::parse(in, first);
  if (!parsed.ok()) {
    check_error(parsed.error(), in, scratch);
    return 0;
  }
  check(krpc::kind_of(parsed->message) == parsed->kind);

  std::string out;
  const auto enc = krpc::encode(parsed->message, out);
  check(enc.ok());
  const auto again = krpc::parse(out, second);
  check(again.ok());
  check(again->kind == parsed->kind);
  check(again->message == parsed->message);
  check(again->diag == krpc::Diagnostics{});

  std::string out2;
  check(krpc::encode(again->message, out2).ok());
  check(out2 == out);
  return 0;
}
