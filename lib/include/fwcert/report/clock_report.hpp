// Reporters for `fwcert clock`: a table for people and a JSON document for tools (layout in docs/clock.md).
// Text from the firmware is untrusted: the table escapes control characters and invalid UTF-8 like the scan table.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <vector>

#include "fwcert/certs/clock.hpp"

namespace fwcert {

inline constexpr int kClockJsonFormatVersion = 1;

// Per input: the clocks, per service its certificates (who verifies, at which clock, status, alert, sentence) and
// its safe BMC clock window, then the image-wide window and what fails at the BMC clock.
void write_clock_table(std::ostream& out, const std::vector<ClockReport>& reports);

nlohmann::json clock_to_json(const std::vector<ClockReport>& reports);

}  // namespace fwcert
