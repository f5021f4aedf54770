// BMC flash layouts: the AMI MegaRAC module table and the OpenBMC static and UBI layouts. Synthetic tables built here
// (damaged, truncated, foreign headers), and the images of samples/make-layout-samples.sh made at test time with
// mksquashfs, mkfs.jffs2, ubinize and mkfs.cramfs (skipped when they are absent).
//
// Assertions about what lies inside the JFFS2 and UBI partitions run only once a container reader for "jffs2" / "ubi"
// is registered (the readers of h-jffs2 and h-ubi); until then they WARN that they were skipped.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "fwcert/core/checksum.hpp"
#include "fwcert/extract/containers.hpp"
#include "fwcert/extract/tree.hpp"
#include "fwcert/formats/megarac.hpp"
#include "fwcert/formats/openbmc.hpp"
#include "support.hpp"

using namespace fwcert;
using namespace fwtest;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// ---- synthetic MegaRAC flash ----

Bytes fmh(const std::string& name, uint16_t type, uint32_t location, uint32_t size, uint16_t flags, uint32_t checksum,
          uint32_t allocated, uint32_t fmh_location) {
  Bytes h(64, 0);
  std::copy_n("$MODULE$", 8, h.begin());
  h[8] = 1;
  h[9] = 6;
  put_u16le(h, 10, 64);
  put_u32le(h, 12, allocated);
  put_u32le(h, 16, fmh_location);
  for (size_t i = 0; i < name.size() && i < 8; ++i) h[24 + i] = static_cast<uint8_t>(name[i]);
  h[32] = 1;
  put_u16le(h, 34, type);
  put_u32le(h, 36, location);
  put_u32le(h, 40, size);
  put_u16le(h, 44, flags);
  put_u32le(h, 46, 0xFFFFFFFF);
  put_u32le(h, 50, checksum);
  put_u16le(h, 62, 0x55AA);
  uint8_t sum = 0;
  for (uint8_t b : h) sum = static_cast<uint8_t>(sum + b);
  h[23] = static_cast<uint8_t>(-sum);
  return h;
}

uint32_t crc_of(const Bytes& b) { return crc32(ByteView(b.data(), b.size())); }

void put(Bytes& img, size_t at, const Bytes& data) { std::copy(data.begin(), data.end(), img.begin() + static_cast<long>(at)); }

// Text with a PEM marker: what the root file system holds.
const std::string kKey =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBszCCAVmgAwIBAgIUBUY7jz9Bo4SKDbZ3d4DiWbqBTW4wCgYIKoZIzj0EAwIw\n"
    "-----END CERTIFICATE-----\n";

struct Mega {
  Bytes img;
  Bytes boot, root, conf;
};

// 256 KiB flash: boot at 0 (header at 0x8000 through an ALT_FMH at 0xFFF0), root at 0x10000 (a CramFS holding a
// key), conf at 0x30000; `prefix` bytes of something else before the flash.
Mega make_mega(size_t prefix = 0, bool bad_root_crc = false) {
  Mega m;
  m.boot = random_bytes(0x4000, 1);
  m.root = make_cramfs({{"server.pem", Bytes(kKey.begin(), kKey.end())}}, false);
  m.conf = random_bytes(0x800, 2);
  Bytes flash(0x40000, 0xFF);
  put(flash, 0, m.boot);
  put(flash, 0x8000, fmh("boot", 0x0001, 0, static_cast<uint32_t>(m.boot.size()), 0x0101, crc_of(m.boot), 0x10000, 0x8000));
  Bytes alt(16, 0);
  put_u16le(alt, 0, 0x55AA);
  put_u32le(alt, 4, 0x8000);
  std::copy_n("$MODULE$", 8, alt.begin() + 8);
  uint8_t sum = 0;
  for (uint8_t b : alt) sum = static_cast<uint8_t>(sum + b);
  alt[2] = static_cast<uint8_t>(-sum);
  put(flash, 0xFFF0, alt);
  const uint32_t root_crc = crc_of(m.root) ^ (bad_root_crc ? 1u : 0u);
  put(flash, 0x10000, fmh("root", 0x1009, 0x40, static_cast<uint32_t>(m.root.size()), 0x0100, root_crc, 0x20000, 0x10000));
  put(flash, 0x10040, m.root);
  put(flash, 0x30000, fmh("conf", 0x1230, 0x40, static_cast<uint32_t>(m.conf.size()), 0x0100, crc_of(m.conf), 0x10000, 0x30000));
  put(flash, 0x30040, m.conf);
  m.img = Bytes(prefix, 0x5A);
  append(m.img, flash);
  return m;
}

Tree extract(const Bytes& data, const std::string& name) {
  ExtractOptions o;
  o.threads = 1;
  return extract_tree(ByteView(data.data(), data.size()), name, walker(), o);
}

std::map<std::string, const Node*> by_location(const Tree& t) {
  std::map<std::string, const Node*> m;
  for (const auto& n : t.nodes) m[n.location] = &n;
  return m;
}

bool node_diag(const Node& n, const std::string& needle) {
  for (const auto& d : n.diagnostics)
    if (contains(d.message, needle)) return true;
  return false;
}

size_t count_suffix(const Tree& t, const std::string& suffix) { return t.find_suffix(suffix).size(); }

// ---- the samples of make-layout-samples.sh ----

// The folder holding the samples, made once and shared by the test processes (ctest runs each test case in its own):
// a cache in the temporary folder named after the scripts' sizes and times, filled in a sibling folder and renamed
// into place. "" when a tool is missing (the test then WARNs and returns).
const std::string& samples_dir() {
  static const std::string dir = [] {
    namespace fs = std::filesystem;
    std::string key = std::to_string(getuid());
    for (const char* f : {"/samples/make-layout-samples.sh", "/samples/tools/layoutimg.py"}) {
      std::error_code ec;
      const fs::path p = source_dir() + f;
      key += "-" + std::to_string(fs::file_size(p, ec)) + "-" +
             std::to_string(fs::last_write_time(p, ec).time_since_epoch().count());
    }
    const fs::path d = fs::temp_directory_path() / ("fwcert-layout-samples-" + key);
    std::error_code ec;
    if (fs::exists(d / "openbmc-ubi.bin", ec)) return d.string();
    const fs::path work = d.string() + ".tmp" + std::to_string(getpid());
    const std::string cmd = "bash " + source_dir() + "/samples/make-layout-samples.sh " + work.string() + " >/dev/null 2>&1";
    const int rc = std::system(cmd.c_str());
    if (rc != 0) {
      fs::remove_all(work, ec);
      if (!(WIFEXITED(rc) && WEXITSTATUS(rc) == 77)) FAIL("make-layout-samples.sh failed: " << rc);
      return std::string();
    }
    fs::rename(work, d, ec);  // another process may have been first: then its folder is used and this one dropped
    if (ec) fs::remove_all(work, ec);
    return d.string();
  }();
  return dir;
}

std::optional<Bytes> sample(const std::string& name) {
  if (samples_dir().empty()) {
    WARN("skipped: make-layout-samples.sh needs mksquashfs, mkfs.jffs2, ubinize and mkfs.cramfs");
    return std::nullopt;
  }
  return read_file(samples_dir() + "/" + name);
}

}  // namespace

// ------------------------------------------------------------------------------------------------------------------
// MegaRAC, synthetic

TEST_CASE("megarac: the table names every module and checks its CRC", "[layouts][megarac]") {
  Mega m = make_mega();
  auto h = validate("megarac", m.img, 0x8000);
  REQUIRE(h);
  CHECK(h->type == "megarac");
  CHECK(h->offset == 0);
  CHECK(h->size == 0x40000);
  CHECK(h->confidence == Confidence::High);
  CHECK(h->nesting == Nesting::Container);
  CHECK(contains(h->description, "3 modules"));
  CHECK(contains(h->description, "boot 0x0+0x4000 (boot loader, CRC ok)"));
  CHECK(contains(h->description, "root 0x10040+"));
  CHECK(contains(h->description, "conf 0x30040+0x800 (JFFS2, CRC ok)"));
  CHECK(h->diagnostics.empty());

  megarac::Table t = megarac::read_table(ByteView(m.img.data(), m.img.size()), 0x8000);
  REQUIRE(t.modules.size() == 3);
  CHECK(t.modules[0].via_alt);
  CHECK(t.modules[0].data_at == 0);
  CHECK(t.modules[1].data_at == 0x10040);
  CHECK(t.modules[1].kind() == "CramFS");  // format byte 0x10
  for (const auto& mod : t.modules) CHECK(mod.crc == megarac::Module::Check::Ok);

  // The walk reports one table, at the flash origin, whatever header it meets first.
  auto hits = hits_of(walk_all(m.img), "megarac");
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].offset == 0);
}

TEST_CASE("megarac: a flash after other bytes is placed by FMH_Location", "[layouts][megarac]") {
  Mega m = make_mega(0x1234);
  auto hits = hits_of(walk_all(m.img), "megarac");
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].offset == 0x1234);
  CHECK(hits[0].size == 0x40000);
  CHECK(hits[0].confidence == Confidence::High);
}

TEST_CASE("megarac: a wrong module CRC is a diagnostic, the module is still extracted", "[layouts][megarac]") {
  Mega m = make_mega(0, true);
  auto h = validate("megarac", m.img, 0x8000);
  REQUIRE(h);
  CHECK(h->confidence == Confidence::Medium);
  CHECK(has_diag(*h, "module root: stored CRC-32"));
  CHECK(contains(h->description, "root 0x10040+"));
  CHECK(contains(h->description, "CRC MISMATCH"));

  Tree t = extract(m.img, "m.bin");
  auto loc = by_location(t);
  REQUIRE(loc.count("m.bin!megarac:root"));
  CHECK(node_diag(*loc["m.bin!megarac:root"], "CRC-32 mismatch"));
  CHECK(loc.count("m.bin!megarac:root!cramfs:/server.pem"));
  CHECK(loc.count("m.bin!megarac:boot"));
  CHECK(loc.count("m.bin!megarac:conf"));
  CHECK(loc["m.bin!megarac:conf"]->size == 0x800);
}

TEST_CASE("megarac: modules are extracted under their names, once", "[layouts][megarac]") {
  Mega m = make_mega();
  Tree t = extract(m.img, "m.bin");
  auto loc = by_location(t);
  REQUIRE(loc.count("m.bin!megarac:root!cramfs:/server.pem"));
  // The CramFS inside the root module is read through the module only, not a second time from the flash.
  CHECK(count_suffix(t, ":/server.pem") == 1);
  CHECK_FALSE(loc.count("m.bin!cramfs@0x10040"));
  CHECK(loc["m.bin!megarac:boot"]->size == m.boot.size());
}

TEST_CASE("megarac: a damaged header is reported, a destroyed one leaves its data as a gap", "[layouts][megarac]") {
  SECTION("header checksum") {
    Mega m = make_mega();
    m.img[0x30000 + 30] ^= 0x40;  // inside conf's name: the header no longer sums to 0
    auto h = validate("megarac", m.img, 0x8000);
    REQUIRE(h);
    CHECK(h->confidence == Confidence::Medium);
    CHECK(has_diag(*h, "header checksum"));
  }
  SECTION("signature destroyed") {
    Mega m = make_mega();
    m.img[0x10000] = 'X';  // root's header is gone: its CramFS is still read, as a gap member
    auto h = validate("megarac", m.img, 0x8000);
    REQUIRE(h);
    CHECK_FALSE(contains(h->description, "root "));
    Tree t = extract(m.img, "m.bin");
    bool found = false;
    for (const auto& n : t.nodes)
      if (contains(n.location, "!megarac:gap@0x10000") && contains(n.location, "cramfs") &&
          contains(n.location, "/server.pem"))
        found = true;
    CHECK(found);
  }
}

TEST_CASE("megarac: a CramFS module with a damaged superblock is recovered", "[layouts][megarac]") {
  Mega m = make_mega();
  for (size_t i = 0; i < 4; ++i) m.img[0x10040 + i] = 0;  // the CramFS magic: the walk no longer sees a CramFS there
  Tree t = extract(m.img, "m.bin");
  auto loc = by_location(t);
  // The walk's headerless-CramFS finder sees the root directory (a whole-module hit, so no "@0x0"); the module type's
  // recovery would give "cramfs@0x0". Either way the tree is read once and marked recovered.
  const bool by_walk = loc.count("m.bin!megarac:root!cramfs") > 0;
  const std::string box = by_walk ? "m.bin!megarac:root!cramfs" : "m.bin!megarac:root!cramfs@0x0";
  CHECK_FALSE((by_walk && loc.count("m.bin!megarac:root!cramfs@0x0")));
  REQUIRE(loc.count(box));
  CHECK(loc[box]->recovered);
  CHECK(loc.count(box + ":/server.pem"));
  // conf's header says JFFS2: no CramFS is looked for there.
  CHECK_FALSE(loc.count("m.bin!megarac:conf!cramfs@0x0"));
}

TEST_CASE("megarac: headers that are no table", "[layouts][megarac]") {
  Bytes b(0x200, 0);
  append(b, std::string("the flasher looks for $MODULE$ headers"));
  b.resize(0x1000, 0);
  CHECK_FALSE(validate("megarac", b, 0x200 + 22));
  CHECK(hits_of(walk_all(b), "megarac").empty());
  // A header of another flash (its FMH_Location places it elsewhere) is not this table's module.
  Mega m = make_mega();
  Bytes other = fmh("other", 0x0009, 0x40, 0x10, 0, 0, 0x10000, 0x700000);
  put(m.img, 0x20000, other);
  megarac::Table t = megarac::read_table(ByteView(m.img.data(), m.img.size()), 0x8000);
  CHECK(t.modules.size() == 3);
}

TEST_CASE("megarac: truncated and damaged copies never crash", "[layouts][megarac]") {
  Mega m = make_mega();
  for (size_t n = 0; n <= m.img.size(); n += (n < 0x11000 ? 0x3F1 : 0x2F01)) {
    Bytes p(m.img.begin(), m.img.begin() + static_cast<long>(n));
    auto h = validate("megarac", p, 0x8000);
    if (n < 0x8000 + 64) {
      CHECK_FALSE(h);
      continue;
    }
    REQUIRE(h);
    CHECK(h->size <= n);
    const bool root_cut = n >= 0x10040 && n < 0x10040 + m.root.size();
    const bool conf_cut = n >= 0x30040 && n < 0x30040 + m.conf.size();
    CHECK(has_diag(*h, "runs past the end") == (root_cut || conf_cut));
    Budget budget;
    ExtractResult r = read_megarac(ByteView(p.data(), p.size()), budget);
    CHECK_FALSE(r.entries.empty());
  }
  // Every header field overwritten in turn.
  for (size_t off = 0x10000; off < 0x10040; ++off) {
    Bytes d = m.img;
    d[off] ^= 0xFF;
    auto h = validate("megarac", d, 0x8000);
    REQUIRE(h);
    Budget budget;
    (void)read_megarac(ByteView(d.data(), d.size()), budget);
  }
}

// ------------------------------------------------------------------------------------------------------------------
// OpenBMC, synthetic

namespace {

// A minimal FIT: / { images { kernel-1 { data = <payload>; }; }; }.
Bytes tiny_fit(const Bytes& payload) {
  Bytes st;
  auto u32 = [&](uint32_t v) { put_u32be(st, st.size(), v); };
  auto name = [&](const std::string& s) {
    append(st, s);
    st.push_back(0);
    while (st.size() % 4) st.push_back(0);
  };
  u32(1), name("");
  u32(1), name("images");
  u32(1), name("kernel-1");
  u32(3), u32(static_cast<uint32_t>(payload.size())), u32(0);
  append(st, payload);
  while (st.size() % 4) st.push_back(0);
  u32(2), u32(2), u32(2), u32(9);
  const std::string strings("data\0", 5);
  Bytes b(0x38, 0);
  const uint32_t total = static_cast<uint32_t>(0x38 + st.size() + strings.size());
  put_u32be(b, 0, 0xd00dfeed);
  put_u32be(b, 4, total);
  put_u32be(b, 8, 0x38);
  put_u32be(b, 12, static_cast<uint32_t>(0x38 + st.size()));
  put_u32be(b, 16, 0x28);
  put_u32be(b, 20, 17);
  put_u32be(b, 24, 16);
  put_u32be(b, 32, static_cast<uint32_t>(strings.size()));
  put_u32be(b, 36, static_cast<uint32_t>(st.size()));
  append(b, st);
  append(b, strings);
  return b;
}

Bytes env_block(const std::string& vars, size_t size) {
  Bytes e(size, 0);
  std::copy(vars.begin(), vars.end(), e.begin() + 4);
  put_u32le(e, 0, crc32(ByteView(e.data() + 4, size - 4)));
  return e;
}

// 32 MiB static layout; the squashfs superblock is only its first 96 bytes (enough for the layout's check).
Bytes make_static(bool with_rofs = true, bool good_env = true) {
  Bytes img(0x2000000, 0xFF);
  put(img, 0, random_bytes(0x1000, 3));
  Bytes env = env_block(std::string("bootcmd=bootm 20080000\0bootside=a\0", 35), 0x10000);
  if (!good_env) env[0] ^= 1;
  put(img, 0x60000, env);
  put(img, 0x80000, tiny_fit(random_bytes(100, 4)));
  if (with_rofs) {
    Bytes sb(96, 0);
    std::copy_n("hsqs", 4, sb.begin());
    put_u16le(sb, 28, 4);
    put_u64le(sb, 40, 0x1000);
    put(img, 0x4C0000, sb);
  }
  Bytes jffs2 = {0x85, 0x19, 0x03, 0x20, 0x0c, 0, 0, 0};
  put(img, 0x1C00000, jffs2);
  return img;
}

}  // namespace

TEST_CASE("openbmc-static: partitions named and checked", "[layouts][openbmc]") {
  Bytes img = make_static();
  auto hits = hits_of(walk_all(img), "openbmc-static");
  REQUIRE(hits.size() == 1);
  const Hit& h = hits[0];
  CHECK(h.offset == 0);
  CHECK(h.size == 0x2000000);
  CHECK(h.confidence == Confidence::High);
  CHECK(contains(h.description, "OpenBMC static flash layout, 32 MiB"));
  CHECK(contains(h.description, "u-boot-env 0x60000+0x20000 (U-Boot environment, 2 variables, size 0x10000, CRC ok, "
                                "OpenBMC variables)"));
  CHECK(contains(h.description, "kernel 0x80000+0x440000 (FIT, 1 image)"));
  CHECK(contains(h.description, "rofs 0x4C0000+0x1740000 (squashfs 4, 4096 bytes used)"));
  CHECK(contains(h.description, "rwfs 0x1C00000+0x400000 (JFFS2"));

  Budget budget;
  ExtractResult r = read_openbmc_static(ByteView(img.data(), img.size()), budget);
  REQUIRE(r.entries.size() == 5);
  CHECK(r.entries[0].path == "u-boot");
  CHECK(r.entries[0].size == 0x1000);  // up to the last programmed byte
  CHECK(r.entries[2].path == "kernel");
  CHECK(r.entries[3].path == "rofs");
  CHECK(r.entries[4].path == "rwfs");
  CHECK(r.entries[4].size == 0x10000);  // JFFS2 keeps whole erase blocks
}

TEST_CASE("openbmc-static: damage gives diagnostics, weak evidence no layout", "[layouts][openbmc]") {
  SECTION("bad environment CRC: still the layout, Medium") {
    Bytes img = make_static(true, false);
    auto hits = hits_of(walk_all(img), "openbmc-static");
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].confidence == Confidence::Medium);
    CHECK(has_diag(hits[0], "u-boot-env: stored CRC-32"));
  }
  SECTION("no squashfs, good environment: Medium") {
    Bytes img = make_static(false, true);
    auto hits = hits_of(walk_all(img), "openbmc-static");
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].confidence == Confidence::Medium);
    CHECK(has_diag(hits[0], "rofs: erased, no squashfs superblock"));
  }
  SECTION("a FIT at 0x80000 alone is no layout") {
    Bytes img = make_static(false, false);
    CHECK(hits_of(walk_all(img), "openbmc-static").empty());
  }
  SECTION("truncated input") {
    Bytes img = make_static();
    img.resize(0x1C00100);
    auto hits = hits_of(walk_all(img), "openbmc-static");
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].size == img.size());
    CHECK(has_diag(hits[0], "rwfs: the input ends"));
    for (size_t n : {size_t{0x80000}, size_t{0x80010}, size_t{0x4C0000}, size_t{0x4C0020}, size_t{0x4C0100}}) {
      Bytes p(img.begin(), img.begin() + static_cast<long>(n));
      Budget budget;
      (void)read_openbmc_static(ByteView(p.data(), p.size()), budget);
      (void)walk_all(p);
    }
  }
}

// ------------------------------------------------------------------------------------------------------------------
// The samples, made by the real tools

TEST_CASE("samples: MegaRAC modules, the squashfs root and the CramFS www", "[layouts][samples]") {
  auto img = sample("megarac-sample.bin");
  if (!img) return;
  auto hits = hits_of(walk_all(*img), "megarac");
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].confidence == Confidence::High);
  CHECK(contains(hits[0].description, "FW_VERSION 1.2.3, 5 modules"));
  CHECK(contains(hits[0].description, "fwinfo 0xF0040+0x59 (firmware info, image CRC ok)"));
  Tree t = extract(*img, "megarac-sample.bin");
  auto loc = by_location(t);
  for (const char* m : {"boot", "conf", "root", "www", "fwinfo"})
    CHECK(loc.count(std::string("megarac-sample.bin!megarac:") + m));
  CHECK(loc.count("megarac-sample.bin!megarac:root!squashfs:/etc/stunnel/server.key"));
  CHECK(loc.count("megarac-sample.bin!megarac:root!squashfs:/etc/stunnel/server.crt!pem"));
  CHECK(loc.count("megarac-sample.bin!megarac:www!cramfs:/certs/client.crt!pem"));
  CHECK(count_suffix(t, "/etc/stunnel/server.key") == 1);
  if (find_container("jffs2")) CHECK(loc.count("megarac-sample.bin!megarac:conf!jffs2:/ssl/server.pem"));
  else WARN("no JFFS2 reader yet: megarac:conf!jffs2 not checked");
}

TEST_CASE("samples: MegaRAC with a wrong root CRC is still read", "[layouts][samples]") {
  auto img = sample("megarac-badcrc.bin");
  if (!img) return;
  Tree t = extract(*img, "bad.bin");
  auto loc = by_location(t);
  REQUIRE(loc.count("bad.bin!megarac:root"));
  CHECK(node_diag(*loc["bad.bin!megarac:root"], "CRC-32 mismatch"));
  CHECK(loc.count("bad.bin!megarac:root!squashfs:/etc/stunnel/server.key"));
}

TEST_CASE("samples: OpenBMC static layout", "[layouts][samples]") {
  auto img = sample("openbmc-static.bin");
  if (!img) return;
  auto hits = hits_of(walk_all(*img), "openbmc-static");
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].confidence == Confidence::High);
  CHECK(contains(hits[0].description, "kernel 0x80000+0x440000 (FIT, 3 images)"));
  Tree t = extract(*img, "s.bin");
  auto loc = by_location(t);
  for (const char* p : {"u-boot", "u-boot-env", "kernel", "rofs", "rwfs"}) CHECK(loc.count(std::string("s.bin!openbmc-static:") + p));
  CHECK(loc.count("s.bin!openbmc-static:kernel!fit:kernel-1"));
  CHECK(loc.count("s.bin!openbmc-static:rofs!squashfs:/etc/ssl/certs/https/server.pem"));
  CHECK(count_suffix(t, "/etc/ssl/certs/https/server.pem") == 1);
  CHECK_FALSE(loc.count("s.bin!squashfs@0x4C0000"));
  if (find_container("jffs2")) CHECK(loc.count("s.bin!openbmc-static:rwfs!jffs2@0x0:/etc/ssl/certs/authority/ca.pem"));  // the nodes end before the partition
  else WARN("no JFFS2 reader yet: openbmc-static:rwfs!jffs2 not checked");
}

TEST_CASE("samples: OpenBMC UBI layout", "[layouts][samples]") {
  auto img = sample("openbmc-ubi.bin");
  if (!img) return;
  auto hits = hits_of(walk_all(*img), "openbmc-ubi");
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].confidence == Confidence::High);
  CHECK(contains(hits[0].description, "volumes: kernel-0a1b2c3d (static), rofs-0a1b2c3d (static), rwfs (dynamic)"));
  Tree t = extract(*img, "u.bin");
  auto loc = by_location(t);
  for (const char* p : {"u-boot", "u-boot-env", "obmc-ubi"}) CHECK(loc.count(std::string("u.bin!openbmc-ubi:") + p));
  CHECK(loc["u.bin!openbmc-ubi:obmc-ubi"]->size % 0x10000 == 0);
  if (find_container("ubi"))
    CHECK(loc.count("u.bin!openbmc-ubi:obmc-ubi!ubi:rofs-0a1b2c3d!squashfs:/etc/ssl/certs/https/server.pem"));
  else WARN("no UBI reader yet: openbmc-ubi:obmc-ubi!ubi volumes not checked");
}
