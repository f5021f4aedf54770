#include "fwcert/core/crypto_providers.hpp"

#include <openssl/asn1.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

#include <climits>
#include <memory>
#include <string>
#include <vector>

namespace fwcert {

namespace {

// Held for the life of the process and unloaded at exit (before OpenSSL's own cleanup, which was registered first).
struct Providers {
  OSSL_PROVIDER* legacy = nullptr;
  OSSL_PROVIDER* fallback = nullptr;
  Providers() {
    legacy = OSSL_PROVIDER_load(nullptr, "legacy");
    fallback = OSSL_PROVIDER_load(nullptr, "default");
    ERR_clear_error();
  }
  ~Providers() {
    if (legacy) OSSL_PROVIDER_unload(legacy);
    if (fallback) OSSL_PROVIDER_unload(fallback);
  }
  Providers(const Providers&) = delete;
  Providers& operator=(const Providers&) = delete;
};

// Never freed: like the default context, it lives as long as the process.
struct StructureOnly {
  OSSL_LIB_CTX* ctx = nullptr;
  StructureOnly() {
    ctx = OSSL_LIB_CTX_new();
    // Loading any provider explicitly stops the context from loading "default" on its first fetch.
    if (ctx && !OSSL_PROVIDER_load(ctx, "null")) {
      OSSL_LIB_CTX_free(ctx);
      ctx = nullptr;
    }
    ERR_clear_error();
  }
};

// One per thread, never copied: the context writes each key it decodes into `out`.
struct SpkiDecoder {
  EVP_PKEY* out = nullptr;
  OSSL_DECODER_CTX* ctx = nullptr;
  SpkiDecoder() {
    load_crypto_providers();
    ctx = OSSL_DECODER_CTX_new_for_pkey(&out, "DER", "SubjectPublicKeyInfo", nullptr, EVP_PKEY_PUBLIC_KEY, nullptr,
                                        nullptr);
  }
  ~SpkiDecoder() { OSSL_DECODER_CTX_free(ctx); }
  SpkiDecoder(const SpkiDecoder&) = delete;
  SpkiDecoder& operator=(const SpkiDecoder&) = delete;
};

// Decoder contexts for private keys, one per (structure, key type), kept by each thread. Each context writes the key
// it decodes into its entry's `out`, so entries never move (they are held by pointer).
struct PrivateKeyDecoders {
  struct Entry {
    std::string structure, key_name;
    EVP_PKEY* out = nullptr;
    OSSL_DECODER_CTX* ctx = nullptr;
    ~Entry() { OSSL_DECODER_CTX_free(ctx); }
  };
  static constexpr size_t kMax = 16;  // a fixed set of names (see pkcs8_key_name) needs 15 at most
  std::vector<std::unique_ptr<Entry>> entries;

  Entry* get(const char* structure, const std::string& key_name) {
    for (auto& e : entries)
      if (e->structure == structure && e->key_name == key_name) return e->ctx ? e.get() : nullptr;
    if (entries.size() >= kMax) return nullptr;
    auto e = std::make_unique<Entry>();
    e->structure = structure;
    e->key_name = key_name;
    e->ctx = OSSL_DECODER_CTX_new_for_pkey(&e->out, "DER", structure, key_name.empty() ? nullptr : key_name.c_str(),
                                           EVP_PKEY_KEYPAIR, nullptr, nullptr);
    entries.push_back(std::move(e));
    return entries.back()->ctx ? entries.back().get() : nullptr;
  }
};

// True when the key holds its private part, for the key types this is known for; false for anything else.
bool has_private_part(const EVP_PKEY* k) {
  BIGNUM* bn = nullptr;
  bool found = false;
  switch (EVP_PKEY_get_base_id(k)) {
    case EVP_PKEY_RSA:
    case EVP_PKEY_RSA_PSS:
      found = EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_D, &bn) == 1;
      break;
    case EVP_PKEY_EC:
    case EVP_PKEY_DSA:
      found = EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_PRIV_KEY, &bn) == 1;
      break;
    case EVP_PKEY_ED25519:
    case EVP_PKEY_ED448:
    case EVP_PKEY_X25519:
    case EVP_PKEY_X448: {
      size_t n = 0;
      found = EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PRIV_KEY, nullptr, 0, &n) == 1 && n > 0;
      break;
    }
    default: break;
  }
  BN_clear_free(bn);
  return found;
}

thread_local size_t reused_decodes = 0;

// Decodes with the thread's context for (structure, key_name); nullptr unless that gives a key with a private part.
EVP_PKEY* decode_reused(const char* structure, const std::string& key_name, const unsigned char* der, size_t len) {
  thread_local PrivateKeyDecoders decoders;
  PrivateKeyDecoders::Entry* e = decoders.get(structure, key_name);
  if (!e) return nullptr;
  e->out = nullptr;
  const unsigned char* p = der;
  size_t left = len;
  const bool ok = OSSL_DECODER_from_data(e->ctx, &p, &left) == 1;
  EVP_PKEY* key = e->out;
  e->out = nullptr;
  if (ok && key && has_private_part(key)) {
    ++reused_decodes;
    return key;
  }
  EVP_PKEY_free(key);
  return nullptr;
}

struct P8Free {
  void operator()(PKCS8_PRIV_KEY_INFO* p) const { PKCS8_PRIV_KEY_INFO_free(p); }
};
using P8Ptr = std::unique_ptr<PKCS8_PRIV_KEY_INFO, P8Free>;

// True when a DER or BER PrivateKeyInfo starts with version 0 or 1 in minimal form (RFC 5958). OpenSSL 3.5 and later
// refuse other versions before their decoders run, 3.0 does not: such keys always take the call itself.
bool pkcs8_version_0_or_1(const unsigned char* d, size_t n) {
  if (n < 2 || d[0] != 0x30) return false;
  size_t i = 2;
  if (d[1] & 0x80) {
    const size_t k = d[1] & 0x7f;
    if (k == 0 || k > 4) return false;  // indefinite length, or more than 4 GiB
    i += k;
  }
  return n >= i + 3 && d[i] == 0x02 && d[i + 1] == 0x01 && (d[i + 2] == 0 || d[i + 2] == 1);
}

// The key type name OpenSSL's decoders take for a PKCS#8 key ("rsaEncryption", "id-ecPublicKey", ...: OBJ_obj2txt, as
// OpenSSL's own calls do), for the algorithms has_private_part knows only; "" for any other. So the names, and the
// contexts a thread keeps, are a fixed set whatever OIDs the input holds.
std::string pkcs8_key_name(const PKCS8_PRIV_KEY_INFO* p8) {
  const ASN1_OBJECT* alg = nullptr;
  if (PKCS8_pkey_get0(&alg, nullptr, nullptr, nullptr, p8) != 1 || alg == nullptr) return {};
  switch (OBJ_obj2nid(alg)) {
    case NID_rsaEncryption:
    case NID_rsassaPss:
    case NID_X9_62_id_ecPublicKey:
    case NID_dsa:
    case NID_ED25519:
    case NID_ED448:
    case NID_X25519:
    case NID_X448: break;
    default: return {};
  }
  char name[50];  // OpenSSL's own buffer for it (OSSL_MAX_NAME_SIZE); these names are far shorter
  const int n = OBJ_obj2txt(name, sizeof name, alg, 0);
  return n > 0 && static_cast<size_t>(n) < sizeof name ? std::string(name, static_cast<size_t>(n)) : std::string();
}

const char* traditional_name(int key_type) {
  switch (key_type) {
    case EVP_PKEY_RSA: return "RSA";
    case EVP_PKEY_EC: return "EC";
    case EVP_PKEY_DSA: return "DSA";
    default: return nullptr;
  }
}

}  // namespace

EVP_PKEY* decode_private_key(const unsigned char* der, size_t len, int key_type) {
  if (der == nullptr || len == 0 || len > static_cast<size_t>(LONG_MAX)) return nullptr;
  const char* type_name = traditional_name(key_type);
  load_crypto_providers();  // before the mark: the first load clears the error queue
  ERR_set_mark();
  EVP_PKEY* key = nullptr;
  if (type_name != nullptr || key_type == EVP_PKEY_NONE) {
    // As d2i_PrivateKey does: a PKCS#8 PrivateKeyInfo is read as one, anything else as the type's own encoding.
    const unsigned char* p = der;
    P8Ptr p8(d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(len)));
    if (!p8) {
      key = decode_reused("type-specific", type_name ? type_name : "", der, len);
    } else if (pkcs8_version_0_or_1(der, len)) {
      const std::string known = pkcs8_key_name(p8.get());  // "" for the algorithms left to the call itself
      if (!known.empty()) key = decode_reused("PrivateKeyInfo", type_name ? type_name : known, der, len);
    }
  }
  if (!key) {
    const unsigned char* p = der;
    key = key_type == EVP_PKEY_NONE ? d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(len))
                                    : d2i_PrivateKey(key_type, nullptr, &p, static_cast<long>(len));
  }
  ERR_pop_to_mark();
  return key;
}

EVP_PKEY* decode_pkcs8_private_key(const unsigned char* der, size_t len) {
  if (der == nullptr || len == 0 || len > static_cast<size_t>(LONG_MAX)) return nullptr;
  load_crypto_providers();  // before the mark: the first load clears the error queue
  ERR_set_mark();
  const unsigned char* p = der;
  P8Ptr p8(d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(len)));
  EVP_PKEY* key = nullptr;
  if (p8) {
    // EVP_PKCS82PKEY decodes the structure's own DER encoding, not the input's bytes: so does this.
    unsigned char* enc = nullptr;
    const int n = i2d_PKCS8_PRIV_KEY_INFO(p8.get(), &enc);
    const std::string name = pkcs8_key_name(p8.get());
    if (n > 0 && !name.empty() && pkcs8_version_0_or_1(enc, static_cast<size_t>(n)))
      key = decode_reused("PrivateKeyInfo", name, enc, static_cast<size_t>(n));
    OPENSSL_clear_free(enc, n > 0 ? static_cast<size_t>(n) : 0);
    if (!key) key = EVP_PKCS82PKEY(p8.get());
  }
  ERR_pop_to_mark();
  return key;
}

size_t reused_private_key_decodes() { return reused_decodes; }

EVP_PKEY* decode_spki(const unsigned char* der, size_t len) {
  thread_local SpkiDecoder d;
  if (!d.ctx || der == nullptr || len == 0) return nullptr;
  d.out = nullptr;
  const unsigned char* p = der;
  size_t left = len;
  ERR_set_mark();
  const bool ok = OSSL_DECODER_from_data(d.ctx, &p, &left) == 1;
  ERR_pop_to_mark();
  EVP_PKEY* key = d.out;
  d.out = nullptr;
  if (!ok) {
    EVP_PKEY_free(key);
    return nullptr;
  }
  return key;
}

X509* d2i_x509_without_key(const unsigned char** in, long len) {
  static const StructureOnly bare;  // thread-safe initialisation
  if (!bare.ctx) return nullptr;
  // The ASN.1 decoding d2i_X509 does, in our library context; the test compares the two on generated, damaged and
  // corpus certificates.
  return reinterpret_cast<X509*>(ASN1_item_d2i_ex(nullptr, in, len, ASN1_ITEM_rptr(X509), bare.ctx, nullptr));
}

bool load_crypto_providers() {
  static const Providers providers;  // thread-safe initialisation: concurrent first callers wait for it
  return providers.legacy != nullptr;
}

}  // namespace fwcert
