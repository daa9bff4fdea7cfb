// bitscrape: a thin binary; all logic lives in the libraries under src/.
#include "cli/commands.hpp"

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  CLI::App app{"BitScrape: explore the BitTorrent Mainline DHT: discover nodes and infohashes, "
               "fetch and verify metadata, store and search it.",
               "bitscrape"};
  app.set_version_flag("-V,--version", "bitscrape " BITSCRAPE_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);

  bitscrape::cli::register_crawl(app);
  bitscrape::cli::register_fetch(app);
  bitscrape::cli::register_query(app);
  bitscrape::cli::register_decode(app);
  bitscrape::cli::register_serve(app);
  bitscrape::cli::register_export(app);
  bitscrape::cli::register_testnet(app);
  bitscrape::cli::register_migrate(app);

  try {
    app.parse(argc, argv);
  } catch (const bitscrape::cli::CommandFailed& e) {
    std::fprintf(stderr, "bitscrape: %s\n", e.what());
    return e.exit_code;
  } catch (const CLI::Error& e) {
    // Parse errors and failures raised by subcommand callbacks (with their exit code).
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bitscrape: %s\n", e.what());
    return 1;
  }
  return 0;
}
