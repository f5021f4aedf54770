// Placeholder until the filesystem validators land.
#include "fwcert/scan/validator.hpp"
namespace fwcert {
void register_filesystem_validators(ValidatorRegistry&) {}
}  // namespace fwcert
