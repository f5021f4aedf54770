#include "fwcert/core/version.hpp"

#ifndef FWCERT_VERSION
#define FWCERT_VERSION "0.0.0"
#endif

namespace fwcert {

std::string_view version() { return FWCERT_VERSION; }

}  // namespace fwcert
