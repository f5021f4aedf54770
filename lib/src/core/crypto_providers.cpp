#include "fwcert/core/crypto_providers.hpp"

#include <openssl/err.h>
#include <openssl/provider.h>

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

}  // namespace

bool load_crypto_providers() {
  static const Providers providers;  // thread-safe initialisation: concurrent first callers wait for it
  return providers.legacy != nullptr;
}

}  // namespace fwcert
