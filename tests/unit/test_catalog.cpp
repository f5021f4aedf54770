// The catalog (SQLite storage of scan results across images): recording, replacing, queries at a pinned clock,
// shard merge, crash safety under SIGKILL, manifests, name heuristics, hostile database files.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <archive.h>
#include <archive_entry.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "fwcert/catalog/catalog.hpp"
#include "fwcert/certs/scan.hpp"
#include "fwcert/report/catalog_report.hpp"
#include "support.hpp"

using namespace fwtest;
using fwcert::Catalog;
using fwcert::CertStatus;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kDay = 86400;
constexpr int64_t k2026Jan1 = 1767225600;  // 2026-01-01T00:00:00Z: the pinned clock

// A fresh directory per test, removed afterwards.
struct TempDir {
  fs::path dir;
  TempDir() {
    static std::atomic<int> counter{0};
    dir = fs::temp_directory_path() /
          ("fwcert-catalog-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string file(const std::string& name) const { return (dir / name).string(); }
};

fwcert::CertRecord cert(const std::string& sha, const std::string& cn, std::optional<int64_t> nb,
                        std::optional<int64_t> na, std::vector<std::string> locations,
                        std::vector<std::string> roles = {}) {
  fwcert::CertRecord r;
  r.cert.sha256 = sha;
  r.cert.sha1 = sha.substr(0, 8);
  r.cert.common_name = cn;
  r.cert.subject = "CN=" + cn;
  r.cert.issuer = "CN=Test CA";
  r.cert.serial = "01";
  r.cert.not_before = {"UTCTime", "nb-" + cn, nb, false, nb ? "" : "unreadable", std::nullopt};
  r.cert.not_after = {"UTCTime", "na-" + cn, na, false, na ? "" : "unreadable", std::nullopt};
  r.cert.key = {"RSA", 2048, ""};
  r.cert.signature_algorithm = "sha256WithRSAEncryption";
  r.cert.spki_sha256 = "spki-" + sha;
  r.cert.der = {0x30, 0x03, 0x02, 0x01, static_cast<uint8_t>(sha.empty() ? 0 : sha[0])};
  r.locations = std::move(locations);
  r.roles = std::move(roles);
  return r;
}

fwcert::PrivateKey key(const std::string& location, const std::string& spki, std::vector<std::string> certs = {},
                       bool encrypted = false) {
  fwcert::PrivateKey k;
  k.location = location;
  k.format = encrypted ? "PEM encrypted PKCS#8" : "PEM PKCS#8";
  if (!encrypted) k.key = {"RSA", 2048, ""};
  k.encrypted = encrypted;
  k.spki_sha256 = spki;
  k.certificates = std::move(certs);
  k.roles = {"stunnel server private key"};
  return k;
}

fwcert::ScanReport report(const std::string& name, std::vector<fwcert::CertRecord> certs,
                          std::vector<fwcert::PrivateKey> keys = {}) {
  fwcert::ScanReport r;
  r.input = name;
  r.sha256 = "sha-" + name;
  r.size = 1000;
  r.now = k2026Jan1;
  r.certificates = std::move(certs);
  r.keys = std::move(keys);
  return r;
}

fwcert::ImageMeta meta(const std::string& path, const std::string& sha = "") {
  fwcert::ImageMeta m = fwcert::derive_meta_from_name(path);
  m.path = path;
  m.sha256 = sha.empty() ? "sha-" + path : sha;
  m.size = 1000;
  m.mtime = 1600000000;
  return m;
}

std::unique_ptr<Catalog> open_ok(const std::string& path) {
  auto c = Catalog::open(path);
  INFO((c ? std::string() : c.error().message));
  REQUIRE(c);
  return std::move(*c);
}

void record_ok(Catalog& c, const fwcert::ImageMeta& m, const fwcert::ScanReport& r, int64_t scanned_at = 1700000000) {
  auto res = c.record(m, r, scanned_at);
  INFO((res ? std::string() : res.error().message));
  REQUIRE(res);
}

// How many images a copy of the database file alone (without its write-ahead log) lists: what a careless backup gets.
size_t images_in_copy(const TempDir& tmp, const std::string& db, const std::string& name) {
  const std::string copy = tmp.file(name);
  std::filesystem::remove(copy);
  std::filesystem::copy_file(db, copy);
  auto cc = open_ok(copy);
  auto images = cc->list_images();
  REQUIRE(images);
  return images->size();
}

// The catalog lists n images and passes its integrity check.
void check_whole(Catalog& c, size_t n) {
  auto images = c.list_images();
  REQUIRE(images);
  CHECK(images->size() == n);
  auto ic = c.integrity_check();
  REQUIRE(ic);
  CHECK(*ic == "ok");
}

std::vector<std::string> image_paths(const std::vector<fwcert::Placement>& ps) {
  std::vector<std::string> out;
  for (const auto& p : ps) out.push_back(p.image_path);
  return out;
}

// A textual dump of every query, to compare two catalogs (ids and scanned_at aside).
std::string dump(Catalog& c) {
  std::string out;
  auto images = c.list_images();
  REQUIRE(images);
  for (const auto& i : *images)
    out += "image " + i.meta.path + " " + i.meta.sha256 + " " + i.meta.vendor + " " + i.meta.board + " " +
           i.meta.version + " certs=" + std::to_string(i.certificates) + " placements=" +
           std::to_string(i.placements) + " keys=" + std::to_string(i.keys) + " problems=" +
           std::to_string(i.problems) + "\n";
  fwcert::CertFilter f;
  f.now = k2026Jan1;
  auto certs = c.certificates(f);
  REQUIRE(certs);
  for (const auto& e : *certs) {
    out += "cert " + e.cert.sha256 + " " + std::string(fwcert::to_string(e.status)) + " n=" +
           std::to_string(e.image_count) + " der=" + std::to_string(e.cert.der.size()) + "\n";
    for (const auto& p : e.placements) {
      out += "  at " + p.image_path + " " + p.location;
      for (const auto& r : p.roles) out += " [" + r + "]";
      out += "\n";
    }
    for (const auto& a : e.anomalies) out += "  anomaly " + a + "\n";
  }
  auto keys = c.shared_keys();
  REQUIRE(keys);
  for (const auto& k : *keys) {
    out += "key " + k.spki_sha256 + " n=" + std::to_string(k.image_count);
    for (const auto& s : k.certificates) out += " cert=" + s;
    out += "\n";
    for (const auto& p : k.placements) out += "  at " + p.image_path + " " + p.location + "\n";
  }
  auto cal = c.calendar_entries(0, true);
  REQUIRE(cal);
  for (const auto& e : *cal) out += "cal " + e.sha256 + " " + std::to_string(e.not_after) + "\n";
  return out;
}

// Three images sharing certificate "aaa"; "bbb" only in img1; "ccc" in img2 and img3.
void record_three(Catalog& c) {
  const int64_t t = k2026Jan1;
  record_ok(c, meta("img1.bin"),
            report("img1.bin",
                   {cert("aaa", "shared", t - 400 * kDay, t + 30 * kDay, {"img1.bin!cramfs@0x0:/etc/a.crt"},
                         {"stunnel server certificate"}),
                    cert("bbb", "one", t - 400 * kDay, t - 10 * kDay, {"img1.bin!cramfs@0x0:/etc/b.crt"})},
                   {key("img1.bin!cramfs@0x0:/etc/a.key", "spki-aaa", {"aaa"}),
                    key("img1.bin!cramfs@0x0:/etc/enc.key", "", {}, true)}));
  record_ok(c, meta("img2.bin"),
            report("img2.bin",
                   {cert("aaa", "shared", t - 400 * kDay, t + 30 * kDay,
                         {"img2.bin!cramfs@0x0:/etc/a.crt", "img2.bin!cramfs@0x0:/jar!zip:res/a.crt"},
                         {"iKVM client certificate"}),
                    cert("ccc", "later", t + 10 * kDay, t + 800 * kDay, {"img2.bin!cramfs@0x0:/etc/c.crt"})},
                   {key("img2.bin!cramfs@0x0:/etc/a.key", "spki-aaa", {"aaa"}),
                    key("img2.bin!cramfs@0x0:/etc/enc.key", "", {}, true)}));
  record_ok(c, meta("img3.bin"),
            report("img3.bin", {cert("aaa", "shared", t - 400 * kDay, t + 30 * kDay, {"img3.bin!x:/a.crt"}),
                                cert("ccc", "later", t + 10 * kDay, t + 800 * kDay, {"img3.bin!x:/c.crt"}),
                                cert("ddd", "broken", std::nullopt, std::nullopt, {"img3.bin!x:/d.crt"})},
                   {key("img3.bin!x:/solo.key", "spki-solo")}));
}

}  // namespace

TEST_CASE("catalog: a certificate shared by three images is listed in all three") {
  TempDir tmp;
  auto c = open_ok(tmp.file("cat.db"));
  record_three(*c);
  auto w = c->where("aaa");
  REQUIRE(w);
  REQUIRE(w->size() == 4);  // img2 has it twice
  CHECK(image_paths(*w) == std::vector<std::string>{"img1.bin", "img2.bin", "img2.bin", "img3.bin"});
  CHECK((*w)[0].location == "img1.bin!cramfs@0x0:/etc/a.crt");
  CHECK((*w)[0].roles == std::vector<std::string>{"stunnel server certificate"});
  CHECK((*w)[1].roles == std::vector<std::string>{"iKVM client certificate"});
  CHECK((*w)[3].roles.empty());
  auto none = c->where("nope");
  REQUIRE(none);
  CHECK(none->empty());

  auto images = c->list_images();
  REQUIRE(images);
  REQUIRE(images->size() == 3);
  CHECK((*images)[1].meta.path == "img2.bin");
  CHECK((*images)[1].certificates == 2);
  CHECK((*images)[1].placements == 3);
  CHECK((*images)[1].keys == 2);
  CHECK((*images)[1].now_used == k2026Jan1);
  CHECK((*images)[1].scanned_at == 1700000000);

  auto found = c->find_image("img3.bin");
  REQUIRE(found);
  CHECK(found->meta.sha256 == "sha-img3.bin");
  CHECK(found->meta.size == 1000);
  CHECK(found->meta.mtime == 1600000000);
  CHECK(found->placements == 3);
  CHECK_FALSE(c->find_image("img4.bin"));
  auto ic = c->integrity_check();
  REQUIRE(ic);
  CHECK(*ic == "ok");
}

TEST_CASE("catalog: recording an image again replaces its rows; removing drops them and orphaned certificates") {
  TempDir tmp;
  auto c = open_ok(tmp.file("cat.db"));
  record_three(*c);
  const int64_t t = k2026Jan1;
  // img1 again, without "bbb", with "aaa" at a new place.
  fwcert::ScanReport r =
      report("img1.bin", {cert("aaa", "shared", t - 400 * kDay, t + 30 * kDay, {"img1.bin!new:/a.crt"})});
  r.problems.push_back({"img1.bin!cramfs@0x0", {0x40, fwcert::Severity::Warning, "truncated"}});
  record_ok(*c, meta("img1.bin", "sha-new"), r);
  record_ok(*c, meta("img1.bin", "sha-new"), r);  // twice: still no duplicates

  auto w = c->where("aaa");
  REQUIRE(w);
  CHECK(image_paths(*w) == std::vector<std::string>{"img1.bin", "img2.bin", "img2.bin", "img3.bin"});
  CHECK((*w)[0].location == "img1.bin!new:/a.crt");
  CHECK((*w)[0].roles.empty());  // the old role went with the old record
  auto gone = c->where("bbb");
  REQUIRE(gone);
  CHECK(gone->empty());
  auto img1 = c->find_image("img1.bin");
  REQUIRE(img1);
  CHECK(img1->meta.sha256 == "sha-new");
  CHECK(img1->placements == 1);
  CHECK(img1->keys == 0);
  CHECK(img1->problems == 1);
  auto images = c->list_images();
  REQUIRE(images);
  CHECK(images->size() == 3);
  fwcert::CertFilter f;
  f.now = t;
  auto certs = c->certificates(f);
  REQUIRE(certs);
  std::set<std::string> shas;
  for (const auto& e : *certs) shas.insert(e.cert.sha256);
  CHECK(shas == std::set<std::string>{"aaa", "ccc", "ddd"});

  REQUIRE(c->remove_image("img3.bin"));
  REQUIRE(c->remove_image("not-there.bin"));
  certs = c->certificates(f);
  REQUIRE(certs);
  shas.clear();
  for (const auto& e : *certs) shas.insert(e.cert.sha256);
  CHECK(shas == std::set<std::string>{"aaa", "ccc"});
  CHECK_FALSE(c->find_image("img3.bin"));
  auto ic = c->integrity_check();
  REQUIRE(ic);
  CHECK(*ic == "ok");
}

TEST_CASE("catalog: a certificate seen again keeps its row unless what is read from it changed") {
  TempDir tmp;
  auto c = open_ok(tmp.file("cat.db"));
  record_three(*c);  // "ddd" has unreadable dates (NULL in the database)
  const int64_t t = k2026Jan1;
  fwcert::CertFilter f;
  f.now = t;
  auto find = [&](const std::string& sha) {
    auto certs = c->certificates(f);
    REQUIRE(certs);
    for (const auto& e : *certs)
      if (e.cert.sha256 == sha) return e;
    FAIL("no certificate " << sha);
    return fwcert::CertEntry{};
  };
  // The same certificate read the same way in a fourth image: the row is as it was.
  record_ok(*c, meta("img4.bin"),
            report("img4.bin", {cert("aaa", "shared", t - 400 * kDay, t + 30 * kDay, {"img4.bin!x:/a.crt"})}));
  CHECK(find("aaa").cert.common_name == "shared");
  CHECK(find("aaa").image_count == 4);
  // Read differently (a newer fwcert that reads the dates): only the NULL columns differ, and they are rewritten.
  record_ok(*c, meta("img4.bin"),
            report("img4.bin", {cert("ddd", "broken", t - 5 * kDay, t + 5 * kDay, {"img4.bin!x:/d.crt"})}));
  CHECK(find("ddd").cert.not_before.unix == t - 5 * kDay);
  CHECK(find("ddd").cert.not_after.unix == t + 5 * kDay);
  // Every other derived column is rewritten too.
  fwcert::CertRecord again = cert("ddd", "fixed", t - 5 * kDay, t + 5 * kDay, {"img4.bin!x:/d.crt"});
  again.cert.key = {"EC", 256, "prime256v1"};
  record_ok(*c, meta("img4.bin"), report("img4.bin", {again}));
  const fwcert::CertEntry d = find("ddd");
  CHECK(d.cert.common_name == "fixed");
  CHECK(d.cert.subject == "CN=fixed");
  CHECK(d.cert.not_before.unix == t - 5 * kDay);
  CHECK(d.cert.not_after.unix == t + 5 * kDay);
  CHECK(d.cert.not_after.raw == "na-fixed");
  CHECK(d.cert.key.algorithm == "EC");
  CHECK(d.cert.key.curve == "prime256v1");
  CHECK(d.status == CertStatus::Expiring);
  // And back to unreadable: the value goes back to NULL.
  record_ok(*c, meta("img4.bin"),
            report("img4.bin", {cert("ddd", "broken", std::nullopt, std::nullopt, {"img4.bin!x:/d.crt"})}));
  CHECK_FALSE(find("ddd").cert.not_after.unix);
  CHECK(find("ddd").status == CertStatus::InvalidDate);
  auto ic = c->integrity_check();
  REQUIRE(ic);
  CHECK(*ic == "ok");
}

TEST_CASE("catalog: shared private keys by public key; encrypted keys without a public key are not grouped") {
  TempDir tmp;
  auto c = open_ok(tmp.file("cat.db"));
  record_three(*c);
  auto keys = c->shared_keys();
  REQUIRE(keys);
  REQUIRE(keys->size() == 1);
  const auto& k = (*keys)[0];
  CHECK(k.spki_sha256 == "spki-aaa");
  CHECK(k.image_count == 2);
  CHECK(k.key.algorithm == "RSA");
  CHECK(k.key.bits == 2048);
  CHECK(k.certificates == std::vector<std::string>{"aaa"});
  REQUIRE(k.placements.size() == 2);
  CHECK(k.placements[0].image_path == "img1.bin");
  CHECK(k.placements[1].image_path == "img2.bin");
  CHECK(k.placements[1].location == "img2.bin!cramfs@0x0:/etc/a.key");
  CHECK(k.placements[0].roles == std::vector<std::string>{"stunnel server private key"});

  // The same key twice in ONE image is not "shared".
  TempDir tmp2;
  auto c2 = open_ok(tmp2.file("cat.db"));
  record_ok(*c2, meta("x.bin"), report("x.bin", {}, {key("x.bin!a", "spki-k"), key("x.bin!b", "spki-k")}));
  auto k2 = c2->shared_keys();
  REQUIRE(k2);
  CHECK(k2->empty());
}

TEST_CASE("catalog: certificate filter by status at a pinned clock, by expiry date and by image count") {
  TempDir tmp;
  auto c = open_ok(tmp.file("cat.db"));
  record_three(*c);
  const int64_t t = k2026Jan1;

  fwcert::CertFilter all;
  all.now = t;
  auto certs = c->certificates(all);
  REQUIRE(certs);
  REQUIRE(certs->size() == 4);
  // Sorted by notAfter, unreadable last.
  CHECK((*certs)[0].cert.sha256 == "bbb");
  CHECK((*certs)[1].cert.sha256 == "aaa");
  CHECK((*certs)[2].cert.sha256 == "ccc");
  CHECK((*certs)[3].cert.sha256 == "ddd");
  CHECK((*certs)[0].status == CertStatus::Expired);
  CHECK((*certs)[1].status == CertStatus::Expiring);
  CHECK((*certs)[2].status == CertStatus::NotYetValid);
  CHECK((*certs)[3].status == CertStatus::InvalidDate);
  REQUIRE((*certs)[1].days_left);
  CHECK(*(*certs)[1].days_left == 30);
  CHECK((*certs)[1].image_count == 3);
  CHECK((*certs)[1].placements.size() == 4);
  CHECK((*certs)[1].roles == std::vector<std::string>{"iKVM client certificate", "stunnel server certificate"});
  CHECK((*certs)[1].cert.not_after.unix == t + 30 * kDay);
  CHECK((*certs)[1].cert.not_after.raw == "na-shared");
  CHECK((*certs)[1].cert.key.bits == 2048);
  CHECK((*certs)[1].cert.der.size() == 5);
  CHECK_FALSE((*certs)[3].cert.not_after.unix);

  // The status is judged at the clock of the query, not the one of the scan.
  fwcert::CertFilter later = all;
  later.now = t + 60 * kDay;
  later.statuses = {CertStatus::Expired};
  certs = c->certificates(later);
  REQUIRE(certs);
  REQUIRE(certs->size() == 2);
  CHECK((*certs)[0].cert.sha256 == "bbb");
  CHECK((*certs)[1].cert.sha256 == "aaa");
  CHECK(*(*certs)[1].days_left == -30);

  // A smaller warning window: "aaa" (30 days left) is valid, not expiring.
  fwcert::CertFilter narrow = all;
  narrow.warn_days = 7;
  narrow.statuses = {CertStatus::Valid, CertStatus::Expiring};
  certs = c->certificates(narrow);
  REQUIRE(certs);
  REQUIRE(certs->size() == 1);
  CHECK((*certs)[0].status == CertStatus::Valid);

  fwcert::CertFilter before = all;
  before.expiring_before = t + 31 * kDay;
  certs = c->certificates(before);
  REQUIRE(certs);
  REQUIRE(certs->size() == 2);
  CHECK((*certs)[0].cert.sha256 == "bbb");
  CHECK((*certs)[1].cert.sha256 == "aaa");
  before.expiring_before = t + 30 * kDay;  // strictly before
  certs = c->certificates(before);
  REQUIRE(certs);
  CHECK(certs->size() == 1);

  fwcert::CertFilter shared = all;
  shared.min_images = 2;
  certs = c->certificates(shared);
  REQUIRE(certs);
  REQUIRE(certs->size() == 2);
  CHECK((*certs)[0].cert.sha256 == "aaa");
  CHECK((*certs)[1].cert.sha256 == "ccc");
}

TEST_CASE("catalog: calendar entries, one per unique certificate with all its images") {
  TempDir tmp;
  auto c = open_ok(tmp.file("cat.db"));
  record_three(*c);
  const int64_t t = k2026Jan1;
  auto cal = c->calendar_entries(t, false);
  REQUIRE(cal);
  REQUIRE(cal->size() == 2);  // bbb expired, ddd unreadable
  CHECK((*cal)[0].sha256 == "aaa");
  CHECK((*cal)[0].common_name == "shared");
  CHECK((*cal)[0].not_after == t + 30 * kDay);
  CHECK((*cal)[0].roles == std::vector<std::string>{"iKVM client certificate", "stunnel server certificate"});
  REQUIRE((*cal)[0].images.size() == 4);
  CHECK((*cal)[0].images[0].image_path == "img1.bin");
  CHECK((*cal)[0].images[3].image_path == "img3.bin");
  CHECK((*cal)[1].sha256 == "ccc");
  CHECK((*cal)[1].images.size() == 2);
  auto past = c->calendar_entries(t, true);
  REQUIRE(past);
  REQUIRE(past->size() == 3);
  CHECK((*past)[0].sha256 == "bbb");

  // "No expiry" certificates do not go to a calendar.
  auto forever = cert("eee", "forever", t - kDay, 253402300799, {"img4.bin!a"});
  forever.cert.not_after.no_expiry = true;
  record_ok(*c, meta("img4.bin"), report("img4.bin", {forever}));
  cal = c->calendar_entries(t, true);
  REQUIRE(cal);
  CHECK(cal->size() == 3);
}

TEST_CASE("catalog: merging shard databases equals one database with everything") {
  TempDir tmp;
  const int64_t t = k2026Jan1;
  // Reference: everything in one catalog, in order.
  auto all = open_ok(tmp.file("all.db"));
  record_three(*all);
  auto newer = report("img2.bin", {cert("aaa", "shared", t - 400 * kDay, t + 30 * kDay, {"img2.bin!v2:/a.crt"}),
                                   cert("fff", "v2only", t - kDay, t + 99 * kDay, {"img2.bin!v2:/f.crt"})},
                       {key("img2.bin!v2:/a.key", "spki-aaa", {"aaa"})});
  newer.problems.push_back({"img2.bin!v2", {7, fwcert::Severity::Error, "bad crc"}});
  newer.certificates[1].anomalies = {"weak key: RSA-1024"};
  record_ok(*all, meta("img2.bin", "sha-v2"), newer, 1800000000);

  // Shard 1: img1, img2 (old). Shard 2: img3, img2 (new, scanned later). Shard 3: img2 (oldest): must not win.
  std::string s1 = tmp.file("s1.db"), s2 = tmp.file("s2.db"), s3 = tmp.file("s3.db");
  {
    auto full = open_ok(s1);
    record_three(*full);
    REQUIRE(full->remove_image("img3.bin"));
    auto b = open_ok(s2);
    record_three(*b);
    REQUIRE(b->remove_image("img1.bin"));
    record_ok(*b, meta("img2.bin", "sha-v2"), newer, 1800000000);
    auto old = open_ok(s3);
    record_ok(*old, meta("img2.bin", "sha-ancient"), report("img2.bin", {}), 1000);
  }
  std::string out = tmp.file("merged.db");
  auto m = Catalog::merge(out, {s1, s2, s3});
  INFO((m ? std::string() : m.error().message));
  REQUIRE(m);
  auto merged = open_ok(out);
  std::string expected = dump(*all), got = dump(*merged);
  CHECK(got == expected);
  CHECK(got.find("sha-v2") != std::string::npos);
  CHECK(got.find("sha-ancient") == std::string::npos);
  CHECK(got.find("fff") != std::string::npos);
  auto ic = merged->integrity_check();
  REQUIRE(ic);
  CHECK(*ic == "ok");

  // Merging the same shards again changes nothing.
  merged.reset();
  REQUIRE(Catalog::merge(out, {s2, s1}));
  merged = open_ok(out);
  CHECK(dump(*merged) == expected);

  // Bad inputs: each named in the report, none merged.
  auto missing = Catalog::merge(out, {tmp.file("missing.db")});
  REQUIRE(missing);
  CHECK(missing->merged == 0);
  REQUIRE(missing->failed.size() == 1);
  CHECK(missing->failed[0].find("missing.db") != std::string::npos);
  { std::ofstream(tmp.file("junk.db")) << std::string(8192, 'x'); }
  auto junk = Catalog::merge(out, {tmp.file("junk.db")});
  REQUIRE(junk);
  REQUIRE(junk->failed.size() == 1);
  CHECK(junk->failed[0].find("junk.db") != std::string::npos);
  auto self = Catalog::merge(out, {out});
  REQUIRE(self);
  CHECK(self->failed.size() == 1);
  merged = open_ok(out);
  CHECK(dump(*merged) == expected);
}

TEST_CASE("catalog: merge goes past a bad shard, merges the ones after it and names the bad one") {
  TempDir tmp;
  const std::string s1 = tmp.file("s1.db"), bad = tmp.file("bad.db"), s3 = tmp.file("s3.db");
  {
    auto a = open_ok(s1);
    record_ok(*a, meta("img1.bin"), report("img1.bin", {cert("aaa", "one", 0, k2026Jan1, {"img1.bin!x:/a.crt"})}));
    auto c = open_ok(s3);
    record_ok(*c, meta("img3.bin"), report("img3.bin", {cert("ccc", "three", 0, k2026Jan1, {"img3.bin!x:/c.crt"})}));
  }
  { std::ofstream(bad, std::ios::binary) << std::string(8192, 'x'); }
  const std::string out = tmp.file("out.db");
  auto m = Catalog::merge(out, {s1, bad, tmp.file("absent.db"), s3});
  REQUIRE(m);
  CHECK(m->merged == 2);
  REQUIRE(m->failed.size() == 2);
  CHECK(m->failed[0].find("bad.db") != std::string::npos);
  CHECK(m->failed[1].find("absent.db") != std::string::npos);
  auto merged = open_ok(out);
  auto images = merged->list_images();
  REQUIRE(images);
  REQUIRE(images->size() == 2);
  CHECK((*images)[0].meta.path == "img1.bin");
  CHECK((*images)[1].meta.path == "img3.bin");  // after the bad shard: merged all the same
}

TEST_CASE("catalog: SIGKILL at random moments leaves each image fully recorded or absent") {
  TempDir tmp;
  const std::string db = tmp.file("crash.db");
  { open_ok(db); }
  // Image i, variant v: (20 + 7i + 13v) certificates with 3 locations each, sha256 "i<i>v<v>" marks the variant.
  auto expected_placements = [](int i, int v) { return (20 + 7 * i + 13 * v) * 3; };
  auto build = [](int i, int v) {
    std::vector<fwcert::CertRecord> certs;
    const std::string img = "img" + std::to_string(i) + ".bin";
    for (int n = 0; n < 20 + 7 * i + 13 * v; ++n) {
      // Certificates shared across images and variants (n % 10) and unique ones.
      const std::string num = std::to_string(n);
      std::string sha = n % 3 == 0 ? "shared" + std::to_string(n % 10) : img + "-" + std::to_string(v) + "-" + num;
      auto r = cert(sha, "cn" + num, k2026Jan1 - kDay, k2026Jan1 + n * kDay,
                    {img + "!a:/" + num, img + "!b:/" + num, img + "!c:/" + num}, {"role" + std::to_string(n % 4)});
      r.cert.der.assign(1500, static_cast<uint8_t>(n));
      r.anomalies = {"anomaly " + std::to_string(n % 5)};
      certs.push_back(std::move(r));
    }
    auto rep = report(img, std::move(certs), {key(img + "!k", "spki-shared"), key(img + "!e", "", {}, true)});
    return std::make_pair(meta(img, "i" + std::to_string(i) + "v" + std::to_string(v)), rep);
  };
  constexpr int kImages = 5;
  int iterations_with_data = 0;
  for (uint32_t seed = 1; seed <= 12; ++seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> delay_us(0, 120000);
    // The child says when its first image is committed, and the random delay counts from then: every kill lands
    // while records are being written, however slowly a loaded machine starts the child.
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      // Child: record forever, alternating variants, until killed. No Catch2 here.
      ::close(ready[0]);
      auto c = Catalog::open(db);
      if (!c) ::_exit(3);
      for (int round = 0; round < 100000; ++round)
        for (int i = 0; i < kImages; ++i) {
          auto [m, r] = build(i, (round + i) % 2);
          if (!(*c)->record(m, r, round)) ::_exit(4);
          if (round == 0 && i == 0 && ::write(ready[1], "r", 1) != 1) ::_exit(5);
        }
      ::_exit(0);
    }
    ::close(ready[1]);
    pollfd pfd{ready[0], POLLIN, 0};
    REQUIRE(::poll(&pfd, 1, 120000) == 1);  // bounded: a child that never records is a failure, not a hang
    ::close(ready[0]);
    ::usleep(static_cast<useconds_t>(delay_us(rng)));
    ::kill(pid, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    INFO("seed " << seed);
    // Killed, not failed on its own.
    REQUIRE(WIFSIGNALED(status));

    auto c = open_ok(db);
    auto ic = c->integrity_check();
    REQUIRE(ic);
    CHECK(*ic == "ok");
    auto images = c->list_images();
    REQUIRE(images);
    if (!images->empty()) ++iterations_with_data;
    for (const auto& row : *images) {
      INFO(row.meta.path << " " << row.meta.sha256);
      REQUIRE(row.meta.sha256.size() == 4);
      int i = row.meta.sha256[1] - '0', v = row.meta.sha256[3] - '0';
      CHECK(row.meta.path == "img" + std::to_string(i) + ".bin");
      CHECK(row.placements == expected_placements(i, v));
      CHECK(row.keys == 2);
    }
    // Every placed certificate exists (the foreign keys say so too) and is listed.
    fwcert::CertFilter f;
    f.now = k2026Jan1;
    auto certs = c->certificates(f);
    REQUIRE(certs);
    int64_t placed = 0;
    for (const auto& e : *certs) placed += static_cast<int64_t>(e.placements.size());
    int64_t rows = 0;
    for (const auto& row : *images) rows += row.placements;
    CHECK(placed == rows);
  }
  CHECK(iterations_with_data == 12);  // each kill came after at least one commit
}

TEST_CASE("catalog: the bundled samples (both byte orders) share their certificates and keys") {
  TempDir tmp;
  auto c = open_ok(tmp.file("cat.db"));
  fwcert::ScanOptions o;
  o.now = k2026Jan1;
  for (const char* name : {"bmc-sample.bin", "bmc-sample-be.bin"}) {
    Bytes img = read_file(source_dir() + "/samples/" + name);
    REQUIRE_FALSE(img.empty());
    auto r = fwcert::scan_input(fwcert::ByteView(img.data(), img.size()), name, walker(), o);
    REQUIRE(r.certificates.size() == 4);
    fwcert::ImageMeta m;
    m.path = name;
    m.sha256 = r.sha256;
    m.size = img.size();
    record_ok(*c, m, r);
  }
  fwcert::CertFilter f;
  f.now = k2026Jan1;
  auto certs = c->certificates(f);
  REQUIRE(certs);
  REQUIRE(certs->size() == 4);
  for (const auto& e : *certs) {
    INFO(e.cert.common_name);
    CHECK(e.image_count == 2);
    CHECK_FALSE(e.cert.der.empty());
  }
  bool found_ipmi = false;
  for (const auto& e : *certs)
    if (e.cert.common_name == "IPMI") {
      found_ipmi = true;
      CHECK(e.status == CertStatus::Valid);
      CHECK(e.days_left == 136);
      auto w = c->where(e.cert.sha256);
      REQUIRE(w);
      auto paths = image_paths(*w);
      std::set<std::string> imgs(paths.begin(), paths.end());
      CHECK(imgs == std::set<std::string>{"bmc-sample-be.bin", "bmc-sample.bin"});
    }
  CHECK(found_ipmi);
  auto keys = c->shared_keys();
  REQUIRE(keys);
  CHECK_FALSE(keys->empty());
  for (const auto& k : *keys) CHECK(k.image_count == 2);
}

TEST_CASE("catalog: garbage and foreign database files give a clean error") {
  TempDir tmp;
  std::string junk = tmp.file("junk.db");
  { std::ofstream(junk, std::ios::binary) << std::string(4096, '\x5a'); }
  auto r = Catalog::open(junk);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("junk.db") != std::string::npos);

  // A real SQLite header followed by garbage pages.
  std::string half = tmp.file("half.db");
  {
    auto c = open_ok(half);
    record_three(*c);
  }
  {
    auto bytes = read_file(half);
    REQUIRE(bytes.size() > 200);
    auto noise = random_bytes(bytes.size() - 100, 7);
    std::copy(noise.begin(), noise.end(), bytes.begin() + 100);
    std::ofstream(half, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(bytes.data()),
                                                                  static_cast<std::streamsize>(bytes.size()));
    fs::remove(half + "-wal");
    fs::remove(half + "-shm");
  }
  auto h = Catalog::open(half);
  if (h) {  // SQLite may accept the header; every query must then fail cleanly or succeed, never crash
    (void)(*h)->list_images();
    fwcert::CertFilter f;
    (void)(*h)->certificates(f);
    auto ic = (*h)->integrity_check();
    if (ic) CHECK(*ic != "ok");
  }

  CHECK_FALSE(Catalog::open(tmp.file("no/such/dir/cat.db")));

  // Somebody else's SQLite database: refused, and left untouched (no fwcert tables added).
  std::string other = tmp.file("other.db");
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(other.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "CREATE TABLE people(name TEXT)", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  auto o = Catalog::open(other);
  REQUIRE_FALSE(o);
  CHECK(o.error().message.find("not an fwcert catalog") != std::string::npos);
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(other.c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'", -1, &st, nullptr) ==
            SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    CHECK(sqlite3_column_int(st, 0) == 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  auto om = Catalog::merge(tmp.file("out.db"), {other});
  REQUIRE(om);
  CHECK(om->merged == 0);
  CHECK(om->failed.size() == 1);

  // A catalog from a newer fwcert (schema version 99) is refused rather than misread.
  std::string future = tmp.file("future.db");
  { open_ok(future); }
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(future.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "UPDATE schema_version SET version = 99", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  auto fut = Catalog::open(future);
  REQUIRE_FALSE(fut);
  CHECK(fut.error().message.find("schema version 99") != std::string::npos);
  auto fut_ro = Catalog::open_read_only(future);
  REQUIRE_FALSE(fut_ro);
  CHECK(fut_ro.error().message.find("schema version 99") != std::string::npos);
}

TEST_CASE("catalog: manifest CSV with header, quotes, CRLF; errors with offsets") {
  auto r = fwcert::read_manifest_csv(
      "\xEF\xBB\xBFPath,Board,Vendor,Version,Notes\r\n"
      "a/x10.bin,X10,Supermicro,3.90,fine\r\n"
      "\"b/with,comma.bin\",\"X \"\"quoted\"\"\",\"Super\nmicro\",1.0\r\n"
      "\r\n"
      "  c.bin , X11 ,, 2 \n");
  INFO((r ? std::string() : r.error().message));
  REQUIRE(r);
  REQUIRE(r->size() == 3);
  const auto& a = r->at("a/x10.bin");
  CHECK(a.vendor == "Supermicro");
  CHECK(a.board == "X10");
  CHECK(a.version == "3.90");
  CHECK(a.source == "manifest");
  const auto& b = r->at("b/with,comma.bin");
  CHECK(b.board == "X \"quoted\"");
  CHECK(b.vendor == "Super\nmicro");
  CHECK(b.version == "1.0");
  const auto& cc = r->at("c.bin");
  CHECK(cc.board == "X11");
  CHECK(cc.vendor.empty());
  CHECK(cc.version == "2");

  auto noheader = fwcert::read_manifest_csv("x.bin,Dell,iDRAC 8,2.75\ny.bin\n");
  REQUIRE(noheader);
  CHECK(noheader->at("x.bin").vendor == "Dell");
  CHECK(noheader->at("x.bin").board == "iDRAC 8");
  CHECK(noheader->at("x.bin").version == "2.75");
  CHECK(noheader->at("y.bin").vendor.empty());

  auto unterminated = fwcert::read_manifest_csv("path\nok.bin\n\"bad.bin,X\n");
  REQUIRE_FALSE(unterminated);
  CHECK(unterminated.error().offset == 12);
  auto after = fwcert::read_manifest_csv("\"a\"b,c\n");
  REQUIRE_FALSE(after);
  CHECK(after.error().offset == 3);
  CHECK_FALSE(fwcert::read_manifest_csv("path,vendor\n,Dell\n"));
  CHECK_FALSE(fwcert::read_manifest_csv("a.bin\na.bin\n"));
  auto empty = fwcert::read_manifest_csv("");
  REQUIRE(empty);
  CHECK(empty->empty());
}

TEST_CASE("catalog: vendor, board, version and date from file names") {
  auto m = fwcert::derive_meta_from_name("/firmware/REDFISH_X10_390_20200717_unsigned.bin");
  CHECK(m.vendor == "Supermicro");
  CHECK(m.board == "X10");
  CHECK(m.version == "3.90");
  CHECK(m.date == "2020-07-17");
  CHECK(m.source == "name");
  CHECK(m.path.empty());

  m = fwcert::derive_meta_from_name("SMT_X9_315.bin");
  CHECK(m.vendor == "Supermicro");
  CHECK(m.board == "X9");
  CHECK(m.version == "3.15");
  CHECK(m.date.empty());

  m = fwcert::derive_meta_from_name("SMT_313.bin");
  CHECK(m.vendor == "Supermicro");
  CHECK(m.board.empty());
  CHECK(m.version == "3.13");

  m = fwcert::derive_meta_from_name("BMC_X11AST2500-4101MS_20221011_01.74.06_STDsp.bin");
  CHECK(m.vendor == "Supermicro");
  CHECK(m.board == "X11AST2500");
  CHECK(m.version == "01.74.06");
  CHECK(m.date == "2022-10-11");

  m = fwcert::derive_meta_from_name("ilo4_275.bin");
  CHECK(m.vendor == "HPE");
  CHECK(m.board == "iLO 4");
  CHECK(m.version == "2.75");

  m = fwcert::derive_meta_from_name("iDRAC8-firmware_v2.81.81.81.zip");
  CHECK(m.vendor == "Dell");
  CHECK(m.board == "iDRAC 8");
  CHECK(m.version == "2.81.81.81");

  m = fwcert::derive_meta_from_name("rootfs_20201399.img");  // month 13: no date
  CHECK(m.date.empty());
  CHECK(m.vendor.empty());
  m = fwcert::derive_meta_from_name("firmware.bin");
  CHECK(m.vendor.empty());
  CHECK(m.version.empty());
  CHECK(m.source.empty());
  m = fwcert::derive_meta_from_name("");
  CHECK(m.source.empty());
}

TEST_CASE("catalog: shard selection is deterministic and partitions the keys") {
  for (int n : {1, 2, 3, 7}) {
    std::vector<int> counts(static_cast<size_t>(n), 0);
    for (int i = 0; i < 700; ++i) {
      std::string key = "dir/image-" + std::to_string(i) + ".bin";
      int owners = 0;
      for (int k = 1; k <= n; ++k)
        if (fwcert::in_shard(key, k, n)) {
          ++owners;
          ++counts[static_cast<size_t>(k - 1)];
        }
      CHECK(owners == 1);
    }
    for (int cnt : counts) CHECK(cnt > 700 / n / 2);  // roughly even
  }
  // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c (even): shard 1 of 2.
  CHECK(fwcert::in_shard("a", 1, 2));
  CHECK_FALSE(fwcert::in_shard("a", 2, 2));
  CHECK_FALSE(fwcert::in_shard("a", 0, 2));
  CHECK_FALSE(fwcert::in_shard("a", 3, 2));
  CHECK_FALSE(fwcert::in_shard("a", 1, 0));
}

namespace {

// A zip written by libarchive: members of the given sizes, all zeros (they compress to almost nothing) or random
// bytes (they do not compress).
Bytes zip_of(const std::vector<size_t>& sizes, bool zeros) {
  Bytes out(2 << 20);
  size_t used = 0;
  std::unique_ptr<archive, decltype(&archive_write_free)> a(archive_write_new(), archive_write_free);
  REQUIRE(archive_write_set_format_zip(a.get()) == ARCHIVE_OK);
  REQUIRE(archive_write_open_memory(a.get(), out.data(), out.size(), &used) == ARCHIVE_OK);
  for (size_t k = 0; k < sizes.size(); ++k) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(e.get(), ("m" + std::to_string(k)).c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0644);
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(sizes[k]));
    REQUIRE(archive_write_header(a.get(), e.get()) == ARCHIVE_OK);
    Bytes data = zeros ? Bytes(sizes[k], 0) : random_bytes(sizes[k], static_cast<uint32_t>(k + 1));
    REQUIRE(archive_write_data(a.get(), data.data(), data.size()) == static_cast<la_ssize_t>(data.size()));
  }
  REQUIRE(archive_write_close(a.get()) == ARCHIVE_OK);
  out.resize(used);
  return out;
}

}  // namespace

TEST_CASE("catalog: the work an input will take orders the scans: a zip counts what it holds") {
  auto est = [](const Bytes& b) { return fwcert::estimated_scan_bytes(fwcert::ByteView(b.data(), b.size())); };
  Bytes plain(300000, 0x5a);
  CHECK(est(plain) == 300000);
  CHECK(est(Bytes{}) == 0);
  const Bytes zip = zip_of({200000, 100000, 0}, false);
  CHECK(est(zip) == zip.size() + 300000);
  // The bundled vendor zip holds the 4 MiB sample image.
  const Bytes vendor = read_file(source_dir() + "/samples/bmc-sample.zip");
  CHECK(est(vendor) == vendor.size() + 4194304);
  // Damaged or hostile: never below the file's size, never above 65 times it, never a crash.
  for (size_t cut : {size_t{4}, size_t{30}, zip.size() / 2, zip.size() - 10}) {
    Bytes t(zip.begin(), zip.begin() + static_cast<long>(cut));
    INFO(cut);
    CHECK(est(t) >= t.size());
    CHECK(est(t) <= 65 * t.size());
  }
  const Bytes huge = zip_of({900000}, true);  // holds far more than 64 times its size
  REQUIRE(huge.size() * 64 < 900000);
  CHECK(est(huge) == huge.size() * 65);
  std::mt19937 rng(3);
  for (int v = 0; v < 200; ++v) {
    Bytes m = zip;
    for (int k = 0; k < 4; ++k) m[rng() % m.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
    CHECK(est(m) >= m.size());
    CHECK(est(m) <= 65 * m.size());
  }
}

TEST_CASE("catalog: a file's work is estimated from disk, mapping only zips, never blocking") {
  TempDir tmp;
  const Bytes zip = zip_of({200000, 100000}, false);
  const std::string zpath = tmp.file("v.zip"), plain = tmp.file("p.bin"), fifo = tmp.file("pipe");
  std::ofstream(zpath, std::ios::binary).write(reinterpret_cast<const char*>(zip.data()), static_cast<long>(zip.size()));
  { std::ofstream(plain, std::ios::binary) << std::string(5000, 'P') + "K\x03\x04"; }
  CHECK(fwcert::estimated_file_scan_bytes(zpath, zip.size()) == zip.size() + 300000);
  CHECK(fwcert::estimated_file_scan_bytes(plain, 5003) == 5003);  // "PK\3\4" not at the start: its size
  CHECK(fwcert::estimated_file_scan_bytes(tmp.file("missing"), 7) == 7);
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  auto est = std::async(std::launch::async, [&] { return fwcert::estimated_file_scan_bytes(fifo, 0); });
  const bool done = est.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  if (!done) {  // blocked in open(): a writer releases it, so the test ends either way
    const int w = ::open(fifo.c_str(), O_WRONLY);
    if (w >= 0) ::close(w);
  }
  CHECK(done);
  CHECK(est.get() == 0);
}

TEST_CASE("catalog: a checkpoint puts what the log holds into the database file itself") {
  TempDir tmp;
  const std::string db = tmp.file("cat.db");
  auto c = open_ok(db);
  record_three(*c);
  // While the connection is open the rows live in the write-ahead log: a copy of the database file alone (what a
  // careless backup takes) does not have them yet...
  CHECK(images_in_copy(tmp, db, "before.db") == 0);
  // ...after a checkpoint it does, and the catalog goes on working.
  REQUIRE(c->checkpoint());
  CHECK(images_in_copy(tmp, db, "after.db") == 3);
  check_whole(*c, 3);
}

TEST_CASE("catalog: checkpoints on another thread while images are recorded lose nothing") {
  TempDir tmp;
  const std::string db = tmp.file("cat.db");
  auto c = open_ok(db);
  const int64_t t = k2026Jan1;
  std::atomic<bool> done{false};
  std::atomic<int> checkpoints{0}, failures{0};
  std::thread checkpointer([&] {
    while (!done) {
      if (!c->checkpoint()) ++failures;
      ++checkpoints;
    }
  });
  // Each record waits for one more checkpoint to finish, so that checkpoints run between (and likely during) all 40
  // records however the threads are scheduled.
  auto one_more_checkpoint = [&] {
    const int seen = checkpoints;
    while (checkpoints == seen) std::this_thread::yield();
  };
  for (int i = 0; i < 40; ++i) {
    one_more_checkpoint();
    const std::string name = "img" + std::to_string(i) + ".bin";
    record_ok(*c, meta(name),
              report(name, {cert("aaa", "shared", t - kDay, t + kDay, {name + "!x:/a.crt"}),
                            cert("c" + std::to_string(i), "own", t - kDay, t + 2 * kDay, {name + "!x:/b.crt"})},
                     {key(name + "!x:/a.key", "spki-aaa", {"aaa"})}));
  }
  done = true;
  checkpointer.join();
  CHECK(failures == 0);
  CHECK(checkpoints >= 40);
  REQUIRE(c->checkpoint());
  // The database file alone (no log) has every image, and the catalog is whole.
  CHECK(images_in_copy(tmp, db, "copy.db") == 40);
  auto w = c->where("aaa");
  REQUIRE(w);
  CHECK(w->size() == 40);
  check_whole(*c, 40);
}

TEST_CASE("catalog: background checkpoints copy the log into the database file without being asked") {
  TempDir tmp;
  const std::string db = tmp.file("cat.db");
  const int64_t t = k2026Jan1;
  {
    auto c = open_ok(db);
    // A threshold of one page: every commit, the last one included, wakes the thread, so a checkpoint is due after
    // the last record. (With a threshold near an image's page count, whether the last commit reaches it depends on
    // whether the log was restarted just before it, i.e. on scheduling; the design does not promise that the last
    // commits are copied before the close, and a test that waited for it failed under load.)
    c->checkpoint_in_background(1);
    for (int i = 0; i < 30; ++i) {
      const std::string name = "img" + std::to_string(i) + ".bin";
      record_ok(*c, meta(name),
                report(name, {cert("c" + std::to_string(i), "own", t - kDay, t + kDay, {name + "!x:/b.crt"})}));
    }
    // The thread runs on its own time. The deadline only turns a hang into a failure: on a loaded machine a
    // checkpoint takes milliseconds, never minutes.
    size_t seen = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
    while ((seen = images_in_copy(tmp, db, "copy.db")) < 30 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(seen == 30);
  }  // closing stops the thread (a hang here is a failure of its own)
  check_whole(*open_ok(db), 30);
}

TEST_CASE("catalog: below the background threshold nothing is checkpointed until the close") {
  // The counterpart of the test above: what the database file shows there comes from the background thread, not
  // from SQLite's own automatic checkpoint (which checkpoint_in_background replaces) or from the commits.
  TempDir tmp;
  const std::string db = tmp.file("cat.db");
  const int64_t t = k2026Jan1;
  {
    auto c = open_ok(db);
    c->checkpoint_in_background(1 << 30);  // no commit leaves that many pages: the thread never wakes
    for (int i = 0; i < 30; ++i) {
      const std::string name = "img" + std::to_string(i) + ".bin";
      record_ok(*c, meta(name),
                report(name, {cert("c" + std::to_string(i), "own", t - kDay, t + kDay, {name + "!x:/b.crt"})}));
    }
    CHECK(images_in_copy(tmp, db, "copy.db") == 0);
  }
  CHECK(images_in_copy(tmp, db, "copy2.db") == 30);  // the close copied the log
  check_whole(*open_ok(db), 30);
}

// ---------------------------------------------------------------------------------------------------------------
// Read-only opening: queries never create or change a database.

namespace {

// Every entry below `dir`, to prove that nothing was created.
std::set<std::string> entries(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) out.insert(e.path().lexically_relative(dir).string());
  return out;
}

// Bytes 18 and 19 of an SQLite header: 1 for a rollback journal, 2 for WAL.
std::pair<int, int> header_journal_bytes(const std::string& file) {
  auto bytes = read_file(file);
  REQUIRE(bytes.size() >= 100);
  return {bytes[18], bytes[19]};
}

std::string make_foreign_db(const std::string& path, bool wal) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  if (wal) REQUIRE(sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "CREATE TABLE people(name TEXT)", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  return path;
}

}  // namespace

TEST_CASE("catalog: opening for queries refuses a missing path, a directory, an empty or foreign file; creates nothing") {
  TempDir tmp;
  fs::create_directories(tmp.dir / "adir");
  make_foreign_db(tmp.file("foreign.db"), false);
  { std::ofstream(tmp.file("empty.db")); }
  { std::ofstream(tmp.file("junk.db")) << std::string(4096, 'z'); }
  const auto before = entries(tmp.dir);
  struct Case {
    std::string path, says;
  };
  for (const Case& c : {Case{tmp.file("missing.sqlite"), "no such catalog"},
                        Case{tmp.file("no/such/dir/x.sqlite"), "no such catalog"},
                        Case{tmp.file("adir"), "is a directory"},
                        Case{tmp.file("foreign.db"), "not an fwcert catalog"},
                        Case{tmp.file("empty.db"), "empty SQLite database"},
                        Case{tmp.file("junk.db"), "junk.db"}}) {
    INFO(c.path);
    auto r = Catalog::open_read_only(c.path);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find(c.says) != std::string::npos);
    CHECK(r.error().message.find(c.path) != std::string::npos);
  }
  CHECK(entries(tmp.dir) == before);  // no file, no folder, no -wal or -shm
  CHECK(fs::file_size(tmp.file("empty.db")) == 0);
}

TEST_CASE("catalog: a catalog opened for queries reads everything, writes nothing and leaves no -wal/-shm") {
  TempDir tmp;
  const std::string db = tmp.file("c.db");
  std::string expected;
  {
    auto c = open_ok(db);
    record_three(*c);
    expected = dump(*c);
  }
  const auto before = entries(tmp.dir);
  const auto bytes = read_file(db);
  {
    auto r = Catalog::open_read_only(db);
    INFO((r ? std::string() : r.error().message));
    REQUIRE(r);
    CHECK(dump(**r) == expected);
    CHECK_FALSE((*r)->record(meta("img9.bin"), report("img9.bin", {})));
    CHECK_FALSE((*r)->remove_image("img1.bin"));
    CHECK(dump(**r) == expected);
  }
  CHECK(entries(tmp.dir) == before);
  CHECK(read_file(db) == bytes);
}

TEST_CASE("catalog: somebody else's SQLite database is refused before anything writes to it (no switch to WAL)") {
  TempDir tmp;
  const std::string other = make_foreign_db(tmp.file("other.db"), false);
  const auto bytes = read_file(other);
  CHECK(header_journal_bytes(other) == std::make_pair(1, 1));
  auto w = Catalog::open(other);
  REQUIRE_FALSE(w);
  CHECK(w.error().message.find("not an fwcert catalog") != std::string::npos);
  CHECK(Catalog::open_read_only(other).ok() == false);
  CHECK(header_journal_bytes(other) == std::make_pair(1, 1));  // still a rollback-journal database
  CHECK(read_file(other) == bytes);                           // byte for byte
  CHECK(entries(tmp.dir) == std::set<std::string>{"other.db"});
}

// ---------------------------------------------------------------------------------------------------------------
// Image paths.

TEST_CASE("catalog: one image however its path is spelled (relative, ./, absolute, .., double slashes)") {
  TempDir tmp;
  const fs::path cwd = fs::current_path();
  fs::current_path(tmp.dir);
  const std::string abs = (tmp.dir / "imgs" / "x.bin").string();
  CHECK(fwcert::normalize_image_path("imgs/x.bin") == abs);
  CHECK(fwcert::normalize_image_path("./imgs/x.bin") == abs);
  CHECK(fwcert::normalize_image_path(abs) == abs);
  CHECK(fwcert::normalize_image_path("imgs//sub/../x.bin") == abs);
  CHECK(fwcert::normalize_image_path("imgs/./x.bin") == abs);
  CHECK(fwcert::normalize_image_path("/a/b/") == "/a/b");
  CHECK(fwcert::normalize_image_path("/") == "/");

  // A catalog from before normalisation has the path as it was typed: it is found and renamed, not recorded twice.
  {
    auto c = open_ok(tmp.file("c.db"));
    record_ok(*c, meta("imgs/x.bin"), report("imgs/x.bin", {}));
    auto found = c->find_or_adopt_image(abs, "imgs/x.bin");
    REQUIRE(found);
    CHECK(found->meta.path == abs);
    CHECK(found->meta.sha256 == "sha-imgs/x.bin");
    record_ok(*c, meta(abs), report(abs, {}));
    auto images = c->list_images();
    REQUIRE(images);
    REQUIRE(images->size() == 1);
    CHECK((*images)[0].meta.path == abs);
    CHECK(c->find_or_adopt_image(abs, "./imgs/x.bin"));
    CHECK_FALSE(c->find_or_adopt_image(abs + ".other", "imgs/x.bin.other"));
  }
  fs::current_path(cwd);
}

// ---------------------------------------------------------------------------------------------------------------
// Looking up a certificate.

TEST_CASE("catalog: a SHA-256 as users have it: any case, colons, openssl's fingerprint line, a prefix") {
  const std::string hex = "9da63eb723f1a5680598df45f6b5c22b6a9229441ce5779806506f3a6dd35c64";
  std::string upper_colons;
  for (size_t i = 0; i < hex.size(); i += 2)
    upper_colons += (i ? ":" : "") + std::string(1, static_cast<char>(std::toupper(hex[i]))) +
                    static_cast<char>(std::toupper(hex[i + 1]));
  for (const std::string& q : {hex, upper_colons, "sha256 Fingerprint=" + upper_colons,
                               "SHA256 Fingerprint=" + upper_colons + "\n", "sha256:" + hex, "  " + hex + " "}) {
    INFO(q);
    auto r = fwcert::parse_sha256_query(q);
    REQUIRE(r);
    CHECK(*r == hex);
  }
  CHECK(*fwcert::parse_sha256_query("9DA6:3EB7") == "9da63eb7");
  CHECK_FALSE(fwcert::parse_sha256_query("9da63eb"));          // 7 digits: too short to be a useful prefix
  CHECK_FALSE(fwcert::parse_sha256_query(hex + "00"));         // 66 digits
  CHECK_FALSE(fwcert::parse_sha256_query("9da63eb7zz"));        // not hex
  CHECK_FALSE(fwcert::parse_sha256_query(""));
  CHECK_FALSE(fwcert::parse_sha256_query("x' OR 1=1 --"));

  TempDir tmp;
  auto c = open_ok(tmp.file("c.db"));
  const std::string a = "9da63eb7" + std::string(56, '1'), b = "9da63eb7" + std::string(56, '2'),
                    d = "0a" + std::string(62, '3');
  record_ok(*c, meta("img1.bin"),
            report("img1.bin", {cert(a, "a", 0, k2026Jan1, {"img1.bin!x:/a.crt"}),
                                cert(b, "b", 0, k2026Jan1, {"img1.bin!x:/b.crt"}),
                                cert(d, "d", 0, k2026Jan1, {"img1.bin!x:/d.crt"})}));
  auto both = c->find_certificates("9da63eb7");
  REQUIRE(both);
  CHECK(*both == std::vector<std::string>{a, b});
  auto one = c->find_certificates("9da63eb71");
  REQUIRE(one);
  CHECK(*one == std::vector<std::string>{a});
  auto full = c->find_certificates(d);
  REQUIRE(full);
  CHECK(*full == std::vector<std::string>{d});
  auto none = c->find_certificates("ffffffff");
  REQUIRE(none);
  CHECK(none->empty());
  auto limited = c->find_certificates("", 2);
  REQUIRE(limited);
  CHECK(limited->size() == 2);
}

// ---------------------------------------------------------------------------------------------------------------
// Catalog answers as JSON and CSV.

TEST_CASE("catalog: JSON answers are a versioned object with numbers as numbers, roles as arrays, null when unknown") {
  TempDir tmp;
  auto c = open_ok(tmp.file("c.db"));
  record_three(*c);
  fwcert::CertFilter f;
  f.now = k2026Jan1;
  auto certs = c->certificates(f);
  REQUIRE(certs);
  auto doc = fwcert::catalog_to_json(fwcert::catalog_certs_table(*certs, f.now, f.warn_days));
  CHECK(doc["tool"] == "fwcert");
  CHECK(doc["format_version"] == fwcert::kCatalogJsonFormatVersion);
  CHECK(doc["query"] == "certs");
  CHECK(doc["now"] == "2026-01-01T00:00:00Z");
  CHECK(doc["now_unix"] == k2026Jan1);
  CHECK(doc["warn_days"] == 90);
  REQUIRE(doc["certificates"].is_array());
  REQUIRE(doc["certificates"].size() == 4);
  const auto& bbb = doc["certificates"][0];  // expired 10 days ago, soonest notAfter
  CHECK(bbb["sha256"] == "bbb");
  CHECK(bbb["days_left"].is_number_integer());
  CHECK(bbb["days_left"] == -10);
  CHECK(bbb["images"] == 1);
  CHECK(bbb["roles"] == nlohmann::json::array());
  const auto& aaa = doc["certificates"][1];
  CHECK(aaa["roles"] == nlohmann::json::array({"iKVM client certificate", "stunnel server certificate"}));
  CHECK(aaa["key_bits"] == 2048);
  CHECK(aaa["key_curve"].is_null());
  CHECK(aaa["self_signed"] == false);
  const auto& ddd = doc["certificates"][3];  // unreadable dates: last
  CHECK(ddd["sha256"] == "ddd");
  CHECK(ddd["not_after"].is_null());
  CHECK(ddd["days_left"].is_null());
  CHECK(ddd["status"] == "invalid-date");

  auto images = c->list_images();
  REQUIRE(images);
  auto list = fwcert::catalog_to_json(fwcert::catalog_images_table(*images));
  CHECK(list["format_version"] == fwcert::kCatalogJsonFormatVersion);
  REQUIRE(list["images"].size() == 3);
  CHECK(list["images"][0]["size"] == 1000);
  CHECK(list["images"][0]["certificates"] == 2);
  CHECK(list["images"][0]["vendor"].is_null());  // "img1.bin" names no vendor

  auto w = c->where("aaa");
  REQUIRE(w);
  auto where = fwcert::catalog_to_json(fwcert::catalog_where_table("aaa", *w));
  CHECK(where["sha256"] == "aaa");
  REQUIRE(where["placements"].size() == 4);
  CHECK(where["placements"][0]["roles"] == nlohmann::json::array({"stunnel server certificate"}));

  auto keys = c->shared_keys();
  REQUIRE(keys);
  auto kj = fwcert::catalog_to_json(fwcert::catalog_keys_table(*keys));
  REQUIRE(kj["keys"].size() == 2);
  CHECK(kj["keys"][0]["images"] == 2);
  CHECK(kj["keys"][0]["bits"] == 2048);
  CHECK(kj["keys"][0]["encrypted"] == false);
  CHECK(kj["keys"][0]["certificates"] == nlohmann::json::array({"aaa"}));
}

TEST_CASE("catalog: CSV guards text cells against formulas but never a negative number") {
  TempDir tmp;
  auto c = open_ok(tmp.file("c.db"));
  const int64_t t = k2026Jan1;
  record_ok(*c, meta("img1.bin"),
            report("img1.bin", {cert("aaa", "=HYPERLINK(\"x\")", t - 9000 * kDay, t - 4507 * kDay, {"-cmd.bin"},
                                     {"@role"})}));
  fwcert::CertFilter f;
  f.now = t;
  auto certs = c->certificates(f);
  REQUIRE(certs);
  std::ostringstream out;
  fwcert::write_catalog_csv(out, fwcert::catalog_certs_table(*certs, f.now, f.warn_days));
  const std::string csv = out.str();
  INFO(csv);
  CHECK(csv.rfind("status,not_after,days_left,common_name,images,roles,sha256,", 0) == 0);
  CHECK(csv.find(",-4507,") != std::string::npos);  // the number, unguarded
  CHECK(csv.find("'-4507") == std::string::npos);
  CHECK(csv.find("\"'=HYPERLINK(\"\"x\"\")\"") != std::string::npos);  // the text, guarded and quoted
  CHECK(csv.find(",'@role,") != std::string::npos);
  CHECK(csv.find("\r\n") != std::string::npos);

  std::ostringstream table;
  fwcert::write_catalog_text(table, fwcert::catalog_certs_table(*certs, f.now, f.warn_days));
  CHECK(table.str().find("-4507") != std::string::npos);
  CHECK(table.str().find("STATUS") == 0);
}

// ---------------------------------------------------------------------------------------------------------------
// JKS aliases, and catalogs from before they were stored (schema version 1).

namespace {

// The DER inside the first PEM block of a file (a test fixture: no error handling beyond REQUIRE).
Bytes pem_der(const std::string& path) {
  const Bytes file = read_file(path);
  std::string text(file.begin(), file.end());
  const auto begin = text.find("-----\n"), end = text.find("-----END");
  REQUIRE(begin != std::string::npos);
  REQUIRE(end != std::string::npos);
  static const std::string kDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  Bytes out;
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = begin + 6; i < end; ++i) {
    const auto d = kDigits.find(text[i]);
    if (d == std::string::npos) continue;  // line breaks and '=' padding
    acc = (acc << 6) | static_cast<uint32_t>(d);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<uint8_t>(acc >> bits));
    }
  }
  return out;
}

void put_jks_utf(Bytes& b, const std::string& s) {
  put_u16be(b, b.size(), static_cast<uint16_t>(s.size()));
  append(b, s);
}

// A JKS v2: a key entry "ikvm-server" (chain: server.crt) and a trusted entry "bmc-root" (ca.crt).
Bytes sample_jks() {
  const Bytes server = pem_der(source_dir() + "/samples/certs/server.crt");
  const Bytes ca = pem_der(source_dir() + "/samples/certs/ca.crt");
  Bytes b;
  put_u32be(b, 0, 0xFEEDFEED);
  put_u32be(b, 4, 2);
  put_u32be(b, 8, 2);
  put_u32be(b, b.size(), 1);
  put_jks_utf(b, "ikvm-server");
  put_u64be(b, b.size(), 1463338262000ULL);
  const Bytes protected_key = {0x30, 0x0b, 0x30, 0x04, 0x06, 0x02, 0x2a, 0x03, 0x04, 0x03, 0x01, 0x02, 0x03};
  put_u32be(b, b.size(), static_cast<uint32_t>(protected_key.size()));
  append(b, protected_key);
  put_u32be(b, b.size(), 1);
  put_jks_utf(b, "X.509");
  put_u32be(b, b.size(), static_cast<uint32_t>(server.size()));
  append(b, server);
  put_u32be(b, b.size(), 2);
  put_jks_utf(b, "bmc-root");
  put_u64be(b, b.size(), 1463338262000ULL);
  put_jks_utf(b, "X.509");
  put_u32be(b, b.size(), static_cast<uint32_t>(ca.size()));
  append(b, ca);
  append(b, Bytes(20, 0x5a));  // SHA-1 trailer
  return b;
}

// Turns a fresh catalog into what fwcert wrote before schema version 2.
void downgrade_to_v1(const std::string& db_path) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK);
  char* msg = nullptr;
  const int rc = sqlite3_exec(db,
                              "DROP TABLE cert_aliases; ALTER TABLE private_keys DROP COLUMN alias;"
                              " UPDATE schema_version SET version = 1",
                              nullptr, nullptr, &msg);
  INFO((msg ? msg : ""));
  sqlite3_free(msg);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

}  // namespace

TEST_CASE("catalog: JKS entries show their alias in where, certs and keys") {
  const Bytes jks = sample_jks();
  fwcert::ScanOptions o;
  o.now = k2026Jan1;
  auto r = fwcert::scan_input(fwcert::ByteView(jks.data(), jks.size()), "store.jks", walker(), o);
  REQUIRE(r.certificates.size() == 2);
  REQUIRE(r.keys.size() == 1);
  CHECK(r.keys[0].alias == "ikvm-server");
  std::set<std::string> aliases;
  for (const auto& c : r.certificates) aliases.insert(c.aliases.begin(), c.aliases.end());
  CHECK(aliases == std::set<std::string>{"bmc-root", "ikvm-server"});

  TempDir tmp;
  auto c = open_ok(tmp.file("c.db"));
  for (const char* name : {"a.bin", "b.bin"}) record_ok(*c, meta(name), r);
  for (const auto& rec : r.certificates) {
    auto w = c->where(rec.cert.sha256);
    REQUIRE(w);
    REQUIRE(w->size() == 2);
    CHECK((*w)[0].aliases == rec.aliases);
    auto doc = fwcert::catalog_to_json(fwcert::catalog_where_table(rec.cert.sha256, *w));
    CHECK(doc["placements"][0]["aliases"] == nlohmann::json(rec.aliases));
  }
  fwcert::CertFilter f;
  f.now = k2026Jan1;
  auto certs = c->certificates(f);
  REQUIRE(certs);
  for (const auto& e : *certs) CHECK(e.aliases.size() == 1);
  auto keys = c->shared_keys();
  REQUIRE(keys);
  REQUIRE(keys->size() == 1);
  CHECK((*keys)[0].placements.at(0).alias == "ikvm-server");
  auto kj = fwcert::catalog_to_json(fwcert::catalog_keys_table(*keys));
  CHECK(kj["keys"][0]["alias"] == "ikvm-server");
  std::ostringstream table;
  fwcert::write_catalog_text(table, fwcert::catalog_keys_table(*keys));
  CHECK(table.str().find("ikvm-server") != std::string::npos);
}

TEST_CASE("catalog: a version 1 catalog (before aliases) is read as it is, merged, and migrated when written") {
  TempDir tmp;
  const std::string old = tmp.file("v1.db");
  std::string expected;
  {
    auto c = open_ok(old);
    record_three(*c);
    expected = dump(*c);
  }
  downgrade_to_v1(old);
  const auto bytes = read_file(old);
  {
    auto ro = Catalog::open_read_only(old);
    INFO((ro ? std::string() : ro.error().message));
    REQUIRE(ro);
    CHECK(dump(**ro) == expected);
  }
  CHECK(read_file(old) == bytes);  // queries do not migrate

  auto m = Catalog::merge(tmp.file("merged.db"), {old});
  REQUIRE(m);
  CHECK(m->failed.empty());
  CHECK(dump(*open_ok(tmp.file("merged.db"))) == expected);

  {
    auto c = open_ok(old);  // for writing: migrated
    CHECK(dump(*c) == expected);
    const Bytes jks = sample_jks();
    fwcert::ScanOptions o;
    o.now = k2026Jan1;
    record_ok(*c, meta("j.bin"),
              fwcert::scan_input(fwcert::ByteView(jks.data(), jks.size()), "store.jks", walker(), o));
    auto images = c->list_images();
    REQUIRE(images);
    CHECK(images->size() == 4);
  }
  auto again = Catalog::open_read_only(old);
  REQUIRE(again);
  auto found = (*again)->find_certificates("");
  REQUIRE(found);
  bool saw_alias = false;
  for (const auto& sha : *found) {
    auto w = (*again)->where(sha);
    REQUIRE(w);
    for (const auto& p : *w) saw_alias = saw_alias || !p.aliases.empty();
  }
  CHECK(saw_alias);
}
