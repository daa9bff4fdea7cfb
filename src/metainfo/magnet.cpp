#include "metainfo/magnet.hpp"

#include "common/hex.hpp"

namespace bitscrape::metainfo {

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() * 3);
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                            c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string make_magnet(const std::optional<InfoHash>& v1, const std::optional<Sha256Digest>& v2,
                        std::string_view name, std::span<const std::string> trackers) {
  if (!v1 && !v2) return {};
  std::string out = "magnet:?";
  const auto param = [&out](std::string_view key, std::string_view value) {
    if (out.back() != '?') out.push_back('&');
    out.append(key);
    out.push_back('=');
    out.append(value);
  };
  if (v1) param("xt", "urn:btih:" + v1->hex());
  if (v2) {
    param("xt",
          "urn:btmh:1220" + to_hex(std::string_view(reinterpret_cast<const char*>(v2->data()), v2->size())));
  }
  if (!name.empty()) param("dn", percent_encode(name));
  for (const auto& tr : trackers) {
    if (!tr.empty()) param("tr", percent_encode(tr));
  }
  return out;
}

std::string make_magnet(const TorrentInfo& info, std::span<const std::string> trackers) {
  return make_magnet(info.v1, info.v2, info.name, trackers);
}

}  // namespace bitscrape::metainfo
