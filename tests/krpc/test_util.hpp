// Helpers shared by the krpc tests: hand-built bencode fragments and ids.
#pragma once

#include "common/hex.hpp"
#include "common/id160.hpp"

#include <string>
#include <string_view>

namespace bitscrape::krpc::test {

// "<len>:<bytes>"
inline std::string bstr(std::string_view s) {
  return std::to_string(s.size()) + ":" + std::string(s);
}

inline std::string hex_bytes(std::string_view hex) {
  return *from_hex(hex);
}

inline Id160 id_of(std::string_view twenty) {
  return *Id160::from_bytes(twenty);
}

inline constexpr std::string_view kIdA = "abcdefghij0123456789";
inline constexpr std::string_view kIdM = "mnopqrstuvwxyz123456";

// A query datagram with tid "aa" and the given (already bencoded) args dict.
inline std::string query(std::string_view method, std::string_view args, std::string_view extra_top = "") {
  return "d1:a" + std::string(args) + "1:q" + bstr(method) + std::string(extra_top) + "1:t2:aa1:y1:qe";
}

// A response datagram with tid "aa" and the given (already bencoded) r dict.
inline std::string response(std::string_view r, std::string_view before_r = "") {
  return "d" + std::string(before_r) + "1:r" + std::string(r) + "1:t2:aa1:y1:re";
}

}  // namespace bitscrape::krpc::test
