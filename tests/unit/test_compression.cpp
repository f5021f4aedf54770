// Compression validators: gzip, bzip2, xz, legacy lzma, zstd. Fixtures are built in memory with the reference
// libraries; corpus files are checked when present.
#include <bzlib.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <catch2/catch.hpp>
#include <set>
#include <stdexcept>

#include "support.hpp"

using namespace fwtest;
using fwcert::Confidence;

namespace {

// Compressible but not trivial: text lines with counters mixed with some pseudo-random bytes.
Bytes payload(size_t n, uint32_t seed = 7) {
  Bytes noise = random_bytes(n / 8 + 1, seed);
  Bytes out;
  size_t i = 0;
  while (out.size() < n) {
    std::string line = "line " + std::to_string(i) + ": the quick brown fox jumps over the lazy dog\n";
    append(out, line);
    out.push_back(noise[i % noise.size()]);
    ++i;
  }
  out.resize(n);
  return out;
}

// A gzip member with FNAME, built by hand so the header fields are known.
Bytes gzip_with_name(const Bytes& data, const std::string& name, uint32_t mtime, uint8_t xfl = 2, uint8_t os = 3) {
  Bytes g = {0x1f, 0x8b, 0x08, 0x08};
  put_u32le(g, 4, mtime);
  g.push_back(xfl);
  g.push_back(os);
  append(g, name);
  g.push_back(0);
  append(g, raw_deflate(data));
  size_t t = g.size();
  put_u32le(g, t, static_cast<uint32_t>(crc32(0, data.data(), static_cast<uInt>(data.size()))));
  put_u32le(g, t + 4, static_cast<uint32_t>(data.size()));
  return g;
}

Bytes bzip2_compress(const Bytes& data) {
  static char dummy = 0;  // libbz2 rejects a null source pointer even for zero bytes
  char* src = data.empty() ? &dummy : const_cast<char*>(reinterpret_cast<const char*>(data.data()));
  Bytes out(data.size() + data.size() / 100 + 700);
  unsigned len = static_cast<unsigned>(out.size());
  if (BZ2_bzBuffToBuffCompress(reinterpret_cast<char*>(out.data()), &len,
                               src, static_cast<unsigned>(data.size()), 9, 0, 0) != BZ_OK)
    throw std::runtime_error("bzip2");
  out.resize(len);
  return out;
}

Bytes xz_compress(const Bytes& data) {
  Bytes out(lzma_stream_buffer_bound(data.size()));
  size_t pos = 0;
  if (lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, nullptr, data.data(), data.size(), out.data(), &pos,
                              out.size()) != LZMA_OK)
    throw std::runtime_error("xz");
  out.resize(pos);
  return out;
}

// Legacy .lzma (LZMA_Alone): preset 6 gives props 0x5D and an 8 MiB dictionary; the size field is "unknown".
Bytes lzma_alone_compress(const Bytes& data) {
  lzma_options_lzma opt;
  lzma_lzma_preset(&opt, 6);
  lzma_stream s = LZMA_STREAM_INIT;
  if (lzma_alone_encoder(&s, &opt) != LZMA_OK) throw std::runtime_error("lzma");
  Bytes out(data.size() + data.size() / 2 + 4096);
  s.next_in = data.data();
  s.avail_in = data.size();
  s.next_out = out.data();
  s.avail_out = out.size();
  if (lzma_code(&s, LZMA_FINISH) != LZMA_STREAM_END) throw std::runtime_error("lzma");
  out.resize(s.total_out);
  lzma_end(&s);
  return out;
}

Bytes zstd_compress(const Bytes& data, bool checksum) {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 3);
  ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, checksum ? 1 : 0);
  Bytes out(ZSTD_compressBound(data.size()));
  size_t n = ZSTD_compress2(c, out.data(), out.size(), data.data(), data.size());
  ZSTD_freeCCtx(c);
  if (ZSTD_isError(n)) throw std::runtime_error("zstd");
  out.resize(n);
  return out;
}



// Runs validator on every prefix length of data in [from, data.size()) with the given step: never High, no crash.
void truncation_sweep(const std::string& validator, const Bytes& data, size_t from, size_t step) {
  for (size_t n = from; n < data.size(); n += step) {
    Bytes cut(data.begin(), data.begin() + static_cast<long>(n));
    auto h = validate(validator, cut);
    if (h) {
      INFO(validator << " cut at " << n << " of " << data.size());
      CHECK(h->confidence != Confidence::High);
    }
  }
}

}  // namespace

TEST_CASE("gzip: valid stream is High with exact size and binwalk-style description", "[gzip]") {
  Bytes data = payload(50000);
  Bytes g = gzip_with_name(data, "linux.bin", 1594976209);  // 2020-07-17 08:56:49 UTC
  auto h = validate("gzip", concat(g, random_bytes(300, 1)));
  REQUIRE(h);
  CHECK(h->type == "gzip");
  CHECK(h->confidence == Confidence::High);
  CHECK(h->size == g.size());
  CHECK(h->nesting == fwcert::Nesting::Opaque);
  CHECK(h->description.rfind("gzip compressed data, maximum compression, has original file name: \"linux.bin\", "
                             "from Unix, last modified: 2020-07-17 08:56:49",
                             0) == 0);
  CHECK(h->diagnostics.empty());
}

TEST_CASE("gzip: zlib-made stream inside random bytes is found by the walk", "[gzip]") {
  Bytes g = gzip_compress(payload(20000, 3));
  Bytes img = concat(random_bytes(1000, 2), g, random_bytes(1000, 4));
  auto hits = hits_of(walk_all(img), "gzip");
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].offset == 1000);
  CHECK(hits[0].size == g.size());
  CHECK(hits[0].confidence == Confidence::High);
}

TEST_CASE("gzip: two members back to back are two hits", "[gzip]") {
  Bytes a = gzip_compress(payload(3000, 5)), b = gzip_compress(payload(4000, 6));
  auto hits = hits_of(walk_all(concat(a, b)), "gzip");
  REQUIRE(hits.size() == 2);
  CHECK(hits[0].offset == 0);
  CHECK(hits[1].offset == a.size());
  CHECK(hits[1].size == b.size());
}

TEST_CASE("gzip: bad trailer CRC and ISIZE lower confidence with a diagnostic", "[gzip]") {
  Bytes g = gzip_compress(payload(10000));
  Bytes bad = g;
  bad[bad.size() - 8] ^= 0x01;
  auto h = validate("gzip", bad);
  REQUIRE(h);
  CHECK(h->confidence == Confidence::Medium);
  CHECK(has_diag(*h, "CRC32 mismatch"));
  Bytes bad2 = g;
  bad2[bad2.size() - 1] ^= 0x40;
  auto h2 = validate("gzip", bad2);
  REQUIRE(h2);
  CHECK(h2->confidence == Confidence::Medium);
  CHECK(has_diag(*h2, "ISIZE mismatch"));
}

TEST_CASE("gzip: the walk keeps the inflated bytes only when asked, and only for a verified stream", "[gzip]") {
  Bytes data = payload(300000, 9);
  Bytes g = gzip_compress(data);
  Bytes img = concat(random_bytes(100, 1), g, random_bytes(100, 2));
  auto plain = hits_of(walk_all(img), "gzip");
  REQUIRE(plain.size() == 1);
  CHECK(plain[0].decoded_owner == nullptr);
  fwcert::WalkOptions keep;
  keep.keep_decoded = true;
  auto kept = hits_of(fwtest::walker().walk(fwcert::ByteView(img.data(), img.size()), keep), "gzip");
  REQUIRE(kept.size() == 1);
  REQUIRE(kept[0].decoded_owner != nullptr);
  REQUIRE(kept[0].decoded_size == data.size());
  CHECK(std::equal(data.begin(), data.end(), kept[0].decoded));
  // A stream whose trailer CRC is wrong is not handed on (the extractor decodes it and reports).
  Bytes bad = g;
  bad[bad.size() - 8] ^= 0x01;
  auto damaged = hits_of(fwtest::walker().walk(fwcert::ByteView(bad.data(), bad.size()), keep), "gzip");
  REQUIRE(damaged.size() == 1);
  CHECK(damaged[0].confidence == Confidence::Medium);
  CHECK(damaged[0].decoded_owner == nullptr);
}

TEST_CASE("gzip: an FNAME with control bytes is still a gzip stream, shown safely", "[gzip]") {
  // gzip -dc reads it; the certificate inside was missed while such a name rejected the header.
  Bytes data = payload(5000);
  Bytes g = gzip_with_name(data, "cert\x1b[31m\x07.pem", 0);
  auto h = validate("gzip", g);
  REQUIRE(h);
  CHECK(h->confidence == Confidence::High);
  CHECK(h->size == g.size());
  // Escaped by the one display sanitiser (report/text.hpp), so the bytes can be told apart.
  CHECK(h->description.find("has original file name: \"cert\\x1B[31m\\x07.pem\"") != std::string::npos);
  CHECK(h->description.find('\x1b') == std::string::npos);
  CHECK(h->description.find('\x07') == std::string::npos);
}

TEST_CASE("gzip: header checks reject bad flags, method and garbage", "[gzip]") {
  Bytes g = gzip_compress(payload(1000));
  Bytes reserved = g;
  reserved[3] |= 0x20;
  CHECK_FALSE(validate("gzip", reserved));
  Bytes method = g;
  method[2] = 0x07;
  CHECK_FALSE(validate("gzip", method));
  Bytes garbage = {0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 3};
  append(garbage, random_bytes(2000, 9));
  auto h = validate("gzip", garbage);
  CHECK((!h || h->confidence != Confidence::High));
}

TEST_CASE("gzip: truncation and bit flips never crash and never stay High", "[gzip]") {
  Bytes data = payload(8000, 11);
  Bytes g = gzip_compress(data);
  truncation_sweep("gzip", g, 0, 7);
  // Flip bits in the deflate data (not its last byte, whose padding bits are unused) and in the trailer.
  for (size_t i = 10; i + 1 < g.size(); i += 3) {
    if (i == g.size() - 9) continue;
    Bytes f = g;
    f[i] ^= static_cast<uint8_t>(1u << (i % 8));
    auto h = validate("gzip", f);
    if (h) {
      INFO("flip at " << i);
      CHECK(h->confidence != Confidence::High);
    }
  }
  // A truncated stream that decoded a lot is Medium with a diagnostic.
  Bytes big = gzip_compress(random_bytes(300000, 12));
  Bytes cut(big.begin(), big.begin() + 200000);
  auto h = validate("gzip", cut);
  REQUIRE(h);
  CHECK(h->confidence == Confidence::Medium);
  CHECK(has_diag(*h, "truncated"));
}

TEST_CASE("gzip: output cap stops decoding with a diagnostic", "[gzip][slow]") {
  // 300 MiB of zeros deflate to ~300 KB; the validator must stop at its cap and leave the size unknown.
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  Bytes zeros(1 << 20, 0), out(1 << 20);
  Bytes g;
  for (int i = 0; i < 300; ++i) {
    zs.next_in = zeros.data();
    zs.avail_in = static_cast<uInt>(zeros.size());
    int flush = i == 299 ? Z_FINISH : Z_NO_FLUSH;
    do {
      zs.next_out = out.data();
      zs.avail_out = static_cast<uInt>(out.size());
      deflate(&zs, flush);
      g.insert(g.end(), out.begin(), out.begin() + static_cast<long>(out.size() - zs.avail_out));
    } while (zs.avail_out == 0);
  }
  deflateEnd(&zs);
  auto h = validate("gzip", g);
  REQUIRE(h);
  CHECK(h->confidence == Confidence::Medium);
  CHECK(h->size == 0);
  CHECK(has_diag(*h, "cap"));
}

TEST_CASE("bzip2: valid, empty, truncated and damaged streams", "[bzip2]") {
  Bytes data = payload(120000, 21);
  Bytes b = bzip2_compress(data);
  auto h = validate("bzip2", concat(b, random_bytes(500, 22)));
  REQUIRE(h);
  CHECK(h->type == "bzip2");
  CHECK(h->confidence == Confidence::High);
  CHECK(h->size == b.size());
  CHECK(h->description.rfind("bzip2 compressed data, block size = 900k", 0) == 0);

  Bytes empty = bzip2_compress({});
  REQUIRE(empty.size() == 14);
  auto he = validate("bzip2", empty);
  REQUIRE(he);
  CHECK(he->confidence == Confidence::High);
  CHECK(he->size == 14);

  truncation_sweep("bzip2", b, 0, 97);
  Bytes flipped = b;
  flipped[b.size() / 2] ^= 0x10;
  auto hf = validate("bzip2", flipped);
  CHECK((!hf || hf->confidence != Confidence::High));
  Bytes not_block = b;
  not_block[5] ^= 0xFF;
  CHECK_FALSE(validate("bzip2", not_block));
}

TEST_CASE("xz: valid stream, header CRC, truncation", "[xz]") {
  Bytes data = payload(70000, 31);
  Bytes x = xz_compress(data);
  auto h = validate("xz", concat(x, random_bytes(64, 32)));
  REQUIRE(h);
  CHECK(h->type == "xz");
  CHECK(h->confidence == Confidence::High);
  CHECK(h->size == x.size());
  CHECK(h->description.find("CRC64") != std::string::npos);

  Bytes bad = x;
  bad[9] ^= 0x01;  // header CRC32
  auto hb = validate("xz", bad);
  REQUIRE(hb);
  CHECK(hb->confidence == Confidence::Low);
  CHECK(has_diag(*hb, "CRC32 mismatch"));

  truncation_sweep("xz", x, 0, 53);
  for (size_t i = 12; i < x.size(); i += 41) {
    Bytes f = x;
    f[i] ^= 0x08;
    auto hf = validate("xz", f);
    if (hf) {
      INFO("flip at " << i);
      CHECK(hf->confidence != Confidence::High);
    }
  }
}

TEST_CASE("lzma: legacy .lzma stream is High; weak magic is checked strictly", "[lzma]") {
  Bytes data = payload(40000, 41);
  Bytes l = lzma_alone_compress(data);
  REQUIRE(l[0] == 0x5d);
  auto h = validate("lzma", concat(l, random_bytes(100, 42)));
  REQUIRE(h);
  CHECK(h->type == "lzma");
  CHECK(h->confidence == Confidence::High);
  CHECK(h->size == l.size());
  CHECK(h->description.find("dictionary size: 8388608") != std::string::npos);

  auto hits = hits_of(walk_all(concat(random_bytes(333, 43), l)), "lzma");
  REQUIRE(hits.size() == 1);
  CHECK(hits[0].offset == 333);

  // A header followed by random bytes is not LZMA.
  Bytes fake(l.begin(), l.begin() + 14);
  append(fake, random_bytes(5000, 44));
  CHECK_FALSE(validate("lzma", fake));
  // Bad dictionary size, bad properties, first range-coder byte not 0.
  Bytes d = l;
  d[1] = 0x01;
  CHECK_FALSE(validate("lzma", d));
  Bytes p = l;
  p[0] = 0xE1;
  CHECK_FALSE(validate("lzma", p));
  Bytes r = l;
  r[13] = 0x01;
  CHECK_FALSE(validate("lzma", r));
  truncation_sweep("lzma", l, 0, 37);
}

TEST_CASE("zstd: frame with checksum, truncation, damage", "[zstd]") {
  Bytes data = payload(90000, 51);
  Bytes z = zstd_compress(data, true);
  auto h = validate("zstd", concat(z, random_bytes(77, 52)));
  REQUIRE(h);
  CHECK(h->type == "zstd");
  CHECK(h->confidence == Confidence::High);
  CHECK(h->size == z.size());
  CHECK(h->description.find("has checksum") != std::string::npos);

  Bytes plain = zstd_compress(data, false);
  auto hp = validate("zstd", plain);
  REQUIRE(hp);
  CHECK(hp->confidence == Confidence::High);
  CHECK(hp->size == plain.size());

  Bytes reserved = z;
  reserved[4] |= 0x08;
  CHECK_FALSE(validate("zstd", reserved));
  truncation_sweep("zstd", z, 0, 61);
  for (size_t i = 8; i < z.size(); i += 29) {
    Bytes f = z;
    f[i] ^= 0x04;
    auto hf = validate("zstd", f);
    if (hf) {
      INFO("flip at " << i);
      CHECK(hf->confidence != Confidence::High);
    }
  }
}

TEST_CASE("compression: 4 MiB of random bytes give no High hit", "[random]") {
  Bytes r = random_bytes(4 << 20, 20240601);
  // Plant each magic a few times so the validators actually run on random continuations.
  const std::vector<Bytes> magics = {{0x1f, 0x8b, 0x08, 0x00},
                                     {'B', 'Z', 'h', '9', 0x31, 0x41, 0x59, 0x26, 0x53, 0x59},
                                     {0xfd, '7', 'z', 'X', 'Z', 0x00, 0x00, 0x04},
                                     {0x5d, 0x00, 0x00, 0x80, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00},
                                     {0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58}};
  size_t at = 4096;
  for (int rep = 0; rep < 20; ++rep)
    for (const auto& m : magics) {
      std::copy(m.begin(), m.end(), r.begin() + static_cast<long>(at));
      at += 20011;
    }
  auto res = walk_all(r);
  const std::set<std::string> mine = {"gzip", "bzip2", "xz", "lzma", "zstd"};
  for (const auto& h : res.hits)
    if (mine.count(h.type)) {
      INFO(h.type << " at " << h.offset << ": " << h.description);
      CHECK(h.confidence != Confidence::High);
    }
}

TEST_CASE("compression corpus: real streams at offset 0", "[corpus]") {
  struct Case {
    const char* path;
    const char* type;
    uint64_t size;  // 0 = the whole file
  };
  const Case cases[] = {
      {"binwalk/tests/inputs/gzip.bin", "gzip", 0},
      // The bzip2 stream ends at 8125 (as Python's bz2 module also finds); other data follows it.
      {"binwalk/tests/inputs/bzip2.bin", "bzip2", 8125},
      {"binwalk/v2.3.4/testing/tests/input-vectors/foobar.lzma", "lzma", 0},
      {"fact_extractor/fact_extractor/plugins/unpacking/sevenz/test/data/test.gz", "gzip", 0},
      {"libarchive/decoded/test_extract.cpio.gz", "gzip", 0},
  };
  for (const auto& c : cases) {
    auto p = corpus_file(c.path);
    if (!p) continue;
    Bytes b = read_file(*p);
    auto hits = hits_of(walk_all(b), c.type);
    INFO(c.path);
    REQUIRE(hits.size() >= 1);
    CHECK(hits[0].offset == 0);
    CHECK(hits[0].confidence == Confidence::High);
    CHECK(hits[0].size == (c.size ? c.size : b.size()));
  }
  if (auto p = corpus_file("binwalk/tests/inputs/gzip.bin")) {
    auto h = validate("gzip", read_file(*p));
    REQUIRE(h);
    CHECK(h->description.find("has original file name: \"lsb-release\"") != std::string::npos);
  }
}

TEST_CASE("compression corpus: FACT fake_gz.gz is not a High gzip", "[corpus]") {
  auto p = corpus_file("fact_extractor/fact_extractor/plugins/unpacking/generic_carver/test/data/fake_gz.gz");
  if (!p) return;
  Bytes b = read_file(*p);
  for (const auto& h : walk_all(b).hits) {
    INFO(h.type << " at " << h.offset);
    CHECK(h.confidence != Confidence::High);
  }
  auto h = validate("gzip", b);
  CHECK((!h || h->confidence != Confidence::High));
}
