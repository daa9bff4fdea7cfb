#include "crawler/client_versions.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace bitscrape::crawler {

namespace {

constexpr std::uint64_t kIndexMask = 0xFFFF;  // low 16 bits: the version index
constexpr std::size_t kInitialSlots = 1u << 10;

bool is_code_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

std::uint64_t mix(std::uint64_t x) noexcept {  // the splitmix64 finalizer
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

std::string format_client_version(std::string_view raw) {
  if (raw.empty()) return "(empty)";
  if (raw.size() == 4 && is_code_char(raw[0]) && is_code_char(raw[1])) {
    const auto hi = static_cast<unsigned char>(raw[2]);
    const auto lo = static_cast<unsigned char>(raw[3]);
    std::string out(raw.substr(0, 2));
    out += ' ';
    if (raw[0] == 'L' && raw[1] == 'T') {
      out += std::to_string(hi) + '.';
      if (hi >= 2 || (hi == 1 && lo >= 0x20)) {  // libtorrent 1.2+: major, minor << 4 | tiny
        out += std::to_string(lo >> 4) + '.' + std::to_string(lo & 0xF);
      } else {  // libtorrent up to 1.1: major, minor
        out += std::to_string(lo);
      }
    } else {
      out += std::to_string((static_cast<unsigned>(hi) << 8) | lo);
    }
    return out;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "hex:";
  out.reserve(4 + 2 * raw.size());
  for (const char c : raw) {
    const auto b = static_cast<unsigned char>(c);
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
  }
  return out;
}

ClientVersions::ClientVersions(std::size_t max_nodes, std::size_t max_versions, std::uint64_t seed)
    : max_nodes_(std::max<std::size_t>(1, max_nodes)),
      max_versions_(std::min(max_versions, kMaxVersionsLimit)),
      seed_(seed) {
  const std::size_t slots = std::min(kInitialSlots, std::bit_ceil(max_nodes_ * 2));
  slots_.assign(slots, 0);
  mask_ = slots - 1;
  labels_.emplace_back(kOther);
  counts_.push_back(0);
}

std::uint64_t ClientVersions::fingerprint(const NodeId& id) const noexcept {
  std::uint64_t w[3] = {};
  std::memcpy(&w[0], id.bytes.data(), 8);
  std::memcpy(&w[1], id.bytes.data() + 8, 8);
  std::memcpy(&w[2], id.bytes.data() + 16, 4);
  std::uint64_t h = mix(seed_ ^ w[0]);
  h = mix(h ^ w[1]);
  h = mix(h ^ w[2]);
  h &= ~kIndexMask;
  return h == 0 ? kIndexMask + 1 : h;  // 0 marks an empty slot
}

std::size_t ClientVersions::find(std::uint64_t fp) const noexcept {
  // Linear probing from the fingerprint's hash bits (the low bits carry the version index).
  std::size_t i = static_cast<std::size_t>(fp >> 16) & mask_;
  while (slots_[i] != 0 && (slots_[i] & ~kIndexMask) != fp) i = (i + 1) & mask_;
  return i;
}

void ClientVersions::grow() {
  std::vector<std::uint64_t> old(slots_.size() * 2, 0);
  old.swap(slots_);
  mask_ = slots_.size() - 1;
  for (const auto s : old) {
    if (s != 0) slots_[find(s & ~kIndexMask)] = s;
  }
}

std::uint16_t ClientVersions::intern(std::string_view raw) {
  if (const auto it = index_.find(raw); it != index_.end()) return it->second;
  if (labels_.size() - 1 >= max_versions_) return 0;
  const auto idx = static_cast<std::uint16_t>(labels_.size());
  index_.emplace(std::string(raw), idx);
  labels_.push_back(format_client_version(raw));
  counts_.push_back(0);
  return idx;
}

void ClientVersions::seen(const NodeId& id, std::string_view raw_version) {
  const auto fp = fingerprint(id);
  auto i = find(fp);
  if (slots_[i] == 0) {
    if (size_ >= max_nodes_) {
      saturated_ = true;
      ++turned_away_;
      return;
    }
    if ((size_ + 1) * 2 > slots_.size()) {
      grow();
      i = find(fp);
    }
    const auto idx = intern(raw_version);
    slots_[i] = fp | idx;
    ++counts_[idx];
    ++size_;
    return;
  }
  const auto old_idx = static_cast<std::uint16_t>(slots_[i] & kIndexMask);
  const auto idx = intern(raw_version);
  if (idx == old_idx) return;  // the common case: the version it reported before
  --counts_[old_idx];
  ++counts_[idx];
  slots_[i] = fp | idx;
}

std::vector<VersionCount> ClientVersions::top(std::size_t max) const {
  std::vector<std::uint16_t> order;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] > 0) order.push_back(static_cast<std::uint16_t>(i));
  }
  const auto by_nodes = [this](std::uint16_t a, std::uint16_t b) {
    if (counts_[a] != counts_[b]) return counts_[a] > counts_[b];
    return labels_[a] < labels_[b];
  };
  const auto n = std::min(max, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n), order.end(), by_nodes);
  std::vector<VersionCount> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out.push_back({labels_[order[i]], counts_[order[i]]});
  return out;
}

}  // namespace bitscrape::crawler
