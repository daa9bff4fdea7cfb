// Fuzz the bencode decoder: arbitrary bytes must decode or fail cleanly, and whatever decodes
// must survive a canonical re-encode: Item::from(decode(x)).encode() decodes in strict mode to
// the same structure, and every value's raw() range lies inside the input.
#include "bencode/decoder.hpp"
#include "bencode/encoder.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace bitscrape::bencode;

namespace {
void check_ranges(Value v, std::string_view buf) {
  const auto raw = v.raw();
  if (raw.data() < buf.data() || raw.data() + raw.size() > buf.data() + buf.size()) std::abort();
  if (v.is_list()) {
    for (auto x : v.items()) check_ranges(x, buf);
  } else if (v.is_dict()) {
    for (auto [k, x] : v.entries()) {
      if (k.data() < buf.data() || k.data() + k.size() > buf.data() + buf.size()) std::abort();
      check_ranges(x, buf);
    }
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  Limits limits;
  limits.max_depth = 128;
  limits.max_tokens = 100000;
  Document doc;
  if (!decode(in, doc, limits)) return 0;
  if (doc.root().raw() != in) std::abort();
  check_ranges(doc.root(), in);

  const Item item = Item::from(doc.root());
  const std::string canonical = item.encode();
  Limits strict = limits;
  strict.strict = true;
  Document again;
  if (!decode(canonical, again, strict)) std::abort();
  if (!(Item::from(again.root()) == item)) std::abort();
  if (Item::from(again.root()).encode() != canonical) std::abort();
  return 0;
}
