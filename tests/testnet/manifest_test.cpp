// The manifest: fields of a generated torrent, the lt_swarm.py JSON shape, streaming writes that
// appear atomically, and reading back what was written.
#include "testnet/manifest.hpp"

#include "common/hex.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace bitscrape::testnet {
namespace {

namespace fs = std::filesystem;

fs::path temp_path(const std::string& name) {
  return fs::temp_directory_path() /
         ("bitscrape-testnet-manifest-" + std::to_string(::getpid()) + "-" + name);
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(TestnetManifest, EntryCarriesEveryFieldOfTheTorrent) {
  TorrentGenerator gen(7);
  const auto hybrid = gen.generate(5);  // hybrid-multi
  const auto e = manifest_entry(hybrid);
  EXPECT_EQ(e.index, 5u);
  EXPECT_EQ(e.kind, "hybrid-multi");
  EXPECT_EQ(e.name, hybrid.name);
  ASSERT_TRUE(e.infohash_v1 && e.infohash_v2);
  EXPECT_EQ(*e.infohash_v1, hybrid.v1->hex());
  EXPECT_EQ(e.infohash_v2->size(), 64u);
  EXPECT_EQ(*e.infohash_v2, to_hex({reinterpret_cast<const char*>(hybrid.v2->data()), 32}));
  ASSERT_EQ(e.dht_keys.size(), 2u);
  EXPECT_EQ(e.dht_keys[0], *e.infohash_v1);
  EXPECT_EQ(e.dht_keys[1], e.infohash_v2->substr(0, 40));
  EXPECT_EQ(e.total_bytes, hybrid.total_bytes);
  EXPECT_EQ(e.piece_length, hybrid.piece_length);
  EXPECT_EQ(e.file_count, hybrid.files.size());
  ASSERT_EQ(e.files.size(), hybrid.files.size());
  for (std::size_t i = 0; i < e.files.size(); ++i) {
    EXPECT_EQ(e.files[i].path, hybrid.files[i].path);
    EXPECT_EQ(e.files[i].length, hybrid.files[i].length);
  }
  const auto v2 = manifest_entry(gen.generate(2));  // v2-single
  EXPECT_FALSE(v2.infohash_v1);
  ASSERT_EQ(v2.dht_keys.size(), 1u);
  EXPECT_EQ(v2.files.size(), 1u);
  EXPECT_EQ(v2.files[0].path, v2.name) << "a single-file torrent's file is its name";
}

TEST(TestnetManifest, StreamsAndAppearsOnlyWhenFinished) {
  const auto path = temp_path("stream.json");
  fs::remove(path);
  TorrentGenerator gen(3);
  Manifest m;
  m.bootstrap = "127.0.31.1:6881";
  m.nodes = {"127.0.31.1:6881", "127.0.31.2:6881"};
  m.stats = {{"keys", 9}};
  {
    auto w = ManifestWriter::open(path);
    ASSERT_TRUE(w.ok()) << w.error();
    for (std::size_t i = 0; i < 6; ++i) {
      auto e = manifest_entry(gen.generate(i));
      e.seeder = "127.0.31.2:6881";
      if (i == 1) e.liars = {"127.0.31.3:6881"};
      if (i == 2) e.slow = {"127.0.31.4:6881"};
      ASSERT_TRUE(w->add(e).ok());
      m.torrents.push_back(e);
    }
    EXPECT_FALSE(fs::exists(path)) << "nothing at the final path before finish()";
    EXPECT_TRUE(fs::exists(path.string() + ".partial"));
    ASSERT_TRUE(w->finish(m).ok());
    EXPECT_EQ(w->torrents(), 6u);
  }
  EXPECT_TRUE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path.string() + ".partial"));

  // The lt_swarm.py shape, read with a plain JSON parser.
  const auto j = nlohmann::json::parse(slurp(path));
  EXPECT_EQ(j.at("bootstrap"), "127.0.31.1:6881");
  EXPECT_EQ(j.at("nodes").size(), 2u);
  ASSERT_EQ(j.at("torrents").size(), 6u);
  for (const char* key : {"kind", "name", "infohash_v1", "infohash_v2", "dht_keys", "total_bytes",
                          "piece_length", "file_count", "files", "seeder"}) {
    EXPECT_TRUE(j["torrents"][0].contains(key)) << key;
  }
  EXPECT_TRUE(j["torrents"][2]["infohash_v1"].is_null());
  EXPECT_EQ(j["torrents"][1]["liars"][0], "127.0.31.3:6881");
  EXPECT_EQ(j.at("stats").at("keys"), 9);

  const auto back = read_manifest(path);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->bootstrap, m.bootstrap);
  EXPECT_EQ(back->nodes, m.nodes);
  EXPECT_EQ(back->torrents, m.torrents);
  fs::remove(path);
}

TEST(TestnetManifest, UnfinishedWriterLeavesNothingBehind) {
  const auto path = temp_path("abandoned.json");
  {
    auto w = ManifestWriter::open(path);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w->add(manifest_entry(TorrentGenerator(1).generate(0))).ok());
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path.string() + ".partial"));
}

TEST(TestnetManifest, WholeDocumentRoundTripsAndBadJsonIsAnError) {
  Manifest m;
  m.bootstrap = "127.0.31.1:6881";
  m.nodes = {"127.0.31.1:6881"};
  m.torrents.push_back(manifest_entry(TorrentGenerator(2).generate(4)));
  m.torrents.back().seeder = "127.0.31.1:6881";
  const auto back = parse_manifest(to_json(m));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->torrents, m.torrents);
  EXPECT_FALSE(parse_manifest("{\"torrents\": [").ok());
  EXPECT_FALSE(parse_manifest("{\"bootstrap\": 1}").ok());
  EXPECT_FALSE(read_manifest("/nonexistent/dir/m.json").ok());
  EXPECT_FALSE(ManifestWriter::open("/nonexistent/dir/m.json").ok());
}

}  // namespace
}  // namespace bitscrape::testnet
