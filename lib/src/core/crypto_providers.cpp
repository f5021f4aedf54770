#include "fwcert/core/crypto_providers.hpp"

#include <openssl/asn1.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

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

}  // namespace

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
