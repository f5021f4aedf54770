// UBI (formats/ubi.cpp): images made at test time by ubinize (Debian mtd-utils) holding a static squashfs volume "rofs"
// (mksquashfs), a dynamic UBIFS volume "rwfs" (mkfs.ubifs) and a dynamic raw volume "kernel", each with its own
// certificate and key where it is a filesystem, as OpenBMC's UBI layout has them. Each volume's bytes are rebuilt
// from its LEBs, the walk reads the squashfs and the UBIFS in them, and the scan finds both certificates at their
// full locations with their keys paired. A newer copy of a LEB wins (unless it is a copy whose data CRC fails);
// damaged and truncated images give diagnostics and the rest. Skipped (with a warning) without the tools.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "fwcert/certs/scan.hpp"
#include "fwcert/extract/tree.hpp"
#include "fwcert/formats/ubi.hpp"
#include "support.hpp"

using namespace fwtest;
using fwcert::ByteView;
namespace fsys = std::filesystem;

namespace {

constexpr int64_t k2026Jan1 = 1767225600;

std::string quote(const std::string& s) { return "'" + s + "'"; }

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};

std::string bio_text(BIO* b) {
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  return std::string(data, static_cast<size_t>(n));
}

// A self-signed P-256 certificate CN=cn valid 2020-01-01..2030-01-01 and its private key, in PEM.
std::pair<std::string, std::string> make_cert_and_key(const std::string& cn) {
  std::unique_ptr<EVP_PKEY, KeyFree> key(EVP_EC_gen("P-256"));
  REQUIRE(key);
  std::unique_ptr<X509, X509Free> x(X509_new());
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 7);
  ASN1_TIME_set(X509_getm_notBefore(x.get()), 1577836800);
  ASN1_TIME_set(X509_getm_notAfter(x.get()), 1893456000);
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x.get(), name);
  X509_set_pubkey(x.get(), key.get());
  REQUIRE(X509_sign(x.get(), key.get(), EVP_sha256()) > 0);
  std::unique_ptr<BIO, BioFree> cb(BIO_new(BIO_s_mem())), kb(BIO_new(BIO_s_mem()));
  REQUIRE(PEM_write_bio_X509(cb.get(), x.get()) == 1);
  REQUIRE(PEM_write_bio_PrivateKey(kb.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1);
  return {bio_text(cb.get()), bio_text(kb.get())};
}

void write_bytes(const fsys::path& p, const Bytes& b) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}
void write_text(const fsys::path& p, const std::string& t) { write_bytes(p, Bytes(t.begin(), t.end())); }

std::optional<size_t> find_node(const fwcert::Tree& tree, const std::string& location) {
  for (const auto& n : tree.nodes)
    if (n.location == location) return n.id;
  return std::nullopt;
}

// Every file, directory and symlink of the source tree is a member of the UBIFS node with the same content, and the
// node has no member the source lacks.
void check_same_tree(const fwcert::Tree& tree, size_t fs_node, const fsys::path& src) {
  std::map<std::string, const fwcert::Node*> members;
  for (size_t id : tree.nodes[fs_node].children) {
    const fwcert::Node& n = tree.nodes[id];
    if (n.role == fwcert::NodeRole::Member) members[n.member_path] = &n;
  }
  size_t count = 0;
  for (auto it = fsys::recursive_directory_iterator(src); it != fsys::recursive_directory_iterator(); ++it) {
    const std::string rel = "/" + it->path().lexically_relative(src).string();
    INFO(rel);
    ++count;
    auto m = members.find(rel);
    REQUIRE(m != members.end());
    const fwcert::Node& n = *m->second;
    auto st = it->symlink_status();
    if (fsys::is_symlink(st)) {
      CHECK(n.kind == fwcert::EntryKind::Symlink);
      CHECK(n.link_target == fsys::read_symlink(it->path()).string());
    } else if (fsys::is_directory(st)) {
      CHECK(n.kind == fwcert::EntryKind::Directory);
    } else if (fsys::is_character_file(st)) {
      CHECK(n.kind == fwcert::EntryKind::CharDevice);
      CHECK(n.rdev_major == 5);
      CHECK(n.rdev_minor == 1);
    } else {
      CHECK(n.kind == fwcert::EntryKind::File);
      CHECK(n.complete);
      Bytes want = read_file(it->path().string());
      CHECK(n.size == want.size());
      CHECK(Bytes(n.content.data(), n.content.data() + n.content.size()) == want);
    }
  }
  CHECK(members.size() == count);
}

bool no_warnings(const fwcert::Tree& tree) {
  bool ok = true;
  for (const auto& n : tree.nodes)
    for (const auto& d : n.diagnostics)
      if (d.severity != fwcert::Severity::Info) {
        UNSCOPED_INFO(n.location << ": " << d.message);
        ok = false;
      }
  return ok;
}

fwcert::ScanReport scan(const Bytes& img, const std::string& name) {
  fwcert::ScanOptions o;
  o.now = k2026Jan1;
  return fwcert::scan_input(ByteView(img.data(), img.size()), name, walker(), o);
}

bool has_location(const fwcert::ScanReport& r, const std::string& loc) {
  for (const auto& c : r.certificates)
    for (const auto& l : c.locations)
      if (l == loc) return true;
  return false;
}

bool have_tools() {
  return std::system("command -v mkfs.ubifs >/dev/null 2>&1 && command -v ubinize >/dev/null 2>&1 && "
                     "command -v mksquashfs >/dev/null 2>&1") == 0;
}

// Bitwise CRC-32 without pre/post inversion (the kernel's crc32_le), written apart from the library.
uint32_t crc32_le_raw(uint32_t crc, const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return crc;
}

constexpr size_t kPeb = 131072, kVidOff = 2048, kDataOff = 4096, kLeb = kPeb - kDataOff;
constexpr size_t kPad = 0x10000;  // zeros before the UBI image, so its location has an offset

struct UbiFixture {
  fsys::path root;
  std::string cn_ro = "ubi rofs server", cn_rw = "ubi rwfs server";
  Bytes sqsh, ubifs, kernel, image;  // the volume images and the UBI image (after kPad zeros)
  bool ok = false;
  UbiFixture() {
    char tmpl[] = "/tmp/fwcert-ubi-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    root = tmpl;
    for (const auto& [dir, cn] : {std::pair{"ro", cn_ro}, std::pair{"rw", cn_rw}}) {
      const fsys::path t = root / dir;
      fsys::create_directories(t / "etc/ssl/private");
      auto [cert, key] = make_cert_and_key(cn);
      write_text(t / "etc/ssl/server.crt", cert);
      write_text(t / "etc/ssl/private/server.key", key);
      write_bytes(t / "etc/blob", random_bytes(150000, dir[1]));
    }
    kernel = random_bytes(200000, 3);
    kernel.back() = 0x5A;  // the trimmed tail of erased flash stops here
    write_bytes(root / "kernel.bin", kernel);
    const std::string r = quote(root.string());
    const std::string cmd =
        "cd " + r + " && mksquashfs ro ro.sqsh -noappend -quiet -no-progress -all-root >/dev/null 2>&1 && "
        "mkfs.ubifs -m 2048 -e " + std::to_string(kLeb) + " -c 100 -x zstd -r rw -o rw.ubifs >/dev/null 2>&1 && "
        "printf '[rofs]\\nmode=ubi\\nimage=ro.sqsh\\nvol_id=0\\nvol_type=static\\nvol_name=rofs\\n"
        "[rwfs]\\nmode=ubi\\nimage=rw.ubifs\\nvol_id=1\\nvol_type=dynamic\\nvol_size=4MiB\\nvol_name=rwfs\\n"
        "[kernel]\\nmode=ubi\\nimage=kernel.bin\\nvol_id=2\\nvol_type=dynamic\\nvol_size=1MiB\\nvol_name=kernel\\n'"
        " > ubi.ini && ubinize -o ubi.img -p 128KiB -m 2048 -s 2048 -Q 305419896 ubi.ini >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) return;
    sqsh = read_file((root / "ro.sqsh").string());
    ubifs = read_file((root / "rw.ubifs").string());
    image = Bytes(kPad, 0);
    append(image, read_file((root / "ubi.img").string()));
    ok = true;
  }
  ~UbiFixture() {
    std::error_code ec;
    fsys::remove_all(root, ec);
  }
  // The PEB (index from the image start, after kPad) holding LEB lnum of volume vol_id, or -1.
  long peb_of(uint32_t vol_id, uint32_t lnum) const {
    for (size_t p = kPad; p + kPeb <= image.size(); p += kPeb)
      if (std::string(image.begin() + static_cast<long>(p + kVidOff), image.begin() + static_cast<long>(p + kVidOff + 4)) == "UBI!") {
        ByteView v(image.data(), image.size());
        if (v.u32be(p + kVidOff + 8) == vol_id && v.u32be(p + kVidOff + 12) == lnum) return static_cast<long>((p - kPad) / kPeb);
      }
    return -1;
  }
};

void fix_vid_crc(Bytes& b, size_t vid) { put_u32be(b, vid + 60, crc32_le_raw(0xFFFFFFFFu, b.data() + vid, 60)); }

std::map<std::string, fwcert::Entry> volumes(const Bytes& image) {
  fwcert::Budget budget;
  fwcert::ExtractResult r = fwcert::read_ubi(ByteView(image.data() + kPad, image.size() - kPad), budget);
  std::map<std::string, fwcert::Entry> out;
  for (auto& e : r.entries) out[e.path] = e;
  return out;
}
Bytes bytes_of(const fwcert::Entry& e) { return Bytes(e.content().data(), e.content().data() + e.content().size()); }

const std::string kUbi = "x.bin!ubi@0x10000";

}  // namespace

TEST_CASE("ubi: ubinize image with a static squashfs, a dynamic UBIFS and a raw volume", "[ubi]") {
  if (!have_tools()) {
    WARN("ubinize, mkfs.ubifs or mksquashfs not found (Debian packages mtd-utils, squashfs-tools): skipped");
    return;
  }
  UbiFixture f;
  REQUIRE(f.ok);
  auto hit = validate("ubi", f.image, kPad);
  REQUIRE(hit);
  CHECK(hit->confidence == fwcert::Confidence::High);
  CHECK(hit->size == f.image.size() - kPad);
  CHECK(hit->description.find("3 volumes (\"rofs\", \"rwfs\", \"kernel\")") != std::string::npos);

  // Each volume's bytes: the static one exactly its image, the UBIFS one whole LEBs, the raw one trimmed of the
  // erased tail.
  auto vols = volumes(f.image);
  REQUIRE(vols.size() == 3);
  CHECK(bytes_of(vols["rofs"]) == f.sqsh);
  Bytes rw = bytes_of(vols["rwfs"]);
  REQUIRE(rw.size() >= f.ubifs.size());
  CHECK(rw.size() % kLeb == 0);
  CHECK(Bytes(rw.begin(), rw.begin() + static_cast<long>(f.ubifs.size())) == f.ubifs);
  CHECK(bytes_of(vols["kernel"]) == f.kernel);
  for (const auto& [name, e] : vols) CHECK(e.diagnostics.empty());

  fwcert::Tree tree = fwcert::extract_tree(ByteView(f.image.data(), f.image.size()), "x.bin", walker());
  auto rofs = find_node(tree, kUbi + ":rofs!squashfs");
  auto rwfs = find_node(tree, kUbi + ":rwfs!ubifs");
  REQUIRE(rofs);
  REQUIRE(rwfs);
  CHECK(no_warnings(tree));
  check_same_tree(tree, *rwfs, f.root / "rw");
  CHECK(find_node(tree, kUbi + ":rofs!squashfs:/etc/blob"));

  fwcert::ScanReport r = scan(f.image, "x.bin");
  REQUIRE(r.certificates.size() == 2);
  CHECK(has_location(r, kUbi + ":rofs!squashfs:/etc/ssl/server.crt"));
  CHECK(has_location(r, kUbi + ":rwfs!ubifs:/etc/ssl/server.crt"));
  REQUIRE(r.keys.size() == 2);
  for (const auto& c : r.certificates) {
    INFO(c.cert.common_name);
    REQUIRE(c.private_keys.size() == 1);
    const std::string vol = c.cert.common_name == f.cn_ro ? "rofs!squashfs" : "rwfs!ubifs";
    CHECK(c.private_keys[0] == kUbi + ":" + vol + ":/etc/ssl/private/server.key");
  }
}

TEST_CASE("ubi: of two PEBs holding one LEB the newer wins, unless it is a copy with a bad data CRC", "[ubi]") {
  if (!have_tools()) {
    WARN("ubinize, mkfs.ubifs or mksquashfs not found (Debian packages mtd-utils, squashfs-tools): skipped");
    return;
  }
  UbiFixture f;
  REQUIRE(f.ok);
  const long peb = f.peb_of(2, 0);  // kernel, LEB 0
  REQUIRE(peb >= 0);
  const size_t src = kPad + static_cast<size_t>(peb) * kPeb;
  Bytes copy(f.image.begin() + static_cast<long>(src), f.image.begin() + static_cast<long>(src + kPeb));
  copy[kDataOff + 10] ^= 0xFF;  // the newer data
  put_u64be(copy, kVidOff + 40, 1000000);  // sqnum
  fix_vid_crc(copy, kVidOff);

  Bytes newer = f.image;
  append(newer, copy);
  Bytes want = f.kernel;
  want[10] ^= 0xFF;
  CHECK(bytes_of(volumes(newer)["kernel"]) == want);

  // The same as a wear-levelling copy (copy_flag) whose data_crc does not match: the older PEB stays current.
  Bytes bad = copy;
  bad[kVidOff + 6] = 1;
  put_u32be(bad, kVidOff + 20, static_cast<uint32_t>(kLeb));  // data_size
  put_u32be(bad, kVidOff + 32, 0x12345678);                    // data_crc, wrong
  fix_vid_crc(bad, kVidOff);
  Bytes older = f.image;
  append(older, bad);
  CHECK(bytes_of(volumes(older)["kernel"]) == f.kernel);

  // With the right data_crc the copy wins.
  put_u32be(bad, kVidOff + 32, crc32_le_raw(0xFFFFFFFFu, bad.data() + kDataOff, kLeb));
  fix_vid_crc(bad, kVidOff);
  Bytes good = f.image;
  append(good, bad);
  CHECK(bytes_of(volumes(good)["kernel"]) == want);
}

TEST_CASE("ubi: damaged headers, data and truncation give diagnostics and the rest", "[ubi]") {
  if (!have_tools()) {
    WARN("ubinize, mkfs.ubifs or mksquashfs not found (Debian packages mtd-utils, squashfs-tools): skipped");
    return;
  }
  UbiFixture f;
  REQUIRE(f.ok);
  auto diag_has = [](const std::vector<fwcert::Diagnostic>& ds, const std::string& part) {
    for (const auto& d : ds)
      if (d.message.find(part) != std::string::npos) return true;
    return false;
  };
  fwcert::Budget b0;
  const size_t full_entries =
      fwcert::read_ubi(ByteView(f.image.data() + kPad, f.image.size() - kPad), b0).entries.size();

  // A bit flip in the static volume's data: its data CRC fails, the volume is still given (marked incomplete).
  {
    const long peb = f.peb_of(0, 0);
    REQUIRE(peb >= 0);
    Bytes b = f.image;
    b[kPad + static_cast<size_t>(peb) * kPeb + kDataOff + 5000] ^= 0x01;
    auto vols = volumes(b);
    CHECK(!vols["rofs"].complete);
    CHECK(diag_has(vols["rofs"].diagnostics, "data CRC mismatch"));
    CHECK(has_location(scan(b, "x.bin"), kUbi + ":rwfs!ubifs:/etc/ssl/server.crt"));
  }
  // A damaged VID header in the raw volume, a damaged EC header in the middle: both noted; both certificates found.
  {
    Bytes b = f.image;
    const long k = f.peb_of(2, 0), r1 = f.peb_of(1, 1);
    REQUIRE(k >= 0);
    REQUIRE(r1 >= 0);
    b[kPad + static_cast<size_t>(k) * kPeb + kVidOff + 13] ^= 0x04;
    b[kPad + static_cast<size_t>(r1) * kPeb + 9] ^= 0x10;  // the erase counter, CRC stale
    auto hit = validate("ubi", b, kPad);
    REQUIRE(hit);
    CHECK(hit->confidence == fwcert::Confidence::Medium);
    CHECK(hit->size == f.image.size() - kPad);
    fwcert::Budget budget;
    fwcert::ExtractResult r = fwcert::read_ubi(ByteView(b.data() + kPad, b.size() - kPad), budget);
    CHECK(diag_has(r.diagnostics, "damaged volume identifier header"));
    CHECK(diag_has(r.diagnostics, "damaged erase-counter header"));
    fwcert::ScanReport s = scan(b, "x.bin");
    CHECK(has_location(s, kUbi + ":rofs!squashfs:/etc/ssl/server.crt"));
    CHECK(has_location(s, kUbi + ":rwfs!ubifs:/etc/ssl/server.crt"));
  }
  // Cut after the static volume: its certificate is still found; cut anywhere: no crash.
  {
    long last_ro = -1;
    for (uint32_t l = 0; l < 8; ++l) last_ro = std::max(last_ro, f.peb_of(0, l));
    REQUIRE(last_ro >= 0);
    Bytes cut(f.image.begin(), f.image.begin() + static_cast<long>(kPad + (static_cast<size_t>(last_ro) + 1) * kPeb + 777));
    CHECK(has_location(scan(cut, "x.bin"), kUbi + ":rofs!squashfs:/etc/ssl/server.crt"));
    for (size_t len = kPad; len <= f.image.size(); len += 65537) {
      Bytes c(f.image.begin(), f.image.begin() + static_cast<long>(len));
      fwcert::Budget b;
      fwcert::ExtractResult r = fwcert::read_ubi(ByteView(c.data() + kPad, c.size() - kPad), b);
      CHECK(r.entries.size() <= full_entries);
      auto h = validate("ubi", c, kPad);
      if (h) CHECK(h->size <= len - kPad);
    }
  }
  // Bit flips anywhere (fixed seed): never a crash, never more volumes than there are.
  Bytes noise = random_bytes(4096, 99);
  for (size_t k = 0; k < 200; ++k) {
    Bytes b = f.image;
    const size_t pos = kPad + (uint64_t{noise[k]} << 16 | uint64_t{noise[k + 1000]} << 8 | noise[k + 2000]) %
                                  (b.size() - kPad);
    b[pos] ^= static_cast<uint8_t>(1u << (k % 8));
    fwcert::Budget budget;
    fwcert::ExtractResult r = fwcert::read_ubi(ByteView(b.data() + kPad, b.size() - kPad), budget);
    CHECK(r.entries.size() <= full_entries);
  }
}

TEST_CASE("ubi: budget limits stop the reader with a diagnostic", "[ubi]") {
  if (!have_tools()) {
    WARN("ubinize, mkfs.ubifs or mksquashfs not found (Debian packages mtd-utils, squashfs-tools): skipped");
    return;
  }
  UbiFixture f;
  REQUIRE(f.ok);
  fwcert::ExtractLimits lim;
  lim.max_entries = 2;
  fwcert::Budget few(lim);
  fwcert::ExtractResult r = fwcert::read_ubi(ByteView(f.image.data() + kPad, f.image.size() - kPad), few);
  CHECK(r.entries.size() == 2);
  CHECK(r.limited);
  lim = {};
  lim.max_total_bytes = 100000;
  fwcert::Budget small(lim);
  r = fwcert::read_ubi(ByteView(f.image.data() + kPad, f.image.size() - kPad), small);
  CHECK(r.limited);
  CHECK(small.used_bytes() <= 100000);
}
