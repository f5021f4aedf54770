// The whole walk: an X10-layout image built in code, the bundled samples, truncation sweeps and random input.
#include <catch2/catch.hpp>
#include <filesystem>

#include "fwcert/report/walk_report.hpp"
#include "support.hpp"

using namespace fwtest;
using fwcert::Confidence;

namespace {

Bytes crc32_table(bool be) {
  Bytes t;
  for (uint32_t n = 0; n < 256; ++n) {
    uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    if (be) put_u32be(t, t.size(), c);
    else put_u32le(t, t.size(), c);
  }
  return t;
}

void place(Bytes& img, size_t off, const Bytes& what) {
  REQUIRE(off + what.size() <= img.size());
  std::copy(what.begin(), what.end(), img.begin() + static_cast<long>(off));
}

// The Supermicro X10 layout (seed 001): CRC32 table at 0x193C0, CramFS at 0x400000, uImage with a gzip'd kernel at
// 0x1400000, CramFS at 0x1700000, in a 32 MiB image. Filesystems hold incompressible files so they are large.
Bytes x10_layout(bool be) {
  Bytes img(32u << 20, 0xff);
  Bytes uboot = random_bytes(0x30000, 1);  // stands in for U-Boot code
  place(img, 0, uboot);
  place(img, 0x193C0, crc32_table(be));
  place(img, 0x400000,
        make_cramfs({{"etc-stunnel-client.crt", random_bytes(1400, 2)}, {"usr-lib-blob", random_bytes(3u << 20, 3)}}, be));
  Bytes kernel = random_bytes(600000, 4);
  for (size_t i = 0; i < kernel.size(); i += 3) kernel[i] = 'L';  // compressible, but not trivially
  Bytes gz = gzip_compress(kernel);
  place(img, 0x1400000, make_uimage(gz));
  place(img, 0x1700000, make_cramfs({{"iKVM.jar", random_bytes(2u << 20, 5)}}, be));
  return img;
}

}  // namespace

TEST_CASE("walk: a 32 MiB X10-layout image lists exactly the expected structures at high confidence") {
  for (bool be : {false, true}) {
    INFO((be ? "big endian" : "little endian"));
    Bytes img = x10_layout(be);
    auto r = walk_all(img);
    std::vector<std::pair<uint64_t, std::string>> high;
    for (const auto& h : r.hits)
      if (h.confidence == Confidence::High) high.emplace_back(h.offset, h.type);
    std::vector<std::pair<uint64_t, std::string>> expect = {
        {0x193C0, "crc32"}, {0x400000, "cramfs"}, {0x1400000, "uimage"}, {0x1400040, "gzip"}, {0x1700000, "cramfs"}};
    CHECK(high == expect);
    for (const auto& h : r.hits)
      if (h.type == "cramfs") CHECK(h.description.find(be ? "big endian" : "little endian") != std::string::npos);
    for (const auto& h : r.hits)
      if (h.type == "crc32") CHECK(h.description == (be ? "CRC32 polynomial table, big endian" : "CRC32 polynomial table, little endian"));
  }
}

TEST_CASE("walk: the JSON form has integer offsets and sizes and short type names") {
  Bytes img = make_uimage(gzip_compress(Bytes(3000, 'x')));
  auto r = walk_all(img);
  auto j = fwcert::walks_to_json({{"k.bin", r}});
  REQUIRE(j.is_array());
  REQUIRE(j.size() >= 2);
  CHECK(j[0]["file"] == "k.bin");
  CHECK(j[0]["offset"].is_number_unsigned());
  CHECK(j[0]["size"].get<uint64_t>() == img.size());
  CHECK(j[0]["type"] == "uimage");
  CHECK(j[0]["confidence"] == "high");
  CHECK(j[1]["type"] == "gzip");
  CHECK(j[1]["offset"] == 64);
  CHECK(j[0]["diagnostics"].is_array());
}

TEST_CASE("walk: random bytes never give a high-confidence hit") {
  Bytes data = random_bytes(16u << 20, 42);
  auto r = walk_all(data);
  for (const auto& h : r.hits) {
    INFO(h.type << " at " << h.offset << ": " << h.description);
    CHECK(h.confidence != Confidence::High);
  }
}

TEST_CASE("walk: every prefix of a small image yields hits or diagnostics, never a crash") {
  Bytes img = crc32_table(false);
  append(img, make_uimage(gzip_compress(Bytes(2000, 'k'))));
  append(img, make_cramfs({{"a", Bytes(300, 'a')}}, true));
  for (size_t n = 0; n <= img.size(); ++n) {
    Bytes prefix(img.begin(), img.begin() + static_cast<long>(n));
    auto r = walk_all(prefix);
    for (const auto& h : r.hits) CHECK(h.offset < std::max<size_t>(n, 1));
  }
}

TEST_CASE("walk: the bundled samples show the X10 structures in both byte orders") {
  for (const char* name : {"samples/bmc-sample.bin", "samples/bmc-sample-be.bin"}) {
    std::string path = source_dir() + "/" + name;
    REQUIRE(std::filesystem::exists(path));
    Bytes img = read_file(path);
    auto r = walk_all(img);
    INFO(name);
    CHECK(hits_of(r, "crc32").size() == 1);
    auto c = hits_of(r, "cramfs");
    REQUIRE(c.size() == 2);
    for (const auto& h : c) CHECK(h.confidence == Confidence::High);
    auto u = hits_of(r, "uimage");
    REQUIRE(u.size() == 1);
    CHECK(u[0].confidence == Confidence::High);
    auto g = hits_of(r, "gzip");
    REQUIRE_FALSE(g.empty());
    CHECK(g[0].offset == u[0].offset + 64);
    // Truncation sweep over the real sample at a stride (every byte would take minutes).
    for (size_t n = 0; n < img.size(); n += 4093) {
      Bytes prefix(img.begin(), img.begin() + static_cast<long>(n));
      auto rp = walk_all(prefix);
      for (const auto& h : rp.hits) CHECK(h.offset < std::max<size_t>(n, 1));
    }
  }
}
