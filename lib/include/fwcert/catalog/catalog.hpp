// The catalog: a SQLite database of scan results across many firmware images, for the questions "which certificates
// expire when, and in which images" and "which certificates and private keys are shared across images".
//
// Storage (SQLite 3, schema version 2; WAL journal, foreign keys on, busy_timeout 30 s, synchronous=NORMAL, which in
// WAL mode keeps the database consistent on a crash or power loss and may only lose the last commits on power loss):
//   schema_version(version)                  one row
//   images(id, path UNIQUE, sha256, size, mtime, vendor, board, version, release_date, source, scanned_at,
//          now_used, warn_days)              one row per image path; now_used/warn_days = the clock of the scan
//   certificates(sha256 PK, sha1, subject, issuer, common_name, serial, not_before, not_after (unix; NULL when
//          unreadable), not_before_raw, not_after_raw, not_before_type, not_after_type, no_expiry, key_algorithm,
//          key_bits, key_curve, signature_algorithm, self_signed, is_ca, spki_sha256, der)
//                                            shared by all images (upserted: the latest scan's parse wins)
//   placements(image_id, cert_sha256, location)  one row per location of a certificate in an image
//   cert_roles(image_id, cert_sha256, role)      one row per role of a certificate in an image. Roles live apart from
//                                            locations because the scan gives them per certificate and input, not
//                                            per location (a stunnel.conf line names a path that may be one of
//                                            several copies).
//   private_keys(id, image_id, location, format, algorithm, bits, curve, encrypted, spki_sha256, alias)
//   cert_aliases(image_id, cert_sha256, alias)  JKS/JCEKS entry aliases of a certificate in an image (version 2)
//   key_matches(key_id, cert_sha256)         the certificates whose public key the private key matches
//   key_roles(key_id, role)
//   findings(id, image_id, cert_sha256 NULL, kind, location, severity, offset, text)
//                                            kind "anomaly" (cert_sha256 set: CertRecord::anomalies) or "problem"
//                                            (ScanReport::problems). The status is NOT stored: it goes stale; queries
//                                            recompute it from not_before/not_after at the clock they are given.
// Version 1 (before the aliases) is migrated when opened for writing (open, merge's output: private_keys.alias and
// cert_aliases added, images recorded before keep no alias); opened for queries it is read as it is, without aliases,
// and merge accepts version 1 shards.
// Every child row references images(id) ON DELETE CASCADE, so dropping an image row drops everything it recorded.
// Certificates no longer placed in any image are pruned when an image is replaced or removed.
//
// Crash safety: record(), remove_image() and each input of merge() run in one BEGIN IMMEDIATE ... COMMIT transaction
// (ROLLBACK on any error), so a process killed at any moment leaves each image either fully recorded or absent.
// A Catalog is one SQLite connection: use it from one thread at a time (open one per thread to read in parallel;
// writers queue on the database lock up to busy_timeout).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "fwcert/certs/records.hpp"
#include "fwcert/core/result.hpp"

namespace fwcert {

// Result of an operation that returns nothing but may fail.
using CatalogStatus = Result<std::monostate>;

// What is known about an image apart from its scan.
struct ImageMeta {
  std::string path;    // as the caller identifies it (the key of the catalog; `catalog add` uses normalize_image_path)
  std::string sha256;  // of the file, lowercase hex
  uint64_t size = 0;
  int64_t mtime = 0;   // unix seconds
  std::string vendor, board, version;
  std::string date;    // release date "YYYY-MM-DD" when the name carries one, else ""
  std::string source;  // where vendor/board/version came from: "manifest", "name" (derive_meta_from_name) or ""
};

// Small, documented file-name heuristics (directories and the extension .bin/.ima/.rom/.img/.zip/.fw are dropped,
// the rest split on '_' and '-'; case-insensitive):
//   vendor: first token SMT, SMM, REDFISH, BMC or a token X<digits>/H<digits>/B<digits>/M<digits> after it ->
//           "Supermicro"; "idrac" anywhere -> "Dell"; "ilo" followed by a digit ("ilo4", "ilo5") -> "HPE"
//           (board "iLO 4"); otherwise "".
//   board:  Supermicro: the first token like X9, X10, X11, H12, B11, X10SLH (letter X/H/B/M then 1-2 digits,
//           alphanumerics after), uppercased.
//   version: the first dotted token ("1.69.38", "v2.81" -> "2.81"), else the first 3-digit token read as
//           major.minor2 ("390" -> "3.90", "315" -> "3.15", "275" -> "2.75"), else "".
//   date:   the first 8-digit token that is a valid YYYYMMDD in 1990-2099 ("20200717" -> "2020-07-17").
// source is "name" when anything was derived, else "". path, sha256, size, mtime are left empty.
// Examples: "REDFISH_X10_390_20200717_unsigned.bin" -> Supermicro, X10, 3.90, 2020-07-17;
//           "SMT_X9_315.bin" -> Supermicro, X9, 3.15; "SMT_313.bin" -> Supermicro, "", 3.13;
//           "ilo4_275.bin" -> HPE, "iLO 4", 2.75.
ImageMeta derive_meta_from_name(const std::string& file_name);

// Reads a manifest CSV (RFC 4180: comma separated, "double quotes" around fields, "" for a quote inside, CRLF or
// LF line ends, empty lines skipped). With a header row (first field "path", case-insensitive) columns are taken by
// name: path (required), vendor, board, version, date; other columns are ignored. Without a header the columns are
// path,vendor,board,version in that order. Returns path -> ImageMeta (source "manifest"). Errors (with the byte
// offset): unterminated quote, text after a closing quote, an empty path, a duplicate path.
Result<std::map<std::string, ImageMeta>> read_manifest_csv(std::string_view text);

// Shard selection for splitting one scan over N processes or machines: true when FNV-1a-64(key) mod n == k - 1.
// k and n are 1-based ("--shard 2/4": k=2, n=4); false when n < 1 or k is outside 1..n. Use the path relative to
// the scanned root, with '/' separators, as the key so that every machine agrees.
bool in_shard(const std::string& key, int k, int n);

// How many bytes a scan of `file` will go through, to hand out the largest work first: the file's size, and for a zip
// (a vendor's package) also the members it will decompress, as its central directory states their sizes (libarchive
// lists them without decompressing anything). At most 65 times the file's size (a hostile directory cannot make one
// file look arbitrarily large). Only an ordering hint: nothing depends on it being right.
uint64_t estimated_scan_bytes(ByteView file);

// The same for a file on disk of `size` bytes, without mapping it unless it is a zip: its first four bytes are read
// (a FIFO or an unreadable file never blocks: it counts `size`). Only a zip is mapped, to list its central directory.
uint64_t estimated_file_scan_bytes(const std::string& path, uint64_t size);

// The key under which `catalog add` records an image file: absolute (against the current directory) and lexically
// normal ("." and ".." folded, duplicate and trailing slashes dropped), so that "imgs/x.bin", "./imgs/x.bin" and
// "/abs/imgs/x.bin" are one image. Symbolic links are deliberately not resolved: the path stays the one the user sees
// and needs no file system access, so a library reached through a symlinked mount keeps its keys when the link
// target moves (two different links to one file remain two images, as two copies would be).
std::string normalize_image_path(const std::string& path);

// A certificate as a user names it for `catalog where`: its SHA-256 in hex, in any case, with or without colons
// (or spaces) between the bytes, optionally in the form `openssl x509 -noout -fingerprint -sha256` prints
// ("sha256 Fingerprint=AB:CD:...", any case) or with a "sha256:" prefix; or a prefix of at least 8 hex digits.
// Returns the lowercase hex digits, or an error saying what is wrong (not hex, too short, too long).
Result<std::string> parse_sha256_query(std::string_view text);

// One recorded image.
struct ImageRow {
  int64_t id = 0;
  ImageMeta meta;
  int64_t scanned_at = 0;  // unix seconds when recorded
  int64_t now_used = 0;    // the clock the scan judged with
  int warn_days = 90;
  int64_t certificates = 0;  // distinct certificates placed in the image
  int64_t placements = 0;    // certificate locations (rows in placements)
  int64_t keys = 0;          // private keys
  int64_t problems = 0;      // findings of kind "problem"
};

// Where a certificate sits. roles = the certificate's roles in that image (the same on each of its locations).
struct Placement {
  std::string image_path;
  std::string location;
  std::vector<std::string> roles;
  std::vector<std::string> aliases;  // JKS/JCEKS entry aliases of the certificate in that image, sorted
};

struct CertFilter {
  std::vector<CertStatus> statuses;        // keep these statuses (judged at now/warn_days); empty = all
  std::optional<int64_t> expiring_before;  // keep notAfter < this (unix); certificates without a readable notAfter
                                           // are dropped then
  int64_t now = 0;                         // clock for status and days_left
  int warn_days = 90;
  int min_images = 0;                      // keep certificates placed in at least this many images (2 = shared)
};

struct CertEntry {
  Certificate cert;  // every field, der included
  CertStatus status = CertStatus::InvalidDate;
  std::optional<int64_t> days_left;
  int64_t image_count = 0;
  std::vector<Placement> placements;    // sorted by image path, then location
  std::vector<std::string> roles;       // distinct over all images, sorted
  std::vector<std::string> anomalies;   // distinct over all images, sorted
  std::vector<std::string> aliases;     // JKS/JCEKS entry aliases, distinct over all images, sorted
};

struct KeyPlacement {
  std::string image_path;
  std::string location;
  std::string format;
  bool encrypted = false;
  std::vector<std::string> roles;
  std::string alias;  // JKS/JCEKS entry alias, else ""
};

// A private key (identified by the SHA-256 of its public key) found in more than one image. Encrypted keys whose
// public key is unknown (no spki_sha256) cannot be identified and are never grouped.
struct SharedKey {
  std::string spki_sha256;
  KeyDesc key;
  std::vector<std::string> certificates;  // sha256 of matching certificates, distinct, sorted
  int64_t image_count = 0;
  int64_t vendor_count = 0;               // distinct non-empty ImageMeta::vendor of those images: above 1, several
                                          // vendors ship one private key (a shared SDK or supplier key)
  std::vector<KeyPlacement> placements;   // sorted by image path, then location
};

struct ImageLocation {
  std::string image_path;
  std::string location;
};

// One unique certificate for a calendar export.
struct CalendarEntry {
  std::string sha256, common_name, subject, issuer;
  int64_t not_after = 0;            // unix
  std::string not_after_raw;
  std::vector<std::string> roles;   // distinct, sorted
  std::vector<ImageLocation> images;  // every placement, sorted by image path then location
};

// What Catalog::merge did.
struct MergeReport {
  size_t merged = 0;                // inputs merged
  std::vector<std::string> failed;  // one message per input left out, naming it
};

class Catalog {
 public:
  // Opens or creates the database file (its directory must exist) and creates the schema when missing. Errors: not
  // a database, somebody else's SQLite database (refused before anything is written to it: the journal mode is
  // switched to WAL only once the file is known to be empty or a catalog), a newer schema version, I/O.
  // The only way a catalog is created: for commands that record (catalog add, merge's output).
  static Result<std::unique_ptr<Catalog>> open(const std::string& path);
  // Opens an existing catalog for queries: nothing is ever created or written (PRAGMA query_only; a file or folder
  // that is not writable is opened SQLITE_OPEN_READONLY, so it can be queried too), and a mistyped path is an error,
  // not a new empty catalog. Where the folder is writable the connection may write, only so that SQLite removes its
  // -wal and -shm files at close (a read-only connection leaves them behind). The file is checked
  // before SQLite reads it (missing, a directory, not a regular file) and its schema before any query (not an SQLite
  // database, an empty or foreign database, a newer schema version): each error names the path. Methods that write
  // (record, remove_image) fail on it with SQLite's "attempt to write a readonly database".
  static Result<std::unique_ptr<Catalog>> open_read_only(const std::string& path);
  ~Catalog();
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  // The recorded image with this path, if any (callers compare size+mtime, then sha256, to skip unchanged images).
  // nullopt also on a read error.
  std::optional<ImageRow> find_image(const std::string& path);
  // For `catalog add`: the image recorded under `path` (normalize_image_path), else one recorded under `spelled` (the
  // path as the user typed it, which is how fwcert recorded it before paths were normalised): that row is renamed to
  // `path`, so that a catalog made by an older fwcert goes on without scanning its images again or counting them
  // twice. nullopt when neither is recorded (or on a read error).
  std::optional<ImageRow> find_or_adopt_image(const std::string& path, const std::string& spelled);

  // Replaces everything recorded for meta.path with this scan, in one transaction. An empty meta.sha256 or a zero
  // meta.size falls back to report.sha256/report.size; report.now/warn_days are kept as now_used/warn_days.
  // scanned_at defaults to the current time (merge keeps the later one). Errors (an empty path, a certificate
  // without sha256, SQLite errors, SQLITE_BUSY after busy_timeout) roll back and leave the previous record in place.
  CatalogStatus record(const ImageMeta& meta, const ScanReport& report, std::optional<int64_t> scanned_at = {});
  // Removes an image and what it recorded (no error when absent).
  CatalogStatus remove_image(const std::string& path);

  Result<std::vector<ImageRow>> list_images();
  // Certificates placed in at least one image, sorted by notAfter (unreadable last), then sha256.
  Result<std::vector<CertEntry>> certificates(const CertFilter& filter);
  // The SHA-256 of the certificates placed in some image that start with `prefix` (lowercase hex digits, as
  // parse_sha256_query gives them), sorted, at most `limit` of them.
  Result<std::vector<std::string>> find_certificates(const std::string& prefix, size_t limit = 20);
  // Every placement of one certificate (empty when unknown).
  Result<std::vector<Placement>> where(const std::string& cert_sha256);
  // Private keys present in more than one image, sorted by spki_sha256.
  Result<std::vector<SharedKey>> shared_keys();
  // Private keys (by spki_sha256) present in at least `min_images` images: keys(1) is every identifiable key,
  // keys(2) is shared_keys(). Sorted by spki_sha256.
  Result<std::vector<SharedKey>> keys(int min_images);
  // One entry per certificate with a readable notAfter, sorted by notAfter then sha256; certificates expiring before
  // `now` only with include_past; "no expiry" (99991231235959Z) certificates are left out.
  Result<std::vector<CalendarEntry>> calendar_entries(int64_t now, bool include_past);
  // PRAGMA integrity_check plus foreign_key_check: "ok" or the first problems reported.
  Result<std::string> integrity_check();
  // Copies what the write-ahead log holds into the database file now (a passive checkpoint: never waits for
  // readers or the writer). Closing does it anyway. It runs on a connection of its own: one thread may call it while
  // another records (the other methods need one thread at a time).
  CatalogStatus checkpoint();
  // From now on, whenever a commit leaves at least `wal_frames` pages in the write-ahead log, a thread of the
  // catalog's own runs checkpoint(): the log stays short, its syncs overlap the caller's work, and the close has
  // little left to copy. (SQLite's own automatic checkpoint, which runs on the committing thread, is replaced.) The
  // thread stops when the catalog is closed.
  void checkpoint_in_background(int wal_frames);

  // Merges shard catalogs into out_path (created when missing): images (a path in several catalogs: the one with
  // the later scanned_at wins; on a tie the one already in out_path stays), certificates (upsert), and their
  // placements, roles, keys and findings re-linked to the new image ids. One transaction per input. An input that
  // cannot be merged (missing, not a catalog, the output itself, a newer schema, an SQLite error) is named in
  // MergeReport::failed and left out, and the merge goes on with the next input. Error: out_path cannot be opened.
  static Result<MergeReport> merge(const std::string& out_path, const std::vector<std::string>& inputs);

 private:
  struct Impl;
  explicit Catalog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace fwcert
