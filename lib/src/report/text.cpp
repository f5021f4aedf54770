#include "fwcert/report/text.hpp"

#include <locale.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <wchar.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace fwcert {

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  decode_utf8(s, [&](int32_t cp, std::string_view bytes) { out += cp < 0 ? std::string_view("\xEF\xBF\xBD") : bytes; });
  return out;
}

namespace {

// An optional sign, digits, optionally a fraction: what a spreadsheet reads as a number, never as a formula.
bool is_decimal_number(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  size_t digits = 0, dots = 0;
  for (; i < s.size(); ++i) {
    if (s[i] >= '0' && s[i] <= '9') {
      ++digits;
    } else if (s[i] == '.' && dots == 0) {
      ++dots;
    } else {
      return false;
    }
  }
  return digits > 0;
}

bool is_bidi_control(int32_t cp) {
  return cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

// C.UTF-8 is built into glibc since 2.35; created once and never freed (it lives as long as the process).
locale_t utf8_locale() {
  static const locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  return loc;
}

bool is_valid_utf8(std::string_view s) {
  bool ok = true;
  decode_utf8(s, [&](int32_t cp, std::string_view) { ok = ok && cp >= 0; });
  return ok;
}

// Read-only check first, so that the usual document (all valid) is not copied.
bool all_valid(const nlohmann::json& j) {
  if (j.is_string()) return is_valid_utf8(j.get_ref<const std::string&>());
  if (j.is_array()) return std::all_of(j.begin(), j.end(), [](const nlohmann::json& e) { return all_valid(e); });
  if (j.is_object())
    for (auto it = j.begin(); it != j.end(); ++it)
      if (!is_valid_utf8(it.key()) || !all_valid(it.value())) return false;
  return true;
}

void sanitize_strings(nlohmann::json& j) {
  if (j.is_string()) {
    auto& s = j.get_ref<std::string&>();
    if (!is_valid_utf8(s)) s = valid_utf8(s);
  } else if (j.is_array()) {
    for (auto& e : j) sanitize_strings(e);
  } else if (j.is_object()) {
    // Keys cannot be changed in place: rebuild the object only when a key needs it.
    bool keys_ok = true;
    for (auto it = j.begin(); it != j.end(); ++it) {
      sanitize_strings(it.value());
      if (!is_valid_utf8(it.key())) keys_ok = false;
    }
    if (!keys_ok) {
      nlohmann::json fixed = nlohmann::json::object();
      for (auto it = j.begin(); it != j.end(); ++it) fixed[valid_utf8(it.key())] = std::move(it.value());
      j = std::move(fixed);
    }
  }
}

}  // namespace

std::string csv_field(std::string_view raw, bool guard) {
  std::string s = valid_utf8(raw);
  if (guard && !s.empty() && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') &&
      !is_decimal_number(s))
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

std::string display(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  decode_utf8(s, [&](int32_t cp, std::string_view bytes) {
    char buf[16];  // "\\u{XXXX}" needs 9; 16 also fits any unsigned, which GCC at -O0 cannot rule out
    if (cp < 0) {
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(-1 - cp));
      out += buf;
    } else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0)) {
      std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(cp));
      out += buf;
    } else if (is_bidi_control(cp)) {
      std::snprintf(buf, sizeof buf, "\\u{%04X}", static_cast<unsigned>(cp));
      out += buf;
    } else {
      out += bytes;
    }
  });
  return out;
}

size_t display_width(std::string_view s) {
  const locale_t loc = utf8_locale();
  const locale_t old = loc ? uselocale(loc) : static_cast<locale_t>(nullptr);
  size_t w = 0;
  decode_utf8(s, [&](int32_t cp, std::string_view) {
    if (cp < 0x20) {
      w += 4;  // an invalid byte or a control character: only display() text should get here, where it is \xNN
      return;
    }
    const int cw = loc ? wcwidth(static_cast<wchar_t>(cp)) : 1;
    w += cw < 0 ? 1 : static_cast<size_t>(cw);
  });
  if (loc) uselocale(old);
  return w;
}

namespace {

// Byte index after the longest prefix of s that takes at most max columns (zero-width characters stay with the
// character before them).
size_t prefix_bytes(std::string_view s, size_t max) {
  size_t w = 0, end = 0;
  bool full = false;
  decode_utf8(s, [&](int32_t, std::string_view bytes) {
    if (full) return;
    const size_t cw = display_width(bytes);
    if (w + cw > max) {
      full = true;
      return;
    }
    w += cw;
    end = static_cast<size_t>(bytes.data() - s.data()) + bytes.size();
  });
  return end;
}

// Byte index where the shortest suffix of s that takes at most max columns starts.
size_t suffix_start(std::string_view s, size_t max) {
  std::vector<std::pair<size_t, size_t>> chars;  // (byte offset, width)
  decode_utf8(s, [&](int32_t, std::string_view bytes) {
    chars.emplace_back(static_cast<size_t>(bytes.data() - s.data()), display_width(bytes));
  });
  size_t w = 0, start = s.size();
  for (size_t i = chars.size(); i-- > 0;) {
    if (w + chars[i].second > max) break;
    w += chars[i].second;
    start = chars[i].first;
  }
  // Zero-width characters at the start of the suffix belong to the cut-off character before them.
  while (start < s.size()) {
    size_t i = 0;
    while (i < chars.size() && chars[i].first != start) ++i;
    if (i == chars.size() || chars[i].second != 0) break;
    start = i + 1 < chars.size() ? chars[i + 1].first : s.size();
  }
  return start;
}

}  // namespace

std::string fit_end(std::string_view s, size_t max) {
  if (display_width(s) <= max) return std::string(s);
  if (max < 3) return std::string(s.substr(0, prefix_bytes(s, max)));
  return std::string(s.substr(0, prefix_bytes(s, max - 3))) + "...";
}

std::string fit_middle(std::string_view s, size_t max) {
  if (display_width(s) <= max) return std::string(s);
  if (max < 8) return fit_end(s, max);
  // Two fifths for the start (the input and the image inside it), the rest for the end (the file): the end tells
  // which file, the start which image; both are needed to tell rows apart.
  const size_t budget = max - 3, head_cols = budget * 2 / 5, tail_cols = budget - head_cols;
  const std::string_view head = s.substr(0, prefix_bytes(s, head_cols));
  std::string_view tail = s.substr(suffix_start(s, tail_cols));
  // Start the end part at a step or directory boundary when one is close, so it reads as a path.
  const size_t cut = tail.find_first_of("!/");
  if (cut != std::string_view::npos && cut > 0 && cut < 16) tail = tail.substr(cut);
  return std::string(head) + "..." + std::string(tail);
}

size_t table_columns(int fd, size_t fallback) {
  if (const char* c = std::getenv("COLUMNS"); c && *c) {
    char* end = nullptr;
    const unsigned long v = std::strtoul(c, &end, 10);
    if (*end == '\0' && v >= 20 && v <= 100000) return v;
  }
  if (isatty(fd)) {
    struct winsize ws {};
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20) return ws.ws_col;
  }
  return fallback;
}

std::string dump_json(const nlohmann::json& doc, int indent) {
  if (all_valid(doc)) return doc.dump(indent);
  nlohmann::json copy = doc;
  sanitize_strings(copy);
  // The replace handler is a second line of defence only: after sanitize_strings every string is valid UTF-8.
  return copy.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

void put_name(nlohmann::json& obj, const std::string& key, std::string_view raw) {
  const std::string text = valid_utf8(raw);
  obj[key] = text;
  if (text.size() == raw.size() && text == raw) return;
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    hex += kHex[c >> 4];
    hex += kHex[c & 15];
  }
  obj[key + "_bytes"] = std::move(hex);
}

}  // namespace fwcert
