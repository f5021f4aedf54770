// OpenSSL providers for the whole process: "legacy" (RC2-40, RC4, DES: what pre-3.0 OpenSSL and Windows wrote into
// PKCS#12 files) and "default". Loading any provider explicitly stops OpenSSL from loading "default" implicitly, so
// a thread that fetches an algorithm while another is loading them can find no SHA-256 at all. Every entry point
// that touches OpenSSL calls this first: the first call loads both (other callers wait), later calls cost nothing.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <cstddef>

namespace fwcert {

// True when the legacy provider is available.
bool load_crypto_providers();

// d2i_X509(nullptr, in, len) without decoding the public key: the same ASN.1 decoding (the tests compare the two on
// generated, damaged and corpus certificates), but X509_get0_pubkey returns NULL on the result. Decoding the key (a
// search of OpenSSL 3.0's decoders) is most of the cost of a certificate: about 90 us against 7 us. The certificate
// is read in a library context with no algorithms (only OpenSSL's "null" provider), shared by all threads. Returns
// NULL when d2i_X509 would, and when that context cannot be made.
X509* d2i_x509_without_key(const unsigned char** in, long len);

// The key in a DER SubjectPublicKeyInfo, decoded as d2i_X509 decodes a certificate's key (OpenSSL 3.0's decoders,
// "DER" / "SubjectPublicKeyInfo", any key type), or nullptr. Making a decoder context searches every provider's
// decoders and key managers, about 75 us; each thread makes one and reuses it, so a key costs 9-17 us. The caller owns
// the key.
EVP_PKEY* decode_spki(const unsigned char* der, size_t len);

// The private key d2i_PrivateKey(key_type, ...) reads from `der` (key_type EVP_PKEY_RSA, EVP_PKEY_EC or EVP_PKEY_DSA:
// the traditional encodings or PKCS#8), or d2i_AutoPrivateKey for EVP_PKEY_NONE; nullptr where that call gives
// nothing. Those calls make an OpenSSL 3.0 decoder context for every key: 110-400 us a key (RSA and EC, traditional
// and PKCS#8). Here each thread keeps the contexts it made (one per structure and key type, at most 15) and reuses
// them: 13-38 us a key. The reused context's key is taken only when it holds a private part of a known type (RSA,
// RSA-PSS, EC, DSA, EdDSA, X25519/X448); anything else goes to the call above, so what is accepted is never more than
// before. So do PKCS#8 keys of other algorithms, or of a version other than 0 or 1 (newer OpenSSL refuses those in
// its decoder step). This call's own errors are dropped (OpenSSL's d2i_AutoPrivateKey may also clear what was queued
// before it). The caller owns the key.
EVP_PKEY* decode_private_key(const unsigned char* der, size_t len, int key_type);

// The key in a DER PKCS#8 PrivateKeyInfo, as d2i_PKCS8_PRIV_KEY_INFO and then EVP_PKCS82PKEY read it, or nullptr;
// with the same reused contexts (and the same fallback to those calls) as decode_private_key.
EVP_PKEY* decode_pkcs8_private_key(const unsigned char* der, size_t len);

// How many private keys this thread has read with a reused context (not the fallback): for tests.
size_t reused_private_key_decodes();

}  // namespace fwcert
