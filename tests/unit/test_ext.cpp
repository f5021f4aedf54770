// ext2/ext3/ext4 (issue 15 item 3): images made at test time by `mke2fs -t ext2|ext3|ext4 -d TREE` from a tree holding
// a certificate and its private key, small and large files, a fast and a slow symlink, a hard link, a sparse file, an
// empty directory, a directory of many entries (an htree on ext3/ext4), devices and a FIFO, and on ext4 also inline
// data. What the tree and fwextract's writer give must equal the source tree file by file; the scan must find the
// certificate at its full location, also inside a larger image, and pair the key. Truncated and damaged images give
// diagnostics and the rest. Skipped (with a warning) without mke2fs (Debian package e2fsprogs).
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "fwcert/certs/scan.hpp"
#include "fwcert/extract/tree.hpp"
#include "fwcert/extract/writer.hpp"
#include "fwcert/formats/ext.hpp"
#include "support.hpp"

using namespace fwtest;
using fwcert::ByteView;
namespace fsys = std::filesystem;

namespace {

constexpr int64_t k2026Jan1 = 1767225600;

std::string mke2fs() {
  for (const char* p : {"/usr/sbin/mke2fs", "/sbin/mke2fs"})
    if (::access(p, X_OK) == 0) return p;
  return std::system("command -v mke2fs >/dev/null 2>&1") == 0 ? "mke2fs" : "";
}

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

// A self-signed P-256 certificate (CN=cn, 2020-01-01 to 2030-01-01) and its private key, in PEM.
std::pair<std::string, std::string> make_cert_and_key(const std::string& cn) {
  std::unique_ptr<EVP_PKEY, KeyFree> key(EVP_EC_gen("P-256"));
  REQUIRE(key);
  std::unique_ptr<X509, X509Free> x(X509_new());
  REQUIRE(x);
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 7);
  ASN1_TIME_set(X509_getm_notBefore(x.get()), 1577836800);
  ASN1_TIME_set(X509_getm_notAfter(x.get()), 1893456000);
  X509_NAME* name = X509_get_subject_name(x.get());
  REQUIRE(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1,
                                     -1, 0) == 1);
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
void write_text(const fsys::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

// One entry of a tree, as compared between the source folder and what the reader gives.
struct Item {
  char type = '?';
  uint32_t perm = 0;  // permission bits (07777)
  int64_t mtime = 0;
  std::string content;  // regular files
  std::string target;   // symlinks
  uint32_t major = 0, minor = 0;
  bool operator==(const Item&) const = default;
};

std::string show(const Item& i) {
  return std::string(1, i.type) + " perm " + std::to_string(i.perm) + " mtime " + std::to_string(i.mtime) + " size " +
         std::to_string(i.content.size()) + (i.target.empty() ? "" : " -> " + i.target) + " dev " +
         std::to_string(i.major) + "," + std::to_string(i.minor);
}

// The source tree: a certificate and its key where a BMC keeps them, and every kind of file ext stores differently.
struct SourceTree {
  fsys::path root;
  std::string cert_pem, key_pem;
  bool devices = false;

  SourceTree() {
    char tmpl[] = "/tmp/fwcert-ext-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    root = tmpl;
    auto [cert, key] = make_cert_and_key("ext test server");
    cert_pem = cert;
    key_pem = key;
    fsys::create_directories(root / "etc/ssl/private");
    fsys::create_directories(root / "usr/bin");
    fsys::create_directories(root / "var/empty");
    fsys::create_directories(root / "many");
    write_text(root / "etc/ssl/server.pem", cert_pem);
    write_text(root / "etc/ssl/private/server.key", key_pem);
    fsys::permissions(root / "etc/ssl/private/server.key", fsys::perms::owner_read | fsys::perms::owner_write);
    write_text(root / "etc/tiny", "hi\n");  // inline data on an inline_data ext4
    write_text(root / "etc/empty", "");
    write_bytes(root / "usr/bin/big", random_bytes(700 * 1024 + 123, 15));  // indirect blocks on ext2/3
    fsys::create_symlink("../etc/ssl/server.pem", root / "usr/link.pem");  // fast symlink
    const std::string long_target = "/" + std::string(100, 'd') + "/" + std::string(80, 'f');
    fsys::create_symlink(long_target, root / "usr/long-link");  // slow symlink (more than 60 bytes)
    fsys::create_hard_link(root / "etc/ssl/server.pem", root / "usr/hard.pem");
    {
      // Sparse: a 1.5 MiB hole, then data (within the ratio limit for one allocated 1 KiB block).
      std::ofstream out(root / "usr/sparse", std::ios::binary);
      out.seekp(1536 * 1024);
      out << "after the hole";
    }
    for (int i = 0; i < 300; ++i) write_text(root / ("many/file-with-a-long-name-" + std::to_string(i)), std::to_string(i));
    ::mkfifo((root / "usr/fifo").c_str(), 0640);
    devices = ::mknod((root / "usr/null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0 &&
              ::mknod((root / "usr/sda").c_str(), S_IFBLK | 0660, makedev(8, 0)) == 0 &&
              ::mknod((root / "usr/bigdev").c_str(), S_IFCHR | 0600, makedev(300, 70000)) == 0;
    // Fixed times (mke2fs -d copies them).
    for (const auto& e : fsys::recursive_directory_iterator(root)) set_mtime(e.path(), 1600000000);
    set_mtime(root, 1600000000);
  }
  ~SourceTree() {
    std::error_code ec;
    fsys::remove_all(root, ec);
  }
  static void set_mtime(const fsys::path& p, int64_t t) {
    struct timespec ts[2] = {{static_cast<time_t>(t), 0}, {static_cast<time_t>(t), 0}};
    ::utimensat(AT_FDCWD, p.c_str(), ts, AT_SYMLINK_NOFOLLOW);
  }

  // mke2fs -t type -d root; the image's path, or "" when mke2fs failed.
  std::string image(const std::string& type, const std::string& extra, const std::string& size = "16M") const {
    const std::string out = root.string() + "." + type + ".img";
    std::remove(out.c_str());
    const std::string cmd = "E2FSPROGS_FAKE_TIME=1600000000 " + mke2fs() + " -q -F -t " + type + " " + extra +
                            " -L fwtest -d " + quote(root.string()) + " " + quote(out) + " " + size + " >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0 ? out : "";
  }

  // path below the root ("/etc/ssl/server.pem") -> item; the root itself is not listed.
  std::map<std::string, Item> items() const {
    std::map<std::string, Item> out;
    for (const auto& e : fsys::recursive_directory_iterator(root)) {
      struct stat st;
      REQUIRE(::lstat(e.path().c_str(), &st) == 0);
      Item i;
      i.perm = st.st_mode & 07777;
      i.mtime = st.st_mtime;
      if (S_ISREG(st.st_mode)) {
        i.type = '-';
        Bytes b = read_file(e.path().string());
        i.content.assign(b.begin(), b.end());
      } else if (S_ISDIR(st.st_mode)) {
        i.type = 'd';
      } else if (S_ISLNK(st.st_mode)) {
        i.type = 'l';
        i.target = fsys::read_symlink(e.path()).string();
      } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
        i.type = S_ISCHR(st.st_mode) ? 'c' : 'b';
        i.major = major(st.st_rdev);
        i.minor = minor(st.st_rdev);
      } else if (S_ISFIFO(st.st_mode)) {
        i.type = 'p';
      }
      out["/" + e.path().lexically_relative(root).string()] = i;
    }
    return out;
  }
};

char type_letter(fwcert::EntryKind k) {
  switch (k) {
    case fwcert::EntryKind::File: return '-';
    case fwcert::EntryKind::Directory: return 'd';
    case fwcert::EntryKind::Symlink: return 'l';
    case fwcert::EntryKind::CharDevice: return 'c';
    case fwcert::EntryKind::BlockDevice: return 'b';
    case fwcert::EntryKind::Fifo: return 'p';
    case fwcert::EntryKind::Socket: return 's';
  }
  return '?';
}

std::optional<size_t> find_node(const fwcert::Tree& tree, const std::string& location) {
  for (const auto& n : tree.nodes)
    if (n.location == location) return n.id;
  return std::nullopt;
}

// The members of a container node, as items; "/lost+found" (made by mke2fs) left out.
std::map<std::string, Item> tree_items(const fwcert::Tree& tree, size_t node) {
  std::map<std::string, Item> out;
  for (size_t id : tree.nodes[node].children) {
    const fwcert::Node& n = tree.nodes[id];
    if (n.role != fwcert::NodeRole::Member || n.member_path.rfind("/lost+found", 0) == 0) continue;
    Item i;
    i.type = type_letter(n.kind);
    i.perm = n.mode & 07777;
    i.mtime = n.mtime;
    if (n.kind == fwcert::EntryKind::File) i.content.assign(n.content.as_string_view());
    i.target = n.link_target;
    i.major = n.rdev_major;
    i.minor = n.rdev_minor;
    out[n.member_path] = i;
  }
  return out;
}

void check_same(const std::map<std::string, Item>& ours, const std::map<std::string, Item>& source) {
  CHECK(ours.size() == source.size());
  for (const auto& [path, item] : source) {
    INFO(path << ": source " << show(item));
    auto it = ours.find(path);
    REQUIRE(it != ours.end());
    INFO("read " << show(it->second));
    CHECK(it->second == item);
  }
}

std::vector<std::string> problems_of(const fwcert::Tree& tree) {
  std::vector<std::string> out;
  for (const auto& n : tree.nodes)
    for (const auto& d : n.diagnostics)
      if (d.severity != fwcert::Severity::Info) out.push_back(n.location + ": " + d.message);
  return out;
}

fwcert::ScanReport scan(const Bytes& img, const std::string& name) {
  fwcert::ScanOptions o;
  o.now = k2026Jan1;
  return fwcert::scan_input(ByteView(img.data(), img.size()), name, walker(), o);
}

// The certificate's locations and its keys' locations in a scan.
void check_scan(const fwcert::ScanReport& r, const std::string& prefix) {
  for (const auto& p : r.problems) UNSCOPED_INFO("problem: " << p.location << ": " << p.diagnostic.message);
  REQUIRE(r.certificates.size() == 1);
  const auto& c = r.certificates.front();
  CHECK(c.cert.common_name == "ext test server");
  const std::set<std::string> locs(c.locations.begin(), c.locations.end());
  CHECK(locs.count(prefix + ":/etc/ssl/server.pem") == 1);
  CHECK(locs.count(prefix + ":/usr/hard.pem") == 1);
  REQUIRE(c.private_keys.size() == 1);
  CHECK(c.private_keys.front() == prefix + ":/etc/ssl/private/server.key");
}

struct Variant {
  std::string type, extra, label;
};

const std::vector<Variant>& variants() {
  static const std::vector<Variant> v = {
      {"ext2", "-I 128", "ext2, 128-byte inodes, 1 KiB blocks", },
      {"ext2", "-b 4096", "ext2, 4 KiB blocks", },
      {"ext3", "", "ext3 (journal)", },
      {"ext4", "", "ext4 (extents, flex_bg, metadata_csum)", },
      {"ext4", "-b 1024 -O ^metadata_csum,^64bit", "ext4, 1 KiB blocks, no checksums, 32-bit", },
      {"ext4", "-O inline_data", "ext4 with inline data", },
  };
  return v;
}

}  // namespace

TEST_CASE("ext2/3/4 made by mke2fs -d read back equal to the source tree", "[ext]") {
  if (mke2fs().empty()) {
    WARN("mke2fs not found (Debian package e2fsprogs): skipped");
    return;
  }
  SourceTree src;
  const auto source_items = src.items();
  REQUIRE(source_items.size() > 300);
  for (const auto& v : variants()) {
    INFO(v.label);
    const std::string image = src.image(v.type, v.extra);
    if (image.empty() && v.extra.find("inline_data") != std::string::npos) {
      WARN("mke2fs cannot make inline_data here: skipped");
      continue;
    }
    REQUIRE(!image.empty());
    Bytes img = read_file(image);

    // The validator names the flavour.
    auto hit = validate("ext", img);
    REQUIRE(hit);
    CHECK(hit->type == "ext");
    CHECK(hit->size == img.size());
    CHECK(hit->confidence == fwcert::Confidence::High);
    CHECK(hit->description.rfind(v.type + " filesystem", 0) == 0);

    fwcert::Tree tree = fwcert::extract_tree(ByteView(img.data(), img.size()), "img.bin", walker());
    auto node = find_node(tree, "img.bin!ext");
    REQUIRE(node);
    for (const auto& p : problems_of(tree)) UNSCOPED_INFO("diagnostic: " << p);
    CHECK(problems_of(tree).empty());
    check_same(tree_items(tree, *node), source_items);

    // fwextract's writer puts the same bytes on disk.
    const std::string out = src.root.string() + ".out";
    fsys::remove_all(out);
    auto wr = fwcert::write_tree(tree, out);
    REQUIRE(wr);
    size_t compared = 0;
    for (size_t id : tree.nodes[*node].children) {
      const auto& n = tree.nodes[id];
      if (n.kind != fwcert::EntryKind::File || n.member_path.rfind("/lost+found", 0) == 0) continue;
      REQUIRE(!wr->paths[id].empty());
      Bytes written = read_file(out + "/" + wr->paths[id]);
      CHECK(std::string(written.begin(), written.end()) == source_items.at(n.member_path).content);
      ++compared;
    }
    CHECK(compared > 300);
    fsys::remove_all(out);

    check_scan(scan(img, "img.bin"), "img.bin!ext");
    std::remove(image.c_str());
  }
}

TEST_CASE("ext4 inside a larger image: the location names its offset", "[ext]") {
  if (mke2fs().empty()) {
    WARN("mke2fs not found (Debian package e2fsprogs): skipped");
    return;
  }
  SourceTree src;
  const std::string image = src.image("ext4", "", "8M");
  REQUIRE(!image.empty());
  Bytes fs = read_file(image);
  Bytes img = random_bytes(0x30000, 3);
  append(img, fs);
  append(img, random_bytes(0x8000, 4));
  fwcert::Tree tree = fwcert::extract_tree(ByteView(img.data(), img.size()), "img.bin", walker());
  auto node = find_node(tree, "img.bin!ext@0x30000");
  REQUIRE(node);
  CHECK(tree.nodes[*node].content.size() == fs.size());
  check_same(tree_items(tree, *node), src.items());
  check_scan(scan(img, "img.bin"), "img.bin!ext@0x30000");
  std::remove(image.c_str());
}

TEST_CASE("ext: streaming (visit) keeps only what the visitor asks for", "[ext]") {
  if (mke2fs().empty()) {
    WARN("mke2fs not found (Debian package e2fsprogs): skipped");
    return;
  }
  SourceTree src;
  const std::string image = src.image("ext4", "");
  REQUIRE(!image.empty());
  Bytes img = read_file(image);
  fwcert::Budget budget;
  fwcert::ContainerReadOptions o;
  size_t visited = 0;
  o.visit = [&](size_t, const fwcert::Entry& e, ByteView content) {
    ++visited;
    CHECK(content.size() == e.size);
    return e.path == "/etc/ssl/server.pem";
  };
  auto r = fwcert::ext::read_ext(ByteView(img.data(), img.size()), budget, o);
  CHECK(r.diagnostics.empty());
  CHECK(visited > 300);
  size_t kept = 0, unkept = 0;
  for (const auto& e : r.entries) {
    if (e.kind != fwcert::EntryKind::File || e.size == 0) continue;
    if (e.data) {
      ++kept;
      CHECK(e.path == "/etc/ssl/server.pem");
      CHECK(std::string(e.content().as_string_view()) == src.cert_pem);
    } else {
      ++unkept;
      CHECK(e.unkept_size == e.size);
    }
  }
  CHECK(kept == 1);
  CHECK(unkept > 300);
  std::remove(image.c_str());
}

TEST_CASE("ext: limits: a sparse file of a terabyte is not allocated; the entry limit stops the walk", "[ext]") {
  if (mke2fs().empty()) {
    WARN("mke2fs not found (Debian package e2fsprogs): skipped");
    return;
  }
  SourceTree src;
  {
    std::ofstream out(src.root / "usr/huge", std::ios::binary);
    out.seekp(int64_t{1} << 40);
    out << "x";
  }
  const std::string image = src.image("ext4", "");
  REQUIRE(!image.empty());
  Bytes img = read_file(image);
  fwcert::Budget budget;  // default limits: 1 GiB a file, ratio 2000 past 1 MiB
  auto r = fwcert::ext::read_ext(ByteView(img.data(), img.size()), budget, {});
  bool found = false;
  for (const auto& e : r.entries) {
    if (e.path != "/usr/huge") continue;
    found = true;
    CHECK(e.size == (uint64_t{1} << 40) + 1);
    CHECK(!e.complete);
    CHECK(e.content().size() <= (uint64_t{16} << 20));  // a few allocated blocks x the ratio limit
  }
  CHECK(found);
  CHECK(r.limited);
  CHECK(budget.used_bytes() < (uint64_t{64} << 20));

  fwcert::ExtractLimits small;
  small.max_entries = 20;
  fwcert::Budget few(small);
  auto r2 = fwcert::ext::read_ext(ByteView(img.data(), img.size()), few, {});
  CHECK(r2.entries.size() == 20);
  CHECK(r2.limited);
  std::remove(image.c_str());
}

namespace {

// Little-endian fields of an image made by mke2fs, to find the structures to damage.
uint32_t le32(const Bytes& b, size_t off) {
  return uint32_t(b[off]) | uint32_t(b[off + 1]) << 8 | uint32_t(b[off + 2]) << 16 | uint32_t(b[off + 3]) << 24;
}

// The path of the members read from a damaged image, its container diagnostics, and that nothing was printed.
struct Damaged {
  std::set<std::string> paths;
  std::vector<std::string> diagnostics;
};

Damaged read_damaged(const Bytes& img) {
  Damaged d;
  fwcert::Budget budget;
  // stderr to a file: libext2fs must print nothing.
  std::fflush(stderr);
  char tmpl[] = "/tmp/fwcert-ext-stderr-XXXXXX";
  int fd = ::mkstemp(tmpl);
  REQUIRE(fd >= 0);
  int saved = ::dup(2);
  ::dup2(fd, 2);
  auto r = fwcert::ext::read_ext(ByteView(img.data(), img.size()), budget, {});
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  ::close(fd);
  Bytes printed = read_file(tmpl);
  std::remove(tmpl);
  CHECK(std::string(printed.begin(), printed.end()).empty());
  for (const auto& e : r.entries) d.paths.insert(e.path);
  for (const auto& x : r.diagnostics) d.diagnostics.push_back(x.message);
  for (const auto& e : r.entries)
    for (const auto& x : e.diagnostics) d.diagnostics.push_back(x.message);
  return d;
}

}  // namespace

TEST_CASE("ext: truncated and damaged images give diagnostics and the rest", "[ext]") {
  if (mke2fs().empty()) {
    WARN("mke2fs not found (Debian package e2fsprogs): skipped");
    return;
  }
  SourceTree src;
  // 4 KiB blocks, no checksums (damage must reach the parsing, not only the checksums) and one without.
  for (const std::string extra : {"-b 4096 -O ^metadata_csum", "-b 4096"}) {
    INFO(extra);
    const std::string image = src.image("ext4", extra, "8M");
    REQUIRE(!image.empty());
    const Bytes good = read_file(image);
    const size_t bs = 4096;
    const Damaged whole = read_damaged(good);
    REQUIRE(whole.paths.count("/etc/ssl/server.pem") == 1);
    REQUIRE(whole.diagnostics.empty());

    {  // truncated at every 1/8
      for (size_t cut = 1; cut < 8; ++cut) {
        Bytes t(good.begin(), good.begin() + static_cast<long>(good.size() * cut / 8));
        const Damaged d = read_damaged(t);
        INFO("cut at " << t.size());
        CHECK(!d.diagnostics.empty());
      }
      Bytes t(good.begin(), good.begin() + 1500);
      CHECK(read_damaged(t).paths.empty());
    }

    {  // superblock: a bad block size, a blocks count that no longer matches the inodes count
      Bytes b = good;
      b[1024 + 24] = 9;  // s_log_block_size: 512 KiB
      Damaged d = read_damaged(b);
      CHECK(d.paths.empty());
      REQUIRE(d.diagnostics.size() == 1);
      CHECK(d.diagnostics.front().find("block size") != std::string::npos);
      CHECK(!validate("ext", b));
      b = good;
      b[1024 + 6] ^= 0x10;  // s_blocks_count + 2^20: the inodes count no longer matches the groups
      d = read_damaged(b);
      CHECK(d.paths.empty());
      CHECK(!d.diagnostics.empty());
    }

    // The group descriptor table follows the superblock's block (block 1 with 4 KiB blocks); the root directory's
    // inode table location is in descriptor 0 (bg_inode_table at +8).
    const size_t gdt = bs;
    const uint64_t inode_table = le32(good, gdt + 8);
    REQUIRE(inode_table > 0);
    REQUIRE(inode_table * bs < good.size());

    {  // group descriptors: the inode table points outside the image
      Bytes b = good;
      b[gdt + 8 + 3] = 0x7f;
      Damaged d = read_damaged(b);
      CHECK(!d.diagnostics.empty());
    }

    {  // inode table: the root inode's first bytes flipped
      Bytes b = good;
      const size_t inode_size = le32(good, 1024 + 88) & 0xffff;
      const size_t root = inode_table * bs + inode_size;  // inode 2
      for (size_t i = 0; i < 64; ++i) b[root + i] ^= 0xA5;
      Damaged d = read_damaged(b);
      CHECK(!d.diagnostics.empty());
    }

    {  // random bit flips in the metadata: no crash, no hang, nothing printed
      for (uint32_t seed = 1; seed <= 40; ++seed) {
        Bytes b = good;
        Bytes noise = random_bytes(64, seed);
        for (size_t i = 0; i + 8 <= noise.size(); i += 8) {
          const size_t at = le32(noise, i) % std::min<size_t>(b.size(), 64 * bs);  // the metadata lies up front
          b[at] ^= static_cast<uint8_t>(1u << (noise[i + 4] & 7));
        }
        (void)read_damaged(b);
      }
    }
    std::remove(image.c_str());
  }
}

TEST_CASE("ext: a damaged directory block loses that directory only", "[ext]") {
  if (mke2fs().empty()) {
    WARN("mke2fs not found (Debian package e2fsprogs): skipped");
    return;
  }
  SourceTree src;
  const std::string image = src.image("ext2", "-b 1024");
  REQUIRE(!image.empty());
  Bytes img = read_file(image);
  // Find /usr/bin's directory block: the 1 KiB block that starts with its "." entry and holds "big".
  fwcert::Budget budget;
  auto r = fwcert::ext::read_ext(ByteView(img.data(), img.size()), budget, {});
  REQUIRE(r.diagnostics.empty());
  size_t dir_block = 0;
  for (size_t b = 1; b * 1024 + 1024 <= img.size(); ++b) {
    const uint8_t* p = img.data() + b * 1024;
    // "." (rec_len 12, name_len 1) then ".." then "big" (name_len 3).
    if (p[6] == 1 && p[8] == '.' && p[4] == 12 && p[12 + 6] == 2 && p[24 + 6] == 3 && std::memcmp(p + 24 + 8, "big", 3) == 0) {
      dir_block = b;
      break;
    }
  }
  REQUIRE(dir_block != 0);
  img[dir_block * 1024 + 24 + 4] = 0xFF;  // rec_len of "big": past the block
  img[dir_block * 1024 + 24 + 5] = 0xFF;
  const Damaged d = read_damaged(img);
  CHECK(d.paths.count("/usr/bin") == 1);
  CHECK(d.paths.count("/usr/bin/big") == 0);
  CHECK(d.paths.count("/etc/ssl/server.pem") == 1);
  CHECK(d.paths.count("/many/file-with-a-long-name-299") == 1);
  bool named = false;
  for (const auto& m : d.diagnostics) named = named || m.find("/usr/bin: directory listing damaged") != std::string::npos;
  CHECK(named);
  // The scan still finds and pairs the certificate.
  check_scan(scan(img, "img.bin"), "img.bin!ext");
  std::remove(image.c_str());
}

TEST_CASE("ext4: a journal that needs recovery is noted, not replayed, and the files still read; mtimes past 2038",
          "[ext]") {
  if (mke2fs().empty()) {
    WARN("mke2fs not found (Debian package e2fsprogs): skipped");
    return;
  }
  SourceTree src;
  const std::string image = src.image("ext4", "", "8M");
  REQUIRE(!image.empty());
  // 2100-01-01 needs ext4's epoch bits, which mke2fs -d 1.47 does not write (it keeps the low 32 bits); debugfs does.
  const std::string debugfs = mke2fs().find('/') != std::string::npos
                                  ? mke2fs().substr(0, mke2fs().rfind('/') + 1) + "debugfs"
                                  : std::string("debugfs");
  REQUIRE(std::system((debugfs + " -w -R 'sif /etc/tiny mtime 210001010000' " + quote(image) + " >/dev/null 2>&1")
                          .c_str()) == 0);
  Bytes img = read_file(image);
  // Mark the journal as needing recovery (what a filesystem imaged while mounted has): incompat bit 0x4.
  img[1024 + 96] |= 0x04;
  // metadata_csum covers the superblock: without a fresh checksum the mismatch is reported and the reading goes on.
  fwcert::Budget budget;
  auto r = fwcert::ext::read_ext(ByteView(img.data(), img.size()), budget, {});
  bool noted = false;
  for (const auto& d : r.diagnostics) {
    UNSCOPED_INFO(d.message);
    noted = noted || (d.severity == fwcert::Severity::Info && d.message.find("not replayed") != std::string::npos);
  }
  CHECK(noted);
  std::map<std::string, const fwcert::Entry*> by_path;
  for (const auto& e : r.entries) by_path[e.path] = &e;
  REQUIRE(by_path.count("/etc/ssl/server.pem") == 1);
  CHECK(std::string(by_path["/etc/ssl/server.pem"]->content().as_string_view()) == src.cert_pem);
  REQUIRE(by_path.count("/etc/tiny") == 1);
  CHECK(by_path["/etc/tiny"]->mtime == int64_t{4102444800});
  auto hit = validate("ext", img);
  REQUIRE(hit);
  CHECK(hit->description.find("needs_recovery") != std::string::npos);
  std::remove(image.c_str());
}
