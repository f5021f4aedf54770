// Placeholder until the X.509 module lands.
#include "fwcert/certs/x509.hpp"
namespace fwcert {
Result<Certificate> parse_certificate(ByteView) { return make_error(0, "not implemented"); }
TimeValue parse_asn1_time(const std::string&, const std::string&) { return {}; }
CertStatus judge_certificate(const Certificate&, int64_t, int, std::optional<int64_t>&) { return CertStatus::InvalidDate; }
std::vector<std::string> certificate_anomalies(const Certificate&) { return {}; }
std::string rfc3339(int64_t) { return {}; }
std::optional<int64_t> parse_user_time(const std::string&) { return std::nullopt; }
std::optional<PrivateKey> parse_private_key(ByteView) { return std::nullopt; }
const std::vector<std::string>& default_pkcs12_passwords() { static std::vector<std::string> v{""}; return v; }
KeystoreContents read_pkcs12(ByteView, const std::vector<std::string>&) { return {}; }
KeystoreContents read_jks(ByteView) { return {}; }
}  // namespace fwcert
