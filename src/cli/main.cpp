// bitscrape: a thin binary; all logic lives in the libraries under src/.
#include "cli/commands.hpp"

#include <cstdio>

int main(int argc, char** argv) {
  CLI::App app{"BitScrape: explore the BitTorrent Mainline DHT: discover nodes and infohashes, "
               "fetch and verify metadata, store and search it.",
               "bitscrape"};
  app.set_version_flag("-V,--version", "bitscrape " BITSCRAPE_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);

  bitscrape::cli::register_decode(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
