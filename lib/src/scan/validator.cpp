#include "fwcert/scan/validator.hpp"

#include <cinttypes>
#include <cstdio>

namespace fwcert {

void ValidatorRegistry::add(std::string name, std::string summary, ValidateFn fn) {
  validators_.push_back(Validator{std::move(name), std::move(summary), std::move(fn)});
}

const Validator* ValidatorRegistry::find(const std::string& name) const {
  for (const auto& v : validators_)
    if (v.name == name) return &v;
  return nullptr;
}

void register_builtin_validators(ValidatorRegistry& registry) {
  register_cramfs_uimage_validators(registry);
  register_firmware_validators(registry);
  register_filesystem_validators(registry);
  register_compression_validators(registry);
  register_archive_validators(registry);
  register_key_validators(registry);
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%" PRIX64, v);
  return buf;
}

std::string printable(std::string_view s, size_t max) {
  std::string out;
  for (char c : s.substr(0, max)) out.push_back(c >= 0x20 && c < 0x7f ? c : '.');
  return out;
}

std::string utc_time(int64_t t) {
  // Civil-from-days (Howard Hinnant's algorithm), 64-bit throughout so no date wraps.
  int64_t days = t / 86400, secs = t % 86400;
  if (secs < 0) {
    secs += 86400;
    --days;
  }
  days += 719468;
  int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  int64_t doe = days - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char buf[128];
  std::snprintf(buf, sizeof buf, "%04" PRId64 "-%02" PRId64 "-%02" PRId64 " %02" PRId64 ":%02" PRId64 ":%02" PRId64, y, m,
                d, secs / 3600, (secs / 60) % 60, secs % 60);
  return buf;
}

}  // namespace fwcert
