// squashfs against unsquashfs (issue 13): images made at test time by mksquashfs with every compressor it offers, with
// empty directories at several depths (an empty directory used to hide every directory listed after it), hard links,
// deep and wide nesting and a certificate in every non-empty directory. The tree fwextract lists must equal
// `unsquashfs -lln` entry for entry, and the certificate scan must find every certificate at every path. Likewise for
// the squashfs images of the corpus that unsquashfs reads (binwalk's firmware.squashfs, whose vendor LZMA neither
// reads, is in test_squashfs_reader). Skipped (with a warning) without squashfs-tools or the corpus.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "fwcert/certs/scan.hpp"
#include "fwcert/extract/tree.hpp"
#include "support.hpp"

using namespace fwtest;
using fwcert::ByteView;
namespace fsys = std::filesystem;

namespace {

constexpr int64_t k2026Jan1 = 1767225600;

bool have_squashfs_tools() {
  return std::system("command -v mksquashfs >/dev/null 2>&1 && command -v unsquashfs >/dev/null 2>&1") == 0;
}

// Standard output of a shell command (its exit status in *status).
std::string run(const std::string& cmd, int* status = nullptr) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int rc = ::pclose(p);
  if (status) *status = rc;
  return out;
}

std::string quote(const std::string& s) { return "'" + s + "'"; }

// The compressors this mksquashfs offers, from its -help ("Compressors available:" then one indented name a line).
std::vector<std::string> mksquashfs_compressors() {
  std::vector<std::string> out;
  std::string help = run("mksquashfs -help 2>&1");
  size_t at = help.find("Compressors available:");
  if (at == std::string::npos) return out;
  size_t line = help.find('\n', at);
  while (line != std::string::npos && line + 1 < help.size()) {
    size_t end = help.find('\n', line + 1);
    std::string l = help.substr(line + 1, end == std::string::npos ? std::string::npos : end - line - 1);
    // The names are indented deeper than the option lines that follow (4 tabs in squashfs-tools 4.5).
    if (l.rfind("\t\t\t\t", 0) != 0) break;
    size_t b = l.find_first_not_of('\t');
    size_t e = l.find_first_of(" \t", b);
    if (b != std::string::npos) out.push_back(l.substr(b, e == std::string::npos ? std::string::npos : e - b));
    line = end;
  }
  return out;
}

// --- certificates made with OpenSSL --------------------------------------------------------------------------------

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};

// A self-signed P-256 certificate named CN=cn, valid 2020-01-01 to 2030-01-01, in PEM.
std::string make_cert_pem(EVP_PKEY* key, const std::string& cn, long serial) {
  std::unique_ptr<X509, X509Free> x(X509_new());
  REQUIRE(x);
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), serial);
  ASN1_TIME_set(X509_getm_notBefore(x.get()), 1577836800);
  ASN1_TIME_set(X509_getm_notAfter(x.get()), 1893456000);
  X509_NAME* name = X509_get_subject_name(x.get());
  REQUIRE(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1,
                                     -1, 0) == 1);
  X509_set_issuer_name(x.get(), name);
  X509_set_pubkey(x.get(), key);
  REQUIRE(X509_sign(x.get(), key, EVP_sha256()) > 0);
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  REQUIRE(PEM_write_bio_X509(bio.get(), x.get()) == 1);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

void write_text(const fsys::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

// A root filesystem as firmware has them: empty directories (sorting before, between and after non-empty ones, several
// in a row, at several depths, an empty directory as the last entry of a directory and of the image), hard links
// across directories, a symlink, a 30-level chain, a directory of 120 subdirectories (every other one empty), a
// directory whose listing spans several metadata blocks, and a certificate (CN = the directory's path) in every
// directory that is not meant to be empty (CN "sqfs dir N": a CN holds at most 64 characters, too few for a deep path).
// Removed at the end of the test.
struct RootFs {
  fsys::path root;
  std::map<std::string, std::string> certs;    // CN -> path of its file in the image ("/b/c/cert.pem")
  std::map<std::string, std::string> cn_of;    // path of a certificate file -> its CN
  std::vector<std::pair<std::string, std::string>> hard_links;  // (link path, path of the certificate it links to)

  RootFs() {
    char tmpl[] = "/tmp/fwcert-unsquashfs-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    root = tmpl;
    std::unique_ptr<EVP_PKEY, KeyFree> key(EVP_EC_gen("P-256"));
    REQUIRE(key);
    auto cert_in = [&](const std::string& dir) {  // dir: "" for the root, else "/a/b"
      const std::string cn = "sqfs dir " + std::to_string(certs.size() + 1);
      const std::string path = dir + "/cert.pem";
      fsys::create_directories(root.string() + dir);
      write_text(root.string() + path, make_cert_pem(key.get(), cn, static_cast<long>(certs.size()) + 1));
      certs[cn] = path;
      cn_of[path] = cn;
    };
    auto empty = [&](const std::string& dir) { fsys::create_directories(root.string() + dir); };

    cert_in("");
    empty("/.hidden-empty");
    empty("/0-empty");
    empty("/a");
    cert_in("/b");
    empty("/b/0");
    empty("/b/1");
    empty("/b/2");
    cert_in("/b/c");
    empty("/b/c/empty");
    cert_in("/b/d");
    empty("/b/d/z");
    empty("/mnt");
    empty("/proc");
    empty("/sys");
    cert_in("/etc");
    cert_in("/etc/ssl");
    empty("/etc/ssl/private");
    cert_in("/etc/ssl/certs");
    cert_in("/usr");
    empty("/usr/0");
    cert_in("/usr/bin");
    // A directory holding only an empty directory (besides its certificate), then one holding nothing but one.
    cert_in("/opt");
    empty("/opt/lantiq/empty");
    cert_in("/opt/lantiq/bin");
    // Deep: every level has an empty directory sorting before the next level, and a certificate.
    std::string deep = "/deep";
    for (int i = 1; i <= 30; ++i) {
      char name[8];
      std::snprintf(name, sizeof name, "/l%02d", i);
      cert_in(deep);
      empty(deep + "/0");
      deep += name;
    }
    cert_in(deep);
    empty(deep + "/empty-at-the-bottom");
    // Wide: 120 siblings, the even ones empty.
    for (int i = 0; i < 120; ++i) {
      char name[16];
      std::snprintf(name, sizeof name, "/wide/d%03d", i);
      if (i % 2 == 0)
        empty(name);
      else
        cert_in(name);
    }
    // A listing longer than one 8 KiB metadata block, with empty directories among the files.
    cert_in("/many");
    for (int i = 0; i < 400; ++i) {
      char name[64];
      std::snprintf(name, sizeof name, "/many/a-rather-long-file-name-to-fill-the-listing-%03d", i);
      if (i % 50 == 7)
        empty(std::string(name) + "-dir");
      else
        write_text(root.string() + name, "x");
    }
    // Hard links: a certificate linked from the root and from another directory, a link between two deep levels.
    hard_links = {{"/hard-root.pem", "/b/c/cert.pem"},
                  {"/wide/d001/hard.pem", "/b/c/cert.pem"},
                  {"/deep/l01/l02/hard.pem", "/deep/l01/l02/l03/l04/cert.pem"}};
    for (const auto& [link, target] : hard_links) fsys::create_hard_link(root.string() + target, root.string() + link);
    fsys::create_symlink("b/c/cert.pem", root / "link.pem");
    cert_in("/z-last");
    empty("/zz-empty-last");
  }
  ~RootFs() {
    std::error_code ec;
    fsys::remove_all(root, ec);
  }
  // Builds an image with mksquashfs; its path, or "" when mksquashfs failed.
  std::string image(const std::string& comp, const std::string& extra = "") const {
    std::string out = root.string() + "." + comp + ".sqfs";
    std::string cmd = "mksquashfs " + quote(root.string()) + " " + quote(out) + " -comp " + comp +
                      " -noappend -no-progress -quiet -all-root -all-time 1600000000 " + extra + " >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0 ? out : "";
  }
};

// One line of a listing: type (ls -l's first letter), path below the root ("/b/c"), size of a regular file, target.
struct Listed {
  char type = '?';
  std::string path;
  uint64_t size = 0;
  std::string target;
  bool operator==(const Listed&) const = default;
};

std::string show(const Listed& l) {
  return std::string(1, l.type) + " " + l.path + (l.type == '-' ? " " + std::to_string(l.size) : "") +
         (l.target.empty() ? "" : " -> " + l.target);
}

// `unsquashfs -lln` of an image, without the root, in its order. Sets *ok to whether unsquashfs read it.
std::vector<Listed> unsquashfs_listing(const std::string& image, bool* ok) {
  int status = 0;
  std::string text = run("unsquashfs -lln -d R " + quote(image) + " 2>/dev/null", &status);
  *ok = status == 0;
  std::vector<Listed> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    // "drwxr-xr-x 0/0   27 2020-09-13 12:26 R/b": mode, owner, size (or "maj, min" for devices), date, time, path.
    if (line.size() < 10 || std::string("-dlcbps").find(line[0]) == std::string::npos) continue;
    Listed l;
    l.type = line[0];
    size_t p = 0;
    const int skip = (l.type == 'c' || l.type == 'b') ? 6 : 5;
    for (int f = 0; f < skip; ++f) {
      p = line.find_first_not_of(' ', p);
      if (f == 2 && l.type == '-') l.size = std::stoull(line.substr(p));
      p = line.find(' ', p);
      if (p == std::string::npos) break;
    }
    if (p == std::string::npos) continue;
    std::string path = line.substr(p + 1);
    if (l.type == 'l') {
      size_t arrow = path.find(" -> ");
      if (arrow != std::string::npos) {
        l.target = path.substr(arrow + 4);
        path.resize(arrow);
      }
    }
    if (path == "R") continue;  // the root itself: fwextract shows it as the squashfs node
    if (path.rfind("R/", 0) != 0) continue;
    l.path = path.substr(1);
    out.push_back(std::move(l));
  }
  return out;
}

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

// The members of a squashfs node in the order fwextract --list prints them.
std::vector<Listed> tree_listing(const fwcert::Tree& tree, size_t squashfs_node) {
  std::vector<Listed> out;
  for (size_t id : tree.nodes[squashfs_node].children) {
    const fwcert::Node& n = tree.nodes[id];
    if (n.role != fwcert::NodeRole::Member) continue;
    Listed l;
    l.type = type_letter(n.kind);
    l.path = n.member_path;
    if (n.kind == fwcert::EntryKind::File) l.size = n.size;
    l.target = n.link_target;
    out.push_back(std::move(l));
  }
  return out;
}

// Entry for entry; on a difference, the first one is shown.
void check_same_listing(const std::vector<Listed>& ours, const std::vector<Listed>& theirs) {
  size_t i = 0;
  while (i < ours.size() && i < theirs.size() && ours[i] == theirs[i]) ++i;
  INFO("fwextract lists " << ours.size() << " entries, unsquashfs " << theirs.size());
  INFO("first difference at entry " << i << ": fwextract '" << (i < ours.size() ? show(ours[i]) : "(end)")
                                    << "', unsquashfs '" << (i < theirs.size() ? show(theirs[i]) : "(end)") << "'");
  CHECK(ours.size() == theirs.size());
  CHECK(i == std::max(ours.size(), theirs.size()));
}

std::optional<size_t> find_node(const fwcert::Tree& tree, const std::string& location) {
  for (const auto& n : tree.nodes)
    if (n.location == location) return n.id;
  return std::nullopt;
}

bool no_squashfs_problem(const fwcert::Tree& tree, size_t node) {
  for (const auto& d : tree.nodes[node].diagnostics) {
    UNSCOPED_INFO("squashfs diagnostic: " << d.message);
    if (d.severity != fwcert::Severity::Info) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("squashfs vs unsquashfs: every mksquashfs compressor, empty directories, hard links", "[squashfs]") {
  if (!have_squashfs_tools()) {
    WARN("mksquashfs or unsquashfs not found (Debian package squashfs-tools): skipped");
    return;
  }
  const std::vector<std::string> comps = mksquashfs_compressors();
  INFO("mksquashfs offers:" << [&] {
    std::string s;
    for (const auto& c : comps) s += " " + c;
    return s;
  }());
  // squashfs-tools 4.5 offers these six; a newer one may offer more, each then tested too.
  for (const char* c : {"gzip", "lzo", "lz4", "xz", "zstd", "lzma"})
    CHECK(std::find(comps.begin(), comps.end(), c) != comps.end());

  RootFs fs;
  const std::vector<std::pair<std::string, std::string>> variants = {
      {"", ""}, {"-noI -noD -noF -b 4096", " with uncompressed tables, 4 KiB blocks"}};
  for (const auto& comp : comps) {
    for (const auto& [extra, label] : variants) {
      if (!extra.empty() && comp != "gzip") continue;
      INFO(comp << label);
      const std::string image = fs.image(comp, extra);
      REQUIRE(!image.empty());
      Bytes img = read_file(image);

      bool ok = false;
      std::vector<Listed> theirs = unsquashfs_listing(image, &ok);
      REQUIRE(ok);
      // Sanity of the reference: every certificate and the empty directories are in unsquashfs' listing.
      CHECK(theirs.size() > fs.certs.size() + 400);

      fwcert::Tree tree = fwcert::extract_tree(ByteView(img.data(), img.size()), "fs.sqfs", walker());
      auto sq = find_node(tree, "fs.sqfs!squashfs");
      REQUIRE(sq);
      CHECK(no_squashfs_problem(tree, *sq));
      check_same_listing(tree_listing(tree, *sq), theirs);

      // The scan finds every certificate at its path, and the hard-linked ones at every name.
      fwcert::ScanOptions o;
      o.now = k2026Jan1;
      fwcert::ScanReport r = fwcert::scan_input(ByteView(img.data(), img.size()), "fs.sqfs", walker(), o);
      for (const auto& p : r.problems) UNSCOPED_INFO("problem: " << p.location << ": " << p.diagnostic.message);
      CHECK(r.problems.empty());
      CHECK(r.certificates.size() == fs.certs.size());
      std::map<std::string, std::set<std::string>> found;  // CN -> locations
      for (const auto& c : r.certificates)
        for (const auto& l : c.locations) found[c.cert.common_name].insert(l);
      for (const auto& [cn, path] : fs.certs) {
        INFO(cn);
        CHECK(found[cn].count("fs.sqfs!squashfs:" + path) == 1);
      }
      for (const auto& [link, target] : fs.hard_links) {
        INFO(link);
        CHECK(found[fs.cn_of.at(target)].count("fs.sqfs!squashfs:" + link) == 1);
      }
      std::remove(image.c_str());
    }
  }
}

namespace {

// The listing of the squashfs at `location` in the tree of a corpus file equals unsquashfs' listing of the bytes it
// was read from (the parent node's content: the file itself or, e.g., a FIT subimage).
void check_corpus_image(const std::string& relative, const std::string& name, const std::string& location,
                        size_t min_entries) {
  auto path = corpus_file(relative);
  if (!path) return;
  INFO(relative);
  Bytes data = read_file(*path);
  fwcert::Tree tree = fwcert::extract_tree(ByteView(data.data(), data.size()), name, walker());
  auto sq = find_node(tree, location);
  REQUIRE(sq);
  const fwcert::Node& parent = tree.nodes[*tree.nodes[*sq].parent];
  fsys::path tmp = fsys::temp_directory_path() / ("fwcert-corpus-" + std::to_string(::getpid()) + ".sqfs");
  {
    std::ofstream out(tmp, std::ios::binary);
    out.write(reinterpret_cast<const char*>(parent.content.data()) + tree.nodes[*sq].offset,
              static_cast<std::streamsize>(parent.content.size() - tree.nodes[*sq].offset));
  }
  bool ok = false;
  std::vector<Listed> theirs = unsquashfs_listing(tmp.string(), &ok);
  fsys::remove(tmp);
  REQUIRE(ok);
  CHECK(theirs.size() >= min_entries);
  CHECK(no_squashfs_problem(tree, *sq));
  check_same_listing(tree_listing(tree, *sq), theirs);
}

}  // namespace

TEST_CASE("squashfs vs unsquashfs: the corpus", "[squashfs][corpus]") {
  if (!have_squashfs_tools()) {
    WARN("mksquashfs or unsquashfs not found (Debian package squashfs-tools): skipped");
    return;
  }
  const std::string fact = "fact_extractor/fact_extractor/plugins/unpacking/";
  for (std::string comp : {"gzip", "xz", "lz4", "zstd", "lzma", "lzo"})
    check_corpus_image(fact + "squashFS/test/data/" + comp + ".sqfs", "x.sqfs", "x.sqfs!squashfs", 4);
  // An AVM (Fritz!Box) little-endian v4 image: plain xz squashfs.
  check_corpus_image(fact + "squashFS/test/data/avm_le.sqfs4", "x.sqfs", "x.sqfs!squashfs", 4);
  check_corpus_image("binwalk/tests/inputs/squashfs.bin", "x.bin", "x.bin!squashfs", 1);
  // The root filesystem of a FIT image (carved from the "rootfs" subimage).
  check_corpus_image(fact + "uboot/test/data/fit.itb", "fit.itb", "fit.itb!fit:rootfs!squashfs", 2);
}
