#include "fwcert/scan/hit.hpp"

#include <algorithm>
#include <cctype>
#include <string>

namespace fwcert {

std::string_view to_string(Confidence c) {
  switch (c) {
    case Confidence::Low: return "low";
    case Confidence::Medium: return "medium";
    case Confidence::High: return "high";
  }
  return "low";
}

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::Info: return "info";
    case Severity::Warning: return "warning";
    case Severity::Error: return "error";
  }
  return "warning";
}

bool parse_confidence(std::string_view text, Confidence& out) {
  std::string t(text);
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (t == "low") out = Confidence::Low;
  else if (t == "medium") out = Confidence::Medium;
  else if (t == "high") out = Confidence::High;
  else return false;
  return true;
}

}  // namespace fwcert
