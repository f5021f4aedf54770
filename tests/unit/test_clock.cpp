// fwcert clock: who verifies which certificate at whose clock, the alert, the sentence and the safe BMC clock window.
// Clocks are always pinned. The alert mapping (42 for not yet valid, 45 for expired) is checked against a real OpenSSL
// handshake driven in-process over a memory BIO pair (no network at all), with the sample's own certificates and a
// server configured like the sample's stunnel [ikvm] (verify 3, CAfile = the client certificate).
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <catch2/catch.hpp>
#include <memory>
#include <sstream>

#include "fwcert/certs/clock.hpp"
#include "fwcert/certs/scan.hpp"
#include "fwcert/certs/x509.hpp"
#include "fwcert/core/crypto_providers.hpp"
#include "fwcert/report/clock_report.hpp"
#include "support.hpp"

using namespace fwtest;
using fwcert::CertStatus;
using fwcert::ClockKind;
using fwcert::Verifier;

namespace {

constexpr int64_t kNow = 1796601600;         // 2026-12-07T00:00:00Z (the workstation)
constexpr int64_t kBmc2015 = 1433116800;     // 2015-06-01T00:00:00Z (the BMC whose clock was reset)
constexpr int64_t kClientNb = 1463651196;    // 2016-05-19T09:46:36Z, notBefore of the sample's client.crt
constexpr int64_t kClientNa = 1779011196;    // 2026-05-17T09:46:36Z, its notAfter
constexpr const char* kClientSha = "dcab0484492eb505add98c468269fb7ffe869daf1739fae6179e77a116de840a";

const fwcert::ScanReport& sample_scan() {
  static const fwcert::ScanReport r = [] {
    Bytes img = read_file(source_dir() + "/samples/bmc-sample.bin");
    fwcert::ScanOptions o;
    o.now = kNow;
    return fwcert::scan_input(fwcert::ByteView(img.data(), img.size()), "samples/bmc-sample.bin", walker(), o);
  }();
  return r;
}

fwcert::ClockReport sample_at(int64_t bmc) {
  fwcert::ClockOptions o;
  o.now = kNow;
  o.bmc_clock = bmc;
  return fwcert::analyze_clock(sample_scan(), o);
}

const fwcert::ServiceClock* service(const fwcert::ClockReport& r, const std::string& name) {
  for (const auto& s : r.services)
    if (s.service == name) return &s;
  return nullptr;
}

const fwcert::CertVerdict* verdict(const fwcert::ServiceClock& s, const std::string& sha) {
  for (const auto& v : s.certificates)
    if (v.sha256 == sha) return &v;
  return nullptr;
}

const fwcert::CertVerdict* verdict_cn(const fwcert::ServiceClock& s, const std::string& cn) {
  for (const auto& v : s.certificates)
    if (v.common_name == cn) return &v;
  return nullptr;
}

fwcert::TimeValue tv(std::optional<int64_t> t, const std::string& raw = "raw") {
  fwcert::TimeValue v;
  v.type = "UTCTime";
  v.raw = raw;
  v.unix = t;
  if (!t) v.error = "unreadable";
  return v;
}

fwcert::CertRecord record(const std::string& sha, const std::string& cn, std::optional<int64_t> nb,
                          std::optional<int64_t> na, std::vector<std::string> roles, const std::string& issuer_cn = "") {
  fwcert::CertRecord r;
  r.cert.sha256 = sha;
  r.cert.common_name = cn;
  r.cert.subject = "CN=" + cn;
  r.cert.issuer = "CN=" + (issuer_cn.empty() ? cn : issuer_cn);
  r.cert.self_signed = issuer_cn.empty();
  r.cert.not_before = tv(nb);
  r.cert.not_after = tv(na);
  r.roles = std::move(roles);
  r.locations.push_back("img!cramfs@0x0:/etc/" + cn);
  return r;
}

}  // namespace

TEST_CASE("clock: the sample at a 2015 BMC clock: the BMC refuses the iKVM client certificate with alert 42") {
  const auto r = sample_at(kBmc2015);
  const auto* st = service(r, "stunnel [ikvm]");
  REQUIRE(st);
  CHECK(st->endpoint == "accept 5900 -> connect 127.0.0.1:5901");
  CHECK(st->config == "samples/bmc-sample.bin!cramfs@0x80000:/etc/stunnel/stunnel.conf");

  const auto* client = verdict(*st, kClientSha);
  REQUIRE(client);
  CHECK(client->verifier == Verifier::Bmc);
  CHECK(client->clock == ClockKind::Bmc);
  CHECK(client->clock_value == kBmc2015);
  CHECK(client->status == CertStatus::NotYetValid);
  REQUIRE(client->tls_alert);
  CHECK(*client->tls_alert == 42);
  CHECK(client->alert_name == "bad_certificate");
  CHECK(client->verify_error == "X509_V_ERR_CERT_NOT_YET_VALID");
  CHECK(client->sender == "the BMC");
  CHECK(client->config == "samples/bmc-sample.bin!cramfs@0x80000:/etc/stunnel/stunnel.conf:16");
  CHECK(client->sentence ==
        "iKVM console refuses to connect: the BMC clock 2015-06-01 is before 2016-05-19T09:46:36Z, when the iKVM "
        "client certificate becomes valid; fix the BMC clock (NTP), not the certificate");

  // The safe window, to the second, per service and image-wide.
  REQUIRE(st->bmc_window);
  CHECK(st->bmc_window->from == kClientNb);
  CHECK(st->bmc_window->until == kClientNa);
  CHECK_FALSE(st->bmc_window->empty);
  REQUIRE(r.bmc_window);
  CHECK(r.bmc_window->from == kClientNb);
  CHECK(r.bmc_window->until == kClientNa);

  // The server certificates: presented by the BMC, verified by workstations at their own clock.
  const auto* server = verdict_cn(*st, "ikvm.bmc.example");
  REQUIRE(server);
  CHECK(server->verifier == Verifier::Workstation);
  CHECK(server->clock == ClockKind::Workstation);
  CHECK(server->clock_value == kNow);
  CHECK(server->status == CertStatus::Valid);
  CHECK_FALSE(server->tls_alert);
  CHECK_FALSE(server->in_window);
  for (const char* name : {"lighttpd", "redfish [https]"}) {
    INFO(name);
    const auto* s = service(r, name);
    REQUIRE(s);
    CHECK_FALSE(s->bmc_window);
    CHECK(s->window_note.find("its clock does not break them") != std::string::npos);
    REQUIRE(s->certificates.size() == 1);
    CHECK(s->certificates[0].verifier == Verifier::Workstation);
    CHECK(s->certificates[0].clock_value == kNow);
  }
  // The Redfish certificate is not yet valid at the workstation's clock (notBefore 2031): that is the workstation
  // refusing it, not the BMC.
  const auto& redfish = service(r, "redfish [https]")->certificates[0];
  CHECK(redfish.status == CertStatus::NotYetValid);
  REQUIRE(redfish.tls_alert);
  CHECK(redfish.sender == "the workstation's TLS client");

  // The jar's copy: the client presents it, the BMC verifies it (matched by SHA-256).
  const auto* jar = service(r, "iKVM client program");
  REQUIRE(jar);
  const auto* jc = verdict(*jar, kClientSha);
  REQUIRE(jc);
  CHECK(jc->verifier == Verifier::Bmc);
  CHECK(jc->presenter == "the iKVM client");
  CHECK(jc->tls_alert == 42);
  CHECK(jc->notes.at(0).find("same SHA-256") != std::string::npos);

  // The table says all of it.
  std::ostringstream table;
  fwcert::write_clock_table(table, {r});
  const std::string t = table.str();
  CHECK(t.find("ALERT 42 bad_certificate sent by the BMC") != std::string::npos);
  CHECK(t.find("safe BMC clock window: 2016-05-19T09:46:36Z .. 2026-05-17T09:46:36Z  [BMC clock OUTSIDE]") !=
        std::string::npos);
  CHECK(t.find("verified by workstations, browsers and monitoring, at their own clock: the BMC clock does not break "
               "it") != std::string::npos);
  const auto j = fwcert::clock_to_json({r});
  CHECK(j["inputs"][0]["bmc_window"]["from_unix"] == kClientNb);
  CHECK(j["inputs"][0]["services"][0]["certificates"][0]["tls_alert"] == 42);
}

TEST_CASE("clock: after 2026-05-17T09:46:36Z the same certificate gives alert 45; the window edges are inclusive") {
  auto client_at = [](int64_t bmc) {
    const auto r = sample_at(bmc);
    const auto* st = service(r, "stunnel [ikvm]");
    REQUIRE(st);
    const auto* v = verdict(*st, kClientSha);
    REQUIRE(v);
    return *v;
  };
  const auto expired = client_at(1780272000);  // 2026-06-01
  CHECK(expired.status == CertStatus::Expired);
  CHECK(expired.tls_alert == 45);
  CHECK(expired.alert_name == "certificate_expired");
  CHECK(expired.verify_error == "X509_V_ERR_CERT_HAS_EXPIRED");
  CHECK(expired.sentence.find("the BMC clock 2026-06-01 is after 2026-05-17T09:46:36Z, when the iKVM client "
                              "certificate expired; the certificate really expired") != std::string::npos);
  CHECK(client_at(kClientNa).status == CertStatus::Valid);
  CHECK_FALSE(client_at(kClientNa).tls_alert);
  CHECK(client_at(kClientNa + 1).tls_alert == 45);
  CHECK(client_at(kClientNb).status == CertStatus::Valid);
  CHECK(client_at(kClientNb - 1).tls_alert == 42);
  // A BMC clock ahead of a workstation that still sees the certificate valid: the clock is the fix.
  fwcert::ClockOptions o;
  o.now = kClientNa - 86400;
  o.bmc_clock = kClientNa + 86400;
  const auto r = fwcert::analyze_clock(sample_scan(), o);
  const auto* v = verdict(*service(r, "stunnel [ikvm]"), kClientSha);
  REQUIRE(v);
  CHECK(v->sentence.find("the BMC clock is ahead of the workstation's: fix the BMC clock (NTP)") != std::string::npos);
  // Without --bmc-clock the BMC clock is --now.
  fwcert::ClockOptions d;
  d.now = kNow;
  const auto rd = fwcert::analyze_clock(sample_scan(), d);
  CHECK(rd.bmc_clock == kNow);
  CHECK_FALSE(rd.bmc_clock_given);
}

TEST_CASE("clock: a jar client certificate issued by the CA in the BMC's CAfile is judged at the BMC clock too") {
  fwcert::ScanReport rep;
  rep.input = "img";
  // The CA is valid 2016..2036, the client certificate it issued only from 2018: the window starts in 2018.
  rep.certificates.push_back(record("aa", "Vendor CA", 1451606400, 2082758400,
                                    {"stunnel [ikvm] CA / trusted client certificate (verify 2: client chain must "
                                     "lead to it)"}));
  auto client = record("bb", "IPMI", 1514764800, 1830297600, {"iKVM client certificate"}, "Vendor CA");
  client.locations = {"img!cramfs@0x0:/kvm.jar!zip:res/client.crt"};
  rep.certificates.push_back(client);
  fwcert::ClockOptions o;
  o.now = kNow;
  o.bmc_clock = 1483228800;  // 2017-01-01: inside the CA's window, before the client certificate's
  const auto r = fwcert::analyze_clock(rep, o);
  const auto* st = service(r, "stunnel [ikvm]");
  REQUIRE(st);
  const auto* v = verdict(*st, "bb");
  REQUIRE(v);
  CHECK(v->verifier == Verifier::Bmc);
  CHECK(v->tls_alert == 42);
  CHECK(v->notes.at(0).find("issuer = its subject") != std::string::npos);
  REQUIRE(st->bmc_window);
  CHECK(st->bmc_window->from == 1514764800);
  CHECK(st->bmc_window->from_sha256 == "bb");
  CHECK(st->bmc_window->until == 1830297600);
  CHECK(verdict(*st, "aa")->status == CertStatus::Valid);

  // Without anything that trusts it, the jar's certificate gets no verifier and no alert.
  fwcert::ScanReport alone;
  alone.certificates.push_back(client);
  const auto ra = fwcert::analyze_clock(alone, o);
  const auto* jar = service(ra, "iKVM client program");
  REQUIRE(jar);
  CHECK(jar->certificates.at(0).verifier == Verifier::Unknown);
  CHECK_FALSE(jar->certificates.at(0).tls_alert);
  CHECK_FALSE(ra.bmc_window);
}

TEST_CASE("clock: unreadable dates are invalid-date, never valid or expired, with no alert and no window bound") {
  fwcert::ScanReport rep;
  rep.certificates.push_back(record("cc", "bad", std::nullopt, 1830297600,
                                    {"stunnel [x] CA / client certificate (verify 3: peer must present it)"}));
  fwcert::ClockOptions o;
  o.now = kNow;
  o.bmc_clock = kBmc2015;
  const auto r = fwcert::analyze_clock(rep, o);
  const auto& v = service(r, "stunnel [x]")->certificates.at(0);
  CHECK(v.status == CertStatus::InvalidDate);
  CHECK_FALSE(v.tls_alert);
  CHECK(v.sentence.empty());
  const auto& w = *service(r, "stunnel [x]")->bmc_window;
  CHECK_FALSE(w.from);
  CHECK_FALSE(w.until);
  CHECK(w.unreadable == std::vector<std::string>{"cc"});
  CHECK(r.failing == 1);
}

TEST_CASE("clock: windows, trust stores, unverified CA files and unknown roles") {
  // Empty window: a CA file holding two certificates whose windows do not overlap.
  fwcert::ScanReport rep;
  const std::string ca_role = "stunnel [s] CA / trusted server certificate (verify 2: server chain must lead to it)";
  rep.certificates.push_back(record("d1", "old", 100, 200, {ca_role}));
  rep.certificates.push_back(record("d2", "new", 300, 400, {ca_role}));
  // A CA bundle: judged at the BMC clock but gives no window.
  rep.certificates.push_back(record("d3", "root", 0, 150, {"CA bundle"}));
  // A CAfile the config never verifies against: its clock does not matter.
  rep.certificates.push_back(record("d4", "unused", 0, 10, {"stunnel [u] CA / trusted client certificate (no verify "
                                                           "option: peers not checked)"}));
  rep.certificates.push_back(record("d5", "mystery", 0, 10, {"something new"}));
  rep.certificates.push_back(record("d6", "nobody", 0, 10, {}));
  // Code signing is no TLS handshake: a status and a sentence, but no alert.
  rep.certificates.push_back(record("d7", "signer", 0, 10, {"jar signing certificate (kvm.jar)"}));
  fwcert::ClockOptions o;
  o.now = 250;
  const auto r = fwcert::analyze_clock(rep, o);
  const auto& s = *service(r, "stunnel [s]");
  REQUIRE(s.bmc_window);
  CHECK(s.bmc_window->empty);
  CHECK(*s.bmc_window->from == 300);
  CHECK(*s.bmc_window->until == 200);
  CHECK(verdict(s, "d1")->tls_alert == 45);
  CHECK(verdict(s, "d2")->tls_alert == 42);
  CHECK(verdict(s, "d2")->sentence.find("stunnel [s] cannot connect to its remote server") == 0);
  const auto& bundle = *service(r, "outgoing TLS trust (CA bundle)");
  CHECK_FALSE(bundle.bmc_window);
  CHECK(bundle.certificates.at(0).tls_alert == 45);
  CHECK(bundle.certificates.at(0).sender == "the BMC");
  const auto& unused = *service(r, "stunnel [u]");
  CHECK_FALSE(unused.bmc_window);
  CHECK_FALSE(unused.certificates.at(0).tls_alert);
  REQUIRE(r.bmc_window);
  CHECK(r.bmc_window->empty);
  const auto& jar = *service(r, "jar signing (kvm.jar)");
  CHECK(jar.certificates.at(0).verifier == Verifier::Workstation);
  CHECK(jar.certificates.at(0).status == CertStatus::Expired);
  CHECK_FALSE(jar.certificates.at(0).tls_alert);
  CHECK(jar.certificates.at(0).sentence.find("has expired (1970-01-01T00:00:10Z); the BMC clock plays no part") !=
        std::string::npos);
  CHECK(r.problems.size() == 2);
  CHECK(r.problems[0].find("role not modelled: \"something new\"") == 0);
  CHECK(r.problems[1].find("no role known from the configuration") == 0);
}

// ---------------------------------------------------------------------------------------------------------------
// The alert a real OpenSSL server sends, with the BMC's clock as its verification time.

namespace {

struct SslDeleter {
  void operator()(SSL* s) const { SSL_free(s); }
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
  void operator()(X509* x) const { X509_free(x); }
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
template <typename T>
using Ptr = std::unique_ptr<T, SslDeleter>;

Ptr<X509> load_cert(const std::string& path) {
  BIO* b = BIO_new_file(path.c_str(), "r");
  REQUIRE(b);
  X509* x = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  REQUIRE(x);
  return Ptr<X509>(x);
}

Ptr<EVP_PKEY> load_key(const std::string& path) {
  BIO* b = BIO_new_file(path.c_str(), "r");
  REQUIRE(b);
  EVP_PKEY* k = PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  REQUIRE(k);
  return Ptr<EVP_PKEY>(k);
}

struct AlertLog {
  int received = -1;  // by the client (the iKVM client's side)
  int sent = -1;      // by the server (the BMC's stunnel)
};

void record_alert(const SSL* ssl, int where, int ret) {
  auto* log = static_cast<AlertLog*>(SSL_get_ex_data(ssl, 0));
  if (!log) return;
  // ret: alert level in the high byte, description in the low byte.
  if ((where & SSL_CB_READ_ALERT) && (ret >> 8) == SSL3_AL_FATAL && log->received < 0) log->received = ret & 0xff;
  if ((where & SSL_CB_WRITE_ALERT) && (ret >> 8) == SSL3_AL_FATAL && log->sent < 0) log->sent = ret & 0xff;
}

struct Handshake {
  int client_received = -1, server_sent = -1;
  long server_verify = X509_V_OK;
  bool ok = false;
};

// The sample's stunnel [ikvm] in OpenSSL terms: server.crt/server.key, CAfile = client.crt, verify 3 (a client
// certificate is required and must verify), and verification at the BMC's clock. The client presents client.crt.
Handshake ikvm_handshake(int64_t bmc_clock, int tls_version) {
  const std::string dir = source_dir() + "/samples/certs/";
  auto server_cert = load_cert(dir + "server.crt");
  auto server_key = load_key(dir + "server.key");
  auto client_cert = load_cert(dir + "client.crt");
  auto client_key = load_key(dir + "client.key");

  Ptr<SSL_CTX> sctx(SSL_CTX_new(TLS_server_method()));
  Ptr<SSL_CTX> cctx(SSL_CTX_new(TLS_client_method()));
  REQUIRE(sctx);
  REQUIRE(cctx);
  for (SSL_CTX* c : {sctx.get(), cctx.get()}) {
    SSL_CTX_set_min_proto_version(c, tls_version);
    SSL_CTX_set_max_proto_version(c, tls_version);
    SSL_CTX_set_info_callback(c, record_alert);
  }
  REQUIRE(SSL_CTX_use_certificate(sctx.get(), server_cert.get()) == 1);
  REQUIRE(SSL_CTX_use_PrivateKey(sctx.get(), server_key.get()) == 1);
  REQUIRE(X509_STORE_add_cert(SSL_CTX_get_cert_store(sctx.get()), client_cert.get()) == 1);
  SSL_CTX_set_verify(sctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  X509_VERIFY_PARAM_set_time(SSL_CTX_get0_param(sctx.get()), static_cast<time_t>(bmc_clock));
  REQUIRE(SSL_CTX_use_certificate(cctx.get(), client_cert.get()) == 1);
  REQUIRE(SSL_CTX_use_PrivateKey(cctx.get(), client_key.get()) == 1);
  SSL_CTX_set_verify(cctx.get(), SSL_VERIFY_NONE, nullptr);  // the server certificate is not what is tested here

  Ptr<SSL> server(SSL_new(sctx.get()));
  Ptr<SSL> client(SSL_new(cctx.get()));
  BIO *a = nullptr, *b = nullptr;
  REQUIRE(BIO_new_bio_pair(&a, 0, &b, 0) == 1);
  SSL_set_bio(client.get(), a, a);
  SSL_set_bio(server.get(), b, b);
  SSL_set_connect_state(client.get());
  SSL_set_accept_state(server.get());
  AlertLog log;
  SSL_set_ex_data(client.get(), 0, &log);
  SSL_set_ex_data(server.get(), 0, &log);

  // Both sides in turn until each has finished or failed; a bounded number of rounds (no network, no waiting).
  bool cdone = false, sdone = false, cfail = false, sfail = false;
  for (int round = 0; round < 64 && !(cfail || sfail) && !(cdone && sdone && round > 8); ++round) {
    if (!cfail) {
      if (!cdone) {
        const int rc = SSL_do_handshake(client.get());
        if (rc == 1) cdone = true;
        else if (SSL_get_error(client.get(), rc) != SSL_ERROR_WANT_READ) cfail = true;
      } else {
        // TLS 1.3: the client finishes before the server has checked its certificate; the alert arrives on a read.
        char byte;
        const int rc = SSL_read(client.get(), &byte, 1);
        if (rc <= 0 && SSL_get_error(client.get(), rc) != SSL_ERROR_WANT_READ) cfail = true;
      }
    }
    if (!sfail && !sdone) {
      const int rc = SSL_do_handshake(server.get());
      if (rc == 1) sdone = true;
      else if (SSL_get_error(server.get(), rc) != SSL_ERROR_WANT_READ) sfail = true;
    }
  }
  // Let the client read an alert the server wrote in its last turn.
  for (int i = 0; i < 4 && sfail && log.received < 0; ++i) {
    char byte;
    if (!cdone) SSL_do_handshake(client.get());
    else SSL_read(client.get(), &byte, 1);
  }
  ERR_clear_error();
  Handshake h;
  h.client_received = log.received;
  h.server_sent = log.sent;
  h.server_verify = SSL_get_verify_result(server.get());
  h.ok = cdone && sdone && !cfail && !sfail;
  return h;
}

}  // namespace

TEST_CASE("clock: the alert predicted for each BMC clock is the one a real OpenSSL server sends (TLS 1.2 and 1.3)") {
  fwcert::load_crypto_providers();
  struct Case {
    int64_t bmc;
    long verify_error;
  };
  const Case cases[] = {
      {kBmc2015, X509_V_ERR_CERT_NOT_YET_VALID},       // the Supermicro incident
      {kClientNb - 1, X509_V_ERR_CERT_NOT_YET_VALID},  // one second before notBefore
      {1780272000, X509_V_ERR_CERT_HAS_EXPIRED},       // 2026-06-01
      {1609459200, X509_V_OK},                         // 2021-01-01: inside the window
  };
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    for (const Case& c : cases) {
      INFO("TLS version " << std::hex << version << std::dec << ", BMC clock " << c.bmc);
      const auto r = sample_at(c.bmc);
      const auto* v = verdict(*service(r, "stunnel [ikvm]"), kClientSha);
      REQUIRE(v);
      const Handshake h = ikvm_handshake(c.bmc, version);
      CHECK(h.server_verify == c.verify_error);
      if (v->tls_alert) {
        CHECK_FALSE(h.ok);
        CHECK(h.server_sent == *v->tls_alert);     // the BMC sends it ...
        CHECK(h.client_received == *v->tls_alert);  // ... and the iKVM client receives it
        CHECK(v->sender == "the BMC");
        CHECK(std::string(fwcert::tls_alert_name(h.client_received)) == v->alert_name);
      } else {
        CHECK(h.ok);
        CHECK(h.server_sent == -1);
        CHECK(v->status == CertStatus::Valid);
      }
    }
  }
}

TEST_CASE("clock: the margin from a clock to the nearest window edge") {
  fwcert::ClockWindow w;
  w.from = 100;
  w.until = 200;
  CHECK(fwcert::window_margin(w, 100) == 0);
  CHECK(fwcert::window_margin(w, 130) == 30);
  CHECK(fwcert::window_margin(w, 190) == 10);
  CHECK(fwcert::window_margin(w, 99) == -1);
  CHECK(fwcert::window_margin(w, 260) == -60);
  CHECK(fwcert::window_margin(w, INT64_MIN) == INT64_MIN);  // saturates
  w.until.reset();
  CHECK(fwcert::window_margin(w, INT64_MAX) == INT64_MAX - 100);
  CHECK(fwcert::window_margin(w, 50) == -50);
  w.from.reset();
  CHECK_FALSE(fwcert::window_margin(w, 0));
  w.from = 300;
  w.until = 200;
  w.empty = true;
  CHECK_FALSE(fwcert::window_margin(w, 250));
  // The sample at the 2015 BMC clock: out by the time to 2016-05-19T09:46:36Z.
  const auto r = sample_at(kBmc2015);
  CHECK(fwcert::window_margin(*r.bmc_window, kBmc2015) == kBmc2015 - kClientNb);
  CHECK(fwcert::clock_to_json({r})["inputs"][0]["bmc_clock_margin_seconds"] == kBmc2015 - kClientNb);
}

TEST_CASE("clock: hostile role texts and records never throw") {
  const std::vector<std::string> pieces = {"stunnel", " [", "]", "(", ")", "CA / client certificate", "CA directory",
                                           "lighttpd ", "nginx ", "Apache ", " certificate", "; ", "iKVM client certificate",
                                           "CA bundle", "\xff\x00", "verify 3:", " trusted CA certificate", ""};
  fwcert::ScanReport rep;
  uint32_t seed = 12345;
  for (int i = 0; i < 400; ++i) {
    std::string role;
    for (int k = 0; k < 5; ++k) {
      seed = seed * 1103515245u + 12345u;
      role += pieces[(seed >> 8) % pieces.size()];
    }
    seed = seed * 1103515245u + 12345u;
    auto rec = record(std::to_string(i), "cn" + std::to_string(i % 7), (seed & 1) ? std::optional<int64_t>(i) : std::nullopt,
                      (seed & 2) ? std::optional<int64_t>(INT64_MAX - i) : std::optional<int64_t>(i - 1000),
                      {role, "iKVM client certificate"}, (seed & 4) ? "cn3" : "");
    rep.certificates.push_back(rec);
  }
  fwcert::ClockOptions o;
  o.now = INT64_MAX;
  o.bmc_clock = INT64_MIN;
  fwcert::ClockReport r;
  REQUIRE_NOTHROW(r = fwcert::analyze_clock(rep, o));
  std::ostringstream out;
  REQUIRE_NOTHROW(fwcert::write_clock_table(out, {r}));
  REQUIRE_NOTHROW(fwcert::clock_to_json({r}).dump());
  CHECK(r.problems.size() <= 64);
}
