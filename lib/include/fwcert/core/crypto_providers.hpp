// OpenSSL providers for the whole process: "legacy" (RC2-40, RC4, DES: what pre-3.0 OpenSSL and Windows wrote into
// PKCS#12 files) and "default". Loading any provider explicitly stops OpenSSL from loading "default" implicitly, so
// a thread that fetches an algorithm while another is loading them can find no SHA-256 at all. Every entry point
// that touches OpenSSL calls this first: the first call loads both (other callers wait), later calls cost nothing.
#pragma once

namespace fwcert {

// True when the legacy provider is available.
bool load_crypto_providers();

}  // namespace fwcert
