// Placeholder until the firmware validators land.
#include "fwcert/scan/validator.hpp"
namespace fwcert {
void register_firmware_validators(ValidatorRegistry&) {}
}  // namespace fwcert
