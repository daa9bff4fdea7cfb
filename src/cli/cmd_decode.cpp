// `bitscrape decode FILE`: show a bencoded file (a .torrent, a captured KRPC datagram) as JSON.
#include "bencode/decoder.hpp"
#include "cli/commands.hpp"
#include "common/hex.hpp"
#include "common/utf8.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace bitscrape::cli {
namespace {

nlohmann::json to_json(bencode::Value v) {
  switch (*v.type()) {
    case bencode::Type::Integer:
      return *v.as_int();
    case bencode::Type::String: {
      const auto s = *v.as_string();
      if (is_valid_utf8(s)) return std::string(s);
      return nlohmann::json{{"hex", to_hex(s)}};
    }
    case bencode::Type::List: {
      auto arr = nlohmann::json::array();
      for (auto item : v.items()) arr.push_back(to_json(item));
      return arr;
    }
    case bencode::Type::Dict: {
      auto obj = nlohmann::json::object();
      for (auto [k, item] : v.entries()) {
        obj[is_valid_utf8(k) ? std::string(k) : "0x" + to_hex(k)] = to_json(item);
      }
      return obj;
    }
  }
  return nullptr;
}

}  // namespace

void register_decode(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "decode", "Decode a bencoded file (a .torrent, a captured KRPC datagram) and print it as JSON. "
                "Byte strings that are not UTF-8 are shown as {\"hex\": ...}.");
  struct Opts {
    std::string path;
    bool strict = false;
  };
  auto opts = std::make_shared<Opts>();
  cmd->add_option("FILE", opts->path, "File to decode; - reads standard input")->required();
  cmd->add_flag("--strict", opts->strict, "Also reject unsorted or duplicate dict keys");
  cmd->callback([opts] {
    std::string data;
    if (opts->path == "-") {
      data.assign(std::istreambuf_iterator<char>(std::cin), {});
    } else {
      std::ifstream in(opts->path, std::ios::binary);
      if (!in) throw CommandFailed("cannot open " + opts->path, 2);
      data.assign(std::istreambuf_iterator<char>(in), {});
    }
    bencode::Document doc;
    bencode::Limits limits;
    limits.strict = opts->strict;
    const auto r = bencode::decode(data, doc, limits);
    if (!r) {
      throw CommandFailed(fmt::format("{}: not valid bencode at byte {}: {}", opts->path,
                                             r.error().offset, r.error().reason()),
                          1);
    }
    std::cout << to_json(doc.root()).dump(2) << '\n';
  });
}

}  // namespace bitscrape::cli
