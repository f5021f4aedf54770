// read_squashfs: synthetic images built at test time with mksquashfs (skipped when squashfs-tools is absent),
// damaged copies of them, hand-made directory loops, limits, and the squashfs images of the corpus.
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>

#include "fwcert/extract/readers.hpp"
#include "support.hpp"

using namespace fwcert;
using namespace fwtest;
namespace fsys = std::filesystem;

namespace {

bool have_mksquashfs() { return std::system("command -v mksquashfs >/dev/null 2>&1") == 0; }

std::string md5_hex(ByteView v) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(v.data(), v.size(), md, &n, EVP_md5(), nullptr) != 1) return "";
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < n; ++i) {
    s += digits[md[i] >> 4];
    s += digits[md[i] & 15];
  }
  return s;
}

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

bool any_diag(const ExtractResult& r, const std::string& needle) {
  for (const auto& d : r.diagnostics)
    if (contains(d.message, needle)) return true;
  for (const auto& e : r.entries)
    for (const auto& d : e.diagnostics)
      if (contains(d.message, needle)) return true;
  return false;
}

size_t diag_count(const ExtractResult& r) {
  size_t n = r.diagnostics.size();
  for (const auto& e : r.entries) n += e.diagnostics.size();
  return n;
}

std::map<std::string, const Entry*> by_path(const ExtractResult& r) {
  std::map<std::string, const Entry*> m;
  for (const auto& e : r.entries) m[e.path] = &e;
  return m;
}

ExtractResult read(const Bytes& b, ExtractLimits limits = {}) {
  Budget budget(limits);
  return read_squashfs(ByteView(b.data(), b.size()), budget);
}

void write_file(const fsys::path& p, const Bytes& content, mode_t mode) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(content.data()), static_cast<std::streamsize>(content.size()));
  out.close();
  REQUIRE(::chmod(p.c_str(), mode) == 0);
}

// A temporary source tree: files, a nested subdirectory, a symlink, a setuid file, an empty file, a 1 MiB file, a
// hard link and empty directories (first in the root, first in /etc, last in /usr/share/deep: an empty directory once
// hid every directory listed after it). Removed at the end of the test.
struct SourceTree {
  fsys::path root;
  SourceTree() {
    char tmpl[] = "/tmp/fwcert-sqfs-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    root = tmpl;
    fsys::create_directories(root / "etc");
    fsys::create_directories(root / "usr/share/deep");
    fsys::create_directories(root / "a-empty-dir");
    fsys::create_directories(root / "etc/0-empty");
    fsys::create_directories(root / "usr/share/deep/z-empty");
    write_file(root / "etc/passwd", Bytes{'r', 'o', 'o', 't', ':', 'x', ':', '0', '\n'}, 0644);
    write_file(root / "etc/shadow", Bytes{'r', 'o', 'o', 't', ':', '*', '\n'}, 0600);
    write_file(root / "usr/share/deep/notes.txt", Bytes(5000, 'n'), 0640);
    write_file(root / "empty", Bytes{}, 0644);
    write_file(root / "su", random_bytes(3000, 11), 04755);
    write_file(root / "big.bin", random_bytes(size_t{1} << 20, 12), 0644);
    fsys::create_symlink("etc/passwd", root / "passwd-link");
    fsys::create_hard_link(root / "etc/shadow", root / "shadow-hard");
    REQUIRE(::chmod((root / "usr/share").c_str(), 0750) == 0);
  }
  ~SourceTree() {
    std::error_code ec;
    fsys::remove_all(root, ec);
  }
  // Builds an image; extra mksquashfs options after the defaults. Empty when mksquashfs failed.
  Bytes image(const std::string& comp, const std::string& extra = "") const {
    fsys::path out = root.string() + "." + comp + ".sqfs";
    std::string cmd = "mksquashfs '" + root.string() + "' '" + out.string() + "' -comp " + comp +
                      " -noappend -no-progress -quiet -all-time 1600000000 -force-uid 1000 -force-gid 100 " +
                      "-p 'dev d 0755 0 0' -p 'dev/ttyS9 c 0620 0 5 4 300' -p 'dev/sda1 b 0660 0 6 8 1' " + extra +
                      " >/dev/null 2>&1";
    int rc = std::system(cmd.c_str());
    Bytes b;
    if (rc == 0) b = fwtest::read_file(out.string());
    std::error_code ec;
    fsys::remove(out, ec);
    return b;
  }
};

// Every file, directory and symlink of the source tree appears with the same content, mode and target.
void check_against_tree(const SourceTree& t, const ExtractResult& r) {
  auto m = by_path(r);
  size_t seen = 0;
  for (auto it = fsys::recursive_directory_iterator(t.root); it != fsys::recursive_directory_iterator(); ++it) {
    std::string rel = "/" + it->path().lexically_relative(t.root).string();
    INFO(rel);
    struct stat st {};
    REQUIRE(::lstat(it->path().c_str(), &st) == 0);
    REQUIRE(m.count(rel) == 1);
    const Entry& e = *m[rel];
    ++seen;
    CHECK(e.mode == st.st_mode);
    CHECK(e.uid == 1000);
    CHECK(e.gid == 100);
    CHECK(e.mtime == 1600000000);
    CHECK(e.complete);
    CHECK(e.diagnostics.empty());
    if (S_ISREG(st.st_mode)) {
      CHECK(e.kind == EntryKind::File);
      Bytes want = fwtest::read_file(it->path().string());
      ByteView got = e.content();
      REQUIRE(got.size() == want.size());
      CHECK(e.size == want.size());
      CHECK(std::equal(want.begin(), want.end(), got.data()));
    } else if (S_ISDIR(st.st_mode)) {
      CHECK(e.kind == EntryKind::Directory);
    } else if (S_ISLNK(st.st_mode)) {
      CHECK(e.kind == EntryKind::Symlink);
      CHECK(e.link_target == fsys::read_symlink(it->path()).string());
    }
  }
  // Plus the pseudo devices and their directory: /dev, /dev/ttyS9, /dev/sda1.
  CHECK(r.entries.size() == seen + 3);
  REQUIRE(m.count("/dev/ttyS9") == 1);
  CHECK(m["/dev/ttyS9"]->kind == EntryKind::CharDevice);
  CHECK(m["/dev/ttyS9"]->mode == 020620);
  CHECK(m["/dev/ttyS9"]->rdev_major == 4);
  CHECK(m["/dev/ttyS9"]->rdev_minor == 300);  // above 255: exercises the split minor encoding
  REQUIRE(m.count("/dev/sda1") == 1);
  CHECK(m["/dev/sda1"]->kind == EntryKind::BlockDevice);
  CHECK(m["/dev/sda1"]->rdev_major == 8);
  CHECK(m["/dev/sda1"]->rdev_minor == 1);
  CHECK(m.count("/") == 0);
  CHECK(m.count("") == 0);
}

}  // namespace

TEST_CASE("squashfs: synthetic images, every compressor", "[squashfs]") {
  if (!have_mksquashfs()) {
    WARN("mksquashfs not found: skipped");
    return;
  }
  SourceTree t;
  // The Debian build of libsquashfs 1.2.0 links zlib, liblzma, liblz4 and libzstd; LZO is our own (liblzo2).
  for (std::string comp : {"gzip", "xz", "lzma", "lz4", "zstd", "lzo"}) {
    SECTION(comp) {
      Bytes img = t.image(comp);
      REQUIRE(!img.empty());
      auto r = read(img);
      INFO(comp);
      CHECK(r.diagnostics.empty());
      CHECK_FALSE(r.limited);
      check_against_tree(t, r);
      // The setuid bit survives, and the hard link is a second entry with the same content.
      auto m = by_path(r);
      CHECK(m["/su"]->mode == 0104755);
      CHECK(m["/shadow-hard"]->content().as_string_view() == "root:*\n");
      CHECK(m["/empty"]->content().size() == 0);
      CHECK(m["/big.bin"]->content().size() == (size_t{1} << 20));
    }
  }
  SECTION("gzip with uncompressed tables and data, no fragments, 4 KiB blocks") {
    Bytes img = t.image("gzip", "-noI -noD -noF -no-fragments -b 4096");
    REQUIRE(!img.empty());
    auto r = read(img);
    CHECK(r.diagnostics.empty());
    check_against_tree(t, r);
  }
  SECTION("xz with the x86 filter and compressor options") {
    Bytes img = t.image("xz", "-Xbcj x86 -Xdict-size 50%");
    REQUIRE(!img.empty());
    auto r = read(img);
    CHECK(r.diagnostics.empty());
    check_against_tree(t, r);
  }
}

TEST_CASE("squashfs: streaming hands each file to the visitor and keeps only what it asks for", "[squashfs]") {
  // A scan keeps what has something inside: memory follows what is kept, not the filesystem's decompressed size.
  if (!have_mksquashfs()) {
    WARN("mksquashfs not found: skipped");
    return;
  }
  SourceTree t;
  Bytes img = t.image("gzip");
  REQUIRE(!img.empty());
  Budget budget;
  std::map<std::string, size_t> seen;  // path -> content size handed to the visitor
  std::map<size_t, std::string> index;  // entry index the visitor was given -> path
  MemberVisitor visit = [&](size_t k, const Entry& e, ByteView content) {
    seen[e.path] = content.size();
    index[k] = e.path;
    return e.path == "/etc/passwd";
  };
  ExtractResult r = read_squashfs(ByteView(img.data(), img.size()), budget, visit);
  CHECK(r.diagnostics.empty());
  for (const auto& [k, path] : index) {
    REQUIRE(k < r.entries.size());
    CHECK(r.entries[k].path == path);
  }
  auto m = by_path(r);
  REQUIRE(m.count("/big.bin"));
  CHECK(m["/big.bin"]->content().empty());
  CHECK(m["/big.bin"]->unkept_size == (uint64_t{1} << 20));
  CHECK(seen["/big.bin"] == (size_t{1} << 20));
  CHECK(m["/etc/passwd"]->content().as_string_view() == "root:x:0\n");
  CHECK(m["/etc/passwd"]->unkept_size == 0);
  CHECK(m["/usr/share/deep/notes.txt"]->content().empty());
  CHECK(seen["/usr/share/deep/notes.txt"] == 5000);
  // Without a visitor everything is kept, as before.
  Budget again;
  const ExtractResult whole = read_squashfs(ByteView(img.data(), img.size()), again);
  auto all = by_path(whole);
  CHECK(all["/big.bin"]->content().size() == (size_t{1} << 20));
}

TEST_CASE("squashfs: lzo images, every lzo algorithm, and damaged lzo blocks", "[squashfs]") {
  if (!have_mksquashfs()) {
    WARN("mksquashfs not found: skipped");
    return;
  }
  SourceTree t;
  // mksquashfs offers lzo1x_1 .. lzo1x_999 (with a level for 999): one decompressor reads them all. The options
  // block is written for the non-default ones.
  for (std::string extra : {"", "-Xalgorithm lzo1x_1", "-Xalgorithm lzo1x_1_15",
                            "-Xalgorithm lzo1x_999 -Xcompression-level 1", "-noI -b 4096"}) {
    INFO(extra);
    Bytes img = t.image("lzo", extra);
    REQUIRE(!img.empty());
    auto r = read(img);
    CHECK(r.diagnostics.empty());
    check_against_tree(t, r);
  }
  // Damaged LZO blocks are errors, never a crash or an overrun: flips in the compressed metadata (inode table to the
  // end) and in the compressed fragment block just before it (the small files' tails).
  Bytes img = t.image("lzo");
  REQUIRE(!img.empty());
  const uint64_t meta = *ByteView(img.data(), img.size()).u64le(64);
  const uint64_t used = *ByteView(img.data(), img.size()).u64le(40);
  REQUIRE(meta > 8192);
  REQUIRE(used <= img.size());
  std::mt19937 rng(99);
  size_t damaged = 0;
  for (int round = 0; round < 200; ++round) {
    Bytes b = img;
    const uint64_t from = round % 2 ? meta : meta - 8192;
    for (int i = 0, n = 1 + static_cast<int>(rng() % 3); i < n; ++i)
      b[from + rng() % (used - from)] ^= static_cast<uint8_t>(1u << (rng() % 8));
    auto r = read(b);
    if (diag_count(r) > 0) ++damaged;
    for (const auto& e : r.entries) {
      INFO("round " << round << " " << e.path);
      if (!e.complete) CHECK(!e.diagnostics.empty());
      CHECK(e.content().size() <= e.size);
    }
  }
  INFO(damaged << " of 200 damaged images noticed");
  CHECK(damaged > 20);
}

TEST_CASE("squashfs: truncated images never crash and are reported", "[squashfs]") {
  if (!have_mksquashfs()) {
    WARN("mksquashfs not found: skipped");
    return;
  }
  SourceTree t;
  for (std::string comp : {"gzip", "xz"}) {
    Bytes img = t.image(comp);
    REQUIRE(img.size() > 4096);
    const uint64_t used = *ByteView(img.data(), img.size()).u64le(40);  // bytes_used
    REQUIRE(used <= img.size());
    std::vector<size_t> cuts = {0, 1, 4, 95, 96, 97, 200};
    for (size_t n = 256; n < used; n += 997) cuts.push_back(n);
    for (size_t back = 1; back < 64; ++back) cuts.push_back(used - back);
    for (size_t n : cuts) {
      INFO(comp << " cut at " << n << " of " << used);
      Bytes part(img.begin(), img.begin() + static_cast<long>(n));
      auto r = read(part);
      // Everything the image needs lies before bytes_used, so any cut before it is noticed.
      CHECK(!r.diagnostics.empty());
      for (const auto& e : r.entries)
        if (!e.complete) CHECK(!e.diagnostics.empty());
    }
  }
}

TEST_CASE("squashfs: bit-flipped images never crash", "[squashfs]") {
  if (!have_mksquashfs()) {
    WARN("mksquashfs not found: skipped");
    return;
  }
  SourceTree t;
  for (std::string comp : {"gzip", "xz"}) {
    // Uncompressed metadata lets flips reach inode and directory fields instead of only breaking a compressed block.
    for (std::string extra : {"", "-noI -noD -noF"}) {
      Bytes img = t.image(comp, extra);
      REQUIRE(!img.empty());
      const uint64_t used = *ByteView(img.data(), img.size()).u64le(40);
      // Superblock and tables (inode table to the end): squashfs has no checksums, so flips in stored-uncompressed
      // file data go unnoticed by design; flips here must be noticed in most rounds.
      const uint64_t meta = *ByteView(img.data(), img.size()).u64le(64);
      REQUIRE(meta < used);
      std::mt19937 rng(comp == "gzip" ? 1234u : 5678u);
      size_t damaged = 0;
      for (int round = 0; round < 200; ++round) {
        Bytes b = img;
        int flips = 1 + static_cast<int>(rng() % 4);
        for (int i = 0; i < flips; ++i) {
          size_t at = round % 2 ? meta + rng() % (used - meta) : rng() % used;
          if (round % 10 == 0) at = rng() % 96;
          b[at] ^= static_cast<uint8_t>(1u << (rng() % 8));
        }
        ExtractLimits lim;
        lim.max_total_bytes = 64 << 20;
        auto r = read(b, lim);
        if (diag_count(r) > 0) ++damaged;
        for (const auto& e : r.entries) {
          INFO(comp << " " << extra << " round " << round << " " << e.path);
          if (!e.complete) CHECK(!e.diagnostics.empty());
          CHECK(e.content().size() <= e.size);
        }
      }
      INFO(comp << " " << extra);
      CHECK(damaged > 20);
    }
  }
}

namespace {

// In an image with uncompressed metadata (-noI -noD), repoint the listing of directory inode `victim_name`'s inode to
// the root directory's listing, building a directory that contains itself's ancestor (a loop).
struct DirInode {
  size_t at;  // offset of the basic directory inode in the image
  uint32_t start_block;
  uint16_t offset;
};

std::vector<DirInode> basic_dir_inodes(const Bytes& img) {
  ByteView v(img.data(), img.size());
  const uint64_t inode_table = *v.u64le(64), dir_table = *v.u64le(72);
  std::vector<DirInode> out;
  // Uncompressed metadata blocks: a 2-byte header (bit 15 = uncompressed) then up to 8 KiB of inodes. Scan for basic
  // directory inodes (type 1, mode with no type bits set by mksquashfs beyond permissions) by their fixed layout.
  for (uint64_t blk = inode_table; blk + 2 < dir_table;) {
    uint16_t hdr = *v.u16le(blk);
    uint64_t len = hdr & 0x7fff;
    for (uint64_t p = blk + 2; p + 32 <= blk + 2 + len; ++p) {
      if (*v.u16le(p) != 1) continue;
      uint32_t nlink = *v.u32le(p + 20);
      uint16_t size = *v.u16le(p + 24);
      if (*v.u32le(p + 8) != 1600000000 || nlink < 2 || nlink > 10 || size < 3) continue;
      out.push_back({static_cast<size_t>(p), *v.u32le(p + 16), *v.u16le(p + 26)});
    }
    blk += 2 + len;
  }
  return out;
}

}  // namespace

TEST_CASE("squashfs: directory loops are cut, not followed", "[squashfs]") {
  if (!have_mksquashfs()) {
    WARN("mksquashfs not found: skipped");
    return;
  }
  SourceTree t;
  Bytes img = t.image("gzip", "-noI -noD -noF -noId -no-exports");
  REQUIRE(!img.empty());
  auto clean = read(img);
  REQUIRE(clean.diagnostics.empty());
  auto dirs = basic_dir_inodes(img);
  // Root, /dev, /etc, /usr, /usr/share, /usr/share/deep.
  REQUIRE(dirs.size() >= 2);
  // The root inode is written last by mksquashfs; point every other directory at the root's listing.
  const DirInode root = dirs.back();
  Bytes looped = img;
  for (size_t i = 0; i + 1 < dirs.size(); ++i) {
    put_u32le(looped, dirs[i].at + 16, root.start_block);
    put_u16le(looped, dirs[i].at + 26, root.offset);
  }
  auto r = read(looped);
  CHECK(any_diag(r, "already read"));
  CHECK(r.entries.size() < clean.entries.size() + 10);
  // The root's own files are still there.
  auto m = by_path(r);
  CHECK(m.count("/big.bin") == 1);
}

namespace {

// The directory entry named `name` in an image whose directory table is one uncompressed metadata block (-noI): its
// offset in the image. An entry is u16 inode offset, s16 inode number difference, u16 type, u16 name length - 1, name.
size_t dir_entry_at(const Bytes& img, const std::string& name) {
  ByteView v(img.data(), img.size());
  const uint64_t dir_table = *v.u64le(72);
  const uint16_t hdr = *v.u16le(dir_table);
  REQUIRE((hdr & 0x8000) != 0);  // stored uncompressed
  const size_t begin = dir_table + 2, end = begin + (hdr & 0x7fff);
  REQUIRE(end <= img.size());
  size_t found = 0, count = 0;
  for (size_t p = begin; p + 8 + name.size() <= end; ++p) {
    if (*v.u16le(p + 6) + 1u == name.size() && std::equal(name.begin(), name.end(), img.begin() + p + 8) &&
        *v.u16le(p + 4) >= 1 && *v.u16le(p + 4) <= 14) {
      found = p;
      ++count;
    }
  }
  REQUIRE(count == 1);
  return found;
}

}  // namespace

// Every directory is expanded once, keyed on its inode: an entry naming an ancestor (a loop) or two entries naming one
// directory inode (a DAG, exponential if expanded at every reference) are cut with a diagnostic.
TEST_CASE("squashfs: crafted loops and shared directory inodes are cut", "[squashfs]") {
  if (!have_mksquashfs()) {
    WARN("mksquashfs not found: skipped");
    return;
  }
  SourceTree t;
  Bytes img = t.image("gzip", "-noI -noD -noF -noId -no-exports");
  REQUIRE(!img.empty());
  ByteView v(img.data(), img.size());
  const uint64_t root_ref = *v.u64le(32);
  // A small image: every inode lies in the first inode metadata block, so an entry's inode offset alone picks it.
  REQUIRE((root_ref >> 16) == 0);
  REQUIRE(*v.u16le(*v.u64le(64)) == (0x8000 | (*v.u64le(72) - *v.u64le(64) - 2)));
  auto clean = read(img);
  REQUIRE(clean.diagnostics.empty());

  SECTION("loop: /usr/share/deep names the root") {
    Bytes b = img;
    put_u16le(b, dir_entry_at(b, "deep"), static_cast<uint16_t>(root_ref & 0xffff));
    auto r = read(b);
    CHECK(any_diag(r, "/usr/share/deep: not descended: directory inode"));
    CHECK(any_diag(r, "was already read as / (directory loop"));
    auto m = by_path(r);
    CHECK(m.count("/usr/share/deep") == 1);
    CHECK(m.count("/usr/share/deep/notes.txt") == 0);
    CHECK(m.count("/usr/share/deep/big.bin") == 0);
    // Everything else is there once.
    CHECK(r.entries.size() == clean.entries.size() - 2);
    CHECK(m.count("/su") == 1);
  }
  SECTION("DAG: /etc and /usr name one directory inode") {
    Bytes b = img;
    const size_t etc = dir_entry_at(b, "etc"), usr = dir_entry_at(b, "usr");
    put_u16le(b, etc, *ByteView(b.data(), b.size()).u16le(usr));
    auto r = read(b);
    CHECK(any_diag(r, "/usr: not descended: directory inode"));
    CHECK(any_diag(r, "was already read as /etc"));
    auto m = by_path(r);
    CHECK(m.count("/etc/share/deep/notes.txt") == 1);
    CHECK(m.count("/etc/passwd") == 0);
    CHECK(m.count("/usr") == 1);
    CHECK(m.count("/usr/share") == 0);
    // /etc/passwd, /etc/shadow and /etc/0-empty are gone; /usr's three entries now appear under /etc.
    CHECK(r.entries.size() == clean.entries.size() - 3);
  }
}

TEST_CASE("squashfs: limits stop the reader with a diagnostic", "[squashfs]") {
  if (!have_mksquashfs()) {
    WARN("mksquashfs not found: skipped");
    return;
  }
  SourceTree t;
  Bytes img = t.image("gzip");
  REQUIRE(!img.empty());
  SECTION("entries") {
    ExtractLimits lim;
    lim.max_entries = 3;
    auto r = read(img, lim);
    CHECK(r.limited);
    CHECK(r.entries.size() == 3);
    CHECK(any_diag(r, "entry limit"));
  }
  SECTION("one file") {
    ExtractLimits lim;
    lim.max_file_bytes = 1000;
    auto r = read(img, lim);
    CHECK(r.limited);
    auto m = by_path(r);
    REQUIRE(m.count("/big.bin") == 1);
    const Entry& e = *m["/big.bin"];
    CHECK_FALSE(e.complete);
    REQUIRE(e.content().size() == 1000);
    Bytes want = random_bytes(size_t{1} << 20, 12);
    CHECK(std::equal(want.begin(), want.begin() + 1000, e.content().data()));
    CHECK(any_diag(r, "content cut at 1000"));
    // Other files are whole.
    CHECK(m["/etc/passwd"]->complete);
    CHECK(m["/etc/passwd"]->content().as_string_view() == "root:x:0\n");
  }
  SECTION("total bytes") {
    ExtractLimits lim;
    lim.max_total_bytes = 100000;
    Budget budget(lim);
    auto r = read_squashfs(ByteView(img.data(), img.size()), budget);
    CHECK(r.limited);
    CHECK(budget.used_bytes() <= 100000);
    CHECK(any_diag(r, "limit"));
  }
}

// Found by tests/fuzz/fuzz_squashfs: libsquashfs allocates the whole fragment table (16 bytes an entry) before
// reading it, so a claimed count of 0x2A000001 asked malloc for 10.5 GiB. The count is now checked against the room
// its index has in the image first; the directory tree and the files without fragments are still read.
TEST_CASE("squashfs: a fragment count the image cannot hold is refused before any allocation", "[squashfs]") {
  if (!have_mksquashfs()) {
    WARN("mksquashfs not found: skipped");
    return;
  }
  SourceTree t;
  Bytes img = t.image("gzip");
  REQUIRE(img.size() > 96);
  const uint32_t claimed = 0x2A000001;
  for (int i = 0; i < 4; ++i) img[16 + i] = static_cast<uint8_t>(claimed >> (8 * i));
  auto r = read(img);
  CHECK(any_diag(r, "claims 704643073 fragments"));
  auto m = by_path(r);
  REQUIRE(m.count("/big.bin") == 1);
  CHECK(m["/big.bin"]->complete);
  CHECK(m["/big.bin"]->content().size() == (size_t{1} << 20));
  CHECK(m.count("/etc/passwd") == 1);
}

TEST_CASE("squashfs: not squashfs, other versions and byte orders", "[squashfs]") {
  CHECK(any_diag(read(Bytes{}), "too short"));
  CHECK(any_diag(read(random_bytes(4096, 3)), "invalid superblock"));
  Bytes v3(4096, 0);
  std::copy_n("hsqs", 4, v3.begin());
  put_u16le(v3, 28, 3);
  put_u16le(v3, 30, 1);
  CHECK(any_diag(read(v3), "version 3.1 is not supported"));
  Bytes be(4096, 0);
  std::copy_n("sqsh", 4, be.begin());
  CHECK(any_diag(read(be), "big-endian"));
  // A valid v4 header naming an unknown compressor.
  if (have_mksquashfs()) {
    SourceTree t;
    Bytes img = t.image("gzip");
    REQUIRE(!img.empty());
    put_u16le(img, 20, 9);
    auto r = read(img);
    CHECK(r.entries.empty());
    CHECK(any_diag(r, "compressor id 9 not supported"));
  }
}

// --- corpus ---------------------------------------------------------------------------------------------------------

TEST_CASE("squashfs corpus: binwalk squashfs.bin (gzip)", "[squashfs][corpus]") {
  auto path = corpus_file("binwalk/tests/inputs/squashfs.bin");
  if (!path) return;
  Bytes img = fwtest::read_file(*path);
  auto r = read(img);
  CHECK(r.diagnostics.empty());
  bool found = false;
  for (const auto& e : r.entries) {
    if (e.path.size() >= 11 && e.path.compare(e.path.size() - 11, 11, "lsb-release") == 0) {
      found = true;
      CHECK(e.content().size() == 104);
      CHECK(md5_hex(e.content()) == "030a6c03519bd00b405e95f8759c9c8f");
    }
  }
  CHECK(found);
}

TEST_CASE("squashfs corpus: binwalk firmware.squashfs (vendor lzma)", "[squashfs][corpus]") {
  auto path = corpus_file("binwalk/v2.3.4/testing/tests/input-vectors/firmware.squashfs");
  if (!path) return;
  Bytes img = fwtest::read_file(*path);
  // A D-Link-style image (1811 inodes) whose "lzma" blocks use a vendor LZMA framing: neither libsquashfs nor
  // unsquashfs 4.5.1 can decode them (binwalk uses sasquatch). The superblock is read, then the metadata fails: a
  // diagnostic naming the libsquashfs error, no entries, no crash.
  auto r = read(img);
  CHECK(r.entries.empty());
  CHECK(any_diag(r, "root inode"));
  CHECK(any_diag(r, "SQFS_ERROR_"));
}

TEST_CASE("squashfs corpus: FACT v4 compressor set", "[squashfs][corpus]") {
  const std::string dir = "fact_extractor/fact_extractor/plugins/unpacking/squashFS/test/data/";
  for (std::string comp : {"gzip", "xz", "lz4", "zstd", "lzma", "lzo"}) {
    auto path = corpus_file(dir + comp + ".sqfs");
    if (!path) continue;
    INFO(comp);
    auto r = read(fwtest::read_file(*path));
    CHECK(r.diagnostics.empty());
    auto m = by_path(r);
    REQUIRE(m.count("/testfile1") == 1);
    CHECK(m["/testfile1"]->content().size() == 62);
    CHECK(md5_hex(m["/testfile1"]->content()) == "e802ca22f6cd2d9357cf3da1d191879e");
    REQUIRE(m.count("/testfile2") == 1);
    CHECK(m["/testfile2"]->content().size() == 28);
    CHECK(md5_hex(m["/testfile2"]->content()) == "08dd892caa120da5985fb0c0ec739295");
    REQUIRE(m.count("/generic folder/test file 3_.txt") == 1);
    CHECK(m["/generic folder/test file 3_.txt"]->content().size() == 20);
    CHECK(md5_hex(m["/generic folder/test file 3_.txt"]->content()) == "dfb79b49698fbae3d6eaca69b211b79d");
    CHECK(m.count("/generic folder") == 1);
    CHECK(m["/generic folder"]->kind == EntryKind::Directory);
  }
  // v2/v3 and big-endian images are out of scope: a diagnostic, no entries, no crash.
  for (std::string name : {"lzma_le.sqfs2", "zlib_le.sqfs3", "zlib_be.sqfs3", "avm_be.sqfs4"}) {
    auto path = corpus_file(dir + name);
    if (!path) continue;
    INFO(name);
    auto r = read(fwtest::read_file(*path));
    CHECK(r.entries.empty());
    CHECK(any_diag(r, "not supported"));
  }
}
