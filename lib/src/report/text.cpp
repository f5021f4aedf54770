#include "fwcert/report/text.hpp"

namespace fwcert {

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  decode_utf8(s, [&](int32_t cp, std::string_view bytes) { out += cp < 0 ? std::string_view("\xEF\xBF\xBD") : bytes; });
  return out;
}

std::string csv_field(std::string_view raw, bool guard) {
  std::string s = valid_utf8(raw);
  if (guard && !s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r'))
    s.insert(s.begin(), '\'');
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  q += '"';
  return q;
}

}  // namespace fwcert
