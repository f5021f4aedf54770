// Untrusted text for reports: UTF-8 validation, terminal-safe display, display width, RFC 4180 CSV fields and JSON
// documents that always serialise. Firmware names and certificate subjects are arbitrary bytes; every reporter goes
// through these.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
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
// A cell that is a plain decimal number ("-4507", "-1.5") is a number, not a formula, and is never changed.
std::string csv_field(std::string_view raw, bool guard);

// For a terminal (the one sanitiser of table output): control characters (C0, DEL, C1) and invalid bytes become
// \xNN, and the bidirectional controls that reorder what follows (U+061C, U+200E, U+200F, U+202A-U+202E,
// U+2066-U+2069, "Trojan Source") become \u{XXXX}, so a hostile name can neither send escape sequences nor make a
// row read differently from its bytes. The result is valid UTF-8.
std::string display(std::string_view s);

// Terminal columns a valid UTF-8 string takes: East Asian wide and fullwidth characters count 2, combining and other
// zero-width characters 0 (glibc's wcwidth() under a private C.UTF-8 locale, so the result does not depend on the
// user's locale; one column per code point when that locale is missing). Meant for display() output, which holds no
// control characters.
size_t display_width(std::string_view s);

// Fit s (valid UTF-8, e.g. display() output) into max columns, marking the cut with "...":
// fit_end keeps the start ("Very long common na..."), fit_middle keeps the start and the end
// ("vendor.zip!zip:X11_A.bin!...:/etc/ssl/server.pem"), cutting the end part at a '/' or '!' when one is close.
std::string fit_end(std::string_view s, size_t max);
std::string fit_middle(std::string_view s, size_t max);

// Columns for a table written to fd: $COLUMNS when it is a number >= 20, else the terminal's width (TIOCGWINSZ)
// when fd is a terminal, else `fallback`.
size_t table_columns(int fd, size_t fallback = 120);

// JSON documents: nlohmann::json::dump() throws (type_error.316) on a string that is not valid UTF-8, and names from
// firmware often are not (Latin-1 file names). Every JSON output is written through dump_json, which first replaces
// each invalid byte of every string and object key with U+FFFD, exactly as valid_utf8 does, so a document always
// serialises and the replacement is the same in every output.
std::string dump_json(const nlohmann::json& doc, int indent = 2);

// Sets obj[key] to the text of raw (valid UTF-8, invalid bytes as U+FFFD). When raw is not valid UTF-8, also sets
// obj[key + "_bytes"] to raw as lowercase hex, so a name that identifies a file is never lost (two Latin-1 names
// differing in one byte stay distinct, and a written file can be found by its exact name).
void put_name(nlohmann::json& obj, const std::string& key, std::string_view raw);

}  // namespace fwcert
