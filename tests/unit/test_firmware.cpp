// Firmware family: fdt/fit, crc32 table, uboot-env, aspeed-index, aten-footer, winbond-footer.
#include <zlib.h>

#include <catch2/catch.hpp>
#include <map>
#include <random>

#include "support.hpp"

using namespace fwtest;
using fwcert::Confidence;

namespace {

uint32_t zcrc(const Bytes& b, size_t off = 0, size_t len = SIZE_MAX) {
  if (len == SIZE_MAX) len = b.size() - off;
  return static_cast<uint32_t>(::crc32(0, b.data() + off, static_cast<uInt>(len)));
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Builds a flattened device tree (version 17) token by token.
class FdtBuilder {
 public:
  FdtBuilder& begin(const std::string& name) {
    u32(1);
    for (char c : name) st_.push_back(static_cast<uint8_t>(c));
    st_.push_back(0);
    pad();
    return *this;
  }
  FdtBuilder& end() {
    u32(2);
    return *this;
  }
  FdtBuilder& nop() {
    u32(4);
    return *this;
  }
  FdtBuilder& prop(const std::string& name, const Bytes& value) {
    u32(3);
    u32(static_cast<uint32_t>(value.size()));
    u32(name_offset(name));
    append(st_, value);
    pad();
    return *this;
  }
  FdtBuilder& prop_str(const std::string& name, const std::string& v) {
    Bytes b(v.begin(), v.end());
    b.push_back(0);
    return prop(name, b);
  }
  FdtBuilder& prop_u32(const std::string& name, uint32_t v) {
    Bytes b;
    put_u32be(b, 0, v);
    return prop(name, b);
  }
  FdtBuilder& raw_token(uint32_t v) {
    u32(v);
    return *this;
  }
  // Offset of the next byte of the structure block, relative to the blob start (after finish()).
  size_t struct_pos() const { return 0x38 + st_.size(); }

  Bytes finish(bool with_end = true) {
    if (with_end) u32(9);
    Bytes b;
    const uint32_t off_rsv = 0x28, off_struct = 0x38;
    const uint32_t off_strings = off_struct + static_cast<uint32_t>(st_.size());
    const uint32_t total = off_strings + static_cast<uint32_t>(strings_.size());
    put_u32be(b, 0, 0xd00dfeed);
    put_u32be(b, 4, total);
    put_u32be(b, 8, off_struct);
    put_u32be(b, 12, off_strings);
    put_u32be(b, 16, off_rsv);
    put_u32be(b, 20, 17);
    put_u32be(b, 24, 16);
    put_u32be(b, 28, 0);
    put_u32be(b, 32, static_cast<uint32_t>(strings_.size()));
    put_u32be(b, 36, static_cast<uint32_t>(st_.size()));
    b.resize(off_struct, 0);  // reservation map: one (0,0) entry
    append(b, st_);
    append(b, strings_);
    return b;
  }

 private:
  void u32(uint32_t v) { put_u32be(st_, st_.size(), v); }
  void pad() {
    while (st_.size() % 4) st_.push_back(0);
  }
  uint32_t name_offset(const std::string& n) {
    auto it = names_.find(n);
    if (it != names_.end()) return it->second;
    uint32_t off = static_cast<uint32_t>(strings_.size());
    append(strings_, n);
    strings_.push_back(0);
    names_[n] = off;
    return off;
  }
  Bytes st_, strings_;
  std::map<std::string, uint32_t> names_;
};

Bytes simple_dtb() {
  FdtBuilder f;
  f.begin("").prop_str("model", "Test Board").prop_str("compatible", "acme,board").prop_u32("#address-cells", 1);
  f.begin("memory@80000000").prop_str("device_type", "memory").end();
  f.begin("chosen").prop_str("bootargs", "console=ttyS0").nop().end();
  f.end();
  return f.finish();
}

Bytes be32(uint32_t v) {
  Bytes b;
  put_u32be(b, 0, v);
  return b;
}

struct Fit {
  Bytes blob;
  size_t kernel_data_at = 0;  // offset of the kernel payload in blob
  size_t inner_dtb_at = 0;
  size_t kernel_crc_at = 0;  // offset of the kernel hash-1 value
};

Fit make_fit(bool break_hash = false) {
  Bytes kernel = gzip_compress(random_bytes(3000, 7));
  Bytes dtb = simple_dtb();
  Bytes ramdisk = random_bytes(777, 8);
  FdtBuilder f;
  Fit out;
  f.begin("").prop_str("description", "Synthetic FIT").prop_u32("timestamp", 1600000000).prop_u32("#address-cells", 1);
  f.begin("images");
  f.begin("kernel-1").prop_str("description", "Linux").prop_str("type", "kernel").prop_str("arch", "arm")
      .prop_str("os", "linux").prop_str("compression", "gzip");
  out.kernel_data_at = f.struct_pos() + 12;
  f.prop("data", kernel).prop_u32("load", 0x80008000).prop_u32("entry", 0x80008000);
  uint32_t kc = zcrc(kernel);
  if (break_hash) kc ^= 1;
  f.begin("hash-1").prop_str("algo", "crc32");
  out.kernel_crc_at = f.struct_pos() + 12;
  f.prop("value", be32(kc)).end();
  f.end();
  f.begin("fdt-1").prop_str("type", "flat_dt").prop_str("arch", "arm").prop_str("compression", "none");
  out.inner_dtb_at = f.struct_pos() + 12;
  f.prop("data", dtb).end();
  f.begin("ramdisk-1").prop_str("type", "ramdisk").prop_str("arch", "arm").prop_str("compression", "none");
  f.prop("data", ramdisk).end();
  f.end();  // images
  f.begin("configurations").prop_str("default", "conf-1");
  f.begin("conf-1").prop_str("kernel", "kernel-1").prop_str("fdt", "fdt-1").prop_str("ramdisk", "ramdisk-1").end();
  f.end();
  f.end();  // root
  out.blob = f.finish();
  return out;
}

Bytes crc_table_bytes(bool big_endian) {
  Bytes b;
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    if (big_endian) put_u32be(b, 4 * i, c);
    else put_u32le(b, 4 * i, c);
  }
  return b;
}

const char kEnvLiteral[] =
    "baudrate=115200\0bootcmd=run flash_boot\0bootdelay=3\0ethaddr=00:11:22:33:44:55\0"
    "flash_boot=bootm 0x20400000\0";  // + the implicit NUL = the empty string that ends the list
const std::string kEnvVars(kEnvLiteral, sizeof kEnvLiteral);

// A U-Boot environment of env_size bytes (header included).
Bytes make_env(size_t env_size, bool redundant, bool crc_big_endian, uint8_t pad) {
  const size_t hdr = redundant ? 5 : 4;
  Bytes e(env_size, pad);
  std::copy(kEnvVars.begin(), kEnvVars.end(), e.begin() + static_cast<long>(hdr));
  uint32_t c = zcrc(e, hdr, env_size - hdr);
  if (crc_big_endian) put_u32be(e, 0, c);
  else put_u32le(e, 0, c);
  if (redundant) e[4] = 1;
  return e;
}

uint32_t winbond_sum(const Bytes& b, size_t off, size_t len) {
  int64_t s = 0xFFFFFFFF;
  for (size_t i = 0; i < len; ++i) {
    s -= static_cast<int64_t>(b[off + i]) << (8 * (i % 4));
    if (s < 0) s = (s & 0xFFFFFFFF) - 1;
  }
  return static_cast<uint32_t>(s);
}

std::string hex_lower(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%x", v);
  return buf;
}

void put_text(Bytes& b, size_t off, const std::string& s) {
  if (b.size() < off + s.size()) b.resize(off + s.size());
  std::copy(s.begin(), s.end(), b.begin() + static_cast<long>(off));
}

const std::vector<std::string> kMyTypes = {"fdt", "fit", "crc32", "uboot-env", "aspeed-index", "aten-footer",
                                           "winbond-footer"};

}  // namespace

// ------------------------------------------------------------------------------------------------- FDT / FIT

TEST_CASE("fdt: a plain device tree validates with its size and version", "[firmware][fdt]") {
  Bytes dtb = simple_dtb();
  auto h = validate("fdt", dtb);
  REQUIRE(h);
  CHECK(h->type == "fdt");
  CHECK(h->confidence == Confidence::High);
  CHECK(h->size == dtb.size());
  CHECK(h->offset == 0);
  CHECK(h->nesting == fwcert::Nesting::Container);
  CHECK(h->description.rfind("Flattened device tree, size: " + std::to_string(dtb.size()) + " bytes, version: 17", 0) == 0);
  CHECK(contains(h->description, "Test Board"));
  CHECK(h->diagnostics.empty());

  // Found by the walk inside other bytes, at the right offset.
  Bytes buf = random_bytes(5000, 1);
  buf.insert(buf.begin() + 1234, dtb.begin(), dtb.end());
  auto hits = hits_of(walk_all(buf), "fdt");
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].offset == 1234);
  CHECK(hits[0].confidence == Confidence::High);
}

TEST_CASE("fdt: bad headers are rejected", "[firmware][fdt]") {
  Bytes dtb = simple_dtb();
  SECTION("totalsize smaller than the header") {
    put_u32be(dtb, 4, 20);
    CHECK_FALSE(validate("fdt", dtb));
  }
  SECTION("absurd totalsize") {
    put_u32be(dtb, 4, 0xF0000000u);
    CHECK_FALSE(validate("fdt", dtb));
  }
  SECTION("unknown version") {
    put_u32be(dtb, 20, 99);
    CHECK_FALSE(validate("fdt", dtb));
  }
  SECTION("structure block outside totalsize") {
    put_u32be(dtb, 36, static_cast<uint32_t>(dtb.size()));
    CHECK_FALSE(validate("fdt", dtb));
  }
  SECTION("misaligned structure offset") {
    put_u32be(dtb, 8, 0x39);
    CHECK_FALSE(validate("fdt", dtb));
  }
  SECTION("just the magic") {
    Bytes m = {0xd0, 0x0d, 0xfe, 0xed};
    CHECK_FALSE(validate("fdt", m));
  }
}

TEST_CASE("fdt: totalsize beyond the input is flagged as truncation", "[firmware][fdt]") {
  Bytes dtb = simple_dtb();
  put_u32be(dtb, 4, static_cast<uint32_t>(dtb.size() + 4096));
  auto h = validate("fdt", dtb);
  REQUIRE(h);
  CHECK(h->confidence != Confidence::High);
  CHECK(h->size == dtb.size());
  REQUIRE_FALSE(h->diagnostics.empty());
  CHECK(contains(h->diagnostics[0].message, "truncated"));
}

TEST_CASE("fdt: hostile structure blocks are bounded", "[firmware][fdt]") {
  SECTION("nesting loop: 1000 nested nodes") {
    FdtBuilder f;
    f.begin("");
    for (int i = 0; i < 1000; ++i) f.begin("n");
    for (int i = 0; i < 1000; ++i) f.end();
    f.end();
    auto h = validate("fdt", f.finish());
    REQUIRE(h);
    CHECK(h->confidence == Confidence::Low);
    REQUIRE_FALSE(h->diagnostics.empty());
    CHECK(contains(h->diagnostics[0].message, "deeper than 64"));
  }
  SECTION("node never closed") {
    FdtBuilder f;
    f.begin("").begin("a");
    auto h = validate("fdt", f.finish());
    REQUIRE(h);
    CHECK(h->confidence == Confidence::Low);
  }
  SECTION("END_NODE without BEGIN_NODE") {
    FdtBuilder f;
    f.end();
    auto h = validate("fdt", f.finish());
    REQUIRE(h);
    CHECK(h->confidence == Confidence::Low);
  }
  SECTION("no FDT_END") {
    FdtBuilder f;
    f.begin("").end();
    auto h = validate("fdt", f.finish(false));
    REQUIRE(h);
    CHECK(h->confidence == Confidence::Low);
    CHECK(contains(h->diagnostics.at(0).message, "without FDT_END"));
  }
  SECTION("property length past the block") {
    FdtBuilder f;
    f.begin("").raw_token(3).raw_token(0x7FFFFFFF).raw_token(0).end();
    auto h = validate("fdt", f.finish());
    REQUIRE(h);
    CHECK(h->confidence == Confidence::Low);
  }
  SECTION("unknown token") {
    FdtBuilder f;
    f.begin("").raw_token(7).end();
    auto h = validate("fdt", f.finish());
    REQUIRE(h);
    CHECK(h->confidence == Confidence::Low);
    CHECK(contains(h->diagnostics.at(0).message, "unknown structure token"));
  }
  SECTION("random tokens never crash and stay in bounds") {
    std::mt19937 rng(42);
    for (int trial = 0; trial < 2000; ++trial) {
      FdtBuilder f;
      int n = static_cast<int>(rng() % 64);
      for (int i = 0; i < n; ++i) f.raw_token(rng() % 3 == 0 ? static_cast<uint32_t>(rng()) : rng() % 10);
      Bytes b = f.finish(rng() % 2 == 0);
      auto h = validate("fdt", b);
      if (h) CHECK(h->size <= b.size());
    }
  }
}

TEST_CASE("fit: synthetic FIT lists images, verifies hashes and keeps scanning inside", "[firmware][fit]") {
  Fit fit = make_fit();
  auto h = validate("fdt", fit.blob);
  REQUIRE(h);
  CHECK(h->type == "fit");
  CHECK(h->confidence == Confidence::High);
  CHECK(h->size == fit.blob.size());
  CHECK(h->nesting == fwcert::Nesting::Container);
  CHECK(contains(h->description, "U-Boot FIT image"));
  CHECK(contains(h->description, "\"Synthetic FIT\""));
  CHECK(contains(h->description, "created: 2020-09-13 12:26:40"));
  CHECK(contains(h->description, "3 images"));
  CHECK(contains(h->description, "kernel-1 (type: kernel, compression: gzip, arch: arm, data: "));
  CHECK(contains(h->description, "crc32 ok"));
  CHECK(contains(h->description, "ramdisk-1 (type: ramdisk, compression: none, arch: arm, data: 777 bytes"));
  CHECK(contains(h->description, "1 configuration (default: conf-1)"));
  CHECK(h->diagnostics.empty());

  // The walk lists the FIT and the device tree carried inside it.
  auto r = walk_all(fit.blob);
  auto fits = hits_of(r, "fit");
  REQUIRE(fits.size() == 1);
  CHECK(fits[0].offset == 0);
  auto fdts = hits_of(r, "fdt");
  REQUIRE(fdts.size() == 1);
  CHECK(fdts[0].offset == fit.inner_dtb_at);
  CHECK(fdts[0].confidence == Confidence::High);
}

TEST_CASE("fit: a wrong hash lowers confidence with a diagnostic", "[firmware][fit]") {
  Fit fit = make_fit(true);
  auto h = validate("fdt", fit.blob);
  REQUIRE(h);
  CHECK(h->type == "fit");
  CHECK(h->confidence == Confidence::Medium);
  REQUIRE(h->diagnostics.size() == 1);
  CHECK(contains(h->diagnostics[0].message, "kernel-1 hash-1: stored crc32"));
  CHECK(h->diagnostics[0].offset == fit.kernel_crc_at);

  // Damaging the payload instead has the same effect.
  Fit good = make_fit();
  good.blob[good.kernel_data_at + 100] ^= 0x40;
  auto h2 = validate("fdt", good.blob);
  REQUIRE(h2);
  CHECK(h2->confidence == Confidence::Medium);
}

TEST_CASE("fit: external data extends the hit size", "[firmware][fit]") {
  Bytes payload = random_bytes(5000, 3);
  FdtBuilder f;
  f.begin("").prop_str("description", "external");
  f.begin("images");
  f.begin("kernel").prop_str("type", "kernel").prop_str("arch", "arm64").prop_str("compression", "none");
  f.prop_u32("data-size", 5000).prop_u32("data-offset", 0);
  f.begin("hash-1").prop_str("algo", "crc32").prop("value", be32(zcrc(payload))).end();
  f.end().end();
  f.begin("configurations").begin("conf-1").prop_str("kernel", "kernel").end().end();
  f.end();
  Bytes blob = f.finish();
  const size_t ext = (blob.size() + 3) & ~size_t{3};
  blob.resize(ext, 0);
  append(blob, payload);
  append(blob, random_bytes(100, 4));  // trailing bytes not covered

  auto h = validate("fdt", blob);
  REQUIRE(h);
  CHECK(h->type == "fit");
  CHECK(h->confidence == Confidence::High);
  CHECK(h->size == ext + 5000);
  CHECK(contains(h->description, "external at offset 0x0"));
  CHECK(contains(h->description, "crc32 ok"));

  // Cut the external payload: reported, not High.
  blob.resize(ext + 1000);
  auto t = validate("fdt", blob);
  REQUIRE(t);
  CHECK(t->confidence != Confidence::High);
  CHECK(t->size <= blob.size());
  bool found = false;
  for (const auto& d : t->diagnostics) found = found || contains(d.message, "beyond the end of the input");
  CHECK(found);
}

TEST_CASE("fit: data-position is relative to the FIT start", "[firmware][fit]") {
  Bytes payload = random_bytes(3000, 5);
  FdtBuilder f;
  f.begin("").begin("images");
  f.begin("fw").prop_str("type", "firmware").prop_str("arch", "arm").prop_str("compression", "none");
  f.prop_u32("data-size", 3000).prop_u32("data-position", 0x1000);
  f.begin("hash-1").prop_str("algo", "crc32").prop("value", be32(zcrc(payload))).end();
  f.end().end();
  f.begin("configurations").begin("conf-1").prop_str("firmware", "fw").end().end();
  f.end();
  Bytes blob = f.finish();
  REQUIRE(blob.size() < 0x1000);
  blob.resize(0x1000, 0xff);
  append(blob, payload);
  Bytes buf = random_bytes(64, 6);
  append(buf, blob);
  auto h = validate("fdt", buf, 64);
  REQUIRE(h);
  CHECK(h->type == "fit");
  CHECK(h->offset == 64);
  CHECK(h->confidence == Confidence::High);
  CHECK(h->size == 0x1000 + 3000);
  CHECK(contains(h->description, "external at position 0x1000, crc32 ok"));
}

TEST_CASE("fit: every prefix and single-byte damage is handled", "[firmware][fit]") {
  Fit fit = make_fit();
  for (size_t n = 0; n < fit.blob.size(); ++n) {
    Bytes prefix(fit.blob.begin(), fit.blob.begin() + static_cast<long>(n));
    auto h = validate("fdt", prefix);
    if (h) {
      CHECK(h->confidence != Confidence::High);
      CHECK(h->size <= n);
    }
  }
  std::mt19937 rng(5);
  for (int i = 0; i < 3000; ++i) {
    Bytes b = fit.blob;
    b[rng() % b.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
    auto h = validate("fdt", b);
    if (h) CHECK(h->size <= b.size());
  }
}

// ------------------------------------------------------------------------------------------------- CRC32 table

TEST_CASE("crc32: tables in both byte orders are found and verified", "[firmware][crc32]") {
  Bytes buf = random_bytes(20000, 11);
  Bytes le = crc_table_bytes(false), be = crc_table_bytes(true);
  std::copy(le.begin(), le.end(), buf.begin() + 1001);
  std::copy(be.begin(), be.end(), buf.begin() + 9000);
  auto hits = hits_of(walk_all(buf), "crc32");
  REQUIRE(hits.size() == 2);
  CHECK(hits[0].offset == 1001);
  CHECK(hits[0].size == 1024);
  CHECK(hits[0].confidence == Confidence::High);
  CHECK(hits[0].description == "CRC32 polynomial table, little endian");
  CHECK(hits[1].offset == 9000);
  CHECK(hits[1].size == 1024);
  CHECK(hits[1].confidence == Confidence::High);
  CHECK(hits[1].description == "CRC32 polynomial table, big endian");
}

TEST_CASE("crc32: a damaged or cut table is not High", "[firmware][crc32]") {
  Bytes t = crc_table_bytes(false);
  Bytes damaged = t;
  damaged[400] ^= 1;
  CHECK_FALSE(validate("crc32", damaged));
  Bytes cut(t.begin(), t.begin() + 600);
  auto h = validate("crc32", cut);
  REQUIRE(h);
  CHECK(h->confidence == Confidence::Low);
  CHECK(h->size == 600);
}

// ------------------------------------------------------------------------------------------------- U-Boot env

TEST_CASE("uboot-env: correct CRC gives High with the environment size", "[firmware][uboot-env]") {
  Bytes env = make_env(0x2000, false, false, 0x00);
  Bytes buf = random_bytes(0x1000, 21);
  append(buf, env);
  append(buf, random_bytes(0x3000, 22));
  auto h = validate("uboot-env", buf, 0x1000);
  REQUIRE(h);
  CHECK(h->confidence == Confidence::High);
  CHECK(h->size == 0x2000);
  CHECK(h->offset == 0x1000);
  CHECK(contains(h->description, "U-Boot environment, size: 8192 bytes, 5 variables, CRC 0x"));
  CHECK(contains(h->description, "bootcmd: \"run flash_boot\""));

  auto hits = hits_of(walk_all(buf), "uboot-env");
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].offset == 0x1000);
  CHECK(hits[0].size == 0x2000);
  CHECK(hits[0].confidence == Confidence::High);
}

TEST_CASE("uboot-env: big-endian CRC, 0xff padding and redundant layout", "[firmware][uboot-env]") {
  SECTION("big endian CRC, 0xff padding, 64 KiB") {
    Bytes env = make_env(0x10000, false, true, 0xff);
    auto hits = hits_of(walk_all(env), "uboot-env");
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].size == 0x10000);
    CHECK(hits[0].confidence == Confidence::High);
    CHECK(contains(hits[0].description, "big endian"));
  }
  SECTION("redundant environment with a flag byte") {
    Bytes buf(0x100, 0xff);
    append(buf, make_env(0x4000, true, false, 0x00));
    auto hits = hits_of(walk_all(buf), "uboot-env");
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].offset == 0x100);
    CHECK(hits[0].size == 0x4000);
    CHECK(hits[0].confidence == Confidence::High);
    CHECK(contains(hits[0].description, "redundant"));
    CHECK(contains(hits[0].description, "flags: 0x1"));
  }
}

TEST_CASE("uboot-env: broken CRC is not High and says so", "[firmware][uboot-env]") {
  Bytes env = make_env(0x2000, false, false, 0x00);
  env[0x1800] ^= 0x20;  // damage the padding: CRC no longer matches
  auto h = validate("uboot-env", env, 0);
  REQUIRE(h);
  CHECK(h->confidence == Confidence::Low);
  CHECK(h->size == 4 + kEnvVars.size());
  REQUIRE(h->diagnostics.size() == 1);
  CHECK(contains(h->diagnostics[0].message, "matches no environment size"));

  auto hits = hits_of(walk_all(env), "uboot-env");
  REQUIRE(hits.size() == 1);  // not one per variable
  CHECK(hits[0].offset == 0);
}

TEST_CASE("uboot-env: malformed variable lists are rejected", "[firmware][uboot-env]") {
  Bytes env = make_env(0x1000, false, false, 0x00);
  SECTION("control character in a value") {
    env[4 + 10] = 0x01;
    CHECK_FALSE(validate("uboot-env", env, 0));
  }
  SECTION("no terminating empty string") {
    Bytes b(4, 0x11);
    while (b.size() < 0x50000) append(b, std::string("bootcmd=x") + std::string(1, '\0'));
    CHECK_FALSE(validate("uboot-env", b, 0));
  }
  SECTION("truncated input") {
    Bytes cut(env.begin(), env.begin() + 30);
    CHECK_FALSE(validate("uboot-env", cut, 0));
  }
}

// ------------------------------------------------------------------------------------------------- ASPEED index

namespace {
struct AspeedImage {
  Bytes img;
  size_t index_at = 0, index_len = 0;
  std::vector<std::pair<uint32_t, uint32_t>> regions;  // base, length
};

AspeedImage make_aspeed(size_t total, size_t index_at, int wrong_crc_record = -1) {
  AspeedImage a;
  a.img = random_bytes(total, 31);
  a.index_at = index_at;
  a.regions = {{0x0, 0x10000}, {0x10000, 0x8000}, {0x18000, 0x4000}, {0x1c000, 0x2000}};
  const char* names[] = {"u-boot", "rootfs", "kernel", "web_fs"};
  std::string text;
  for (size_t i = 0; i < a.regions.size(); ++i) {
    uint32_t c = zcrc(a.img, a.regions[i].first, a.regions[i].second);
    if (static_cast<int>(i) == wrong_crc_record) c ^= 0x100;
    text += "[img]: " + hex_lower(a.regions[i].first) + " " + hex_lower(a.regions[i].second) + " " + hex_lower(c) +
            " " + names[i];
  }
  text += "[end]";
  put_text(a.img, index_at, text);
  a.index_len = text.size();
  return a;
}
}  // namespace

TEST_CASE("aspeed-index: records parse and CRCs verify", "[firmware][aspeed]") {
  AspeedImage a = make_aspeed(0x40000, 0x30000);
  auto h = validate("aspeed-index", a.img, a.index_at);
  REQUIRE(h);
  CHECK(h->type == "aspeed-index");
  CHECK(h->confidence == Confidence::High);
  CHECK(h->size == a.index_len);
  CHECK(h->offset == a.index_at);
  CHECK(contains(h->description, "Supermicro ASPEED image index, 4 images: 1 0x0+0x10000 u-boot (CRC ok); "
                                 "2 0x10000+0x8000 rootfs (CRC ok)"));
  CHECK(h->diagnostics.empty());

  auto hits = hits_of(walk_all(a.img), "aspeed-index");
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].offset == a.index_at);
}

TEST_CASE("aspeed-index: a wrong CRC gives a diagnostic and Medium", "[firmware][aspeed]") {
  AspeedImage a = make_aspeed(0x40000, 0x30000, 2);
  auto h = validate("aspeed-index", a.img, a.index_at);
  REQUIRE(h);
  CHECK(h->confidence == Confidence::Medium);
  REQUIRE(h->diagnostics.size() == 1);
  CHECK(contains(h->diagnostics[0].message, "image 3 kernel: stored CRC"));
  CHECK(contains(h->description, "3 0x18000+0x4000 kernel (CRC mismatch)"));
}

TEST_CASE("aspeed-index: out-of-range records and garbage", "[firmware][aspeed]") {
  SECTION("record beyond the input cannot be checked") {
    Bytes b;
    append(b, std::string("[img]: 400000 e8c000 12345678 rootfs[end]"));
    auto h = validate("aspeed-index", b, 0);
    REQUIRE(h);
    CHECK(h->confidence == Confidence::Medium);
    CHECK(h->size == b.size());
    CHECK(contains(h->description, "(not checked)"));
  }
  SECTION("malformed records are rejected") {
    Bytes b;
    append(b, std::string("[img]: zz 10 10 name"));
    CHECK_FALSE(validate("aspeed-index", b, 0));
    Bytes c;
    append(c, std::string("[img]: 10 10 123456789 name"));  // CRC with 9 digits
    CHECK_FALSE(validate("aspeed-index", c, 0));
  }
  SECTION("cut anywhere: no crash") {
    AspeedImage a = make_aspeed(0x31000, 0x30000);
    for (size_t n = a.index_at; n <= a.index_at + a.index_len; ++n) {
      Bytes p(a.img.begin(), a.img.begin() + static_cast<long>(n));
      auto h = validate("aspeed-index", p, a.index_at);
      if (h) CHECK(h->offset + h->size <= n);
    }
  }
}

// ------------------------------------------------------------------------------------------------- footers

TEST_CASE("aten-footer: v3, v2 and tagless layouts", "[firmware][aten]") {
  SECTION("v3") {
    Bytes b;
    append(b, std::string("ATENs_FW"));
    b.push_back(3);
    b.push_back(90);
    append(b, std::string("4148e8c0"));
    b.push_back(0x71);
    append(b, std::string("abcd1234"));
    b.push_back(0x17);
    auto h = validate("aten-footer", b, 0);
    REQUIRE(h);
    CHECK(h->type == "aten-footer");
    CHECK(h->confidence == Confidence::Medium);
    CHECK(h->size == 28);
    CHECK(contains(h->description, "Supermicro ATEN firmware footer, version 3.90"));
    CHECK(contains(h->description, "rootfs CRC prefix 4148"));
    CHECK(contains(h->description, "webfs length prefix 1234"));
  }
  SECTION("v2") {
    Bytes b;
    append(b, std::string("ATENs_FW"));
    b.push_back(3);
    b.push_back(5);
    b.push_back(0x71);
    put_u32le(b, b.size(), 0xCAFEBABE);
    b.push_back(0x17);
    auto h = validate("aten-footer", b, 0);
    REQUIRE(h);
    CHECK(h->confidence == Confidence::Medium);
    CHECK(h->size == 16);
    CHECK(contains(h->description, "0xCAFEBABE"));
  }
  SECTION("v3 tags but fields are not hex text: Low") {
    Bytes b;
    append(b, std::string("ATENs_FW"));
    b.push_back(3);
    b.push_back(90);
    append(b, std::string("\x01\x02XYe8c0"));
    b.push_back(0x71);
    append(b, std::string("abcd1234"));
    b.push_back(0x17);
    auto h = validate("aten-footer", b, 0);
    REQUIRE(h);
    CHECK(h->confidence == Confidence::Low);
    CHECK_FALSE(h->diagnostics.empty());
  }
  SECTION("no tags: Low") {
    Bytes b;
    append(b, std::string("ATENs_FW"));
    append(b, random_bytes(20, 3));
    b[18] = 0;
    b[10] = 0;
    auto h = validate("aten-footer", b, 0);
    REQUIRE(h);
    CHECK(h->confidence == Confidence::Low);
  }
  SECTION("too short") {
    Bytes b;
    append(b, std::string("ATENs_FW\x03"));
    CHECK_FALSE(validate("aten-footer", b, 0));
  }
}

TEST_CASE("aten-footer: v3 cross-checked with the [img] index at 0x1FC0000 is High", "[firmware][aten]") {
  AspeedImage a = make_aspeed(0x1FC0000 + 0x1000, 0x1FC0000);
  auto crc_of = [&](size_t i) { return zcrc(a.img, a.regions[i].first, a.regions[i].second); };
  auto pre = [](uint32_t v) { return hex_lower(v).substr(0, 4); };
  std::string f = "ATENs_FW";
  f += std::string{'\x03', '\x5a'};
  f += pre(crc_of(1)) + pre(a.regions[1].second) + "\x71" + pre(crc_of(3)) + pre(a.regions[3].second) + "\x17";
  // hex_lower of a small CRC may be shorter than 4 chars; the random seed gives 8-digit CRCs here.
  REQUIRE(f.size() == 28);
  put_text(a.img, 0x1e000, f);
  auto h = validate("aten-footer", a.img, 0x1e000);
  REQUIRE(h);
  CHECK(h->confidence == Confidence::High);
  CHECK(contains(h->description, "matches the [img] index"));

  a.img[0x1e000 + 10] = (a.img[0x1e000 + 10] == '0') ? '1' : '0';
  auto bad = validate("aten-footer", a.img, 0x1e000);
  REQUIRE(bad);
  CHECK(bad->confidence == Confidence::Medium);
  CHECK_FALSE(bad->diagnostics.empty());
}

TEST_CASE("winbond-footer: checksums verify", "[firmware][winbond]") {
  Bytes img = random_bytes(0x10000, 41);
  const size_t base = 0x1000, len = 0x3000, rec = 0x10000 - 61;  // record ends on the 64 KiB boundary - 9
  Bytes r(52, 0);
  put_u32le(r, 0, 2);
  put_u32le(r, 4, 0x40000000 + base);
  put_u32le(r, 8, len);
  put_u32le(r, 12, 0x7fc0000);
  put_u32le(r, 16, 0x8000);
  put_text(r, 20, "1stFS");
  put_u32le(r, 36, winbond_sum(img, base, len));
  put_u32le(r, 40, 0xA0FFFF9F);
  put_u32le(r, 44, 0x09);
  put_u32le(r, 48, winbond_sum(r, 0, 48));
  img.resize(rec);
  append(img, r);

  auto h = validate("winbond-footer", img, rec);
  REQUIRE(h);
  CHECK(h->type == "winbond-footer");
  CHECK(h->confidence == Confidence::High);
  CHECK(h->size == 52);
  CHECK(contains(h->description, "image 2 \"1stFS\", base 0x1000"));
  CHECK(contains(h->description, "flags active|file"));
  CHECK(contains(h->description, "image checksum ok"));

  auto hits = hits_of(walk_all(img), "winbond-footer");
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].offset == rec);

  Bytes bad_image = img;
  bad_image[base + 5] ^= 1;
  auto m = validate("winbond-footer", bad_image, rec);
  REQUIRE(m);
  CHECK(m->confidence == Confidence::Medium);
  CHECK(contains(m->diagnostics.at(0).message, "image checksum"));

  Bytes bad_footer = img;
  bad_footer[rec + 12] ^= 1;
  auto l = validate("winbond-footer", bad_footer, rec);
  REQUIRE(l);
  CHECK(l->confidence == Confidence::Low);
  CHECK(contains(l->diagnostics.at(0).message, "footer checksum"));
}

// ------------------------------------------------------------------------------------------------- robustness

TEST_CASE("firmware: random bytes give no High hit of these types", "[firmware][random]") {
  Bytes r = random_bytes(4u << 20, 12345);
  auto res = walk_all(r);
  for (const auto& h : res.hits) {
    for (const auto& t : kMyTypes)
      if (h.type == t) CHECK(h.confidence != Confidence::High);
  }
  // Also call each validator at many offsets directly, magic or not.
  for (const char* v : {"fdt", "crc32", "uboot-env", "aspeed-index", "aten-footer", "winbond-footer"}) {
    for (uint64_t off = 0; off < 200000; off += 997) {
      auto h = validate(v, r, off);
      if (h) CHECK(h->confidence != Confidence::High);
    }
  }
}

// ------------------------------------------------------------------------------------------------- corpus

TEST_CASE("corpus: fit.itb is a FIT with kernel, fdt and rootfs", "[firmware][corpus]") {
  auto p = corpus_file("fact_extractor/fact_extractor/plugins/unpacking/uboot/test/data/fit.itb");
  if (!p) return;
  Bytes b = read_file(*p);
  auto r = walk_all(b);
  auto fits = hits_of(r, "fit");
  REQUIRE(fits.size() == 1);
  CHECK(fits[0].offset == 0);
  CHECK(fits[0].size == 2099624);
  CHECK(fits[0].confidence == Confidence::High);
  CHECK(contains(fits[0].description, "\"FACT Test FIT Image\""));
  CHECK(contains(fits[0].description, "3 images: kernel (type: kernel, compression: gzip, arch: arm64"));
  CHECK(contains(fits[0].description, "fdt (type: flat_dt, compression: none, arch: arm64"));
  CHECK(contains(fits[0].description, "rootfs (type: ramdisk, compression: gzip, arch: arm64"));
  // The device tree image inside the FIT is listed too (Container nesting).
  auto fdts = hits_of(r, "fdt");
  REQUIRE(fdts.size() == 1);
  CHECK(fdts[0].offset == 0x100210);
  CHECK(fdts[0].confidence == Confidence::High);
}

TEST_CASE("corpus: uboot.dtb carries a complete device tree at 0x980", "[firmware][corpus]") {
  auto p = corpus_file("fact_extractor/fact_extractor/plugins/unpacking/uboot/test/data/uboot.dtb");
  if (!p) return;
  Bytes b = read_file(*p);
  auto fdts = hits_of(walk_all(b), "fdt");
  REQUIRE(fdts.size() == 1);
  CHECK(fdts[0].offset == 0x980);
  CHECK(fdts[0].size == 32889);
  CHECK(fdts[0].confidence == Confidence::High);
  CHECK(contains(fdts[0].description, "Flattened device tree, size: 32889 bytes, version: 17"));
  // Every prefix cut inside the tree: never High, never a crash.
  for (size_t n = 0x980; n < b.size(); n += 97) {
    Bytes prefix(b.begin(), b.begin() + static_cast<long>(n));
    auto h = validate("fdt", prefix, 0x980);
    if (h) CHECK(h->confidence != Confidence::High);
  }
}

TEST_CASE("corpus: uboot.image_with_header has no device tree", "[firmware][corpus]") {
  auto p = corpus_file("fact_extractor/fact_extractor/plugins/unpacking/uboot/test/data/uboot.image_with_header");
  if (!p) return;
  Bytes b = read_file(*p);
  auto r = walk_all(b);
  CHECK(hits_of(r, "fdt").empty());
  CHECK(hits_of(r, "fit").empty());
}
