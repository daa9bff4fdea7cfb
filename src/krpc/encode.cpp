// encode(): Message -> canonical bencode. Keys are written in ascending raw-byte order, which
// is what bencode::Writer checks; see codec.hpp for the contract.
#include "krpc/codec.hpp"

#include "bencode/encoder.hpp"
#include "krpc/bep33.hpp"

namespace bitscrape::krpc {
namespace {

using bencode::Writer;

bool valid_tid(std::string_view t) noexcept {
  return t.size() >= kMinTransactionIdSize && t.size() <= kMaxTransactionIdSize;
}

void write_want(Writer& w, const Want& want) {
  if (!want.n4 && !want.n6) return;
  w.key("want").begin_list();
  if (want.n4) w.string("n4");
  if (want.n6) w.string("n6");
  w.end();
}

void write_flag(Writer& w, std::string_view key, bool on) {
  if (on) w.entry(key, std::int64_t{1});
}

// Closes the message: checks the Writer and rolls `out` back on failure.
Result<void, EncodeError> finish(const Writer& w, std::string& out, std::size_t start) {
  if (!w.ok() || w.depth() != 0) {
    out.resize(start);
    return Unexpected{EncodeError::Internal};
  }
  return {};
}

Result<void, EncodeError> check_common(std::string_view tid, std::string_view version) noexcept {
  if (!valid_tid(tid)) return Unexpected{EncodeError::BadTransactionId};
  if (version.size() > kMaxVersionSize) return Unexpected{EncodeError::BadVersion};
  return {};
}

}  // namespace

Result<void, EncodeError> encode(const Query& q, std::string& out) {
  if (auto c = check_common(q.tid, q.version); !c) return c;
  if (const auto* ap = std::get_if<AnnouncePeerArgs>(&q.args)) {
    if (ap->token.empty() || ap->token.size() > kMaxTokenSize) return Unexpected{EncodeError::BadToken};
    if (ap->port == 0 && !ap->implied_port) return Unexpected{EncodeError::BadPort};
  }

  const std::size_t start = out.size();
  Writer w(out);
  w.begin_dict();
  w.key("a").begin_dict();
  w.entry("id", q.id.view());
  switch (q.method()) {
    case Method::Ping:
      break;
    case Method::FindNode: {
      const auto& x = std::get<FindNodeArgs>(q.args);
      w.entry("target", x.target.view());
      write_want(w, x.want);
      break;
    }
    case Method::GetPeers: {
      const auto& x = std::get<GetPeersArgs>(q.args);
      w.entry("info_hash", x.info_hash.view());
      write_flag(w, "noseed", x.noseed);
      write_flag(w, "scrape", x.scrape);
      write_want(w, x.want);
      break;
    }
    case Method::AnnouncePeer: {
      const auto& x = std::get<AnnouncePeerArgs>(q.args);
      write_flag(w, "implied_port", x.implied_port);
      w.entry("info_hash", x.info_hash.view());
      // BEP-5 always sends `port`, even with implied_port.
      w.entry("port", std::int64_t{x.port});
      write_flag(w, "seed", x.seed);
      w.entry("token", x.token);
      break;
    }
    case Method::SampleInfohashes: {
      const auto& x = std::get<SampleInfohashesArgs>(q.args);
      w.entry("target", x.target.view());
      write_want(w, x.want);
      break;
    }
  }
  w.end();
  w.entry("q", method_name(q.method()));
  write_flag(w, "ro", q.read_only);
  w.entry("t", q.tid);
  if (!q.version.empty()) w.entry("v", q.version);
  w.entry("y", "q");
  w.end();
  return finish(w, out, start);
}

Result<void, EncodeError> encode(const Response& r, std::string& out) {
  if (auto c = check_common(r.tid, r.version); !c) return c;
  if (r.token && r.token->size() > kMaxTokenSize) return Unexpected{EncodeError::BadToken};
  if (r.interval && (*r.interval < 0 || *r.interval > kMaxSampleInterval)) {
    return Unexpected{EncodeError::BadInterval};
  }
  if (r.num && *r.num < 0) return Unexpected{EncodeError::BadNum};
  if ((r.bf_seeds && r.bf_seeds->size() != kBloomFilterSize) ||
      (r.bf_peers && r.bf_peers->size() != kBloomFilterSize)) {
    return Unexpected{EncodeError::BadBloomFilter};
  }
  if (r.values) {
    for (const Endpoint& ep : *r.values) {
      if (ep.port == 0) return Unexpected{EncodeError::BadValues};
    }
  }

  // Every answered query ends here, so replies skip the Writer: the keys are literals written in
  // canonical (raw-byte) order by construction, which the round-trip tests check for every
  // combination of fields against a strict decoder.
  using bencode::append_int_digits;
  using bencode::append_string;
  char peer[kMaxCompactPeerSize];
  out.push_back('d');
  if (r.ip) {
    out.append("2:ip");
    append_string(out, std::string_view(peer, write_compact_peer(*r.ip, peer)));
  }
  out.append("1:rd");
  if (r.bf_peers) append_string(out.append("4:BFpe"), *r.bf_peers);
  if (r.bf_seeds) append_string(out.append("4:BFsd"), *r.bf_seeds);
  append_string(out.append("2:id"), r.id.view());
  if (r.interval) {
    append_int_digits(out.append("8:intervali"), *r.interval);
    out.push_back('e');
  }
  if (r.nodes) append_string(out.append("5:nodes"), r.nodes->bytes());
  if (r.nodes6) append_string(out.append("6:nodes6"), r.nodes6->bytes());
  if (r.num) {
    append_int_digits(out.append("3:numi"), *r.num);
    out.push_back('e');
  }
  if (r.samples) append_string(out.append("7:samples"), r.samples->bytes());
  if (r.token) append_string(out.append("5:token"), *r.token);
  if (r.values) {
    out.append("6:valuesl");
    for (const Endpoint& ep : *r.values)
      append_string(out, std::string_view(peer, write_compact_peer(ep, peer)));
    out.push_back('e');
  }
  out.push_back('e');
  append_string(out.append("1:t"), r.tid);
  if (!r.version.empty()) append_string(out.append("1:v"), r.version);
  out.append("1:y1:re");
  return {};
}

Result<void, EncodeError> encode(const ErrorMessage& e, std::string& out) {
  if (auto c = check_common(e.tid, e.version); !c) return c;
  const std::size_t start = out.size();
  Writer w(out);
  w.begin_dict();
  w.key("e").begin_list().integer(e.code).string(e.message).end();
  w.entry("t", e.tid);
  if (!e.version.empty()) w.entry("v", e.version);
  w.entry("y", "e");
  w.end();
  return finish(w, out, start);
}

Result<void, EncodeError> encode(const Message& m, std::string& out) {
  return std::visit([&out](const auto& x) { return encode(x, out); }, m);
}

std::string_view to_string(EncodeError e) noexcept {
  switch (e) {
    case EncodeError::BadTransactionId:
      return "transaction id must be 1..16 bytes";
    case EncodeError::BadVersion:
      return "version too long";
    case EncodeError::BadToken:
      return "invalid token length";
    case EncodeError::BadPort:
      return "port 0 without implied_port";
    case EncodeError::BadValues:
      return "values entry with port 0";
    case EncodeError::BadInterval:
      return "interval outside 0..21600";
    case EncodeError::BadNum:
      return "negative num";
    case EncodeError::BadBloomFilter:
      return "bloom filter not 256 bytes";
    case EncodeError::Internal:
      return "internal encoder error";
  }
  return "unknown error";
}

}  // namespace bitscrape::krpc
