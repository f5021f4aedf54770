// The finder of CramFS images without a superblock (issue 15 item 6): cramfs::probe_headless, the walk's
// "cramfs-root" validator that anchors on the root directory inode, and the tree that reads its hit as
// `!cramfs@0x...` marked recovered. Real images made by mkfs.cramfs at test time (both byte orders, boot pad, 64 KiB
// blocks), synthetic ones (tests/support make_cramfs), damaged and truncated variants, random bytes.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "fwcert/extract/readers.hpp"
#include "fwcert/extract/tree.hpp"
#include "fwcert/formats/cramfs.hpp"
#include "support.hpp"

using namespace fwtest;
using fwcert::ByteView;
using fwcert::Confidence;
namespace fs = std::filesystem;

namespace {

constexpr size_t kAt = 0x10000;  // where the damaged CramFS sits in the test images

std::vector<fwcert::Hit> walk(const Bytes& b, Confidence min = Confidence::Low) {
  fwcert::WalkOptions o;
  o.min_confidence = min;
  return fwtest::walker().walk(ByteView(b.data(), b.size()), o).hits;
}

// The cramfs hits of the walk at `at`.
std::vector<fwcert::Hit> cramfs_at(const Bytes& b, uint64_t at, Confidence min = Confidence::Low) {
  std::vector<fwcert::Hit> out;
  for (auto& h : walk(b, min))
    if (h.type == "cramfs" && h.offset == at) out.push_back(h);
  return out;
}

// An image of 0xFF flash around `fs` at kAt, with the first `damage` bytes of the CramFS overwritten.
Bytes embed(const Bytes& fs, size_t damage = 64, size_t tail = 0x10000) {
  Bytes img(kAt, 0xff);
  append(img, fs);
  for (size_t i = 0; i < damage; ++i) img[kAt + i] = static_cast<uint8_t>(0xa5 ^ i);
  img.resize(img.size() + tail, 0xff);
  return img;
}

std::string mkfs_path() {
  for (const char* p : {"/usr/sbin/mkfs.cramfs", "/sbin/mkfs.cramfs"})
    if (access(p, X_OK) == 0) return p;
  return {};
}

void write_file(const fs::path& p, const Bytes& b) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

}  // namespace

TEST_CASE("cramfs finder: mkfs.cramfs images without superblock are found, read back and extracted recovered") {
  const std::string mkfs = mkfs_path();
  if (mkfs.empty()) {
    WARN("mkfs.cramfs not installed; skipped");
    return;
  }
  char tmpl[] = "/tmp/fwcert-finder-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const fs::path tmp = tmpl;
  const fs::path src = tmp / "src";
  fs::create_directories(src / "etc" / "stunnel");
  fs::create_directories(src / "bin");
  fs::create_directories(src / "usr" / "lib" / "empty");
  write_file(src / "etc" / "stunnel" / "client.crt", read_file(source_dir() + "/samples/certs/client.crt"));
  write_file(src / "bin" / "prog", random_bytes(70000, 9));  // incompressible, many blocks
  write_file(src / "usr" / "lib" / "text", Bytes(20000, 't'));
  fs::create_symlink("../etc/stunnel/client.crt", src / "bin" / "link");

  struct Variant {
    std::string name, args;
    bool be, pad;
    uint32_t block_size;
  };
  for (const Variant& v : std::vector<Variant>{{"le", "", false, false, 4096},
                                               {"be", "-N big", true, false, 4096},
                                               {"pad", "-p", false, true, 4096},
                                               {"be-pad", "-N big -p", true, true, 4096},
                                               {"b64k-be", "-b 65536 -N big", true, false, 65536}}) {
    INFO(v.name);
    const fs::path image = tmp / (v.name + ".img");
    REQUIRE(std::system((mkfs + " " + v.args + " '" + src.string() + "' '" + image.string() + "' >/dev/null 2>&1")
                            .c_str()) == 0);
    const Bytes fs = read_file(image.string());
    // The superblock sits after the pad: overwrite the pad and the first 64 bytes of the superblock.
    const size_t sb = v.pad ? 512 : 0;
    const Bytes img = embed(fs, sb + 64);

    const auto p = fwcert::cramfs::probe_headless(ByteView(img.data(), img.size()), kAt, v.be, v.pad);
    CHECK(p.found);
    CHECK(p.consistent);
    CHECK(p.block_size == v.block_size);
    CHECK(p.size == fs.size());  // mkfs pads to a whole block, as the probe rounds
    CHECK(p.root_at == kAt + sb + 64);
    CHECK(p.files == 4);  // client.crt, prog, text, link
    CHECK(p.dirs == 7);   // /, etc, etc/stunnel, bin, usr, usr/lib, usr/lib/empty
    // The other byte order and the other layout find nothing there.
    CHECK(!fwcert::cramfs::probe_headless(ByteView(img.data(), img.size()), kAt, !v.be, v.pad).found);
    CHECK(!fwcert::cramfs::probe_headless(ByteView(img.data(), img.size()), kAt, v.be, !v.pad).found);

    // The walk: one medium hit where the image starts, covering it.
    const auto hits = cramfs_at(img, kAt, Confidence::Medium);
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].confidence == Confidence::Medium);
    CHECK(hits[0].size == fs.size());
    CHECK(hits[0].description.find("without superblock") != std::string::npos);
    CHECK(hits[0].description.find(v.be ? "big endian" : "little endian") != std::string::npos);

    // The tree reads it as cramfs@0x10000, marked recovered, with the certificate's bytes.
    fwcert::Tree t = fwcert::extract_tree(ByteView(img.data(), img.size()), "img", fwtest::walker());
    const fwcert::Node* box = t.find("img!cramfs@0x10000");
    REQUIRE(box != nullptr);
    CHECK(box->recovered);
    const fwcert::Node* crt = t.find("img!cramfs@0x10000:/etc/stunnel/client.crt");
    REQUIRE(crt != nullptr);
    const Bytes want = read_file(source_dir() + "/samples/certs/client.crt");
    CHECK(Bytes(crt->content.data(), crt->content.data() + crt->content.size()) == want);
    const fwcert::Node* prog = t.find("img!cramfs@0x10000:/bin/prog");
    REQUIRE(prog != nullptr);
    CHECK(prog->complete);
    CHECK(prog->size == 70000);

    // The intact image is the ordinary hit, never a second one.
    const Bytes intact = embed(fs, 0);
    const auto plain = cramfs_at(intact, kAt);
    REQUIRE(plain.size() == 1);
    CHECK(plain[0].description.find("without superblock") == std::string::npos);
    fwcert::Tree ti = fwcert::extract_tree(ByteView(intact.data(), intact.size()), "img", fwtest::walker());
    REQUIRE(ti.find("img!cramfs@0x10000") != nullptr);
    CHECK(!ti.find("img!cramfs@0x10000")->recovered);

    // A truncated root directory: no candidate at all.
    Bytes cut(img.begin(), img.begin() + static_cast<long>(kAt + sb + 64 + 12 + 20));
    CHECK(cramfs_at(cut, kAt).empty());
    // Truncated inside the data: the root directory is fine (a low candidate at most), nothing is extracted.
    Bytes short_img(img.begin(), img.begin() + static_cast<long>(kAt + fs.size() / 2));
    for (const auto& h : cramfs_at(short_img, kAt)) CHECK(h.confidence == Confidence::Low);
  }
  fs::remove_all(tmp);
}

TEST_CASE("cramfs finder: synthetic images in both byte orders, and damage that keeps it low or finds nothing") {
  Bytes big(9000);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 13);
  for (bool be : {false, true}) {
    INFO(be);
    const Bytes fs = make_cramfs({{"a", Bytes(10, 'a')}, {"b", big}, {"server.key", Bytes(1700, 'k')}}, be);
    const Bytes img = embed(fs);
    auto hits = cramfs_at(img, kAt);
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].confidence == Confidence::Medium);

    // A garbled compressed block: the root directory still parses (low), the tree does not read back.
    Bytes garbled = img;
    size_t z = kAt + 76;
    while (z + 1 < garbled.size() && !(garbled[z] == 0x78 && (garbled[z + 1] == 0xda || garbled[z + 1] == 0x9c))) ++z;
    REQUIRE(z + 12 < garbled.size());
    for (size_t i = z + 2; i < z + 10; ++i) garbled[i] ^= 0x5a;
    hits = cramfs_at(garbled, kAt);
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].confidence == Confidence::Low);
    CHECK(has_diag(hits[0], "not recovered"));
    CHECK(cramfs_at(garbled, kAt, Confidence::Medium).empty());
    fwcert::Tree t = fwcert::extract_tree(ByteView(garbled.data(), garbled.size()), "img", fwtest::walker());
    CHECK(t.find("img!cramfs@0x10000") == nullptr);

    // An entry name that is not printable: the root directory is not plausible, no candidate.
    Bytes bad_name = img;
    bad_name[kAt + 76 + 12] = 0x01;
    CHECK(cramfs_at(bad_name, kAt).empty());
    // A root directory size that does not end on an entry: no candidate.
    Bytes bad_size = img;
    const size_t size_at = kAt + 64 + 4;
    if (be) bad_size[size_at + 2] ^= 0x04;
    else bad_size[size_at] ^= 0x04;
    CHECK(cramfs_at(bad_size, kAt).empty());

    // Every prefix of the damaged image: no crash, and never a medium hit without its whole tree.
    for (size_t n = kAt; n < kAt + fs.size(); n += 37) {
      Bytes cut(img.begin(), img.begin() + static_cast<long>(n));
      for (const auto& h : cramfs_at(cut, kAt, Confidence::Medium)) CHECK(h.offset + h.size <= n);
    }
  }
}

TEST_CASE("cramfs finder: random bytes with the root-inode anchors planted give no hit") {
  Bytes junk = random_bytes(1 << 20, 15);
  for (size_t i = 0; i + 4096 <= junk.size(); i += 4096) {
    // Little-endian anchor (name length 0, entries at 76) after a plausible directory inode, big-endian anchor too.
    put_u32le(junk, i + 64, 0x41ed);
    put_u32le(junk, i + 68, 64);
    put_u32le(junk, i + 72, 19u << 6);
    put_u32be(junk, i + 2048 + 64, 0x41ed0000);
    put_u32be(junk, i + 2048 + 68, 64u << 8);
    put_u32be(junk, i + 2048 + 72, 19);
  }
  for (const auto& h : walk(junk)) CHECK(h.description.find("without superblock") == std::string::npos);
  for (size_t i = 0; i + 4096 <= junk.size(); i += 4096) {
    CHECK(!fwcert::cramfs::probe_headless(ByteView(junk.data(), junk.size()), i, false, false).found);
    CHECK(!fwcert::cramfs::probe_headless(ByteView(junk.data(), junk.size()), i + 2048, true, false).found);
  }
}

TEST_CASE("cramfs finder: the corpus CramFS images without their superblock") {
  for (const char* rel : {"supermicro_ipmi_firmware/SDK/FileSystem/webfs", "util-linux/tests/ts/cramfs/cramfs-big.img",
                          "util-linux/tests/ts/cramfs/cramfs-little.img"}) {
    auto p = corpus_file(rel);
    if (!p) continue;
    INFO(rel);
    const Bytes fs = read_file(*p);
    const Bytes img = embed(fs);
    const auto hits = cramfs_at(img, kAt, Confidence::Medium);
    REQUIRE(hits.size() == 1);
    // The same tree as the intact image's.
    fwcert::Budget b1, b2;
    const auto want = fwcert::read_cramfs(ByteView(fs.data(), fs.size()), b1);
    const auto got = fwcert::recover_cramfs(ByteView(img.data() + kAt, img.size() - kAt), b2);
    CHECK(got.recovered);
    REQUIRE(got.entries.size() == want.entries.size());
    for (size_t i = 0; i < want.entries.size(); ++i) CHECK(got.entries[i].path == want.entries[i].path);
  }
}
