// read_squashfs3 (squashfs 2.x/3.x): the real images of the corpus (FACT's 2.x/3.x LE/BE zlib and LZMA samples,
// binwalk's big-endian 2.0 LZMA router image) checked against what Debian's unsquashfs lists and extracts; images of
// our own generator tests/tools/mksquashfs3.py (both orders, zlib and the vendor LZMA layouts) against their source
// tree; damaged, truncated and looping images; limits and streaming. Skips what needs an absent corpus or tool.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>

#include "fwcert/extract/containers.hpp"
#include "fwcert/formats/squashfs.hpp"
#include "support.hpp"

using namespace fwcert;
using namespace fwtest;
namespace fsys = std::filesystem;

namespace {

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

bool any_diag(const ExtractResult& r, const std::string& needle, Severity at_least = Severity::Info) {
  for (const auto& d : r.diagnostics)
    if (d.severity >= at_least && contains(d.message, needle)) return true;
  for (const auto& e : r.entries)
    for (const auto& d : e.diagnostics)
      if (d.severity >= at_least && contains(d.message, needle)) return true;
  return false;
}
bool any_error(const ExtractResult& r) { return any_diag(r, "", Severity::Error); }

std::map<std::string, const Entry*> by_path(const ExtractResult& r) {
  std::map<std::string, const Entry*> m;
  for (const auto& e : r.entries) m[e.path] = &e;
  return m;
}

std::string text(const Entry* e) {
  auto c = e->content();
  return std::string(reinterpret_cast<const char*>(c.data()), c.size());
}

ExtractResult read3(const Bytes& b, ExtractLimits limits = {}, const MemberVisitor& visit = {}) {
  Budget budget(limits);
  return read_squashfs3(ByteView(b.data(), b.size()), budget, visit);
}

bool have(const char* tool) { return std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) == 0; }

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

void write_file(const fsys::path& p, const std::string& content) {
  std::ofstream out(p, std::ios::binary);
  out << content;
}

struct TempDir {
  fsys::path root;
  TempDir() {
    char tmpl[] = "/tmp/fwcert-sqfs3-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    root = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fsys::remove_all(root, ec);
  }
};

// The generator's image of `src`, or empty when python3 or the script fails.
Bytes generate(const fsys::path& src, const fsys::path& out, bool be, const std::string& comp,
               const std::string& extra = "") {
  const std::string cmd = "python3 '" + source_dir() + "/tests/tools/mksquashfs3.py' '" + src.string() + "' '" +
                          out.string() + "' --comp " + comp + (be ? " --be" : "") + " " + extra + " 2>&1";
  if (std::system(cmd.c_str()) != 0) return {};
  return read_file(out.string());
}

const char* kFact = "fact_extractor/fact_extractor/plugins/unpacking/squashFS/test/data/";

}  // namespace

TEST_CASE("squashfs3: FACT's 2.x and 3.x samples, both byte orders, zlib and LZMA, read alike") {
  struct Case {
    const char* file;
    uint16_t major;
    const char* compression;  // as the walk's description names it
  };
  const Case cases[] = {{"zlib_le.sqfs3", 3, "compression:gzip,"},
                        {"zlib_be.sqfs3", 3, "compression:gzip,"},
                        {"lzma1_le.sqfs3", 3, "compression:lzma (headerless lc=3 lp=0 pb=2)"},
                        {"lzma1_be.sqfs3", 3, "compression:lzma (headerless lc=3 lp=0 pb=2)"},
                        {"lzma_le.sqfs2", 2, "compression:lzma (headerless lc=3 lp=0 pb=2)"},
                        {"lzma_be.sqfs2", 2, "compression:lzma (headerless lc=3 lp=0 pb=2)"}};
  for (const auto& c : cases) {
    auto p = corpus_file(std::string(kFact) + c.file);
    if (!p) return;
    INFO(c.file);
    Bytes img = read_file(*p);
    auto sb = squashfs::read_superblock(ByteView(img.data(), img.size()));
    REQUIRE(sb);
    CHECK(sb->major == c.major);
    CHECK(sb->big_endian == contains(c.file, "_be"));
    ExtractResult r = read3(img);
    CHECK_FALSE(any_error(r));
    auto m = by_path(r);
    REQUIRE(m.size() == 4);
    REQUIRE(m.count("/generic folder"));
    CHECK(m["/generic folder"]->kind == EntryKind::Directory);
    CHECK((m["/generic folder"]->mode & 07777) == 0755);
    REQUIRE(m.count("/testfile1"));
    CHECK(text(m["/testfile1"]) == "test file:\ncontent: MyTestRule 1.2.3\nVersion: Program 0.0.0.0\n");
    CHECK((m["/testfile1"]->mode & 07777) == 0644);
    CHECK(m["/testfile1"]->kind == EntryKind::File);
    CHECK(text(m["/testfile2"]) == "This is the second test file");
    REQUIRE(m.count("/generic folder/test file 3_.txt"));
    CHECK(text(m["/generic folder/test file 3_.txt"]) == "The third test file!");
    // The walk's probe names the compression it decoded.
    auto hit = validate("squashfs", img);
    REQUIRE(hit);
    CHECK(contains(hit->description, c.compression));
    CHECK(hit->confidence == Confidence::High);
    // The container table sends 2.x/3.x here whatever the byte order.
    Budget b;
    ExtractResult viaTable = find_container("squashfs")->read(ByteView(img.data(), img.size()), b, {});
    CHECK(viaTable.entries.size() == 4);
  }
}

TEST_CASE("squashfs3: FACT's zlib 3.1 samples equal what unsquashfs extracts") {
  if (!have("unsquashfs")) {
    WARN("unsquashfs not found (squashfs-tools): skipped");
    return;
  }
  for (const char* f : {"zlib_le.sqfs3", "zlib_be.sqfs3"}) {
    auto p = corpus_file(std::string(kFact) + f);
    if (!p) return;
    INFO(f);
    TempDir t;
    REQUIRE(std::system(("unsquashfs -d '" + (t.root / "u").string() + "' '" + *p + "' >/dev/null 2>&1").c_str()) == 0);
    ExtractResult r = read3(read_file(*p));
    size_t files = 0;
    for (const auto& e : r.entries) {
      const fsys::path theirs = t.root / "u" / e.path.substr(1);
      CHECK(fsys::exists(theirs));
      if (e.kind == EntryKind::File) {
        ++files;
        Bytes want = read_file(theirs.string());
        CHECK(Bytes(e.content().data(), e.content().data() + e.content().size()) == want);
      }
    }
    CHECK(files == 3);
  }
}

TEST_CASE("squashfs3: binwalk's big-endian 2.0 LZMA router image (5-byte LZMA header) matches unsquashfs -lls") {
  auto p = corpus_file("binwalk/tests/inputs/squashfs_v2.bin");
  if (!p) return;
  Bytes img = read_file(*p);
  ExtractResult r = read3(img);
  CHECK_FALSE(any_error(r));
  CHECK(any_diag(r, "compression lzma (5-byte header without size)"));
  auto m = by_path(r);
  CHECK(m.size() == 430);
  REQUIRE(m.count("/bin/busybox"));
  CHECK(m["/bin/busybox"]->size == 224756);
  CHECK(m["/bin/busybox"]->content().size() == 224756);
  CHECK(text(m["/bin/busybox"]).substr(0, 4) == "\x7f" "ELF");
  REQUIRE(m.count("/dev/mtdblock1"));
  CHECK(m["/dev/mtdblock1"]->kind == EntryKind::BlockDevice);
  CHECK(m["/dev/mtdblock1"]->rdev_major == 31);
  CHECK(m["/dev/mtdblock1"]->rdev_minor == 1);
  REQUIRE(m.count("/bin/adsl"));
  CHECK(m["/bin/adsl"]->link_target == "adslctl");
  auto hit = validate("squashfs", img);
  REQUIRE(hit);
  CHECK(contains(hit->description, "big endian, version 2.0, compression:lzma (5-byte header without size)"));

  if (!have("unsquashfs")) {
    WARN("unsquashfs not found: listing comparison skipped");
    return;
  }
  // unsquashfs lists 2.x without decompressing data (it cannot read this LZMA): path, type+permissions and file size.
  std::set<std::string> theirs, ours;
  std::istringstream ls(run("unsquashfs -lls '" + *p + "' 2>/dev/null"));
  for (std::string line; std::getline(ls, line);) {
    auto at = line.find(" squashfs-root/");
    if (at == std::string::npos) continue;
    std::string perm = line.substr(0, 10), path = line.substr(at + 14);
    if (auto arrow = path.find(" -> "); arrow != std::string::npos) path.resize(arrow);
    std::istringstream f(line);
    std::string a, b, size;
    f >> a >> b >> size;
    theirs.insert(perm + " " + path + (perm[0] == '-' ? " " + size : ""));
  }
  for (const auto& e : r.entries) {
    static const char* kTypes = "?pc?d?b?-?l?s";  // by S_IFMT >> 12
    std::string perm(1, kTypes[(e.mode >> 12) & 0xF]);
    for (int i = 8; i >= 0; --i) perm += (e.mode >> i) & 1 ? "rwxrwxrwx"[8 - i] : '-';
    ours.insert(perm + " " + e.path + (e.kind == EntryKind::File ? " " + std::to_string(e.size) : ""));
  }
  CHECK(theirs.size() == 430);
  CHECK(ours == theirs);
}

TEST_CASE("squashfs3: our generator's 3.1 images, both orders, zlib and vendor LZMA, give back the source tree") {
  if (!have("python3")) {
    WARN("python3 not found: skipped");
    return;
  }
  TempDir t;
  const fsys::path src = t.root / "src";
  fsys::create_directories(src / "etc/ssl/private");
  fsys::create_directories(src / "usr/share/empty");
  std::string big;
  std::mt19937 rng(3);
  const char* words[] = {"squash", "cert", "key", "block", "fragment"};
  while (big.size() < 300000) big += std::string(words[rng() % 5]) + " ";
  write_file(src / "usr/share/multi-block.txt", big);          // 4 full 64 KiB blocks and a tail in a fragment
  const std::string key = "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n";
  write_file(src / "etc/ssl/private/server.key", key);
  write_file(src / "etc/motd", "hello");                         // packed into a fragment with the other tails
  std::string rnd(70000, '\0');
  for (auto& ch : rnd) ch = static_cast<char>(rng());
  write_file(src / "random.bin", rnd);                           // incompressible: a block stored uncompressed
  fsys::create_symlink("etc/motd", src / "motd-link");

  for (bool be : {false, true}) {
    for (const char* comp : {"zlib", "lzma", "lzma-nosize", "lzma-raw", "lzma-ddwrt", "none"}) {
      INFO((be ? "big endian " : "little endian ") << comp);
      Bytes img = generate(src, t.root / "img.sqfs", be, comp);
      REQUIRE_FALSE(img.empty());
      ExtractResult r = read3(img);
      CHECK_FALSE(any_error(r));
      auto m = by_path(r);
      CHECK(m.size() == 11);
      REQUIRE(m.count("/usr/share/multi-block.txt"));
      CHECK(text(m["/usr/share/multi-block.txt"]) == big);
      CHECK(text(m["/random.bin"]) == rnd);
      CHECK(text(m["/etc/motd"]) == "hello");
      REQUIRE(m.count("/motd-link"));
      CHECK(m["/motd-link"]->link_target == "etc/motd");
      CHECK(m["/motd-link"]->kind == EntryKind::Symlink);
      REQUIRE(m.count("/usr/share/empty"));
      CHECK(m["/usr/share/empty"]->kind == EntryKind::Directory);
      CHECK(m["/etc/motd"]->uid == 1000);
      CHECK(m["/etc/motd"]->gid == 100);
      CHECK(m["/etc/motd"]->mtime == 1600000000);
      if (std::string(comp) != "zlib" && std::string(comp) != "none") {
        auto hit = validate("squashfs", img);
        REQUIRE(hit);
        CHECK(contains(hit->description, "compression:lzma ("));
        const std::map<std::string, std::string> variant = {{"lzma", "13-byte header"},
                                                            {"lzma-nosize", "5-byte header without size"},
                                                            {"lzma-raw", "headerless lc=3 lp=0 pb=2"},
                                                            {"lzma-ddwrt", "DD-WRT per-block properties"}};
        CHECK(contains(hit->description, variant.at(comp)));
      }

      // Streaming: every file is handed to the visitor, nothing kept when it says no.
      size_t visited = 0;
      ExtractResult s = read3(img, {}, [&](size_t, const Entry&, ByteView c) {
        visited += c.size();
        return false;
      });
      CHECK(visited == big.size() + rnd.size() + 5 + key.size());
      for (const auto& e : s.entries)
        if (e.kind == EntryKind::File) CHECK((e.content().size() == 0 && e.unkept_size == e.size));
    }
  }
}

TEST_CASE("squashfs3: truncated and bit-flipped images give diagnostics, never a crash") {
  if (!have("python3")) {
    WARN("python3 not found: skipped");
    return;
  }
  TempDir t;
  const fsys::path src = t.root / "src";
  fsys::create_directories(src / "a/b");
  std::string text_data;
  for (int i = 0; i < 20000; ++i) text_data += std::to_string(i) + ",";
  write_file(src / "a/b/data.txt", text_data);
  write_file(src / "a/small", "tail");
  fsys::create_symlink("a/small", src / "link");
  for (const char* comp : {"zlib", "lzma-raw"}) {
    for (bool be : {false, true}) {
      INFO(comp << (be ? " BE" : " LE"));
      const Bytes good = generate(src, t.root / "img.sqfs", be, comp);
      REQUIRE_FALSE(good.empty());
      const uint64_t used = squashfs::read_superblock(ByteView(good.data(), good.size()))->bytes_used;
      for (uint64_t n = 0; n < used; n += 37) {
        Bytes cut(good.begin(), good.begin() + static_cast<long>(n));
        ExtractResult r = read3(cut);
        CHECK_FALSE(r.diagnostics.empty());
      }
      std::mt19937 rng(be ? 11 : 12);
      size_t damaged = 0;
      for (int i = 0; i < 600; ++i) {
        Bytes b = good;
        for (int k = 0; k < 3; ++k) b[rng() % used] ^= static_cast<uint8_t>(1u << (rng() % 8));
        ExtractResult r = read3(b);
        bool intact = r.entries.size() == 5 && !any_error(r);
        if (!intact) ++damaged;
      }
      CHECK(damaged > 0);  // the flips did reach the structures
    }
  }
}

TEST_CASE("squashfs3: a directory listing that names the root again is not followed") {
  if (!have("python3")) {
    WARN("python3 not found: skipped");
    return;
  }
  TempDir t;
  const fsys::path src = t.root / "src";
  fsys::create_directories(src / "a");
  write_file(src / "a/x.txt", "x");
  // Uncompressed metadata, little endian: inodes x.txt, a, root; listings of a, then of the root ("a").
  Bytes img = generate(src, t.root / "img.sqfs", false, "none");
  REQUIRE_FALSE(img.empty());
  auto sb = squashfs::read_superblock(ByteView(img.data(), img.size()));
  REQUIRE(sb);
  const uint32_t root_off = static_cast<uint32_t>(sb->root_inode & 0xFFFF);
  const size_t listing_a = 9 + 5 + 5;                          // header, entry, "x.txt"
  const size_t entry = sb->directory_table + 2 + listing_a + 9;  // the root listing's entry "a"
  REQUIRE(img[entry + 5] == 'a');
  const uint16_t w = static_cast<uint16_t>(img[entry] | (img[entry + 1] << 8));
  put_u16le(img, entry, static_cast<uint16_t>((w & 0xE000) | root_off));  // "a" -> the root inode
  ExtractResult r = read3(img);
  auto m = by_path(r);
  CHECK(m.size() == 1);
  REQUIRE(m.count("/a"));
  CHECK(m["/a"]->kind == EntryKind::Directory);
  CHECK(any_diag(r, "not descended"));
}

TEST_CASE("squashfs3: entry and byte limits stop the reader with a diagnostic") {
  auto p = corpus_file("binwalk/tests/inputs/squashfs_v2.bin");
  if (!p) return;
  Bytes img = read_file(*p);
  ExtractLimits few;
  few.max_entries = 10;
  ExtractResult r = read3(img, few);
  CHECK(r.limited);
  CHECK(r.entries.size() == 10);
  CHECK(any_diag(r, "entry limit"));
  ExtractLimits small;
  small.max_total_bytes = 100000;
  ExtractResult s = read3(img, small);
  CHECK(s.limited);
  uint64_t total = 0;
  for (const auto& e : s.entries) total += e.content().size();
  CHECK(total <= 100000);
}

TEST_CASE("squashfs3: big-endian 4.0 is detected and reported, not read") {
  auto p = corpus_file(std::string(kFact) + "avm_be.sqfs4");
  if (!p) return;
  Bytes img = read_file(*p);
  auto hit = validate("squashfs", img);
  REQUIRE(hit);
  CHECK(contains(hit->description, "big endian, version 4.0"));
  Budget b;
  ExtractResult r = find_container("squashfs")->read(ByteView(img.data(), img.size()), b, {});
  CHECK(r.entries.empty());
  CHECK(any_diag(r, "big-endian squashfs 4.0", Severity::Error));
}
