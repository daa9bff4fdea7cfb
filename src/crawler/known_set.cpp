#include "crawler/known_set.hpp"

#include <bit>

namespace bitscrape::crawler {

namespace {
constexpr std::uint64_t kStateMask = 0x3;
constexpr std::uint64_t kSourceShift = 2;
constexpr std::uint64_t kSourceMask = 0xFull << kSourceShift;
constexpr std::uint64_t kFingerprintMask = ~(kStateMask | kSourceMask);
constexpr std::size_t kInitialSlots = 1u << 12;
}  // namespace

KnownSet::KnownSet(std::size_t capacity) : capacity_(std::max<std::size_t>(8, capacity)) {
  const std::size_t slots = std::min(kInitialSlots, std::bit_ceil(capacity_ * 2));
  slots_.assign(slots, 0);
  mask_ = slots - 1;
}

void KnownSet::grow() {
  std::vector<std::uint64_t> old(slots_.size() * 2, 0);
  old.swap(slots_);
  mask_ = slots_.size() - 1;
  for (const auto s : old) {
    if (s != 0) slots_[find(s & kFingerprintMask)] = s;
  }
}


std::uint64_t KnownSet::fingerprint(const InfoHash& ih) noexcept {
  std::uint64_t fp = 0;
  for (int i = 0; i < 8; ++i) fp = (fp << 8) | ih.bytes[static_cast<std::size_t>(i)];
  fp &= kFingerprintMask;
  return fp == 0 ? kFingerprintMask & ~(kFingerprintMask - 1) : fp;  // 0 marks an empty slot
}

std::size_t KnownSet::find(std::uint64_t fp) const noexcept {
  // Linear probing from the fingerprint's high bits (the low bits carry the state).
  std::size_t i = static_cast<std::size_t>(fp >> 20) & mask_;
  while (slots_[i] != 0 && (slots_[i] & kFingerprintMask) != fp) i = (i + 1) & mask_;
  return i;
}

KnownSet::State KnownSet::get(const InfoHash& ih) const noexcept {
  const auto s = slots_[find(fingerprint(ih))];
  return static_cast<State>(s & kStateMask);
}

bool KnownSet::set(const InfoHash& ih, State s) noexcept {
  const auto fp = fingerprint(ih);
  const auto i = find(fp);
  if (slots_[i] == 0) {
    if (full()) return false;
    if ((size_ + 1) * 2 > slots_.size()) {
      grow();
      return set(ih, s);
    }
    ++size_;
  } else if ((slots_[i] & kStateMask) == static_cast<std::uint64_t>(State::Fetched)) {
    return true;
  }
  slots_[i] = fp | (slots_[i] & kSourceMask) | static_cast<std::uint64_t>(s);
  return true;
}

std::uint8_t KnownSet::add_sources(const InfoHash& ih, std::uint8_t bits) noexcept {
  const auto i = find(fingerprint(ih));
  if (slots_[i] == 0) return 0;
  const auto have = static_cast<std::uint8_t>((slots_[i] & kSourceMask) >> kSourceShift);
  const auto fresh = static_cast<std::uint8_t>(bits & 0xF & ~have);
  slots_[i] |= static_cast<std::uint64_t>(fresh) << kSourceShift;
  return fresh;
}

}  // namespace bitscrape::crawler
