#include "krpc_corpus.hpp"

#include "bencode/encoder.hpp"

#include <functional>
#include <random>

namespace bench {
namespace {

using bitscrape::bencode::Writer;

struct Gen {
  std::mt19937 rng;
  std::string bytes(std::size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
  }
  std::string tid() { return bytes(2); }
  std::string id() { return bytes(20); }
  std::string nodes(int n) { return bytes(26 * static_cast<std::size_t>(n)); }
  std::string nodes6(int n) { return bytes(38 * static_cast<std::size_t>(n)); }
};

std::string query(Gen& g, std::string_view method, const std::function<void(Writer&)>& args, bool ro = false) {
  std::string out;
  Writer w(out);
  w.begin_dict().key("a").begin_dict();
  args(w);
  w.end().entry("q", method);
  if (ro) w.entry("ro", std::int64_t{1});
  w.entry("t", g.tid()).entry("v", "LT\x02\x00").entry("y", "q").end();
  return out;
}

std::string response(Gen& g, const std::function<void(Writer&)>& fields) {
  std::string out;
  Writer w(out);
  w.begin_dict().entry("ip", g.bytes(6)).key("r").begin_dict();
  fields(w);
  w.end().entry("t", g.tid()).entry("v", "UT\x35\x2c").entry("y", "r").end();
  return out;
}

}  // namespace

std::vector<std::string> make_krpc_corpus(std::uint32_t seed) {
  Gen g{std::mt19937(seed)};
  std::vector<std::string> c;
  c.push_back(query(g, "ping", [&](Writer& w) { w.entry("id", g.id()); }));
  c.push_back(query(g, "find_node", [&](Writer& w) {
    w.entry("id", g.id()).entry("target", g.id()).key("want").begin_list().string("n4").string("n6").end();
  }));
  c.push_back(query(g, "get_peers", [&](Writer& w) {
    w.entry("id", g.id()).entry("info_hash", g.id()).entry("noseed", std::int64_t{0}).entry("scrape", std::int64_t{1});
  }, true));
  c.push_back(query(g, "announce_peer", [&](Writer& w) {
    w.entry("id", g.id()).entry("implied_port", std::int64_t{1}).entry("info_hash", g.id())
        .entry("port", std::int64_t{6881}).entry("token", g.bytes(8));
  }));
  c.push_back(query(g, "sample_infohashes", [&](Writer& w) { w.entry("id", g.id()).entry("target", g.id()); }));
  c.push_back(response(g, [&](Writer& w) { w.entry("id", g.id()); }));
  c.push_back(response(g, [&](Writer& w) { w.entry("id", g.id()).entry("nodes", g.nodes(8)); }));
  c.push_back(response(g, [&](Writer& w) {
    w.entry("id", g.id()).entry("nodes", g.nodes(8)).entry("nodes6", g.nodes6(8));
  }));
  c.push_back(response(g, [&](Writer& w) {
    w.entry("id", g.id()).entry("nodes", g.nodes(8)).entry("token", g.bytes(4));
  }));
  c.push_back(response(g, [&](Writer& w) {
    w.entry("BFpe", g.bytes(256)).entry("BFsd", g.bytes(256)).entry("id", g.id()).entry("token", g.bytes(4));
    w.key("values").begin_list();
    for (int i = 0; i < 40; ++i) w.string(g.bytes(6));
    w.end();
  }));
  c.push_back(response(g, [&](Writer& w) {
    w.entry("id", g.id()).entry("interval", std::int64_t{21600}).entry("nodes", g.nodes(8))
        .entry("num", std::int64_t{187}).entry("samples", g.bytes(20 * 20));
  }));
  {
    std::string out;
    Writer w(out);
    w.begin_dict().key("e").begin_list().integer(203).string("Protocol Error, invalid arguments").end()
        .entry("t", g.tid()).entry("y", "e").end();
    c.push_back(out);
  }
  return c;
}

}  // namespace bench
