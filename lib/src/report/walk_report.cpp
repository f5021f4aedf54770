#include "fwcert/report/walk_report.hpp"

#include <cinttypes>
#include <cstdio>

#include "fwcert/report/text.hpp"

namespace fwcert {

namespace {
std::string diagnostics_suffix(const std::vector<Diagnostic>& diags) {
  std::string s;
  for (const auto& d : diags) {
    s += "; ";
    s += to_string(d.severity);
    s += ": ";
    s += d.message;
  }
  return s;
}
}  // namespace

void write_walk_table(std::ostream& out, const FileWalk& walk, bool with_header_line) {
  // Descriptions quote firmware bytes (uImage names, gzip file names): display() keeps escape sequences off the
  // terminal.
  if (with_header_line) out << "\nTarget File:   " << display(walk.file) << "\n";
  out << "\nDECIMAL       HEXADECIMAL     DESCRIPTION\n";
  out << std::string(80, '-') << "\n";
  char buf[64];
  for (const auto& h : walk.result.hits) {
    std::snprintf(buf, sizeof buf, "%-14" PRIu64 "0x%-14" PRIX64 "", h.offset, h.offset);
    out << buf << display(h.description + diagnostics_suffix(h.diagnostics)) << "\n";
  }
  for (const auto& d : walk.result.diagnostics)
    out << display(walk.file) << ": " << to_string(d.severity) << " at " << hex(d.offset) << ": " << display(d.message)
        << "\n";
  out << "\n";
}

nlohmann::json hit_to_json(const std::string& file, const Hit& hit) {
  nlohmann::json diags = nlohmann::json::array();
  for (const auto& d : hit.diagnostics)
    diags.push_back({{"offset", d.offset}, {"severity", std::string(to_string(d.severity))}, {"message", d.message}});
  nlohmann::json j = {{"file", file},
          {"offset", hit.offset},
          {"size", hit.size},
          {"type", hit.type},
          {"confidence", std::string(to_string(hit.confidence))},
          {"description", hit.description},
          {"diagnostics", diags}};
  put_name(j, "file", file);  // the path as given; file_bytes when it is not UTF-8
  return j;
}

nlohmann::json walks_to_json(const std::vector<FileWalk>& walks) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& w : walks) {
    for (const auto& h : w.result.hits) arr.push_back(hit_to_json(w.file, h));
  }
  return arr;
}

}  // namespace fwcert
