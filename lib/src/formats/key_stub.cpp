// Placeholder until the key validators land.
#include "fwcert/scan/validator.hpp"
namespace fwcert {
void register_key_validators(ValidatorRegistry&) {}
}  // namespace fwcert
