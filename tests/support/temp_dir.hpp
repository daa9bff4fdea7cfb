// A fresh directory under the system temp dir for one test, removed with everything in it at
// scope end. Shared by the test suites (tests/CMakeLists.txt puts tests/support on the include
// path of every bitscrape_add_test target).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace bitscrape::test_support {

class TempDir {
 public:
  // The directory is named `<prefix>-XXXXXX` (mkdtemp).
  explicit TempDir(const std::string& prefix = "bitscrape-test") {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace bitscrape::test_support
