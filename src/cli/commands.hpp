// The `bitscrape` binary's subcommands. Each lives in its own cmd_<name>.cpp and registers
// itself on the root CLI11 app; main.cpp only calls the register functions in order.
// Threading: start-up only.
#pragma once

#include <CLI/CLI.hpp>

namespace bitscrape::cli {

void register_decode(CLI::App& app);

}  // namespace bitscrape::cli
