// Reporters for walk results: the binwalk-compatible table and JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "fwcert/scan/walker.hpp"

namespace fwcert {

struct FileWalk {
  std::string file;
  WalkResult result;
};

// DECIMAL / HEXADECIMAL / DESCRIPTION, as binwalk prints it. Diagnostics follow the description after "; ".
void write_walk_table(std::ostream& out, const FileWalk& walk, bool with_header_line);

// One JSON object per hit: {file, offset, size, type, confidence, description, diagnostics:[{offset,severity,message}]}.
// size is 0 when the format does not give one.
nlohmann::json hit_to_json(const std::string& file, const Hit& hit);
nlohmann::json walks_to_json(const std::vector<FileWalk>& walks);

}  // namespace fwcert
