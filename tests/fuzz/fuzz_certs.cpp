// Certificates, keys and keystores straight from bytes: DER X.509, PEM/DER/OpenSSH private keys, PKCS#12, JKS, and
// the ASN.1 time parser on the raw text.
#include <string>

#include "fuzz_common.hpp"
#include "fwcert/certs/x509.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto v = fwfuzz::view(data, size);
  auto c = fwcert::parse_certificate(v);
  if (c.ok()) {
    std::optional<int64_t> days_left;
    (void)fwcert::judge_certificate(c.value(), 1767225600, 90, days_left);
    (void)fwcert::certificate_anomalies(c.value());
  }
  (void)fwcert::parse_private_key(v);
  (void)fwcert::read_pkcs12(v, {"", "password"});
  (void)fwcert::read_jks(v);
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)fwcert::parse_asn1_time("UTCTime", text);
  (void)fwcert::parse_asn1_time("GeneralizedTime", text);
  (void)fwcert::parse_user_time(text);
  return 0;
}
