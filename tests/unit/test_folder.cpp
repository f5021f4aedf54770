// A folder scanned as one input: the files of one firmware (issue 13 item 3). The clock is always pinned.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <set>

#include "fwcert/certs/scan.hpp"
#include "fwcert/extract/folder.hpp"
#include "fwcert/extract/writer.hpp"
#include "fwcert/report/scan_report.hpp"
#include "support.hpp"

using namespace fwtest;
namespace fs = std::filesystem;

namespace {

constexpr int64_t k2026Jan1 = 1767225600;  // 2026-01-01T00:00:00Z

fwcert::ScanOptions options() {
  fwcert::ScanOptions o;
  o.now = k2026Jan1;
  return o;
}

// A fresh empty folder under the system's temporary folder, removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/fwcert-folder-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
      if (it->is_directory(ec) && !it->is_symlink(ec)) fs::permissions(it->path(), fs::perms::owner_all, ec);
    fs::remove_all(path, ec);
  }
};

void copy_sample(const std::string& from, const fs::path& to) {
  fs::create_directories(to.parent_path());
  fs::copy_file(source_dir() + "/samples/" + from, to);
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

const fwcert::CertRecord* by_cn(const fwcert::ScanReport& r, const std::string& cn) {
  for (const auto& c : r.certificates)
    if (c.cert.common_name == cn) return &c;
  return nullptr;
}

bool has(const std::vector<std::string>& v, const std::string& needle) {
  for (const auto& s : v)
    if (s.find(needle) != std::string::npos) return true;
  return false;
}

bool has_problem(const fwcert::ScanReport& r, const std::string& needle) {
  for (const auto& p : r.problems)
    if (p.diagnostic.message.find(needle) != std::string::npos || p.location.find(needle) != std::string::npos)
      return true;
  return false;
}

// A folder with stunnel's config and its files, as etc/stunnel/ of a root filesystem.
void make_stunnel_folder(const fs::path& root) {
  copy_sample("rootfs/etc/stunnel/stunnel.conf", root / "etc/stunnel/stunnel.conf");
  copy_sample("certs/server.crt", root / "etc/stunnel/server.crt");
  copy_sample("certs/server.key", root / "etc/stunnel/server.key");
  copy_sample("certs/client.crt", root / "etc/stunnel/client.crt");
}

}  // namespace

TEST_CASE("folder: fwextract's output of the sample gives what the sample gives, each counted once") {
  const Bytes image = read_file(source_dir() + "/samples/bmc-sample.bin");
  const fwcert::ByteView view(image.data(), image.size());
  TempDir tmp;
  const fs::path out = tmp.path / "out";
  {
    // What `fwextract samples/bmc-sample.bin -o out` writes.
    fwcert::Tree tree = fwcert::extract_tree(view, "bmc-sample.bin", walker());
    REQUIRE(fwcert::write_tree(tree, out.string(), {}));
  }
  REQUIRE(fs::exists(out / "cramfs@0x80000/etc/stunnel/client.crt.extracted"));
  const fwcert::ScanReport from_image = fwcert::scan_input(view, "IMAGE", walker(), options());
  const fwcert::FolderScan from_folder = fwcert::scan_folder(out.string(), walker(), options());
  CHECK(from_folder.unreadable.empty());
  CHECK_FALSE(from_folder.empty);
  REQUIRE(from_folder.reports.size() == 1);
  const fwcert::ScanReport& folder = from_folder.reports.front();
  CHECK(folder.input == out.string());

  // Certificates (with every location, role, paired key and finding) and keys, as JSON, the input's name aside.
  auto body = [](const fwcert::ScanReport& r, const std::string& name) {
    nlohmann::json j = fwcert::scan_to_json({r})["inputs"][0];
    return replace_all(nlohmann::json{{"certificates", j["certificates"]}, {"keys", j["keys"]}}.dump(1), name + "!",
                       "IMAGE!");
  };
  const std::string expected = body(from_image, "IMAGE");
  CHECK(body(folder, out.string()) == expected);
  CHECK(from_image.certificates.size() == 4);
  CHECK(from_image.keys.size() == 5);
  // The carve folders fwextract wrote beside each file are not read again.
  CHECK(expected.find(".extracted") == std::string::npos);
  CHECK(body(folder, out.string()).find(".extracted") == std::string::npos);
  CHECK(body(folder, out.string()).find("manifest") == std::string::npos);
}

TEST_CASE("folder: a part of a firmware (its etc/stunnel/) pairs and gives roles from the config beside the files") {
  TempDir tmp;
  make_stunnel_folder(tmp.path / "rootfs");
  for (const fs::path& dir : {tmp.path / "rootfs", tmp.path / "rootfs/etc/stunnel", tmp.path / "rootfs/etc"}) {
    INFO(dir);
    const fwcert::FolderScan scan = fwcert::scan_folder(dir.string(), walker(), options());
    REQUIRE(scan.reports.size() == 1);
    const fwcert::ScanReport& r = scan.reports.front();
    const fwcert::CertRecord* server = by_cn(r, "ikvm.bmc.example");
    const fwcert::CertRecord* client = by_cn(r, "IPMI");
    REQUIRE(server);
    REQUIRE(client);
    CHECK(has(server->roles, "stunnel [ikvm] server certificate"));
    CHECK(has(client->roles, "stunnel [ikvm] CA / client certificate"));
    REQUIRE(server->private_keys.size() == 1);
    REQUIRE(r.keys.size() == 1);
    CHECK(has(r.keys[0].roles, "stunnel [ikvm] server private key"));
    CHECK(r.keys[0].certificates == std::vector<std::string>{server->cert.sha256});
    CHECK(r.problems.empty());
  }
  // Each file on its own (what --each does): no config beside the certificate, no role, no pair.
  const Bytes crt = read_file((tmp.path / "rootfs/etc/stunnel/server.crt").string());
  const fwcert::ScanReport one =
      fwcert::scan_input(fwcert::ByteView(crt.data(), crt.size()), "server.crt", walker(), options());
  REQUIRE(one.certificates.size() == 1);
  CHECK(one.certificates[0].roles.empty());
  CHECK(one.certificates[0].private_keys.empty());
}

TEST_CASE("folder: a config path resolves against the folder and its parents only, never below") {
  TempDir tmp;
  // /etc/stunnel/server.crt named by the config; the only server.crt lies at /opt/etc/stunnel/server.crt.
  copy_sample("rootfs/etc/stunnel/stunnel.conf", tmp.path / "etc/stunnel/stunnel.conf");
  copy_sample("certs/server.crt", tmp.path / "opt/etc/stunnel/server.crt");
  const fwcert::FolderScan scan = fwcert::scan_folder(tmp.path.string(), walker(), options());
  REQUIRE(scan.reports.size() == 1);
  const fwcert::CertRecord* server = by_cn(scan.reports[0], "ikvm.bmc.example");
  REQUIRE(server);
  CHECK(server->roles.empty());
}

TEST_CASE("folder: an empty folder is said, not scanned as nothing found") {
  TempDir tmp;
  fs::create_directories(tmp.path / "a/b");  // folders but not a single file
  for (const fs::path& dir : {tmp.path / "a/b", tmp.path / "a"}) {
    const fwcert::FolderScan scan = fwcert::scan_folder(dir.string(), walker(), options());
    CHECK(scan.empty);
    REQUIRE(scan.reports.size() == 1);
    CHECK(has_problem(scan.reports[0], "empty folder"));
  }
  std::vector<std::string> unreadable;
  CHECK(fwcert::list_folder_files((tmp.path / "a").string(), unreadable).empty());
  CHECK(unreadable.empty());
}

TEST_CASE("folder: symlinks are listed, never followed, FIFOs are not read, nothing hangs") {
  TempDir tmp;
  TempDir outside;
  copy_sample("certs/server.crt", outside.path / "server.crt");
  copy_sample("certs/client.crt", tmp.path / "in/client.crt");
  fs::create_symlink(outside.path / "server.crt", tmp.path / "in/outside.crt");  // a certificate outside the folder
  fs::create_directory_symlink(outside.path, tmp.path / "in/outside-dir");
  fs::create_symlink("missing", tmp.path / "in/dangling");
  fs::create_symlink("loop", tmp.path / "in/loop");
  fs::create_directory_symlink(".", tmp.path / "in/self");
  REQUIRE(::mkfifo((tmp.path / "in/fifo").c_str(), 0644) == 0);  // no writer: a read would block for ever
  const fwcert::FolderScan scan = fwcert::scan_folder(tmp.path.string(), walker(), options());
  CHECK(scan.unreadable.empty());
  REQUIRE(scan.reports.size() == 1);
  const fwcert::ScanReport& r = scan.reports[0];
  REQUIRE(r.certificates.size() == 1);  // the client certificate, once; nothing from outside the folder
  CHECK(r.certificates[0].cert.common_name == "IPMI");
  CHECK(r.certificates[0].locations == std::vector<std::string>{tmp.path.string() + "!dir:/in/client.crt"});
  std::vector<std::string> unreadable;
  CHECK(fwcert::list_folder_files(tmp.path.string(), unreadable) ==
        std::vector<std::string>{(tmp.path / "in/client.crt").string()});
  CHECK(unreadable.empty());
}

TEST_CASE("folder: an entry that cannot be read is a problem named in the report") {
  TempDir tmp;
  copy_sample("certs/client.crt", tmp.path / "client.crt");
  fs::create_directories(tmp.path / "locked");
  copy_sample("certs/server.crt", tmp.path / "locked/server.crt");
  // Nested deeper than the reader goes: not read, and said (unreadable even for root).
  fs::path deep = tmp.path / "deep";
  for (int i = 0; i < 70; ++i) deep /= "d";
  fs::create_directories(deep);
  {
    const fwcert::FolderScan scan = fwcert::scan_folder(tmp.path.string(), walker(), options());
    REQUIRE(scan.unreadable.size() == 1);
    CHECK(scan.unreadable[0].find("nested folders") != std::string::npos);
    REQUIRE(scan.reports.size() == 1);
    CHECK(has_problem(scan.reports[0], "nested folders"));
    CHECK(scan.reports[0].certificates.size() == 2);
  }
  fs::remove_all(tmp.path / "deep");
  fs::permissions(tmp.path / "locked", fs::perms::none);
  // chmod 000 stops every user but root: the check runs as nobody in a child process when the test runs as root.
  auto check = [&]() -> bool {
    const fwcert::FolderScan scan = fwcert::scan_folder(tmp.path.string(), walker(), options());
    std::vector<std::string> unreadable;
    const auto files = fwcert::list_folder_files(tmp.path.string(), unreadable);
    return scan.unreadable.size() == 1 && scan.unreadable[0].find("locked") != std::string::npos &&
           scan.reports.size() == 1 && has_problem(scan.reports[0], "/locked") &&
           scan.reports[0].certificates.size() == 1 && unreadable.size() == 1 && files.size() == 1;
  };
  if (::geteuid() != 0) {
    CHECK(check());
    return;
  }
  fs::permissions(tmp.path, fs::perms::all);  // nobody must reach the folder and its client.crt
  fs::permissions(tmp.path / "client.crt", fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const bool dropped = ::setgid(65534) == 0 && ::setuid(65534) == 0;
    ::_exit(!dropped ? 3 : check() ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 3) WARN("could not become nobody: the chmod 000 check was skipped");
  else CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("folder: files of the image size are inputs of their own, except in fwextract's output") {
  TempDir tmp;
  make_stunnel_folder(tmp.path / "lib");
  const fs::path image = tmp.path / "lib/firmware.bin";
  fs::copy_file(source_dir() + "/samples/bmc-sample.bin", image);
  const fwcert::FolderScan scan = fwcert::scan_folder((tmp.path / "lib").string(), walker(), options());
  REQUIRE(scan.reports.size() == 2);
  CHECK(scan.reports[0].input == (tmp.path / "lib").string());
  CHECK(scan.reports[0].certificates.size() == 2);  // the loose stunnel files, paired
  CHECK(scan.reports[0].keys.size() == 1);
  CHECK(scan.reports[1].input == image.string());
  CHECK(scan.reports[1].certificates.size() == 4);
  CHECK(scan.reports[1].sha256.size() == 64);
  // The same folder with no image size: one input.
  const fwcert::FolderScan one = fwcert::scan_folder((tmp.path / "lib").string(), walker(), options(), 0);
  REQUIRE(one.reports.size() == 1);
  CHECK(one.reports[0].certificates.size() == 4);
  // A folder of images only: no report of its own.
  fs::remove_all(tmp.path / "lib/etc");
  const fwcert::FolderScan images = fwcert::scan_folder((tmp.path / "lib").string(), walker(), options());
  REQUIRE(images.reports.size() == 1);
  CHECK(images.reports[0].input == image.string());
  // fwextract's output is one firmware whatever the sizes of its files.
  {
    const Bytes bytes = read_file(image.string());
    fwcert::Tree tree = fwcert::extract_tree(fwcert::ByteView(bytes.data(), bytes.size()), "x", walker());
    REQUIRE(fwcert::write_tree(tree, (tmp.path / "out").string(), {}));
  }
  fs::copy_file(image, tmp.path / "out/cramfs@0x80000/big.bin");
  const fwcert::FolderScan out = fwcert::scan_folder((tmp.path / "out").string(), walker(), options(), 1024);
  REQUIRE(out.reports.size() == 1);
  CHECK(has(out.reports[0].certificates[0].locations, "!cramfs@0x80000:/big.bin!cramfs@0x80000:/etc/stunnel/"));
}

TEST_CASE("folder: the reader lists every kind under the entry budget, and skips carve folders only when asked") {
  TempDir tmp;
  copy_sample("certs/client.crt", tmp.path / "x.crt");
  copy_sample("certs/client.crt", tmp.path / "x.crt.extracted/pem");  // as fwextract writes it
  fs::create_symlink("x.crt", tmp.path / "y.crt");
  fs::create_directories(tmp.path / "z.extracted");  // no file z beside it: not a carve folder
  {
    fwcert::Budget budget;
    const fwcert::FolderReadResult r = fwcert::read_folder(tmp.path.string(), budget);
    std::vector<std::string> paths;
    for (const auto& e : r.result.entries) paths.push_back(e.path + " " + std::string(fwcert::to_string(e.kind)));
    CHECK(paths == std::vector<std::string>{"/x.crt file", "/x.crt.extracted dir", "/x.crt.extracted/pem file",
                                            "/y.crt symlink", "/z.extracted dir"});
    CHECK(r.result.entries[3].link_target == "x.crt");
    CHECK(r.files == 2);
    CHECK_FALSE(r.result.limited);
  }
  {
    fwcert::Budget budget;
    fwcert::FolderReadOptions o;
    o.skip_carve_folders = true;
    o.absolute_paths = false;
    const fwcert::FolderReadResult r = fwcert::read_folder(tmp.path.string(), budget, o);
    std::vector<std::string> paths;
    for (const auto& e : r.result.entries) paths.push_back(e.path);
    CHECK(paths == std::vector<std::string>{"x.crt", "y.crt", "z.extracted"});
  }
  {
    fwcert::ExtractLimits limits;
    limits.max_entries = 2;
    fwcert::Budget budget(limits);
    const fwcert::FolderReadResult r = fwcert::read_folder(tmp.path.string(), budget);
    CHECK(r.result.entries.size() == 2);
    CHECK(r.result.limited);
  }
  // A plain folder (no fwextract manifest in it or above it) is read whole: the copy is a second location.
  const fwcert::FolderScan scan = fwcert::scan_folder(tmp.path.string(), walker(), options());
  REQUIRE(scan.reports.size() == 1);
  REQUIRE(scan.reports[0].certificates.size() == 1);
  CHECK(scan.reports[0].certificates[0].locations.size() == 2);
}

TEST_CASE("folder: fwextract's files of regions and streams of the input keep the image's locations") {
  // A PEM certificate in the raw image and a gzip stream holding a key, outside any filesystem.
  Bytes image = random_bytes(4096, 7);
  const Bytes crt = read_file(source_dir() + "/samples/certs/client.crt");
  const Bytes key = read_file(source_dir() + "/samples/certs/client.key");
  append(image, crt);
  append(image, random_bytes(4096, 8));
  append(image, gzip_compress(key));
  append(image, random_bytes(4096, 9));
  const fwcert::ByteView view(image.data(), image.size());
  TempDir tmp;
  const fs::path out = tmp.path / "out";
  {
    fwcert::Tree tree = fwcert::extract_tree(view, "x.bin", walker());
    REQUIRE(fwcert::write_tree(tree, out.string(), {}));
  }
  const fwcert::ScanReport from_image = fwcert::scan_input(view, "IMAGE", walker(), options());
  REQUIRE(from_image.certificates.size() == 1);
  REQUIRE(from_image.keys.size() == 1);
  const fwcert::FolderScan from_folder = fwcert::scan_folder(out.string(), walker(), options());
  CHECK(from_folder.unreadable.empty());
  REQUIRE(from_folder.reports.size() == 1);
  const fwcert::ScanReport& folder = from_folder.reports[0];
  REQUIRE(folder.certificates.size() == 1);
  REQUIRE(folder.keys.size() == 1);
  auto strip = [](const std::string& location, const std::string& name) {
    return location.substr(0, name.size() + 1) == name + "!" ? "IMAGE!" + location.substr(name.size() + 1) : location;
  };
  CHECK(strip(folder.certificates[0].locations.at(0), out.string()) == from_image.certificates[0].locations.at(0));
  CHECK(strip(folder.keys[0].location, out.string()) == from_image.keys[0].location);
  CHECK(folder.certificates[0].private_keys.size() == 1);
}
