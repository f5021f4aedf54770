// The project's version, e.g. "0.1.0", from CMake's project(VERSION ...): the one source for every tool's --version.
#pragma once

#include <string_view>

namespace fwcert {

std::string_view version();

}  // namespace fwcert
