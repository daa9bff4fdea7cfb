#include "bencode/encoder.hpp"

#include <charconv>
#include <cstring>

namespace bitscrape::bencode {

void append_int_digits(std::string& out, std::int64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_string(std::string& out, std::string_view s) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf - 1, s.size());
  *r.ptr++ = ':';
  out.append(buf, r.ptr).append(s);
}

Writer& Writer::integer(std::int64_t v) {
  out_.push_back('i');
  append_int_digits(out_, v);
  out_.push_back('e');
  return *this;
}

Writer& Writer::string(std::string_view s) {
  append_string(out_, s);
  return *this;
}

Writer& Writer::raw(std::string_view encoded) {
  out_.append(encoded);
  return *this;
}

void Writer::push(bool dict) {
  if (depth_ < kMaxDepth) {
    stack_[depth_] = Frame{dict, 0, 0, false};
  } else {
    ok_ = false;  // too deep to check key order: refuse to vouch for the output
  }
  ++depth_;
}

Writer& Writer::begin_list() {
  out_.push_back('l');
  push(false);
  return *this;
}

Writer& Writer::begin_dict() {
  out_.push_back('d');
  push(true);
  return *this;
}

Writer& Writer::end() {
  if (depth_ == 0) {
    ok_ = false;
    return *this;
  }
  --depth_;
  out_.push_back('e');
  return *this;
}

Writer& Writer::key(std::string_view k) {
  if (depth_ == 0 || depth_ > kMaxDepth || !stack_[depth_ - 1].dict) {
    ok_ = false;
    return string(k);
  }
  Frame& f = stack_[depth_ - 1];
  if (f.has_key) {
    // Canonical order is raw-byte (unsigned) order. Keys are short: an inline loop beats a
    // memcmp call per key on the reply path.
    const auto* prev = reinterpret_cast<const unsigned char*>(out_.data() + f.last_key_pos);
    const auto* next = reinterpret_cast<const unsigned char*>(k.data());
    const std::size_t n = std::min<std::size_t>(f.last_key_len, k.size());
    std::size_t i = 0;
    while (i < n && prev[i] == next[i]) ++i;
    const bool ascending = i < n ? prev[i] < next[i] : f.last_key_len < k.size();
    if (!ascending) ok_ = false;
  }
  append_string(out_, k);
  f.has_key = true;
  f.last_key_pos = out_.size() - k.size();
  f.last_key_len = k.size();
  return *this;
}

// ---- Item --------------------------------------------------------------------------------

Item Item::from(Value v) {
  switch (*v.type()) {
    case Type::Integer:
      return Item(*v.as_int());
    case Type::String:
      return Item(*v.as_string());
    case Type::List: {
      List l;
      for (auto x : v.items()) l.push_back(from(x));
      return Item(std::move(l));
    }
    case Type::Dict: {
      Dict d;
      for (auto [k, x] : v.entries()) d.insert_or_assign(std::string(k), from(x));
      return Item(std::move(d));
    }
  }
  return Item();
}

Item& Item::operator[](std::string_view key) {
  if (type() != Type::Dict) v_ = Dict{};
  auto& d = std::get<Dict>(v_);
  auto it = d.find(key);
  if (it == d.end()) it = d.emplace(std::string(key), Item()).first;
  return it->second;
}

void Item::encode_to(std::string& out) const {
  switch (type()) {
    case Type::Integer:
      out.push_back('i');
      append_int_digits(out, as_int());
      out.push_back('e');
      break;
    case Type::String:
      append_string(out, as_string());
      break;
    case Type::List:
      out.push_back('l');
      for (const auto& x : as_list()) x.encode_to(out);
      out.push_back('e');
      break;
    case Type::Dict:
      out.push_back('d');
      for (const auto& [k, x] : as_dict()) {
        append_string(out, k);
        x.encode_to(out);
      }
      out.push_back('e');
      break;
  }
}

}  // namespace bitscrape::bencode
