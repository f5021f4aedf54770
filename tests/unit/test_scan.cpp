// fwcert scan on the bundled samples, a vendor zip, and real firmware pieces. The clock is always pinned.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <atomic>
#include <set>
#include <thread>

#include "fwcert/certs/scan.hpp"
#include "fwcert/certs/x509.hpp"
#include "fwcert/report/scan_report.hpp"
#include "support.hpp"

using namespace fwtest;
using fwcert::CertStatus;

namespace {

constexpr int64_t k2026Jan1 = 1767225600;  // 2026-01-01T00:00:00Z

fwcert::ScanReport scan(const Bytes& data, const std::string& name, int64_t now = k2026Jan1) {
  fwcert::ScanOptions o;
  o.now = now;
  return fwcert::scan_input(fwcert::ByteView(data.data(), data.size()), name, walker(), o);
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

// A cpio "newc" archive, as `find . | cpio -o -H newc` writes a root filesystem (names "./etc/..." or "etc/...").
// `links` gives each name's inode number: members with the same one are hard links (data with the last name).
Bytes make_newc(const std::vector<std::pair<std::string, std::string>>& files, const std::vector<unsigned>& links = {}) {
  Bytes out;
  auto put = [&](const std::string& name, const std::string& data, unsigned ino, unsigned nlink) {
    char h[111];
    std::snprintf(h, sizeof h, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", ino, 0100644u, 0u, 0u,
                  nlink, 1594976572u, static_cast<unsigned>(data.size()), 0u, 0u, 0u, 0u,
                  static_cast<unsigned>(name.size() + 1), 0u);
    append(out, std::string(h, 110));
    append(out, name);
    out.push_back(0);
    out.resize((out.size() + 3) / 4 * 4, 0);
    append(out, data);
    out.resize((out.size() + 3) / 4 * 4, 0);
  };
  for (size_t i = 0; i < files.size(); ++i) {
    const unsigned ino = links.empty() ? static_cast<unsigned>(i + 1) : links[i];
    unsigned nlink = 0, last = 0;
    for (size_t j = 0; j < files.size(); ++j)
      if ((links.empty() ? static_cast<unsigned>(j + 1) : links[j]) == ino) ++nlink, last = static_cast<unsigned>(j);
    put(files[i].first, nlink > 1 && last != i ? std::string() : files[i].second, ino, nlink);
  }
  put("TRAILER!!!", "", 0, 1);
  out.resize((out.size() + 511) / 512 * 512, 0);
  return out;
}

const char* const kStunnelConf = "[ikvm]\ncert = /etc/stunnel/server.crt\naccept = 5900\nconnect = 5901\n";

std::string server_pem() {
  const Bytes b = read_file(source_dir() + "/samples/certs/server.crt");
  return std::string(b.begin(), b.end());
}

}  // namespace

TEST_CASE("scan: config roles apply in tar and cpio root filesystems however they spell the root") {
  // Configs name "/etc/..."; `tar -C rootfs -c .` stores "./etc/...", `tar -c etc` "etc/...". Roles never applied.
  const std::string pem = server_pem();
  for (const std::string prefix : {"./", "", "/"}) {
    INFO("prefix '" << prefix << "'");
    const Bytes tar = make_tar({{prefix + "etc/stunnel/server.crt", pem, '0', ""},
                                {prefix + "etc/stunnel/stunnel.conf", kStunnelConf, '0', ""}});
    const auto r = scan(tar, "rootfs.tar");
    REQUIRE(r.certificates.size() == 1);
    CHECK(has(r.certificates[0].roles, "stunnel [ikvm] server certificate"));
    const Bytes cpio = make_newc({{prefix + "etc/stunnel/server.crt", pem}, {prefix + "etc/stunnel/stunnel.conf", kStunnelConf}});
    const auto c = scan(cpio, "rootfs.cpio");
    REQUIRE(c.certificates.size() == 1);
    CHECK(has(c.certificates[0].roles, "stunnel [ikvm] server certificate"));
  }
  // A config in one spelling, the certificate in another (an archive made by hand): the same file of the same root.
  const Bytes mixed = make_tar({{"./etc/stunnel/server.crt", pem, '0', ""}, {"etc/stunnel/stunnel.conf", kStunnelConf, '0', ""}});
  const auto m = scan(mixed, "mixed.tar");
  REQUIRE(m.certificates.size() == 1);
  CHECK(has(m.certificates[0].roles, "stunnel [ikvm] server certificate"));
  // A different file is not matched by its name alone.
  const Bytes other = make_tar({{"./opt/etc/stunnel/server.crt", pem, '0', ""}, {"./etc/stunnel/stunnel.conf", kStunnelConf, '0', ""}});
  const auto o = scan(other, "other.tar");
  REQUIRE(o.certificates.size() == 1);
  CHECK_FALSE(has(o.certificates[0].roles, "stunnel"));
}

TEST_CASE("scan: a hard link has its target's content, so its role and its certificate are seen") {
  // tar stores the content once; /etc/stunnel/server.crt (the path stunnel.conf names) was extracted as 0 bytes.
  const std::string pem = server_pem();
  const Bytes tar = make_tar({{"etc/ssl/real.crt", pem, '0', ""},
                              {"etc/stunnel/server.crt", "", '1', "etc/ssl/real.crt"},
                              {"etc/stunnel/stunnel.conf", kStunnelConf, '0', ""}});
  const auto r = scan(tar, "hl.tar");
  REQUIRE(r.certificates.size() == 1);
  CHECK(has(r.certificates[0].roles, "stunnel [ikvm] server certificate"));
  CHECK(has(r.certificates[0].locations, "!tar:etc/stunnel/server.crt"));
  CHECK(has(r.certificates[0].locations, "!tar:etc/ssl/real.crt"));
  // cpio puts the data with the last name of the inode: the first name gets it too.
  const Bytes cpio = make_newc({{"./etc/stunnel/server.crt", pem}, {"./etc/ssl/real.crt", pem}, {"./etc/stunnel/stunnel.conf", kStunnelConf}},
                               {7, 7, 8});
  const auto c = scan(cpio, "hl.cpio");
  REQUIRE(c.certificates.size() == 1);
  CHECK(has(c.certificates[0].roles, "stunnel [ikvm] server certificate"));
  CHECK(has(c.certificates[0].locations, ":./etc/stunnel/server.crt"));
}

TEST_CASE("scan: a file truncated while it is mapped is a partial result with an error, not a crash") {
  // Reading a mapped page past the new end raised SIGBUS and killed the process (exit 135), and a catalog run with it.
  char dir[] = "/tmp/fwcert-scan-trunc-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string path = std::string(dir) + "/victim.bin";
  Bytes data = random_bytes(3 << 20, 5);
  const std::string pem = server_pem();
  std::copy(pem.begin(), pem.end(), data.begin() + 64);
  {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()));
    ::close(fd);
  }
  auto mf = fwcert::MappedFile::open(path, /*prefault=*/false);
  REQUIRE(mf);
  REQUIRE(::truncate(path.c_str(), 8192) == 0);  // after mapping, before the scan: the scan meets the missing pages
  fwcert::ScanOptions o;
  o.now = k2026Jan1;
  const fwcert::ScanReport r = fwcert::scan_file(*mf, path, walker(), o);
  CHECK(r.incomplete);
  CHECK(r.certificates.size() == 1);  // what lies before the new end is still reported
  bool said = false;
  for (const auto& p : r.problems)
    said = said || (p.diagnostic.severity == fwcert::Severity::Error &&
                    p.diagnostic.message.find("changed while being read (truncated)") != std::string::npos);
  CHECK(said);
  // The same file read whole is complete.
  auto again = fwcert::MappedFile::open(path, /*prefault=*/false);
  REQUIRE(again);
  CHECK_FALSE(fwcert::scan_file(*again, path, walker(), o).incomplete);
  ::unlink(path.c_str());
  ::rmdir(dir);
}

TEST_CASE("scan: the sample reports every placement with window, status, role and paired key (both byte orders)") {
  for (const char* name : {"bmc-sample.bin", "bmc-sample-be.bin"}) {
    INFO(name);
    Bytes img = read_file(source_dir() + "/samples/" + name);
    auto r = scan(img, name);
    REQUIRE(r.certificates.size() == 4);

    const auto* client = by_cn(r, "IPMI");
    REQUIRE(client);
    CHECK(fwcert::rfc3339(*client->cert.not_before.unix) == "2016-05-19T09:46:36Z");
    CHECK(fwcert::rfc3339(*client->cert.not_after.unix) == "2026-05-17T09:46:36Z");
    CHECK(client->cert.not_after.raw == "260517094636Z");
    CHECK(client->status == CertStatus::Valid);
    REQUIRE(client->days_left);
    CHECK(*client->days_left == 136);
    CHECK(has(client->locations, std::string(name) + "!cramfs@0x80000:/etc/stunnel/client.crt"));
    CHECK(has(client->locations, std::string(name) + "!cramfs@0x2E0000:/iKVM__V1.69.38.0x0.jar!zip:res/client.crt"));
    CHECK(has(client->roles, "stunnel"));
    CHECK(has(client->roles, "iKVM client certificate"));
    CHECK(has(client->private_keys, "res/client.key"));
    CHECK(has(client->anomalies, "private key shipped in firmware"));

    const auto* server = by_cn(r, "ikvm.bmc.example");
    REQUIRE(server);
    CHECK(server->status == CertStatus::Valid);
    CHECK(has(server->roles, "stunnel [ikvm] server certificate"));
    CHECK(has(server->private_keys, "cramfs@0x80000:/etc/stunnel/server.key"));

    const auto* web = by_cn(r, "bmc.example");
    REQUIRE(web);
    CHECK(web->cert.not_after.type == "GeneralizedTime");
    CHECK(fwcert::rfc3339(*web->cert.not_after.unix) == "2055-01-01T00:00:00Z");
    CHECK(has(web->roles, "lighttpd"));
    CHECK(has(web->private_keys, "/etc/lighttpd/web.pem"));

    const auto* redfish = by_cn(r, "redfish.bmc.example");
    REQUIRE(redfish);
    CHECK(redfish->status == CertStatus::NotYetValid);
    CHECK(has(redfish->roles, "redfish"));
    CHECK(has(redfish->private_keys, "/etc/redfish/redfish.key"));

    // Every key of the image pairs with one of its certificates.
    for (const auto& k : r.keys) {
      INFO(k.location);
      CHECK_FALSE(k.certificates.empty());
    }
  }
}

TEST_CASE("scan: the clock decides: a BMC living in 2015 sees the iKVM client certificate as not yet valid") {
  Bytes img = read_file(source_dir() + "/samples/bmc-sample.bin");
  auto in2015 = scan(img, "s.bin", 1433116800);  // 2015-06-01
  CHECK(by_cn(in2015, "IPMI")->status == CertStatus::NotYetValid);
  auto march = scan(img, "s.bin", 1772323200);  // 2026-03-01: 77 days left
  CHECK(by_cn(march, "IPMI")->status == CertStatus::Expiring);
  auto june = scan(img, "s.bin", 1780272000);  // 2026-06-01
  CHECK(by_cn(june, "IPMI")->status == CertStatus::Expired);
  CHECK(*by_cn(june, "IPMI")->days_left < 0);
}

TEST_CASE("scan: a vendor zip holding the image gives the same certificates, statuses and keys") {
  Bytes img = read_file(source_dir() + "/samples/bmc-sample.bin");
  Bytes zip = read_file(source_dir() + "/samples/bmc-sample.zip");
  auto a = scan(img, "bmc-sample.bin");
  auto b = scan(zip, "bmc-sample.zip");
  REQUIRE(a.certificates.size() == b.certificates.size());
  for (size_t i = 0; i < a.certificates.size(); ++i) {
    CHECK(a.certificates[i].cert.sha256 == b.certificates[i].cert.sha256);
    CHECK(a.certificates[i].status == b.certificates[i].status);
    CHECK(a.certificates[i].roles == b.certificates[i].roles);
    CHECK(a.certificates[i].private_keys.size() == b.certificates[i].private_keys.size());
    CHECK(has(b.certificates[i].locations, "bmc-sample.zip!zip:bmc-sample.bin!cramfs@"));
  }
  CHECK(a.keys.size() == b.keys.size());
}

TEST_CASE("corpus: every DER certificate in the X9 webfs's gzip'd Pack200 jars is found") {
  auto p = corpus_file("supermicro_ipmi_firmware/SDK/FileSystem/webfs");
  if (!p) return;
  auto r = scan(read_file(*p), "webfs");
  // Oracle: an independent pass (gunzip each *.pack.gz, try `openssl x509 -inform DER` at every 30 82 .. 30 82)
  // finds 35 placements of 5 distinct certificates in the 11 jars.
  CHECK(r.certificates.size() == 5);
  size_t placements = 0;
  for (const auto& c : r.certificates) placements += c.locations.size();
  CHECK(placements == 35);
  const auto* smc = by_cn(r, "Super Micro Computer, Inc");
  REQUIRE(smc);
  CHECK(fwcert::rfc3339(*smc->cert.not_after.unix).rfind("2016-10-23", 0) == 0);
  CHECK(has(smc->roles, "jar signing certificate"));
  CHECK(has(smc->locations, "webfs!cramfs:/iKVM__V1.69.21.0x0.jar.pack.gz!gzip!der@0x"));
}

TEST_CASE("corpus: exactly 3 certificates come from the GM8135S camera image, none from bare PEM strings") {
  auto p = corpus_file("GM8135S-IPC-modified-firmware/user_web.cramfs.img");
  if (!p) return;
  auto r = scan(read_file(*p), "user_web.cramfs.img");
  REQUIRE(r.certificates.size() == 3);
  std::set<std::string> locations;
  for (const auto& c : r.certificates) {
    CHECK(c.status == CertStatus::Expired);
    locations.insert(c.locations.at(0));
  }
  // Offsets given by the corpus notes: 4695608, 4698716, 4701632 inside /bin/Sofia.
  for (const char* off : {"0x47A638", "0x47B25C", "0x47BDC0"})
    CHECK(locations.count(std::string("user_web.cramfs.img!cramfs@0x40:/bin/Sofia!pem@") + off) == 1);
}

TEST_CASE("corpus: 331 certificates come from the House of Keys set, none judged with an unreadable date") {
  auto dir = corpus_file("houseofkeys/certificates");
  if (!dir) return;
  std::set<std::string> unique;
  size_t invalid = 0;
  for (const auto& e : std::filesystem::directory_iterator(*dir)) {
    if (e.path().extension() != ".pem") continue;
    auto r = scan(read_file(e.path().string()), e.path().filename().string());
    for (const auto& c : r.certificates) {
      unique.insert(c.cert.sha256);
      if (!c.cert.not_before.unix || !c.cert.not_after.unix) {
        ++invalid;
        CHECK(c.status == CertStatus::InvalidDate);
        CHECK_FALSE(c.days_left.has_value());
      }
    }
  }
  CHECK(unique.size() == 331);
  CHECK(invalid == 0);  // every date in this set is readable (odd ones, like a 1924 notAfter, are anomalies)
}

TEST_CASE("corpus: the real Supermicro iKVM client certificate in ATENtion's client.pfx") {
  auto p = corpus_file("ATENtion/src/ATENtion.App/client.pfx");
  if (!p) return;
  auto r = scan(read_file(*p), "client.pfx");
  const auto* c = by_cn(r, "IPMI");
  REQUIRE(c);
  CHECK(fwcert::rfc3339(*c->cert.not_before.unix) == "2016-05-19T09:46:36Z");
  CHECK(fwcert::rfc3339(*c->cert.not_after.unix) == "2026-05-17T09:46:36Z");
  CHECK(c->cert.serial == "D1B5B4583567AC1C");
  CHECK(c->private_keys.size() == 1);
  CHECK(scan(read_file(*p), "client.pfx", 1433116800).certificates.at(0).status == CertStatus::NotYetValid);
}

TEST_CASE("scan: hashing on other threads while the first PKCS#12 loads OpenSSL's providers never loses SHA-256") {
  // Loading the legacy provider explicitly switches off OpenSSL's implicit "default" until it is loaded too; a
  // digest fetched in between found no SHA-256 and an input's sha256 came out empty (seen in corpus sweeps under
  // load). This test case runs in a process of its own (ctest), so the providers are loaded here for the first time.
  const Bytes data(1000, 'a');
  const std::string want = "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3";  // Python hashlib
  std::atomic<bool> go{false}, stop{false};
  std::atomic<int> empty{0}, wrong{0}, done{0};
  std::vector<std::thread> hashers;
  for (int k = 0; k < 3; ++k)
    hashers.emplace_back([&] {
      while (!go) std::this_thread::yield();
      while (!stop) {
        const std::string h = fwcert::sha256_hex(fwcert::ByteView(data.data(), data.size()));
        if (h.empty()) ++empty;
        else if (h != want) ++wrong;
        ++done;
      }
    });
  go = true;
  auto pfx = fwcert::read_pkcs12(fwcert::ByteView(data.data(), data.size()), {""});  // not a PKCS#12: only the providers
  while (done < 3000) std::this_thread::yield();
  stop = true;
  for (auto& t : hashers) t.join();
  CHECK(empty == 0);
  CHECK(wrong == 0);
  CHECK(pfx.certificates.empty());
}

TEST_CASE("scan: a scan reading files as it walks them reports exactly what a scan of the whole tree reports") {
  // scan_input lets go of file contents with nothing inside (ExtractOptions::keep_content); scan_tree on a tree that
  // holds every content must give the same report: certificates, keys, roles from the configs, problems.
  std::vector<std::pair<std::string, Bytes>> inputs = {
      {"bmc-sample.bin", read_file(source_dir() + "/samples/bmc-sample.bin")},
      {"bmc-sample-be.bin", read_file(source_dir() + "/samples/bmc-sample-be.bin")}};
  if (auto webfs = corpus_file("supermicro_ipmi_firmware/SDK/FileSystem/webfs"))
    inputs.emplace_back("webfs", read_file(*webfs));
  for (const auto& [name, data] : inputs) {
    INFO(name);
    fwcert::ScanOptions o;
    o.now = k2026Jan1;
    const fwcert::ScanReport streamed = fwcert::scan_input(fwcert::ByteView(data.data(), data.size()), name, walker(), o);
    const fwcert::Tree full = fwcert::extract_tree(fwcert::ByteView(data.data(), data.size()), name, walker());
    fwcert::ScanReport whole = fwcert::scan_tree(full, o);
    whole.sha256 = streamed.sha256;
    CHECK(!streamed.certificates.empty());
    CHECK(fwcert::scan_to_json({streamed}).dump(1) == fwcert::scan_to_json({whole}).dump(1));
  }
}
