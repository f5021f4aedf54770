// Certificate/key roles from configs (stunnel, lighttpd, nginx, Apache, INI) and from locations in the tree.
// Synthetic configs are written here; the sample rootfs configs and the corpus's real BMC stunnel configs are read
// from disk (the corpus ones are skipped when the corpus is absent).
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "fwcert/certs/roles.hpp"
#include "support.hpp"

using namespace fwtest;
using fwcert::RoleHint;

namespace {

namespace fs = std::filesystem;

std::vector<const RoleHint*> find(const std::vector<RoleHint>& hints, const std::string& path,
                                  const std::string& kind) {
  std::vector<const RoleHint*> r;
  for (const auto& h : hints)
    if (h.path == path && h.kind == kind) r.push_back(&h);
  return r;
}

// The one hint with this path, kind and role text fragment (fails the test when there is not exactly one).
const RoleHint& one(const std::vector<RoleHint>& hints, const std::string& path, const std::string& kind,
                    const std::string& role_part) {
  static const RoleHint none{};
  std::vector<const RoleHint*> m;
  for (const auto* h : find(hints, path, kind))
    if (h->role.find(role_part) != std::string::npos) m.push_back(h);
  INFO("path " << path << " kind " << kind << " role containing \"" << role_part << "\"");
  for (const auto& h : hints) INFO("have: " << h.path << " | " << h.kind << " | " << h.role << " | " << h.source);
  REQUIRE(m.size() == 1);
  return *m[0];
}

std::string text_of(const std::string& path) {
  const Bytes b = read_file(path);
  return std::string(b.begin(), b.end());
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The seed's Supermicro layout (/etc/stunnel/stunnel.conf of the X10 root CramFS), plus a client-mode service.
const char* kSeedStunnel =
    "; stunnel for the iKVM console\n"
    "pid = /var/run/stunnel.pid\n"
    "cert = /etc/stunnel/server.crt\n"
    "key = /etc/stunnel/server.key\n"
    "CAfile = /etc/stunnel/client.crt\n"
    "verify = 3\n"
    "\n"
    "[ikvm]\n"
    "accept = 5900\n"
    "connect = 127.0.0.1:5901\n"
    "TIMEOUTclose = 0\n"
    "\n"
    "[uplink]\n"
    "client = yes\n"
    "accept = 127.0.0.1:8000\n"
    "connect = logs.example.net:6514\n"
    "cert = /etc/stunnel/uplink.pem\n";

}  // namespace

TEST_CASE("stunnel: the seed's iKVM config gives server cert, key and client certificate roles") {
  const auto h = fwcert::stunnel_role_hints("/etc/stunnel/stunnel.conf", kSeedStunnel);

  const auto& cert = one(h, "/etc/stunnel/server.crt", "certificate", "stunnel [ikvm]");
  CHECK(cert.role == "stunnel [ikvm] server certificate (accept 5900 -> connect 127.0.0.1:5901)");
  CHECK(cert.source == "/etc/stunnel/stunnel.conf:3");

  const auto& key = one(h, "/etc/stunnel/server.key", "key", "stunnel [ikvm]");
  CHECK(key.role.rfind("stunnel [ikvm] server private key", 0) == 0);
  CHECK(key.source == "/etc/stunnel/stunnel.conf:4");

  const auto& ca = one(h, "/etc/stunnel/client.crt", "ca", "stunnel [ikvm]");
  CHECK(ca.role.rfind("stunnel [ikvm] CA / client certificate (verify 3: peer must present it", 0) == 0);
  CHECK(ca.source == "/etc/stunnel/stunnel.conf:5");

  // The global options are defaults for [uplink] too, which is a client and has its own cert (key defaults to it).
  const auto& up = one(h, "/etc/stunnel/uplink.pem", "certificate", "[uplink]");
  CHECK(up.role == "stunnel [uplink] client certificate (accept 127.0.0.1:8000 -> connect logs.example.net:6514)");
  CHECK(up.source == "/etc/stunnel/stunnel.conf:17");
  // The global key = wins over "defaults to cert": the service inherits key = /etc/stunnel/server.key.
  const auto& upkey = one(h, "/etc/stunnel/server.key", "key", "[uplink]");
  CHECK(upkey.role.find("client private key") != std::string::npos);
  const auto& upca = one(h, "/etc/stunnel/client.crt", "ca", "[uplink]");
  CHECK(upca.role.find("CA / server certificate (verify 3: peer must present it") != std::string::npos);
  CHECK(find(h, "/etc/stunnel/server.crt", "certificate").size() == 1);  // [uplink] overrides cert
  CHECK(find(h, "/var/run/stunnel.pid", "certificate").empty());
  CHECK(h.size() == 6);
}

TEST_CASE("stunnel: key defaults to cert, inetd mode, verify levels and the newer options") {
  SECTION("key defaults to the cert value") {
    const auto h =
        fwcert::stunnel_role_hints("/etc/stunnel.conf", "[https]\naccept = 443\nconnect = 80\ncert = /etc/both.pem\n");
    one(h, "/etc/both.pem", "certificate", "stunnel [https] server certificate (accept 443 -> connect 80)");
    const auto& k = one(h, "/etc/both.pem", "key", "stunnel [https] server private key");
    CHECK(k.role.find("defaults to the cert file") != std::string::npos);
    CHECK(k.source == "/etc/stunnel.conf:4");
    CHECK(h.size() == 2);
  }
  SECTION("inetd mode: no section at all") {
    const auto h = fwcert::stunnel_role_hints("/s.conf", "cert = /a.pem\nkey = /a.key\n");
    CHECK(one(h, "/a.pem", "certificate", "").role == "stunnel server certificate");
    CHECK(one(h, "/a.key", "key", "").role == "stunnel server private key");
  }
  SECTION("verify levels") {
    auto ca_role = [](const std::string& opts) {
      const auto h =
          fwcert::stunnel_role_hints("/s.conf", "cert = /c.pem\nCAfile = /ca.pem\n" + opts + "[svc]\naccept = 1\n");
      const auto v = find(h, "/ca.pem", "ca");
      return v.size() == 1 ? v[0]->role : std::string("<none>");
    };
    CHECK(ca_role("verify = 2\n") ==
          "stunnel [svc] CA / trusted client certificate (verify 2: client chain must lead to it)");
    CHECK(ca_role("verify = 1\n") ==
          "stunnel [svc] CA / trusted client certificate (verify 1: client chain checked when presented)");
    CHECK(ca_role("verify = 4\n") == "stunnel [svc] CA / client certificate (verify 4: peer must present it)");
    CHECK(ca_role("verify = 0\n") ==
          "stunnel [svc] CA / trusted client certificate (verify 0: client certificate requested, not checked)");
    CHECK(ca_role("") == "stunnel [svc] CA / trusted client certificate (no verify option: peers not checked)");
    CHECK(ca_role("verifyPeer = yes\n") == "stunnel [svc] CA / client certificate (verifyPeer: peer must present it)");
    CHECK(ca_role("verifyChain = yes\n") ==
          "stunnel [svc] CA / trusted client certificate (verifyChain: client chain must lead to it)");
    CHECK(ca_role("VERIFY = 3\n").find("verify 3: peer must present it, chain checked too") != std::string::npos);
  }
  SECTION("a service overrides a global option; CApath; URIs are not paths") {
    const auto h = fwcert::stunnel_role_hints(
        "/s.conf",
        "cert = /g.pem\nCApath = /etc/certs\n[a]\ncert = /a.pem\n[b]\naccept=9\n[c]\ncert = pkcs11:token=x\n");
    CHECK(find(h, "/a.pem", "certificate").size() == 1);
    CHECK(one(h, "/g.pem", "certificate", "").role == "stunnel [b] server certificate (accept 9)");
    CHECK(find(h, "/etc/certs", "ca").size() == 3);
    for (const auto& x : h) CHECK(x.path.find("pkcs11") == std::string::npos);
  }
}

TEST_CASE("stunnel: comments, BOM, CRLF, case, junk lines and include are tolerated") {
  const std::string conf =
      "\xEF\xBB\xBF; comment\r\n"
      "# hash comment\r\n"
      "  Cert   =   /etc/x.crt   \r\n"
      "this line is garbage\r\n"
      "[broken\r\n"
      "=\r\n"
      "include = /etc/stunnel/conf.d\r\n"
      "[ Svc ]\r\n"
      "ACCEPT = 443\r\n"
      "kEy = /etc/x.key\r\n";
  const auto h = fwcert::stunnel_role_hints("/etc/stunnel/stunnel.conf", conf);
  const auto& c = one(h, "/etc/x.crt", "certificate", "");
  CHECK(c.role == "stunnel [Svc] server certificate (accept 443)");
  CHECK(c.source == "/etc/stunnel/stunnel.conf:3");
  CHECK(one(h, "/etc/x.key", "key", "").source == "/etc/stunnel/stunnel.conf:10");
  CHECK(find(h, "/etc/stunnel/conf.d", "ca").empty());
  CHECK(h.size() == 2);

  // Options under an unusable header ("[]") belong to no service; they do not leak into the previous one.
  const auto e = fwcert::stunnel_role_hints("/s", "[a]\naccept = 1\ncert = /a.pem\n[]\ncert = /leak.pem\n");
  CHECK(find(e, "/leak.pem", "certificate").empty());
  CHECK(find(e, "/a.pem", "certificate").size() == 1);

  // Lone CR line ends count lines too.
  const auto cr = fwcert::stunnel_role_hints("/s", "; a\rcert = /c.pem\r[x]\r");
  CHECK(one(cr, "/c.pem", "certificate", "").source == "/s:2");
}

TEST_CASE("stunnel: the sample rootfs config") {
  const std::string path = source_dir() + "/samples/rootfs/etc/stunnel/stunnel.conf";
  REQUIRE(fs::exists(path));
  const auto h = fwcert::config_role_hints("/etc/stunnel/stunnel.conf", text_of(path));
  CHECK(one(h, "/etc/stunnel/server.crt", "certificate", "").role ==
        "stunnel [ikvm] server certificate (accept 5900 -> connect 127.0.0.1:5901)");
  CHECK(one(h, "/etc/stunnel/server.key", "key", "").role.rfind("stunnel [ikvm] server private key", 0) == 0);
  CHECK(one(h, "/etc/stunnel/client.crt", "ca", "")
            .role.rfind("stunnel [ikvm] CA / client certificate (verify 3: peer must present it", 0) == 0);
  CHECK(h.size() == 3);
}

TEST_CASE("stunnel: real Supermicro/AMI WPCM450 BMC configs (corpus)") {
  const std::string dir = "Supermicro-Nuvoton-WPCM450-IPMI/winbond/development/binaries/conf/";
  if (auto p = corpus_file(dir + "stunnel_kvm.conf")) {
    const auto h = fwcert::config_role_hints("/etc/stunnel_kvm.conf", text_of(*p));
    const auto& c = one(h, "/usr/local/www/certs/server.pem", "certificate", "");
    CHECK(c.role == "stunnel [HID] server certificate (accept 5900 -> connect 8765)");
    CHECK(c.source == "/etc/stunnel_kvm.conf:1");
    CHECK(one(h, "/usr/local/www/certs/privkey.pem", "key", "").role ==
          "stunnel [HID] server private key (accept 5900 -> connect 8765)");
    CHECK(h.size() == 2);
  }
  if (auto p = corpus_file(dir + "stunnel_vmedia.conf")) {
    const auto h = fwcert::config_role_hints("/etc/stunnel_vmedia.conf", text_of(*p));
    one(h, "/usr/local/www/certs/server.pem", "certificate",
        "stunnel [cdserver] server certificate (accept 6119 -> connect 5120)");
    one(h, "/usr/local/www/certs/server.pem", "certificate",
        "stunnel [fdserver] server certificate (accept 6122 -> connect 5123)");
    one(h, "/usr/local/www/certs/privkey.pem", "key", "[cdserver]");
    one(h, "/usr/local/www/certs/privkey.pem", "key", "[fdserver]");
    CHECK(h.size() == 4);
  }
}

TEST_CASE("lighttpd: sample rootfs config, pemfile is cert and key, socket blocks, client verification") {
  const std::string path = source_dir() + "/samples/rootfs/etc/lighttpd/lighttpd.conf";
  REQUIRE(fs::exists(path));
  const auto h = fwcert::config_role_hints("/etc/lighttpd/lighttpd.conf", text_of(path));
  const auto& c = one(h, "/etc/lighttpd/web.pem", "certificate", "");
  CHECK(c.role == "lighttpd HTTPS server certificate (:443)");
  CHECK(c.source == "/etc/lighttpd/lighttpd.conf:20");
  CHECK(one(h, "/etc/lighttpd/web.pem", "key", "").role == "lighttpd HTTPS server private key (:443)");
  CHECK(h.size() == 2);

  const std::string conf =
      "var.certdir = \"/etc/ssl\"\n"
      "server.port = 443\n"
      "ssl.engine = \"enable\"  # comment\n"
      "ssl.pemfile = var.certdir + \"/bmc.pem\"\n"
      "ssl.privkey = \"/etc/ssl/bmc.key\"\n"
      "ssl.ca-file = \"/etc/ssl/clients.pem\"\n"
      "ssl.verifyclient.activate = \"enable\"\n"
      "$SERVER[\"socket\"] == \"[::]:8443\" {\n"
      "  $HTTP[\"host\"] == \"x\" {\n"
      "    ssl.pemfile = \"/etc/ssl/v6.pem\"\n"
      "  }\n"
      "}\n"
      "$HTTP[\"host\"] == \"redfish\" { ssl.pemfile = \"/etc/ssl/rf.pem\" }\n"
      "garbage {{{ \n"
      "}}}}\n";
  const auto g = fwcert::lighttpd_role_hints("/l.conf", conf);
  // Brace on the next line, else-chains, and a '}' inside a quoted condition.
  const std::string conf2 =
      "$SERVER[\"socket\"] == \":80\" { }\n"
      "else $SERVER[\"socket\"] == \":443\"\n"
      "{\n"
      "  $HTTP[\"url\"] =~ \"^/x}\" { server.name = \"x\" }\n"
      "  ssl.pemfile = \"/etc/ssl/next.pem\"\n"
      "}\n"
      "ssl.pemfile = \"/etc/ssl/global.pem\"\n";
  const auto g2 = fwcert::lighttpd_role_hints("/l2.conf", conf2);
  CHECK(one(g2, "/etc/ssl/next.pem", "certificate", "").role == "lighttpd HTTPS server certificate (:443)");
  CHECK(one(g2, "/etc/ssl/global.pem", "certificate", "").role == "lighttpd HTTPS server certificate");
  CHECK(one(g2, "/etc/ssl/global.pem", "certificate", "").source == "/l2.conf:7");
  CHECK(one(g, "/etc/ssl/bmc.pem", "certificate", "").role == "lighttpd HTTPS server certificate (port 443)");
  CHECK(find(g, "/etc/ssl/bmc.pem", "key").empty());  // ssl.privkey names the key
  CHECK(one(g, "/etc/ssl/bmc.key", "key", "").source == "/l.conf:5");
  CHECK(one(g, "/etc/ssl/clients.pem", "ca", "").role ==
        "lighttpd CA / trusted client certificate (port 443; ssl.verifyclient: required)");
  CHECK(one(g, "/etc/ssl/v6.pem", "certificate", "").role == "lighttpd HTTPS server certificate ([::]:8443)");
  CHECK(one(g, "/etc/ssl/rf.pem", "certificate", "").role.find("$HTTP[\"host\"] == \"redfish\"") != std::string::npos);
}

TEST_CASE("lighttpd configs in the corpus (when any)") {
  const std::string root = corpus_dir();
  if (root.empty()) {
    WARN("corpus absent: skipped");
    return;
  }
  int seen = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!it->is_regular_file(ec) || name.find("lighttpd") == std::string::npos || it->path().extension() != ".conf")
      continue;
    ++seen;
    const std::string text = text_of(it->path().string());
    const auto h = fwcert::config_role_hints("/etc/lighttpd/" + name, text);
    if (text.find("ssl.pemfile") != std::string::npos) CHECK_FALSE(h.empty());
    for (const auto& x : h) CHECK(x.role.rfind("lighttpd ", 0) == 0);
  }
  if (seen == 0) WARN("no lighttpd*.conf in the corpus: only the sample config covers lighttpd");
}

TEST_CASE("redfish.conf from the sample rootfs: generic INI fallback") {
  const std::string path = source_dir() + "/samples/rootfs/etc/redfish/redfish.conf";
  REQUIRE(fs::exists(path));
  const auto h = fwcert::config_role_hints("/etc/redfish/redfish.conf", text_of(path));
  CHECK(one(h, "/etc/redfish/redfish.crt", "certificate", "").role == "redfish [https] certificate (port 8443)");
  CHECK(one(h, "/etc/redfish/redfish.key", "key", "").role == "redfish [https] private key (port 8443)");
  CHECK(one(h, "/etc/redfish/redfish.crt", "certificate", "").source == "/etc/redfish/redfish.conf:8");
  CHECK(h.size() == 2);
  // Not everything with a '=' is a certificate.
  CHECK(fwcert::config_role_hints("/etc/app.conf", "root = /redfish/v1\nlog = /var/log/x\nkeyboard = us\n").empty());
}

TEST_CASE("nginx: certificate, key, client CA, trusted CA with server_name/listen") {
  const std::string conf =
      "# BMC web\n"
      "http {\n"
      "  ssl_trusted_certificate /etc/nginx/chain.pem;\n"
      "  server {\n"
      "    listen 443 ssl;\n"
      "    server_name bmc.local;\n"
      "    ssl_certificate     /etc/nginx/bmc.crt;  # leaf\n"
      "    ssl_certificate_key \"/etc/nginx/bmc.key\";\n"
      "    ssl_client_certificate /etc/nginx/clients.pem;\n"
      "    ssl_verify_client on;\n"
      "    location / { proxy_pass http://127.0.0.1:8080; }\n"
      "  }\n"
      "}\n"
      "stream { server { listen 5900 ssl; ssl_certificate /etc/nginx/kvm.crt; } }\n";
  const auto h = fwcert::config_role_hints("/etc/nginx/nginx.conf", conf);
  CHECK(one(h, "/etc/nginx/bmc.crt", "certificate", "").role ==
        "nginx HTTPS server certificate (server_name bmc.local, listen 443 ssl)");
  CHECK(one(h, "/etc/nginx/bmc.crt", "certificate", "").source == "/etc/nginx/nginx.conf:7");
  CHECK(one(h, "/etc/nginx/bmc.key", "key", "").role ==
        "nginx HTTPS server private key (server_name bmc.local, listen 443 ssl)");
  CHECK(one(h, "/etc/nginx/clients.pem", "ca", "").role.rfind("nginx CA / trusted client certificate", 0) == 0);
  CHECK(one(h, "/etc/nginx/chain.pem", "ca", "").role == "nginx trusted CA (client chains / OCSP stapling)");
  CHECK(one(h, "/etc/nginx/kvm.crt", "certificate", "").role ==
        "nginx stream TLS server certificate (listen 5900 ssl)");
  CHECK(h.size() == 5);
  // Sniffed by content under another name (conf.d/*.conf).
  const auto s = fwcert::config_role_hints("/etc/web/conf.d/bmc.conf", "server { ssl_certificate /x.crt; }");
  CHECK(one(s, "/x.crt", "certificate", "").role == "nginx HTTPS server certificate");
}

TEST_CASE("Apache: SSLCertificateFile and friends inside a VirtualHost") {
  const std::string conf =
      "Listen 443\n"
      "<VirtualHost _default_:443>\n"
      "  ServerName bmc.example\n"
      "  SSLEngine on\n"
      "  SSLCertificateFile \"/etc/httpd/ssl/server.crt\"\n"
      "  SSLCertificateKeyFile /etc/httpd/ssl/server.key\n"
      "  SSLCertificateChainFile /etc/httpd/ssl/chain.crt\n"
      "  sslcacertificatefile \\\n"
      "     /etc/httpd/ssl/ca.crt\n"
      "  SSLVerifyClient require\n"
      "</VirtualHost>\n";
  const auto h = fwcert::config_role_hints("/etc/httpd/conf.d/ssl.conf", conf);
  CHECK(one(h, "/etc/httpd/ssl/server.crt", "certificate", "").role ==
        "Apache HTTPS server certificate (<VirtualHost _default_:443>, ServerName bmc.example)");
  CHECK(one(h, "/etc/httpd/ssl/server.key", "key", "").source == "/etc/httpd/conf.d/ssl.conf:6");
  CHECK(one(h, "/etc/httpd/ssl/chain.crt", "chain", "").role.rfind("Apache HTTPS server certificate chain", 0) == 0);
  const auto& ca = one(h, "/etc/httpd/ssl/ca.crt", "ca", "");
  CHECK(ca.role ==
        "Apache CA / trusted client certificate (<VirtualHost _default_:443>, ServerName bmc.example; "
        "SSLVerifyClient require)");
  CHECK(ca.source == "/etc/httpd/conf.d/ssl.conf:8");
  CHECK(h.size() == 4);
  // Content sniffing under an unrelated name.
  CHECK(fwcert::config_role_hints("/opt/web/site.cfg", "SSLCertificateFile /a.crt\n").size() == 1);
}

TEST_CASE("config_role_hints: dispatch by content, JNLP, binary data") {
  // stunnel content under a neutral name.
  const auto s = fwcert::config_role_hints("/etc/kvm.cfg", "cert = /k.pem\n[kvm]\naccept = 5900\nconnect = 5901\n");
  CHECK(one(s, "/k.pem", "certificate", "").role == "stunnel [kvm] server certificate (accept 5900 -> connect 5901)");
  // lighttpd content under a neutral name.
  CHECK(one(fwcert::config_role_hints("/etc/web.conf", "ssl.pemfile = \"/w.pem\"\n"), "/w.pem", "certificate", "")
            .role.rfind("lighttpd", 0) == 0);
  // JNLP: nothing from the config side.
  CHECK(fwcert::config_role_hints("/web/launch.jnlp", "<jnlp><resources><jar href=\"iKVM.jar\"/></resources></jnlp>")
            .empty());
  // Binary (NUL bytes): not a config.
  CHECK(fwcert::config_role_hints("/etc/stunnel.conf", std::string("cert = /a.pem\0\1\2", 16)).empty());
  CHECK(fwcert::config_role_hints("/etc/stunnel.conf", "").empty());
}

TEST_CASE("role parsers survive random bytes and every truncation") {
  using Fn = std::vector<RoleHint> (*)(const std::string&, std::string_view);
  const Fn fns[] = {fwcert::config_role_hints, fwcert::stunnel_role_hints, fwcert::lighttpd_role_hints,
                    fwcert::nginx_role_hints,  fwcert::apache_role_hints,  fwcert::generic_role_hints};
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    Bytes b = random_bytes(2000 + seed * 37, seed);
    // Mostly printable noise with structure characters, so the parsers get past their first checks.
    static const char alphabet[] = "ab=[]{};#\"'\\$:/ \n\r\t<>!.+ssl_certificate cert key";
    std::string t;
    for (uint8_t c : b) t += alphabet[c % (sizeof alphabet - 1)];
    for (Fn f : fns) {
      CHECK_NOTHROW(f("/etc/x.conf", t));
      for (const auto& h : f("/etc/x.conf", t)) CHECK_FALSE(h.path.empty());
    }
    std::string raw(b.begin(), b.end());
    for (Fn f : fns) CHECK_NOTHROW(f("/etc/x.conf", raw));
    CHECK_NOTHROW(fwcert::location_roles(t, seed % 2));
    CHECK_NOTHROW(fwcert::location_roles(raw, seed % 2));
  }
  const std::vector<std::string> configs = {
      kSeedStunnel, "$SERVER[\"socket\"] == \":443\" {\n ssl.pemfile = \"/a.pem\"\n ssl.ca-file = \"/b\"\n}\n",
      "http { server { listen 443 ssl; ssl_certificate \"/a.crt\"; ssl_certificate_key /a.key; } }",
      "<VirtualHost *:443>\nSSLCertificateFile \"/a.crt\"\nSSLCACertificateFile /c \\\n</VirtualHost>\n"};
  for (const auto& c : configs)
    for (size_t n = 0; n <= c.size(); ++n)
      for (Fn f : fns) CHECK_NOTHROW(f("/etc/stunnel/x.conf", std::string_view(c).substr(0, n)));
  // Damaged configs: bytes replaced by structure characters at random places.
  const Bytes noise = random_bytes(4096, 7);
  size_t k = 0;
  for (const auto& c : configs)
    for (int round = 0; round < 200; ++round) {
      std::string m = c;
      static const char kStructure[] = "{}[]=;\"'\\\n#$:!";
      for (int j = 0; j < 4; ++j, k += 2)
        m[noise[k % noise.size()] * 131u % m.size()] = kStructure[noise[(k + 1) % noise.size()] % 14];
      for (Fn f : fns) CHECK_NOTHROW(f("/etc/stunnel/x.conf", m));
    }
  // Deep nesting and a flood of sections stay bounded.
  CHECK_NOTHROW(fwcert::nginx_role_hints("/n", std::string(100000, '{') + "ssl_certificate /a;"));
  CHECK_NOTHROW(fwcert::lighttpd_role_hints("/l", std::string(5000, '}')));
  std::string flood;
  for (int i = 0; i < 20000; ++i) flood += "[s" + std::to_string(i) + "]\ncert = /x.pem\n";
  CHECK(fwcert::stunnel_role_hints("/s", flood).size() <= 4096);
}

TEST_CASE("location_roles: iKVM jar resources") {
  const std::string jar = "x10.bin!cramfs@0x1700000:/iKVM__V1.69.38.0x0.jar";
  auto r = fwcert::location_roles(jar + "!zip:res/client.crt", false);
  CHECK(r == std::vector<std::string>{"iKVM client certificate"});
  CHECK(fwcert::location_roles(jar + "!zip:res/client.crt!pem", false) ==
        std::vector<std::string>{"iKVM client certificate"});
  CHECK(fwcert::location_roles(jar + "!zip:res/client.key", true) ==
        std::vector<std::string>{"iKVM client private key"});
  CHECK(fwcert::location_roles(jar + "!zip:res/server.crt", false) ==
        std::vector<std::string>{"iKVM server certificate"});
  CHECK(fwcert::location_roles(jar + "!zip:res/server.key!pem@0x0", true) ==
        std::vector<std::string>{"iKVM server private key"});
  CHECK(fwcert::location_roles(jar + "!zip:res/other.pem", false) ==
        std::vector<std::string>{"iKVM embedded certificate"});
  // A key file does not get a certificate role and vice versa.
  CHECK(fwcert::location_roles(jar + "!zip:res/client.key", false).empty());
  CHECK(fwcert::location_roles(jar + "!zip:res/client.crt", true).empty());
  // Pack200 jars arrive gzipped; the jar name is still the member's name.
  CHECK(fwcert::location_roles("x.bin!cramfs@0x1700000:/iKVM__V1.69.38.0x0.jar.pack.gz!gzip!zip:res/client.crt",
                               false) == std::vector<std::string>{"iKVM client certificate"});
  // JViewer (AMI) keeps resources under a package path; Avocent viewers too.
  CHECK(has(fwcert::location_roles("fw.bin!cramfs@0x0:/www/JViewer.jar!zip:com/ami/kvm/jviewer/res/server.pem", false),
            "iKVM server certificate"));
  CHECK(has(fwcert::location_roles("avctKVM.jar!zip:res/client.p12", true), "iKVM client private key"));
  // Decision: res/client.crt in a jar whose name says nothing about KVM gets no iKVM role.
  CHECK(fwcert::location_roles("fw.bin!cramfs@0x0:/www/help.jar!zip:res/client.crt", false).empty());
  // And outside a zip (a loose res/ directory in the filesystem) neither.
  CHECK(fwcert::location_roles("fw.bin!cramfs@0x0:/www/ikvm/res/client.crt", false).empty());
}

TEST_CASE("location_roles: jar signatures, CA bundles, JNLP, parsing corner cases") {
  CHECK(fwcert::location_roles(
            "x.bin!cramfs@0x1700000:/iKVM__V1.69.38.0x0.jar.pack.gz!gzip!zip:META-INF/SMCCERT.RSA!der@0x3A", false) ==
        std::vector<std::string>{"jar signing certificate (iKVM__V1.69.38.0x0.jar)"});
  CHECK(fwcert::location_roles("JViewer.jar!zip:META-INF/JVIEWER.DSA!der@0x40", false) ==
        std::vector<std::string>{"jar signing certificate (JViewer.jar)"});
  CHECK(fwcert::location_roles("a.bin!cramfs@0x0:/lib/avctVMLinux64.jar!zip:META-INF/AVOCENT.EC", false) ==
        std::vector<std::string>{"jar signing certificate (avctVMLinux64.jar)"});
  CHECK(fwcert::location_roles("JViewer.jar!zip:META-INF/JVIEWER.SF", false).empty());
  // Pack200 jars are not zips: certificates are carved from the decoded stream with no member name.
  CHECK(fwcert::location_roles("webfs!cramfs:/iKVM__V1.69.21.0x0.jar.pack.gz!gzip!der@0x1A2B", false) ==
        std::vector<std::string>{"jar signing certificate (iKVM__V1.69.21.0x0.jar)"});
  CHECK(fwcert::location_roles("webfs!cramfs:/iKVM__V1.69.21.0x0.jar.pack.gz!gzip!pem@0x100", false) ==
        std::vector<std::string>{"iKVM embedded certificate"});
  CHECK(fwcert::location_roles("webfs!cramfs:/iKVM__V1.69.21.0x0.jar.pack.gz!gzip!pem@0x900", true) ==
        std::vector<std::string>{"iKVM embedded private key"});
  CHECK(fwcert::location_roles("webfs!cramfs:/iKVM__V1.69.21.0x0.jar.pack.gz!gzip!der@0x1A2B", true).empty());
  CHECK(fwcert::location_roles("webfs!cramfs:/help.jar.pack.gz!gzip!pem@0x100", false).empty());
  CHECK(fwcert::location_roles("JViewer.jar!zip:META-INF/JVIEWER.DSA!der@0x40", true).empty());
  // META-INF outside a zip is just a file.
  CHECK(fwcert::location_roles("x.bin!cramfs@0x0:/META-INF/A.RSA", false).empty());

  CHECK(fwcert::location_roles("x.bin!cramfs@0x400000:/etc/ssl/certs/ca-certificates.crt!pem@0x1F40", false) ==
        std::vector<std::string>{"CA bundle"});
  CHECK(fwcert::location_roles("x.bin!squashfs@0x0:/etc/pki/tls/certs/ca-bundle.crt!pem@0x0", false) ==
        std::vector<std::string>{"CA bundle"});
  CHECK(fwcert::location_roles("x.bin!cramfs@0x0:/usr/lib/ssl/cacert.pem!pem@0x10", false) ==
        std::vector<std::string>{"CA bundle"});
  CHECK(fwcert::location_roles("x.bin!cramfs@0x0:/etc/ssl/certs/DigiCert_Global_Root_CA.pem!pem", false) ==
        std::vector<std::string>{"trusted CA (/etc/ssl/certs)"});
  CHECK(fwcert::location_roles("x.bin!cramfs@0x0:/etc/ssl/certs/DigiCert_Global_Root_CA.pem!pem", true).empty());
  CHECK(fwcert::location_roles("x.bin!cramfs@0x0:/usr/lib/jvm/jre/lib/security/cacerts!jks", false) ==
        std::vector<std::string>{"Java trusted CA keystore (/usr/lib/jvm/jre/lib/security)"});
  CHECK(fwcert::location_roles("x.bin!cramfs@0x0:/etc/stunnel/server.crt!pem", false).empty());

  CHECK(fwcert::location_roles("x.bin!cramfs@0x1700000:/launch.jnlp!pem@0x200", false) ==
        std::vector<std::string>{"JNLP embedded certificate"});
  CHECK(fwcert::location_roles("viewer.jnlp!pem@0x200", false) ==
        std::vector<std::string>{"JNLP embedded certificate"});

  // Member paths may hold '!' and ':' themselves: the pieces that do not start like a step stay in the path.
  CHECK(fwcert::location_roles("x.bin!cramfs@0x0:/web/kvm!v2:/iKVM.jar!zip:res/client.crt", false) ==
        std::vector<std::string>{"iKVM client certificate"});
  CHECK(fwcert::location_roles("x.bin!cramfs@0x0:/odd!Name/ca-bundle.crt!pem@0x0", false) ==
        std::vector<std::string>{"CA bundle"});
  // A bare input name with no steps; empty and odd strings.
  CHECK(fwcert::location_roles("ca-certificates.crt", false) == std::vector<std::string>{"CA bundle"});
  CHECK(fwcert::location_roles("", false).empty());
  CHECK(fwcert::location_roles("!!!:::@@@", true).empty());
  CHECK(fwcert::location_roles("!zip:", false).empty());
}
