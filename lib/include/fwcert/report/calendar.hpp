// Certificate expiry dates for the calendars teams already use: iCalendar (RFC 5545) with reminders, plus the same
// events as CSV (RFC 4180) and JSON.
//
// Input is plain structs (no database dependency): the caller chooses which certificates to include (after `now`,
// up to --until, or --all) and their order; these functions format what they get, in that order. One exception to
// "what they get": entries with the same SHA-256 (compared case-insensitively) are merged into the first one (roles
// and images united, in first-seen order), because RFC 5545 section 3.8.4.7 allows one VEVENT per UID and the UID is
// derived from the SHA-256. CSV and JSON merge the same way so all three list the same events.
//
// Text from the firmware (names, subjects, paths) is untrusted: invalid UTF-8 bytes become U+FFFD everywhere, and
// in iCalendar TEXT values the control characters RFC 5545 does not allow (C0 except TAB, and DEL) become U+FFFD too,
// after CR LF / LF / CR have been turned into the "\n" escape.
//
// Output depends only on the entries and the options (never on the system clock or locale): the same input gives
// byte-identical output, so re-exports are reproducible and diffable.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fwcert {

// One firmware image that holds the certificate, and where inside it (e.g. "rootfs.squashfs:/etc/ssl/server.pem").
struct CalendarImage {
  std::string path;
  std::string location;
};

struct CalendarEvent {
  std::string sha256;  // of the certificate DER (lowercase hex); upper case is folded to lower case
  std::string common_name, subject, issuer;
  int64_t not_after = 0;  // unix seconds (UTC)
  std::vector<std::string> roles;
  std::vector<CalendarImage> images;  // every affected image with its location
  std::string status;                 // "valid", "expiring", "expired", ... at `now`
};

struct CalendarOptions {
  int64_t now = 0;  // unix seconds: DTSTAMP, days_left and the JSON "now"; pass it pinned for reproducible output
  // Reminders, in days before the expiry date. Negative values are ignored, duplicates kept once, order kept.
  // Every alarm is written even when its time has passed at `now`: calendar apps skip past alarms, and the events
  // of a re-export stay identical instead of losing alarms day by day.
  std::vector<int> alarm_days{90, 30, 7};
  std::string prodid = "-//fwcert//Firmware certificate expiry//EN";
};

// iCalendar (RFC 5545): VCALENDAR (VERSION:2.0, PRODID, CALSCALE:GREGORIAN, METHOD:PUBLISH,
// X-WR-CALNAME:Firmware certificate expiry) with one all-day VEVENT per certificate:
//   UID           "<sha256>@fwcert" (stable, so a re-import updates the event instead of duplicating it; an entry
//                 without SHA-256 gets "nosha256-<16 hex digits of FNV-1a over subject, issuer, notAfter>@fwcert")
//   DTSTAMP       options.now in UTC, YYYYMMDDTHHMMSSZ
//   DTSTART;VALUE=DATE  the UTC date of notAfter; DTEND;VALUE=DATE the next day (left out after 9999-12-31, where a
//                 DATE-only DTSTART already means one day, RFC 5545 3.6.1); dates are clamped to 0000..9999
//   SUMMARY       "<CN> certificate expires (<n> firmware images)" ("1 firmware image"); without CN the subject,
//                 without subject "sha256:<first 16 hex digits>"
//   DESCRIPTION   the exact instant (RFC 3339 and "HH:MM:SS UTC"), a note that the local date can differ from the UTC
//                 date, CN, subject, issuer, SHA-256, status and days left at `now`, roles, every image with location
//   CATEGORIES:certificate-expiry, TRANSP:TRANSPARENT, and one VALARM (ACTION:DISPLAY, TRIGGER:-P<n>D) per alarm day.
// Lines end in CRLF and are folded at 75 octets without splitting a UTF-8 sequence or a backslash escape.
// With no entries the calendar holds a UTC VTIMEZONE instead, since RFC 5545 requires at least one component.
std::string calendar_ics(const std::vector<CalendarEvent>& entries, const CalendarOptions& options);

// RFC 4180 CSV (CRLF line ends, header row, fields quoted when they hold , " CR or LF), one row per certificate:
//   not_after (RFC 3339), date (YYYY-MM-DD, UTC), days_left (floor((notAfter - now) / 86400)), common_name, subject,
//   issuer, sha256, status, images (count), roles ("; "), locations ("; " joined "image: location").
// Text cells starting with = + - @ TAB or CR get a leading apostrophe so spreadsheets do not run them as formulas
// (the two integer columns are ours and left as numbers).
std::string calendar_csv(const std::vector<CalendarEvent>& entries, const CalendarOptions& options);

// {"now": RFC 3339, "alarms": [90, 30, 7], "events": [{"uid", "sha256", "date" (YYYY-MM-DD), "not_after" (RFC 3339),
//  "days_left", "common_name", "subject", "issuer", "status", "roles": [...], "images": [{"path", "location"}]}]}
nlohmann::json calendar_json(const std::vector<CalendarEvent>& entries, const CalendarOptions& options);

}  // namespace fwcert
