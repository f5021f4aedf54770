// Placeholder until the compression validators land.
#include "fwcert/scan/validator.hpp"
namespace fwcert {
void register_compression_validators(ValidatorRegistry&) {}
}  // namespace fwcert
