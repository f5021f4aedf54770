// Archive validators: zip/jar, 7z, tar, cpio. Fixtures are written in memory with libarchive (and by hand for the
// cpio variants libarchive does not write); corpus files are checked when present.
#include <archive.h>
#include <archive_entry.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <functional>
#include <set>
#include <stdexcept>

#include "support.hpp"

using namespace fwtest;
using fwcert::Confidence;

namespace {

struct Member {
  std::string name;
  Bytes data;
  bool dir = false;
};

const std::vector<Member>& sample_members() {
  static const std::vector<Member> m = [] {
    std::vector<Member> v;
    Bytes text;
    for (int i = 0; i < 400; ++i) append(text, "config line " + std::to_string(i) + " = value\n");
    v.push_back({"etc/", {}, true});
    v.push_back({"etc/app.conf", text, false});
    v.push_back({"bin/blob.bin", random_bytes(3000, 77), false});
    return v;
  }();
  return m;
}

// Writes members with libarchive into memory; setup picks the format and options.
Bytes make_archive(const std::function<void(archive*)>& setup, const std::vector<Member>& members,
                   const char* passphrase = nullptr) {
  archive* a = archive_write_new();
  setup(a);
  if (passphrase) archive_write_set_passphrase(a, passphrase);
  Bytes buf(8 << 20);
  size_t used = 0;
  if (archive_write_open_memory(a, buf.data(), buf.size(), &used) != ARCHIVE_OK)
    throw std::runtime_error(archive_error_string(a));
  for (const auto& m : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, m.name.c_str());
    archive_entry_set_filetype(e, m.dir ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(e, m.dir ? 0755 : 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(m.data.size()));
    archive_entry_set_mtime(e, 1594976572, 0);
    archive_entry_set_uid(e, 1000);
    archive_entry_set_gid(e, 1000);
    archive_entry_set_ino(e, static_cast<la_int64_t>(&m - members.data() + 1));
    archive_entry_set_nlink(e, 1);
    if (archive_write_header(a, e) < ARCHIVE_OK) throw std::runtime_error(archive_error_string(a));
    if (!m.data.empty()) archive_write_data(a, m.data.data(), m.data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  buf.resize(used);
  return buf;
}



// Every proper prefix: no crash, never High.
void truncation_sweep(const std::string& validator, const Bytes& data, size_t step) {
  for (size_t n = 0; n < data.size(); n += step) {
    Bytes cut(data.begin(), data.begin() + static_cast<long>(n));
    auto h = validate(validator, cut);
    if (h) {
      INFO(validator << " cut at " << n << " of " << data.size());
      CHECK(h->confidence != Confidence::High);
      CHECK(h->size <= n);
    }
  }
}

// Flips one bit at a time over the whole buffer: the validator must not crash (sanitizers catch the rest).
void flip_sweep(const std::string& validator, const Bytes& data, size_t step) {
  for (size_t i = 0; i < data.size(); i += step) {
    Bytes f = data;
    f[i] ^= static_cast<uint8_t>(1u << (i % 8));
    auto h = validate(validator, f);
    if (h) CHECK(h->size <= f.size());
  }
}

std::string hex_field(uint64_t v, int width) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*llX", width, static_cast<unsigned long long>(v));
  return buf;
}

// SVR4 cpio ("070701" newc, or "070702" with the byte-sum checksum) written by hand.
Bytes make_svr4_cpio(const std::vector<Member>& members, bool with_crc) {
  Bytes out;
  auto entry = [&](const std::string& name, const Bytes& data, uint32_t mode, uint32_t ino) {
    uint32_t sum = 0;
    for (uint8_t b : data) sum += b;
    std::string h = with_crc ? "070702" : "070701";
    const uint64_t f[13] = {ino, mode, 1000, 1000, 1, 1594976572, data.size(), 0, 0, 0, 0, name.size() + 1,
                            with_crc ? sum : 0u};
    for (uint64_t x : f) h += hex_field(x, 8);
    append(out, h);
    append(out, name);
    out.push_back(0);
    while (out.size() % 4) out.push_back(0);
    append(out, data);
    while (out.size() % 4) out.push_back(0);
  };
  uint32_t ino = 1;
  for (const auto& m : members) entry(m.name, m.data, m.dir ? 040755 : 0100644, ino++);
  entry("TRAILER!!!", {}, 0, 0);
  return out;
}

// Old binary cpio, big-endian, by hand (libarchive writes only the host byte order).
Bytes make_bin_be_cpio(const std::vector<Member>& members) {
  Bytes out;
  auto entry = [&](const std::string& name, const Bytes& data, uint16_t mode) {
    size_t h = out.size();
    put_u16be(out, h, 070707);
    put_u16be(out, h + 6, mode);
    put_u16be(out, h + 12, 1);
    put_u16be(out, h + 20, static_cast<uint16_t>(name.size() + 1));
    put_u16be(out, h + 22, static_cast<uint16_t>(data.size() >> 16));
    put_u16be(out, h + 24, static_cast<uint16_t>(data.size() & 0xFFFF));
    append(out, name);
    out.push_back(0);
    if (out.size() % 2) out.push_back(0);
    append(out, data);
    if (out.size() % 2) out.push_back(0);
  };
  for (const auto& m : members) entry(m.name, m.data, m.dir ? 040755 : 0100644);
  entry("TRAILER!!!", {}, 0);
  return out;
}

}  // namespace

// ---------------------------------------------------------------- zip ---------------------------------------------

TEST_CASE("zip: libarchive zip (deflate, data descriptors) is High with the EOCD size", "[zip]") {
  Bytes z = make_archive([](archive* a) { archive_write_set_format_zip(a); }, sample_members());
  auto h = validate("zip", concat(z, random_bytes(200, 3)));
  REQUIRE(h);
  CHECK(h->type == "zip");
  CHECK(h->confidence == Confidence::High);
  CHECK(h->size == z.size());
  CHECK(h->nesting == fwcert::Nesting::Opaque);
  CHECK(h->description.rfind("Zip archive data, at least v", 0) == 0);
  CHECK(h->description.find("name: etc/") != std::string::npos);
  CHECK(h->description.find(", 3 entries") != std::string::npos);

  Bytes img = concat(random_bytes(4096, 5), z, random_bytes(4096, 6));
  auto hits = hits_of(walk_all(img), "zip");
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].offset == 4096);
  CHECK(hits[0].size == z.size());
}

TEST_CASE("zip: stored members have sizes in the local header and a checked CRC", "[zip]") {
  Bytes z = make_archive(
      [](archive* a) {
        archive_write_set_format_zip(a);
        archive_write_set_options(a, "zip:compression=store");
      },
      {{"readme.txt", Bytes(500, 'a'), false}, {"data.bin", random_bytes(700, 8), false}});
  auto h = validate("zip", z);
  REQUIRE(h);
  CHECK(h->confidence == Confidence::High);
  CHECK(h->size == z.size());
  CHECK(h->description.find("compressed size: 500, uncompressed size: 500, name: readme.txt") != std::string::npos);
  // Damage the first member's data: the stored CRC no longer matches.
  Bytes bad = z;
  const size_t data_at = 30 + (z[26] | z[27] << 8) + (z[28] | z[29] << 8);
  bad[data_at + 5] ^= 0x01;
  auto hb = validate("zip", bad);
  REQUIRE(hb);
  CHECK(hb->confidence != Confidence::High);
  CHECK(has_diag(*hb, "CRC-32 mismatch"));
}

TEST_CASE("zip: jar detection, encryption note, truncation", "[zip]") {
  Bytes jar = make_archive([](archive* a) { archive_write_set_format_zip(a); },
                           {{"META-INF/MANIFEST.MF", Bytes(100, 'm'), false}, {"a/B.class", Bytes(300, 0xca), false}});
  auto hj = validate("zip", jar);
  REQUIRE(hj);
  CHECK(hj->type == "jar");
  CHECK(hj->confidence == Confidence::High);

  Bytes enc = make_archive(
      [](archive* a) {
        archive_write_set_format_zip(a);
        archive_write_set_options(a, "zip:encryption=zipcrypt");
      },
      {{"secret.txt", Bytes(400, 's'), false}}, "test");
  auto he = validate("zip", enc);
  REQUIRE(he);
  CHECK(he->description.find("encrypted") != std::string::npos);
  CHECK(has_diag(*he, "encrypted"));

  // Cut before the central directory: a valid local header without an EOCD is Medium with a diagnostic.
  Bytes z = make_archive([](archive* a) { archive_write_set_format_zip(a); }, sample_members());
  Bytes cut(z.begin(), z.begin() + static_cast<long>(z.size() * 2 / 3));
  auto hc = validate("zip", cut);
  REQUIRE(hc);
  CHECK(hc->confidence == Confidence::Medium);
  CHECK(has_diag(*hc, "no end of central directory"));
  // Cut exactly at the central directory: the deflated members (sizes only in data descriptors) are inflated to
  // walk them, so the hit covers every complete member.
  const size_t cd_off = z[z.size() - 6] | z[z.size() - 5] << 8 | z[z.size() - 4] << 16;
  Bytes at_cd(z.begin(), z.begin() + static_cast<long>(cd_off));
  auto hd = validate("zip", at_cd);
  REQUIRE(hd);
  CHECK(hd->confidence == Confidence::Medium);
  CHECK(hd->size == cd_off);
}

TEST_CASE("zip: header checks and damage", "[zip]") {
  Bytes z = make_archive([](archive* a) { archive_write_set_format_zip(a); }, sample_members());
  Bytes bad_method = z;
  put_u16le(bad_method, 8, 77);
  CHECK_FALSE(validate("zip", bad_method));
  Bytes bad_name = z;
  bad_name[30] = 0x01;
  CHECK_FALSE(validate("zip", bad_name));
  // EOCD pointing elsewhere: not High.
  Bytes bad_eocd = z;
  bad_eocd[z.size() - 22 + 16] ^= 0x04;
  auto h = validate("zip", bad_eocd);
  REQUIRE(h);
  CHECK(h->confidence != Confidence::High);
  flip_sweep("zip", z, 3);
}

TEST_CASE("zip: truncation sweep over a small archive", "[zip]") {
  Bytes z = make_archive([](archive* a) { archive_write_set_format_zip(a); },
                         {{"a.txt", Bytes(64, 'x'), false}, {"b.txt", Bytes(80, 'y'), false}});
  truncation_sweep("zip", z, 1);
  auto full = validate("zip", z);
  REQUIRE(full);
  CHECK(full->confidence == Confidence::High);
}

// ---------------------------------------------------------------- 7z ----------------------------------------------

TEST_CASE("7z: both CRCs verified, size from the next header", "[7z]") {
  Bytes s = make_archive([](archive* a) { archive_write_set_format_7zip(a); }, sample_members());
  auto h = validate("7z", concat(s, random_bytes(100, 9)));
  REQUIRE(h);
  CHECK(h->type == "7z");
  CHECK(h->confidence == Confidence::High);
  CHECK(h->size == s.size());

  Bytes bad = s;
  bad[14] ^= 0x01;  // next header offset: start header CRC fails
  auto hb = validate("7z", bad);
  REQUIRE(hb);
  CHECK(hb->confidence == Confidence::Low);
  CHECK(has_diag(*hb, "start header CRC"));

  Bytes nh = s;
  nh[s.size() - 2] ^= 0x01;  // inside the next header
  auto hn = validate("7z", nh);
  REQUIRE(hn);
  CHECK(hn->confidence == Confidence::Medium);
  CHECK(has_diag(*hn, "next header CRC"));

  truncation_sweep("7z", s, 7);
  flip_sweep("7z", s, 5);
}

// ---------------------------------------------------------------- tar ---------------------------------------------

namespace {
uint64_t tar_expected_size(const std::vector<Member>& members) {
  uint64_t n = 0;
  for (const auto& m : members) n += 512 + (m.data.size() + 511) / 512 * 512;
  return n + 1024;
}
}  // namespace

TEST_CASE("tar: POSIX ustar and GNU headers, walk to the end-of-archive blocks", "[tar]") {
  const auto& members = sample_members();
  Bytes ustar = make_archive([](archive* a) { archive_write_set_format_ustar(a); }, members);
  INFO("ustar archive of " << ustar.size() << " bytes");
  auto h = validate("tar", ustar);
  REQUIRE(h);
  CHECK(h->type == "tar");
  CHECK(h->confidence == Confidence::High);
  CHECK(h->size == tar_expected_size(members));
  CHECK(h->nesting == fwcert::Nesting::Container);
  CHECK(h->description == "POSIX tar archive, file name: \"etc/\", 3 entries");

  Bytes gnu = make_archive([](archive* a) { archive_write_set_format_gnutar(a); }, members);
  auto hg = validate("tar", gnu);
  REQUIRE(hg);
  CHECK(hg->confidence == Confidence::High);
  CHECK(hg->size == tar_expected_size(members));
  CHECK(hg->description.rfind("POSIX tar archive (GNU)", 0) == 0);

  // Long names (GNU 'L' records) are followed, and the first name is the long one.
  std::string longname(150, 'n');
  Bytes gl = make_archive([](archive* a) { archive_write_set_format_gnutar(a); }, {{longname, Bytes(10, 1), false}});
  auto hl = validate("tar", gl);
  REQUIRE(hl);
  CHECK(hl->description.find(std::string(120, 'n')) != std::string::npos);  // more than the 100-byte field
  CHECK(hl->description.find(", 1 entries") != std::string::npos);
}

TEST_CASE("tar: walk lists one tar hit and finds members inside (container)", "[tar]") {
  Bytes gz = gzip_compress(Bytes(20000, 'z'));
  std::vector<Member> members = {{"a.txt", Bytes(1000, 'a'), false}, {"b.gz", gz, false}};
  Bytes t = make_archive([](archive* a) { archive_write_set_format_ustar(a); }, members);
  Bytes img = concat(random_bytes(1024, 1), t);
  auto r = walk_all(img);
  auto tars = hits_of(r, "tar");
  REQUIRE(tars.size() == 1);
  CHECK(tars[0].offset == 1024);
  auto gzs = hits_of(r, "gzip");
  REQUIRE(gzs.size() == 1);
  CHECK(gzs[0].offset == 1024 + 512 + 1024 + 512);
}

TEST_CASE("tar: bad checksum, truncation, damage", "[tar]") {
  Bytes t = make_archive([](archive* a) { archive_write_set_format_ustar(a); }, sample_members());
  Bytes bad = t;
  bad[0] ^= 0x02;  // name byte: checksum no longer matches
  auto hb = validate("tar", bad);
  REQUIRE(hb);
  CHECK(hb->confidence == Confidence::Low);
  CHECK(has_diag(*hb, "checksum mismatch"));
  Bytes nonoctal = t;
  nonoctal[148] = 'x';
  CHECK_FALSE(validate("tar", nonoctal));
  Bytes cut(t.begin(), t.begin() + 512 + 4096);  // ends inside the second member's data
  auto hc = validate("tar", cut);
  REQUIRE(hc);
  CHECK(hc->confidence == Confidence::Medium);
  CHECK(has_diag(*hc, "truncated"));
  truncation_sweep("tar", Bytes(t.begin(), t.begin() + 3072), 64);
  flip_sweep("tar", Bytes(t.begin(), t.begin() + 3072), 7);
}

// ---------------------------------------------------------------- cpio --------------------------------------------

TEST_CASE("cpio: newc, odc and binary (libarchive) reach TRAILER!!!", "[cpio]") {
  const auto& members = sample_members();
  struct Case {
    const char* what;
    std::function<void(archive*)> setup;
    const char* kind;
  };
  const Case cases[] = {
      {"newc", [](archive* a) { archive_write_set_format_cpio_newc(a); }, "ASCII cpio archive (SVR4 with no CRC)"},
      {"odc", [](archive* a) { archive_write_set_format_cpio_odc(a); }, "ASCII cpio archive (pre-SVR4 or odc)"},
      {"bin", [](archive* a) { archive_write_set_format_cpio_bin(a); }, "binary cpio archive (little-endian)"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    Bytes b = make_archive(c.setup, members);
    auto h = validate("cpio", b);
    REQUIRE(h);
    CHECK(h->type == "cpio");
    CHECK(h->confidence == Confidence::High);
    CHECK(h->size > 0);
    CHECK(h->size <= b.size());
    CHECK(b.size() - h->size < 512);  // only block padding after the trailer
    CHECK(h->description == std::string(c.kind) + ", 3 entries, first: \"etc/\"");
    truncation_sweep("cpio", b, 13);
    flip_sweep("cpio", b, 11);
  }
}

TEST_CASE("cpio: hand-built crc and big-endian binary variants", "[cpio]") {
  const auto& members = sample_members();
  Bytes newc = make_svr4_cpio(members, false);
  auto hn = validate("cpio", newc);
  REQUIRE(hn);
  CHECK(hn->confidence == Confidence::High);
  CHECK(hn->size == newc.size());

  Bytes crc = make_svr4_cpio(members, true);
  auto hc = validate("cpio", crc);
  REQUIRE(hc);
  CHECK(hc->confidence == Confidence::High);
  CHECK(hc->size == crc.size());
  CHECK(hc->description.rfind("ASCII cpio archive (SVR4 with CRC), 3 entries, first: \"etc/\"", 0) == 0);
  Bytes crc_bad = crc;
  crc_bad[crc.size() - 200] ^= 0x01;  // inside bin/blob.bin's data: the byte sum changes
  auto hcb = validate("cpio", crc_bad);
  REQUIRE(hcb);
  CHECK(hcb->confidence == Confidence::Medium);
  CHECK(has_diag(*hcb, "checksum mismatch"));

  Bytes be = make_bin_be_cpio(members);
  auto hb = validate("cpio", be);
  REQUIRE(hb);
  CHECK(hb->confidence == Confidence::High);
  CHECK(hb->size == be.size());
  CHECK(hb->description.rfind("binary cpio archive (big-endian), 3 entries", 0) == 0);
}

TEST_CASE("cpio: binary magic is strict; walk suppresses member headers", "[cpio]") {
  // The 2-byte magic followed by garbage is rejected or at most Low.
  for (uint32_t seed = 0; seed < 200; ++seed) {
    Bytes g = random_bytes(600, seed);
    g[0] = 0xc7;
    g[1] = 0x71;
    auto h = validate("cpio", g);
    CHECK((!h || h->confidence == Confidence::Low));
  }
  // One plausible entry and then junk: not Medium for binary.
  Bytes be = make_bin_be_cpio({{"only", Bytes(10, 'o'), false}});
  Bytes one(be.begin(), be.begin() + 26 + 6 + 10);
  append(one, random_bytes(100, 3));
  auto h1 = validate("cpio", one);
  REQUIRE(h1);
  CHECK(h1->confidence == Confidence::Low);

  // A newc archive holding a gzip member: one cpio hit, the gzip inside is listed.
  Bytes gz = gzip_compress(Bytes(5000, 'q'));
  Bytes c = make_svr4_cpio({{"init", Bytes(100, 'i'), false}, {"lib.gz", gz, false}}, false);
  auto r = walk_all(concat(random_bytes(512, 9), c));
  auto cp = hits_of(r, "cpio");
  REQUIRE(cp.size() == 1);
  CHECK(cp[0].offset == 512);
  CHECK(cp[0].size == c.size());
  CHECK(hits_of(r, "gzip").size() == 1);
}

// ---------------------------------------------------------------- random ------------------------------------------

TEST_CASE("archives: 4 MiB of random bytes give no High hit", "[random]") {
  Bytes r = random_bytes(4 << 20, 4242);
  const std::vector<std::string> magics = {std::string("PK\x03\x04\x14\x00\x00\x00\x08\x00", 10),
                                           std::string("7z\xbc\xaf\x27\x1c\x00\x04", 8), "070701", "070707",
                                           "\xc7\x71", "\x71\xc7"};
  size_t at = 1000;
  for (int rep = 0; rep < 30; ++rep)
    for (const auto& m : magics) {
      std::copy(m.begin(), m.end(), r.begin() + static_cast<long>(at));
      at += 19997;
    }
  for (size_t t = 0; t < 10; ++t) {  // tar magic at +257
    const std::string u("ustar\x00" "00", 8);
    std::copy(u.begin(), u.end(), r.begin() + static_cast<long>(3000000 + t * 9000 + 257));
  }
  auto res = walk_all(r);
  const std::set<std::string> mine = {"zip", "jar", "7z", "tar", "cpio"};
  for (const auto& h : res.hits)
    if (mine.count(h.type)) {
      INFO(h.type << " at " << h.offset << ": " << h.description);
      CHECK(h.confidence != Confidence::High);
    }
}

// ---------------------------------------------------------------- corpus ------------------------------------------

TEST_CASE("archive corpus: each file found at offset 0 with the right type", "[corpus]") {
  struct Case {
    const char* path;
    const char* type;
    Confidence conf;
    bool whole;  // size == file size
  };
  const Case cases[] = {
      {"binwalk/tests/inputs/zip.bin", "zip", Confidence::High, true},
      {"binwalk/tests/inputs/zip_truncated.bin", "zip", Confidence::Medium, false},
      {"binwalk/tests/inputs/7z.bin", "7z", Confidence::High, true},
      {"binwalk/v2.3.4/testing/tests/input-vectors/dirtraversal.tar", "tar", Confidence::High, false},
      {"libarchive/decoded/test_gcpio_compat_ref.newc", "cpio", Confidence::High, false},
      {"libarchive/decoded/test_gcpio_compat_ref_nosym.newc", "cpio", Confidence::High, false},
      {"libarchive/decoded/test_gcpio_compat_ref.crc", "cpio", Confidence::High, false},
      {"libarchive/decoded/test_gcpio_compat_ref.bin", "cpio", Confidence::High, false},
      {"libarchive/decoded/test_option_t.cpio", "cpio", Confidence::High, false},
      {"libarchive/decoded/test_read_format_cpio_filename_utf8_jp.cpio", "cpio", Confidence::High, false},
      {"libarchive/decoded/test_read_format_cpio_bin_le.cpio", "cpio", Confidence::High, false},
      {"libarchive/decoded/test_read_format_cpio_bin_be.cpio", "cpio", Confidence::High, false},
      {"libarchive/decoded/test_read_format_cpio_symlink_trailer.cpio", "cpio", Confidence::High, false},
      {"fact_extractor/fact_extractor/plugins/unpacking/patool/test/data/test.cpio", "cpio", Confidence::High, false},
      {"fact_extractor/fact_extractor/plugins/unpacking/patool/test/data/test.jar", "jar", Confidence::High, true},
      {"fact_extractor/fact_extractor/plugins/unpacking/sevenz/test/data/test_password.zip", "zip", Confidence::High,
       true},
      {"fact_extractor/fact_extractor/test/data/container/test.zip", "zip", Confidence::High, true},
      {"libarchive/decoded/test_read_format_zip_jar.jar", "jar", Confidence::High, true},
      {"supermicro-ikvm/iKVM__V1.69.21.0x0.jar", "jar", Confidence::High, true},
      {"docker-idrac6/app/lib/avctVMLinux64.jar", "jar", Confidence::High, true},
  };
  for (const auto& c : cases) {
    auto p = corpus_file(c.path);
    if (!p) continue;
    INFO(c.path);
    Bytes b = read_file(*p);
    auto r = walk_all(b);
    auto hits = hits_of(r, c.type);
    REQUIRE(hits.size() >= 1);
    CHECK(hits[0].offset == 0);
    CHECK(hits[0].confidence == c.conf);
    if (c.whole) CHECK(hits[0].size == b.size());
    CHECK(hits[0].size <= b.size());
    CHECK(hits[0].size > 0);
  }
}

TEST_CASE("archive corpus: details", "[corpus]") {
  if (auto p = corpus_file("binwalk/tests/inputs/zip.bin")) {
    auto h = validate("zip", read_file(*p));
    REQUIRE(h);
    CHECK(h->description ==
          "Zip archive data, at least v2.0 to extract, compressed size: 605571, uncompressed size: 612699, "
          "name: CH-sys-48.53.64.67.bin, 1 entries");
  }
  if (auto p = corpus_file("supermicro-ikvm/iKVM__V1.69.21.0x0.jar")) {
    Bytes b = read_file(*p);
    auto r = walk_all(b);
    auto jars = hits_of(r, "jar");
    REQUIRE(jars.size() == 1);
    CHECK(jars[0].size == b.size());
    CHECK(hits_of(r, "zip").empty());
  }
  if (auto p = corpus_file("fact_extractor/fact_extractor/plugins/unpacking/sevenz/test/data/test_password.zip")) {
    auto h = validate("zip", read_file(*p));
    REQUIRE(h);
    CHECK(h->description.find("encrypted") != std::string::npos);
  }
  if (auto p = corpus_file("binwalk/v2.3.4/testing/tests/input-vectors/dirtraversal.tar")) {
    auto r = walk_all(read_file(*p));
    CHECK(hits_of(r, "tar").size() == 1);
  }
  if (auto p = corpus_file("libarchive/decoded/test_read_format_cpio_bin_be.cpio")) {
    auto h = validate("cpio", read_file(*p));
    REQUIRE(h);
    CHECK(h->description == "binary cpio archive (big-endian), 1 entries, first: \"file1111222233334444\"");
  }
  if (auto p = corpus_file("libarchive/decoded/test_gcpio_compat_ref.crc")) {
    auto h = validate("cpio", read_file(*p));
    REQUIRE(h);
    CHECK(h->description.rfind("ASCII cpio archive (SVR4 with CRC)", 0) == 0);
    CHECK(h->diagnostics.empty());
  }
  if (auto p = corpus_file("fact_extractor/fact_extractor/plugins/unpacking/generic_carver/test/data/carving_test_file")) {
    auto r = walk_all(read_file(*p));
    auto z = hits_of(r, "zip");
    auto s = hits_of(r, "7z");
    REQUIRE(z.size() == 1);
    CHECK(z[0].offset == 0x80);
    CHECK(z[0].confidence == Confidence::High);
    REQUIRE(s.size() == 1);
    CHECK(s[0].offset == 0x1AC);
    CHECK(s[0].confidence == Confidence::High);
  }
}

TEST_CASE("archive corpus: FACT fake_zip.zip is not a High zip", "[corpus]") {
  auto p = corpus_file("fact_extractor/fact_extractor/plugins/unpacking/generic_carver/test/data/fake_zip.zip");
  if (!p) return;
  Bytes b = read_file(*p);
  for (const auto& h : walk_all(b).hits) {
    INFO(h.type << " at " << h.offset);
    CHECK(h.confidence != Confidence::High);
  }
  auto h = validate("zip", b);
  REQUIRE(h);
  CHECK(h->confidence == Confidence::Low);
}
