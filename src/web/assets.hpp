// The web UI's static files, embedded into the binary at build time.
//
// src/web/CMakeLists.txt lists every file under web-ui/ plus Chart.js (Debian's libjs-chart.js,
// served at /vendor/chart.min.js); src/web/embed_assets.cmake turns them into byte arrays in a
// generated assets_data.cpp. Nothing is read from disk at run time, so the binary serves the UI
// it was built with and makes no external requests.
//
// Threading: immutable data; any thread.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace bitscrape::web {

struct Asset {
  std::string_view path;          // URL path, "/index.html", "/js/app.js", ...
  std::string_view content_type;  // from the extension
  std::string_view data;
};

// The asset served at `url_path` ("/" is /index.html); nullptr when there is none.
const Asset* find_asset(std::string_view url_path) noexcept;
// Every embedded asset, sorted by path.
std::span<const Asset> assets() noexcept;
// The Content-Type for a file name's extension (application/octet-stream when unknown).
std::string_view content_type_for(std::string_view path) noexcept;

namespace detail {
struct EmbeddedFile {
  const char* path;
  std::span<const unsigned char> bytes;
};
extern const EmbeddedFile kAssets[];
extern const std::size_t kAssetCount;
}  // namespace detail

}  // namespace bitscrape::web
