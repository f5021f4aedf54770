// UBIFS (formats/ubifs.cpp): images made at test time by mkfs.ubifs (Debian mtd-utils) with each compressor it offers
// (lzo, zlib, zstd, none) from a tree holding a certificate and its private key, multi-block files, a hard link, a
// symlink, a sparse file, an empty file, a device and deep directories. The tree the reader rebuilds must equal the
// source tree file by file, and the scan must find the certificate at its location with its key paired. Damaged
// (truncated, bit-flipped) images give diagnostics, never a crash, and the rest is still reported. Skipped (with a
// warning) without mkfs.ubifs.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "fwcert/certs/scan.hpp"
#include "fwcert/extract/tree.hpp"
#include "fwcert/formats/ubifs.hpp"
#include "support.hpp"

using namespace fwtest;
using fwcert::ByteView;
namespace fsys = std::filesystem;

namespace {

constexpr int64_t k2026Jan1 = 1767225600;

bool have_mkfs_ubifs() { return std::system("command -v mkfs.ubifs >/dev/null 2>&1") == 0; }
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

// The source tree, removed at the end.
struct SourceTree {
  fsys::path root;
  std::string cn = "ubifs test server";
  SourceTree() {
    char tmpl[] = "/tmp/fwcert-ubifs-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    root = tmpl;
    const fsys::path t = root / "tree";
    fsys::create_directories(t / "etc/ssl/private");
    fsys::create_directories(t / "usr/bin");
    fsys::create_directories(t / "a/b/c/d/e");
    fsys::create_directories(t / "empty-dir");
    fsys::create_directories(t / "dev");
    auto [cert, key] = make_cert_and_key(cn);
    write_text(t / "etc/ssl/server.crt", cert);
    write_text(t / "etc/ssl/private/server.key", key);
    // 300 KB of incompressible bytes (stored blocks), 200 KB of text (compressed blocks), a file ending mid-block.
    write_bytes(t / "usr/bin/random", random_bytes(300000, 42));
    std::string text;
    for (int i = 0; text.size() < 200000; ++i) text += "line " + std::to_string(i) + " of a compressible file\n";
    write_text(t / "usr/bin/text", text);
    fsys::create_hard_link(t / "usr/bin/text", t / "usr/text-hard");
    fsys::create_symlink("../etc/ssl/server.crt", t / "usr/cert-link");
    write_text(t / "empty", "");
    write_text(t / "a/b/c/d/e/deep.txt", "deep\n");
    {  // sparse: 100 000 bytes, one byte at 50 000, zeros elsewhere (holes)
      std::ofstream s(t / "usr/sparse", std::ios::binary);
      s.seekp(50000);
      s.put('x');
      s.seekp(99999);
      s.put('\0');
    }
    ::mknod((t / "dev/console").c_str(), S_IFCHR | 0600, makedev(5, 1));
  }
  ~SourceTree() {
    std::error_code ec;
    fsys::remove_all(root, ec);
  }
  fsys::path tree() const { return root / "tree"; }
  // mkfs.ubifs with the compressor; the image bytes, or empty when mkfs.ubifs failed.
  Bytes image(const std::string& compr, const std::string& extra = "") const {
    const std::string out = (root / ("fs-" + compr + ".ubifs")).string();
    const std::string cmd = "mkfs.ubifs -m 2048 -e 126976 -c 200 -x " + compr + " " + extra + " -r " +
                            quote(tree().string()) + " -o " + quote(out) + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) return {};
    return read_file(out);
  }
};

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

}  // namespace

TEST_CASE("ubifs: mkfs.ubifs images with every compressor equal their source tree; the scan pairs the key", "[ubifs]") {
  if (!have_mkfs_ubifs()) {
    WARN("mkfs.ubifs not found (Debian package mtd-utils): skipped");
    return;
  }
  SourceTree src;
  for (const char* compr : {"lzo", "zlib", "zstd", "none"}) {
    INFO("compressor " << compr);
    Bytes img = src.image(compr);
    REQUIRE(!img.empty());
    auto hit = validate("ubifs", img);
    REQUIRE(hit);
    CHECK(hit->type == "ubifs");
    CHECK(hit->confidence == fwcert::Confidence::High);
    CHECK(hit->size == img.size());
    CHECK(hit->description.find(std::string("compression: ") + compr) != std::string::npos);

    fwcert::Tree tree = fwcert::extract_tree(ByteView(img.data(), img.size()), "fs.bin", walker());
    auto fs = find_node(tree, "fs.bin!ubifs");
    REQUIRE(fs);
    CHECK(no_warnings(tree));
    check_same_tree(tree, *fs, src.tree());

    fwcert::ScanReport r = scan(img, "fs.bin");
    REQUIRE(r.certificates.size() == 1);
    CHECK(r.certificates[0].cert.common_name == src.cn);
    CHECK(has_location(r, "fs.bin!ubifs:/etc/ssl/server.crt"));
    CHECK(has_location(r, "fs.bin!ubifs:/usr/cert-link") == false);  // a symlink is no second copy
    REQUIRE(r.keys.size() == 1);
    CHECK(r.keys[0].location == "fs.bin!ubifs:/etc/ssl/private/server.key");
    CHECK(r.keys[0].certificates == std::vector<std::string>{r.certificates[0].cert.sha256});
    CHECK(r.certificates[0].private_keys.size() == 1);
  }
}

TEST_CASE("ubifs: authenticated images are read (node hashes in the index branches)", "[ubifs]") {
  if (!have_mkfs_ubifs()) {
    WARN("mkfs.ubifs not found (Debian package mtd-utils): skipped");
    return;
  }
  SourceTree src;
  auto [cert, key] = make_cert_and_key("ubifs auth signer");
  write_text(src.root / "auth.crt", cert);
  write_text(src.root / "auth.key", key);
  Bytes img = src.image("lzo", "--hash-algo=sha256 --auth-key=" + quote((src.root / "auth.key").string()) +
                                   " --auth-cert=" + quote((src.root / "auth.crt").string()));
  if (img.empty()) {
    WARN("this mkfs.ubifs cannot sign images: skipped");
    return;
  }
  auto hit = validate("ubifs", img);
  REQUIRE(hit);
  CHECK(hit->description.find("authenticated") != std::string::npos);
  fwcert::Tree tree = fwcert::extract_tree(ByteView(img.data(), img.size()), "fs.bin", walker());
  auto fs = find_node(tree, "fs.bin!ubifs");
  REQUIRE(fs);
  check_same_tree(tree, *fs, src.tree());
}

TEST_CASE("ubifs: encrypted images are reported as such, without content", "[ubifs]") {
  if (!have_mkfs_ubifs()) {
    WARN("mkfs.ubifs not found (Debian package mtd-utils): skipped");
    return;
  }
  SourceTree src;
  write_bytes(src.root / "key64", random_bytes(64, 9));
  Bytes img = src.image("lzo", "--key=" + quote((src.root / "key64").string()) +
                                   " --key-descriptor=0123456789abcdef -C AES-256-XTS");
  if (img.empty()) {
    WARN("this mkfs.ubifs cannot encrypt: skipped");
    return;
  }
  fwcert::Budget budget;
  fwcert::ExtractResult r = fwcert::read_ubifs(ByteView(img.data(), img.size()), budget);
  bool said = false;
  for (const auto& d : r.diagnostics) said = said || d.message.find("encrypted") != std::string::npos;
  CHECK(said);
  size_t encrypted = 0;
  // mkfs.ubifs (mtd-utils 2.1.5) leaves hard-linked files unencrypted (no UBIFS_CRYPT_FL, data in plain): those are
  // read, and must then be the source's bytes.
  const Bytes text = read_file((src.tree() / "usr/bin/text").string());
  for (const auto& e : r.entries) {
    if (e.encrypted) ++encrypted;
    CHECK(e.path.find("encrypted-inode-") != std::string::npos);  // no ciphertext names
    INFO(e.path << " kind " << int(e.kind) << " size " << e.content().size());
    if (!e.content().empty()) CHECK(Bytes(e.content().data(), e.content().data() + e.content().size()) == text);
  }
  CHECK(encrypted >= 5);
  CHECK(scan(img, "fs.bin").certificates.empty());
}

TEST_CASE("ubifs: truncated and bit-flipped images give diagnostics and the rest", "[ubifs]") {
  if (!have_mkfs_ubifs()) {
    WARN("mkfs.ubifs not found (Debian package mtd-utils): skipped");
    return;
  }
  SourceTree src;
  const Bytes img = src.image("lzo");
  REQUIRE(!img.empty());
  const Bytes plain = src.image("none");  // data nodes stored as they are: the key's bytes can be found
  REQUIRE(!plain.empty());
  fwcert::Budget b0;
  const fwcert::ExtractResult full = fwcert::read_ubifs(ByteView(img.data(), img.size()), b0);
  REQUIRE(full.entries.size() >= 15);

  // The key's data node: damaging it makes its file incomplete with a diagnostic; the certificate is still found.
  const std::string key_text = [&] {
    Bytes k = read_file((src.tree() / "etc/ssl/private/server.key").string());
    return std::string(k.begin(), k.end());
  }();
  const std::string hay(plain.begin(), plain.end());
  const size_t at = hay.find(key_text.substr(40, 12));
  REQUIRE(at != std::string::npos);
  Bytes flipped = plain;
  flipped[at] ^= 0x20;
  fwcert::Tree tree = fwcert::extract_tree(ByteView(flipped.data(), flipped.size()), "fs.bin", walker());
  bool noted = false;
  for (const auto& n : tree.nodes)
    for (const auto& d : n.diagnostics) noted = noted || d.message.find("leaf node") != std::string::npos;
  CHECK(noted);  // the node's CRC no longer holds
  fwcert::ScanReport r = scan(flipped, "fs.bin");
  CHECK(has_location(r, "fs.bin!ubifs:/etc/ssl/server.crt"));
  CHECK(r.keys.empty());

  // Cut anywhere: never a crash, never more than the whole, and what lies before the cut of the index is read.
  for (size_t len = 0; len <= img.size(); len += img.size() / 37 + 1) {
    Bytes cut(img.begin(), img.begin() + static_cast<long>(len));
    fwcert::Budget b;
    fwcert::ExtractResult c = fwcert::read_ubifs(ByteView(cut.data(), cut.size()), b);
    CHECK(c.entries.size() <= full.entries.size());
    if (c.entries.size() < full.entries.size()) CHECK(!c.diagnostics.empty());
    auto h = validate("ubifs", cut);
    if (h) CHECK(h->size <= len);
  }
  // Bit flips everywhere (a fixed seed): never a crash; each result lists no more than the whole.
  Bytes noise = random_bytes(4096, 77);
  for (size_t k = 0; k < 300; ++k) {
    Bytes f = img;
    const size_t pos = (uint64_t{noise[k % noise.size()]} << 16 | uint64_t{noise[(k * 7 + 1) % noise.size()]} << 8 |
                        noise[(k * 13 + 2) % noise.size()]) % f.size();
    f[pos] ^= static_cast<uint8_t>(1u << (k % 8));
    fwcert::Budget b;
    fwcert::ExtractResult c = fwcert::read_ubifs(ByteView(f.data(), f.size()), b);
    CHECK(c.entries.size() <= full.entries.size());
  }
}

TEST_CASE("ubifs: the validator wants a superblock node with its CRC", "[ubifs]") {
  // Every UBIFS node starts with the magic: a data node's magic is no filesystem.
  Bytes b = random_bytes(200000, 5);
  put_u32le(b, 0, 0x06101831);
  b[20] = 1;
  CHECK_FALSE(validate("ubifs", b));
  b[20] = 6;  // a superblock node type with a random body: its CRC fails
  CHECK_FALSE(validate("ubifs", b));
  // A random image with planted superblock magics gives no hit.
  Bytes planted = random_bytes(1u << 20, 11);
  for (size_t off = 1000; off + 64 < planted.size(); off += 4093) {
    put_u32le(planted, off, 0x06101831);
    planted[off + 20] = 6;
  }
  CHECK(hits_of(walk_all(planted), "ubifs").empty());
  fwcert::Budget budget;
  fwcert::ExtractResult r = fwcert::read_ubifs(ByteView(planted.data() + 1000, planted.size() - 1000), budget);
  CHECK(r.entries.empty());
  CHECK(!r.diagnostics.empty());
}
