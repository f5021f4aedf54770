#include "fwcert/report/calendar.hpp"

#include "fwcert/core/civil_time.hpp"
#include "fwcert/report/text.hpp"

#include <cinttypes>
#include <cstdio>
#include <limits>
#include <set>
#include <string_view>
#include <utility>

namespace fwcert {

namespace {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------------------------
// Time. Everything is UTC and computed from 64-bit unix seconds, never from the C library's clock or time zone.

// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the range a 4-digit iCalendar DATE / DATE-TIME can hold.
constexpr int64_t kIcsMin = -62167219200;
constexpr int64_t kIcsMax = 253402300799;

using Civil = CivilTime;
Civil civil(int64_t t) { return civil_from_unix(t); }

std::string iso_date(int64_t t) {
  const std::string s = rfc3339_utc(t);
  return s.substr(0, s.find('T'));
}

std::string hms_utc(int64_t t) {
  const Civil c = civil(t);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d UTC", c.hour, c.minute, c.second);
  return buf;
}

int64_t clamp_ics(int64_t t) { return t < kIcsMin ? kIcsMin : (t > kIcsMax ? kIcsMax : t); }

// RFC 5545 3.3.4 DATE "YYYYMMDD" (t clamped to the 4-digit range first).
std::string ics_date(int64_t t) {
  const Civil c = civil(clamp_ics(t));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04" PRId64 "%02d%02d", c.year, c.month, c.day);
  return buf;
}

// RFC 5545 3.3.5 DATE-TIME in UTC, "YYYYMMDDTHHMMSSZ".
std::string ics_datetime_utc(int64_t t) {
  const Civil c = civil(clamp_ics(t));
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04" PRId64 "%02d%02dT%02d%02d%02dZ", c.year, c.month, c.day, c.hour, c.minute,
                c.second);
  return buf;
}

// floor((not_after - now) / 86400) without signed overflow for extreme inputs.
int64_t days_left(int64_t not_after, int64_t now) {
  int64_t diff = 0;
  if (__builtin_sub_overflow(not_after, now, &diff))
    diff = not_after > now ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  return floor_div(diff, 86400);
}

// ---------------------------------------------------------------------------------------------------------------
// Untrusted text (decode_utf8 and valid_utf8 in fwcert/report/text.hpp).

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

std::string utf8(std::string_view s) { return valid_utf8(s); }

// RFC 5545 3.3.11 TEXT: backslash, semicolon and comma escaped; CR LF, LF and CR each become "\n". TSAFE-CHAR has no
// other control characters than HTAB, so the rest of C0 and DEL become U+FFFD, as do invalid UTF-8 bytes.
std::string ics_text(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  bool after_cr = false;
  decode_utf8(s, [&](int32_t cp, std::string_view bytes) {
    const bool lf_after_cr = after_cr && cp == '\n';
    after_cr = cp == '\r';
    if (lf_after_cr) return;  // the CR already wrote "\n"
    switch (cp) {
      case '\\': out += "\\\\"; return;
      case ';': out += "\\;"; return;
      case ',': out += "\\,"; return;
      case '\r':
      case '\n': out += "\\n"; return;
      case '\t': out += '\t'; return;
      default: break;
    }
    if (cp < 0 || cp < 0x20 || cp == 0x7F)
      out += kReplacement;
    else
      out += bytes;
  });
  return out;
}

// RFC 5545 3.1: content lines are split after at most 75 octets (excluding the CRLF); each continuation line starts
// with one space, which counts toward its 75. A cut never lands inside a UTF-8 sequence (the input is valid UTF-8, so
// backing off over continuation bytes finds a sequence start) nor between a backslash and the character it escapes
// (legal, since unfolding rejoins them, but lenient parsers that unescape per physical line get it wrong).
void fold_into(std::string& out, std::string_view line) {
  constexpr size_t kMax = 75;
  size_t pos = 0;
  size_t room = kMax;
  while (line.size() - pos > room) {
    size_t cut = pos + room;
    while (cut > pos && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;
    size_t backslashes = 0;
    for (size_t k = cut; k > pos && line[k - 1] == '\\'; --k) ++backslashes;
    if (backslashes % 2 == 1) --cut;
    if (cut <= pos) cut = pos + room;  // unreachable for valid UTF-8 (a unit is at most 4 octets); keeps progress
    out.append(line.substr(pos, cut - pos));
    out += "\r\n ";
    pos = cut;
    room = kMax - 1;
  }
  out.append(line.substr(pos));
  out += "\r\n";
}

// ---------------------------------------------------------------------------------------------------------------
// Entries, normalised: sanitized strings, lowercase SHA-256, UID, duplicates merged.

struct Event {
  std::string uid, sha256, common_name, subject, issuer, status;
  int64_t not_after = 0;
  std::vector<std::string> roles;
  std::vector<CalendarImage> images;
  size_t image_count = 0;  // distinct image paths (one image can hold the certificate at several locations)
};

std::string lower_ascii(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

// Fallback identity for an entry without SHA-256: FNV-1a 64 over the fields that identify the certificate.
std::string fallback_uid(const CalendarEvent& e) {
  uint64_t h = 0xcbf29ce484222325ULL;
  const auto mix = [&](std::string_view s) {
    for (const char c : s) {
      h ^= static_cast<unsigned char>(c);
      h *= 0x100000001b3ULL;
    }
    h ^= 0xFF;  // field separator that no UTF-8 text contains
    h *= 0x100000001b3ULL;
  };
  mix(e.subject);
  mix(e.issuer);
  mix(e.common_name);
  mix(std::to_string(e.not_after));
  char buf[40];
  std::snprintf(buf, sizeof buf, "nosha256-%016" PRIx64 "@fwcert", h);
  return buf;
}

void add_role(Event& ev, const std::string& role) {
  const std::string r = utf8(role);
  for (const auto& have : ev.roles)
    if (have == r) return;
  ev.roles.push_back(r);
}

void add_image(Event& ev, const CalendarImage& image) {
  CalendarImage im{utf8(image.path), utf8(image.location)};
  bool new_path = true;
  for (const auto& have : ev.images) {
    if (have.path == im.path && have.location == im.location) return;
    if (have.path == im.path) new_path = false;
  }
  if (new_path) ++ev.image_count;
  ev.images.push_back(std::move(im));
}

std::vector<Event> normalise(const std::vector<CalendarEvent>& entries) {
  std::vector<Event> events;
  for (const auto& e : entries) {
    const std::string sha = lower_ascii(utf8(e.sha256));
    const std::string uid = sha.empty() ? fallback_uid(e) : sha + "@fwcert";
    Event* ev = nullptr;
    for (auto& have : events)
      if (have.uid == uid) ev = &have;
    if (ev == nullptr) {
      Event fresh;
      fresh.uid = uid;
      fresh.sha256 = sha;
      fresh.common_name = utf8(e.common_name);
      fresh.subject = utf8(e.subject);
      fresh.issuer = utf8(e.issuer);
      fresh.status = utf8(e.status);
      fresh.not_after = e.not_after;
      events.push_back(std::move(fresh));
      ev = &events.back();
    }
    for (const auto& r : e.roles) add_role(*ev, r);
    for (const auto& im : e.images) add_image(*ev, im);
  }
  return events;
}

// What the SUMMARY and alarms call the certificate.
std::string display_name(const Event& ev) {
  if (!ev.common_name.empty()) return ev.common_name;
  if (!ev.subject.empty()) return ev.subject;
  if (!ev.sha256.empty()) return "sha256:" + ev.sha256.substr(0, 16);
  return "unnamed";
}

std::vector<int> alarm_days(const CalendarOptions& o) {
  std::vector<int> out;
  for (const int d : o.alarm_days) {
    if (d < 0) continue;
    bool seen = false;
    for (const int have : out) seen = seen || have == d;
    if (!seen) out.push_back(d);
  }
  return out;
}

std::string plural(size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string description(const Event& ev, const CalendarOptions& o) {
  std::string d;
  d += "Certificate \"" + display_name(ev) + "\" expires at " + rfc3339_utc(ev.not_after) + " (" +
       hms_utc(ev.not_after) + " on " + iso_date(ev.not_after) + ").\n";
  d += "This all-day event is on the UTC date; the local date can differ: an expiry at 00:00:00 UTC is still the "
       "previous day in the Americas, so plan by the UTC time above.\n";
  d += "Common name: " + (ev.common_name.empty() ? std::string("(none)") : ev.common_name) + "\n";
  d += "Subject: " + ev.subject + "\n";
  d += "Issuer: " + ev.issuer + "\n";
  d += "SHA-256: " + ev.sha256 + "\n";
  d += "Status at " + rfc3339_utc(o.now) + ": " + (ev.status.empty() ? std::string("unknown") : ev.status) +
       ", days left: " + std::to_string(days_left(ev.not_after, o.now)) + "\n";
  std::string roles;
  for (const auto& r : ev.roles) roles += (roles.empty() ? "" : ", ") + r;
  d += "Roles: " + (roles.empty() ? std::string("(none)") : roles) + "\n";
  d += "Firmware images (" + std::to_string(ev.image_count) + "):";
  for (const auto& im : ev.images) d += "\n- " + im.path + (im.location.empty() ? "" : ": " + im.location);
  return d;
}

// ---------------------------------------------------------------------------------------------------------------
// CSV (RFC 4180).

std::string csv_cell(std::string_view raw, bool guard) { return csv_field(raw, guard); }

void csv_row(std::string& out, const std::vector<std::pair<std::string, bool>>& cells) {
  bool first = true;
  for (const auto& [text, guard] : cells) {
    if (!first) out += ',';
    first = false;
    out += csv_cell(text, guard);
  }
  out += "\r\n";
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------

std::string calendar_ics(const std::vector<CalendarEvent>& entries, const CalendarOptions& options) {
  const std::vector<Event> events = normalise(entries);
  const std::vector<int> alarms = alarm_days(options);
  std::string out;
  const auto line = [&](std::string_view content) { fold_into(out, content); };
  const auto text = [&](std::string_view name, std::string_view value) {
    line(std::string(name) + ":" + ics_text(value));
  };

  line("BEGIN:VCALENDAR");
  line("VERSION:2.0");
  text("PRODID", options.prodid);
  line("CALSCALE:GREGORIAN");
  line("METHOD:PUBLISH");
  line("X-WR-CALNAME:Firmware certificate expiry");
  if (events.empty()) {
    // RFC 5545 3.6: an iCalendar object holds at least one component. A UTC time zone is the only one that says
    // nothing false about an empty selection.
    line("BEGIN:VTIMEZONE");
    line("TZID:UTC");
    line("BEGIN:STANDARD");
    line("DTSTART:19700101T000000");
    line("TZOFFSETFROM:+0000");
    line("TZOFFSETTO:+0000");
    line("TZNAME:UTC");
    line("END:STANDARD");
    line("END:VTIMEZONE");
  }
  const std::string dtstamp = ics_datetime_utc(options.now);
  for (const Event& ev : events) {
    const std::string name = display_name(ev);
    line("BEGIN:VEVENT");
    text("UID", ev.uid);
    line("DTSTAMP:" + dtstamp);
    const int64_t start = clamp_ics(ev.not_after);
    line("DTSTART;VALUE=DATE:" + ics_date(start));
    // The day after the (clamped) expiry date; past 9999-12-31 there is no 4-digit DATE, and a DATE-only DTSTART
    // without DTEND already lasts one day (RFC 5545 3.6.1).
    if (floor_div(start, 86400) < floor_div(kIcsMax, 86400)) line("DTEND;VALUE=DATE:" + ics_date(start + 86400));
    const std::string images = plural(ev.image_count, "firmware image", "firmware images");
    text("SUMMARY", name + " certificate expires (" + images + ")");
    text("DESCRIPTION", description(ev, options));
    line("CATEGORIES:certificate-expiry");
    line("TRANSP:TRANSPARENT");
    for (const int d : alarms) {
      line("BEGIN:VALARM");
      line("ACTION:DISPLAY");
      text("DESCRIPTION", name + " certificate expires " +
                              (d == 0 ? std::string("today") : "in " + plural(static_cast<size_t>(d), "day", "days")));
      line("TRIGGER:-P" + std::to_string(d) + "D");
      line("END:VALARM");
    }
    line("END:VEVENT");
  }
  line("END:VCALENDAR");
  return out;
}

std::string calendar_csv(const std::vector<CalendarEvent>& entries, const CalendarOptions& options) {
  std::string out;
  csv_row(out, {{"not_after", false},
                {"date", false},
                {"days_left", false},
                {"common_name", false},
                {"subject", false},
                {"issuer", false},
                {"sha256", false},
                {"status", false},
                {"images", false},
                {"roles", false},
                {"locations", false}});
  for (const Event& ev : normalise(entries)) {
    std::string roles, locations;
    for (const auto& r : ev.roles) roles += (roles.empty() ? "" : "; ") + r;
    for (const auto& im : ev.images)
      locations += (locations.empty() ? "" : "; ") + im.path + (im.location.empty() ? "" : ": " + im.location);
    csv_row(out, {{rfc3339_utc(ev.not_after), true},
                  {iso_date(ev.not_after), true},
                  {std::to_string(days_left(ev.not_after, options.now)), false},
                  {ev.common_name, true},
                  {ev.subject, true},
                  {ev.issuer, true},
                  {ev.sha256, true},
                  {ev.status, true},
                  {std::to_string(ev.image_count), false},
                  {roles, true},
                  {locations, true}});
  }
  return out;
}

nlohmann::json calendar_json(const std::vector<CalendarEvent>& entries, const CalendarOptions& options) {
  json events = json::array();
  for (const Event& ev : normalise(entries)) {
    json images = json::array();
    for (const auto& im : ev.images) images.push_back({{"path", im.path}, {"location", im.location}});
    events.push_back({{"uid", ev.uid},
                      {"sha256", ev.sha256},
                      {"date", iso_date(ev.not_after)},
                      {"not_after", rfc3339_utc(ev.not_after)},
                      {"days_left", days_left(ev.not_after, options.now)},
                      {"common_name", ev.common_name},
                      {"subject", ev.subject},
                      {"issuer", ev.issuer},
                      {"status", ev.status},
                      {"roles", ev.roles},
                      {"images", std::move(images)}});
  }
  return {{"now", rfc3339_utc(options.now)}, {"alarms", alarm_days(options)}, {"events", std::move(events)}};
}

}  // namespace fwcert
