// Certificate expiry calendars: iCalendar (RFC 5545) checked byte by byte against the strict rules (CRLF, 75-octet
// folding on UTF-8 boundaries, TEXT escaping, VALARMs), CSV parsed back with an RFC 4180 reader, JSON layout, and,
// when python3-icalendar is installed, a round trip through that parser. Every input is built here with a pinned
// `now`; nothing depends on today's date.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "fwcert/report/calendar.hpp"
#include "support.hpp"

using fwcert::CalendarEvent;
using fwcert::CalendarImage;
using fwcert::CalendarOptions;

namespace {

constexpr int64_t kNow = 1767225600;           // 2026-01-01T00:00:00Z
constexpr int64_t kExpiry = 1779011196;        // 2026-05-17T09:46:36Z
constexpr int64_t kMidnight = 1779062400;      // 2026-05-18T00:00:00Z
constexpr int64_t kLater = 1803902400;         // 2027-03-01T12:00:00Z
const std::string kShaA(64, 'a');
const std::string kShaB = std::string(63, 'b') + "1";
const std::string kShaC = std::string(62, 'c') + "22";

CalendarOptions options() {
  CalendarOptions o;
  o.now = kNow;
  return o;
}

CalendarEvent shared_cert() {
  CalendarEvent e;
  e.sha256 = kShaA;
  e.common_name = "bmc.example.com";
  e.subject = "C=US, O=Example, CN=bmc.example.com";
  e.issuer = "C=US, O=Example CA, CN=Example Root";
  e.not_after = kExpiry;
  e.roles = {"https", "redfish"};
  e.images = {{"fw/bmc-1.0.bin", "rootfs.squashfs:/etc/ssl/server.pem"},
              {"fw/bmc-1.1.bin", "rootfs.squashfs:/etc/ssl/server.pem"},
              {"fw/bmc-2.0.bin", "ubi:rootfs:/etc/ssl/server.pem"}};
  e.status = "expiring";
  return e;
}

CalendarEvent midnight_cert() {
  CalendarEvent e;
  e.sha256 = kShaB;
  e.common_name = "ipmi";
  e.subject = "CN=ipmi";
  e.issuer = "CN=ipmi";
  e.not_after = kMidnight;
  e.roles = {"ipmi"};
  e.images = {{"fw/other.bin", "cpio:/conf/ipmi.pem"}};
  e.status = "expiring";
  return e;
}

// Long, multi-byte and full of characters that need escaping.
CalendarEvent hostile_cert() {
  CalendarEvent e;
  e.sha256 = kShaC;
  e.common_name = "Zertifikat für Überwachung – 广东省";
  e.subject = "C=CN, ST=广东省, L=深圳市, O=Zertifikat für Überwachung – 广东省 \\ Abteilung; Süd, CN=Zertifikat für "
              "Überwachung – 广东省, OU=line1\r\nline2\nline3\rline4";
  e.issuer = "CN=Ünïcødé Issuer, O=a\\b;c,d";
  e.not_after = kLater;
  e.roles = {"web; ui", "kvm"};
  e.images = {{"fw/ü.bin", "squashfs:/etc/ssl/证书.pem"}};
  e.status = "valid";
  return e;
}

std::vector<std::string> split_crlf(const std::string& s) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t end = s.find("\r\n", pos);
    if (end == std::string::npos) {
      lines.push_back(s.substr(pos));  // unterminated tail: a test below fails on it
      break;
    }
    lines.push_back(s.substr(pos, end - pos));
    pos = end + 2;
  }
  return lines;
}

// RFC 5545 3.1 unfolding: remove every CRLF followed by one space or tab, then split into content lines.
std::vector<std::string> unfold(const std::string& s) {
  std::string joined;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && i + 2 < s.size() && s[i + 1] == '\n' && (s[i + 2] == ' ' || s[i + 2] == '\t')) {
      i += 2;
      continue;
    }
    joined += s[i];
  }
  return split_crlf(joined);
}

bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t len = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    uint32_t cp = len == 1 ? b : len == 2 ? (b & 0x1Fu) : len == 3 ? (b & 0x0Fu) : (b & 0x07u);
    for (size_t k = 1; k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3Fu);
    }
    const uint32_t min = len == 1 ? 0 : len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// The strict physical-line rules, checked on bytes.
void check_physical_lines(const std::string& ics) {
  REQUIRE(ics.size() >= 2);
  CHECK(ics.substr(ics.size() - 2) == "\r\n");
  const auto lines = split_crlf(ics);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    INFO("physical line " << i << ": " << l);
    CHECK(l.size() <= 75);
    CHECK(l.find('\r') == std::string::npos);  // no bare CR
    CHECK(l.find('\n') == std::string::npos);  // no bare LF
    CHECK(valid_utf8(l));                      // no UTF-8 sequence split across a fold
    CHECK_FALSE(l.empty());
    if (i == 0) CHECK(l[0] != ' ');
    // A fold never separates a backslash from the character it escapes: no line ends in an odd run of backslashes.
    size_t run = 0;
    for (size_t k = l.size(); k > 0 && l[k - 1] == '\\'; --k) ++run;
    CHECK(run % 2 == 0);
  }
}

std::vector<std::string> with_prefix(const std::vector<std::string>& lines, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& l : lines)
    if (l.rfind(prefix, 0) == 0) out.push_back(l);
  return out;
}

size_t count_of(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + needle.size())) ++n;
  return n;
}

// Minimal RFC 4180 reader: CRLF records, quoted fields with "" for a quote and embedded CR/LF.
std::vector<std::vector<std::string>> parse_csv(const std::string& s, bool& ok) {
  ok = true;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  size_t i = 0;
  bool quoted = false, was_quoted = false;
  while (i < s.size()) {
    const char c = s[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < s.size() && s[i + 1] == '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        ++i;
        continue;
      }
      field += c;
      ++i;
      continue;
    }
    if (c == '"') {
      if (!field.empty() || was_quoted) ok = false;  // quote inside an unquoted field
      quoted = was_quoted = true;
      ++i;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
      was_quoted = false;
      ++i;
    } else if (c == '\r') {
      if (i + 1 >= s.size() || s[i + 1] != '\n') ok = false;  // bare CR outside quotes
      row.push_back(field);
      rows.push_back(row);
      row.clear();
      field.clear();
      was_quoted = false;
      i += 2;
    } else if (c == '\n') {
      ok = false;  // bare LF outside quotes
      ++i;
    } else {
      if (was_quoted) ok = false;  // text after a closing quote
      field += c;
      ++i;
    }
  }
  if (quoted || !field.empty() || !row.empty()) ok = false;  // unterminated record
  return rows;
}

}  // namespace

TEST_CASE("calendar ics: header, one event per certificate, the shared certificate names all three images") {
  const std::string ics = fwcert::calendar_ics({shared_cert(), midnight_cert()}, options());
  check_physical_lines(ics);
  const auto lines = unfold(ics);
  REQUIRE(lines.size() > 10);
  CHECK(lines.front() == "BEGIN:VCALENDAR");
  CHECK(lines.back() == "END:VCALENDAR");
  CHECK(with_prefix(lines, "VERSION:") == std::vector<std::string>{"VERSION:2.0"});
  CHECK(with_prefix(lines, "PRODID:") == std::vector<std::string>{"PRODID:-//fwcert//Firmware certificate expiry//EN"});
  CHECK(with_prefix(lines, "CALSCALE:") == std::vector<std::string>{"CALSCALE:GREGORIAN"});
  CHECK(with_prefix(lines, "METHOD:") == std::vector<std::string>{"METHOD:PUBLISH"});
  CHECK(with_prefix(lines, "X-WR-CALNAME:") == std::vector<std::string>{"X-WR-CALNAME:Firmware certificate expiry"});
  CHECK(with_prefix(lines, "BEGIN:VEVENT").size() == 2);
  CHECK(with_prefix(lines, "END:VEVENT").size() == 2);
  CHECK(with_prefix(lines, "UID:") == std::vector<std::string>{"UID:" + kShaA + "@fwcert", "UID:" + kShaB + "@fwcert"});
  // DTSTAMP is the pinned now, not the system clock.
  CHECK(with_prefix(lines, "DTSTAMP:") ==
        std::vector<std::string>{"DTSTAMP:20260101T000000Z", "DTSTAMP:20260101T000000Z"});
  CHECK(with_prefix(lines, "SUMMARY:") ==
        std::vector<std::string>{"SUMMARY:bmc.example.com certificate expires (3 firmware images)",
                                 "SUMMARY:ipmi certificate expires (1 firmware image)"});
  CHECK(with_prefix(lines, "CATEGORIES:").size() == 2);
  CHECK(with_prefix(lines, "CATEGORIES:")[0] == "CATEGORIES:certificate-expiry");
  CHECK(with_prefix(lines, "TRANSP:")[0] == "TRANSP:TRANSPARENT");

  const auto desc = with_prefix(lines, "DESCRIPTION:Certificate");
  REQUIRE(desc.size() == 2);
  const std::string& d = desc[0];
  for (const char* image : {"fw/bmc-1.0.bin: rootfs.squashfs:/etc/ssl/server.pem",
                            "fw/bmc-1.1.bin: rootfs.squashfs:/etc/ssl/server.pem",
                            "fw/bmc-2.0.bin: ubi:rootfs:/etc/ssl/server.pem"})
    CHECK(d.find(std::string("\\n- ") + image) != std::string::npos);
  CHECK(d.find("2026-05-17T09:46:36Z") != std::string::npos);
  CHECK(d.find("09:46:36 UTC") != std::string::npos);
  CHECK(d.find("Americas") != std::string::npos);
  CHECK(d.find("SHA-256: " + kShaA) != std::string::npos);
  CHECK(d.find("Subject: C=US\\, O=Example\\, CN=bmc.example.com") != std::string::npos);
  CHECK(d.find("Issuer: C=US\\, O=Example CA\\, CN=Example Root") != std::string::npos);
  CHECK(d.find("Roles: https\\, redfish") != std::string::npos);
  CHECK(d.find("days left: 136") != std::string::npos);  // 2026-01-01 -> 2026-05-17T09:46Z
  CHECK(d.find("Firmware images (3):") != std::string::npos);
  CHECK(d.find('\n') == std::string::npos);  // newlines only as the \n escape
}

TEST_CASE("calendar ics: DTSTART is the UTC date of notAfter, DTEND the next day") {
  const auto lines = unfold(fwcert::calendar_ics({shared_cert(), midnight_cert()}, options()));
  CHECK(with_prefix(lines, "DTSTART") ==
        std::vector<std::string>{"DTSTART;VALUE=DATE:20260517", "DTSTART;VALUE=DATE:20260518"});
  CHECK(with_prefix(lines, "DTEND") ==
        std::vector<std::string>{"DTEND;VALUE=DATE:20260518", "DTEND;VALUE=DATE:20260519"});

  // Month and year boundaries, and one second before midnight.
  CalendarEvent e = midnight_cert();
  e.not_after = 1767225599;  // 2025-12-31T23:59:59Z
  const auto l2 = unfold(fwcert::calendar_ics({e}, options()));
  CHECK(with_prefix(l2, "DTSTART") == std::vector<std::string>{"DTSTART;VALUE=DATE:20251231"});
  CHECK(with_prefix(l2, "DTEND") == std::vector<std::string>{"DTEND;VALUE=DATE:20260101"});
  e.not_after = 951782400;  // 2000-02-29T00:00:00Z (leap day)
  const auto l3 = unfold(fwcert::calendar_ics({e}, options()));
  CHECK(with_prefix(l3, "DTSTART") == std::vector<std::string>{"DTSTART;VALUE=DATE:20000229"});
  CHECK(with_prefix(l3, "DTEND") == std::vector<std::string>{"DTEND;VALUE=DATE:20000301"});
}

TEST_CASE("calendar ics: one VALARM per alarm day, default 90/30/7") {
  const std::string ics = fwcert::calendar_ics({shared_cert()}, options());
  const auto lines = unfold(ics);
  CHECK(with_prefix(lines, "TRIGGER:") == std::vector<std::string>{"TRIGGER:-P90D", "TRIGGER:-P30D", "TRIGGER:-P7D"});
  CHECK(with_prefix(lines, "BEGIN:VALARM").size() == 3);
  CHECK(with_prefix(lines, "END:VALARM").size() == 3);
  CHECK(with_prefix(lines, "ACTION:") ==
        std::vector<std::string>{"ACTION:DISPLAY", "ACTION:DISPLAY", "ACTION:DISPLAY"});
  CHECK(with_prefix(lines, "DESCRIPTION:bmc") ==
        std::vector<std::string>{"DESCRIPTION:bmc.example.com certificate expires in 90 days",
                                 "DESCRIPTION:bmc.example.com certificate expires in 30 days",
                                 "DESCRIPTION:bmc.example.com certificate expires in 7 days"});
  // Each VALARM sits inside the VEVENT, with its four properties in order.
  std::vector<std::string> block;
  bool in_alarm = false, in_event = false;
  for (const auto& l : lines) {
    if (l == "BEGIN:VEVENT") in_event = true;
    if (l == "END:VEVENT") in_event = false;
    if (l == "BEGIN:VALARM") {
      CHECK(in_event);
      in_alarm = true;
      block.clear();
    }
    if (in_alarm) block.push_back(l);
    if (l == "END:VALARM") {
      in_alarm = false;
      REQUIRE(block.size() == 5);
      CHECK(block[1] == "ACTION:DISPLAY");
      CHECK(block[2].rfind("DESCRIPTION:", 0) == 0);
      CHECK(block[3].rfind("TRIGGER:-P", 0) == 0);
    }
  }

  // Custom days; negatives ignored, duplicates kept once, 0 and 1 worded properly.
  CalendarOptions o = options();
  o.alarm_days = {14, -3, 1, 14, 0};
  const auto l2 = unfold(fwcert::calendar_ics({shared_cert()}, o));
  CHECK(with_prefix(l2, "TRIGGER:") == std::vector<std::string>{"TRIGGER:-P14D", "TRIGGER:-P1D", "TRIGGER:-P0D"});
  CHECK(with_prefix(l2, "DESCRIPTION:bmc") ==
        std::vector<std::string>{"DESCRIPTION:bmc.example.com certificate expires in 14 days",
                                 "DESCRIPTION:bmc.example.com certificate expires in 1 day",
                                 "DESCRIPTION:bmc.example.com certificate expires today"});
  o.alarm_days.clear();
  CHECK(with_prefix(unfold(fwcert::calendar_ics({shared_cert()}, o)), "BEGIN:VALARM").empty());
}

TEST_CASE("calendar ics: UIDs stable across exports and different per certificate; output deterministic") {
  const std::vector<CalendarEvent> entries{shared_cert(), midnight_cert(), hostile_cert()};
  const std::string first = fwcert::calendar_ics(entries, options());
  const std::string second = fwcert::calendar_ics(entries, options());
  CHECK(first == second);  // byte-identical
  CHECK(fwcert::calendar_csv(entries, options()) == fwcert::calendar_csv(entries, options()));
  CHECK(fwcert::calendar_json(entries, options()).dump() == fwcert::calendar_json(entries, options()).dump());

  // A later export (other `now`, other order, a new image) keeps each certificate's UID.
  CalendarOptions later = options();
  later.now = kNow + 30 * 86400;
  auto changed = entries;
  std::swap(changed[0], changed[2]);
  changed[2].images.push_back({"fw/bmc-3.0.bin", "rootfs:/etc/ssl/server.pem"});
  const auto uids1 = with_prefix(unfold(first), "UID:");
  const auto uids2 = with_prefix(unfold(fwcert::calendar_ics(changed, later)), "UID:");
  REQUIRE(uids1.size() == 3);
  REQUIRE(uids2.size() == 3);
  CHECK(uids1[0] == uids2[2]);
  CHECK(uids1[1] == uids2[1]);
  CHECK(uids1[2] == uids2[0]);
  CHECK(uids1[0] != uids1[1]);
  CHECK(uids1[1] != uids1[2]);
  CHECK(uids1[0] != uids1[2]);
  // DTSTAMP follows the given now.
  CHECK(with_prefix(unfold(fwcert::calendar_ics(changed, later)), "DTSTAMP:")[0] == "DTSTAMP:20260131T000000Z");

  // Upper-case SHA-256 gives the same UID; without SHA-256 the UID is still stable and per certificate.
  CalendarEvent upper = shared_cert();
  for (char& c : upper.sha256) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(with_prefix(unfold(fwcert::calendar_ics({upper}, options())), "UID:")[0] == uids1[0]);
  CalendarEvent no_hash = shared_cert(), no_hash2 = midnight_cert();
  no_hash.sha256.clear();
  no_hash2.sha256.clear();
  const auto u3 = with_prefix(unfold(fwcert::calendar_ics({no_hash, no_hash2}, options())), "UID:");
  const auto u4 = with_prefix(unfold(fwcert::calendar_ics({no_hash, no_hash2}, later)), "UID:");
  REQUIRE(u3.size() == 2);
  CHECK(u3 == u4);
  CHECK(u3[0] != u3[1]);
  CHECK(u3[0].rfind("UID:nosha256-", 0) == 0);
}

TEST_CASE("calendar ics: duplicate certificates merge into one event (one VEVENT per UID)") {
  CalendarEvent a = shared_cert();
  CalendarEvent b = shared_cert();
  b.images = {{"fw/bmc-1.0.bin", "rootfs.squashfs:/etc/ssl/server.pem"},  // repeat: listed once
              {"fw/bmc-1.0.bin", "rootfs.squashfs:/etc/stunnel/stunnel.pem"},  // same image, other place
              {"fw/bmc-9.bin", "jffs2:/conf/server.pem"}};
  b.roles = {"redfish", "kvm"};
  const auto lines = unfold(fwcert::calendar_ics({a, midnight_cert(), b}, options()));
  CHECK(with_prefix(lines, "BEGIN:VEVENT").size() == 2);
  CHECK(with_prefix(lines, "SUMMARY:")[0] == "SUMMARY:bmc.example.com certificate expires (4 firmware images)");
  const auto d = with_prefix(lines, "DESCRIPTION:Certificate")[0];
  CHECK(count_of(d, "\\n- fw/bmc-1.0.bin: rootfs.squashfs:/etc/ssl/server.pem") == 1);
  CHECK(d.find("\\n- fw/bmc-1.0.bin: rootfs.squashfs:/etc/stunnel/stunnel.pem") != std::string::npos);
  CHECK(d.find("Roles: https\\, redfish\\, kvm") != std::string::npos);
  CHECK(d.find("Firmware images (4):") != std::string::npos);
  const auto j = fwcert::calendar_json({a, midnight_cert(), b}, options());
  CHECK(j["events"].size() == 2);
  CHECK(j["events"][0]["images"].size() == 5);
}

TEST_CASE("calendar ics: TEXT escaping of backslash, semicolon, comma and newlines") {
  CalendarEvent e = midnight_cert();
  e.common_name = "a,b;c\\d";
  e.subject = "CN=x\r\ny\nz\rw";
  e.issuer = "tab\there, ctl\x01\x7f!";
  e.images = {{"img,1;\\", "loc\nnext"}};
  CalendarOptions o = options();
  o.prodid = "-//Acme, Inc.//fw;cert//EN";
  const std::string ics = fwcert::calendar_ics({e}, o);
  check_physical_lines(ics);
  const auto lines = unfold(ics);
  CHECK(with_prefix(lines, "PRODID:")[0] == "PRODID:-//Acme\\, Inc.//fw\\;cert//EN");
  CHECK(with_prefix(lines, "SUMMARY:")[0] == "SUMMARY:a\\,b\\;c\\\\d certificate expires (1 firmware image)");
  const auto d = with_prefix(lines, "DESCRIPTION:Certificate")[0];
  CHECK(d.find("Subject: CN=x\\ny\\nz\\nw\\n") != std::string::npos);  // CRLF, LF and CR each one \n
  CHECK(d.find("Issuer: tab\there\\, ctl\xEF\xBF\xBD\xEF\xBF\xBD!") != std::string::npos);  // C0/DEL -> U+FFFD
  CHECK(d.find("\\n- img\\,1\\;\\\\: loc\\nnext") != std::string::npos);
  // No raw comma or semicolon survives in any TEXT value of the event: every one is preceded by a backslash.
  for (const auto& l : {with_prefix(lines, "SUMMARY:")[0], d}) {
    const std::string value = l.substr(l.find(':') + 1);
    size_t run = 0;
    for (const char c : value) {
      if ((c == ',' || c == ';') && run % 2 == 0) FAIL("unescaped separator in " << l);
      run = c == '\\' ? run + 1 : 0;
    }
  }
  // Property names and parameters are not escaped.
  CHECK(with_prefix(lines, "DTSTART;VALUE=DATE:").size() == 1);
}

TEST_CASE("calendar ics: long multi-byte lines fold at 75 octets on UTF-8 boundaries and unfold to the original") {
  const CalendarEvent e = hostile_cert();
  const std::string ics = fwcert::calendar_ics({e}, options());
  check_physical_lines(ics);
  // Folding really happened, and with continuation lines starting with exactly one space.
  const auto physical = split_crlf(ics);
  size_t continuations = 0;
  for (const auto& l : physical)
    if (l[0] == ' ') ++continuations;
  CHECK(continuations >= 5);
  // Some physical line is exactly 75 octets or backed off from a multi-byte sequence (73/74 octets).
  bool near_limit = false;
  for (const auto& l : physical) near_limit = near_limit || l.size() >= 72;
  CHECK(near_limit);

  const auto lines = unfold(ics);
  CHECK(with_prefix(lines, "SUMMARY:")[0] ==
        "SUMMARY:Zertifikat für Überwachung – 广东省 certificate expires (1 firmware image)");
  const auto d = with_prefix(lines, "DESCRIPTION:Certificate")[0];
  CHECK(d.find("Subject: C=CN\\, ST=广东省\\, L=深圳市\\, O=Zertifikat für Überwachung – 广东省 \\\\ Abteilung\\; "
               "Süd\\, CN=Zertifikat für Überwachung – 广东省\\, OU=line1\\nline2\\nline3\\nline4\\n") !=
        std::string::npos);
  CHECK(d.find("Issuer: CN=Ünïcødé Issuer\\, O=a\\\\b\\;c\\,d\\n") != std::string::npos);
  CHECK(d.find("Roles: web\\; ui\\, kvm") != std::string::npos);
  CHECK(d.find("\\n- fw/ü.bin: squashfs:/etc/ssl/证书.pem") != std::string::npos);
  CHECK(valid_utf8(d));

  // Every fold position: names of 0..160 octets of mixed 1-, 2-, 3- and 4-byte characters shift the cut points
  // through every alignment. Unfolded SUMMARY must equal what went in.
  const std::vector<std::string> pieces{"a", "ü", "广", "😀", "\\", ",", ";"};
  std::string name;
  for (size_t n = 0; n < 160; ++n) {
    name += pieces[(n * 5 + n / 7) % pieces.size()];
    CalendarEvent f = midnight_cert();
    f.common_name = name;
    const std::string out = fwcert::calendar_ics({f}, options());
    INFO("name " << name);
    check_physical_lines(out);
    std::string escaped;
    for (const char c : name) {
      if (c == '\\' || c == ',' || c == ';') escaped += '\\';
      escaped += c;
    }
    CHECK(with_prefix(unfold(out), "SUMMARY:")[0] == "SUMMARY:" + escaped + " certificate expires (1 firmware image)");
  }
}

TEST_CASE("calendar: invalid UTF-8 in untrusted text becomes U+FFFD, the output stays valid") {
  CalendarEvent e = midnight_cert();
  e.common_name = std::string("bad\xC3(\xFF\xE2\x82 \xED\xA0\x80 \xC0\xAF" " end") + std::string(100, '\xE4');
  e.subject = std::string("CN=\xF0\x9F\x98", 7);  // truncated 4-byte sequence at the end
  e.images = {{std::string("fw/\xFE.bin"), std::string("x\x80y")}};
  const std::string ics = fwcert::calendar_ics({e}, options());
  check_physical_lines(ics);
  CHECK(valid_utf8(ics));
  const auto lines = unfold(ics);
  CHECK(with_prefix(lines, "SUMMARY:")[0].rfind("SUMMARY:bad\xEF\xBF\xBD(\xEF\xBF\xBD", 0) == 0);
  CHECK(valid_utf8(fwcert::calendar_csv({e}, options())));
  const auto j = fwcert::calendar_json({e}, options());
  CHECK_NOTHROW(j.dump());
  CHECK(j["events"][0]["images"][0]["path"] == "fw/\xEF\xBF\xBD.bin");
}

TEST_CASE("calendar: extreme times do not crash and stay within 4-digit dates in iCalendar") {
  for (const int64_t t : {std::numeric_limits<int64_t>::min(), int64_t{-62167219201}, int64_t{-1}, int64_t{0},
                          int64_t{253402300799},  // 9999-12-31T23:59:59Z, "no expiry"
                          std::numeric_limits<int64_t>::max()}) {
    CalendarEvent e = midnight_cert();
    e.not_after = t;
    CalendarOptions o = options();
    o.now = t == 0 ? std::numeric_limits<int64_t>::min() : kNow;
    INFO("not_after " << t);
    const std::string ics = fwcert::calendar_ics({e}, o);
    check_physical_lines(ics);
    const auto lines = unfold(ics);
    const auto start = with_prefix(lines, "DTSTART;VALUE=DATE:");
    REQUIRE(start.size() == 1);
    CHECK(start[0].size() == std::string("DTSTART;VALUE=DATE:").size() + 8);
    CHECK(with_prefix(lines, "DTSTAMP:")[0].size() == std::string("DTSTAMP:").size() + 16);
    const auto end = with_prefix(lines, "DTEND;VALUE=DATE:");
    if (t >= 253402300799 - 86400 + 1) {
      CHECK(start[0] == "DTSTART;VALUE=DATE:99991231");
      CHECK(end.empty());  // no 5-digit year; a DATE DTSTART alone lasts one day
    } else {
      REQUIRE(end.size() == 1);
      CHECK(end[0].size() == start[0].size() - 2);
    }
    CHECK_NOTHROW(fwcert::calendar_json({e}, o).dump());
    CHECK_FALSE(fwcert::calendar_csv({e}, o).empty());
  }
  CalendarEvent e = midnight_cert();
  e.not_after = -1;
  CHECK(with_prefix(unfold(fwcert::calendar_ics({e}, options())), "DTSTART")[0] == "DTSTART;VALUE=DATE:19691231");
}

TEST_CASE("calendar ics: no entries still gives a valid calendar with one component") {
  const std::string ics = fwcert::calendar_ics({}, options());
  check_physical_lines(ics);
  const auto lines = unfold(ics);
  CHECK(lines.front() == "BEGIN:VCALENDAR");
  CHECK(lines.back() == "END:VCALENDAR");
  CHECK(with_prefix(lines, "BEGIN:VEVENT").empty());
  CHECK(with_prefix(lines, "BEGIN:VTIMEZONE").size() == 1);
  CHECK(fwcert::calendar_json({}, options())["events"].empty());
  CHECK(fwcert::calendar_csv({}, options()).find("\r\n") == fwcert::calendar_csv({}, options()).size() - 2);
}

TEST_CASE("calendar csv: RFC 4180, parses back, formula injection guarded") {
  CalendarEvent evil = midnight_cert();
  evil.common_name = "=HYPERLINK(\"http://x\",\"y\")";
  evil.subject = "+cmd|' /C calc'!A0";
  evil.issuer = "@SUM(1,2)";
  evil.status = "-expired";
  evil.not_after = kNow - 3 * 86400 - 1;  // expired 3 days and a second before now
  const std::vector<CalendarEvent> entries{shared_cert(), hostile_cert(), evil};
  const std::string csv = fwcert::calendar_csv(entries, options());
  bool ok = false;
  const auto rows = parse_csv(csv, ok);
  CHECK(ok);
  REQUIRE(rows.size() == 4);
  const std::vector<std::string> header{"not_after", "date",   "days_left", "common_name", "subject",  "issuer",
                                        "sha256",    "status", "images",    "roles",       "locations"};
  CHECK(rows[0] == header);
  for (const auto& r : rows) CHECK(r.size() == header.size());

  const auto& a = rows[1];
  CHECK(a[0] == "2026-05-17T09:46:36Z");
  CHECK(a[1] == "2026-05-17");
  CHECK(a[2] == "136");
  CHECK(a[3] == "bmc.example.com");
  CHECK(a[4] == "C=US, O=Example, CN=bmc.example.com");
  CHECK(a[6] == kShaA);
  CHECK(a[7] == "expiring");
  CHECK(a[8] == "3");
  CHECK(a[9] == "https; redfish");
  CHECK(a[10] ==
        "fw/bmc-1.0.bin: rootfs.squashfs:/etc/ssl/server.pem; fw/bmc-1.1.bin: rootfs.squashfs:/etc/ssl/server.pem; "
        "fw/bmc-2.0.bin: ubi:rootfs:/etc/ssl/server.pem");

  const auto& h = rows[2];  // multi-byte text and embedded newlines survive the round trip
  CHECK(h[3] == "Zertifikat für Überwachung – 广东省");
  CHECK(h[4] == hostile_cert().subject);
  CHECK(h[9] == "web; ui; kvm");

  const auto& x = rows[3];
  CHECK(x[2] == "-4");  // floor(-3 days - 1 s): a number, not guarded
  CHECK(x[3] == "'=HYPERLINK(\"http://x\",\"y\")");
  CHECK(x[4] == "'+cmd|' /C calc'!A0");
  CHECK(x[5] == "'@SUM(1,2)");
  CHECK(x[7] == "'-expired");
  // Every record ends in CRLF and the quote doubling is there in the raw bytes.
  CHECK(csv.find("\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"") != std::string::npos);
}

TEST_CASE("calendar json: layout") {
  CalendarOptions o = options();
  o.alarm_days = {60, 7};
  const auto j = fwcert::calendar_json({shared_cert(), midnight_cert()}, o);
  CHECK(j["now"] == "2026-01-01T00:00:00Z");
  CHECK(j["alarms"] == nlohmann::json::array({60, 7}));
  REQUIRE(j["events"].size() == 2);
  const auto& ev = j["events"][0];
  CHECK(ev["uid"] == kShaA + "@fwcert");
  CHECK(ev["sha256"] == kShaA);
  CHECK(ev["date"] == "2026-05-17");
  CHECK(ev["not_after"] == "2026-05-17T09:46:36Z");
  CHECK(ev["days_left"] == 136);
  CHECK(ev["common_name"] == "bmc.example.com");
  CHECK(ev["subject"] == "C=US, O=Example, CN=bmc.example.com");
  CHECK(ev["issuer"] == "C=US, O=Example CA, CN=Example Root");
  CHECK(ev["status"] == "expiring");
  CHECK(ev["roles"] == nlohmann::json::array({"https", "redfish"}));
  REQUIRE(ev["images"].size() == 3);
  CHECK(ev["images"][2]["path"] == "fw/bmc-2.0.bin");
  CHECK(ev["images"][2]["location"] == "ubi:rootfs:/etc/ssl/server.pem");
  CHECK(j["events"][1]["date"] == "2026-05-18");
  CHECK(j["events"][1]["not_after"] == "2026-05-18T00:00:00Z");
}

TEST_CASE("calendar ics: python3-icalendar parses the export (when installed)") {
  // The python3 first on PATH (pyenv, venv) may lack the module the Debian package put under /usr/bin/python3.
  std::string python;
  for (const char* candidate : {"python3", "/usr/bin/python3"}) {
    const std::string probe = std::string(candidate) + " -c 'import icalendar' >/dev/null 2>&1";
    if (std::system(probe.c_str()) == 0) {
      python = candidate;
      break;
    }
  }
  if (python.empty()) {
    WARN("python3 with the icalendar module is not installed (Debian: python3-icalendar); round trip skipped");
    return;
  }
  const std::vector<CalendarEvent> entries{shared_cert(), midnight_cert(), hostile_cert()};
  const std::string ics = fwcert::calendar_ics(entries, options());
  const auto dir = std::filesystem::temp_directory_path();
  const auto ics_path = dir / ("fwcert_calendar_" + std::to_string(::getpid()) + ".ics");
  const auto out_path = dir / ("fwcert_calendar_" + std::to_string(::getpid()) + ".txt");
  {
    std::ofstream f(ics_path, std::ios::binary);
    f << ics;
  }
  // One line per event: UID, DTSTART (date), SUMMARY, number of VALARMs, TRIGGERs; tab separated.
  const std::string script =
      "import icalendar,sys\n"
      "c=icalendar.Calendar.from_ical(open(sys.argv[1],'rb').read())\n"
      "out=[str(len(list(c.walk('VEVENT'))))]\n"
      "for e in c.walk('VEVENT'):\n"
      "  al=[a for a in e.walk('VALARM')]\n"
      "  tr=','.join(str(int(a.decoded('TRIGGER').total_seconds()//86400)) for a in al)\n"
      "  out.append('\\t'.join([str(e['UID']),e.decoded('DTSTART').strftime('%Y%m%d'),str(e['SUMMARY']),"
      "str(len(al)),tr,str(e['DESCRIPTION']).split('\\n')[0]]))\n"
      "open(sys.argv[2],'wb').write('\\n'.join(out).encode('utf-8'))\n";
  const auto script_path = dir / ("fwcert_calendar_" + std::to_string(::getpid()) + ".py");
  {
    std::ofstream f(script_path, std::ios::binary);
    f << script;
  }
  const std::string cmd = python + " '" + script_path.string() + "' '" + ics_path.string() + "' '" +
                          out_path.string() + "'";
  const int rc = std::system(cmd.c_str());
  REQUIRE(rc == 0);
  std::ifstream in(out_path, std::ios::binary);
  std::vector<std::string> got;
  for (std::string l; std::getline(in, l);) got.push_back(l);
  std::filesystem::remove(ics_path);
  std::filesystem::remove(out_path);
  std::filesystem::remove(script_path);
  REQUIRE(got.size() == 4);
  CHECK(got[0] == "3");
  CHECK(got[1] == kShaA + "@fwcert\t20260517\tbmc.example.com certificate expires (3 firmware images)\t3\t-90,-30,-7\t"
                          "Certificate \"bmc.example.com\" expires at 2026-05-17T09:46:36Z (09:46:36 UTC on "
                          "2026-05-17).");
  CHECK(got[2].rfind(kShaB + "@fwcert\t20260518\tipmi certificate expires (1 firmware image)\t3\t", 0) == 0);
  CHECK(got[3].rfind(kShaC + "@fwcert\t20270301\tZertifikat für Überwachung – 广东省 certificate expires (1 firmware "
                             "image)\t3\t",
                     0) == 0);
}
