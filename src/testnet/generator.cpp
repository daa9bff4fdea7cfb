#include "testnet/generator.hpp"

#include "bencode/encoder.hpp"
#include "common/hex.hpp"
#include "common/splitmix.hpp"
#include "dht/random.hpp"
#include "metainfo/info_dict.hpp"
#include "metainfo/verify.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <set>
#include <span>

namespace bitscrape::testnet {

namespace {

using dht::Rng;
using Words = std::span<const std::string_view>;

constexpr std::int64_t kKiB = 1024;
constexpr std::int64_t kMiB = 1024 * kKiB;
constexpr std::int64_t kGiB = 1024 * kMiB;
constexpr std::int64_t kMinPieceLength = 16 * kKiB;  // BEP-52 minimum; also a sane v1 floor
constexpr std::int64_t kMaxPieceLength = 16 * kMiB;  // what mainstream creators go up to

// ---- word lists -----------------------------------------------------------------------------

constexpr std::string_view kTitleWords[] = {
    "Silent",   "Harbor", "Broken", "Crown",    "Midnight", "Echo",    "Iron",    "Garden",   "Last",
    "Frontier", "Winter", "Signal", "Hidden",   "River",    "Black",   "Mirror",  "Northern", "Lights",
    "Glass",    "City",   "Lost",   "Empire",   "Red",      "Horizon", "Burning", "Shore",    "Golden",
    "Hour",     "Paper",  "Moon",   "Wild",     "Coast",    "Quiet",   "Storm",   "Dark",     "Matter",
    "Blue",     "Valley", "Savage", "Kingdom",  "Electric", "Dreams",  "Cold",    "Case",     "Second",
    "Chance",   "Little", "Fires",  "Stranger", "Tides",    "Hollow",  "Point",   "Velvet",   "Road",
    "Steel",    "Heart",  "Shadow", "Line",     "Open",     "Water",   "Deep",    "Space",    "Copper",
    "Sky",      "High",   "Castle", "Twin",     "Peaks",    "Orchard", "Lantern", "Atlas",    "Meridian"};
constexpr std::string_view kGroups[] = {
    "NTb",   "FLUX",    "SPARKS", "GalaxyRG", "NOGRP",   "CAKES", "EDITH",   "SMURF", "TEPES", "KOGi",
    "ION10", "MeGusta", "ETHEL",  "BAE",      "playWEB", "HONE",  "ZeroTwo", "CMRG",  "TOMMY", "SiGMA"};
constexpr std::string_view kResolutions[] = {"480p", "720p", "1080p", "1080p", "1080p", "2160p"};
constexpr std::string_view kSources[] = {"WEB-DL",    "WEBRip",      "BluRay",       "HDTV", "AMZN.WEB-DL",
                                         "NF.WEB-DL", "DSNP.WEBRip", "BluRay.REMUX", "BDRip"};
constexpr std::string_view kCodecs[] = {"x264", "x265", "H.264", "HEVC", "AV1", "10bit.x265"};
constexpr std::string_view kAudio[] = {"DDP5.1",           "AAC2.0", "DTS-HD.MA.5.1",
                                       "TrueHD.7.1.Atmos", "AC3",    "Opus"};
constexpr std::string_view kFirstNames[] = {"Anna",  "James",  "Maria",  "David",  "Elena", "Tom",   "Sofia",
                                            "Lucas", "Hannah", "Marcus", "Olivia", "Ivan",  "Chloe", "Noah",
                                            "Emma",  "Peter",  "Laura",  "Daniel", "Nora",  "Felix"};
constexpr std::string_view kLastNames[] = {
    "Walker",   "Novak", "Hughes",  "Berg", "Lindqvist", "Moreau", "Keller", "Santos", "Brennan", "Ito",
    "Kowalski", "Reyes", "Fischer", "Dunn", "Okafor",    "Sato",   "Hale",   "Marsh",  "Quinn",   "Abbott"};
constexpr std::string_view kAccentedArtists[] = {
    "Zoë Lefèvre", "Søren Kjær",    "Ángel Muñoz",  "François Dupré", "Mariña Åström",  "Café Noir Ensemble",
    "Jürgen Weiß", "Bjørn Ødegård", "Chloé Bénard", "Łukasz Żółć",    "Ştefan Căpraru", "Naïve Orchestra"};
constexpr std::string_view kBandAdjectives[] = {"Velvet",   "Neon",    "Paper",  "Hollow",
                                                "Electric", "Crystal", "Amber",  "Static",
                                                "Golden",   "Violet",  "Silver", "Wandering"};
constexpr std::string_view kBandNouns[] = {"Owls",    "Harbors", "Ghosts", "Engines", "Tigers", "Lanterns",
                                           "Orchids", "Foxes",   "Comets", "Rivers",  "Wolves", "Satellites"};
constexpr std::string_view kAlbumWords[] = {
    "Echoes",       "Afterglow",     "Northbound",   "Low Tide",   "Paper Planes", "Weightless", "Glasshouse",
    "Static Bloom", "Long Way Home", "Midnight Sun", "Coastlines", "Undertow",     "Hologram"};
constexpr std::string_view kTrackWords[] = {"Intro",    "Daybreak",  "Falling", "Runaway",      "Slow Burn",
                                            "Hometown", "Satellite", "Ashes",   "Undercurrent", "Fireflies",
                                            "Weather",  "Outro",     "Mirrors", "Gravity",      "Lighthouse",
                                            "Parade",   "Vertigo",   "Tides"};
constexpr std::string_view kMusicFormats[] = {"[FLAC]", "[FLAC 24-96]", "[MP3 320]",
                                              "[V0]",   "(WEB, FLAC)",  "[FLAC 16-44]"};
constexpr std::string_view kTopics[] = {
    "Python",     "Machine Learning", "Kubernetes",  "Rust",    "Photography",
    "Astronomy",  "Linear Algebra",   "Woodworking", "Cooking", "Guitar",
    "Networking", "Statistics",       "Blender 3D",  "Go",      "Cryptography"};
constexpr std::string_view kDataTopics[] = {"weather",   "traffic", "genome",  "sentiment",
                                            "satellite", "census",  "speech",  "wiki",
                                            "code",      "retail",  "seismic", "airquality"};
constexpr std::string_view kCities[] = {"Lisbon", "Kyoto",   "Reykjavik", "Marrakesh",  "Prague", "Hanoi",
                                        "Oaxaca", "Tallinn", "Cape Town", "Valparaíso", "Tromsø", "Kraków"};
constexpr std::string_view kDistros[] = {"ubuntu",    "debian",     "Fedora-Workstation-Live", "archlinux",
                                         "linuxmint", "kali-linux", "openSUSE-Leap",           "FreeBSD",
                                         "AlmaLinux", "rocky-linux"};
constexpr std::string_view kArches[] = {"amd64", "x86_64", "arm64", "aarch64", "i386"};
// Japanese (kana and kanji), for anime-style releases.
constexpr std::string_view kJaPrefixes[] = {"夜明けの", "星降る", "蒼い",   "永遠の", "静かな", "小さな",
                                            "最後の",   "風の",   "月光の", "白銀の", "迷子の", "はじまりの"};
constexpr std::string_view kJaNouns[] = {"旅人",   "図書館", "魔法使い", "約束",   "物語",       "街",
                                         "騎士団", "花火",   "海辺",     "ひかり", "ものがたり", "コンパス"};
constexpr std::string_view kJaGroups[] = {"SubsPlease", "Erai-raws",        "Judas",
                                          "ASW",        "Nekomoe kissaten", "LoliHouse"};
// Russian (Cyrillic).
constexpr std::string_view kRuAdjectives[] = {"Тихий",   "Северный", "Последний", "Золотой", "Белый",
                                              "Далёкий", "Ночной",   "Старый",    "Зимний",  "Летний"};
constexpr std::string_view kRuNouns[] = {"дозор", "берег", "поезд", "город", "ветер",
                                         "сад",   "рубеж", "вальс", "маяк",  "перевал"};
constexpr std::string_view kRuBands[] = {"Кино", "Сплин", "Звери", "Пикник", "Мумий Тролль", "Аквариум"};
// Chinese.
constexpr std::string_view kZhTitles[] = {"流浪地球", "长安十二时辰", "山河令",     "明月几时有", "江湖夜雨",
                                          "三体",     "繁花",         "漫长的季节", "隐秘的角落", "大江大河"};
// Greek.
constexpr std::string_view kElWords[] = {"Θάλασσα",   "Καλοκαίρι", "Αθήνα",  "Νύχτα",
                                         "Τραγούδια", "Φεγγάρι",   "Ταξίδι", "Ήλιος"};
// Emoji.
constexpr std::string_view kEmoji[] = {"🎵", "🔥", "🌙", "🎧", "🎮", "📚", "🌊", "✨", "🚀", "🎬", "🌸", "💿"};
constexpr std::string_view kEmojiThemes[] = {
    "Lo-Fi Study Beats",   "Retro Game Soundtracks", "Synthwave Nights", "Chill Jazz Café",
    "Ambient Rain Sounds", "Piano Covers",           "Summer Hits",      "Deep Focus"};
constexpr std::string_view kSubLanguages[] = {"English", "Español", "Français", "Deutsch",  "Português",
                                              "Русский", "日本語",  "中文",     "Italiano", "Ελληνικά"};

// ---- helpers --------------------------------------------------------------------------------

template <std::size_t N>
std::string_view pick(Rng& rng, const std::string_view (&words)[N]) {
  return words[rng.below(N)];
}

std::int64_t between(Rng& rng, std::int64_t lo, std::int64_t hi) {
  return lo + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(hi - lo + 1)));
}

double unit(Rng& rng) {
  return static_cast<double>(rng.next() >> 11) * 0x1.0p-53;
}

// Log-uniform in [lo, hi]: sizes of real files spread over orders of magnitude.
std::int64_t size_between(Rng& rng, std::int64_t lo, std::int64_t hi) {
  const double l = std::log(static_cast<double>(lo));
  const double h = std::log(static_cast<double>(hi));
  const auto v = static_cast<std::int64_t>(std::exp(l + (h - l) * unit(rng)));
  return std::clamp(v, lo, hi);
}

// `base` varied by up to ±pct percent (episodes of one season have similar sizes).
std::int64_t around(Rng& rng, std::int64_t base, int pct) {
  const double f = 1.0 + (unit(rng) * 2.0 - 1.0) * pct / 100.0;
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(static_cast<double>(base) * f));
}

std::string two_digits(std::int64_t n) {
  char b[24];
  std::snprintf(b, sizeof b, "%02lld", static_cast<long long>(n));
  return b;
}
std::string digits(std::int64_t n, int width) {
  char b[32];
  std::snprintf(b, sizeof b, "%0*lld", width, static_cast<long long>(n));
  return b;
}

std::string title(Rng& rng, std::string_view sep, int min_words, int max_words) {
  const auto n = between(rng, min_words, max_words);
  std::string s;
  for (std::int64_t i = 0; i < n; ++i) {
    if (i > 0) s += sep;
    s += pick(rng, kTitleWords);
  }
  return s;
}

std::string year(Rng& rng) {
  return std::to_string(between(rng, 1975, 2024));
}

std::string person(Rng& rng) {
  return std::string(pick(rng, kFirstNames)) + " " + std::string(pick(rng, kLastNames));
}

std::string band(Rng& rng) {
  switch (rng.below(3)) {
    case 0:
      return "The " + std::string(pick(rng, kBandAdjectives)) + " " + std::string(pick(rng, kBandNouns));
    case 1:
      return person(rng);
    default:
      return std::string(pick(rng, kBandAdjectives)) + " " + std::string(pick(rng, kBandNouns));
  }
}

std::string crc32_tag(Rng& rng) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string s(8, '0');
  for (auto& c : s) c = kHex[rng.below(16)];
  return s;
}

// ---- categories -----------------------------------------------------------------------------

struct Draft {
  std::string name;
  std::vector<GeneratedFile> files;

  void add(std::vector<std::string> components, std::int64_t length) {
    GeneratedFile f;
    f.components = std::move(components);
    f.length = std::max<std::int64_t>(1, length);
    files.push_back(std::move(f));
  }
  // A single-file torrent: the name is the file.
  void single(std::string n, std::int64_t length) {
    name = std::move(n);
    add({name}, length);
  }
};

using CategoryFn = void (*)(Rng&, bool multi, Draft&);

void movie_extras(Rng& rng, const std::string& stem, Draft& d) {
  if (rng.chance(0.7)) d.add({stem + ".nfo"}, between(rng, 1 * kKiB, 8 * kKiB));
  if (rng.chance(0.5)) d.add({"Sample", stem + "-sample.mkv"}, size_between(rng, 10 * kMiB, 80 * kMiB));
  if (rng.chance(0.6)) {
    const auto subs = between(rng, 1, 4);
    std::set<std::string_view> langs;
    for (std::int64_t i = 0; i < subs; ++i) langs.insert(pick(rng, kSubLanguages));
    for (auto l : langs) d.add({"Subs", std::string(l) + ".srt"}, between(rng, 30 * kKiB, 140 * kKiB));
  }
  if (rng.chance(0.2)) {
    const auto shots = between(rng, 2, 6);
    for (std::int64_t i = 1; i <= shots; ++i) {
      d.add({"Screens", "screen" + digits(i, 4) + ".png"}, size_between(rng, 300 * kKiB, 4 * kMiB));
    }
  }
}

void episode(Rng& rng, bool multi, Draft& d) {
  const auto show = title(rng, ".", 1, 3);
  const auto stem = show + ".S" + two_digits(between(rng, 1, 12)) + "E" + two_digits(between(rng, 1, 24)) +
                    "." + std::string(pick(rng, kResolutions)) + "." + std::string(pick(rng, kSources)) +
                    "." + std::string(pick(rng, kCodecs)) + "-" + std::string(pick(rng, kGroups));
  const auto size = size_between(rng, 150 * kMiB, 4 * kGiB);
  if (!multi) return d.single(stem + ".mkv", size);
  d.name = stem;
  d.add({stem + ".mkv"}, size);
  movie_extras(rng, stem, d);
}

void season_pack(Rng& rng, bool /*multi*/, Draft& d) {
  const auto show = title(rng, ".", 1, 3);
  const auto season = two_digits(between(rng, 1, 9));
  const auto tags = std::string(pick(rng, kResolutions)) + "." + std::string(pick(rng, kSources)) + "." +
                    std::string(pick(rng, kCodecs)) + "-" + std::string(pick(rng, kGroups));
  d.name = show + ".S" + season + ".COMPLETE." + tags;
  const auto episodes = between(rng, 6, 24);
  const auto base = size_between(rng, 250 * kMiB, 3 * kGiB);
  for (std::int64_t e = 1; e <= episodes; ++e) {
    d.add({show + ".S" + season + "E" + two_digits(e) + "." + tags + ".mkv"}, around(rng, base, 15));
  }
  if (rng.chance(0.5)) d.add({d.name + ".nfo"}, between(rng, 1 * kKiB, 6 * kKiB));
}

void movie(Rng& rng, bool multi, Draft& d) {
  const bool uhd = rng.chance(0.25);
  const auto stem = title(rng, ".", 1, 4) + "." + year(rng) + "." +
                    (uhd ? "2160p" : std::string(pick(rng, kResolutions))) + "." +
                    std::string(pick(rng, kSources)) + "." + std::string(pick(rng, kAudio)) + "." +
                    std::string(pick(rng, kCodecs)) + "-" + std::string(pick(rng, kGroups));
  const auto size = uhd ? size_between(rng, 8 * kGiB, 60 * kGiB) : size_between(rng, 700 * kMiB, 15 * kGiB);
  if (!multi) return d.single(stem + ".mkv", size);
  d.name = stem;
  d.add({stem + ".mkv"}, size);
  movie_extras(rng, stem, d);
}

void album_tracks(Rng& rng, Draft& d, std::string_view ext, std::int64_t lo, std::int64_t hi) {
  const auto tracks = between(rng, 6, 18);
  std::vector<std::string> dirs;
  if (tracks > 12 && rng.chance(0.4)) dirs = {"CD1", "CD2"};
  for (std::int64_t t = 1; t <= tracks; ++t) {
    std::vector<std::string> comps;
    if (!dirs.empty()) comps.push_back(t <= tracks / 2 ? dirs[0] : dirs[1]);
    comps.push_back(two_digits(t) + " - " + std::string(pick(rng, kTrackWords)) +
                    (rng.chance(0.3) ? " (Live)" : "") + "." + std::string(ext));
    d.add(std::move(comps), size_between(rng, lo, hi));
  }
  if (rng.chance(0.8)) d.add({"cover.jpg"}, size_between(rng, 80 * kKiB, 3 * kMiB));
  if (ext == "flac" && rng.chance(0.5)) d.add({"rip.log"}, between(rng, 3 * kKiB, 20 * kKiB));
}

void album(Rng& rng, bool multi, Draft& d) {
  const auto artist = rng.chance(0.25) ? std::string(pick(rng, kAccentedArtists)) : band(rng);
  const auto record = std::string(pick(rng, kAlbumWords));
  const auto format = std::string(pick(rng, kMusicFormats));
  const bool flac = format.find("FLAC") != std::string::npos;
  const auto base = artist + " - " + record + " (" + year(rng) + ")";
  if (!multi) return d.single(base + (flac ? ".flac" : ".mp3"), size_between(rng, 60 * kMiB, 900 * kMiB));
  d.name = base + " " + format;
  album_tracks(rng, d, flac ? "flac" : "mp3", flac ? 15 * kMiB : 4 * kMiB, flac ? 120 * kMiB : 15 * kMiB);
}

void software(Rng& rng, bool multi, Draft& d) {
  const auto distro = std::string(pick(rng, kDistros));
  auto version = std::to_string(between(rng, 8, 40));
  version.append(".").append(std::to_string(between(rng, 0, 12)));
  // (append, not "." + std::to_string(): GCC 12 warns falsely on that, -Wrestrict, PR 105329)
  if (rng.chance(0.4)) version.append(".").append(std::to_string(between(rng, 0, 5)));
  const auto iso = distro + "-" + version + "-" + (rng.chance(0.5) ? "desktop-" : "") +
                   std::string(pick(rng, kArches)) + ".iso";
  const auto size = size_between(rng, 300 * kMiB, 6 * kGiB);
  if (!multi) return d.single(iso, size);
  d.name = distro + "-" + version;
  d.add({iso}, size);
  d.add({"SHA256SUMS"}, between(rng, 100, 2000));
  d.add({"SHA256SUMS.gpg"}, between(rng, 400, 900));
  if (rng.chance(0.4))
    d.add({"netinst", distro + "-" + version + "-netinst.iso"}, size_between(rng, 200 * kMiB, 700 * kMiB));
}

void ebook(Rng& rng, bool multi, Draft& d) {
  if (!multi) {
    const std::string_view ext = rng.chance(0.6) ? ".epub" : ".pdf";
    return d.single(person(rng) + " - " + title(rng, " ", 2, 4) + " (" + year(rng) + ")" + std::string(ext),
                    size_between(rng, 300 * kKiB, 60 * kMiB));
  }
  const auto topic = std::string(pick(rng, kTopics));
  d.name = topic + " Books Collection (" + year(rng) + ")";
  const auto books = between(rng, 5, 60);
  for (std::int64_t b = 0; b < books; ++b) {
    const std::string_view ext = rng.chance(0.5) ? ".pdf" : ".epub";
    d.add({person(rng) + " - " + topic + " " + title(rng, " ", 1, 3) + std::string(ext)},
          size_between(rng, 500 * kKiB, 80 * kMiB));
  }
}

void dataset(Rng& rng, bool multi, Draft& d) {
  const auto stem = std::string(pick(rng, kDataTopics)) + "-" + std::string(pick(rng, kDataTopics)) +
                    "-dataset-v" + std::to_string(between(rng, 1, 9));
  if (!multi) return d.single(stem + ".tar.zst", size_between(rng, 500 * kMiB, 40 * kGiB));
  d.name = stem;
  const auto shards = between(rng, 4, 200);
  const auto base = size_between(rng, 20 * kMiB, 1 * kGiB);
  for (std::int64_t s = 0; s < shards; ++s) {
    const bool test = s >= shards - std::max<std::int64_t>(1, shards / 10);
    d.add({"data",
           std::string(test ? "test-" : "train-") + digits(s, 5) + "-of-" + digits(shards, 5) + ".parquet"},
          around(rng, base, 5));
  }
  d.add({"README.md"}, between(rng, 2 * kKiB, 40 * kKiB));
  d.add({"LICENSE"}, between(rng, 1 * kKiB, 20 * kKiB));
}

void photos(Rng& rng, bool multi, Draft& d) {
  const auto city = std::string(pick(rng, kCities));
  const auto y = year(rng);
  if (!multi) return d.single(city + " " + y + " Photos.zip", size_between(rng, 200 * kMiB, 8 * kGiB));
  d.name = city + " " + y + " - Photo Collection";
  const auto count = between(rng, 20, 400);
  auto number = between(rng, 1000, 8000);
  for (std::int64_t i = 0; i < count; ++i) {
    d.add({"IMG_" + std::to_string(number++) + (rng.chance(0.8) ? ".JPG" : ".CR3")},
          size_between(rng, 2 * kMiB, 30 * kMiB));
  }
}

void course(Rng& rng, bool /*multi*/, Draft& d) {
  d.name = std::string(pick(rng, kTopics)) + " Masterclass (" + year(rng) + ")";
  const auto sections = between(rng, 2, 8);
  for (std::int64_t s = 1; s <= sections; ++s) {
    const auto section = two_digits(s) + " - " + title(rng, " ", 1, 3);
    const auto lessons = between(rng, 2, 9);
    for (std::int64_t l = 1; l <= lessons; ++l) {
      d.add({section, two_digits(l) + " - " + title(rng, " ", 1, 3) + ".mp4"},
            size_between(rng, 20 * kMiB, 400 * kMiB));
      if (rng.chance(0.3))
        d.add({section, two_digits(l) + " - notes.pdf"}, size_between(rng, 100 * kKiB, 3 * kMiB));
    }
  }
}

// ---- unicode categories ---------------------------------------------------------------------

void anime(Rng& rng, bool multi, Draft& d) {
  const auto group = std::string(pick(rng, kJaGroups));
  const auto show = std::string(pick(rng, kJaPrefixes)) + std::string(pick(rng, kJaNouns));
  const auto res = rng.chance(0.7) ? std::string("1080p") : std::string("720p");
  if (!multi) {
    return d.single("[" + group + "] " + show + " - " + two_digits(between(rng, 1, 24)) + " (" + res + ") [" +
                        crc32_tag(rng) + "].mkv",
                    size_between(rng, 200 * kMiB, 1500 * kMiB));
  }
  const auto episodes = between(rng, 10, 26);
  d.name = "[" + group + "] " + show + " (01-" + two_digits(episodes) + ") (" + res + ") [Batch]";
  const auto base = size_between(rng, 250 * kMiB, 1200 * kMiB);
  for (std::int64_t e = 1; e <= episodes; ++e) {
    d.add({"[" + group + "] " + show + " - " + two_digits(e) + " (" + res + ") [" + crc32_tag(rng) + "].mkv"},
          around(rng, base, 20));
  }
  if (rng.chance(0.5)) d.add({"Fonts", "NotoSansJP-Regular.otf"}, between(rng, 4 * kMiB, 6 * kMiB));
}

void russian(Rng& rng, bool multi, Draft& d) {
  if (rng.chance(0.4)) {  // music
    const auto artist = std::string(pick(rng, kRuBands));
    const auto record = std::string(pick(rng, kRuAdjectives)) + " " + std::string(pick(rng, kRuNouns));
    const auto base = artist + " - " + record + " (" + year(rng) + ")";
    if (!multi) return d.single(base + ".flac", size_between(rng, 150 * kMiB, 700 * kMiB));
    d.name = base + " [FLAC]";
    const auto tracks = between(rng, 8, 14);
    for (std::int64_t t = 1; t <= tracks; ++t) {
      d.add({two_digits(t) + ". " + std::string(pick(rng, kRuAdjectives)) + " " +
             std::string(pick(rng, kRuNouns)) + ".flac"},
            size_between(rng, 15 * kMiB, 60 * kMiB));
    }
    return;
  }
  const auto film = std::string(pick(rng, kRuAdjectives)) + " " + std::string(pick(rng, kRuNouns)) + " (" +
                    year(rng) + ") " + std::string(pick(rng, kSources)) + " " +
                    std::string(pick(rng, kResolutions));
  const auto size = size_between(rng, 700 * kMiB, 12 * kGiB);
  if (!multi) return d.single(film + ".mkv", size);
  d.name = film;
  d.add({film + ".mkv"}, size);
  d.add({"Субтитры", "Русские.srt"}, between(rng, 40 * kKiB, 120 * kKiB));
  if (rng.chance(0.5)) d.add({"Субтитры", "Английские.srt"}, between(rng, 40 * kKiB, 120 * kKiB));
}

void chinese(Rng& rng, bool multi, Draft& d) {
  const auto show = std::string(pick(rng, kZhTitles));
  const auto res = rng.chance(0.5) ? std::string("4K") : std::string("1080P");
  if (!multi)
    return d.single(show + " " + year(rng) + " " + res + ".mp4", size_between(rng, 1 * kGiB, 20 * kGiB));
  const auto episodes = between(rng, 8, 40);
  d.name = show + " 第一季 全" + std::to_string(episodes) + "集 " + res;
  const auto base = size_between(rng, 300 * kMiB, 2 * kGiB);
  for (std::int64_t e = 1; e <= episodes; ++e)
    d.add({show + " 第" + two_digits(e) + "集.mp4"}, around(rng, base, 10));
}

void greek(Rng& rng, bool multi, Draft& d) {
  const auto record = std::string(pick(rng, kElWords)) + " " + std::string(pick(rng, kElWords));
  const auto base = record + " (" + year(rng) + ")";
  if (!multi) return d.single(base + ".mp3", size_between(rng, 40 * kMiB, 200 * kMiB));
  d.name = base + " [MP3 320]";
  album_tracks(rng, d, "mp3", 4 * kMiB, 15 * kMiB);
}

void emoji(Rng& rng, bool multi, Draft& d) {
  const auto e1 = std::string(pick(rng, kEmoji));
  const auto theme = std::string(pick(rng, kEmojiThemes));
  const auto base =
      e1 + " " + theme + " Vol. " + std::to_string(between(rng, 1, 12)) + " (" + year(rng) + ")";
  if (!multi) return d.single(base + ".mp3", size_between(rng, 60 * kMiB, 400 * kMiB));
  d.name = base + " " + std::string(pick(rng, kEmoji));
  album_tracks(rng, d, "mp3", 3 * kMiB, 12 * kMiB);
}

struct Category {
  CategoryFn fn;
  bool single_ok;
  bool multi_ok;
  int weight;
};

constexpr Category kLatin[] = {
    {episode, true, true, 18}, {season_pack, false, true, 8}, {movie, true, true, 16},
    {album, true, true, 14},   {software, true, true, 8},     {ebook, true, true, 8},
    {dataset, true, true, 6},  {photos, true, true, 5},       {course, false, true, 5},
};
constexpr Category kUnicode[] = {
    {anime, true, true, 30}, {russian, true, true, 25}, {chinese, true, true, 15},
    {greek, true, true, 10}, {emoji, true, true, 20},
};

template <std::size_t N>
CategoryFn choose(Rng& rng, const Category (&cats)[N], bool multi) {
  int total = 0;
  for (const auto& c : cats)
    if (multi ? c.multi_ok : c.single_ok) total += c.weight;
  auto r = static_cast<int>(rng.below(static_cast<std::uint64_t>(total)));
  for (const auto& c : cats) {
    if (!(multi ? c.multi_ok : c.single_ok)) continue;
    if (r < c.weight) return c.fn;
    r -= c.weight;
  }
  return cats[0].fn;
}

// Piece length the way creators pick it: a power of two aiming at 1000-2000 pieces.
std::int64_t choose_piece_length(Rng& rng, std::int64_t total) {
  const std::int64_t target = rng.chance(0.5) ? 1024 : 2048;
  std::int64_t pl = kMinPieceLength;
  while (pl < kMaxPieceLength && (total + pl - 1) / pl > target) pl *= 2;
  return pl;
}

std::string random_bytes(Rng& rng, std::size_t n) {
  std::string s(n, '\0');
  rng.fill(reinterpret_cast<std::uint8_t*>(s.data()), n);
  return s;
}

std::string join(const std::vector<std::string>& c) {
  std::string s;
  for (std::size_t i = 0; i < c.size(); ++i) {
    if (i > 0) s += '/';
    s += c[i];
  }
  return s;
}

// Makes every path unique and never both a file and a directory: a clash gets " (2)", " (3)" ...
// inserted before the extension of its last component.
void dedupe(std::vector<GeneratedFile>& files) {
  std::set<std::vector<std::string>> seen;
  std::set<std::vector<std::string>> dirs;
  for (const auto& f : files)
    for (std::size_t n = 1; n < f.components.size(); ++n)
      dirs.emplace(f.components.begin(), f.components.begin() + static_cast<std::ptrdiff_t>(n));
  for (auto& f : files) {
    auto c = f.components;
    for (int i = 2; seen.count(c) != 0 || dirs.count(c) != 0; ++i) {
      auto& last = c.back();
      const auto& orig = f.components.back();
      const auto dot = orig.rfind('.');
      const auto stem = dot == std::string::npos || dot == 0 ? orig : orig.substr(0, dot);
      const auto ext = dot == std::string::npos || dot == 0 ? std::string() : orig.substr(dot);
      last = stem + " (" + std::to_string(i) + ")" + ext;
    }
    seen.insert(c);
    f.components = std::move(c);
  }
}

}  // namespace

std::string_view to_string(TorrentKind k) noexcept {
  switch (k) {
    case TorrentKind::V1:
      return "v1";
    case TorrentKind::V2:
      return "v2";
    case TorrentKind::Hybrid:
      return "hybrid";
  }
  return "v1";
}

std::vector<InfoHash> GeneratedTorrent::dht_keys() const {
  std::vector<InfoHash> keys;
  if (v1) keys.push_back(*v1);
  if (v2) {
    InfoHash k;
    std::copy_n(v2->begin(), InfoHash::kSize, k.bytes.begin());
    keys.push_back(k);
  }
  return keys;
}

std::string GeneratedTorrent::kind_name() const {
  return std::string(to_string(kind)) + (multi_file ? "-multi" : "-single");
}

TorrentGenerator::TorrentGenerator(std::uint64_t seed, GeneratorConfig config)
    : seed_(seed), config_(config) {}

GeneratedTorrent TorrentGenerator::generate(std::uint64_t index) const {
  Rng rng(splitmix64(seed_ ^ splitmix64(index ^ 0x7465'7374'6e65'7400ull)));
  GeneratedTorrent t;
  t.index = index;

  // Kind and layout: the first six cover every combination, the rest follow the shares.
  if (index < 6) {
    t.kind = static_cast<TorrentKind>(index / 2);
    t.multi_file = index % 2 == 1;
  } else {
    const double k = unit(rng);
    t.kind = k < config_.v2_share                          ? TorrentKind::V2
             : k < config_.v2_share + config_.hybrid_share ? TorrentKind::Hybrid
                                                           : TorrentKind::V1;
    t.multi_file = rng.chance(config_.multi_file_share);
  }
  const bool unicode = index == 3 || index == 4 || (index >= 6 && rng.chance(config_.unicode_share));

  Draft d;
  const CategoryFn fn = unicode ? choose(rng, kUnicode, t.multi_file) : choose(rng, kLatin, t.multi_file);
  fn(rng, t.multi_file, d);
  if (d.files.size() > std::max<std::size_t>(1, config_.max_files))
    d.files.resize(std::max<std::size_t>(1, config_.max_files));
  if (t.multi_file) {
    dedupe(d.files);
    // The dict's order is the v2 tree's order (dict keys sorted byte-wise, depth first), which
    // is the lexicographic order of the component lists; v1 lists use it too, as creators do.
    std::sort(d.files.begin(), d.files.end(),
              [](const GeneratedFile& a, const GeneratedFile& b) { return a.components < b.components; });
  }
  for (auto& f : d.files) {
    f.path = t.multi_file ? join(f.components) : d.name;
    t.total_bytes += f.length;
  }
  t.name = std::move(d.name);
  t.files = std::move(d.files);
  t.piece_length = choose_piece_length(rng, t.total_bytes);

  const bool has_v1 = t.kind != TorrentKind::V2;
  const bool has_v2 = t.kind != TorrentKind::V1;
  const bool pads = t.kind == TorrentKind::Hybrid;
  using bencode::Item;
  Item::Dict info;
  info.emplace("name", Item(t.name));
  info.emplace("piece length", Item(t.piece_length));
  if (has_v1) {
    std::int64_t v1_total = 0;
    if (!t.multi_file) {
      info.emplace("length", Item(t.files.front().length));
      v1_total = t.files.front().length;
    } else {
      Item::List list;
      for (std::size_t i = 0; i < t.files.size(); ++i) {
        const auto& f = t.files[i];
        Item::List path;
        for (const auto& c : f.components) path.emplace_back(c);
        Item::Dict entry;
        entry.emplace("length", Item(f.length));
        entry.emplace("path", Item(std::move(path)));
        list.emplace_back(std::move(entry));
        v1_total += f.length;
        // BEP-47: a hybrid aligns each file but the last to a piece boundary, as libtorrent does.
        const auto rem = f.length % t.piece_length;
        if (pads && i + 1 < t.files.size() && rem != 0) {
          const auto pad = t.piece_length - rem;
          Item::Dict p;
          p.emplace("attr", Item("p"));
          p.emplace("length", Item(pad));
          p.emplace("path", Item(Item::List{Item(".pad"), Item(std::to_string(pad))}));
          list.emplace_back(std::move(p));
          v1_total += pad;
        }
      }
      info.emplace("files", Item(std::move(list)));
    }
    const auto pieces = static_cast<std::size_t>((v1_total + t.piece_length - 1) / t.piece_length);
    info.emplace("pieces", Item(random_bytes(rng, pieces * 20)));
  }
  if (has_v2) {
    info.emplace("meta version", Item(2));
    Item tree{Item::Dict{}};
    for (const auto& f : t.files) {
      Item* node = &tree;
      for (const auto& c : f.components) node = &(*node)[c];
      Item::Dict leaf;
      leaf.emplace("length", Item(f.length));
      auto root = random_bytes(rng, 32);
      root[0] = static_cast<char>(root[0] | 1);  // never all zero
      leaf.emplace("pieces root", Item(std::move(root)));
      (*node)[""] = Item(std::move(leaf));
    }
    info.emplace("file tree", std::move(tree));
  }
  t.info = Item(std::move(info)).encode();
  const auto h = metainfo::hash_info(t.info);
  if (has_v1) t.v1 = h.v1;
  if (has_v2) t.v2 = h.v2;
  return t;
}

Result<void, std::string> verify(const GeneratedTorrent& t) {
  const auto fail = [&](const std::string& what) {
    return Unexpected{"generated torrent " + std::to_string(t.index) + " (" + t.kind_name() + ", '" + t.name +
                      "'): " + what};
  };
  auto parsed = metainfo::parse_info_dict(t.info);
  if (!parsed) {
    return fail("parse_info_dict refused it: " + std::string(parsed.error().reason()) + " at '" +
                std::string(parsed.error().field) + "' offset " + std::to_string(parsed.error().offset));
  }
  const auto& p = *parsed;
  const auto want_version = t.kind == TorrentKind::V1   ? metainfo::MetaVersion::V1
                            : t.kind == TorrentKind::V2 ? metainfo::MetaVersion::V2
                                                        : metainfo::MetaVersion::Hybrid;
  if (p.version != want_version) return fail("parsed as another version");
  if (p.v1 != t.v1) return fail("v1 hash differs");
  if (p.v2 != t.v2) return fail("v2 hash differs");
  if (p.name != t.name) return fail("name sanitised to '" + p.name + "'");
  if (p.piece_length != t.piece_length) return fail("piece length differs");
  if (p.total_size != t.total_bytes) return fail("total size differs");
  if (p.single_file == t.multi_file) return fail("single/multi-file layout differs");
  if (p.files.size() != t.files.size()) return fail("file count differs");
  for (std::size_t i = 0; i < t.files.size(); ++i) {
    if (p.files[i].path != t.files[i].path)
      return fail("file " + std::to_string(i) + " path '" + p.files[i].path + "'");
    if (p.files[i].length != t.files[i].length) return fail("file " + std::to_string(i) + " length differs");
  }
  if (t.kind == TorrentKind::Hybrid && t.multi_file) {
    std::int64_t pads = 0;
    for (std::size_t i = 0; i + 1 < t.files.size(); ++i) {
      const auto rem = t.files[i].length % t.piece_length;
      pads += rem == 0 ? 0 : t.piece_length - rem;
    }
    if (p.pad_size != pads) return fail("pad files differ");
  } else if (!p.pad_files.empty()) {
    return fail("unexpected pad files");
  }
  return {};
}

}  // namespace bitscrape::testnet
