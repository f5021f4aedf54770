// SquashFS, JFFS2, UBI and ELF validation on synthetic bytes and on the real corpus.
#include <catch2/catch.hpp>
#include <filesystem>

#include "support.hpp"

using namespace fwtest;
using fwcert::Confidence;

namespace {

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Bitwise CRC-32 (reflected, polynomial 0xEDB88320) WITHOUT zlib's pre/post inversion, as the kernel's crc32_le().
// Written independently of the library so the tests check its zlib-based relation.
uint32_t crc32_le_raw(uint32_t crc, const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return crc;
}

void put16(Bytes& b, size_t off, uint16_t v, bool be) { be ? put_u16be(b, off, v) : put_u16le(b, off, v); }
void put32(Bytes& b, size_t off, uint32_t v, bool be) { be ? put_u32be(b, off, v) : put_u32le(b, off, v); }
void put64(Bytes& b, size_t off, uint64_t v, bool be) { be ? put_u64be(b, off, v) : put_u64le(b, off, v); }

constexpr uint32_t kTime = 1594976572;  // 2020-07-17 09:02:52 UTC
constexpr uint64_t kNoTable = ~uint64_t{0};

// A minimal squashfs 4.0: superblock, one uncompressed inode and directory metadata block, the id table (one metadata
// block plus its index), padded with zeros to 4 KiB. bytes_used = 162.
Bytes make_squashfs4(bool be, const std::string& magic = "") {
  Bytes b(96, 0);
  std::string m = magic.empty() ? (be ? "sqsh" : "hsqs") : magic;
  std::copy(m.begin(), m.end(), b.begin());
  put32(b, 4, 2, be);        // inodes
  put32(b, 8, kTime, be);    // mkfs_time
  put32(b, 12, 131072, be);  // block_size
  put32(b, 16, 0, be);       // fragments
  put16(b, 20, 1, be);       // gzip
  put16(b, 22, 17, be);      // block_log
  put16(b, 24, 0xC0, be);    // flags
  put16(b, 26, 1, be);       // no_ids
  put16(b, 28, 4, be);
  put16(b, 30, 0, be);
  put64(b, 32, 0x20, be);      // root inode
  put64(b, 40, 162, be);       // bytes_used
  put64(b, 48, 154, be);       // id index
  put64(b, 56, kNoTable, be);  // xattr
  put64(b, 64, 96, be);        // inode table
  put64(b, 72, 130, be);       // directory table
  put64(b, 80, kNoTable, be);  // fragment index
  put64(b, 88, kNoTable, be);  // lookup index
  put16(b, 96, 0x8000 | 32, be);  // inode metadata: uncompressed, 32 bytes
  for (size_t i = 98; i < 130; ++i) b[i] = static_cast<uint8_t>(i);
  put16(b, 130, 0x8000 | 16, be);  // directory metadata: 16 bytes
  for (size_t i = 132; i < 148; ++i) b[i] = static_cast<uint8_t>(i * 3);
  put16(b, 148, 0x8000 | 4, be);  // id metadata: one id (0)
  put32(b, 150, 0, be);
  put64(b, 154, 148, be);  // id index -> the id metadata block
  b.resize(4096, 0);
  return b;
}

// A minimal squashfs 3.1: 119-byte superblock, inode and directory metadata blocks, uid table. bytes_used = 157.
Bytes make_squashfs3(bool be) {
  Bytes b(119, 0);
  std::string m = be ? "sqsh" : "hsqs";
  std::copy(m.begin(), m.end(), b.begin());
  put32(b, 4, 3, be);  // inodes
  put16(b, 28, 3, be);
  put16(b, 30, 1, be);
  put16(b, 32, 0, be);   // block_size_1 (65536 does not fit 16 bits)
  put16(b, 34, 16, be);  // block_log
  b[36] = 0x00;          // flags
  b[37] = 1;             // no_uids
  b[38] = 0;             // no_guids
  put32(b, 39, kTime, be);
  put32(b, 51, 65536, be);  // block_size
  put32(b, 55, 0, be);      // fragments
  put64(b, 63, 157, be);    // bytes_used
  put64(b, 71, 153, be);    // uid table
  put64(b, 79, 0, be);      // guid table
  put64(b, 87, 119, be);    // inode table
  put64(b, 95, 141, be);    // directory table
  put64(b, 103, 0, be);     // fragment table
  put64(b, 111, kNoTable, be);
  put16(b, 119, 0x8000 | 20, be);
  b.resize(141, 0x11);
  put16(b, 141, 0x8000 | 10, be);
  b.resize(153, 0x22);
  put32(b, 153, 0, be);
  return b;
}

// JFFS2 node with a valid header CRC (crc32_le seed 0 over the first 8 bytes); body bytes are filler, except that a
// dirent (no name) or an inode (no data) gets its node CRC, which the validator checks too.
void add_jffs2_node(Bytes& b, uint16_t type, uint32_t totlen, bool be) {
  size_t at = b.size();
  put16(b, at, 0x1985, be);
  put16(b, at + 2, type, be);
  put32(b, at + 4, totlen, be);
  put32(b, at + 8, crc32_le_raw(0, b.data() + at, 8), be);
  for (uint32_t i = 12; i < totlen; ++i) b.push_back(static_cast<uint8_t>(0x41 + i % 26));
  const size_t node_crc = type == 0xE001 ? 32 : 64, zero_from = type == 0xE001 ? 28 : 44;
  const size_t zero_to = type == 0xE001 ? 40 : 68;  // through the name CRC / the node CRC
  if ((type == 0xE001 || type == 0xE002) && totlen >= zero_to) {
    std::fill(b.begin() + static_cast<long>(at + zero_from), b.begin() + static_cast<long>(at + zero_to), 0);
    put32(b, at + node_crc, crc32_le_raw(0, b.data() + at, type == 0xE001 ? 32 : 60), be);  // not data_crc
  }
  while (b.size() % 4) b.push_back(0xFF);
}

// Two 4 KiB erase blocks: clean marker + 4 nodes, 0xFF fill, clean marker + 2 nodes, 0xFF to 12 KiB.
// Returns the image; used_end receives the end of the last node.
Bytes make_jffs2(bool be, size_t* used_end = nullptr) {
  Bytes b;
  add_jffs2_node(b, 0x2003, 12, be);
  add_jffs2_node(b, 0xE001, 45, be);
  add_jffs2_node(b, 0xE002, 100, be);
  add_jffs2_node(b, 0xE001, 47, be);
  add_jffs2_node(b, 0xE002, 200, be);
  b.resize(4096, 0xFF);
  add_jffs2_node(b, 0x2003, 12, be);
  add_jffs2_node(b, 0xE001, 50, be);
  add_jffs2_node(b, 0xE002, 70, be);
  if (used_end) *used_end = b.size();
  b.resize(12288, 0xFF);
  return b;
}

// UBI: EC and VID headers with the UBI CRC (crc32_le seed 0xFFFFFFFF, no final inversion) over the first 60 bytes.
constexpr size_t kPeb = 16384, kVidOff = 512, kDataOff = 2048;
constexpr uint32_t kSeq = 0x12345678;

void ubi_crc_at(Bytes& b, size_t at) { put_u32be(b, at + 60, crc32_le_raw(0xFFFFFFFFu, b.data() + at, 60)); }

void put_ubi_ec(Bytes& b, size_t at, uint64_t ec) {
  std::fill(b.begin() + static_cast<long>(at), b.begin() + static_cast<long>(at + 64), 0);
  std::string m = "UBI#";
  std::copy(m.begin(), m.end(), b.begin() + static_cast<long>(at));
  b[at + 4] = 1;
  put_u64be(b, at + 8, ec);
  put_u32be(b, at + 16, kVidOff);
  put_u32be(b, at + 20, kDataOff);
  put_u32be(b, at + 24, kSeq);
  ubi_crc_at(b, at);
}
void put_ubi_vid(Bytes& b, size_t at, uint32_t vol_id, uint32_t lnum, uint64_t sqnum) {
  std::fill(b.begin() + static_cast<long>(at), b.begin() + static_cast<long>(at + 64), 0);
  std::string m = "UBI!";
  std::copy(m.begin(), m.end(), b.begin() + static_cast<long>(at));
  b[at + 4] = 1;
  b[at + 5] = 1;  // dynamic
  b[at + 7] = vol_id == 0x7FFFEFFF ? 5 : 0;
  put_u32be(b, at + 8, vol_id);
  put_u32be(b, at + 12, lnum);
  put_u64be(b, at + 40, sqnum);
  ubi_crc_at(b, at);
}

// 6 PEBs: 2 layout-volume copies (volume table naming "rootfs"), 3 LEBs of volume 0, one free PEB.
Bytes make_ubi() {
  Bytes b(6 * kPeb, 0xFF);
  for (size_t i = 0; i < 6; ++i) put_ubi_ec(b, i * kPeb, 1 + i);
  for (size_t copy = 0; copy < 2; ++copy) {
    size_t peb = copy * kPeb;
    put_ubi_vid(b, peb + kVidOff, 0x7FFFEFFF, static_cast<uint32_t>(copy), 10 + copy);
    for (size_t r = 0; r < 4; ++r) {  // struct ubi_vtbl_record
      size_t at = peb + kDataOff + r * 172;
      std::fill(b.begin() + static_cast<long>(at), b.begin() + static_cast<long>(at + 172), 0);
      if (r == 0) {
        put_u32be(b, at, 3);  // reserved_pebs
        put_u32be(b, at + 4, 1);
        b[at + 12] = 1;
        put_u16be(b, at + 14, 6);
        std::string name = "rootfs";
        std::copy(name.begin(), name.end(), b.begin() + static_cast<long>(at + 16));
      }
      put_u32be(b, at + 168, crc32_le_raw(0xFFFFFFFFu, b.data() + at, 168));
    }
  }
  for (size_t l = 0; l < 3; ++l) {
    size_t peb = (2 + l) * kPeb;
    put_ubi_vid(b, peb + kVidOff, 0, static_cast<uint32_t>(l), 20 + l);
    for (size_t i = kDataOff; i < kPeb; ++i) b[peb + i] = static_cast<uint8_t>(i * 7 + l);
  }
  return b;
}

// ELF with one PT_LOAD, 3 sections (null, .text, .shstrtab) and the section table at the end.
Bytes make_elf(bool is64, bool be, uint16_t machine = 40) {
  const size_t eh = is64 ? 64 : 52, ph = is64 ? 56 : 32, sh = is64 ? 64 : 40;
  const size_t text_off = 0x100, text_size = 0x80, str_off = text_off + text_size;
  const std::string strtab = std::string("\0.text\0.shstrtab\0", 17);
  const size_t shoff = (str_off + strtab.size() + 7) / 8 * 8;
  Bytes b(shoff + 3 * sh, 0);
  b[0] = 0x7F, b[1] = 'E', b[2] = 'L', b[3] = 'F';
  b[4] = is64 ? 2 : 1;
  b[5] = be ? 2 : 1;
  b[6] = 1;
  put16(b, 16, 2, be);  // ET_EXEC
  put16(b, 18, machine, be);
  put32(b, 20, 1, be);
  auto addr = [&](size_t off32, size_t off64, uint64_t v) {
    if (is64)
      put64(b, off64, v, be);
    else
      put32(b, off32, static_cast<uint32_t>(v), be);
  };
  addr(24, 24, 0x8000);  // entry
  addr(28, 32, eh);      // phoff
  addr(32, 40, shoff);   // shoff
  const size_t tail = is64 ? 52 : 40;
  put16(b, tail, static_cast<uint16_t>(eh), be);
  put16(b, tail + 2, static_cast<uint16_t>(ph), be);
  put16(b, tail + 4, 1, be);
  put16(b, tail + 6, static_cast<uint16_t>(sh), be);
  put16(b, tail + 8, 3, be);
  put16(b, tail + 10, 2, be);
  // PT_LOAD covering headers and .text.
  put32(b, eh, 1, be);
  if (is64) {
    put64(b, eh + 8, 0, be);
    put64(b, eh + 32, str_off, be);
    put64(b, eh + 40, str_off, be);
  } else {
    put32(b, eh + 4, 0, be);
    put32(b, eh + 16, static_cast<uint32_t>(str_off), be);
    put32(b, eh + 20, static_cast<uint32_t>(str_off), be);
  }
  for (size_t i = text_off; i < str_off; ++i) b[i] = static_cast<uint8_t>(i);
  std::copy(strtab.begin(), strtab.end(), b.begin() + static_cast<long>(str_off));
  auto section = [&](size_t idx, uint32_t name, uint32_t type, uint64_t off, uint64_t size) {
    size_t at = shoff + idx * sh;
    put32(b, at, name, be);
    put32(b, at + 4, type, be);
    if (is64) {
      put64(b, at + 24, off, be);
      put64(b, at + 32, size, be);
    } else {
      put32(b, at + 16, static_cast<uint32_t>(off), be);
      put32(b, at + 20, static_cast<uint32_t>(size), be);
    }
  };
  section(1, 1, 1, text_off, text_size);        // .text PROGBITS
  section(2, 7, 3, str_off, strtab.size());     // .shstrtab STRTAB
  return b;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// SquashFS
// ---------------------------------------------------------------------------------------------------------------

TEST_CASE("squashfs: synthetic v4 image validates in both byte orders") {
  for (bool be : {false, true}) {
    Bytes img = make_squashfs4(be);
    auto hit = validate("squashfs", img);
    REQUIRE(hit);
    CHECK(hit->type == "squashfs");
    CHECK(hit->confidence == Confidence::High);
    CHECK(hit->size == 4096);  // 162 bytes used + zero padding to 4 KiB
    CHECK(hit->nesting == fwcert::Nesting::Opaque);
    CHECK(hit->diagnostics.empty());
    CHECK(hit->description == std::string("Squashfs filesystem, ") + (be ? "big" : "little") +
                                  " endian, version 4.0, compression:gzip, size: 162 bytes, 2 inodes, blocksize: "
                                  "131072 bytes, created: 2020-07-17 09:02:52");
  }
}

TEST_CASE("squashfs: size stops at bytes_used when the padding is not zero") {
  Bytes img = make_squashfs4(false);
  img[4000] = 0x55;
  auto hit = validate("squashfs", img);
  REQUIRE(hit);
  CHECK(hit->size == 162);
}

TEST_CASE("squashfs: synthetic v3 image validates in both byte orders") {
  for (bool be : {false, true}) {
    Bytes img = make_squashfs3(be);
    auto hit = validate("squashfs", img);
    REQUIRE(hit);
    CHECK(hit->confidence == Confidence::High);
    CHECK(hit->size == 157);
    CHECK(contains(hit->description, be ? "big endian, version 3.1" : "little endian, version 3.1"));
    CHECK(contains(hit->description, "3 inodes, blocksize: 65536 bytes"));
  }
}

TEST_CASE("squashfs: vendor magics are accepted and named") {
  Bytes img = make_squashfs4(false, "shsq");
  auto hit = validate("squashfs", img);
  REQUIRE(hit);
  CHECK(hit->confidence == Confidence::High);
  CHECK(contains(hit->description, "little endian, non-standard signature"));
  Bytes img2 = make_squashfs4(true, "qshs");
  auto hit2 = validate("squashfs", img2);
  REQUIRE(hit2);
  CHECK(contains(hit2->description, "big endian, non-standard signature"));
  auto r = walk_all(img2);
  REQUIRE(hits_of(r, "squashfs").size() == 1);
  CHECK(hits_of(r, "squashfs")[0].offset == 0);
}

TEST_CASE("squashfs: truncated image lowers confidence with a diagnostic") {
  Bytes img = make_squashfs4(false);
  img.resize(140);
  auto hit = validate("squashfs", img);
  REQUIRE(hit);
  CHECK(hit->confidence == Confidence::Medium);
  CHECK(has_diag(*hit, "truncated"));
  CHECK(hit->size == 140);
  img.resize(60);  // superblock incomplete
  CHECK_FALSE(validate("squashfs", img));
}

TEST_CASE("squashfs: damaged superblock fields reject or lower confidence") {
  {
    Bytes img = make_squashfs4(false);
    put_u16le(img, 22, 16);  // block_log no longer matches block_size
    CHECK_FALSE(validate("squashfs", img));
  }
  {
    Bytes img = make_squashfs4(false);
    put_u16le(img, 20, 9);  // unknown compression
    CHECK_FALSE(validate("squashfs", img));
  }
  {
    Bytes img = make_squashfs4(false);
    put_u16le(img, 28, 7);  // unknown major version
    CHECK_FALSE(validate("squashfs", img));
  }
  {
    Bytes img = make_squashfs4(false);
    put_u64le(img, 72, 5000);  // directory table past bytes_used
    auto hit = validate("squashfs", img);
    REQUIRE(hit);
    CHECK(hit->confidence == Confidence::Low);
    CHECK(has_diag(*hit, "directory table"));
  }
  {
    Bytes img = make_squashfs4(false);
    put_u64le(img, 154, 4);  // id index points into the superblock
    auto hit = validate("squashfs", img);
    REQUIRE(hit);
    CHECK(hit->confidence == Confidence::Low);
    CHECK(has_diag(*hit, "id index"));
  }
  {
    Bytes img = make_squashfs4(false);
    put_u16le(img, 96, 0x8000 | 9000);  // inode metadata block longer than 8 KiB
    auto hit = validate("squashfs", img);
    REQUIRE(hit);
    CHECK(hit->confidence == Confidence::Low);
  }
}

TEST_CASE("squashfs: every single-bit flip of the superblock is handled") {
  const Bytes good = make_squashfs4(false);
  for (size_t bit = 0; bit < 96 * 8; ++bit) {
    Bytes img = good;
    img[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    auto hit = validate("squashfs", img);
    if (hit) {
      CHECK(hit->size <= img.size());
      CHECK(!hit->description.empty());
    }
  }
  // Flipping a byte of the bytes_used field either rejects or stops High.
  Bytes img = good;
  img[41] ^= 0x10;  // bytes_used 162 -> 4258: past the padded end
  auto hit = validate("squashfs", img);
  REQUIRE(hit);
  CHECK(hit->confidence != Confidence::High);
}

// ---------------------------------------------------------------------------------------------------------------
// JFFS2
// ---------------------------------------------------------------------------------------------------------------

TEST_CASE("jffs2: synthetic images walk every node across erase blocks") {
  for (bool be : {false, true}) {
    size_t used = 0;
    Bytes img = make_jffs2(be, &used);
    auto hit = validate("jffs2", img);
    REQUIRE(hit);
    CHECK(hit->type == "jffs2");
    CHECK(hit->diagnostics.empty());
    CHECK(hit->confidence == Confidence::High);
    CHECK(hit->size == used);
    CHECK(hit->description == std::string("JFFS2 filesystem, ") + (be ? "big" : "little") + " endian, 8 nodes, size: " +
                                  std::to_string(used) + " bytes");
    auto r = walk_all(img);
    auto hits = hits_of(r, "jffs2");
    REQUIRE(hits.size() == 1);  // the second erase block is inside the first hit
    CHECK(hits[0].offset == 0);
  }
}

TEST_CASE("jffs2: the first header CRC decides; later damage is skipped, not an end") {
  Bytes img = make_jffs2(false);
  Bytes bad_first = img;
  bad_first[9] ^= 0x01;  // first hdr_crc
  CHECK_FALSE(validate("jffs2", bad_first));

  size_t used = 0;
  make_jffs2(false, &used);
  Bytes bad_later = img;
  const size_t third = 12 + 48;  // clean marker (12) + dirent (45 -> 48)
  bad_later[third + 5] ^= 0x40;  // totlen of the inode node: CRC no longer matches
  auto hit = validate("jffs2", bad_later);
  REQUIRE(hit);
  CHECK(hit->size == used);  // the nodes after the damaged one still count
  CHECK(has_diag(*hit, "CRC mismatch"));
  CHECK(contains(hit->description, "7 nodes"));
  CHECK(hit->confidence == Confidence::Medium);
}

TEST_CASE("jffs2: a lone node is not High, a truncated node lowers confidence") {
  Bytes one;
  add_jffs2_node(one, 0x2003, 12, false);
  auto hit = validate("jffs2", one);
  REQUIRE(hit);
  CHECK(hit->confidence == Confidence::Medium);
  CHECK(hit->size == 12);

  Bytes img = make_jffs2(true);
  img.resize(12 + 48 + 50);  // cut inside the inode node of 100 bytes
  auto cut = validate("jffs2", img);
  REQUIRE(cut);
  CHECK(cut->confidence == Confidence::Medium);
  CHECK(has_diag(*cut, "truncated"));
  CHECK(cut->size == img.size());
}

TEST_CASE("jffs2: the library CRC matches the kernel crc32_le relation") {
  // hdr_crc of the corpus image's first node (clean marker, little endian) is 0xE41EB0B1.
  Bytes hdr = {0x85, 0x19, 0x03, 0x20, 0x0C, 0x00, 0x00, 0x00};
  CHECK(crc32_le_raw(0, hdr.data(), hdr.size()) == 0xE41EB0B1u);
  Bytes node = hdr;
  put_u32le(node, 8, 0xE41EB0B1u);
  CHECK(validate("jffs2", node));
}

// ---------------------------------------------------------------------------------------------------------------
// UBI
// ---------------------------------------------------------------------------------------------------------------

TEST_CASE("ubi: synthetic image: CRCs, PEB stride, volumes") {
  Bytes img = make_ubi();
  auto hit = validate("ubi", img);
  REQUIRE(hit);
  CHECK(hit->type == "ubi");
  CHECK(hit->confidence == Confidence::High);
  CHECK(hit->size == 6 * kPeb);
  CHECK(hit->diagnostics.empty());
  CHECK(contains(hit->description, "6 PEBs of 16384 bytes"));
  CHECK(contains(hit->description, "VID header offset: 512, data offset: 2048"));
  CHECK(contains(hit->description, "1 volume (\"rootfs\")"));

  // Followed by other data: the walk stops at the last PEB.
  Bytes more = img;
  append(more, random_bytes(5000, 3));
  auto hit2 = validate("ubi", more);
  REQUIRE(hit2);
  CHECK(hit2->size == 6 * kPeb);

  auto r = walk_all(img);
  auto hits = hits_of(r, "ubi");
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].offset == 0);
}

TEST_CASE("ubi: bad EC CRC gives Low with a diagnostic; damaged VID lowers confidence") {
  Bytes img = make_ubi();
  img[8 + 7] ^= 0x01;  // erase counter changed, CRC stale
  auto hit = validate("ubi", img);
  REQUIRE(hit);
  CHECK(hit->confidence == Confidence::Low);
  CHECK(has_diag(*hit, "EC header CRC mismatch"));

  Bytes vid = make_ubi();
  vid[3 * kPeb + kVidOff + 12] ^= 0x02;  // lnum of one data PEB: VID CRC stale
  auto hit2 = validate("ubi", vid);
  REQUIRE(hit2);
  CHECK(hit2->confidence == Confidence::Medium);
  CHECK(has_diag(*hit2, "invalid volume identifier header"));

  Bytes ver = make_ubi();
  ver[4] = 2;  // unknown version
  CHECK_FALSE(validate("ubi", ver));
}

TEST_CASE("ubi: truncated image and volume headers on their own") {
  Bytes img = make_ubi();
  img.resize(5 * kPeb + 4000);
  auto hit = validate("ubi", img);
  REQUIRE(hit);
  CHECK(hit->confidence == Confidence::Medium);
  CHECK(has_diag(*hit, "truncated"));
  CHECK(hit->size == img.size());

  // A VID header behind its EC header is part of the image and not reported again.
  Bytes full = make_ubi();
  CHECK_FALSE(validate("ubi", full, kVidOff));
  // Without the EC header it is reported as a lone volume header.
  Bytes lone(kVidOff, 0xFF);
  Bytes vid_part(full.begin() + kVidOff, full.begin() + kVidOff + 64);
  append(lone, vid_part);
  auto v = validate("ubi", lone, kVidOff);
  REQUIRE(v);
  CHECK(v->confidence == Confidence::Medium);
  CHECK(contains(v->description, "volume identifier header"));
  lone[kVidOff + 20] ^= 0xFF;
  auto v2 = validate("ubi", lone, kVidOff);
  REQUIRE(v2);
  CHECK(v2->confidence == Confidence::Low);
}

// ---------------------------------------------------------------------------------------------------------------
// ELF
// ---------------------------------------------------------------------------------------------------------------

TEST_CASE("elf: synthetic 32-bit LSB and 64-bit MSB binaries") {
  Bytes a = make_elf(false, false, 40);
  auto hit = validate("elf", a);
  REQUIRE(hit);
  CHECK(hit->type == "elf");
  CHECK(hit->confidence == Confidence::High);
  CHECK(hit->size == a.size());
  CHECK(hit->nesting == fwcert::Nesting::Container);
  CHECK(hit->description == "ELF, 32-bit LSB executable, ARM, version 1 (SYSV)");

  Bytes b = make_elf(true, true, 8);
  auto hit2 = validate("elf", b);
  REQUIRE(hit2);
  CHECK(hit2->confidence == Confidence::High);
  CHECK(hit2->size == b.size());
  CHECK(hit2->description == "ELF, 64-bit MSB executable, MIPS, version 1 (SYSV)");

  // Trailing bytes are not part of the ELF.
  Bytes c = make_elf(true, false, 62);
  const size_t n = c.size();
  append(c, random_bytes(3000, 5));
  auto hit3 = validate("elf", c);
  REQUIRE(hit3);
  CHECK(hit3->size == n);
  CHECK(contains(hit3->description, "x86-64"));
}

TEST_CASE("elf: damaged and truncated headers") {
  const Bytes good = make_elf(false, false);
  {
    Bytes b = good;
    b[6] = 2;  // EI_VERSION
    CHECK_FALSE(validate("elf", b));
  }
  {
    Bytes b = good;
    put_u16le(b, 40, 60);  // e_ehsize
    CHECK_FALSE(validate("elf", b));
  }
  {
    Bytes b = good;
    put_u16le(b, 50, 9);  // e_shstrndx past the section count
    auto hit = validate("elf", b);
    REQUIRE(hit);
    CHECK(hit->confidence == Confidence::Low);
    CHECK(has_diag(*hit, "section name table"));
  }
  {
    Bytes b = good;
    b.resize(b.size() - 10);  // section table cut
    auto hit = validate("elf", b);
    REQUIRE(hit);
    CHECK(hit->confidence != Confidence::High);
    CHECK(has_diag(*hit, "truncated"));
    CHECK(hit->size == b.size());
  }
  {
    Bytes b = good;
    b.resize(40);
    CHECK_FALSE(validate("elf", b));
  }
  for (size_t bit = 0; bit < 52 * 8; ++bit) {
    Bytes b = good;
    b[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    auto hit = validate("elf", b);
    if (hit) CHECK(hit->size <= b.size());
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Robustness
// ---------------------------------------------------------------------------------------------------------------

TEST_CASE("filesystem: truncation sweeps never crash and never claim High for a cut image") {
  struct Case {
    const char* validator;
    Bytes img;
    size_t full;  // length from which High is allowed
  };
  size_t jffs2_used = 0;
  Bytes jffs2 = make_jffs2(false, &jffs2_used);
  std::vector<Case> cases = {
      {"squashfs", make_squashfs4(false), 162},
      {"jffs2", jffs2, 0},  // a prefix ending between nodes is a complete smaller filesystem
      {"elf", make_elf(false, true), make_elf(false, true).size()},
  };
  for (const auto& c : cases) {
    for (size_t len = 0; len <= c.img.size(); ++len) {
      Bytes cut(c.img.begin(), c.img.begin() + static_cast<long>(len));
      auto hit = validate(c.validator, cut);
      if (!hit) continue;
      CHECK(hit->size <= len);
      if (len < c.full) CHECK(hit->confidence != Confidence::High);
    }
  }
  // UBI: every 61st length (the image is 96 KiB).
  Bytes ubi = make_ubi();
  for (size_t len = 0; len <= ubi.size(); len += 61) {
    Bytes cut(ubi.begin(), ubi.begin() + static_cast<long>(len));
    auto hit = validate("ubi", cut);
    if (hit) CHECK(hit->size <= len);
  }
}

TEST_CASE("filesystem: random bytes give no High hit, even with planted magics") {
  Bytes data = random_bytes(4u << 20, 0xF5F5);
  auto r = walk_all(data);
  for (const char* t : {"squashfs", "jffs2", "ubi", "elf"})
    for (const auto& h : hits_of(r, t)) CHECK(h.confidence != Confidence::High);

  // Plant every magic many times over the random bytes (with plausible version fields) and walk again.
  Bytes planted = data;
  const std::vector<std::string> magics = {"hsqs", "sqsh", std::string("\x85\x19\x03\x20", 4),
                                           std::string("\x19\x85\xe0\x02", 4), std::string("UBI#\x01", 5),
                                           std::string("UBI!\x01", 5), std::string("\x7f" "ELF\x01\x01\x01", 7)};
  size_t k = 0;
  for (size_t off = 1000; off + 200 < planted.size(); off += 997, ++k) {
    const std::string& m = magics[k % magics.size()];
    std::copy(m.begin(), m.end(), planted.begin() + static_cast<long>(off));
    if (m == "hsqs") put_u16le(planted, off + 28, 4);
    if (m == "sqsh") put_u16be(planted, off + 28, 3);
  }
  auto r2 = walk_all(planted);
  for (const char* t : {"squashfs", "jffs2", "ubi", "elf"})
    for (const auto& h : hits_of(r2, t)) CHECK(h.confidence != Confidence::High);
}

// ---------------------------------------------------------------------------------------------------------------
// Corpus
// ---------------------------------------------------------------------------------------------------------------

TEST_CASE("squashfs corpus: binwalk inputs are found at offset 0") {
  if (auto p = corpus_file("binwalk/tests/inputs/squashfs.bin")) {
    Bytes img = read_file(*p);
    auto r = walk_all(img);
    auto hits = hits_of(r, "squashfs");
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].offset == 0);
    CHECK(hits[0].confidence == Confidence::High);
    CHECK(hits[0].size == 4096);
    CHECK(contains(hits[0].description, "little endian, version 4.0, compression:gzip, size: 315 bytes, 2 inodes"));
  }
  if (auto p = corpus_file("binwalk/tests/inputs/squashfs_v2.bin")) {
    Bytes img = read_file(*p);
    auto r = walk_all(img);
    auto hits = hits_of(r, "squashfs");
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].offset == 0);
    CHECK(hits[0].confidence == Confidence::High);
    CHECK(hits[0].size == 2587654);
    CHECK(contains(hits[0].description, "big endian, version 2.0"));
    CHECK(contains(hits[0].description, "431 inodes, blocksize: 65536 bytes, created: 2009-02-12"));
  }
}

TEST_CASE("squashfs corpus: binwalk v2 firmware.squashfs gives exactly one hit at 0") {
  if (auto p = corpus_file("binwalk/v2.3.4/testing/tests/input-vectors/firmware.squashfs")) {
    Bytes img = read_file(*p);
    auto r = walk_all(img);
    auto hits = hits_of(r, "squashfs");
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].offset == 0);
    CHECK(hits[0].confidence == Confidence::High);
    CHECK(hits[0].size == img.size());  // bytes_used 3647665 + zero padding to 4 KiB
    CHECK(contains(hits[0].description, "Squashfs filesystem, little endian, version 4.0, compression:lzma"));
    CHECK(contains(hits[0].description, "1811 inodes, blocksize: 524288 bytes"));
  }
}

TEST_CASE("squashfs corpus: FACT variants are detected at 0 with byte order and version") {
  struct Variant {
    const char* file;
    const char* expect;
  };
  const Variant variants[] = {
      {"avm_be.sqfs4", "big endian, version 4.0, compression:xz"},
      {"avm_le.sqfs4", "little endian, version 4.0, compression:xz"},
      {"gzip.sqfs", "little endian, version 4.0, compression:gzip"},
      {"lz4.sqfs", "little endian, version 4.0, compression:lz4"},
      {"lzma.sqfs", "little endian, version 4.0, compression:lzma"},
      {"lzo.sqfs", "little endian, version 4.0, compression:lzo"},
      {"xz.sqfs", "little endian, version 4.0, compression:xz"},
      {"zstd.sqfs", "little endian, version 4.0, compression:zstd"},
      {"lzma1_be.sqfs3", "big endian, version 3.76, compression:lzma"},
      {"lzma1_le.sqfs3", "little endian, version 3.76, compression:lzma"},
      {"lzma_be.sqfs2", "big endian, version 2.76, compression:lzma"},
      {"lzma_le.sqfs2", "little endian, version 2.76, compression:lzma"},
      {"zlib_be.sqfs3", "big endian, version 3.1, compression:gzip"},
      {"zlib_le.sqfs3", "little endian, version 3.1, compression:gzip"},
  };
  for (const auto& v : variants) {
    auto p = corpus_file(std::string("fact_extractor/fact_extractor/plugins/unpacking/squashFS/test/data/") + v.file);
    if (!p) continue;
    INFO(v.file);
    Bytes img = read_file(*p);
    auto r = walk_all(img);
    auto hits = hits_of(r, "squashfs");
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].offset == 0);
    CHECK(hits[0].confidence == Confidence::High);
    CHECK(contains(hits[0].description, v.expect));
    CHECK(hits[0].diagnostics.empty());
  }
}

TEST_CASE("jffs2 corpus: FACT images and the s3linux rootfs") {
  struct Image {
    const char* file;
    const char* endian;
    size_t nodes, size;
  };
  const Image images[] = {
      {"fact_extractor/fact_extractor/plugins/unpacking/jffs2/test/data/jffs2_le.img", "little endian", 9, 612},
      {"fact_extractor/fact_extractor/plugins/unpacking/jffs2/test/data/jffs2_be.img", "big endian", 9, 612},
      {"s3linux-files/rootfs.jffs2", "little endian", 98, 22044},
  };
  for (const auto& im : images) {
    auto p = corpus_file(im.file);
    if (!p) continue;
    INFO(im.file);
    Bytes img = read_file(*p);
    auto r = walk_all(img);
    auto hits = hits_of(r, "jffs2");
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].offset == 0);
    CHECK(hits[0].confidence == Confidence::High);
    CHECK(hits[0].size == im.size);
    CHECK(hits[0].description == std::string("JFFS2 filesystem, ") + im.endian + ", " + std::to_string(im.nodes) +
                                     " nodes, size: " + std::to_string(im.size) + " bytes");
  }
}

TEST_CASE("elf corpus: busybox inside the uInitrd cpio, binaries inside a tar") {
  if (auto p = corpus_file("custom-initramfs/uInitrd")) {
    Bytes img = read_file(*p);
    auto hits = hits_of(walk_all(img), "elf");
    REQUIRE(hits.size() == 1);  // bin/busybox; the other members are scripts and text
    CHECK(hits[0].confidence == Confidence::High);
    CHECK(hits[0].size == 1242004);  // the cpio member size of bin/busybox
    CHECK(hits[0].description == "ELF, 32-bit LSB executable, ARM, version 1 (SYSV)");
  }
  if (auto p = corpus_file("binwalk/v2.3.4/testing/tests/input-vectors/dirtraversal.tar")) {
    Bytes img = read_file(*p);
    auto hits = hits_of(walk_all(img), "elf");
    REQUIRE(hits.size() == 2);
    for (const auto& h : hits) {
      CHECK(h.offset % 512 == 0);  // tar members start on 512-byte blocks
      CHECK(h.confidence == Confidence::High);
      CHECK(h.size == 133792);
      CHECK(contains(h.description, "ELF, 64-bit LSB shared object, x86-64"));
    }
  }
}

TEST_CASE("elf: a real binary of this machine (skipped when absent)") {
  for (const char* path : {"/bin/ls", "/usr/bin/env"}) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      WARN("no " << path << ": skipped");
      continue;
    }
    INFO(path);
    Bytes img = read_file(path);
    auto hit = validate("elf", img);
    REQUIRE(hit);
    CHECK(hit->confidence == Confidence::High);
    CHECK(hit->size == img.size());
    CHECK(hit->description.rfind("ELF, ", 0) == 0);
  }
}
