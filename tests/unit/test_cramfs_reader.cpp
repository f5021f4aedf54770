// CramFS reader: synthetic images, images made by mkfs.cramfs at test time, byte-exact comparison with util-linux
// fsck.cramfs --extract, the corpus listings (md5 per file), recovery of an overwritten superblock, hostile input.
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <sstream>

#include "fwcert/core/checksum.hpp"
#include "fwcert/extract/readers.hpp"
#include "fwcert/scan/validator.hpp"
#include "support.hpp"

using namespace fwtest;
using fwcert::Budget;
using fwcert::ByteView;
using fwcert::Entry;
using fwcert::EntryKind;
using fwcert::ExtractResult;
namespace fs = std::filesystem;

namespace {

std::string md5_hex(ByteView v) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(v.data(), v.size(), out, &n, EVP_md5(), nullptr);
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (unsigned int i = 0; i < n; ++i) {
    s += digits[out[i] >> 4];
    s += digits[out[i] & 15];
  }
  return s;
}

ByteView view_of(const Bytes& b, uint64_t base = 0) { return ByteView(b.data(), b.size(), base); }

ExtractResult read(const Bytes& b, fwcert::CramfsReadOptions opt = {}) {
  Budget budget;
  return fwcert::read_cramfs(view_of(b), budget, opt);
}

// Read with an explicit block size.
ExtractResult read(const Bytes& b, uint32_t block_size) {
  fwcert::CramfsReadOptions opt;
  opt.block_size = block_size;
  return read(b, opt);
}

// A streaming read (CramfsReadOptions::visit) on 1 and 3 threads against the plain read of the same image: the same
// entries, metadata, completeness, diagnostics and link targets; the visitor sees every file with content exactly
// once (and no symlink), with the bytes the plain read gives (holes as zeros, though the scratch buffer held another file before); a
// kept file (every other one) has those bytes, the others none and their size in unkept_size.
void check_streaming(const Bytes& img) {
  const ExtractResult plain = read(img);
  for (unsigned threads : {1u, 3u}) {
    INFO("threads " << threads);
    std::mutex mutex;
    std::map<size_t, std::vector<std::string>> seen;  // entry -> md5 of what the visitor saw, each time
    fwcert::CramfsReadOptions o;
    o.threads = threads;
    o.visit = [&](size_t k, const Entry& e, ByteView content) {
      std::lock_guard<std::mutex> lock(mutex);
      seen[k].push_back(md5_hex(content) + " " + e.path);
      return k % 2 == 0;
    };
    Budget budget;
    const ExtractResult r = fwcert::read_cramfs(view_of(img), budget, o);
    REQUIRE(r.entries.size() == plain.entries.size());
    CHECK(r.diagnostics.size() == plain.diagnostics.size());
    CHECK(r.limited == plain.limited);
    for (size_t k = 0; k < r.entries.size(); ++k) {
      const Entry &a = plain.entries[k], &b = r.entries[k];
      INFO(a.path);
      CHECK(b.path == a.path);
      CHECK(b.kind == a.kind);
      CHECK(b.mode == a.mode);
      CHECK(b.size == a.size);
      CHECK(b.complete == a.complete);
      CHECK(b.link_target == a.link_target);
      CHECK(b.diagnostics.size() == a.diagnostics.size());
      if (a.kind == EntryKind::Symlink) {
        CHECK(seen.count(k) == 0);
        continue;
      }
      if (seen.count(k)) {  // a file whose first block is unreadable is visited with nothing
        REQUIRE(seen[k].size() == 1);
        CHECK(seen[k][0] == md5_hex(a.content()) + " " + a.path);
      } else {
        CHECK(a.content().empty());
      }
      if (a.content().empty()) {
        CHECK(b.content().empty());
        CHECK(b.unkept_size == 0);
        continue;
      }
      if (k % 2 == 0) {
        CHECK(md5_hex(b.content()) == md5_hex(a.content()));
        CHECK(b.unkept_size == 0);
      } else {
        CHECK(b.content().empty());
        CHECK(b.unkept_size == a.content().size());
      }
    }
  }
}

const Entry* find(const ExtractResult& r, const std::string& path) {
  for (const auto& e : r.entries)
    if (e.path == path) return &e;
  return nullptr;
}

bool has_diag(const ExtractResult& r, const std::string& needle) {
  for (const auto& d : r.diagnostics)
    if (d.message.find(needle) != std::string::npos) return true;
  for (const auto& e : r.entries)
    for (const auto& d : e.diagnostics)
      if (d.message.find(needle) != std::string::npos) return true;
  return false;
}

size_t diag_count(const ExtractResult& r) {
  size_t n = 0;
  for (const auto& d : r.diagnostics) n += d.severity != fwcert::Severity::Info;
  for (const auto& e : r.entries) n += e.diagnostics.size();
  return n;
}

bool all_complete(const ExtractResult& r) {
  for (const auto& e : r.entries)
    if (!e.complete || !e.diagnostics.empty()) return false;
  return true;
}

std::string content_str(const Entry& e) {
  ByteView c = e.content();
  return std::string(c.as_string_view());
}

// A line of a generated-expected listing: "<t> <mode> <size> <uid>:<gid> <path> [md5 | -> target]".
struct ListLine {
  char type = 0;
  uint32_t perm = 0;
  uint64_t size = 0;
  uint32_t uid = 0, gid = 0;
  std::string md5, target;
};

std::map<std::string, ListLine> parse_listing(const std::string& file) {
  std::map<std::string, ListLine> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ss(line);
    ListLine l;
    std::string mode, ids, path, rest;
    ss >> l.type >> mode >> l.size >> ids >> path;
    l.perm = static_cast<uint32_t>(std::stoul(mode, nullptr, 8));
    auto colon = ids.find(':');
    l.uid = static_cast<uint32_t>(std::stoul(ids.substr(0, colon)));
    l.gid = static_cast<uint32_t>(std::stoul(ids.substr(colon + 1)));
    if (ss >> rest) {
      if (rest == "->") {
        ss >> l.target;
      } else {
        l.md5 = rest;
      }
    }
    out[path] = l;
  }
  return out;
}

char type_char(EntryKind k) {
  switch (k) {
    case EntryKind::Directory: return 'd';
    case EntryKind::Symlink: return 'l';
    case EntryKind::CharDevice: return 'c';
    case EntryKind::BlockDevice: return 'b';
    case EntryKind::Fifo: return 'p';
    case EntryKind::Socket: return 's';
    default: return 'f';
  }
}

// Every listed path is an entry with the same type, permissions, size, owner and md5/target, and nothing more.
void check_against_listing(const ExtractResult& r, const std::string& listing) {
  auto expected = parse_listing(listing);
  REQUIRE(expected.size() > 1);
  expected.erase("/");
  size_t matched = 0;
  for (const auto& [path, l] : expected) {
    INFO(path);
    const Entry* e = find(r, path);
    REQUIRE(e != nullptr);
    CHECK(type_char(e->kind) == l.type);
    CHECK((e->mode & 07777) == l.perm);
    CHECK(e->uid == l.uid);
    CHECK(e->gid == l.gid);
    CHECK(e->size == l.size);
    CHECK(e->complete);
    if (l.type == 'f') {
      CHECK(e->content().size() == l.size);
      CHECK(md5_hex(e->content()) == l.md5);
    }
    if (l.type == 'l') CHECK(e->link_target == l.target);
    ++matched;
  }
  CHECK(matched == expected.size());
  CHECK(r.entries.size() == expected.size());
}

bool tool_exists(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

std::string fsck_path() {
  for (const char* p : {"/usr/sbin/fsck.cramfs", "/sbin/fsck.cramfs"})
    if (tool_exists(p)) return p;
  return "";
}
std::string mkfs_path() {
  for (const char* p : {"/usr/sbin/mkfs.cramfs", "/sbin/mkfs.cramfs"})
    if (tool_exists(p)) return p;
  return "";
}

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& tag) {
    path = fs::temp_directory_path() / ("fwcert-cramfs-" + tag + "-" + std::to_string(getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void write_file(const fs::path& p, const Bytes& b) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

int run(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

// Compares our entries with a directory tree on disk (the source of mkfs.cramfs or what fsck.cramfs extracted):
// same set of paths, same kinds, same content bytes, same symlink targets; permissions and owners when asked.
void check_against_tree(const ExtractResult& r, const fs::path& root, bool check_perms, bool check_owner) {
  size_t count = 0;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    const fs::path p = it->path();
    const std::string rel = "/" + p.lexically_relative(root).generic_string();
    INFO(rel);
    struct stat st {};
    REQUIRE(lstat(p.c_str(), &st) == 0);
    const Entry* e = find(r, rel);
    REQUIRE(e != nullptr);
    ++count;
    CHECK((e->mode & 0170000) == (st.st_mode & 0170000));
    if (check_perms && !S_ISLNK(st.st_mode)) CHECK((e->mode & 07777) == (st.st_mode & 07777));
    if (check_owner) {
      CHECK(e->uid == (st.st_uid & 0xffff));
      CHECK(e->gid == (st.st_gid & 0xff));
    }
    if (S_ISREG(st.st_mode)) {
      Bytes disk = read_file(p.string());
      CHECK(e->complete);
      CHECK(e->content().size() == disk.size());
      CHECK(md5_hex(e->content()) == md5_hex(view_of(disk)));
    } else if (S_ISLNK(st.st_mode)) {
      CHECK(e->link_target == fs::read_symlink(p).string());
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      CHECK(e->rdev_major == (major(st.st_rdev) & 0xff));
      CHECK(e->rdev_minor == (minor(st.st_rdev) & 0xff));
    }
  }
  CHECK(count == r.entries.size());
}

// Runs fsck.cramfs --extract on an image file into a fresh directory; nullopt when the tool is missing.
std::optional<bool> fsck_extract(const fs::path& image, const fs::path& out, const std::string& extra = "") {
  const std::string fsck = fsck_path();
  if (fsck.empty()) {
    WARN("fsck.cramfs not installed; byte-exact comparison skipped");
    return std::nullopt;
  }
  fs::remove_all(out);
  return run(fsck + " " + extra + " --extract='" + out.string() + "' '" + image.string() + "'") == 0;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// Synthetic images (tests/support make_cramfs)

TEST_CASE("cramfs reader: flat synthetic image, both byte orders") {
  Bytes big(10000);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 7 + i / 300);
  for (bool be : {false, true}) {
    INFO(be);
    Bytes img = make_cramfs({{"a.txt", Bytes{'h', 'i', '\n'}}, {"big", big, 0104755}, {"empty", {}}}, be);
    ExtractResult r = read(img);
    REQUIRE(r.entries.size() == 3);
    CHECK(r.entries[0].path == "/a.txt");
    CHECK(r.entries[1].path == "/big");
    CHECK(r.entries[2].path == "/empty");
    CHECK(content_str(r.entries[0]) == "hi\n");
    CHECK(r.entries[1].content().size() == big.size());
    CHECK(md5_hex(r.entries[1].content()) == md5_hex(view_of(big)));
    CHECK(r.entries[1].mode == 0104755);  // setuid kept
    CHECK(r.entries[2].content().size() == 0);
    CHECK(all_complete(r));
    CHECK(has_diag(r, "CRC OK"));
    CHECK(!r.recovered);
    CHECK(!r.limited);
  }
}

TEST_CASE("cramfs reader: version 1 image (no fsid, no CRC)") {
  for (bool be : {false, true}) {
    Bytes img = make_cramfs({{"a", Bytes(6000, 'v')}}, be);
    be ? put_u32be(img, 8, 0x2) : put_u32le(img, 8, 0x2);  // SORTED_DIRS only
    img[32] ^= 0xff;                                       // the CRC field means nothing now
    ExtractResult r = read(img);
    REQUIRE(r.entries.size() == 1);
    CHECK(content_str(r.entries[0]) == std::string(6000, 'v'));
    CHECK(!has_diag(r, "CRC"));
    CHECK(all_complete(r));
  }
}

TEST_CASE("cramfs reader: CRC mismatch is a diagnostic, content still read") {
  Bytes img = make_cramfs({{"a", Bytes(100, 'x')}}, false);
  img[img.size() - 1] ^= 0x55;  // padding byte: content unchanged, CRC wrong
  ExtractResult r = read(img);
  REQUIRE(r.entries.size() == 1);
  CHECK(content_str(r.entries[0]) == std::string(100, 'x'));
  CHECK(has_diag(r, "CRC mismatch"));
  CHECK(!has_diag(r, "CRC OK"));
}

TEST_CASE("cramfs reader: diagnostics carry absolute offsets from the view base") {
  Bytes img = make_cramfs({{"a", Bytes(100, 'x')}}, false);
  img[img.size() - 1] ^= 0x55;
  Budget budget;
  ExtractResult r = fwcert::read_cramfs(view_of(img, 0x100000), budget);
  bool found = false;
  for (const auto& d : r.diagnostics)
    if (d.message.find("CRC mismatch") != std::string::npos) found = d.offset == 0x100000 + 32;
  CHECK(found);
}

TEST_CASE("cramfs reader: padded image (512-byte pad before the superblock)") {
  Bytes inner = make_cramfs({{"f", Bytes(5000, 'q')}}, false);
  // Shift every absolute offset by 512: rebuild by prepending a pad and relocating the pointers by hand.
  Bytes img(512, 0);
  append(img, inner);
  // Root offset, file inode offset and block pointers are absolute from byte 0 of the file (FORMATS.md 1.1).
  auto le32 = [&](size_t at) {
    return uint32_t(img[at]) | uint32_t(img[at + 1]) << 8 | uint32_t(img[at + 2]) << 16 | uint32_t(img[at + 3]) << 24;
  };
  auto shift_inode = [&](size_t at) {
    uint32_t w2 = le32(at + 8);
    uint32_t off = (w2 >> 6) + 512 / 4;
    put_u32le(img, at + 8, (w2 & 0x3f) | (off << 6));
  };
  shift_inode(512 + 64);
  shift_inode(512 + 76);
  uint32_t data = (le32(512 + 76 + 8) >> 6) * 4;
  for (size_t k = 0; k < 2; ++k) put_u32le(img, data + 4 * k, le32(data + 4 * k) + 512);
  // size counts from the pad start; the CRC covers [superblock, size) (FORMATS.md 1.8).
  put_u32le(img, 512 + 4, static_cast<uint32_t>(img.size()));
  put_u32le(img, 512 + 32, 0);
  put_u32le(img, 512 + 32, fwcert::crc32(view_of(img).tail(512)));
  ExtractResult r = read(img);
  REQUIRE(r.entries.size() == 1);
  CHECK(r.entries[0].path == "/f");
  CHECK(content_str(r.entries[0]) == std::string(5000, 'q'));
  CHECK(r.entries[0].complete);
  CHECK(has_diag(r, "CRC OK"));
}

// ---------------------------------------------------------------------------------------------------------------
// Hand-built images for the features make_cramfs does not cover.

namespace {

// A little builder: little-endian, 4096-byte blocks unless told, offsets absolute.
struct Builder {
  Bytes img = Bytes(76, 0);
  bool be = false;
  void u32(size_t at, uint32_t v) { be ? put_u32be(img, at, v) : put_u32le(img, at, v); }
  void inode(size_t at, uint32_t mode, uint32_t uid, uint32_t size, uint32_t gid, uint32_t namelen, uint32_t offset) {
    if (!be) {
      put_u32le(img, at, (mode & 0xffff) | (uid << 16));
      put_u32le(img, at + 4, (size & 0xffffff) | (gid << 24));
      put_u32le(img, at + 8, (namelen & 0x3f) | (offset << 6));
    } else {
      put_u32be(img, at, (mode << 16) | (uid & 0xffff));
      put_u32be(img, at + 4, (size << 8) | (gid & 0xff));
      put_u32be(img, at + 8, (namelen << 26) | (offset & 0x3ffffff));
    }
  }
  // Appends an entry with a placeholder inode; returns its position.
  size_t entry(const std::string& name) {
    size_t at = img.size();
    size_t nl = (name.size() + 3) / 4;
    img.resize(img.size() + 12 + nl * 4, 0);
    std::copy(name.begin(), name.end(), img.begin() + static_cast<long>(at + 12));
    return at;
  }
  void align4() {
    while (img.size() % 4) img.push_back(0);
  }
  void superblock(uint32_t flags, uint32_t root_size, uint32_t root_offset_bytes, uint32_t files) {
    img.resize((img.size() + 4095) / 4096 * 4096, 0);
    u32(0, 0x28cd3d45);
    u32(4, static_cast<uint32_t>(img.size()));
    u32(8, flags);
    const std::string sig = "Compressed ROMFS";
    std::copy(sig.begin(), sig.end(), img.begin() + 16);
    u32(44, files);
    inode(64, 040755, 0, root_size, 0, 0, root_offset_bytes / 4);
    u32(32, 0);
    u32(32, static_cast<uint32_t>(fwcert::crc32(view_of(img))));
  }
};

}  // namespace

TEST_CASE("cramfs reader: subdirectory, symlink, devices, fifo, socket, holes, uncompressed and direct blocks") {
  for (bool be : {false, true}) {
    INFO(be);
    Builder b;
    b.be = be;
    // Root: dev, dir, fifo, holes, link, raw, sock (sorted).
    size_t e_dev = b.entry("dev"), e_dir = b.entry("dir"), e_fifo = b.entry("fifo"), e_holes = b.entry("holes"),
           e_link = b.entry("link"), e_raw = b.entry("raw"), e_sock = b.entry("sock");
    size_t root_size = b.img.size() - 76;
    size_t dir_entries = b.img.size();
    size_t e_inner = b.entry("inner");
    size_t dir_size = b.img.size() - dir_entries;
    b.inode(e_dev, 020640, 7, (4 << 8) | 65, 5, 1, 0);  // char 4:65
    b.inode(e_dir, 040700, 1000, static_cast<uint32_t>(dir_size), 100, 1, static_cast<uint32_t>(dir_entries / 4));
    b.inode(e_fifo, 010600, 0, 0, 0, 1, 0);
    b.inode(e_sock, 0140777, 0, 0, 0, 1, 0);
    // inner: 3 bytes, compressed.
    b.align4();
    size_t inner_data = b.img.size();
    b.img.resize(b.img.size() + 4, 0);
    append(b.img, zlib_compress(Bytes{'i', 'n', '\n'}));
    b.u32(inner_data, static_cast<uint32_t>(b.img.size()));
    b.inode(e_inner, 0100644, 0, 3, 0, 2, static_cast<uint32_t>(inner_data / 4));
    // link -> "dir/inner"
    b.align4();
    size_t link_data = b.img.size();
    b.img.resize(b.img.size() + 4, 0);
    append(b.img, zlib_compress(Bytes{'d', 'i', 'r', '/', 'i', 'n', 'n', 'e', 'r'}));
    b.u32(link_data, static_cast<uint32_t>(b.img.size()));
    b.inode(e_link, 0120777, 0, 9, 0, 1, static_cast<uint32_t>(link_data / 4));
    // holes: 3 blocks (4096, 4096, 100): block 0 data, block 1 hole, block 2 data.
    b.align4();
    size_t holes_data = b.img.size();
    b.img.resize(b.img.size() + 12, 0);
    append(b.img, zlib_compress(Bytes(4096, 'A')));
    b.u32(holes_data, static_cast<uint32_t>(b.img.size()));
    b.u32(holes_data + 4, static_cast<uint32_t>(b.img.size()));  // zero-length block = hole
    append(b.img, zlib_compress(Bytes(100, 'C')));
    b.u32(holes_data + 8, static_cast<uint32_t>(b.img.size()));
    b.inode(e_holes, 0100644, 0, 8292, 0, 2, static_cast<uint32_t>(holes_data / 4));
    // raw: 4 blocks with extended pointers: 0 direct+uncompressed, 1 ordinary compressed after a direct raw one,
    // 2 direct compressed (u16 length), 3 uncompressed (non-direct) after a direct compressed one: 3*4096+10 bytes.
    Bytes raw(3 * 4096 + 10);
    for (size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<uint8_t>((i * 31) ^ (i >> 9));
    b.align4();
    size_t raw_table = b.img.size();
    b.img.resize(b.img.size() + 16, 0);
    while (b.img.size() % 4) b.img.push_back(0);
    size_t d0 = b.img.size();
    b.img.insert(b.img.end(), raw.begin(), raw.begin() + 4096);
    b.u32(raw_table, 0x80000000u | 0x40000000u | static_cast<uint32_t>(d0 >> 2));
    append(b.img, zlib_compress(Bytes(raw.begin() + 4096, raw.begin() + 8192)));
    b.u32(raw_table + 4, static_cast<uint32_t>(b.img.size()));
    b.align4();
    size_t d2 = b.img.size();
    Bytes z2 = zlib_compress(Bytes(raw.begin() + 8192, raw.begin() + 12288));
    b.img.resize(b.img.size() + 2, 0);
    be ? put_u16be(b.img, d2, static_cast<uint16_t>(z2.size())) : put_u16le(b.img, d2, static_cast<uint16_t>(z2.size()));
    append(b.img, z2);
    b.u32(raw_table + 8, 0x40000000u | static_cast<uint32_t>(d2 >> 2));
    b.img.insert(b.img.end(), raw.begin() + 12288, raw.end());
    b.u32(raw_table + 12, 0x80000000u | static_cast<uint32_t>(b.img.size()));
    b.inode(e_raw, 0100755, 0, static_cast<uint32_t>(raw.size()), 0, 1, static_cast<uint32_t>(raw_table / 4));
    b.superblock(0x803 | 0x100, static_cast<uint32_t>(root_size), 76, 9);

    ExtractResult r = read(b.img);
    std::vector<std::string> paths;
    for (const auto& e : r.entries) paths.push_back(e.path);
    CHECK(paths == std::vector<std::string>{"/dev", "/dir", "/dir/inner", "/fifo", "/holes", "/link", "/raw", "/sock"});
    REQUIRE(r.entries.size() == 8);
    const Entry& dev = *find(r, "/dev");
    CHECK(dev.kind == EntryKind::CharDevice);
    CHECK(dev.mode == 020640);
    CHECK(dev.uid == 7);
    CHECK(dev.gid == 5);
    CHECK(dev.rdev_major == 4);
    CHECK(dev.rdev_minor == 65);
    const Entry& dir = *find(r, "/dir");
    CHECK(dir.kind == EntryKind::Directory);
    CHECK(dir.mode == 040700);
    CHECK(dir.uid == 1000);
    CHECK(dir.gid == 100);
    CHECK(content_str(*find(r, "/dir/inner")) == "in\n");
    CHECK(find(r, "/fifo")->kind == EntryKind::Fifo);
    CHECK(find(r, "/sock")->kind == EntryKind::Socket);
    CHECK(find(r, "/link")->kind == EntryKind::Symlink);
    CHECK(find(r, "/link")->link_target == "dir/inner");
    Bytes holes(4096, 'A');
    holes.resize(8192, 0);
    holes.resize(8292, 'C');
    CHECK(md5_hex(find(r, "/holes")->content()) == md5_hex(view_of(holes)));
    CHECK(md5_hex(find(r, "/raw")->content()) == md5_hex(view_of(raw)));
    CHECK(all_complete(r));
    CHECK(has_diag(r, "CRC OK"));
    check_streaming(b.img);
  }
}

TEST_CASE("cramfs reader: a short block ends in zeros when streaming too, whatever the scratch buffer held") {
  for (unsigned block_size : {0u, 4096u}) {
    INFO(block_size);
    Builder b;
    size_t e_a = b.entry("a"), e_b = b.entry("b");
    const size_t root_size = b.img.size() - 76;
    b.align4();
    size_t a_data = b.img.size();
    b.img.resize(a_data + 4, 0);
    append(b.img, zlib_compress(Bytes(4096, 'A')));
    b.u32(a_data, static_cast<uint32_t>(b.img.size()));
    b.inode(e_a, 0100644, 0, 4096, 0, 1, static_cast<uint32_t>(a_data / 4));
    b.align4();
    size_t b_data = b.img.size();
    b.img.resize(b_data + 4, 0);
    append(b.img, zlib_compress(Bytes(100, 'B')));  // the inode promises 4000 bytes
    b.u32(b_data, static_cast<uint32_t>(b.img.size()));
    b.inode(e_b, 0100644, 0, 4000, 0, 1, static_cast<uint32_t>(b_data / 4));
    b.superblock(0x3, static_cast<uint32_t>(root_size), 76, 3);

    fwcert::CramfsReadOptions o;
    o.block_size = block_size;
    std::string seen_b;
    o.visit = [&](size_t, const Entry& e, ByteView content) {
      if (e.path == "/b") seen_b.assign(content.as_string_view());
      return false;
    };
    Budget budget;
    ExtractResult r = fwcert::read_cramfs(view_of(b.img), budget, o);  // one thread: "a" fills the scratch first
    REQUIRE(r.entries.size() == 2);
    CHECK(seen_b == std::string(100, 'B') + std::string(3900, '\0'));
    CHECK(!r.entries[1].complete);
    CHECK(r.entries[1].unkept_size == 4000);
    CHECK(has_diag(r, "holds 100 bytes, expected 4000"));
    check_streaming(b.img);
  }
}

TEST_CASE("cramfs reader: hostile structures give diagnostics, never a crash or a hang") {
  SECTION("directory pointing to itself") {
    Builder b;
    size_t e = b.entry("loop");
    b.inode(e, 040755, 0, 16, 0, 1, 76 / 4);  // its entries are the root's: itself again
    b.superblock(0x3, 16, 76, 2);
    ExtractResult r = read(b.img);
    CHECK(has_diag(r, "directory loop"));
    CHECK(r.entries.size() >= 1);
    CHECK(r.entries.size() <= 2);
    CHECK(r.entries[0].path == "/loop");
  }
  SECTION("directory pointing to an ancestor two levels up") {
    Builder b;
    size_t e_a = b.entry("a");
    size_t a_entries = b.img.size();
    size_t e_b = b.entry("b");
    b.inode(e_a, 040755, 0, 16, 0, 1, static_cast<uint32_t>(a_entries / 4));
    b.inode(e_b, 040755, 0, 16, 0, 1, 76 / 4);  // back to the root's entries
    b.superblock(0x3, 16, 76, 3);
    ExtractResult r = read(b.img);
    CHECK(has_diag(r, "directory loop"));
    CHECK(r.entries.size() < 10);
  }
  SECTION("names with a slash, '.' and '..' are skipped") {
    Builder b;
    size_t e1 = b.entry("."), e2 = b.entry(".."), e3 = b.entry("x/y"), e4 = b.entry("ok");
    for (size_t e : {e1, e2, e3, e4}) b.inode(e, 0010644, 0, 0, 0, e == e3 ? 1 : 1, 0);
    b.superblock(0x3, static_cast<uint32_t>(b.img.size() - 76), 76, 5);
    ExtractResult r = read(b.img);
    REQUIRE(r.entries.size() == 1);
    CHECK(r.entries[0].path == "/ok");
    CHECK(has_diag(r, "invalid entry name \".\""));
    CHECK(has_diag(r, "invalid entry name \"..\""));
    CHECK(has_diag(r, "invalid entry name \"x/y\""));
  }
  SECTION("inode offsets past the end") {
    Builder b;
    size_t e1 = b.entry("far"), e2 = b.entry("fardir");
    b.inode(e1, 0100644, 0, 5000, 0, 1, 0x3ffffff);
    b.inode(e2, 040755, 0, 100, 0, 2, 0x3fffff0);
    b.superblock(0x3, static_cast<uint32_t>(b.img.size() - 76), 76, 3);
    ExtractResult r = read(b.img);
    const Entry* far = find(r, "/far");
    REQUIRE(far != nullptr);
    CHECK(!far->complete);
    CHECK(!far->diagnostics.empty());
    CHECK(has_diag(r, "outside the image"));
    CHECK(find(r, "/fardir") != nullptr);
    CHECK(has_diag(r, "extend past the end"));
  }
  SECTION("compressed block longer than twice the block size") {
    Builder b;
    size_t e = b.entry("f");
    b.align4();
    size_t data = b.img.size();
    b.img.resize(data + 4 + 9000, 0);
    b.u32(data, static_cast<uint32_t>(data + 4 + 9000));
    b.inode(e, 0100644, 0, 10, 0, 1, static_cast<uint32_t>(data / 4));
    b.superblock(0x3, 16, 76, 2);
    ExtractResult r = read(b.img, 4096u);
    REQUIRE(r.entries.size() == 1);
    CHECK(!r.entries[0].complete);
    CHECK(has_diag(r, "more than the kernel accepts"));
  }
  SECTION("inflate error names the path and the offset") {
    Builder b;
    size_t e = b.entry("bad");
    b.align4();
    size_t data = b.img.size();
    b.img.resize(data + 4, 0);
    Bytes junk = random_bytes(50, 3);
    append(b.img, junk);
    b.u32(data, static_cast<uint32_t>(b.img.size()));
    b.inode(e, 0100644, 0, 10, 0, 1, static_cast<uint32_t>(data / 4));
    b.superblock(0x3, 16, 76, 2);
    ExtractResult r = read(b.img, 4096u);
    REQUIRE(r.entries.size() == 1);
    CHECK(!r.entries[0].complete);
    check_streaming(b.img);
    REQUIRE(!r.entries[0].diagnostics.empty());
    const auto& d = r.entries[0].diagnostics[0];
    CHECK(d.message.find("/bad") != std::string::npos);
    CHECK(d.message.find(fwcert::hex(data + 4)) != std::string::npos);
    CHECK(d.offset == data + 4);
  }
  SECTION("directories nested deeper than the cap") {
    Builder b;
    std::vector<size_t> entries;
    for (int d = 0; d < 80; ++d) entries.push_back(b.entry("d"));
    for (int d = 0; d < 80; ++d) {
      // Each directory holds the next one; the last is empty.
      const bool last = d == 79;
      b.inode(entries[d], 040755, 0, last ? 0 : 16, 0, 1, last ? 0 : static_cast<uint32_t>(entries[d + 1] / 4));
    }
    b.superblock(0x3, 16, 76, 81);
    ExtractResult r = read(b.img);
    CHECK(has_diag(r, "nested deeper than 64"));
    CHECK(r.entries.size() == 64);
  }
  SECTION("not a CramFS") {
    Bytes junk = random_bytes(8192, 1);
    ExtractResult r = read(junk);
    CHECK(r.entries.empty());
    CHECK(!r.diagnostics.empty());
  }
}

TEST_CASE("cramfs reader: bit-flipped synthetic images") {
  Bytes big(20000);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i % 251);
  Bytes base = make_cramfs({{"a", Bytes(100, 'a')}, {"b", big}, {"c", Bytes(5000, 'c')}}, false);
  std::mt19937 rng(1234);
  size_t with_diag = 0;
  for (int v = 0; v < 200; ++v) {
    Bytes img = base;
    int flips = 1 + static_cast<int>(rng() % 8);
    for (int k = 0; k < flips; ++k) img[rng() % 400] ^= static_cast<uint8_t>(1 + rng() % 255);  // metadata
    img[rng() % img.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
    ExtractResult r = read(img);
    with_diag += diag_count(r) > 0;
    CHECK(r.entries.size() <= 1000);
    Budget budget;
    ExtractResult rr = fwcert::recover_cramfs(view_of(img), budget);
    CHECK(rr.entries.size() <= 1000);
  }
  CHECK(with_diag >= 190);  // a flipped byte almost always breaks the CRC at least
}

TEST_CASE("cramfs reader: limits stop early with a diagnostic") {
  Bytes big(50000, 'z');
  Bytes img = make_cramfs({{"a", Bytes(1000, 'a')}, {"b", big}, {"c", Bytes(10, 'c')}}, false);
  SECTION("total bytes") {
    fwcert::ExtractLimits lim;
    lim.max_total_bytes = 2000;
    Budget budget(lim);
    ExtractResult r = fwcert::read_cramfs(view_of(img), budget);
    CHECK(r.limited);
    CHECK(has_diag(r, "max_total_bytes"));
    REQUIRE(r.entries.size() == 1);
    CHECK(r.entries[0].path == "/a");
    CHECK(budget.used_bytes() <= 2000);
  }
  SECTION("entries") {
    fwcert::ExtractLimits lim;
    lim.max_entries = 2;
    Budget budget(lim);
    ExtractResult r = fwcert::read_cramfs(view_of(img), budget);
    CHECK(r.limited);
    CHECK(has_diag(r, "max_entries"));
    CHECK(r.entries.size() == 2);
  }
  SECTION("decompression ratio") {
    fwcert::ExtractLimits lim;
    lim.max_file_bytes = 20000;
    Budget budget(lim);
    ExtractResult r = fwcert::read_cramfs(view_of(img), budget);
    CHECK(r.limited);
    CHECK(has_diag(r, "max_file_bytes"));
  }
  SECTION("no limit hit with the defaults") {
    ExtractResult r = read(img);
    CHECK(!r.limited);
    CHECK(r.entries.size() == 3);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Images made by mkfs.cramfs at test time, compared with their source tree and with fsck.cramfs --extract.

namespace {

void make_source_tree(const fs::path& src, bool as_root) {
  fs::create_directories(src / "etc" / "stunnel");
  fs::create_directories(src / "empty");
  fs::create_directories(src / "bin");
  Bytes crt(3000);
  for (size_t i = 0; i < crt.size(); ++i) crt[i] = static_cast<uint8_t>("-----BEGIN CERTIFICATE-----\n"[i % 28]);
  write_file(src / "etc" / "stunnel" / "client.crt", crt);
  write_file(src / "bin" / "prog", random_bytes(70000, 9));  // incompressible, several blocks
  Bytes sparse(5 * 65536, 0);
  for (size_t i = 0; i < 1000; ++i) sparse[i] = 'S';
  for (size_t i = 3 * 65536; i < 3 * 65536 + 100; ++i) sparse[i] = 'T';
  write_file(src / "sparse", sparse);
  write_file(src / "zero-length", {});
  fs::create_symlink("../etc/stunnel/client.crt", src / "bin" / "link");
  fs::create_symlink("prog", src / "bin" / "p");
  REQUIRE(mkfifo((src / "fifo").c_str(), 0640) == 0);
  chmod((src / "bin" / "prog").c_str(), 04755);
  if (as_root) {
    REQUIRE(mknod((src / "ttyS0").c_str(), S_IFCHR | 0620, makedev(4, 64)) == 0);
    REQUIRE(mknod((src / "sda1").c_str(), S_IFBLK | 0660, makedev(8, 1)) == 0);
    REQUIRE(lchown((src / "etc" / "stunnel" / "client.crt").c_str(), 1234, 56) == 0);
  }
}

}  // namespace

TEST_CASE("cramfs reader: mkfs.cramfs images (subdirs, symlinks, devices, holes, 64K blocks, big endian, pad)") {
  const std::string mkfs = mkfs_path();
  if (mkfs.empty()) {
    WARN("mkfs.cramfs not installed; skipped");
    return;
  }
  const bool as_root = geteuid() == 0;
  if (!as_root) WARN("not root: device nodes and owners not tested with mkfs.cramfs");
  TempDir tmp("mkfs");
  const fs::path src = tmp.path / "src";
  make_source_tree(src, as_root);

  struct Variant {
    std::string name, args;
    uint32_t block_size;
    bool fsck_ok;  // fsck.cramfs accepts it (host order, no holes flag)
  };
  const std::vector<Variant> variants = {
      {"plain", "", 4096, true},          {"big", "-N big", 4096, false},   {"holes", "-z", 4096, false},
      {"b64k", "-b 65536", 65536, true}, {"b64k-big", "-b 65536 -N big", 65536, false},
      {"pad", "-p", 4096, true},          {"b16k-holes", "-b 16384 -z", 16384, false},
  };
  for (const auto& v : variants) {
    INFO(v.name);
    const fs::path image = tmp.path / (v.name + ".img");
    REQUIRE(run(mkfs + " " + v.args + " '" + src.string() + "' '" + image.string() + "'") == 0);
    Bytes img = read_file(image.string());
    ExtractResult r = read(img);  // block size detected
    CHECK(all_complete(r));
    CHECK(has_diag(r, "CRC OK"));
    check_against_tree(r, src, true, as_root);
    check_streaming(img);
    const Entry* dev = find(r, "/ttyS0");
    if (as_root) {
      REQUIRE(dev != nullptr);
      CHECK(dev->kind == EntryKind::CharDevice);
      CHECK(dev->rdev_major == 4);
      CHECK(dev->rdev_minor == 64);
      CHECK(find(r, "/etc/stunnel/client.crt")->uid == 1234);
      CHECK(find(r, "/etc/stunnel/client.crt")->gid == 56);
    }
    CHECK(find(r, "/bin/prog")->mode == 0104755);
    // Depth first in directory order, like fsck: a directory comes right before its contents.
    for (size_t i = 0; i + 1 < r.entries.size(); ++i) {
      if (r.entries[i].kind == EntryKind::Directory && r.entries[i].size > 0)
        CHECK(r.entries[i + 1].path.rfind(r.entries[i].path + "/", 0) == 0);
    }
    // The explicit block size gives the same; a wrong one gives diagnostics.
    ExtractResult explicit_bs = read(img, v.block_size);
    CHECK(explicit_bs.entries.size() == r.entries.size());
    CHECK(all_complete(explicit_bs));
    ExtractResult wrong = read(img, v.block_size == 4096 ? 65536u : 4096u);
    CHECK(!all_complete(wrong));

    if (v.fsck_ok) {
      const fs::path out = tmp.path / (v.name + ".out");
      auto ok = fsck_extract(image, out, v.block_size != 4096 ? "-b " + std::to_string(v.block_size) : "");
      if (ok) {
        CHECK(*ok);
        check_against_tree(r, out, as_root, as_root);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Corpus

TEST_CASE("cramfs reader: util-linux little and big endian test images") {
  auto little = corpus_file("util-linux/tests/ts/cramfs/cramfs-little.img");
  auto big = corpus_file("util-linux/tests/ts/cramfs/cramfs-big.img");
  if (!little || !big) return;
  for (const auto& path : {*little, *big}) {
    INFO(path);
    ExtractResult r = read(read_file(path));
    std::vector<std::string> paths;
    for (const auto& e : r.entries) paths.push_back(e.path);
    CHECK(paths == std::vector<std::string>{"/dirA", "/dirA/dirB", "/dirA/dirB/a", "/dirA/dirB/b"});
    REQUIRE(r.entries.size() == 4);
    CHECK(md5_hex(r.entries[2].content()) == "73e9af3635e05d99984154bbbfbdc281");
    CHECK(md5_hex(r.entries[3].content()) == "e8084e7f6bceef3b04a15360ac300b73");
    CHECK(all_complete(r));
    CHECK(has_diag(r, "CRC OK"));
    check_streaming(read_file(path));
  }
  // Byte-exact with fsck.cramfs on the host-order image.
  TempDir tmp("ul");
  auto ok = fsck_extract(*little, tmp.path / "out");
  if (ok) {
    CHECK(*ok);
    check_against_tree(read(read_file(*little)), tmp.path / "out", true, true);
  }
  auto big_listing = corpus_file("util-linux/generated-expected/cramfs-big.img.listing.txt");
  if (big_listing) check_against_listing(read(read_file(*big)), *big_listing);
}

TEST_CASE("cramfs reader: Supermicro X9 webfs, every file (listing md5s and fsck.cramfs)") {
  auto image = corpus_file("supermicro_ipmi_firmware/SDK/FileSystem/webfs");
  auto listing = corpus_file("supermicro_ipmi_firmware/generated-expected/webfs.listing.txt");
  if (!image || !listing) return;
  Bytes img = read_file(*image);
  ExtractResult r = read(img);
  CHECK(has_diag(r, "CRC OK"));
  CHECK(all_complete(r));
  check_against_listing(r, *listing);
  TempDir tmp("webfs");
  auto ok = fsck_extract(*image, tmp.path / "out");
  if (ok) {
    CHECK(*ok);
    check_against_tree(r, tmp.path / "out", true, true);
  }
}

TEST_CASE("cramfs reader: GM8135S partitions (CramFS at 0x40 behind a uImage header)") {
  for (const std::string name : {"user_web", "custom", "romfs-x", "web-x"}) {
    INFO(name);
    auto image = corpus_file("GM8135S-IPC-modified-firmware/" + name + ".cramfs.img");
    auto listing = corpus_file("GM8135S-IPC-modified-firmware/generated-expected/" + name + ".cramfs.listing.txt");
    if (!image) return;
    Bytes all = read_file(*image);
    REQUIRE(all.size() > 0x40);
    ByteView fsv = view_of(all).tail(0x40);  // skip the 64-byte uImage header; offsets stay absolute
    Budget budget;
    ExtractResult r = fwcert::read_cramfs(fsv, budget);
    CHECK(all_complete(r));
    CHECK(has_diag(r, "CRC OK"));
    for (const auto& d : r.diagnostics) CHECK(d.offset >= 0x40);
    if (name == "user_web") {
      const Entry* sofia = find(r, "/bin/Sofia");
      REQUIRE(sofia != nullptr);
      CHECK(sofia->size == 5414256);
      CHECK(md5_hex(sofia->content()) == "f6802a5fc95f309ad8e5ce96dcd8da13");
      CHECK(sofia->uid == 501);
      CHECK(sofia->gid == 245);
    }
    if (listing) check_against_listing(r, *listing);
    TempDir tmp("gm-" + name);
    Bytes inner(all.begin() + 0x40, all.end());
    write_file(tmp.path / "fs.cramfs", inner);
    auto ok = fsck_extract(tmp.path / "fs.cramfs", tmp.path / "out");
    if (ok) {
      CHECK(*ok);
      check_against_tree(r, tmp.path / "out", true, true);
    }
  }
}

TEST_CASE("cramfs reader: s3linux rootfs with extended block pointers (flags 0x803)") {
  auto image = corpus_file("s3linux-files/rootfs.cramfs");
  auto listing = corpus_file("s3linux-files/generated-expected/rootfs.cramfs.listing.txt");
  if (!image || !listing) return;
  ExtractResult r = read(read_file(*image));
  CHECK(all_complete(r));
  check_against_listing(r, *listing);
  const Entry* busybox = find(r, "/bin/busybox");
  REQUIRE(busybox != nullptr);
  CHECK(busybox->mode == 0104755);
  CHECK(content_str(*busybox).substr(0, 4) == "\x7f" "ELF");
}

TEST_CASE("cramfs reader: truncated and bit-flipped webfs") {
  auto image = corpus_file("supermicro_ipmi_firmware/SDK/FileSystem/webfs");
  if (!image) return;
  Bytes img = read_file(*image);
  ExtractResult full = read(img);
  // Short prefixes byte by byte (superblock, root directory), every 97th one through the metadata and the first
  // files, then 97 evenly spaced ones over the whole image.
  std::vector<size_t> lengths;
  for (size_t n = 0; n < 700; ++n) lengths.push_back(n);
  for (size_t n = 700; n < std::min<size_t>(img.size(), 256 * 1024); n += 97) lengths.push_back(n);
  for (size_t k = 1; k < 97; ++k) lengths.push_back(img.size() * k / 97);
  for (size_t n : lengths) {
    INFO(n);
    Budget budget;
    ExtractResult r = fwcert::read_cramfs(ByteView(img.data(), n), budget);
    CHECK(r.entries.size() <= full.entries.size());
    CHECK(diag_count(r) > 0);
  }
  std::mt19937 rng(20240601);
  for (int v = 0; v < 200; ++v) {
    Bytes m = img;
    const int flips = 1 + static_cast<int>(rng() % 16);
    for (int k = 0; k < flips; ++k) {
      // Half the flips land in the directory area, where they change the tree.
      const size_t at = (k % 2 == 0) ? rng() % 16384 : rng() % m.size();
      m[at] ^= static_cast<uint8_t>(1 + rng() % 255);
    }
    Budget budget;
    ExtractResult r = fwcert::read_cramfs(view_of(m), budget);
    CHECK(r.entries.size() < 100000);
    CHECK(diag_count(r) > 0);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// File contents are inflated on several threads: the result must not depend on how many.

namespace {

void check_identical(const ExtractResult& a, const ExtractResult& b) {
  REQUIRE(a.entries.size() == b.entries.size());
  CHECK(a.limited == b.limited);
  REQUIRE(a.diagnostics.size() == b.diagnostics.size());
  for (size_t i = 0; i < a.diagnostics.size(); ++i) {
    CHECK(a.diagnostics[i].offset == b.diagnostics[i].offset);
    CHECK(a.diagnostics[i].message == b.diagnostics[i].message);
  }
  for (size_t i = 0; i < a.entries.size(); ++i) {
    const auto& x = a.entries[i];
    const auto& y = b.entries[i];
    INFO(x.path);
    CHECK(x.path == y.path);
    CHECK(x.complete == y.complete);
    CHECK(x.link_target == y.link_target);
    CHECK(content_str(x) == content_str(y));
    REQUIRE(x.diagnostics.size() == y.diagnostics.size());
    for (size_t k = 0; k < x.diagnostics.size(); ++k) CHECK(x.diagnostics[k].message == y.diagnostics[k].message);
  }
}

ExtractResult read_threads(const Bytes& img, unsigned threads) {
  Budget budget;
  fwcert::CramfsReadOptions o;
  o.threads = threads;
  return fwcert::read_cramfs(view_of(img), budget, o);
}

}  // namespace

TEST_CASE("cramfs reader: one thread and four give the same entries, contents and diagnostics") {
  std::vector<fwtest::CramfsFile> files;
  for (int i = 0; i < 40; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "f%02d", i);
    Bytes content = random_bytes(5000 + 1371 * static_cast<size_t>(i), static_cast<uint32_t>(i));
    for (size_t k = 0; k < content.size(); k += 3) content[k] = 'x';  // compressible, so blocks are deflated
    files.push_back({name, content});
  }
  Bytes img = make_cramfs(files, false);
  REQUIRE(img.size() > (1u << 20) / 2);
  ExtractResult one = read_threads(img, 1);
  REQUIRE(one.entries.size() == 40);
  CHECK(content_str(one.entries[7]) == std::string(files[7].content.begin(), files[7].content.end()));
  check_identical(one, read_threads(img, 4));
  check_streaming(img);
  // Damaged block data: the same diagnostics land on the same entries, streaming or not.
  std::mt19937 rng(77);
  for (int v = 0; v < 40; ++v) {
    Bytes m = img;
    for (int k = 0; k < 6; ++k) m[4096 + rng() % (m.size() - 4096)] ^= static_cast<uint8_t>(1 + rng() % 255);
    check_identical(read_threads(m, 1), read_threads(m, 4));
    if (v % 8 == 0) check_streaming(m);
  }
}

TEST_CASE("cramfs reader: threads on the real X9 webfs, intact and bit-flipped") {
  auto image = corpus_file("supermicro_ipmi_firmware/SDK/FileSystem/webfs");
  if (!image) return;
  Bytes img = read_file(*image);
  check_identical(read_threads(img, 1), read_threads(img, 3));
  check_streaming(img);
  std::mt19937 rng(5);
  for (int v = 0; v < 10; ++v) {
    Bytes m = img;
    for (int k = 0; k < 8; ++k) m[rng() % m.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
    check_identical(read_threads(m, 1), read_threads(m, 3));
    if (v % 3 == 0) check_streaming(m);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Recovery of an overwritten superblock (ossobv/vcutil#68)

namespace {

void check_same_tree(const ExtractResult& got, const ExtractResult& want) {
  REQUIRE(got.entries.size() == want.entries.size());
  for (size_t i = 0; i < want.entries.size(); ++i) {
    INFO(want.entries[i].path);
    CHECK(got.entries[i].path == want.entries[i].path);
    CHECK(got.entries[i].mode == want.entries[i].mode);
    CHECK(got.entries[i].link_target == want.entries[i].link_target);
    CHECK(md5_hex(got.entries[i].content()) == md5_hex(want.entries[i].content()));
  }
}

}  // namespace

TEST_CASE("cramfs reader: recover_cramfs rebuilds the tree after the superblock is overwritten") {
  Bytes big(9000);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 13);
  std::vector<Bytes> images;
  images.push_back(make_cramfs({{"a", Bytes(10, 'a')}, {"b", big}}, false));
  images.push_back(make_cramfs({{"a", Bytes(10, 'a')}, {"b", big}}, true));
  if (auto p = corpus_file("supermicro_ipmi_firmware/SDK/FileSystem/webfs")) images.push_back(read_file(*p));
  if (auto p = corpus_file("util-linux/tests/ts/cramfs/cramfs-big.img")) images.push_back(read_file(*p));
  for (size_t i = 0; i < images.size(); ++i) {
    INFO(i);
    const Bytes& good = images[i];
    ExtractResult want = read(good);
    REQUIRE(!want.entries.empty());
    {
      // An intact image needs no recovery.
      Budget budget;
      ExtractResult r = fwcert::recover_cramfs(view_of(good), budget);
      CHECK(!r.recovered);
      check_same_tree(r, want);
    }
    for (size_t damaged : {size_t{64}, size_t{76}}) {
      INFO(damaged);
      Bytes bad = good;
      Bytes junk = random_bytes(damaged, static_cast<uint32_t>(damaged + i));
      std::copy(junk.begin(), junk.end(), bad.begin());
      ExtractResult normal = read(bad);
      CHECK(normal.entries.empty());
      Budget budget;
      ExtractResult r = fwcert::recover_cramfs(view_of(bad), budget);
      CHECK(r.recovered);
      CHECK(has_diag(r, "superblock damaged; tree recovered from the root directory at 0x4C"));
      check_same_tree(r, want);
    }
  }
  SECTION("nothing to recover in random bytes") {
    Bytes junk = random_bytes(20000, 77);
    Budget budget;
    ExtractResult r = fwcert::recover_cramfs(view_of(junk), budget);
    CHECK(!r.recovered);
    CHECK(r.entries.empty());
    CHECK(has_diag(r, "nothing recovered"));
  }
}

TEST_CASE("cramfs reader: with a matching image CRC the blocks are decoded raw, with the same result") {
  // A matching CRC-32 lets the reader skip each block's Adler-32; a stored CRC that does not match (here: the
  // field itself damaged, the data intact) makes it check them. Contents and entry diagnostics must not differ.
  std::vector<fwtest::CramfsFile> files;
  for (int i = 0; i < 6; ++i) {
    Bytes content = random_bytes(9000 + 3000 * static_cast<size_t>(i), static_cast<uint32_t>(40 + i));
    for (size_t k = 0; k < content.size(); k += 2) content[k] = 'q';
    files.push_back({"f" + std::to_string(i), content});
  }
  Bytes img = make_cramfs(files, false);
  Bytes bad_crc = img;
  bad_crc[32] ^= 0x01;  // fsid.crc
  ExtractResult verified = read(img);
  ExtractResult checked = read(bad_crc);
  CHECK(has_diag(verified, "CRC OK"));
  CHECK(has_diag(checked, "CRC mismatch"));
  REQUIRE(verified.entries.size() == files.size());
  REQUIRE(checked.entries.size() == files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    CHECK(content_str(verified.entries[i]) == std::string(files[i].content.begin(), files[i].content.end()));
    CHECK(content_str(checked.entries[i]) == content_str(verified.entries[i]));
    CHECK(verified.entries[i].complete);
    CHECK(checked.entries[i].diagnostics.empty());
  }
}
