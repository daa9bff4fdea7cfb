// Zero-copy bencode decoder (BEP-3).
//
// decode() parses a byte buffer in one pass into a flat array of Tokens held by a Document;
// values are views (Value) into that array and the original buffer, so no value is copied
// and no per-node heap allocation happens. A Document can be reused across decodes to keep
// its token storage: on the packet path nothing is allocated once warm.
//
// Limits (depth, token count, input size) bound the work and memory an attacker can cause.
// Every failure is an Error value naming the byte offset and the reason; nothing throws.
//
// Always rejected (BEP-3): leading zeros in integers and string lengths, "-0", empty
// integers, non-string dict keys, truncated input, trailing bytes after the root value
// (unless Limits::allow_trailing). In strict mode also: unsorted or duplicate dict keys.
//
// Value::raw() returns the exact bytes a value was encoded as — what an infohash is
// computed over.
//
// Threading: a Document is not shared between threads while being decoded into; Values are
// valid while the Document and the input buffer are alive and unchanged.
#pragma once

#include "common/result.hpp"

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace bitscrape::bencode {

enum class Type : std::uint8_t { Integer, String, List, Dict };

enum class ErrorCode : std::uint8_t {
  Empty,             // no input
  TooLarge,          // input longer than Limits::max_size
  Truncated,         // input ended inside a value
  UnexpectedChar,    // a byte that cannot start or continue a value
  LeadingZero,       // "i03e", "03:abc"
  NegativeZero,      // "i-0e"
  EmptyInteger,      // "ie", "i-e"
  IntegerOverflow,   // does not fit in int64
  StringTooLong,     // length prefix runs past the end of input or over 2^32
  KeyNotString,      // a dict key that is not a byte string
  UnsortedKeys,      // strict mode: dict keys not in ascending raw-byte order
  DuplicateKey,      // strict mode: the same key twice in one dict
  TooDeep,           // nesting deeper than Limits::max_depth
  TooManyTokens,     // more values than Limits::max_tokens
  TrailingData,      // bytes after the root value
};

struct Error {
  ErrorCode code = ErrorCode::Empty;
  std::size_t offset = 0;  // byte offset where the problem was found

  std::string_view reason() const noexcept;
  bool operator==(const Error&) const = default;
};

struct Limits {
  std::uint32_t max_depth = 64;         // containers nested deeper than this are refused (≤ 1024)
  std::uint32_t max_tokens = 1u << 20;  // total values (strings, ints, lists, dicts)
  std::size_t max_size = 64u << 20;     // input bytes; must be < 4 GiB (offsets are 32-bit)
  bool strict = false;                  // refuse unsorted / duplicate dict keys
  bool allow_trailing = false;          // accept bytes after the root value (see Document::consumed)
};

// One decoded value. 16 bytes; the array is laid out in document (pre-)order.
struct Token {
  std::uint32_t begin;   // offset of the value's first byte ('i', 'l', 'd' or the first length digit)
  std::uint32_t end;     // one past the value's last byte
  std::uint32_t next;    // index of the token after this value's whole subtree
  std::uint8_t type;     // Type
  std::uint8_t header;   // strings: bytes of "<len>:" prefix; others 0
  std::uint16_t unused;
};

class Document;

// A view of one value inside a Document. Cheap to copy. A default-constructed or missing
// Value is "null": every accessor on it returns an empty result.
class Value {
 public:
  Value() = default;

  explicit operator bool() const noexcept { return doc_ != nullptr; }
  std::optional<Type> type() const noexcept;
  bool is_int() const noexcept { return type() == Type::Integer; }
  bool is_string() const noexcept { return type() == Type::String; }
  bool is_list() const noexcept { return type() == Type::List; }
  bool is_dict() const noexcept { return type() == Type::Dict; }

  std::optional<std::int64_t> as_int() const noexcept;
  std::optional<std::string_view> as_string() const noexcept;
  // The exact encoded bytes of this value, as received.
  std::string_view raw() const noexcept;
  std::size_t offset() const noexcept;

  // Dict lookup by key (linear; dicts on the wire are small). Null if absent or not a dict.
  Value operator[](std::string_view key) const noexcept { return find(key); }
  Value find(std::string_view key) const noexcept;
  // Convenience typed lookups; nullopt when absent or of another type.
  std::optional<std::int64_t> get_int(std::string_view key) const noexcept { return find(key).as_int(); }
  std::optional<std::string_view> get_string(std::string_view key) const noexcept {
    return find(key).as_string();
  }

  // Number of items (list) or key/value pairs (dict); 0 otherwise. O(n).
  std::size_t size() const noexcept;
  // List element by position (O(i)); null when out of range.
  Value at(std::size_t i) const noexcept;

  // Iteration: over a list yields Values; over a dict yields (key, Value) pairs.
  class ListIterator;
  class DictIterator;
  struct ListRange;
  struct DictRange;
  ListRange items() const noexcept;
  DictRange entries() const noexcept;

 private:
  friend class Document;
  Value(const Document* d, std::uint32_t i) : doc_(d), idx_(i) {}
  const Token& tok() const noexcept;
  const Document* doc_ = nullptr;
  std::uint32_t idx_ = 0;
};

class Value::ListIterator {
 public:
  using value_type = Value;
  using difference_type = std::ptrdiff_t;
  ListIterator() = default;
  Value operator*() const noexcept { return Value(doc_, idx_); }
  ListIterator& operator++() noexcept;
  ListIterator operator++(int) noexcept { auto t = *this; ++*this; return t; }
  bool operator==(const ListIterator& o) const noexcept { return idx_ == o.idx_; }

 private:
  friend class Value;
  ListIterator(const Document* d, std::uint32_t i) : doc_(d), idx_(i) {}
  const Document* doc_ = nullptr;
  std::uint32_t idx_ = 0;
};

class Value::DictIterator {
 public:
  using value_type = std::pair<std::string_view, Value>;
  using difference_type = std::ptrdiff_t;
  DictIterator() = default;
  value_type operator*() const noexcept;
  DictIterator& operator++() noexcept;
  DictIterator operator++(int) noexcept { auto t = *this; ++*this; return t; }
  bool operator==(const DictIterator& o) const noexcept { return idx_ == o.idx_; }

 private:
  friend class Value;
  DictIterator(const Document* d, std::uint32_t i) : doc_(d), idx_(i) {}
  const Document* doc_ = nullptr;
  std::uint32_t idx_ = 0;  // index of the key token
};

struct Value::ListRange {
  ListIterator b, e;
  ListIterator begin() const noexcept { return b; }
  ListIterator end() const noexcept { return e; }
};
struct Value::DictRange {
  DictIterator b, e;
  DictIterator begin() const noexcept { return b; }
  DictIterator end() const noexcept { return e; }
};

// Owns the token array of one decoded buffer (not the buffer itself).
class Document {
 public:
  Document() = default;
  // The root value; null if nothing was decoded.
  Value root() const noexcept { return tokens_.empty() ? Value() : Value(this, 0); }
  std::string_view buffer() const noexcept { return buf_; }
  // Bytes the root value occupied (== buffer size unless allow_trailing let trailing bytes pass).
  std::size_t consumed() const noexcept { return tokens_.empty() ? 0 : tokens_[0].end; }
  const std::vector<Token>& tokens() const noexcept { return tokens_; }
  void clear() noexcept { tokens_.clear(); buf_ = {}; }

 private:
  friend class Value;
  friend Result<void, Error> decode(std::string_view, Document&, const Limits&);
  std::string_view buf_;
  std::vector<Token> tokens_;
};

// Decodes `input` into `doc` (replacing what it held). `input` must outlive every Value taken
// from `doc`.
Result<void, Error> decode(std::string_view input, Document& doc, const Limits& limits = {});

}  // namespace bitscrape::bencode
