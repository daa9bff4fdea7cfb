// parse(): datagram -> Message. See codec.hpp for the contract.
#include "krpc/codec.hpp"

#include "krpc/bep33.hpp"

#include <array>
#include <cstring>

namespace bitscrape::krpc {
namespace {

using bencode::Value;

// Keys we interpret in one dict, their dotted names for errors, and the values found.
template <std::size_t N>
struct KeySet {
  std::array<std::string_view, N> keys;
  std::array<std::string_view, N> fields;
};

constexpr KeySet<9> kTopKeys{{"t", "y", "q", "a", "r", "e", "v", "ip", "ro"},
                             {"t", "y", "q", "a", "r", "e", "v", "ip", "ro"}};
enum Top : std::size_t { kT, kY, kQ, kA, kR, kE, kV, kIp, kRo };

constexpr KeySet<10> kArgKeys{
    {"id", "target", "info_hash", "token", "port", "implied_port", "seed", "want", "scrape", "noseed"},
    {"a.id", "a.target", "a.info_hash", "a.token", "a.port", "a.implied_port", "a.seed", "a.want", "a.scrape",
     "a.noseed"}};
enum Arg : std::size_t {
  kId,
  kTarget,
  kInfoHash,
  kToken,
  kPort,
  kImpliedPort,
  kSeed,
  kWant,
  kScrape,
  kNoseed
};

constexpr KeySet<10> kRespKeys{
    {"id", "nodes", "nodes6", "values", "token", "samples", "interval", "num", "BFsd", "BFpe"},
    {"r.id", "r.nodes", "r.nodes6", "r.values", "r.token", "r.samples", "r.interval", "r.num", "r.BFsd",
     "r.BFpe"}};
enum Resp : std::size_t {
  kRId,
  kRNodes,
  kRNodes6,
  kRValues,
  kRToken,
  kRSamples,
  kRInterval,
  kRNum,
  kRBFsd,
  kRBFpe
};

template <std::size_t N>
struct Found {
  std::array<Value, N> v{};
  std::size_t dup = N;  // index of the first key seen twice, N when none
  std::size_t dup_offset = 0;
  Value operator[](std::size_t i) const noexcept { return v[i]; }
};

// One pass over `dict`: the first value of every key in `ks`; unknown keys are skipped.
template <std::size_t N>
Found<N> collect(Value dict, const KeySet<N>& ks) noexcept {
  Found<N> f;
  for (const auto& [key, value] : dict.entries()) {
    for (std::size_t i = 0; i < N; ++i) {
      const std::string_view k = ks.keys[i];  // never empty
      // Length and first byte first: most candidates differ there, without a memcmp call.
      if (key.size() != k.size() || key[0] != k[0] || key != k) continue;
      if (f.v[i]) {
        if (f.dup == N) {
          f.dup = i;
          f.dup_offset = value.offset();
        }
      } else {
        f.v[i] = value;
      }
      break;
    }
  }
  return f;
}

class Parser {
 public:
  ParseError err;
  Diagnostics diag;

  bool fail(ParseErrorCode c, std::string_view field, std::size_t offset) noexcept {
    err.code = c;
    err.field = field;
    err.offset = offset;
    return false;
  }

  template <std::size_t N>
  bool no_dup(const Found<N>& f, const KeySet<N>& ks) noexcept {
    if (f.dup == N) return true;
    return fail(ParseErrorCode::DuplicateKey, ks.fields[f.dup], f.dup_offset);
  }

  // A required string; `parent` is where a missing key is reported.
  bool string(Value v, std::string_view field, std::size_t parent, std::string_view& out) noexcept {
    if (!v) return fail(ParseErrorCode::MissingField, field, parent);
    const auto s = v.as_string();
    if (!s) return fail(ParseErrorCode::WrongType, field, v.offset());
    out = *s;
    return true;
  }

  bool id20(Value v, std::string_view field, std::size_t parent, Id160& out) noexcept {
    std::string_view s;
    if (!string(v, field, parent, s)) return false;
    if (s.size() != Id160::kSize) return fail(ParseErrorCode::BadLength, field, v.offset());
    std::memcpy(out.bytes.data(), s.data(), Id160::kSize);
    return true;
  }

  // An optional integer flag: absent = false, any non-zero integer = true.
  bool flag(Value v, std::string_view field, bool& out) noexcept {
    out = false;
    if (!v) return true;
    const auto i = v.as_int();
    if (!i) return fail(ParseErrorCode::WrongType, field, v.offset());
    out = *i != 0;
    return true;
  }

  bool want(Value v, Want& out) noexcept {
    if (!v) return true;
    if (!v.is_list()) return fail(ParseErrorCode::WrongType, "a.want", v.offset());
    for (const Value item : v.items()) {
      const auto s = item.as_string();
      if (!s) continue;
      if (*s == "n4") out.n4 = true;
      if (*s == "n6") out.n6 = true;
    }
    return true;
  }

  void version(Value v, std::string_view& out) noexcept {
    if (!v) return;
    const auto s = v.as_string();
    if (!s || s->size() > kMaxVersionSize) {
      diag.version_ignored = true;
      return;
    }
    out = *s;
  }

  bool query(const Found<9>& top, Method m, Parsed& out);
  bool response(const Found<9>& top, Parsed& out);
  bool error(const Found<9>& top, Parsed& out);
};

bool Parser::query(const Found<9>& top, Method m, Parsed& out) {
  const Value a = top[kA];
  if (!a) return fail(ParseErrorCode::MissingField, "a", 0);
  if (!a.is_dict()) return fail(ParseErrorCode::WrongType, "a", a.offset());

  Query q;
  q.tid = err.tid;
  if (!flag(top[kRo], "ro", q.read_only)) return false;
  version(top[kV], q.version);

  const auto f = collect(a, kArgKeys);
  if (!no_dup(f, kArgKeys)) return false;
  const std::size_t at = a.offset();
  if (!id20(f[kId], "a.id", at, q.id)) return false;

  switch (m) {
    case Method::Ping:
      q.args = PingArgs{};
      break;
    case Method::FindNode: {
      FindNodeArgs x;
      if (!id20(f[kTarget], "a.target", at, x.target) || !want(f[kWant], x.want)) return false;
      q.args = x;
      break;
    }
    case Method::GetPeers: {
      GetPeersArgs x;
      if (!id20(f[kInfoHash], "a.info_hash", at, x.info_hash) || !want(f[kWant], x.want) ||
          !flag(f[kScrape], "a.scrape", x.scrape) || !flag(f[kNoseed], "a.noseed", x.noseed)) {
        return false;
      }
      q.args = x;
      break;
    }
    case Method::AnnouncePeer: {
      AnnouncePeerArgs x;
      if (!id20(f[kInfoHash], "a.info_hash", at, x.info_hash) ||
          !flag(f[kImpliedPort], "a.implied_port", x.implied_port) || !flag(f[kSeed], "a.seed", x.seed) ||
          !string(f[kToken], "a.token", at, x.token)) {
        return false;
      }
      if (x.token.empty() || x.token.size() > kMaxTokenSize) {
        return fail(ParseErrorCode::BadLength, "a.token", f[kToken].offset());
      }
      // BEP-5: with implied_port the source port is used and `port` is ignored; we accept it
      // absent or 0 then (it must still be a valid port number if present).
      const Value p = f[kPort];
      if (p) {
        const auto port = p.as_int();
        if (!port) return fail(ParseErrorCode::WrongType, "a.port", p.offset());
        if (*port < 0 || *port > 65535 || (*port == 0 && !x.implied_port)) {
          return fail(ParseErrorCode::BadValue, "a.port", p.offset());
        }
        x.port = static_cast<std::uint16_t>(*port);
      } else if (!x.implied_port) {
        return fail(ParseErrorCode::MissingField, "a.port", at);
      }
      q.args = x;
      break;
    }
    case Method::SampleInfohashes: {
      SampleInfohashesArgs x;
      if (!id20(f[kTarget], "a.target", at, x.target) || !want(f[kWant], x.want)) return false;
      q.args = x;
      break;
    }
  }
  out.message = q;
  return true;
}

bool Parser::response(const Found<9>& top, Parsed& out) {
  const Value r = top[kR];
  if (!r) return fail(ParseErrorCode::MissingField, "r", 0);
  if (!r.is_dict()) return fail(ParseErrorCode::WrongType, "r", r.offset());

  Response resp;
  resp.tid = err.tid;
  version(top[kV], resp.version);
  if (const Value ip = top[kIp]) {
    const auto s = ip.as_string();
    std::optional<Endpoint> ep;
    if (s) ep = decode_compact_peer(*s);
    if (ep) {
      resp.ip = ep;
    } else {
      diag.ip_ignored = true;
    }
  }

  const auto f = collect(r, kRespKeys);
  if (!no_dup(f, kRespKeys)) return false;
  const std::size_t at = r.offset();
  if (!id20(f[kRId], "r.id", at, resp.id)) return false;

  std::string_view s;
  if (const Value v = f[kRNodes]) {
    if (!string(v, "r.nodes", at, s)) return false;
    resp.nodes = NodeList::v4(s);
    if (!resp.nodes) return fail(ParseErrorCode::BadLength, "r.nodes", v.offset());
  }
  if (const Value v = f[kRNodes6]) {
    if (!string(v, "r.nodes6", at, s)) return false;
    resp.nodes6 = NodeList::v6(s);
    if (!resp.nodes6) return fail(ParseErrorCode::BadLength, "r.nodes6", v.offset());
  }
  if (const Value v = f[kRValues]) {
    if (!v.is_list()) return fail(ParseErrorCode::WrongType, "r.values", v.offset());
    resp.values = PeerValues::from_list(v);
    diag.values_skipped = static_cast<std::uint32_t>(resp.values->skipped());
  }
  if (const Value v = f[kRToken]) {
    if (!string(v, "r.token", at, s)) return false;
    if (s.size() > kMaxTokenSize) return fail(ParseErrorCode::BadLength, "r.token", v.offset());
    resp.token = s;
  }
  if (const Value v = f[kRSamples]) {
    if (!string(v, "r.samples", at, s)) return false;
    resp.samples = SampleList::from(s);
    if (!resp.samples) return fail(ParseErrorCode::BadLength, "r.samples", v.offset());
  }
  if (const Value v = f[kRInterval]) {
    const auto i = v.as_int();
    if (!i) return fail(ParseErrorCode::WrongType, "r.interval", v.offset());
    if (*i < 0) return fail(ParseErrorCode::BadValue, "r.interval", v.offset());
    if (*i > kMaxSampleInterval) diag.interval_clamped = true;
    resp.interval = *i > kMaxSampleInterval ? kMaxSampleInterval : *i;
  }
  if (const Value v = f[kRNum]) {
    const auto i = v.as_int();
    if (!i) return fail(ParseErrorCode::WrongType, "r.num", v.offset());
    if (*i < 0) return fail(ParseErrorCode::BadValue, "r.num", v.offset());
    resp.num = *i;
  }
  const auto bloom = [&](Value v, std::string_view field, std::optional<std::string_view>& dst) {
    if (!v) return true;
    std::string_view b;
    if (!string(v, field, at, b)) return false;
    if (b.size() != kBloomFilterSize) return fail(ParseErrorCode::BadLength, field, v.offset());
    dst = b;
    return true;
  };
  if (!bloom(f[kRBFsd], "r.BFsd", resp.bf_seeds) || !bloom(f[kRBFpe], "r.BFpe", resp.bf_peers)) return false;

  out.message = resp;
  return true;
}

bool Parser::error(const Found<9>& top, Parsed& out) {
  const Value e = top[kE];
  if (!e) return fail(ParseErrorCode::MissingField, "e", 0);
  if (!e.is_list()) return fail(ParseErrorCode::WrongType, "e", e.offset());

  ErrorMessage em;
  em.tid = err.tid;
  version(top[kV], em.version);
  const auto items = e.items();
  auto it = items.begin();
  if (it == items.end()) return fail(ParseErrorCode::MissingField, "e.code", e.offset());
  const auto code = (*it).as_int();
  if (!code) return fail(ParseErrorCode::WrongType, "e.code", (*it).offset());
  em.code = *code;
  ++it;
  if (it != items.end()) {
    const auto msg = (*it).as_string();
    if (!msg) return fail(ParseErrorCode::WrongType, "e.message", (*it).offset());
    em.message = *msg;
  }
  out.message = em;
  return true;
}

}  // namespace

// Only std::variant internals (std::get behind ok() checks, assignment of nothrow alternatives)
// have throwing paths here, and none can be taken.
// NOLINTNEXTLINE(bugprone-exception-escape)
Result<Parsed, ParseError> parse(std::string_view datagram, bencode::Document& doc,
                                 const ParseLimits& limits) noexcept {
  Parser p;
  // Cheap checks before any decoding.
  if (datagram.size() > limits.max_datagram) {
    p.fail(ParseErrorCode::TooLarge, {}, limits.max_datagram);
    return Unexpected{p.err};
  }
  if (datagram.empty() || datagram.front() != 'd') {
    p.fail(ParseErrorCode::NotADict, {}, 0);
    return Unexpected{p.err};
  }
  bencode::Limits bl;
  bl.max_depth = limits.max_depth;
  bl.max_tokens = limits.max_tokens;
  bl.max_size = limits.max_datagram;
  bl.strict = false;  // real clients send unsorted keys
  bl.allow_trailing = false;
  if (auto r = bencode::decode(datagram, doc, bl); !r) {
    p.err.bencode = r.error();
    p.fail(ParseErrorCode::NotBencode, {}, r.error().offset);
    return Unexpected{p.err};
  }
  const Value root = doc.root();
  const auto top = collect(root, kTopKeys);

  // The transaction id first: every later error can then carry it.
  std::string_view tid;
  if (!p.string(top[kT], "t", 0, tid)) return Unexpected{p.err};
  if (tid.size() < kMinTransactionIdSize || tid.size() > kMaxTransactionIdSize) {
    p.fail(ParseErrorCode::BadLength, "t", top[kT].offset());
    return Unexpected{p.err};
  }
  p.err.tid = tid;

  std::string_view y;
  if (!p.string(top[kY], "y", 0, y)) return Unexpected{p.err};
  Parsed out;
  std::optional<Method> method;
  if (y == "q") {
    p.err.is_query = true;
    p.err.reply_code = static_cast<std::int64_t>(ErrorCode::Protocol);
    std::string_view q;
    if (!p.string(top[kQ], "q", 0, q)) return Unexpected{p.err};
    method = method_from_name(q);
    if (!method) {
      p.err.reply_code = static_cast<std::int64_t>(ErrorCode::MethodUnknown);
      p.fail(ParseErrorCode::UnknownMethod, "q", top[kQ].offset());
      return Unexpected{p.err};
    }
    p.err.kind = kind_of(*method);
  } else if (y == "r") {
    p.err.kind = MessageKind::Response;
  } else if (y == "e") {
    p.err.kind = MessageKind::Error;
  } else {
    p.fail(ParseErrorCode::BadValue, "y", top[kY].offset());
    return Unexpected{p.err};
  }
  if (!p.no_dup(top, kTopKeys)) return Unexpected{p.err};

  bool ok = false;
  if (method) {
    ok = p.query(top, *method, out);
  } else if (p.err.kind == MessageKind::Response) {
    ok = p.response(top, out);
  } else {
    ok = p.error(top, out);
  }
  if (!ok) return Unexpected{p.err};
  out.kind = p.err.kind;
  out.diag = p.diag;
  return out;
}

std::string_view to_string(ParseErrorCode c) noexcept {
  switch (c) {
    case ParseErrorCode::TooLarge:
      return "datagram too large";
    case ParseErrorCode::NotADict:
      return "not a bencoded dictionary";
    case ParseErrorCode::NotBencode:
      return "malformed bencode";
    case ParseErrorCode::MissingField:
      return "missing field";
    case ParseErrorCode::WrongType:
      return "wrong type";
    case ParseErrorCode::BadLength:
      return "invalid length";
    case ParseErrorCode::BadValue:
      return "invalid value";
    case ParseErrorCode::DuplicateKey:
      return "duplicate key";
    case ParseErrorCode::UnknownMethod:
      return "unknown method";
  }
  return "unknown error";
}

ErrorMessage ParseError::reply() const noexcept {
  ErrorMessage e;
  e.tid = tid;
  e.code = reply_code;
  switch (code) {
    case ParseErrorCode::UnknownMethod:
      e.message = "Method Unknown";
      break;
    case ParseErrorCode::MissingField:
      e.message = "Protocol Error: missing argument";
      break;
    case ParseErrorCode::WrongType:
      e.message = "Protocol Error: argument of wrong type";
      break;
    case ParseErrorCode::BadLength:
      e.message = "Protocol Error: argument of invalid length";
      break;
    case ParseErrorCode::BadValue:
      e.message = "Protocol Error: invalid argument value";
      break;
    case ParseErrorCode::DuplicateKey:
      e.message = "Protocol Error: duplicate key";
      break;
    default:
      e.message = "Protocol Error";
      break;
  }
  return e;
}

}  // namespace bitscrape::krpc
