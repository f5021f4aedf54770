// CramFS and uImage validation on synthetic bytes and on the real corpus.
#include <catch2/catch.hpp>

#include "fwcert/formats/cramfs.hpp"
#include "fwcert/formats/uimage.hpp"
#include "support.hpp"

using namespace fwtest;
using fwcert::Confidence;

namespace {
Bytes sample_cramfs(bool be) {
  return make_cramfs({{"client.crt", Bytes(1500, 'c')}, {"stunnel.conf", Bytes(9000, 's')}}, be);
}
}  // namespace

TEST_CASE("cramfs: a synthetic image validates in both byte orders with a good CRC") {
  for (bool be : {false, true}) {
    Bytes img = sample_cramfs(be);
    auto hit = validate("cramfs", img);
    REQUIRE(hit);
    CHECK(hit->confidence == Confidence::High);
    CHECK(hit->size == img.size());
    CHECK(hit->offset == 0);
    CHECK(hit->description.find(be ? "big endian" : "little endian") != std::string::npos);
    CHECK(hit->description.find("3 files") != std::string::npos);
    CHECK(hit->diagnostics.empty());
  }
}

TEST_CASE("cramfs: inode words decode per byte order") {
  for (bool be : {false, true}) {
    Bytes img = sample_cramfs(be);
    auto sb = fwcert::cramfs::read_superblock(fwcert::ByteView(img.data(), img.size()), 0);
    REQUIRE(sb);
    CHECK(sb->big_endian == be);
    CHECK(fwcert::cramfs::is_dir(sb->root.mode));
    CHECK(sb->root.offset * 4 == 76);
    auto first = fwcert::cramfs::read_inode(fwcert::ByteView(img.data(), img.size()), 76, be);
    REQUIRE(first);
    CHECK(first->size == 1500);
    CHECK(first->mode == 0100644);
    CHECK(first->namelen == 3);  // "client.crt" = 10 bytes -> 3 words
  }
}

TEST_CASE("cramfs: a bad CRC lowers confidence and says what was stored and computed") {
  Bytes img = sample_cramfs(false);
  img[img.size() - 10] ^= 0xff;  // inside the padding: structure intact, CRC wrong
  auto hit = validate("cramfs", img);
  REQUIRE(hit);
  CHECK(hit->confidence == Confidence::Medium);
  CHECK(has_diag(*hit, "CRC mismatch: stored"));
}

TEST_CASE("cramfs: truncation is reported, not fatal; damaged superblocks are rejected") {
  Bytes img = sample_cramfs(true);
  Bytes cut(img.begin(), img.begin() + 2000);
  auto hit = validate("cramfs", cut);
  REQUIRE(hit);
  CHECK(hit->confidence == Confidence::Medium);
  CHECK(has_diag(*hit, "truncated"));
  for (size_t n = 0; n < 76; ++n) CHECK_FALSE(validate("cramfs", Bytes(img.begin(), img.begin() + static_cast<long>(n))));
  Bytes no_sig = img;
  no_sig[20] = 'X';  // "Compressed ROMFS" broken
  CHECK_FALSE(validate("cramfs", no_sig));
  Bytes not_dir = img;
  not_dir[64] ^= 0x40;  // BE: high byte of the root mode word is byte 64
  CHECK_FALSE(validate("cramfs", not_dir));
}

TEST_CASE("cramfs: bit flips anywhere in the header never crash and never keep High confidence with a bad CRC") {
  Bytes img = sample_cramfs(false);
  for (size_t i = 0; i < 128; ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes b = img;
      b[i] ^= static_cast<uint8_t>(1 << bit);
      auto hit = validate("cramfs", b);
      if (hit && i != 32 && (i < 48 || i >= 64)) CHECK(hit->confidence < Confidence::High);
    }
  }
}

TEST_CASE("uimage: a synthetic kernel image decodes every field") {
  Bytes payload = gzip_compress(Bytes(5000, 'k'));
  Bytes img = make_uimage(payload);
  auto hit = validate("uimage", img);
  REQUIRE(hit);
  CHECK(hit->confidence == Confidence::High);
  CHECK(hit->size == img.size());
  CHECK(hit->nesting == fwcert::Nesting::Container);
  for (const char* part : {"created: 2020-07-17 09:02:52", "Data Address: 0x40008000", "OS: Linux", "CPU: ARM",
                           "image type: OS Kernel Image", "compression type: gzip", "image name: \"21400000\""})
    CHECK(hit->description.find(part) != std::string::npos);
}

TEST_CASE("uimage: header and data CRC failures lower confidence with diagnostics") {
  Bytes img = make_uimage(gzip_compress(random_bytes(5000, 9)));
  Bytes bad_data = img;
  bad_data[100] ^= 1;
  auto h1 = validate("uimage", bad_data);
  REQUIRE(h1);
  CHECK(h1->confidence == Confidence::Medium);
  CHECK(has_diag(*h1, "data CRC mismatch"));
  Bytes bad_header = img;
  bad_header[40] ^= 1;  // inside the name
  auto h2 = validate("uimage", bad_header);
  REQUIRE(h2);
  CHECK(h2->confidence == Confidence::Low);
  CHECK(has_diag(*h2, "header CRC mismatch"));
  Bytes bad_both = img;
  bad_both[29] = 200;  // unknown architecture, header CRC now wrong: noise
  CHECK_FALSE(validate("uimage", bad_both));
  Bytes cut(img.begin(), img.begin() + 1000);
  auto h3 = validate("uimage", cut);
  REQUIRE(h3);
  CHECK(has_diag(*h3, "truncated"));
  for (size_t n = 0; n < 64; ++n) CHECK_FALSE(validate("uimage", Bytes(img.begin(), img.begin() + static_cast<long>(n))));
}

TEST_CASE("uimage: multi-file images list their parts") {
  Bytes payload;
  put_u32be(payload, 0, 10);
  put_u32be(payload, 4, 7);
  put_u32be(payload, 8, 0);
  append(payload, Bytes(12, 'a'));  // 10 padded to 12
  append(payload, Bytes(7, 'b'));
  Bytes img = make_uimage(payload, fwcert::uimage::kTypeMulti, 0, "multi");
  auto hit = validate("uimage", img);
  REQUIRE(hit);
  CHECK(hit->confidence == Confidence::High);
  CHECK(hit->description.find("Multi-File Image") != std::string::npos);
  CHECK(hit->description.find("2 parts: 10, 7 bytes") != std::string::npos);
}

TEST_CASE("uimage: a gzip-claiming header over a raw CramFS is flagged and the CramFS is listed inside") {
  Bytes img = make_uimage(sample_cramfs(false), 2, 1, "linux");
  auto r = walk_all(img);
  auto u = hits_of(r, "uimage");
  auto c = hits_of(r, "cramfs");
  REQUIRE(u.size() == 1);
  REQUIRE(c.size() == 1);
  CHECK(c[0].offset == 64);
  CHECK(has_diag(u[0], "starts like a CramFS"));
}

TEST_CASE("corpus: util-linux CramFS images in both byte orders") {
  for (const char* f : {"util-linux/tests/ts/cramfs/cramfs-little.img", "util-linux/tests/ts/cramfs/cramfs-big.img"}) {
    auto p = corpus_file(f);
    if (!p) continue;
    auto r = walk_all(read_file(*p));
    auto c = hits_of(r, "cramfs");
    REQUIRE(c.size() == 1);
    CHECK(c[0].offset == 0);
    CHECK(c[0].size == 4096);
    CHECK(c[0].confidence == Confidence::High);
    CHECK(c[0].description.find(std::string(f).find("big") != std::string::npos ? "big endian" : "little endian") !=
          std::string::npos);
  }
}

TEST_CASE("corpus: the Supermicro X9 webfs is one CramFS matching binwalk's line") {
  auto p = corpus_file("supermicro_ipmi_firmware/SDK/FileSystem/webfs");
  if (!p) return;
  auto r = walk_all(read_file(*p));
  auto c = hits_of(r, "cramfs");
  REQUIRE(c.size() == 1);
  CHECK(c[0].description ==
        "CramFS filesystem, little endian, size: 2293760, version 2, sorted_dirs, CRC 0x8A41B2A1, edition 0, 1011 "
        "blocks, 207 files");
  CHECK(c[0].confidence == Confidence::High);
}

TEST_CASE("corpus: GM8135S camera uImages carry a CramFS at 0x40") {
  for (const char* f : {"GM8135S-IPC-modified-firmware/custom.cramfs.img", "GM8135S-IPC-modified-firmware/romfs-x.cramfs.img",
                        "GM8135S-IPC-modified-firmware/user_web.cramfs.img", "GM8135S-IPC-modified-firmware/web-x.cramfs.img"}) {
    auto p = corpus_file(f);
    if (!p) continue;
    INFO(f);
    auto r = walk_all(read_file(*p));
    auto u = hits_of(r, "uimage");
    auto c = hits_of(r, "cramfs");
    REQUIRE(u.size() == 1);
    CHECK(u[0].offset == 0);
    CHECK(u[0].confidence == Confidence::High);
    REQUIRE(c.size() == 1);
    CHECK(c[0].offset == 0x40);
    CHECK(c[0].confidence == Confidence::High);
  }
}

TEST_CASE("corpus: uInitrd and the XM camera kernel are valid uImages") {
  struct Case {
    const char* file;
    const char* text;
  };
  for (auto c : {Case{"custom-initramfs/uInitrd", "image type: RAMDisk Image, compression type: none, image name: \"uInitrd\""},
                 Case{"XM_ipcam_crypto_generator/uImage", "header CRC: 0xDD8CD663, created: 2017-03-02 14:49:31"}}) {
    auto p = corpus_file(c.file);
    if (!p) continue;
    auto r = walk_all(read_file(*p));
    auto u = hits_of(r, "uimage");
    REQUIRE(u.size() == 1);
    CHECK(u[0].offset == 0);
    CHECK(u[0].confidence == Confidence::High);
    CHECK(u[0].description.find(c.text) != std::string::npos);
  }
}

TEST_CASE("cramfs: a 512-byte boot pad is recognised and the CRC is taken from the superblock on") {
  const char* mkfs = nullptr;
  for (const char* p : {"/usr/sbin/mkfs.cramfs", "/sbin/mkfs.cramfs"})
    if (std::FILE* f = std::fopen(p, "rb")) {
      std::fclose(f);
      mkfs = p;
      break;
    }
  if (!mkfs) {
    WARN("mkfs.cramfs absent: skipped");
    return;
  }
  char dir[] = "/tmp/fwcert-pad-XXXXXX";
  REQUIRE(mkdtemp(dir));
  std::string d(dir);
  std::string cmd = "mkdir -p " + d + "/root && printf hello > " + d + "/root/a.txt && " + mkfs + " -p " + d +
                    "/root " + d + "/pad.img >/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  Bytes img = read_file(d + "/pad.img");
  std::system(("rm -rf " + d).c_str());
  auto r = walk_all(img);
  auto c = hits_of(r, "cramfs");
  REQUIRE(c.size() == 1);
  CHECK(c[0].offset == 0);
  CHECK(c[0].confidence == Confidence::High);
  CHECK(c[0].description.find("512-byte boot pad") != std::string::npos);
  CHECK(c[0].diagnostics.empty());
}
