// Placeholder until the cramfs/uimage validators land.
#include "fwcert/scan/validator.hpp"
namespace fwcert {
void register_cramfs_uimage_validators(ValidatorRegistry&) {}
}  // namespace fwcert
