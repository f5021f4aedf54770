// The extraction tree: provenance, recursion, limits, and the safe writer.
#include <lzo/lzo1x.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "fwcert/extract/readers.hpp"
#include "fwcert/extract/tree.hpp"
#include "fwcert/extract/writer.hpp"
#include "support.hpp"

using namespace fwtest;
namespace fs = std::filesystem;
using fwcert::ByteView;

namespace {

fwcert::Tree extract(const Bytes& data, const std::string& name, fwcert::ExtractOptions o = {}) {
  return fwcert::extract_tree(ByteView(data.data(), data.size()), name, walker(), o);
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "fwcert-test-XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string file_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Every regular file and link below dir, as paths relative to it.
std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> out;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it)
    out.push_back(it->path().lexically_relative(dir).string());  // lexical: never resolves the links it lists
  return out;
}

}  // namespace

TEST_CASE("tree: the sample's stunnel files and the iKVM jar's res/client.crt are nodes with provenance") {
  for (const char* name : {"bmc-sample.bin", "bmc-sample-be.bin"}) {
    INFO(name);
    Bytes img = read_file(source_dir() + "/samples/" + name);
    auto t = extract(img, name);
    const std::string root = std::string(name) + "!cramfs@0x80000:";
    for (const char* f : {"/etc/stunnel/stunnel.conf", "/etc/stunnel/server.crt", "/etc/stunnel/server.key",
                          "/etc/stunnel/client.crt"}) {
      const fwcert::Node* n = t.find(root + f);
      REQUIRE(n);
      CHECK(n->kind == fwcert::EntryKind::File);
      CHECK(n->size > 0);
      CHECK(n->sha256.size() == 64);
    }
    const fwcert::Node* crt = t.find(root + "/etc/stunnel/client.crt");
    Bytes expected = read_file(source_dir() + "/samples/certs/client.crt");
    CHECK(crt->sha256 == fwcert::sha256_hex(ByteView(expected.data(), expected.size())));
    const fwcert::Node* jar = t.find(std::string(name) + "!cramfs@0x2E0000:/iKVM__V1.69.38.0x0.jar!zip:res/client.crt");
    REQUIRE(jar);
    CHECK(jar->sha256 == crt->sha256);  // the same certificate in two places
    // The key material found inside is carved with its own location.
    CHECK(t.find(root + "/etc/stunnel/client.crt!pem") != nullptr);
    // The kernel payload is decoded under the uImage.
    const fwcert::Node* kernel = t.find(std::string(name) + "!uimage@0x280000!gzip");
    REQUIRE(kernel);
    CHECK(kernel->size == 524288);
    CHECK(kernel->role == fwcert::NodeRole::Stream);
  }
}

TEST_CASE("tree: a compressed stream inside a file is decoded and walked again (pass-through pack.gz)") {
  Bytes img = read_file(source_dir() + "/samples/bmc-sample.bin");
  auto t = extract(img, "s.bin");
  auto hits = t.find_suffix(".jar.pack.gz!gzip!zip:res/client.crt");
  REQUIRE(hits.size() == 1);
  CHECK(hits[0]->depth >= 3);
}

TEST_CASE("tree: a PEM inside a decompressed kernel gets a carved location with its offset") {
  Bytes kernel = random_bytes(0x90000, 11);
  std::string pem = "-----BEGIN CERTIFICATE-----\n";
  // Use the sample's real certificate so the PEM validates.
  Bytes cert = read_file(source_dir() + "/samples/certs/client.crt");
  std::copy(cert.begin(), cert.end(), kernel.begin() + 0x7A120);
  REQUIRE(kernel.size() > 0x7A120 + cert.size());
  Bytes img = make_uimage(gzip_compress(kernel));
  Bytes flash(0x1400000, 0xff);
  std::copy(img.begin(), img.end(), flash.begin() + 0x1000);
  auto t = extract(flash, "x10.bin");
  CHECK(t.find("x10.bin!uimage@0x1000!gzip!pem@0x7A120") != nullptr);
}

TEST_CASE("tree: limits stop a decompression bomb with a diagnostic and keep the rest") {
  Bytes zeros(64u << 20, 0);
  Bytes bomb = gzip_compress(zeros);
  Bytes img = make_cramfs({{"a.txt", Bytes(100, 'a')}}, false);
  append(img, bomb);
  fwcert::ExtractOptions o;
  o.limits.max_total_bytes = 8u << 20;
  auto t = extract(img, "bomb.bin", o);
  bool limited = false;
  for (const auto& d : t.diagnostics) limited |= d.message.find("limit") != std::string::npos;
  CHECK(limited);
  CHECK(t.extracted_bytes <= (8u << 20));
  CHECK(t.find("bomb.bin!cramfs:/a.txt") == nullptr);  // the CramFS does not cover the whole input...
  CHECK(t.find_suffix(":/a.txt").size() == 1);          // ...but its file is still there
}

TEST_CASE("tree: nesting deeper than the depth limit stops with a diagnostic") {
  Bytes data(1000, 'x');
  for (int i = 0; i < 12; ++i) data = gzip_compress(data);
  fwcert::ExtractOptions o;
  o.limits.max_depth = 4;
  auto t = extract(data, "deep.gz", o);
  bool depth_diag = false;
  for (const auto& n : t.nodes) {
    CHECK(n.depth <= 5);
    for (const auto& d : n.diagnostics) depth_diag |= d.message.find("depth limit") != std::string::npos;
  }
  CHECK(depth_diag);
}

TEST_CASE("tree: truncated and bit-flipped samples never crash") {
  Bytes img = read_file(source_dir() + "/samples/bmc-sample.bin");
  for (size_t n = 0x80000; n < 0x2E4000; n += 0x7777) {
    Bytes prefix(img.begin(), img.begin() + static_cast<long>(n));
    auto t = extract(prefix, "cut.bin");
    CHECK_FALSE(t.nodes.empty());
  }
  std::mt19937 rng(5);
  for (int round = 0; round < 20; ++round) {
    Bytes b = img;
    for (int k = 0; k < 50; ++k) b[0x80000 + rng() % 0x264000] ^= static_cast<uint8_t>(1u << (rng() % 8));
    auto t = extract(b, "flip.bin");
    CHECK_FALSE(t.nodes.empty());
  }
}

TEST_CASE("writer: the sample is written with a manifest, all inside the output folder") {
  Bytes img = read_file(source_dir() + "/samples/bmc-sample.bin");
  auto t = extract(img, "bmc-sample.bin");
  TempDir tmp;
  fs::path out = tmp.path / "out";
  auto rep = fwcert::write_tree(t, out.string());
  REQUIRE(rep);
  CHECK(file_text(out / "cramfs@0x80000/etc/stunnel/client.crt") ==
        file_text(source_dir() + "/samples/certs/client.crt"));
  CHECK(fs::exists(out / "cramfs@0x2E0000/iKVM__V1.69.38.0x0.jar.extracted/zip/res/client.crt"));
  CHECK(fs::is_symlink(out / "cramfs@0x80000/bin/sh"));
  CHECK(fs::read_symlink(out / "cramfs@0x80000/bin/sh") == "busybox");
  auto manifest = nlohmann::json::parse(file_text(out / "manifest.json"));
  CHECK(manifest["input"] == "bmc-sample.bin");
  CHECK(manifest["nodes"].size() == t.nodes.size());
  bool found = false;
  for (const auto& n : manifest["nodes"])
    if (n["location"] == "bmc-sample.bin!cramfs@0x80000:/etc/stunnel/client.crt") {
      found = true;
      CHECK(n["sha256"].get<std::string>().size() == 64);
      CHECK(n["path"] == "cramfs@0x80000/etc/stunnel/client.crt");
    }
  CHECK(found);
  for (const auto& rel : listing(out)) CHECK(rel.rfind("..", 0) != 0);
  // A second run into the same folder is refused without --force.
  auto again = fwcert::write_tree(t, out.string());
  REQUIRE_FALSE(again);
  CHECK(again.error().message.find("not empty") != std::string::npos);
  CHECK(fwcert::write_tree(t, out.string(), fwcert::WriteOptions{true}));
}

TEST_CASE("writer: hostile member names and symlink escapes stay inside the output folder") {
  Bytes tar = make_tar({{"../../escape.txt", "evil", '0', ""},
                        {"/abs/escape2.txt", "evil", '0', ""},
                        {"link", "", '2', "/tmp"},
                        {"link/escape3.txt", "evil", '0', ""},
                        {"up", "", '2', "../../.."},
                        {"up/escape4.txt", "evil", '0', ""},
                        {"ok/fine.txt", "fine", '0', ""}});
  auto t = extract(tar, "hostile.tar");
  TempDir tmp;
  fs::path out = tmp.path / "a" / "b" / "out";
  auto rep = fwcert::write_tree(t, out.string());
  REQUIRE(rep);
  // Nothing outside: the temp dir holds only a/b/out.
  for (const auto& rel : listing(tmp.path)) CHECK((rel.rfind("a/b/out", 0) == 0 || std::string("a/b/out").rfind(rel, 0) == 0));
  CHECK_FALSE(fs::exists("/tmp/escape3.txt"));
  CHECK(file_text(out / "tar/ok/fine.txt") == "fine");
  CHECK(fs::exists(out / "tar/__dotdot__/__dotdot__/escape.txt"));
  CHECK(fs::exists(out / "tar/abs/escape2.txt"));
  CHECK(fs::is_symlink(out / "tar/link"));
  bool refused = false;
  for (const auto& d : rep->diagnostics) refused |= d.message.find("link") != std::string::npos;
  CHECK(refused);
}

TEST_CASE("corpus: binwalk's dirtraversal.tar cannot write outside the output folder") {
  auto p = corpus_file("binwalk/v2.3.4/testing/tests/input-vectors/dirtraversal.tar");
  if (!p) return;
  Bytes tar = read_file(*p);
  auto t = extract(tar, "dirtraversal.tar");
  TempDir tmp;
  fs::path out = tmp.path / "out";
  auto rep = fwcert::write_tree(t, out.string());
  REQUIRE(rep);
  for (const auto& rel : listing(tmp.path)) CHECK(rel.rfind("out", 0) == 0);  // the folder and what is in it
  CHECK(rep->files > 0);
}

TEST_CASE("corpus: the recursive gzip bomb terminates within the limits") {
  auto p = corpus_file("libarchive/decoded/test_read_filter_gzip_recursive.gz");
  if (!p) return;
  Bytes data = read_file(*p);
  fwcert::ExtractOptions o;
  o.limits.max_total_bytes = 256u << 20;
  auto t = extract(data, "recursive.gz", o);
  CHECK(t.extracted_bytes <= (256u << 20));
  for (const auto& n : t.nodes) CHECK(n.depth <= o.limits.max_depth + 1);
}

TEST_CASE("tree: a CramFS with an overwritten superblock is recovered where the [img] index says it is") {
  for (const char* name : {"bmc-sample.bin", "bmc-sample-be.bin"}) {
    INFO(name);
    Bytes img = read_file(source_dir() + "/samples/" + name);
    std::fill(img.begin() + 0x80000, img.begin() + 0x80000 + 64, 0xff);  // the vcutil#68 case: no superblock
    auto walked = walk_all(img);
    // Invisible to the superblock's signature; the root directory inode at +64 gives it away (the finder's hit).
    for (const auto& h : walked.hits)
      if (h.offset == 0x80000) CHECK(h.description.find("CramFS filesystem without superblock") == 0);
    auto t = extract(img, "damaged.bin");
    const fwcert::Node* box = t.find("damaged.bin!cramfs@0x80000");
    REQUIRE(box);
    CHECK(box->recovered);
    const fwcert::Node* crt = t.find("damaged.bin!cramfs@0x80000:/etc/stunnel/client.crt");
    REQUIRE(crt);
    Bytes expected = read_file(source_dir() + "/samples/certs/client.crt");
    CHECK(crt->sha256 == fwcert::sha256_hex(ByteView(expected.data(), expected.size())));
    // The boot loader (image 1) is never searched for a CramFS root directory by the index's rule, even when it
    // holds one (here its root inode is gone too, so the walk's finder has nothing to go by either); the web fs
    // (image 4) is, when it is damaged too.
    Bytes planted = make_cramfs({{"x.crt", Bytes(500, 'x')}, {"y.key", Bytes(600, 'y')}}, name[11] == '-');
    std::fill(planted.begin(), planted.begin() + 76, 0x00);
    std::copy(planted.begin(), planted.end(), img.begin());
    std::fill(img.begin() + 0x2E0000, img.begin() + 0x2E0000 + 64, 0x00);
    auto t2 = extract(img, "damaged2.bin");
    REQUIRE(t2.find("damaged2.bin!cramfs@0x2E0000"));
    CHECK(t2.find("damaged2.bin!cramfs@0x2E0000")->recovered);
    CHECK(t2.find("damaged2.bin!cramfs@0x80000")->recovered);
    CHECK(!t2.find("damaged2.bin!cramfs@0x0"));
    CHECK(t2.find_suffix(":/x.crt").empty());
    fwcert::ExtractOptions o;  // where the user says so, it is
    o.cramfs_at = {0x0};
    CHECK(!extract(img, "damaged3.bin", o).find_suffix("!cramfs@0x0:/x.crt").empty());
  }
}

TEST_CASE("tree: --cramfs-at recovers a damaged CramFS that no index points to") {
  Bytes fs = make_cramfs({{"client.crt", Bytes(700, 'c')}, {"server.key", Bytes(900, 'k')}}, false);
  Bytes img(0x1000, 0xff);
  append(img, fs);
  // The superblock and the root inode: nothing left for the walk's finder of headerless images.
  std::fill(img.begin() + 0x1000, img.begin() + 0x1000 + 76, 0x00);
  CHECK(extract(img, "d.bin").find_suffix(":/client.crt").empty());
  fwcert::ExtractOptions o;
  o.cramfs_at = {0x1000};
  auto t = extract(img, "d.bin", o);
  const fwcert::Node* n = t.find("d.bin!cramfs@0x1000:/client.crt");
  REQUIRE(n);
  CHECK(n->size == 700);
  CHECK(t.find("d.bin!cramfs@0x1000")->recovered);
}

namespace {
std::string md5_hex(ByteView v) {
  unsigned char md[16];
  unsigned int len = 0;
  EVP_Digest(v.data(), v.size(), md, &len, EVP_md5(), nullptr);
  std::string out;
  char b[3];
  for (unsigned i = 0; i < len; ++i) {
    std::snprintf(b, sizeof b, "%02x", md[i]);
    out += b;
  }
  return out;
}
}  // namespace

TEST_CASE("tree: uImage payloads: multi-file parts are split, compressed payloads decoded") {
  Bytes part_a = gzip_compress(Bytes(3000, 'a'));
  Bytes part_b(7, 'b');
  Bytes payload;
  put_u32be(payload, 0, static_cast<uint32_t>(part_a.size()));
  put_u32be(payload, 4, 7);
  put_u32be(payload, 8, 0);
  append(payload, part_a);
  while (payload.size() % 4) payload.push_back(0);
  append(payload, part_b);
  auto t = extract(make_uimage(payload, 4, 0, "multi"), "multi.img");
  const fwcert::Node* a = t.find("multi.img!uimage:part-0");
  const fwcert::Node* b = t.find("multi.img!uimage:part-1");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->size == part_a.size());
  CHECK(b->size == 7);
  const fwcert::Node* a_plain = t.find("multi.img!uimage:part-0!gzip");
  REQUIRE(a_plain);
  CHECK(a_plain->size == 3000);
  for (uint8_t comp : {uint8_t{1}, uint8_t{3}, uint8_t{0}}) {
    INFO("compression " << int(comp));
    Bytes kernel(5000, 'k');
    Bytes body = comp == 1 ? gzip_compress(kernel) : kernel;
    if (comp == 3) continue;  // lzma payloads are covered by the FACT corpus image below
    auto tk = extract(make_uimage(body, 2, comp), "k.img");
    if (comp == 1) {
      const fwcert::Node* k = tk.find("k.img!uimage!gzip");
      REQUIRE(k);
      CHECK(k->size == 5000);
    } else {
      CHECK(tk.find("k.img!uimage") != nullptr);
    }
  }
}

TEST_CASE("tree: a gzip'd uImage payload the walk inflated is not inflated again, and reads the same") {
  Bytes kernel = random_bytes(200000, 3);
  for (size_t i = 0; i < kernel.size(); i += 2) kernel[i] = 'k';
  Bytes gz = gzip_compress(kernel);
  Bytes padded = gz;
  padded.resize(gz.size() + 13, 0);  // the payload runs past the gzip member
  for (const Bytes* body : {&gz, &padded}) {
    auto t = extract(make_uimage(*body, 2, 1), "k.img");
    const fwcert::Node* k = t.find("k.img!uimage!gzip");
    REQUIRE(k);
    REQUIRE(k->size == kernel.size());
    CHECK(std::equal(kernel.begin(), kernel.end(), k->content.data()));
    // The same bytes as the walk's own output: shared, not decoded twice.
    const fwcert::Node* box = t.find("k.img!uimage");
    REQUIRE(box);
    const fwcert::Node& root = t.root();
    auto gz_hit = std::find_if(root.hits.begin(), root.hits.end(), [](const fwcert::Hit& h) { return h.type == "gzip"; });
    REQUIRE(gz_hit != root.hits.end());
    CHECK(gz_hit->decoded == k->content.data());
    // read_stream says the same about trailing bytes.
    fwcert::Budget budget;
    auto direct = fwcert::read_stream(ByteView(body->data(), body->size(), 64), "gzip", budget);
    REQUIRE(direct.entries.size() == 1);
    REQUIRE(k->diagnostics.size() == direct.entries[0].diagnostics.size());
    for (size_t i = 0; i < k->diagnostics.size(); ++i) {
      CHECK(k->diagnostics[i].message == direct.entries[0].diagnostics[i].message);
      CHECK(k->diagnostics[i].offset == direct.entries[0].diagnostics[i].offset);
    }
    CHECK(k->diagnostics.size() == (body == &padded ? 1u : 0u));
  }
  // Under a total limit smaller than the kernel, the stream is decoded again and cut, with the limit named.
  fwcert::ExtractOptions o;
  o.limits.max_total_bytes = 100000;
  auto limited = extract(make_uimage(gz, 2, 1), "k.img", o);
  const fwcert::Node* k = limited.find("k.img!uimage!gzip");
  REQUIRE(k);
  CHECK(k->size == 100000);
  CHECK(!k->complete);
  CHECK(!limited.diagnostics.empty());
}

TEST_CASE("corpus: FIT payloads kernel, fdt and rootfs are extracted, honouring compression") {
  auto p = corpus_file("fact_extractor/fact_extractor/plugins/unpacking/uboot/test/data/fit.itb");
  if (!p) return;
  Bytes data = read_file(*p);
  auto t = extract(data, "fit.itb");
  const fwcert::Node* box = t.find("fit.itb!fit");
  REQUIRE(box);
  std::vector<std::string> names;
  for (size_t c : box->children) names.push_back(t.nodes[c].member_path);
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"fdt", "kernel", "rootfs"});
  // rootfs is gzip-compressed in the FIT and holds a squashfs.
  CHECK(t.find("fit.itb!fit:rootfs!squashfs") != nullptr);
}

TEST_CASE("corpus: a uImage with trailing data keeps it as its own node") {
  auto p = corpus_file("fact_extractor/fact_extractor/plugins/unpacking/uboot/test/data/uboot.image_with_header");
  if (!p) return;
  Bytes data = read_file(*p);
  auto t = extract(data, "u.img");
  auto trailing = t.find_suffix("!trailing@0x8031");
  REQUIRE(trailing.size() == 1);
  CHECK(trailing[0]->size == data.size() - 0x8031);
  CHECK(t.find("u.img!uimage@0x0!lzma") != nullptr);
}

TEST_CASE("corpus: /bin/Sofia inside the GM8135S camera image is byte-exact") {
  auto p = corpus_file("GM8135S-IPC-modified-firmware/user_web.cramfs.img");
  if (!p) return;
  Bytes data = read_file(*p);
  auto t = extract(data, "user_web.cramfs.img");
  const fwcert::Node* sofia = t.find("user_web.cramfs.img!cramfs@0x40:/bin/Sofia");
  REQUIRE(sofia);
  CHECK(sofia->size == 5414256);
  CHECK(md5_hex(sofia->content) == "f6802a5fc95f309ad8e5ce96dcd8da13");
}

namespace {
// An lzop container as lzop 1.04 writes it (version 0x1040: version_needed and level present), with one LZO1X block,
// one stored block and the end marker.
Bytes make_lzop(const Bytes& compressible, const Bytes& stored) {
  Bytes out = {0x89, 'L', 'Z', 'O', 0x00, '\r', '\n', 0x1a, '\n'};
  auto u16 = [&](uint16_t v) { put_u16be(out, out.size(), v); };
  auto u32 = [&](uint32_t v) { put_u32be(out, out.size(), v); };
  u16(0x1040);
  u16(0x2080);
  u16(0x0940);
  out.push_back(1);  // method: LZO1X-1
  out.push_back(5);  // level
  u32(0);            // flags: no checksums
  u32(0100644);      // mode
  u32(0);            // mtime low
  u32(0);            // mtime high
  out.push_back(0);  // no name
  u32(0);            // header checksum (not checked)
  std::vector<uint8_t> wrk(LZO1X_1_MEM_COMPRESS);
  Bytes packed(compressible.size() + compressible.size() / 16 + 64 + 3);
  lzo_uint packed_len = 0;
  REQUIRE(lzo_init() == LZO_E_OK);
  REQUIRE(lzo1x_1_compress(compressible.data(), compressible.size(), packed.data(), &packed_len, wrk.data()) == LZO_E_OK);
  REQUIRE(packed_len < compressible.size());
  u32(static_cast<uint32_t>(compressible.size()));
  u32(static_cast<uint32_t>(packed_len));
  out.insert(out.end(), packed.begin(), packed.begin() + static_cast<long>(packed_len));
  u32(static_cast<uint32_t>(stored.size()));
  u32(static_cast<uint32_t>(stored.size()));
  append(out, stored);
  u32(0);
  return out;
}
}  // namespace

TEST_CASE("tree: uImage payloads compressed with lzo (an lzop container) are decoded") {
  Bytes text;
  for (int i = 0; i < 4000; ++i) append(text, std::string("Linux version 5.4 kernel line ") + std::to_string(i) + "\n");
  Bytes tail = random_bytes(3000, 21);
  Bytes img = make_uimage(make_lzop(text, tail), 2, 4, "lzo kernel");
  auto t = extract(img, "k.img");
  const fwcert::Node* k = t.find("k.img!uimage!lzo");
  REQUIRE(k);
  CHECK(k->size == text.size() + tail.size());
  CHECK(std::equal(text.begin(), text.end(), k->content.data()));
  CHECK(k->complete);
  // Truncated: what was decoded is kept, marked incomplete, with a diagnostic.
  Bytes lz = make_lzop(text, tail);
  Bytes cut(lz.begin(), lz.end() - 100);
  auto t2 = extract(make_uimage(cut, 2, 4, "cut"), "c.img");
  const fwcert::Node* c = t2.find("c.img!uimage!lzo");
  REQUIRE(c);
  CHECK_FALSE(c->complete);
  CHECK_FALSE(c->diagnostics.empty());
}

TEST_CASE("tree: an lzo payload written by the real lzop tool is decoded (when lzop is installed)") {
  if (std::system("command -v lzop >/dev/null 2>&1") != 0) {
    WARN("lzop absent: skipped");
    return;
  }
  TempDir tmp;
  Bytes text;
  for (int i = 0; i < 50000; ++i) append(text, std::string("line ") + std::to_string(i * 7919 % 10007) + "\n");
  {
    std::ofstream(tmp.path / "k", std::ios::binary).write(reinterpret_cast<const char*>(text.data()),
                                                           static_cast<std::streamsize>(text.size()));
  }
  const std::string cmd = "lzop -q -c '" + (tmp.path / "k").string() + "' > '" + (tmp.path / "k.lzo").string() + "'";
  REQUIRE(std::system(cmd.c_str()) == 0);
  Bytes lz = read_file((tmp.path / "k.lzo").string());
  auto t = extract(make_uimage(lz, 2, 4, "lzop"), "l.img");
  const fwcert::Node* k = t.find("l.img!uimage!lzo");
  REQUIRE(k);
  CHECK(k->complete);
  REQUIRE(k->size == text.size());
  CHECK(std::equal(text.begin(), text.end(), k->content.data()));
}

TEST_CASE("tree: damaged lzo payloads never crash and never claim to be complete when cut") {
  Bytes text;
  for (int i = 0; i < 3000; ++i) append(text, std::string("payload ") + std::to_string(i) + "\n");
  Bytes lz = make_lzop(text, random_bytes(500, 3));
  std::mt19937 rng(17);
  for (int round = 0; round < 300; ++round) {
    Bytes b = lz;
    for (int k = 0; k < 3; ++k) b[rng() % b.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
    auto t = extract(make_uimage(b, 2, 4, "flip"), "f.img");
    CHECK_FALSE(t.nodes.empty());
  }
  for (size_t n = 0; n < lz.size(); n += 37) {
    auto t = extract(make_uimage(Bytes(lz.begin(), lz.begin() + static_cast<long>(n)), 2, 4, "cut"), "c.img");
    if (const fwcert::Node* s = t.find("c.img!uimage!lzo")) CHECK_FALSE(s->complete);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Containers of a large node are read ahead on other cores while it is walked; the tree must not change.

namespace {

void check_same_trees(const fwcert::Tree& a, const fwcert::Tree& b) {
  REQUIRE(a.nodes.size() == b.nodes.size());
  CHECK(a.extracted_bytes == b.extracted_bytes);
  REQUIRE(a.diagnostics.size() == b.diagnostics.size());
  for (size_t i = 0; i < a.diagnostics.size(); ++i) CHECK(a.diagnostics[i].message == b.diagnostics[i].message);
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    const fwcert::Node& x = a.nodes[i];
    const fwcert::Node& y = b.nodes[i];
    INFO(x.location);
    CHECK(x.location == y.location);
    CHECK(x.size == y.size);
    CHECK(x.sha256 == y.sha256);
    CHECK(x.complete == y.complete);
    CHECK(x.parent == y.parent);
    REQUIRE(x.diagnostics.size() == y.diagnostics.size());
    for (size_t k = 0; k < x.diagnostics.size(); ++k) {
      CHECK(x.diagnostics[k].offset == y.diagnostics[k].offset);
      CHECK(x.diagnostics[k].message == y.diagnostics[k].message);
    }
  }
}

// An 8 MiB image with two CramFS of over 1 MiB each (one holding a PEM certificate) and a tar, with padding.
Bytes big_image() {
  std::vector<fwtest::CramfsFile> a, b;
  for (int i = 0; i < 12; ++i) {
    Bytes content = random_bytes(110000, static_cast<uint32_t>(100 + i));
    for (size_t k = 0; k < content.size(); k += 2) content[k] = 'a';
    a.push_back({"a" + std::to_string(10 + i), content});
    b.push_back({"b" + std::to_string(10 + i), random_bytes(100000, static_cast<uint32_t>(200 + i))});
  }
  Bytes pem = read_file(source_dir() + "/samples/certs/server.crt");
  a.push_back({"z.crt", pem});
  Bytes img(0x100000, 0xff);
  append(img, make_cramfs(a, false));
  img.resize(0x400000, 0xff);
  append(img, make_cramfs(b, true));
  img.resize(0x700000, 0x00);
  append(img, make_tar({{"etc/x.crt", std::string(pem.begin(), pem.end()), '0', ""}}));
  img.resize(0x800000, 0xff);
  return img;
}

}  // namespace

TEST_CASE("tree: reading containers ahead on other cores gives the same tree, within limits and at them") {
  const Bytes img = big_image();
  fwcert::ExtractOptions one;
  one.threads = 1;
  fwcert::ExtractOptions many;
  many.threads = 3;
  const auto reference = extract(img, "big.bin", one);
  REQUIRE(reference.find("big.bin!cramfs@0x100000:/z.crt"));
  REQUIRE(reference.find("big.bin!cramfs@0x400000:/b10"));
  REQUIRE(reference.find("big.bin!tar@0x700000:etc/x.crt"));
  check_same_trees(reference, extract(img, "big.bin", many));
  // Limits the read-ahead would pass with a fresh budget but the in-order reading does not (the first filesystem
  // uses most of the total): its results must be dropped and the containers read in place.
  for (uint64_t total : {uint64_t{500000}, uint64_t{1400000}, uint64_t{2300000}, uint64_t{2500000}}) {
    INFO(total);
    one.limits.max_total_bytes = many.limits.max_total_bytes = total;
    check_same_trees(extract(img, "big.bin", one), extract(img, "big.bin", many));
  }
  one.limits = many.limits = fwcert::ExtractLimits{};
  one.limits.max_entries = many.limits.max_entries = 20;
  check_same_trees(extract(img, "big.bin", one), extract(img, "big.bin", many));
  // Damaged: a second filesystem whose blocks are cut short, and a first one with a broken CRC.
  Bytes bad = img;
  for (size_t k = 0; k < 40; ++k) bad[0x400000 + 4096 + k * 20011] ^= 0x5a;
  bad[0x100000 + 200] ^= 0x01;
  check_same_trees(extract(bad, "bad.bin", one), extract(bad, "bad.bin", many));
}

TEST_CASE("tree: the walk's CRC check is not redone by the reader, and a bad CRC is still reported") {
  Bytes img = read_file(source_dir() + "/samples/bmc-sample.bin");
  auto good = extract(img, "s.bin");
  const fwcert::Node* fs = good.find("s.bin!cramfs@0x80000");
  REQUIRE(fs);
  auto has = [](const fwcert::Node& n, const std::string& needle) {
    for (const auto& d : n.diagnostics)
      if (d.message.find(needle) != std::string::npos) return true;
    return false;
  };
  CHECK(has(*fs, "CRC OK"));
  img[0x80000 + 0x2000] ^= 0x01;  // inside the file data: the CRC no longer matches
  auto bad = extract(img, "s.bin");
  const fwcert::Node* fs2 = bad.find("s.bin!cramfs@0x80000");
  REQUIRE(fs2);
  CHECK(has(*fs2, "CRC mismatch"));
  CHECK(!has(*fs2, "CRC OK"));
}

TEST_CASE("tree: a gzip stream the walk decoded but that is read another way is not kept twice") {
  Bytes gz = gzip_compress(random_bytes(50000, 8));
  Bytes tar = make_tar({{"a.gz", std::string(gz.begin(), gz.end()), '0', ""}});
  auto t = extract(tar, "t.tar");
  // The walk of the tar finds the gzip member's stream (tar is a container); libarchive then reads the member, and
  // the member's own walk decodes it for the stream node.
  const fwcert::Node* member = t.find("t.tar!tar:a.gz!gzip");
  REQUIRE(member);
  CHECK(member->size == 50000);
  bool found = false;
  for (const auto& h : t.root().hits)
    if (h.type == "gzip") {
      found = true;
      CHECK(h.decoded_owner == nullptr);
      CHECK(h.decoded == nullptr);
    }
  CHECK(found);
}

TEST_CASE("tree: streaming (keep_content) gives the same tree and keeps only files with something inside") {
  const Bytes big = big_image();
  const Bytes sample = read_file(source_dir() + "/samples/bmc-sample.bin");
  const Bytes sample_be = read_file(source_dir() + "/samples/bmc-sample-be.bin");
  for (const Bytes* img : {&big, &sample, &sample_be}) {
    for (unsigned threads : {1u, 3u}) {
      INFO("image of " << img->size() << " bytes, threads " << threads);
      fwcert::ExtractOptions plain;
      plain.threads = threads;
      plain.hash_nodes = false;
      fwcert::ExtractOptions streamed = plain;
      streamed.keep_content = [](std::string_view path, uint64_t) { return path.ends_with(".conf"); };
      const auto a = extract(*img, "img.bin", plain);
      const auto b = extract(*img, "img.bin", streamed);
      check_same_trees(a, b);
      size_t unkept = 0, kept_members = 0;
      for (size_t i = 0; i < a.nodes.size() && i < b.nodes.size(); ++i) {
        const fwcert::Node& x = a.nodes[i];
        const fwcert::Node& y = b.nodes[i];
        INFO(x.location);
        CHECK(y.hits.size() == x.hits.size());
        CHECK(y.children == x.children);
        if (!y.content_kept) {
          ++unkept;
          CHECK(y.role == fwcert::NodeRole::Member);
          CHECK(y.content.empty());
          CHECK(y.size == x.content.size());
          CHECK(x.hits.empty());
          CHECK(!x.member_path.ends_with(".conf"));
          continue;
        }
        CHECK(y.content.size() == x.content.size());
        CHECK(std::equal(x.content.data(), x.content.data() + x.content.size(), y.content.data()));
        if (y.role == fwcert::NodeRole::Member && y.kind == fwcert::EntryKind::File && y.size > 0 &&
            a.nodes[*y.parent].format == "cramfs") {
          ++kept_members;
          CHECK((!x.hits.empty() || x.member_path.ends_with(".conf")));
        }
      }
      CHECK(unkept > 0);
      CHECK(kept_members > 0);
    }
  }
  // At limits and on damaged bytes too.
  fwcert::ExtractOptions one;
  one.threads = 1;
  one.hash_nodes = false;
  fwcert::ExtractOptions streamed = one;
  streamed.threads = 3;
  streamed.keep_content = [](std::string_view, uint64_t) { return false; };
  for (uint64_t total : {uint64_t{500000}, uint64_t{1400000}, uint64_t{2500000}}) {
    INFO(total);
    one.limits.max_total_bytes = streamed.limits.max_total_bytes = total;
    check_same_trees(extract(big, "big.bin", one), extract(big, "big.bin", streamed));
  }
  one.limits = streamed.limits = fwcert::ExtractLimits{};
  Bytes bad = big;
  for (size_t k = 0; k < 40; ++k) bad[0x400000 + 4096 + k * 20011] ^= 0x5a;
  bad[0x100000 + 200] ^= 0x01;
  check_same_trees(extract(bad, "bad.bin", one), extract(bad, "bad.bin", streamed));
  // At the depth limit (members not walked: not kept either, unless asked for) and without recursion.
  for (int depth : {0, 1, 2}) {
    INFO("max_depth " << depth);
    one.limits.max_depth = streamed.limits.max_depth = depth;
    check_same_trees(extract(sample, "s.bin", one), extract(sample, "s.bin", streamed));
  }
  one.limits = streamed.limits = fwcert::ExtractLimits{};
  one.recurse = streamed.recurse = false;
  check_same_trees(extract(sample, "s.bin", one), extract(sample, "s.bin", streamed));
  // hash_nodes needs every content: no streaming then.
  fwcert::ExtractOptions hashed;
  hashed.keep_content = [](std::string_view, uint64_t) { return false; };
  for (const auto& n : extract(sample, "s.bin", hashed).nodes) CHECK(n.content_kept);
}

TEST_CASE("tree: streaming keeps no content of archive members with nothing inside, only what has something") {
  // Memory must follow what is kept, not what is decompressed: a 2.9 MB zip of zero-filled members peaked at 2.5 GB.
  const Bytes pem_bytes = read_file(source_dir() + "/samples/certs/server.crt");
  const std::string pem(pem_bytes.begin(), pem_bytes.end());
  std::vector<TarMember> members;
  for (int i = 0; i < 8; ++i) members.push_back({"zero" + std::to_string(i) + ".bin", std::string(1 << 20, '\0'), '0', ""});
  members.push_back({"etc/stunnel/server.crt", pem, '0', ""});
  members.push_back({"etc/stunnel/stunnel.conf", "cert = /etc/stunnel/server.crt\n", '0', ""});
  const Bytes tar = make_tar(members);
  fwcert::ExtractOptions o;
  o.hash_nodes = false;
  o.threads = 1;
  o.keep_content = [](std::string_view path, uint64_t) { return path.find(".conf") != std::string_view::npos; };
  const fwcert::Tree t = fwcert::extract_tree(ByteView(tar.data(), tar.size()), "rootfs.tar", walker(), o);
  for (int i = 0; i < 8; ++i) {
    const auto found = t.find_suffix(":zero" + std::to_string(i) + ".bin");
    REQUIRE(found.size() == 1);
    CHECK_FALSE(found[0]->content_kept);
    CHECK(found[0]->content.empty());
    CHECK(found[0]->size == (uint64_t{1} << 20));
  }
  const auto cert = t.find_suffix(":etc/stunnel/server.crt");
  REQUIRE(cert.size() == 1);
  CHECK(cert[0]->content_kept);
  CHECK(cert[0]->content.size() == pem.size());
  CHECK_FALSE(cert[0]->hits.empty());
  const auto conf = t.find_suffix(":etc/stunnel/stunnel.conf");
  REQUIRE(conf.size() == 1);
  CHECK(conf[0]->content_kept);
  // Without keep_content (fwextract) every member keeps its content.
  const fwcert::Tree all = fwcert::extract_tree(ByteView(tar.data(), tar.size()), "rootfs.tar", walker());
  const auto zero = all.find_suffix(":zero0.bin");
  REQUIRE(zero.size() == 1);
  CHECK(zero[0]->content_kept);
  CHECK(zero[0]->content.size() == (size_t{1} << 20));
}

namespace {

// A tree by hand: an input holding one tar whose members have these paths (files with their path as content).
fwcert::Tree tree_of_members(const std::vector<std::string>& paths, const std::string& input = "in.tar") {
  fwcert::Tree t;
  fwcert::Node root;
  root.location = input;
  t.nodes.push_back(root);
  fwcert::Node box;
  box.id = 1;
  box.parent = 0;
  box.role = fwcert::NodeRole::Carved;
  box.format = "tar";
  box.location = input + "!tar";
  t.nodes.push_back(box);
  t.nodes[0].children.push_back(1);
  auto keep = std::make_shared<std::vector<std::string>>(paths);
  for (const auto& p : *keep) {
    fwcert::Node n;
    n.id = t.nodes.size();
    n.parent = 1;
    n.role = fwcert::NodeRole::Member;
    n.format = "tar";
    n.member_path = p;
    n.location = box.location + ":" + p;
    n.content = ByteView(reinterpret_cast<const uint8_t*>(p.data()), p.size());
    n.owned = keep;
    n.size = p.size();
    t.nodes[1].children.push_back(n.id);
    t.nodes.push_back(std::move(n));
  }
  return t;
}

bool valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

}  // namespace

TEST_CASE("writer: names of up to 255 bytes are written as they are, longer ones are cut at a UTF-8 boundary") {
  const std::string n201(201, 'a'), n255(255, 'b'), n256(256, 'c');
  // 300 bytes of two-byte characters after two ASCII bytes: byte 255 is the second byte of a character, so a cut
  // there would split it; the cut falls before it (254 bytes).
  std::string n300 = "dd";
  while (n300.size() < 300) n300 += "\xC3\xA9";  // é
  n300.resize(300);
  REQUIRE((static_cast<unsigned char>(n300[255]) & 0xC0) == 0x80);
  // The same 255-byte name twice (a duplicate gets ~1, cut to fit) and a 255-byte name in a folder.
  auto t = tree_of_members({n201, n255, n256, n300, n255, "dir/" + n255});
  TempDir tmp;
  auto rep = fwcert::write_tree(t, (tmp.path / "out").string());
  REQUIRE(rep);
  const fs::path box = tmp.path / "out" / "tar";
  CHECK(file_text(box / n201) == n201);
  CHECK(file_text(box / n255) == n255);
  CHECK(file_text(box / "dir" / n255) == "dir/" + n255);
  CHECK(file_text(box / n256.substr(0, 255)) == n256);
  CHECK(file_text(box / n300.substr(0, 254)) == n300);
  const std::string dup = n255.substr(0, 253) + "~1";
  CHECK(file_text(box / dup) == n255);
  for (size_t id = 2; id < t.nodes.size(); ++id) {
    const std::string& written = rep->paths[id];
    INFO(id);
    REQUIRE_FALSE(written.empty());
    const std::string name = written.substr(written.rfind('/') + 1);
    CHECK(name.size() <= 255);
    CHECK(valid_utf8(name));
  }
  // Only the two names that did not fit are flagged, each once.
  size_t flagged = 0;
  for (const auto& d : rep->diagnostics) {
    INFO(d.message);
    CHECK(d.message.find(n201 + "'") == std::string::npos);
    CHECK(d.message.find("'" + n255 + "'") == std::string::npos);
    flagged += d.message.find("unsafe member path") != std::string::npos;
  }
  CHECK(flagged == 2);
  bool changed = true;
  CHECK(fwcert::sanitize_member_path("/etc/" + n255, changed) == std::vector<std::string>{"etc", n255});
  CHECK_FALSE(changed);
  CHECK(fwcert::sanitize_member_path(n256, changed) == std::vector<std::string>{n256.substr(0, 255)});
  CHECK(changed);
  CHECK(fwcert::fit_name(n300, ".extracted").size() <= 255);
  CHECK(valid_utf8(fwcert::fit_name(n300, ".extracted")));
}

TEST_CASE("writer: a 255-byte file with something inside gets its .extracted folder, cut to fit") {
  // A member of a 255-byte name with a carved node inside (a tree by hand): the member's children go to
  // "<name>.extracted", which must fit NAME_MAX too.
  const std::string long_name(255, 'p');
  fwcert::Tree h = tree_of_members({long_name});
  fwcert::Node child;
  child.id = h.nodes.size();
  child.parent = 2;
  child.role = fwcert::NodeRole::Carved;
  child.format = "pem-certificate";
  child.location = h.nodes[2].location + "!pem";
  child.content = h.nodes[2].content;
  child.size = child.content.size();
  h.nodes[2].children.push_back(child.id);
  h.nodes.push_back(child);
  TempDir tmp;
  auto rep = fwcert::write_tree(h, (tmp.path / "out").string());
  REQUIRE(rep);
  CHECK(rep->diagnostics.empty());
  CHECK(fs::is_directory(tmp.path / "out" / "tar" / (long_name.substr(0, 245) + ".extracted")));
  CHECK(fs::exists(tmp.path / "out" / "tar" / (long_name.substr(0, 245) + ".extracted") / "pem"));
}

TEST_CASE("writer: --force a second time replaces manifest.json (no manifest.json~1) and names what it wrote") {
  TempDir tmp;
  const fs::path out = tmp.path / "out";
  auto first = fwcert::write_tree(tree_of_members({"a.txt"}, "first.tar"), out.string());
  REQUIRE(first);
  CHECK(first->manifest_path == (out / "manifest.json").string());
  auto second = fwcert::write_tree(tree_of_members({"b.txt"}, "second.tar"), out.string(), fwcert::WriteOptions{true});
  REQUIRE(second);
  CHECK(second->manifest_path == (out / "manifest.json").string());
  CHECK_FALSE(fs::exists(out / "manifest.json~1"));
  auto manifest = nlohmann::json::parse(file_text(out / "manifest.json"));
  CHECK(manifest["input"] == "second.tar");
  // Nothing else is left beside it (no temporary file).
  size_t files_at_top = 0;
  for (const auto& e : fs::directory_iterator(out)) files_at_top += e.is_regular_file();
  CHECK(files_at_top == 1);
}

#include <atomic>

#include "fwcert/certs/scan.hpp"

TEST_CASE("time limit: a fake clock that ticks per check stops the scan, which reports what it found and says so") {
  // A tar of a certificate and 300 small files. The clock advances one second each time it is asked, so the limit is
  // reached after a fixed number of checks whatever the machine's speed: deterministic.
  const Bytes b = read_file(source_dir() + "/samples/certs/server.crt");
  std::vector<TarMember> members{{"etc/server.crt", std::string(b.begin(), b.end()), '0', ""}};
  for (int i = 0; i < 300; ++i) members.push_back({"data/f" + std::to_string(i) + ".txt", "hello " + std::to_string(i), '0', ""});
  const Bytes tar = make_tar(members);
  auto scan = [&](double seconds) {
    auto ticks = std::make_shared<std::atomic<int>>(0);
    fwcert::ScanOptions o;
    o.now = 1767225600;
    o.extract.threads = 1;
    o.extract.limits.max_seconds = seconds;
    o.extract.clock = [ticks] { return static_cast<double>((*ticks)++); };
    return fwcert::scan_input(ByteView(tar.data(), tar.size()), "t.tar", walker(), o);
  };
  const fwcert::ScanReport r = scan(40);
  CHECK(r.timed_out);
  CHECK(r.incomplete);
  bool said = false;
  for (const auto& p : r.problems)
    said |= p.diagnostic.severity == fwcert::Severity::Error &&
            p.diagnostic.message.find("time limit of 40 s reached") != std::string::npos &&
            p.diagnostic.message.find("partial") != std::string::npos;
  CHECK(said);
  // What was found before the limit is still reported (here by the walk of the tar itself, which found the PEM in
  // the first member's data before the tar was read).
  REQUIRE(r.certificates.size() == 1);
  CHECK(r.certificates[0].locations.at(0) == "t.tar!pem@0x200");
  // The same run again stops at the same place; without a limit nothing is partial.
  const fwcert::ScanReport again = scan(40);
  CHECK(again.problems.size() == r.problems.size());
  const fwcert::ScanReport whole = scan(0);
  CHECK_FALSE(whole.timed_out);
  CHECK_FALSE(whole.incomplete);

  // The tree itself: the members read before the limit are there, not all of them.
  auto ticks = std::make_shared<std::atomic<int>>(0);
  fwcert::ExtractOptions o;
  o.threads = 1;
  o.limits.max_seconds = 400;
  o.clock = [ticks] { return static_cast<double>((*ticks)++); };
  const fwcert::Tree t = fwcert::extract_tree(ByteView(tar.data(), tar.size()), "t.tar", walker(), o);
  CHECK(t.timed_out);
  CHECK(t.incomplete);
  CHECK(t.nodes.size() > 2);
  CHECK(t.nodes.size() < 300);
  const fwcert::Tree full = extract(tar, "t.tar");
  CHECK_FALSE(full.timed_out);
  CHECK(full.nodes.size() > 300);
}
