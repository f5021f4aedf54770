// Metrics for monitoring: the Prometheus text exposition format, as node_exporter's textfile collector reads it (no
// timestamps; HELP and TYPE before each family; each family's samples together). Names and labels follow the widely
// used x509 certificate exporters (x509_cert_not_after ...), with an fwcert_ prefix:
//   per certificate placement (one series per certificate and location in an image), labels image, location, sha256,
//   serial_number, subject_cn, issuer_cn, role (roles joined with ", "):
//     fwcert_cert_not_before_seconds, fwcert_cert_not_after_seconds   unix time (left out when the date is unreadable)
//     fwcert_cert_expired, fwcert_cert_expiring, fwcert_cert_not_yet_valid, fwcert_cert_invalid_date   0 or 1 at the
//                                                                     clock of the scan or export
//     fwcert_cert_private_key_shipped                                 1 when its private key is in the same image
//     fwcert_cert_key_compromised                                     1 when its private key is public (label source)
//   per private key placement, labels image, location, spki_sha256, format, encrypted, role:
//     fwcert_private_key_shipped (always 1), fwcert_key_compromised (0 or 1, label source)
//   per input or image, label image: fwcert_input_readable (0: could not be read, nothing else is known of it),
//     fwcert_scan_problems (scan only), fwcert_image_scan_clock_seconds (catalog: the clock its scan judged with);
//   and fwcert_clock_seconds, the clock of the judgements.
// Label values come from untrusted firmware: invalid UTF-8 is replaced with U+FFFD, then backslash, double quote and
// line feed are escaped as the format requires. A series whose labels repeat one already written is left out.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "fwcert/core/atomic_file.hpp"  // write_file_atomically, which -o uses
#include "fwcert/catalog/catalog.hpp"
#include "fwcert/certs/compromised.hpp"
#include "fwcert/report/scan_report.hpp"

namespace fwcert {

// A label value as the exposition format wants it, without the quotes.
std::string prometheus_label_value(std::string_view raw);

// `fwcert scan --format prometheus`.
std::string scan_to_prometheus(const std::vector<ScanReport>& reports, const std::vector<UnreadableInput>& unreadable);

// `fwcert catalog export --format prometheus`: every certificate placement of the catalog (`certs` as
// Catalog::certificates gives them, judged at `now` with `warn_days`), every private key placement (Catalog::keys(1)),
// flagged with `compromised` (may be nullptr), and every image.
std::string catalog_to_prometheus(const std::vector<ImageRow>& images, const std::vector<CertEntry>& certs,
                                  const std::vector<SharedKey>& keys, const CompromisedKeys* compromised, int64_t now);

}  // namespace fwcert
