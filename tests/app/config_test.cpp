#include "app/config.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace bitscrape::app {
namespace {

TEST(Config, Defaults) {
  const auto c = default_config();
  EXPECT_EQ(c.listen.size(), 1u);
  EXPECT_EQ(c.listen[0].to_string(), "0.0.0.0:6881");
  ASSERT_EQ(c.bootstrap.size(), 4u);
  EXPECT_EQ(c.bootstrap[0].to_string(), "dht.libtorrent.org:25401");
  EXPECT_EQ(c.bootstrap[3].to_string(), "router.utorrent.com:6881");
  EXPECT_FALSE(c.allow_private_addresses);
  EXPECT_EQ(c.max_connections, 1000u);
  EXPECT_EQ(c.max_metadata_size, 10u << 20);
  ASSERT_TRUE(c.web);
  EXPECT_EQ(c.web->to_string(), "127.0.0.1:8080");
  EXPECT_EQ(c.database.filename(), "bitscrape.db");
  EXPECT_TRUE(validate(c).ok());
}

TEST(Config, LoadsEverySection) {
  auto c = default_config();
  const auto r = load_config_string(R"(
[database]
path = "/tmp/x.db"
store_info_dicts = false
[dht]
listen = ["127.0.0.1:7000", "[::1]:7000"]
bootstrap = ["127.0.0.2:6881", "router.example:6881"]
allow_private_addresses = true
packet_budget = 250.5
keyspace = ["3", "a0"]
sample_walks = 2
max_lookups = 10
[fetch]
max_connections = 50
max_connections_per_ip = 3
peers_per_infohash = 7
attempts_per_infohash = 2
max_metadata_size = 2048
timeout = 9
[crawler]
memory_budget_mb = 64
duration = 30
status_interval = 5
[web]
listen = "off"
token = "secret"
)",
                                    c, "test.toml");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(c.database, "/tmp/x.db");
  EXPECT_FALSE(c.store_info_dicts);
  ASSERT_EQ(c.listen.size(), 2u);
  EXPECT_TRUE(c.listen[1].ip.is_v6());
  ASSERT_EQ(c.bootstrap.size(), 2u);
  EXPECT_EQ(c.bootstrap[1].host, "router.example");
  EXPECT_TRUE(c.allow_private_addresses);
  EXPECT_DOUBLE_EQ(c.packet_budget, 250.5);
  EXPECT_EQ(c.keyspace, (std::vector<std::string>{"3", "a0"}));
  EXPECT_EQ(c.sample_walks, 2u);
  EXPECT_EQ(c.max_lookups, 10u);
  EXPECT_EQ(c.max_connections, 50u);
  EXPECT_EQ(c.max_connections_per_ip, 3u);
  EXPECT_EQ(c.peers_per_infohash, 7u);
  EXPECT_EQ(c.attempts_per_infohash, 2u);
  EXPECT_EQ(c.max_metadata_size, 2048u);
  EXPECT_EQ(c.fetch_timeout.count(), 9);
  EXPECT_EQ(c.memory_budget_mb, 64u);
  EXPECT_EQ(c.duration.count(), 30);
  EXPECT_EQ(c.status_interval.count(), 5);
  EXPECT_FALSE(c.web);
  EXPECT_EQ(c.web_token, "secret");
}

TEST(Config, ErrorsNameFileLineAndKey) {
  auto c = default_config();
  auto r = load_config_string("[dht]\nlisten = [\"nope\"]\n", c, "f.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("f.toml:2"), std::string::npos) << r.error();
  EXPECT_NE(r.error().find("dht.listen"), std::string::npos) << r.error();

  r = load_config_string("[dht]\nlistne = []\n", c, "f.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("dht.listne: unknown key"), std::string::npos) << r.error();

  r = load_config_string("[fetch]\nmax_connections = -1\n", c, "f.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("must be between"), std::string::npos) << r.error();

  r = load_config_string("[fetch]\nmax_connections = \"many\"\n", c, "f.toml");
  ASSERT_FALSE(r.ok());
  r = load_config_string("[dht\n", c, "f.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("f.toml:1"), std::string::npos) << r.error();
  r = load_config_string("dht = 3\n", c, "f.toml");
  ASSERT_FALSE(r.ok());
  r = load_config_string("[dht]\nkeyspace = [\"xyz\"]\n", c, "f.toml");
  ASSERT_FALSE(r.ok());
  r = load_config_string("[dht]\nbootstrap = [\"no port\"]\n", c, "f.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(load_config("/nonexistent/config.toml", c).ok());
}

TEST(Config, FetchTransports) {
  auto c = default_config();
  EXPECT_EQ(c.fetch_transports, (std::vector<std::string>{"utp", "tcp"}));
  ASSERT_TRUE(load_config_string("[fetch]\ntransports = [\"tcp\"]\n", c, "f.toml").ok());
  EXPECT_EQ(c.fetch_transports, std::vector<std::string>{"tcp"});
  ASSERT_TRUE(load_config_string("[fetch]\ntransports = [\"tcp\", \"utp\"]\n", c, "f.toml").ok());
  EXPECT_EQ(c.fetch_transports, (std::vector<std::string>{"tcp", "utp"}));
  auto r = load_config_string("[fetch]\ntransports = []\n", c, "f.toml");
  ASSERT_FALSE(r.ok());
  r = load_config_string("[fetch]\ntransports = [\"quic\"]\n", c, "f.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("'quic' is not a transport"), std::string::npos) << r.error();
  r = load_config_string("[fetch]\ntransports = [\"utp\", \"utp\"]\n", c, "f.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(c.fetch_transports, (std::vector<std::string>{"tcp", "utp"}));  // failed loads change nothing
}

TEST(Config, DatabaseUrlSelectsPostgresql) {
  auto c = default_config();
  ASSERT_TRUE(
      load_config_string("[database]\nurl = \"postgresql://bs@db.example:5432/bitscrape\"\n", c, "f.toml").ok());
  EXPECT_EQ(c.database.string(), "postgresql://bs@db.example:5432/bitscrape");
  auto r = load_config_string("[database]\nurl = \"/var/lib/x.db\"\n", c, "f.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("database.url: must be a PostgreSQL URI"), std::string::npos) << r.error();
  r = load_config_string("[database]\npath = \"/x.db\"\nurl = \"postgres://h/db\"\n", c, "f.toml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("not both"), std::string::npos) << r.error();
}

TEST(Config, NonLoopbackWebNeedsToken) {
  auto c = default_config();
  c.web = Endpoint::parse("0.0.0.0:8080");
  const auto r = validate(c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("--web-token"), std::string::npos) << r.error();
  c.web_token = "short";
  EXPECT_FALSE(validate(c).ok());  // tokens are 16+ characters
  c.web_token = "0123456789abcdef";
  EXPECT_TRUE(validate(c).ok());
  c.listen = {*Endpoint::parse("0.0.0.0:1"), *Endpoint::parse("0.0.0.0:2")};
  EXPECT_FALSE(validate(c).ok());
}

TEST(Config, HostPortParsing) {
  EXPECT_EQ(HostPort::parse("a.b-c.org:25401")->to_string(), "a.b-c.org:25401");
  EXPECT_EQ(HostPort::parse("[::1]:5")->to_string(), "[::1]:5");
  for (const char* bad : {"host", "host:", ":80", "host:0", "host:70000", "ho st:80", "a:b:80"}) {
    EXPECT_FALSE(HostPort::parse(bad)) << bad;
  }
}

TEST(Config, EveryKeyIsDocumentedAndEveryDocumentedKeyExists) {
  std::ifstream doc(std::string(BITSCRAPE_SOURCE_DIR) + "/docs/configuration.md");
  ASSERT_TRUE(doc);
  std::stringstream ss;
  ss << doc.rdbuf();
  const std::string text = ss.str();
  std::set<std::string> documented;
  const std::regex row(R"(\n\| `([a-z_]+\.[a-z_]+)` \|)");
  for (std::sregex_iterator it(text.begin(), text.end(), row), end; it != end; ++it)
    documented.insert((*it)[1]);
  const auto keys = config_keys();
  EXPECT_EQ(documented, std::set<std::string>(keys.begin(), keys.end()));
}

// The reference table in the docs is the one settings() generates: defaults, flags and help can
// not drift from the code. On a mismatch the generated table is written next to the build, to
// paste into the document.
TEST(Config, DocumentedTableIsTheGeneratedOne) {
  std::ifstream doc(std::string(BITSCRAPE_SOURCE_DIR) + "/docs/configuration.md");
  ASSERT_TRUE(doc);
  std::stringstream ss;
  ss << doc.rdbuf();
  const std::string text = ss.str();
  const std::string begin = "<!-- settings table: generated by settings_markdown() -->\n";
  const std::string end = "<!-- end of settings table -->";
  const auto b = text.find(begin);
  const auto e = text.find(end);
  ASSERT_NE(b, std::string::npos);
  ASSERT_NE(e, std::string::npos);
  const std::string generated = settings_markdown();
  if (text.substr(b + begin.size(), e - b - begin.size()) != generated) {
    const std::string out = std::string(BITSCRAPE_BINARY_DIR) + "/configuration-table.md";
    std::ofstream(out) << generated;
    ADD_FAILURE() << "docs/configuration.md's settings table is stale; the generated one is in " << out;
  }
}

TEST(Config, FlagAndKeyShareOneValidator) {
  // What the CLI does with --keyspace zz: the same row, the same check, the same words.
  const Setting* ks = find_setting("dht.keyspace");
  ASSERT_NE(ks, nullptr);
  EXPECT_EQ(ks->flag, "--keyspace");
  auto c = default_config();
  for (const std::string bad : {std::string("zz"), std::string(40, 'a'), std::string(), std::string("3g")}) {
    const auto r = apply_setting(*ks, SettingValue{std::vector<std::string>{"3", bad}}, c);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error(), "'" + bad + "' is not a hex prefix of 1 to 16 digits");
    const auto f = load_config_string("[dht]\nkeyspace = [\"3\", \"" + bad + "\"]\n", c, "f.toml");
    ASSERT_FALSE(f.ok());
    EXPECT_EQ(f.error(), "f.toml:2: dht.keyspace: " + r.error());
  }
  EXPECT_TRUE(c.keyspace.empty()) << "a refused value must not be half-applied";
  ASSERT_TRUE(apply_setting(*ks, SettingValue{std::vector<std::string>{"3", "A0"}}, c).ok());
  EXPECT_EQ(c.keyspace, (std::vector<std::string>{"3", "A0"}));

  const Setting* budget = find_setting("dht.packet_budget");
  ASSERT_NE(budget, nullptr);
  EXPECT_FALSE(apply_setting(*budget, SettingValue{0.0}, c).ok());
  EXPECT_TRUE(apply_setting(*budget, SettingValue{5.0}, c).ok());
  EXPECT_DOUBLE_EQ(c.packet_budget, 5.0);
}

TEST(Config, EverySettingRoundTripsThroughItsOwnRendering) {
  // get() of the defaults, rendered as TOML and loaded again, gives the same value: the table's
  // getters and setters agree, and the defaults are themselves valid.
  const auto defaults = default_config();
  for (const auto& s : settings()) {
    const auto key = std::string(s.key);
    const auto dot = key.find('.');
    const std::string doc = "[" + key.substr(0, dot) + "]\n" + key.substr(dot + 1) + " = " +
                            render_setting(s.get(defaults)) + "\n";
    auto c = default_config();
    const auto r = load_config_string(doc, c, "rt.toml");
    ASSERT_TRUE(r.ok()) << key << ": " << r.error();
    EXPECT_EQ(render_setting(s.get(c)), render_setting(s.get(defaults))) << key;
  }
}

}  // namespace
}  // namespace bitscrape::app
