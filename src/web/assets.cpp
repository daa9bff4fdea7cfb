#include "web/assets.hpp"

#include <algorithm>
#include <vector>

namespace bitscrape::web {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) noexcept {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

const std::vector<Asset>& table() {
  static const std::vector<Asset> t = [] {
    std::vector<Asset> v;
    v.reserve(detail::kAssetCount);
    for (std::size_t i = 0; i < detail::kAssetCount; ++i) {
      const auto& f = detail::kAssets[i];
      const std::string_view path(f.path);
      v.push_back(Asset{path, content_type_for(path),
                        std::string_view(reinterpret_cast<const char*>(f.bytes.data()), f.bytes.size())});
    }
    std::sort(v.begin(), v.end(), [](const Asset& a, const Asset& b) { return a.path < b.path; });
    return v;
  }();
  return t;
}

}  // namespace

std::string_view content_type_for(std::string_view path) noexcept {
  struct Type {
    std::string_view ext, type;
  };
  static constexpr Type kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".json", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".txt", "text/plain; charset=utf-8"},
      {".woff2", "font/woff2"},
  };
  for (const auto& t : kTypes) {
    if (ends_with(path, t.ext)) return t.type;
  }
  return "application/octet-stream";
}

std::span<const Asset> assets() noexcept {
  return table();
}

const Asset* find_asset(std::string_view url_path) noexcept {
  if (url_path == "/") url_path = "/index.html";
  const auto& t = table();
  const auto it = std::lower_bound(t.begin(), t.end(), url_path,
                                   [](const Asset& a, std::string_view p) { return a.path < p; });
  if (it == t.end() || it->path != url_path) return nullptr;
  return &*it;
}

}  // namespace bitscrape::web
