// SHA-1 and SHA-256 through OpenSSL's EVP interface (never hand-written).
//
// Threading: each function is independent and thread-safe; Sha1/Sha256 objects are not shared.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string_view>

namespace bitscrape {

using Sha1Digest = std::array<std::uint8_t, 20>;
using Sha256Digest = std::array<std::uint8_t, 32>;

Sha1Digest sha1(std::string_view data);
Sha256Digest sha256(std::string_view data);

// Incremental hashing, for data that arrives in pieces. finish() leaves the object ready for
// the next message, so a hot path keeps one object and never allocates a context per hash.
class Sha1 {
 public:
  Sha1();
  ~Sha1();
  Sha1(const Sha1&) = delete;
  Sha1& operator=(const Sha1&) = delete;
  void update(std::string_view data);
  Sha1Digest finish();
  // SHA-1 of the concatenation of `parts` (resets first).
  Sha1Digest digest(std::initializer_list<std::string_view> parts);

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view data);
  Sha256Digest finish();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

}  // namespace bitscrape
