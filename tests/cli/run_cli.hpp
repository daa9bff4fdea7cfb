// Runs the built `bitscrape` binary with arguments (through the shell) and captures its
// standard output; standard error goes to the test log.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace bitscrape::test_support {

struct Ran {
  int status = -1;
  std::string out;  // standard output
};

inline Ran run(const std::string& args) {
  const std::string cmd = std::string(BITSCRAPE_BINARY_DIR) + "/bitscrape " + args;
  Ran r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  std::size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// Single-quoted for the shell (paths and URIs in tests have no quotes).
inline std::string q(const std::string& s) { return "'" + s + "'"; }

}  // namespace bitscrape::test_support
