#include "krpc/message.hpp"

#include <array>

namespace bitscrape::krpc {
namespace {

constexpr std::array<std::string_view, kMethodCount> kMethodNames{"ping", "find_node", "get_peers",
                                                                  "announce_peer", "sample_infohashes"};

constexpr std::array<std::string_view, kMessageKindCount> kKindNames{
    "ping", "find_node", "get_peers", "announce_peer", "sample_infohashes", "response", "error", "unknown"};

// Port bytes of a compact peer string are its last two.
bool nonzero_port(std::string_view s) noexcept {
  return s[s.size() - 1] != 0 || s[s.size() - 2] != 0;
}

}  // namespace

std::string_view method_name(Method m) noexcept {
  return kMethodNames[static_cast<std::size_t>(m)];
}

std::optional<Method> method_from_name(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kMethodNames.size(); ++i) {
    if (kMethodNames[i] == name) return static_cast<Method>(i);
  }
  return std::nullopt;
}

MessageKind kind_of(Method m) noexcept {
  // Method and MessageKind share their first kMethodCount enumerators.
  return static_cast<MessageKind>(static_cast<std::uint8_t>(m));
}

std::string_view to_string(MessageKind k) noexcept {
  const auto i = static_cast<std::size_t>(k);
  return i < kKindNames.size() ? kKindNames[i] : std::string_view("unknown");
}

MessageKind kind_of(const Message& m) noexcept {
  if (const auto* q = std::get_if<Query>(&m)) return kind_of(q->method());
  if (std::holds_alternative<Response>(m)) return MessageKind::Response;
  return MessageKind::Error;
}

// ---- PeerValues -------------------------------------------------------------------------------

bool PeerValues::valid_entry(bencode::Value entry) noexcept {
  const auto s = entry.as_string();
  return s && (s->size() == kCompactPeerV4Size || s->size() == kCompactPeerV6Size) && nonzero_port(*s);
}

PeerValues PeerValues::from_list(bencode::Value list) noexcept {
  PeerValues pv;
  pv.list_ = list;
  pv.is_list_ = true;
  for (const bencode::Value e : list.items()) {
    if (valid_entry(e)) {
      ++pv.count_;
    } else {
      ++pv.skipped_;
    }
  }
  return pv;
}

PeerValues PeerValues::from_endpoints(std::span<const Endpoint> endpoints) noexcept {
  PeerValues pv;
  pv.endpoints_ = endpoints;
  pv.count_ = static_cast<std::uint32_t>(endpoints.size());
  return pv;
}

PeerValues::iterator PeerValues::begin() const noexcept {
  iterator it;
  it.pv_ = this;
  if (is_list_) {
    const auto r = list_.items();
    it.it_ = r.begin();
    it.end_ = r.end();
    it.skip_invalid();
  }
  return it;
}

PeerValues::iterator PeerValues::end() const noexcept {
  iterator it;
  it.pv_ = this;
  if (is_list_) {
    const auto r = list_.items();
    it.it_ = r.end();
    it.end_ = r.end();
  } else {
    it.i_ = endpoints_.size();
  }
  return it;
}

void PeerValues::iterator::skip_invalid() noexcept {
  while (it_ != end_ && !valid_entry(*it_)) ++it_;
}

Endpoint PeerValues::iterator::operator*() const noexcept {
  if (pv_->is_list_) return *decode_compact_peer(*(*it_).as_string());
  return pv_->endpoints_[i_];
}

PeerValues::iterator& PeerValues::iterator::operator++() noexcept {
  if (pv_->is_list_) {
    ++it_;
    skip_invalid();
  } else {
    ++i_;
  }
  return *this;
}

bool operator==(const PeerValues& a, const PeerValues& b) noexcept {
  if (a.size() != b.size()) return false;
  auto ia = a.begin();
  auto ib = b.begin();
  for (; ia != a.end(); ++ia, ++ib) {
    if (*ia != *ib) return false;
  }
  return true;
}

}  // namespace bitscrape::krpc
