#include "common/hash.hpp"

#include <openssl/evp.h>

#include <cstdlib>

namespace bitscrape {
namespace {
// OpenSSL 3 looks a legacy EVP_sha1()/EVP_sha256() up in its provider store (under a global
// read-write lock) on every EVP_DigestInit; an explicitly fetched EVP_MD skips that. Fetched once
// per process and kept: a DHT node hashes a token for every get_peers it answers.
const EVP_MD* fetched(const char* name) {
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  if (md == nullptr) std::abort();  // the default provider always has SHA-1 and SHA-256
  return md;
}
const EVP_MD* md_sha1() {
  static const EVP_MD* const md = fetched("SHA1");
  return md;
}
const EVP_MD* md_sha256() {
  static const EVP_MD* const md = fetched("SHA256");
  return md;
}

struct EvpCtx {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const EVP_MD* md;
  explicit EvpCtx(const EVP_MD* m) : md(m) { reset(); }
  void reset() {
    if (ctx == nullptr || EVP_DigestInit_ex2(ctx, md, nullptr) != 1) std::abort();
  }
  ~EvpCtx() { EVP_MD_CTX_free(ctx); }
  EvpCtx(const EvpCtx&) = delete;
  EvpCtx& operator=(const EvpCtx&) = delete;
  void update(std::string_view d) { EVP_DigestUpdate(ctx, d.data(), d.size()); }
  template <std::size_t N>
  std::array<std::uint8_t, N> finish() {
    std::array<std::uint8_t, N> out{};
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, out.data(), &len);
    reset();  // ready for the next message
    return out;
  }
};
}  // namespace

Sha1Digest sha1(std::string_view data) {
  EvpCtx c(md_sha1());
  c.update(data);
  return c.finish<20>();
}

Sha256Digest sha256(std::string_view data) {
  EvpCtx c(md_sha256());
  c.update(data);
  return c.finish<32>();
}

struct Sha1::Ctx : EvpCtx {
  Ctx() : EvpCtx(md_sha1()) {}
};
Sha1::Sha1() : ctx_(std::make_unique<Ctx>()) {}
Sha1::~Sha1() = default;
void Sha1::update(std::string_view data) {
  ctx_->update(data);
}
Sha1Digest Sha1::finish() {
  return ctx_->finish<20>();
}
Sha1Digest Sha1::digest(std::initializer_list<std::string_view> parts) {
  ctx_->reset();
  for (const auto p : parts) ctx_->update(p);
  return ctx_->finish<20>();
}

struct Sha256::Ctx : EvpCtx {
  Ctx() : EvpCtx(md_sha256()) {}
};
Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {}
Sha256::~Sha256() = default;
void Sha256::update(std::string_view data) {
  ctx_->update(data);
}
Sha256Digest Sha256::finish() {
  return ctx_->finish<32>();
}

}  // namespace bitscrape
