#include "fwcert/core/civil_time.hpp"

#include <cinttypes>
#include <cstdio>

namespace fwcert {

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

bool is_leap_year(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int64_t y, int m) {
  static const int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12) return 0;
  return m == 2 && is_leap_year(y) ? 29 : kDays[m - 1];
}

int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = floor_div(y, 400);
  const int64_t yoe = y - era * 400;                          // [0, 399]
  const int64_t mp = m > 2 ? m - 3 : m + 9;                   // March = 0
  const int64_t doy = (153 * mp + 2) / 5 + d - 1;             // [0, 365]
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;  // [0, 146096]
  return era * 146097 + doe - 719468;                         // 719468 = days from 0000-03-01 to 1970-01-01
}

CivilTime civil_from_unix(int64_t t) {
  const int64_t days = floor_div(t, 86400);
  int64_t secs = t % 86400;  // not t - days * 86400, which overflows near INT64_MIN
  if (secs < 0) secs += 86400;
  const int64_t z = days + 719468;
  const int64_t era = floor_div(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  CivilTime c;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = yoe + era * 400 + (c.month <= 2 ? 1 : 0);
  c.hour = static_cast<int>(secs / 3600);
  c.minute = static_cast<int>(secs / 60 % 60);
  c.second = static_cast<int>(secs % 60);
  return c;
}

std::string rfc3339_utc(int64_t t) {
  const CivilTime c = civil_from_unix(t);
  char buf[80];
  std::snprintf(buf, sizeof buf, c.year >= 0 && c.year <= 9999 ? "%04" PRId64 "-%02d-%02dT%02d:%02d:%02dZ"
                                                                : "%+05" PRId64 "-%02d-%02dT%02d:%02d:%02dZ",
                c.year, c.month, c.day, c.hour, c.minute, c.second);
  return buf;
}

std::string utc_time(int64_t t) {
  std::string s = rfc3339_utc(t);
  s[s.find('T')] = ' ';
  s.pop_back();  // the Z
  return s;
}

}  // namespace fwcert
