#include "dht/token.hpp"

#include <algorithm>

namespace bitscrape::dht {

TokenIssuer::TokenIssuer(Duration rotation, Rng& rng, TimePoint now)
    : rotation_(rotation > Duration::zero() ? rotation : Duration(1)), rng_(rng), next_rotation_(now + rotation_) {
  rng_.fill(current_.data(), current_.size());
  rng_.fill(previous_.data(), previous_.size());
}

void TokenIssuer::maybe_rotate(TimePoint now) {
  for (int i = 0; i < 2 && now >= next_rotation_; ++i) {
    previous_ = current_;
    rng_.fill(current_.data(), current_.size());
    next_rotation_ += rotation_;
  }
  if (now >= next_rotation_) next_rotation_ = now + rotation_;  // long idle: both are fresh
}

TokenIssuer::Token TokenIssuer::make(const Secret& s, const IpAddress& ip) {
  const auto d = sha_.digest({std::string_view(reinterpret_cast<const char*>(s.data()), s.size()), ip.bytes()});
  Token t{};
  std::copy_n(reinterpret_cast<const char*>(d.data()), kSize, t.data());
  return t;
}

TokenIssuer::Token TokenIssuer::issue(const IpAddress& requester) { return make(current_, requester); }

bool TokenIssuer::verify(std::string_view token, const IpAddress& requester) {
  if (token.size() != kSize) return false;
  return token == token_view(make(current_, requester)) || token == token_view(make(previous_, requester));
}

}  // namespace bitscrape::dht
