// Signature definitions: data loaded at run time from signatures/*.sig, so a user can add a magic without
// recompiling. Format (one definition per line, '#' starts a comment outside quotes):
//
//   <type> <validator> <at> <magic...>
//
//   type       short type name reported for hits (cramfs, gzip, ...); a validator may refine it (fdt -> fit)
//   validator  name of a built-in validator (see `fwwalk --list-validators`)
//   at         where the magic sits inside the structure, in bytes from its start (decimal or 0x hex)
//   magic      two or more bytes, as hex pairs (45 3d cd 28) and/or quoted strings ("-----BEGIN ") with \xNN,
//              \n, \r, \t, \\ and \" escapes; pieces are concatenated
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fwcert/core/result.hpp"

namespace fwcert {

struct Signature {
  std::string type;
  std::string validator;
  uint32_t at = 0;
  std::string magic;  // raw bytes
  std::string source;  // "file:line" it was read from
};

// Parses one signature file's text. Errors name source:line and what is wrong.
Result<std::vector<Signature>> parse_signatures(std::string_view text, const std::string& source_name);

// Loads every *.sig file of a directory (sorted by name), or one file.
Result<std::vector<Signature>> load_signatures(const std::string& path);

// The signature files compiled into the binary (the same text as the source tree's signatures/ directory).
std::vector<Signature> builtin_signatures();

// Where to read signatures from when the user gives none: $FWCERT_SIGNATURES, then signatures/ next to or above the
// executable, then the source tree. Empty when none exists (callers then use builtin_signatures()).
std::string default_signature_path(const std::string& argv0);

}  // namespace fwcert
