// Proleptic Gregorian calendar arithmetic in 64 bits (H. Hinnant's days-from-civil construction, which counts
// 400-year eras of 146097 days). The one place dates are computed; every date judgement and report uses it.
#pragma once

#include <cstdint>
#include <string>

namespace fwcert {

// Division rounding towards negative infinity (times before 1970 are negative).
int64_t floor_div(int64_t a, int64_t b);
bool is_leap_year(int64_t year);
int days_in_month(int64_t year, int month);  // month 1..12

// Days since 1970-01-01 of a civil date (month 1..12, day 1..31; not range-checked).
int64_t days_from_civil(int64_t year, int month, int day);

struct CivilTime {
  int64_t year = 1970;
  int month = 1, day = 1, hour = 0, minute = 0, second = 0;
};
CivilTime civil_from_unix(int64_t unix_seconds);

// "2026-05-17T09:46:36Z". Years outside 0000..9999 carry a sign (ISO 8601 expanded form, "+10000-01-01T...").
std::string rfc3339_utc(int64_t unix_seconds);
// "2026-05-17 09:46:36" (binwalk style).
std::string utc_time(int64_t unix_seconds);

}  // namespace fwcert
