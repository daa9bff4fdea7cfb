// TokenIssuer: BEP-5 write tokens for announce_peer.
//
// token = first 8 bytes of SHA-1(secret || requester IP bytes). The secret is rotated every
// `rotation` (BEP-5: 5 minutes) and the previous secret is still accepted, so a token is
// good for between one and two rotation periods. The port is not hashed: BEP-5 binds the
// token to the IP only (an announcer may query from one port and announce another).
//
// Threading: not thread-safe; owned by the Node.
#pragma once

#include "common/endpoint.hpp"
#include "common/hash.hpp"
#include "dht/random.hpp"
#include "dht/time.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace bitscrape::dht {

class TokenIssuer {
 public:
  static constexpr std::size_t kSize = 8;
  using Token = std::array<char, kSize>;

  TokenIssuer(Duration rotation, Rng& rng, TimePoint now);

  // Rotates the secret if its period has passed (at most twice: older secrets are useless).
  void maybe_rotate(TimePoint now);
  TimePoint next_rotation() const noexcept { return next_rotation_; }

  Token issue(const IpAddress& requester);
  bool verify(std::string_view token, const IpAddress& requester);

 private:
  using Secret = std::array<std::uint8_t, 16>;
  Token make(const Secret& s, const IpAddress& ip);

  Duration rotation_;
  Rng& rng_;
  Sha1 sha_;  // reused: no context allocation per token
  Secret current_{};
  Secret previous_{};
  TimePoint next_rotation_;
};

inline std::string_view token_view(const TokenIssuer::Token& t) noexcept { return {t.data(), t.size()}; }

}  // namespace bitscrape::dht
