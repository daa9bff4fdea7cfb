// Bencode encoders producing canonical output (BEP-3: dict keys sorted as raw byte strings).
//
// Writer: a streaming encoder appending to a std::string, for hot paths (KRPC replies).
//   The caller writes dict keys in ascending order; Writer checks this and records the first
//   violation (ok() turns false) instead of silently emitting non-canonical bytes.
// Item: an owning bencode value (int, string, list, dict backed by a sorted map) for code
//   that builds structures in any order (tests, .torrent files); encode() is canonical by
//   construction. Item::from(Value) copies a decoded value.
//
// Threading: plain objects, not shared.
#pragma once

#include "bencode/decoder.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace bitscrape::bencode {

// Appends one encoded value (`i<v>e` without the i/e for append_int_digits; `<len>:<bytes>`).
// For encoders of fixed layouts that write their keys as literals (see krpc::encode(Response)).
void append_int_digits(std::string& out, std::int64_t v);
void append_string(std::string& out, std::string_view s);

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  Writer& integer(std::int64_t v);
  Writer& string(std::string_view s);
  // Appends already-encoded bencode verbatim (e.g. an info dict as received). The caller
  // vouches that `encoded` is one complete, valid value.
  Writer& raw(std::string_view encoded);
  Writer& begin_list();
  Writer& begin_dict();
  Writer& end();  // closes the innermost list or dict
  // In a dict: writes the key; the value must follow. Keys must ascend.
  Writer& key(std::string_view k);

  // Shorthands for a key followed by its value.
  Writer& entry(std::string_view k, std::int64_t v) { return key(k).integer(v); }
  Writer& entry(std::string_view k, std::string_view v) { return key(k).string(v); }
  Writer& entry(std::string_view k, const char* v) { return key(k).string(v); }

  // Containers open at once; deeper nesting is written but makes ok() false. Fixed so that
  // encoding never allocates beyond the output string (KRPC replies nest 3 deep).
  static constexpr std::size_t kMaxDepth = 32;

  // False once a key was written out of order, a container was closed that was not open, or
  // nesting went past kMaxDepth.
  bool ok() const noexcept { return ok_; }
  std::size_t depth() const noexcept { return depth_; }

 private:
  struct Frame {
    bool dict;
    std::size_t last_key_pos;  // offset in out_ of the previous key's bytes (dicts)
    std::size_t last_key_len;
    bool has_key;
  };
  void push(bool dict);

  std::string& out_;
  std::array<Frame, kMaxDepth> stack_{};
  std::size_t depth_ = 0;  // open containers (may exceed kMaxDepth; then ok_ is false)
  bool ok_ = true;
};

class Item {
 public:
  using List = std::vector<Item>;
  using Dict = std::map<std::string, Item, std::less<>>;

  Item() : v_(std::int64_t{0}) {}
  Item(std::int64_t i) : v_(i) {}                   // NOLINT(google-explicit-constructor)
  Item(int i) : v_(std::int64_t{i}) {}              // NOLINT(google-explicit-constructor)
  Item(std::string s) : v_(std::move(s)) {}         // NOLINT(google-explicit-constructor)
  Item(std::string_view s) : v_(std::string(s)) {}  // NOLINT(google-explicit-constructor)
  Item(const char* s) : v_(std::string(s)) {}       // NOLINT(google-explicit-constructor)
  Item(List l) : v_(std::move(l)) {}                // NOLINT(google-explicit-constructor)
  Item(Dict d) : v_(std::move(d)) {}                // NOLINT(google-explicit-constructor)

  static Item from(Value v);

  Type type() const noexcept { return static_cast<Type>(v_.index()); }
  std::int64_t& as_int() { return std::get<0>(v_); }
  std::string& as_string() { return std::get<1>(v_); }
  List& as_list() { return std::get<2>(v_); }
  Dict& as_dict() { return std::get<3>(v_); }
  const std::int64_t& as_int() const { return std::get<0>(v_); }
  const std::string& as_string() const { return std::get<1>(v_); }
  const List& as_list() const { return std::get<2>(v_); }
  const Dict& as_dict() const { return std::get<3>(v_); }

  // Dict member access, creating the member (and turning a non-dict into a dict).
  Item& operator[](std::string_view key);

  void encode_to(std::string& out) const;
  std::string encode() const {
    std::string s;
    encode_to(s);
    return s;
  }

  bool operator==(const Item&) const = default;

 private:
  std::variant<std::int64_t, std::string, List, Dict> v_;
};

}  // namespace bitscrape::bencode
