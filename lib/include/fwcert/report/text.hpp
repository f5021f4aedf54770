// Untrusted text for reports: UTF-8 validation and RFC 4180 CSV fields. Firmware names and certificate subjects are
// arbitrary bytes; every reporter goes through these.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace fwcert {

// Walks s and calls fn(code_point, bytes) for each valid UTF-8 sequence, or fn(-1 - byte, one byte) for each byte
// that is not part of one (overlong forms, surrogates, values above U+10FFFF and truncated sequences are invalid).
template <typename Fn>
void decode_utf8(std::string_view s, Fn&& fn) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
      fn(static_cast<int32_t>(b0), s.substr(i, 1));
      ++i;
      continue;
    }
    size_t len = 0;
    uint32_t cp = 0, min = 0;
    if ((b0 & 0xE0) == 0xC0) {
      len = 2, cp = b0 & 0x1Fu, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      len = 3, cp = b0 & 0x0Fu, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      len = 4, cp = b0 & 0x07u, min = 0x10000;
    }
    bool ok = len != 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (b & 0x3Fu);
    }
    if (ok && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
    if (ok) {
      fn(static_cast<int32_t>(cp), s.substr(i, len));
      i += len;
    } else {
      fn(-1 - static_cast<int32_t>(b0), s.substr(i, 1));
      ++i;
    }
  }
}

// Valid UTF-8: each invalid byte replaced by U+FFFD (nlohmann::json::dump throws on invalid UTF-8).
std::string valid_utf8(std::string_view s);

// One RFC 4180 field: valid UTF-8, quoted when it holds a comma, quote or line break. With guard, a text cell that
// starts like a spreadsheet formula (= + - @ TAB CR) gets a leading ' (CSV injection: firmware text is untrusted).
std::string csv_field(std::string_view raw, bool guard);

}  // namespace fwcert
