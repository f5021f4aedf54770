// One live BMC judged: what it serves (probe_tls), where that certificate came from (the catalog), the BMC's own clock
// (Redfish, IPMI) and what the certificates look like at that clock. `fwcert probe` prints one of these per host,
// `fwcert fleet check` a summary row per host and an exit status for monitoring.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fwcert/catalog/catalog.hpp"
#include "fwcert/live/probe.hpp"

namespace fwcert {

struct HostSpec {
  Endpoint endpoint;
  std::string redfish_url;        // "" = no Redfish clock
  std::optional<Endpoint> ipmi;   // nullopt = no IPMI clock
  std::string label;
};

struct CheckOptions {
  ProbeOptions probe;             // probe.now is the clock every certificate is judged at
  RedfishOptions redfish;
  IpmiOptions ipmi;
  int warn_days = 30;
  int64_t max_skew = 60;          // seconds: a BMC clock further off is a finding
};

// A served certificate judged at our clock and at the BMC's.
struct ServedCert {
  Certificate cert;
  CertStatus status = CertStatus::InvalidDate;   // at options.probe.now
  std::optional<int64_t> days_left;
  std::optional<CertStatus> bmc_status;          // at now + skew, when the BMC's clock is known
  std::optional<int64_t> bmc_clock;              // now + skew
  // Seconds the BMC clock may still move before the certificate fails at it: back (to notBefore) and ahead (to
  // notAfter). Negative: it fails already by that much.
  std::optional<int64_t> margin_behind, margin_ahead;
  std::vector<Placement> placements;             // where the catalog has it (empty: no catalogued firmware)
};

struct HostCheck {
  HostSpec spec;
  ProbeResult probe;
  std::optional<BmcClock> redfish, ipmi;
  std::vector<ServedCert> served;
  bool catalog_used = false;      // a catalog was consulted (else "firmware" is not known either way)
  bool unreachable = false;       // no TLS handshake got as far as a certificate
  bool unknown_firmware = false;  // the leaf is in no catalogued firmware (only with a catalog)
  std::optional<int64_t> skew;    // the clock used for the BMC judgements (Redfish first, then IPMI)
  std::vector<std::string> findings;  // each a sentence; empty = all good
  std::vector<std::string> finding_tags;  // the same findings in a few words ("clock skew -259200 s"), for summaries
  std::vector<std::string> notes;     // things worth saying that are not findings
  // The firmware the leaf came from, judged with analyze_clock at the BMC's clock: one line per certificate the BMC
  // verifies (services that fail now because of the skew become findings) and per service's safe BMC clock window
  // with the margin left at the BMC's clock.
  std::vector<std::string> bmc_verified;
};

// The catalogued images rebuilt for analyze_clock, loaded once and shared by the hosts of one run.
struct FirmwareClockModels {
  bool loaded = false;
  std::string error;
  std::vector<ScanReport> images;
};

// The network part (no catalog): probe, then the clocks asked for. Safe to run on several threads at once.
HostCheck run_host_check(const HostSpec& spec, const CheckOptions& options);

// Judges what run_host_check gathered: statuses at both clocks, catalog placements (catalog may be null), findings.
// models: where the catalogued images are cached for analyze_clock (loaded on first need; nullptr: not judged).
void judge_host_check(HostCheck& h, Catalog* catalog, const CheckOptions& options,
                      FirmwareClockModels* models = nullptr);

// Human-readable report of one host (fwcert probe's table format).
void write_host_check_text(std::ostream& out, const HostCheck& h, const CheckOptions& options);
nlohmann::json host_check_to_json(const HostCheck& h, const CheckOptions& options);
// One CSV/table row per served certificate (a row with the error when none): header and rows.
std::vector<std::string> served_rows_header();
std::vector<std::vector<std::string>> served_rows(const HostCheck& h);

// --- fleet -------------------------------------------------------------------------------------------------------

// The inventory: CSV with columns host, port, redfish, ipmi, label (a header row whose first field is "host" names
// them in any order; without one they are taken in that order). Empty lines and lines starting with '#' are skipped.
// Errors name the line.
Result<std::vector<HostSpec>> read_inventory_csv(std::string_view text);

struct FleetPolicy {
  bool fail_on_unknown = false;
  bool fail_on_unreachable = false;
};
// Runs every host with at most `jobs` at a time and judges them in inventory order.
std::vector<HostCheck> run_fleet(const std::vector<HostSpec>& hosts, const CheckOptions& options, int jobs,
                                 Catalog* catalog);
// One summary row per host: host, label, served certificate, status (ours, the BMC's), firmware, skew, verdict (short:
// ok, unreachable, or FINDING: with a tag per finding) and details (the findings' sentences).
std::vector<std::string> fleet_rows_header();
std::vector<std::string> fleet_row(const HostCheck& h, const FleetPolicy& policy);
// True when the host counts against the exit status.
bool fleet_host_fails(const HostCheck& h, const FleetPolicy& policy);

// `fwcert fleet check --format prometheus`: per host (labels host, label) fwcert_bmc_up (a TLS handshake got as far
// as a certificate), fwcert_bmc_clock_skew_seconds (BMC clock minus ours; only when a clock was read, label source),
// fwcert_bmc_clock_not_set (IPMI: the clock was never set), fwcert_bmc_findings (how many), fwcert_bmc_ok (1 when
// the host does not count against the exit status), and per served leaf fwcert_served_cert_not_after_seconds and
// fwcert_served_cert_not_yet_valid_at_bmc (labels host, label, sha256, subject_cn, firmware).
std::string fleet_to_prometheus(const std::vector<HostCheck>& hosts, const FleetPolicy& policy);

}  // namespace fwcert
