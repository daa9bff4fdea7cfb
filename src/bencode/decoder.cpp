#include "bencode/decoder.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace bitscrape::bencode {

std::string_view Error::reason() const noexcept {
  switch (code) {
    case ErrorCode::Empty: return "empty input";
    case ErrorCode::TooLarge: return "input larger than the size limit";
    case ErrorCode::Truncated: return "input ends inside a value";
    case ErrorCode::UnexpectedChar: return "unexpected character";
    case ErrorCode::LeadingZero: return "number with a leading zero";
    case ErrorCode::NegativeZero: return "negative zero";
    case ErrorCode::EmptyInteger: return "integer without digits";
    case ErrorCode::IntegerOverflow: return "integer does not fit in 64 bits";
    case ErrorCode::StringTooLong: return "string length runs past the end of input";
    case ErrorCode::KeyNotString: return "dictionary key is not a string";
    case ErrorCode::UnsortedKeys: return "dictionary keys are not sorted";
    case ErrorCode::DuplicateKey: return "duplicate dictionary key";
    case ErrorCode::TooDeep: return "nesting deeper than the depth limit";
    case ErrorCode::TooManyTokens: return "more values than the token limit";
    case ErrorCode::TrailingData: return "bytes after the end of the value";
  }
  return "unknown error";
}

namespace {

constexpr std::uint32_t kHardMaxDepth = 1024;

struct Frame {
  std::uint32_t token;
  std::uint32_t last_key_begin;  // payload offset of the previous key (dicts)
  std::uint32_t last_key_len;
  std::uint8_t dict;
  std::uint8_t expect_key;  // dicts: the next value is a key
  std::uint8_t has_key;
};

inline bool is_digit(char c) noexcept { return static_cast<unsigned char>(c - '0') < 10; }

// Compare two byte strings as unsigned bytes.
inline int compare_bytes(const char* a, std::size_t alen, const char* b, std::size_t blen) noexcept {
  const int c = std::memcmp(a, b, std::min(alen, blen));
  if (c != 0) return c;
  return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

}  // namespace

Result<void, Error> decode(std::string_view input, Document& doc, const Limits& limits) {
  doc.tokens_.clear();
  doc.buf_ = input;
  const auto fail = [&doc](ErrorCode code, std::size_t off) -> Result<void, Error> {
    doc.tokens_.clear();
    return Unexpected{Error{code, off}};
  };
  const std::size_t n = input.size();
  if (n == 0) return fail(ErrorCode::Empty, 0);
  if (n > limits.max_size || n >= std::numeric_limits<std::uint32_t>::max()) return fail(ErrorCode::TooLarge, 0);

  const std::uint32_t max_depth = std::min(limits.max_depth, kHardMaxDepth);
  // Depth-first stack of open containers. Sized for the hard limit; 16 KiB of stack at most,
  // but only touched as deep as the input nests.
  Frame stack[kHardMaxDepth];
  std::uint32_t depth = 0;
  const char* const p = input.data();
  auto& toks = doc.tokens_;
  std::size_t i = 0;

  for (;;) {
    if (i >= n) return fail(ErrorCode::Truncated, i);
    const char c = p[i];
    Frame* top = depth > 0 ? &stack[depth - 1] : nullptr;

    if (c == 'e') {
      if (top == nullptr) return fail(ErrorCode::UnexpectedChar, i);
      if (top->dict && !top->expect_key) return fail(ErrorCode::UnexpectedChar, i);  // key without value
      Token& t = toks[top->token];
      t.end = static_cast<std::uint32_t>(i + 1);
      t.next = static_cast<std::uint32_t>(toks.size());
      ++i;
      --depth;
    } else {
      if (top != nullptr && top->dict && top->expect_key && !is_digit(c)) {
        return fail(ErrorCode::KeyNotString, i);
      }
      if (toks.size() >= limits.max_tokens) return fail(ErrorCode::TooManyTokens, i);
      const auto idx = static_cast<std::uint32_t>(toks.size());
      if (is_digit(c)) {
        // <length>:<bytes>
        std::size_t j = i;
        std::uint64_t len = 0;
        while (j < n && is_digit(p[j])) {
          if (j - i >= 10) return fail(ErrorCode::StringTooLong, i);
          len = len * 10 + static_cast<std::uint64_t>(p[j] - '0');
          ++j;
        }
        if (j >= n) return fail(ErrorCode::Truncated, j);
        if (p[j] != ':') return fail(ErrorCode::UnexpectedChar, j);
        if (p[i] == '0' && j - i > 1) return fail(ErrorCode::LeadingZero, i);
        const std::size_t payload = j + 1;
        if (len > n - payload) return fail(ErrorCode::StringTooLong, i);
        const std::size_t end = payload + static_cast<std::size_t>(len);
        toks.push_back(Token{static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(end), idx + 1,
                             static_cast<std::uint8_t>(Type::String), static_cast<std::uint8_t>(payload - i), 0});
        if (top != nullptr && top->dict && top->expect_key && limits.strict) {
          if (top->has_key) {
            const int cmp = compare_bytes(p + top->last_key_begin, top->last_key_len, p + payload,
                                          static_cast<std::size_t>(len));
            if (cmp == 0) return fail(ErrorCode::DuplicateKey, i);
            if (cmp > 0) return fail(ErrorCode::UnsortedKeys, i);
          }
          top->last_key_begin = static_cast<std::uint32_t>(payload);
          top->last_key_len = static_cast<std::uint32_t>(len);
          top->has_key = 1;
        }
        i = end;
      } else if (c == 'i') {
        std::size_t j = i + 1;
        bool neg = false;
        if (j < n && p[j] == '-') {
          neg = true;
          ++j;
        }
        const std::size_t digits = j;
        // |INT64_MIN| = 2^63: accumulate as unsigned and compare against the signed bound.
        const std::uint64_t bound = neg ? (std::uint64_t{1} << 63) : (std::uint64_t{1} << 63) - 1;
        std::uint64_t v = 0;
        while (j < n && is_digit(p[j])) {
          const auto d = static_cast<std::uint64_t>(p[j] - '0');
          if (v > (bound - d) / 10) return fail(ErrorCode::IntegerOverflow, i);
          v = v * 10 + d;
          ++j;
        }
        if (j >= n) return fail(ErrorCode::Truncated, j);
        if (p[j] != 'e') return fail(j == digits ? ErrorCode::EmptyInteger : ErrorCode::UnexpectedChar, j);
        if (j == digits) return fail(ErrorCode::EmptyInteger, i);
        if (p[digits] == '0' && j - digits > 1) return fail(ErrorCode::LeadingZero, i);
        if (neg && v == 0) return fail(ErrorCode::NegativeZero, i);
        toks.push_back(Token{static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(j + 1), idx + 1,
                             static_cast<std::uint8_t>(Type::Integer), 0, 0});
        i = j + 1;
      } else if (c == 'l' || c == 'd') {
        if (depth >= max_depth) return fail(ErrorCode::TooDeep, i);
        const bool dict = c == 'd';
        toks.push_back(Token{static_cast<std::uint32_t>(i), 0, 0,
                             static_cast<std::uint8_t>(dict ? Type::Dict : Type::List), 0, 0});
        // A container is a value of its parent; the parent's key/value toggle happens now.
        if (top != nullptr && top->dict) top->expect_key = 1;
        stack[depth++] = Frame{idx, 0, 0, static_cast<std::uint8_t>(dict), 1, 0};
        ++i;
        continue;
      } else {
        return fail(ErrorCode::UnexpectedChar, i);
      }
      // A leaf completed inside a dict: alternate key / value.
      if (top != nullptr && top->dict) top->expect_key = static_cast<std::uint8_t>(!top->expect_key);
    }
    if (depth == 0) break;
  }

  if (i != n && !limits.allow_trailing) return fail(ErrorCode::TrailingData, i);
  return {};
}

// ---- Value -------------------------------------------------------------------------------

const Token& Value::tok() const noexcept { return doc_->tokens_[idx_]; }

std::optional<Type> Value::type() const noexcept {
  if (doc_ == nullptr) return std::nullopt;
  return static_cast<Type>(tok().type);
}

std::optional<std::int64_t> Value::as_int() const noexcept {
  if (!is_int()) return std::nullopt;
  const Token& t = tok();
  const char* p = doc_->buf_.data();
  std::size_t j = t.begin + 1;
  const bool neg = p[j] == '-';
  if (neg) ++j;
  std::uint64_t v = 0;
  for (; j + 1 < t.end; ++j) v = v * 10 + static_cast<std::uint64_t>(p[j] - '0');
  // Validated at decode time to fit; negate in unsigned arithmetic to handle INT64_MIN.
  return neg ? static_cast<std::int64_t>(~v + 1) : static_cast<std::int64_t>(v);
}

std::optional<std::string_view> Value::as_string() const noexcept {
  if (!is_string()) return std::nullopt;
  const Token& t = tok();
  return doc_->buf_.substr(t.begin + t.header, t.end - t.begin - t.header);
}

std::string_view Value::raw() const noexcept {
  if (doc_ == nullptr) return {};
  const Token& t = tok();
  return doc_->buf_.substr(t.begin, t.end - t.begin);
}

std::size_t Value::offset() const noexcept { return doc_ == nullptr ? 0 : tok().begin; }

Value Value::find(std::string_view key) const noexcept {
  if (!is_dict()) return {};
  const auto& toks = doc_->tokens_;
  const std::string_view buf = doc_->buf_;
  const std::uint32_t end = tok().next;
  for (std::uint32_t k = idx_ + 1; k < end; k = toks[k + 1].next) {
    const Token& kt = toks[k];
    const std::size_t len = kt.end - kt.begin - kt.header;
    if (len == key.size() && std::memcmp(buf.data() + kt.begin + kt.header, key.data(), len) == 0) {
      return Value(doc_, k + 1);
    }
  }
  return {};
}

std::size_t Value::size() const noexcept {
  std::size_t count = 0;
  if (is_list()) {
    for ([[maybe_unused]] auto v : items()) ++count;
  } else if (is_dict()) {
    for ([[maybe_unused]] auto kv : entries()) ++count;
  }
  return count;
}

Value Value::at(std::size_t i) const noexcept {
  if (!is_list()) return {};
  for (auto v : items()) {
    if (i-- == 0) return v;
  }
  return {};
}

Value::ListRange Value::items() const noexcept {
  if (!is_list()) return {};
  return {ListIterator(doc_, idx_ + 1), ListIterator(doc_, tok().next)};
}

Value::DictRange Value::entries() const noexcept {
  if (!is_dict()) return {};
  return {DictIterator(doc_, idx_ + 1), DictIterator(doc_, tok().next)};
}

Value::ListIterator& Value::ListIterator::operator++() noexcept {
  idx_ = doc_->tokens_[idx_].next;
  return *this;
}

Value::DictIterator::value_type Value::DictIterator::operator*() const noexcept {
  const Token& kt = doc_->tokens_[idx_];
  return {doc_->buf_.substr(kt.begin + kt.header, kt.end - kt.begin - kt.header), Value(doc_, idx_ + 1)};
}

Value::DictIterator& Value::DictIterator::operator++() noexcept {
  idx_ = doc_->tokens_[idx_ + 1].next;
  return *this;
}

}  // namespace bitscrape::bencode
