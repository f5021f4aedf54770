// Placeholder until the archive validators land.
#include "fwcert/scan/validator.hpp"
namespace fwcert {
void register_archive_validators(ValidatorRegistry&) {}
}  // namespace fwcert
