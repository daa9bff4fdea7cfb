// The `bitscrape` binary's subcommands. Each lives in its own cmd_<name>.cpp and registers
// itself on the root CLI11 app; main.cpp only calls the register functions in order.
// Threading: start-up only.
#pragma once

#include <CLI/CLI.hpp>

#include <stdexcept>
#include <string>

namespace bitscrape::cli {

// Thrown by a subcommand callback to end the program with `exit_code` after printing `what()`
// (a message that says what failed and, where possible, how to fix it).
struct CommandFailed : std::runtime_error {
  CommandFailed(const std::string& message, int code) : std::runtime_error(message), exit_code(code) {}
  int exit_code;
};

void register_crawl(CLI::App& app);
void register_query(CLI::App& app);  // search, stats
void register_decode(CLI::App& app);
void register_fetch(CLI::App& app);  // fetch, fetch-batch
void register_serve(CLI::App& app);
void register_export(CLI::App& app);
void register_testnet(CLI::App& app);
void register_migrate(CLI::App& app);

}  // namespace bitscrape::cli
