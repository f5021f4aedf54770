// The certificate scan: every certificate, private key and keystore in an input, by content, with dates judged at an
// explicit clock, keys paired with certificates, and roles inferred from the firmware's own configuration.
#pragma once

#include <string>
#include <vector>

#include "fwcert/certs/compromised.hpp"
#include "fwcert/certs/records.hpp"
#include "fwcert/core/mapped_file.hpp"
#include "fwcert/extract/tree.hpp"

namespace fwcert {

struct ScanOptions {
  int64_t now = 0;     // unix seconds; every judgement uses this clock
  int warn_days = 90;  // certificates expiring within this many days are "expiring"
  ExtractOptions extract;
  std::vector<std::string> pkcs12_passwords;  // empty: default_pkcs12_passwords()
  // Known-compromised keys (load_compromised_keys): a certificate or key whose public key is listed gets the anomaly
  // "private key is public (SOURCE)". nullptr: no such check. Must outlive the scan.
  const CompromisedKeys* compromised_keys = nullptr;
};

// Scans one input (a firmware image, a vendor zip, a certificate, key or keystore file). `name` is how locations
// start. Never throws on bad bytes: problems are reported in ScanReport::problems.
ScanReport scan_input(ByteView input, const std::string& name, const Walker& walker, const ScanOptions& options);

// scan_input on a mapped file, which also reports a file that was truncated while it was read (ScanReport::incomplete).
ScanReport scan_file(const MappedFile& file, const std::string& name, const Walker& walker, const ScanOptions& options);

// The same on an already built tree.
ScanReport scan_tree(const Tree& tree, const ScanOptions& options);

// Below a folder, regular files of this size or more are taken for firmware images (a firmware library): each is an
// input of its own. The other files of the folder are one input.
constexpr uint64_t kFolderImageBytes = uint64_t{4} << 20;

struct FolderScan {
  std::vector<ScanReport> reports;      // the folder's own (when it holds other files), then one per image in it
  std::vector<std::string> unreadable;  // "PATH: reason": entries and images that could not be read
  bool empty = false;                   // not a single file in it
};

// Scans a folder given as one input (extract_folder_tree): its files are paired and given roles together, as the
// files of one firmware. A config's absolute path ("/etc/stunnel/server.crt") is resolved against the folder and each
// of its parents, so the folder may be the root of a filesystem or a part of one (its etc/stunnel/). Files of
// `separate_from` bytes or more are scanned as inputs of their own, except in fwextract's output (0: never).
FolderScan scan_folder(const std::string& dir, const Walker& walker, const ScanOptions& options,
                       uint64_t separate_from = kFolderImageBytes);

}  // namespace fwcert
