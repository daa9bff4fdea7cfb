// Compact node info and compact peer info (BEP-5, BEP-32), and the BEP-51 sample list.
//
//   compact peer: 4-byte IPv4 or 16-byte IPv6 address + 2-byte port, network order (6/18 bytes)
//   compact node: 20-byte node id + compact peer (26/38 bytes)
//
// NodeList and SampleList are validated, non-owning views over a concatenated blob as it
// arrived in a datagram (`nodes`, `nodes6`, `samples`). They never allocate: iteration decodes
// one entry at a time. A NodeList can only be made from a blob whose length is a multiple of
// its stride, so code holding one never has to re-check.
//
// Entries are decoded as they are, not judged: port 0, martian addresses and duplicate ids come
// out of the iterator unchanged. Filtering them is the DHT node's policy (it counts what it
// drops), not the wire format's.
//
// Threading: plain values and pure functions; views are valid while the viewed bytes live.
#pragma once

#include "common/endpoint.hpp"
#include "common/id160.hpp"

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

namespace bitscrape::krpc {

inline constexpr std::size_t kCompactPeerV4Size = 6;
inline constexpr std::size_t kCompactPeerV6Size = 18;
inline constexpr std::size_t kCompactNodeV4Size = NodeId::kSize + kCompactPeerV4Size;  // 26
inline constexpr std::size_t kCompactNodeV6Size = NodeId::kSize + kCompactPeerV6Size;  // 38
inline constexpr std::size_t kMaxCompactPeerSize = kCompactPeerV6Size;

struct CompactNode {
  NodeId id;
  Endpoint endpoint;

  bool operator==(const CompactNode&) const = default;
};

// A 6- or 18-byte compact peer; nullopt for any other length.
std::optional<Endpoint> decode_compact_peer(std::string_view raw) noexcept;
// A 26- or 38-byte compact node; nullopt for any other length.
std::optional<CompactNode> decode_compact_node(std::string_view raw) noexcept;

// Writes the 6- or 18-byte compact form of `ep` (by its address family) to `out`, which must
// have room for kMaxCompactPeerSize bytes; returns the number of bytes written.
std::size_t write_compact_peer(const Endpoint& ep, char* out) noexcept;
// Appends the 6/18-byte compact peer form of `ep`.
void append_compact_peer(std::string& out, const Endpoint& ep);
// Appends the 26/38-byte compact node form of `node` (by its endpoint's address family).
void append_compact_node(std::string& out, const CompactNode& node);

// A forward iterator over a view with size() and operator[](i): the compact blob views below.
template <class List, class T>
class IndexIterator {
 public:
  using value_type = T;
  using difference_type = std::ptrdiff_t;
  using iterator_category = std::forward_iterator_tag;
  IndexIterator() = default;
  IndexIterator(const List* l, std::size_t i) : list_(l), i_(i) {}
  T operator*() const noexcept { return (*list_)[i_]; }
  IndexIterator& operator++() noexcept {
    ++i_;
    return *this;
  }
  IndexIterator operator++(int) noexcept {
    auto t = *this;
    ++i_;
    return t;
  }
  bool operator==(const IndexIterator& o) const noexcept { return i_ == o.i_; }

 private:
  const List* list_ = nullptr;
  std::size_t i_ = 0;
};

// A validated view over concatenated compact node infos of one address family.
class NodeList {
 public:
  NodeList() = default;  // an empty IPv4 list
  // nullopt unless blob.size() is a multiple of 26 (v4) / 38 (v6).
  static std::optional<NodeList> v4(std::string_view blob) noexcept;
  static std::optional<NodeList> v6(std::string_view blob) noexcept;

  IpAddress::Family family() const noexcept { return family_; }
  std::size_t stride() const noexcept {
    return family_ == IpAddress::Family::V4 ? kCompactNodeV4Size : kCompactNodeV6Size;
  }
  std::size_t size() const noexcept { return bytes_.size() / stride(); }
  bool empty() const noexcept { return bytes_.empty(); }
  // The blob exactly as received (what goes back on the wire).
  std::string_view bytes() const noexcept { return bytes_; }
  // Entry i (i < size()).
  CompactNode operator[](std::size_t i) const noexcept;

  using iterator = IndexIterator<NodeList, CompactNode>;
  iterator begin() const noexcept { return iterator(this, 0); }
  iterator end() const noexcept { return iterator(this, size()); }

  bool operator==(const NodeList& o) const noexcept { return family_ == o.family_ && bytes_ == o.bytes_; }

 private:
  NodeList(std::string_view b, IpAddress::Family f) : bytes_(b), family_(f) {}
  std::string_view bytes_;
  IpAddress::Family family_ = IpAddress::Family::V4;
};

// BEP-51 `samples`: a concatenation of 20-byte infohashes. Sample i is bytes [i*20, (i+1)*20).
class SampleList {
 public:
  SampleList() = default;
  // nullopt unless blob.size() is a multiple of 20.
  static std::optional<SampleList> from(std::string_view blob) noexcept;

  std::size_t size() const noexcept { return bytes_.size() / InfoHash::kSize; }
  bool empty() const noexcept { return bytes_.empty(); }
  std::string_view bytes() const noexcept { return bytes_; }
  InfoHash operator[](std::size_t i) const noexcept;

  using iterator = IndexIterator<SampleList, InfoHash>;
  iterator begin() const noexcept { return iterator(this, 0); }
  iterator end() const noexcept { return iterator(this, size()); }

  bool operator==(const SampleList& o) const noexcept { return bytes_ == o.bytes_; }

 private:
  explicit SampleList(std::string_view b) : bytes_(b) {}
  std::string_view bytes_;
};

}  // namespace bitscrape::krpc
