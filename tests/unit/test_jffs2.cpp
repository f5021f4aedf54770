// read_jffs2 and the jffs2 validator: images made at test time by mkfs.jffs2 (both byte orders, zlib, rtime and LZO
// nodes, 64 KiB to 256 KiB erase blocks) compared with their source tree; histories mkfs.jffs2 cannot write (deleted
// and overwritten files, NOR-obsoleted nodes, OpenWrt LZMA nodes, orphans, directory loops) from
// tests/tools/mkjffs2.py; truncated and bit-flipped copies; hostile sizes; the corpus images.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "fwcert/core/checksum.hpp"
#include "fwcert/extract/tree.hpp"
#include "fwcert/formats/jffs2.hpp"
#include "support.hpp"

using namespace fwcert;
using namespace fwtest;
namespace fsys = std::filesystem;

namespace {

bool have(const char* tool) { return std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) == 0; }

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

bool any_diag(const ExtractResult& r, const std::string& needle) {
  for (const auto& d : r.diagnostics)
    if (contains(d.message, needle)) return true;
  for (const auto& e : r.entries)
    for (const auto& d : e.diagnostics)
      if (contains(d.message, needle)) return true;
  return false;
}

std::map<std::string, const Entry*> by_path(const ExtractResult& r) {
  std::map<std::string, const Entry*> m;
  for (const auto& e : r.entries) m[e.path] = &e;
  return m;
}

ExtractResult read(const Bytes& b, bool deleted = false, ExtractLimits limits = {}) {
  Budget budget(limits);
  ContainerReadOptions o;
  o.include_deleted = deleted;
  return read_jffs2(ByteView(b.data(), b.size()), budget, o);
}

std::string text_of(const Entry* e) { return e ? std::string(e->content().as_string_view()) : std::string("<none>"); }

void write_file(const fsys::path& p, const Bytes& content) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(content.data()), static_cast<std::streamsize>(content.size()));
}

struct TempDir {
  fsys::path path;
  TempDir() {
    char tmpl[] = "/tmp/fwcert-jffs2-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fsys::remove_all(path, ec);
  }
};

// A source tree with a certificate and its key (samples/certs), text, random bytes over several pages, an empty
// file, a symlink, a hard link and an empty directory.
void make_tree(const fsys::path& root) {
  const std::string certs = source_dir() + "/samples/certs/";
  fsys::create_directories(root / "etc/ssl/certs");
  fsys::create_directories(root / "etc/ssl/private");
  fsys::create_directories(root / "usr/bin");
  fsys::create_directories(root / "var/empty");
  fsys::copy_file(certs + "server.crt", root / "etc/ssl/certs/server.crt");
  fsys::copy_file(certs + "server.key", root / "etc/ssl/private/server.key");
  std::string text;
  for (int i = 0; i < 4000; ++i) text += "line " + std::to_string(i) + " of a config file\n";
  write_file(root / "etc/big.conf", Bytes(text.begin(), text.end()));
  write_file(root / "usr/bin/blob", random_bytes(3 * 4096 + 123, 7));
  write_file(root / "etc/empty", {});
  fsys::create_symlink("../etc/ssl/certs/server.crt", root / "usr/bin/cert-link");
  fsys::create_hard_link(root / "etc/ssl/certs/server.crt", root / "etc/ssl/hard.crt");
}

// Every file, directory and symlink of the source tree is an entry with the same content, and nothing else is.
void check_same_tree(const fsys::path& root, const ExtractResult& r, const std::string& what) {
  INFO(what);
  auto m = by_path(r);
  size_t n = 0;
  for (auto it = fsys::recursive_directory_iterator(root); it != fsys::recursive_directory_iterator(); ++it) {
    const std::string rel = "/" + fsys::relative(it->path(), root).string();
    INFO(rel);
    ++n;
    auto e = m.find(rel);
    REQUIRE(e != m.end());
    if (it->is_symlink()) {
      CHECK(e->second->kind == EntryKind::Symlink);
      CHECK(e->second->link_target == fsys::read_symlink(it->path()).string());
    } else if (it->is_directory()) {
      CHECK(e->second->kind == EntryKind::Directory);
    } else {
      CHECK(e->second->kind == EntryKind::File);
      CHECK(e->second->complete);
      CHECK(e->second->content().size() == fsys::file_size(it->path()));
      CHECK(Bytes(e->second->content().data(), e->second->content().data() + e->second->content().size()) ==
            read_file(it->path().string()));
    }
  }
  CHECK(r.entries.size() == n);
}

std::set<uint8_t> compressors(const Bytes& img) {
  jffs2::ScanOptions o;
  o.records = true;
  std::set<uint8_t> s;
  for (const auto& n : jffs2::scan(ByteView(img.data(), img.size()), o).inodes)
    if (n.csize) s.insert(n.compr);
  return s;
}

// Runs tests/tools/mkjffs2.py; false when python3 is missing.
bool mkjffs2(const fsys::path& out, const std::string& args) {
  if (!have("python3")) return false;
  const std::string cmd = "cd '" + source_dir() + "' && python3 tests/tools/mkjffs2.py '" + out.string() + "' " + args;
  REQUIRE(std::system(cmd.c_str()) == 0);
  return true;
}

const std::string kCerts = "@samples/certs/";

}  // namespace

TEST_CASE("jffs2: mkfs.jffs2 images in both byte orders, zlib/rtime/lzo nodes, 64-256 KiB erase blocks read back") {
  if (!have("mkfs.jffs2")) {
    WARN("SKIP: mkfs.jffs2 not found (Debian package mtd-utils)");
    return;
  }
  TempDir t;
  make_tree(t.path / "root");
  struct Case {
    const char* opts;
    std::set<uint8_t> want;  // node compressors that must appear
  };
  const Case cases[] = {
      {"-l -e 64KiB", {jffs2::Zlib}},
      {"-b -e 128KiB", {jffs2::Zlib}},
      {"-l -e 128KiB -x zlib", {jffs2::Rtime}},
      {"-b -e 64KiB -x zlib", {jffs2::Rtime}},
      {"-l -e 256KiB -x zlib -x rtime -X lzo", {jffs2::Lzo}},
      {"-b -e 128KiB -x zlib -x rtime -X lzo", {jffs2::Lzo}},
      {"-l -n -m none", {jffs2::None}},
      {"-b -p -e 64KiB", {jffs2::Zlib}},
  };
  for (const Case& c : cases) {
    const fsys::path img = t.path / "img.jffs2";
    const std::string cmd = std::string("mkfs.jffs2 ") + c.opts + " -r '" + (t.path / "root").string() + "' -o '" +
                            img.string() + "' 2>/dev/null";
    REQUIRE(std::system(cmd.c_str()) == 0);
    const Bytes b = read_file(img.string());
    const auto comp = compressors(b);
    for (uint8_t w : c.want) CHECK(comp.count(w));
    auto hit = validate("jffs2", b);
    REQUIRE(hit);
    CHECK(hit->confidence == Confidence::High);
    CHECK(hit->diagnostics.empty());
    ExtractResult r = read(b);
    CHECK(r.diagnostics.empty());
    CHECK_FALSE(r.limited);
    check_same_tree(t.path / "root", r, c.opts);
    const auto m = by_path(r);
    REQUIRE(m.count("/etc/ssl/private/server.key"));
    CHECK(m.at("/etc/ssl/private/server.key")->mode == 0100644);
    CHECK(m.at("/etc/ssl/private/server.key")->mtime > 1600000000);
  }
}

TEST_CASE("jffs2: a JFFS2 inside a bigger image is found by the walk and its members get full locations") {
  if (!have("mkfs.jffs2")) {
    WARN("SKIP: mkfs.jffs2 not found (Debian package mtd-utils)");
    return;
  }
  TempDir t;
  make_tree(t.path / "root");
  const fsys::path img = t.path / "img.jffs2";
  REQUIRE(std::system(("mkfs.jffs2 -b -e 128KiB -p -r '" + (t.path / "root").string() + "' -o '" + img.string() + "'")
                          .c_str()) == 0);
  Bytes outer = random_bytes(0x20000, 3);
  append(outer, read_file(img.string()));
  append(outer, random_bytes(5000, 4));
  Tree tree = extract_tree(ByteView(outer.data(), outer.size()), "img.bin", walker());
  const Node* key = tree.find("img.bin!jffs2@0x20000:/etc/ssl/private/server.key");
  REQUIRE(key);
  CHECK(key->content.size() == fsys::file_size(t.path / "root/etc/ssl/private/server.key"));
  CHECK(tree.find("img.bin!jffs2@0x20000:/etc/ssl/certs/server.crt"));
  CHECK(tree.find("img.bin!jffs2@0x20000:/etc/ssl/hard.crt"));
}

TEST_CASE("jffs2: deleted and overwritten files are listed with include_deleted only, marked in the path") {
  TempDir t;
  for (const char* order : {"", "-b"}) {
    for (const char* comp : {"zlib", "lzma", "rtime", "none"}) {
      INFO(order << " " << comp);
      const fsys::path img = t.path / "d.jffs2";
      if (!mkjffs2(img, std::string(order) + " --compr " + comp + " mkdir:/etc mkdir:/etc/ssl write:/etc/ssl/server.key=" +
                            kCerts + "server.key write:/etc/ssl/old.crt=" + kCerts +
                            "client.crt unlink:/etc/ssl/old.crt write:/etc/conf=" + kCerts +
                            "ca.crt overwrite:/etc/conf=hello write:/etc/nor.crt=" + kCerts +
                            "redfish.crt unlink-obsolete:/etc/nor.crt symlink:/link=etc/conf")) {
        WARN("SKIP: python3 not found");
        return;
      }
      const Bytes b = read_file(img.string());
      if (std::string(comp) == "lzma") CHECK(compressors(b).count(jffs2::Lzma));
      const std::string src = source_dir() + "/samples/certs/";
      ExtractResult plain = read(b);
      CHECK(plain.diagnostics.empty());
      auto m = by_path(plain);
      REQUIRE(m.count("/etc/ssl/server.key"));
      CHECK(Bytes(m["/etc/ssl/server.key"]->content().data(),
                  m["/etc/ssl/server.key"]->content().data() + m["/etc/ssl/server.key"]->content().size()) ==
            read_file(src + "server.key"));
      CHECK(text_of(m["/etc/conf"]) == "hello");
      CHECK(m["/link"]->link_target == "etc/conf");
      CHECK_FALSE(m.count("/etc/ssl/old.crt"));
      CHECK_FALSE(m.count("/etc/nor.crt"));
      for (const auto& e : plain.entries) CHECK_FALSE(contains(e.path, ";"));

      ExtractResult all = read(b, true);
      auto d = by_path(all);
      REQUIRE(d.count("/etc/ssl/old.crt;deleted"));
      REQUIRE(d.count("/etc/nor.crt;deleted"));
      REQUIRE(d.count("/etc/conf;v1"));
      const auto bytes = [](const Entry* e) { return Bytes(e->content().data(), e->content().data() + e->content().size()); };
      CHECK(bytes(d["/etc/ssl/old.crt;deleted"]) == read_file(src + "client.crt"));  // unlinked by a deletion dirent
      CHECK(bytes(d["/etc/nor.crt;deleted"]) == read_file(src + "redfish.crt"));     // obsoleted in place (NOR)
      CHECK(bytes(d["/etc/conf;v1"]) == read_file(src + "ca.crt"));                  // overwritten in place
      CHECK(text_of(d["/etc/conf"]) == "hello");
      CHECK(all.entries.size() == plain.entries.size() + 3);
    }
  }
}

TEST_CASE("jffs2: orphans go under /lost+found, directory loops are cut, bad names refused") {
  TempDir t;
  const fsys::path img = t.path / "o.jffs2";
  // /hidden's own dirent is made obsolete: its directory is detached, its file stays reachable under /lost+found.
  if (!mkjffs2(img, "mkdir:/etc write:/etc/a=alpha mkdir:/hidden write:/hidden/key.pem=" + kCerts +
                        "server.key unlink-obsolete:/hidden")) {
    WARN("SKIP: python3 not found");
    return;
  }
  Bytes b = read_file(img.string());
  ExtractResult r = read(b);
  auto m = by_path(r);
  CHECK(text_of(m["/etc/a"]) == "alpha");
  REQUIRE(m.count("/lost+found/ino4/key.pem"));
  CHECK(m["/lost+found/ino4"]->kind == EntryKind::Directory);
  CHECK(any_diag(r, "not reachable from the root"));
}

TEST_CASE("jffs2: truncated and bit-flipped images give diagnostics and keep the rest") {
  if (!have("mkfs.jffs2")) {
    WARN("SKIP: mkfs.jffs2 not found (Debian package mtd-utils)");
    return;
  }
  TempDir t;
  make_tree(t.path / "root");
  const fsys::path img = t.path / "img.jffs2";
  REQUIRE(std::system(("mkfs.jffs2 -l -r '" + (t.path / "root").string() + "' -o '" + img.string() + "'").c_str()) == 0);
  const Bytes b = read_file(img.string());
  // Every prefix (in steps): never a crash, never more entries than the whole, a diagnostic when a node is cut.
  const size_t whole = read(b).entries.size();
  for (size_t n = 0; n < b.size(); n += 509) {
    Bytes cut(b.begin(), b.begin() + static_cast<long>(n));
    ExtractResult r = read(cut);
    CHECK(r.entries.size() <= whole);
    (void)validate("jffs2", cut);
  }
  // The inode nodes of /usr/bin/blob: flip a bit in the data of one, in the header of another.
  jffs2::ScanOptions so;
  so.records = true;
  jffs2::Scan s = jffs2::scan(ByteView(b.data(), b.size()), so);
  std::vector<jffs2::InodeNode> blob;
  uint32_t blob_ino = 0;
  for (const auto& d : s.dirents)
    if (d.name == "blob") blob_ino = d.ino;
  for (const auto& n : s.inodes)
    if (n.ino == blob_ino && n.csize > 0) blob.push_back(n);
  REQUIRE(blob.size() >= 3);
  Bytes flipped = b;
  flipped[blob[1].pos + jffs2::kInodeSize + 10] ^= 0x10;  // data CRC
  flipped[blob[2].pos + 5] ^= 0x01;                       // header CRC (totlen)
  ExtractResult r = read(flipped);
  CHECK(any_diag(r, "data CRC mismatch"));
  CHECK(any_diag(r, "header CRC mismatch"));
  bool at = false;
  for (const auto& d : r.diagnostics) at = at || d.offset == blob[1].pos;
  CHECK(at);
  auto m = by_path(r);
  // The damaged file is there, marked incomplete; every other file is intact.
  REQUIRE(m.count("/usr/bin/blob"));
  CHECK_FALSE(m["/usr/bin/blob"]->complete);
  CHECK(Bytes(m["/etc/ssl/private/server.key"]->content().data(),
              m["/etc/ssl/private/server.key"]->content().data() + m["/etc/ssl/private/server.key"]->content().size()) ==
        read_file((t.path / "root/etc/ssl/private/server.key").string()));
  CHECK(text_of(m["/etc/big.conf"]).size() == fsys::file_size(t.path / "root/etc/big.conf"));
  // The walk still spans the whole image (damage is skipped, not an end).
  auto hit = validate("jffs2", flipped);
  REQUIRE(hit);
  CHECK(hit->size == validate("jffs2", b)->size);
  CHECK(hit->confidence == Confidence::Medium);
}

namespace {
uint32_t kcrc(const Bytes& b, size_t off, size_t len) { return ~crc32(ByteView(b.data() + off, len), 0xFFFFFFFFu); }

// One little-endian inode node (struct jffs2_raw_inode) with valid CRCs.
void add_inode(Bytes& img, uint32_t ino, uint32_t version, uint32_t mode, uint32_t isize, uint32_t offset,
               uint8_t compr, uint32_t dsize, const Bytes& data) {
  Bytes n(68, 0);
  put_u16le(n, 0, 0x1985);
  put_u16le(n, 2, 0xE002);
  put_u32le(n, 4, static_cast<uint32_t>(68 + data.size()));
  put_u32le(n, 8, kcrc(n, 0, 8));
  put_u32le(n, 12, ino);
  put_u32le(n, 16, version);
  put_u32le(n, 20, mode);
  put_u32le(n, 28, isize);
  put_u32le(n, 44, offset);
  put_u32le(n, 48, static_cast<uint32_t>(data.size()));
  put_u32le(n, 52, dsize);
  n[56] = compr;
  put_u32le(n, 60, ~crc32(ByteView(data.data(), data.size()), 0xFFFFFFFFu));
  put_u32le(n, 64, kcrc(n, 0, 60));
  append(n, data);
  while (n.size() % 4) n.push_back(0xFF);
  append(img, n);
}
void add_dirent(Bytes& img, uint32_t pino, uint32_t version, uint32_t ino, uint8_t type, const std::string& name) {
  Bytes n(40, 0);
  put_u16le(n, 0, 0x1985);
  put_u16le(n, 2, 0xE001);
  put_u32le(n, 4, static_cast<uint32_t>(40 + name.size()));
  put_u32le(n, 8, kcrc(n, 0, 8));
  put_u32le(n, 12, pino);
  put_u32le(n, 16, version);
  put_u32le(n, 20, ino);
  n[28] = static_cast<uint8_t>(name.size());
  n[29] = type;
  put_u32le(n, 32, kcrc(n, 0, 32));
  put_u32le(n, 36, ~crc32(ByteView(reinterpret_cast<const uint8_t*>(name.data()), name.size()), 0xFFFFFFFFu));
  append(n, name);
  while (n.size() % 4) n.push_back(0xFF);
  append(img, n);
}
}  // namespace

TEST_CASE("jffs2: sizes claimed by hostile nodes allocate only what the nodes cover, within the budget") {
  Bytes img;
  add_dirent(img, 1, 1, 2, 8, "huge-isize");
  add_inode(img, 2, 1, 0100644, 0xFFFFFFF0u, 0, 0, 5, Bytes{'h', 'e', 'l', 'l', 'o'});
  add_dirent(img, 1, 2, 3, 8, "zero-hole");
  add_inode(img, 3, 1, 0100644, 0xFFFFFFF0u, 0, 1 /* JFFS2_COMPR_ZERO */, 0xFFFFFFF0u, {});
  add_dirent(img, 1, 3, 4, 8, "big-dsize");
  add_inode(img, 4, 1, 0100644, 0x80000000u, 0, 6, 0x80000000u, zlib_compress(Bytes(100, 'x')));
  add_dirent(img, 1, 4, 5, 4, "loop");  // a directory whose child is itself
  add_inode(img, 5, 1, 040755, 0, 0, 0, 0, {});
  add_dirent(img, 5, 1, 5, 4, "again");
  add_dirent(img, 1, 5, 6, 8, "bad/name");
  ExtractLimits lim;
  lim.max_file_bytes = 8u << 20;
  ExtractResult r = read(img, false, lim);
  auto m = by_path(r);
  REQUIRE(m.count("/huge-isize"));
  CHECK(text_of(m["/huge-isize"]) == "hello");
  CHECK_FALSE(m["/huge-isize"]->complete);
  CHECK(any_diag(r, "cover only 5"));
  // The zero node's 4 GiB hole is cut by the ratio guard (1 MiB for a 68-byte node), flagged as a limit.
  CHECK(r.limited);
  CHECK(any_diag(r, "max_ratio"));
  CHECK(any_diag(r, "reached again"));
  CHECK(any_diag(r, "invalid name"));
  CHECK(m.count("/loop"));
  CHECK_FALSE(m.count("/loop/again/again"));
}

TEST_CASE("jffs2: the validator skips damage, counts nodes and is a dry run of the reader's scan") {
  Bytes img;
  add_dirent(img, 1, 1, 2, 8, "a");
  add_inode(img, 2, 1, 0100644, 3, 0, 0, 3, Bytes{'a', 'b', 'c'});
  Bytes garbage = random_bytes(100, 9);
  append(img, garbage);
  while (img.size() % 4) img.push_back(0);
  add_dirent(img, 1, 2, 3, 8, "b");
  add_inode(img, 3, 1, 0100644, 3, 0, 0, 3, Bytes{'x', 'y', 'z'});
  Bytes padded = img;
  padded.resize(img.size() + 4096, 0xFF);
  auto hit = validate("jffs2", padded);
  REQUIRE(hit);
  CHECK(hit->size == img.size());
  CHECK(contains(hit->description, "4 nodes"));
  CHECK(has_diag(*hit, "unrecognised data skipped"));
  ExtractResult r = read(padded);
  auto m = by_path(r);
  CHECK(text_of(m["/a"]) == "abc");
  CHECK(text_of(m["/b"]) == "xyz");
}

TEST_CASE("jffs2: streaming hands each file to the visitor and keeps only what it asks for") {
  Bytes img;
  add_dirent(img, 1, 1, 2, 8, "keep");
  add_inode(img, 2, 1, 0100644, 4, 0, 0, 4, Bytes{'k', 'e', 'e', 'p'});
  add_dirent(img, 1, 2, 3, 8, "drop");
  add_inode(img, 3, 1, 0100644, 4, 0, 0, 4, Bytes{'d', 'r', 'o', 'p'});
  Budget budget;
  ContainerReadOptions o;
  size_t seen = 0;
  o.visit = [&](size_t, const Entry& e, ByteView content) {
    ++seen;
    return e.path == "/keep" && content.size() == 4;
  };
  ExtractResult r = read_jffs2(ByteView(img.data(), img.size()), budget, o);
  auto m = by_path(r);
  CHECK(seen == 2);
  CHECK(text_of(m["/keep"]) == "keep");
  CHECK(m["/drop"]->content().empty());
  CHECK(m["/drop"]->unkept_size == 4);
}

TEST_CASE("jffs2 corpus: the s3linux /etc overlay and FACT's test images") {
  if (auto f = corpus_file("s3linux-files/rootfs.jffs2")) {
    Bytes b = read_file(*f);
    ExtractResult r = read(b);
    CHECK(r.diagnostics.empty());
    auto m = by_path(r);
    size_t files = 0, dirs = 0, links = 0;
    for (const auto& e : r.entries) {
      files += e.kind == EntryKind::File;
      dirs += e.kind == EntryKind::Directory;
      links += e.kind == EntryKind::Symlink;
    }
    CHECK(files == 34);
    CHECK(dirs == 9);
    CHECK(links == 4);
    CHECK(text_of(m["/hostname"]) == "buildroot\n");
    CHECK(text_of(m["/passwd"]).rfind("root:x:0:0:root:/root:/bin/sh\n", 0) == 0);
    CHECK(m["/mtab"]->link_target == "../proc/self/mounts");
    CHECK(m["/os-release"]->link_target == "../usr/lib/os-release");
    CHECK(m.count("/dropbear/dropbear_rsa_host_key"));
    CHECK(m["/init.d/rcS"]->mode == 0100755);
  }
  for (const char* name : {"jffs2_le.img", "jffs2_be.img"}) {
    auto f = corpus_file(std::string("fact_extractor/fact_extractor/plugins/unpacking/jffs2/test/data/") + name);
    if (!f) continue;
    Bytes b = read_file(*f);
    ExtractResult r = read(b);
    INFO(name);
    CHECK(r.diagnostics.empty());
    auto m = by_path(r);
    CHECK(r.entries.size() == 4);
    CHECK(text_of(m["/testfile1"]).rfind("test file:\ncontent: MyTestRule 1.2.3\n", 0) == 0);
    CHECK(text_of(m["/generic folder/test file 3_.txt"]).rfind("The third test file!", 0) == 0);
  }
}

TEST_CASE("jffs2: each byte comes from the newest node that covers it; the newest isize cuts") {
  Bytes img;
  add_dirent(img, 1, 1, 2, 8, "f");
  add_inode(img, 2, 1, 0100644, 10, 0, 6 /* zlib */, 10, zlib_compress(Bytes(10, 'A')));
  add_inode(img, 2, 3, 0100644, 10, 3, 0, 3, Bytes{'b', 'b', 'b'});
  add_inode(img, 2, 2, 0100644, 10, 5, 0, 4, Bytes{'c', 'c', 'c', 'c'});  // older than the 'b' node where they meet
  ExtractResult r = read(img);
  CHECK(text_of(by_path(r)["/f"]) == "AAAbbbcccA");
  add_inode(img, 2, 4, 0100644, 8, 0, 0, 0, {});  // truncation to 8 bytes
  r = read(img);
  CHECK(text_of(by_path(r)["/f"]) == "AAAbbbcc");
  // The version before the truncation is the older content include_deleted lists.
  r = read(img, true);
  CHECK(text_of(by_path(r)["/f;v3"]) == "AAAbbbcccA");
}

TEST_CASE("jffs2: an inode no directory entry names is listed under /lost+found, once") {
  Bytes img;
  add_dirent(img, 1, 1, 2, 8, "named");
  add_inode(img, 2, 1, 0100644, 2, 0, 0, 2, Bytes{'o', 'k'});
  add_inode(img, 9, 1, 0100600, 6, 0, 0, 6, Bytes{'s', 'e', 'c', 'r', 'e', 't'});  // its dirent was never written
  ExtractResult r = read(img);
  auto m = by_path(r);
  CHECK(r.entries.size() == 2);
  CHECK(text_of(m["/named"]) == "ok");
  REQUIRE(m.count("/lost+found/ino9"));
  CHECK(text_of(m["/lost+found/ino9"]) == "secret");
  CHECK(m["/lost+found/ino9"]->mode == 0100600);
  CHECK(any_diag(r, "no directory entry names it"));
}

TEST_CASE("jffs2: device nodes carry their numbers in the old 16-bit and the new 32-bit encoding") {
  Bytes img;
  add_dirent(img, 1, 1, 2, 2, "console");
  add_inode(img, 2, 1, 020600, 2, 0, 0, 2, Bytes{0x01, 0x05});  // old_id: major 5, minor 1 (little endian)
  add_dirent(img, 1, 2, 3, 6, "sda17");
  // new_encode_dev(8, 273): (273 & 0xff) | (8 << 8) | ((273 & ~0xff) << 12)
  const uint32_t dev = (273u & 0xff) | (8u << 8) | ((273u & ~0xffu) << 12);
  Bytes d(4);
  put_u32le(d, 0, dev);
  add_inode(img, 3, 1, 060660, 4, 0, 0, 4, d);
  ExtractResult r = read(img);
  auto m = by_path(r);
  REQUIRE(m.count("/console"));
  CHECK(m["/console"]->kind == EntryKind::CharDevice);
  CHECK(m["/console"]->rdev_major == 5);
  CHECK(m["/console"]->rdev_minor == 1);
  REQUIRE(m.count("/sda17"));
  CHECK(m["/sda17"]->kind == EntryKind::BlockDevice);
  CHECK(m["/sda17"]->rdev_major == 8);
  CHECK(m["/sda17"]->rdev_minor == 273);
}
