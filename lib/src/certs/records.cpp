// Record helpers.
#include "fwcert/certs/roles.hpp"
#include "fwcert/certs/x509.hpp"

namespace fwcert {
std::string_view to_string(CertStatus s) {
  switch (s) {
    case CertStatus::Valid: return "valid";
    case CertStatus::Expiring: return "expiring";
    case CertStatus::Expired: return "expired";
    case CertStatus::NotYetValid: return "not-yet-valid";
    case CertStatus::InvalidDate: return "invalid-date";
  }
  return "invalid-date";
}
}  // namespace fwcert
