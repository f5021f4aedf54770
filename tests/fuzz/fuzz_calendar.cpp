// The calendar writers (iCalendar, CSV, JSON) over hostile strings: the input is cut at NUL bytes into the text
// fields of a few events, the dates come from its first bytes (any 64-bit value, the clamping is under test too).
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_common.hpp"
#include "fwcert/report/calendar.hpp"

namespace {

int64_t read_i64(const uint8_t*& p, const uint8_t* end) {
  uint64_t v = 0;
  size_t n = std::min<size_t>(8, static_cast<size_t>(end - p));
  std::memcpy(&v, p, n);
  p += n;
  return static_cast<int64_t>(v);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const uint8_t* p = data;
  const uint8_t* end = data + size;
  fwcert::CalendarOptions options;
  options.now = read_i64(p, end);
  std::vector<std::string> fields;
  const uint8_t* start = p;
  for (; p <= end; ++p)
    if (p == end || *p == 0) {
      fields.emplace_back(reinterpret_cast<const char*>(start), static_cast<size_t>(p - start));
      start = p + 1;
    }
  std::vector<fwcert::CalendarEvent> events;
  for (size_t i = 0; i < fields.size(); i += 8) {
    auto field = [&](size_t k) -> std::string { return i + k < fields.size() ? fields[i + k] : std::string(); };
    fwcert::CalendarEvent e;
    e.sha256 = field(0);
    e.common_name = field(1);
    e.subject = field(2);
    e.issuer = field(3);
    e.roles = {field(4)};
    e.images = {{field(5), field(6)}};
    e.status = field(7);
    std::string d = field(0);
    uint64_t na = 0;
    std::memcpy(&na, d.data(), std::min<size_t>(8, d.size()));
    e.not_after = static_cast<int64_t>(na);
    events.push_back(std::move(e));
    if (events.size() >= 16) break;
  }
  (void)fwcert::calendar_ics(events, options);
  (void)fwcert::calendar_csv(events, options);
  (void)fwcert::calendar_json(events, options).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return 0;
}
