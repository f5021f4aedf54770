// Live BMC checks without the network: endpoint and Redfish DateTime parsing, the inventory CSV, and
// the judgement of a host at our clock and the BMC's. The network side (openssl s_server, a Redfish responder,
// ipmi_sim) is exercised by tests/cli/live.sh.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <memory>
#include <thread>

#include <catch2/catch.hpp>

#include "fwcert/certs/x509.hpp"
#include "fwcert/live/check.hpp"
#include "support.hpp"

using namespace fwcert;

namespace {

Certificate sample_cert(const std::string& name) {
  const std::string path = fwtest::source_dir() + "/samples/certs/" + name;
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(path.c_str(), "r"), BIO_free);
  REQUIRE(bio);
  std::unique_ptr<X509, decltype(&X509_free)> x(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  REQUIRE(x);
  unsigned char* der = nullptr;
  const int len = i2d_X509(x.get(), &der);
  REQUIRE(len > 0);
  auto c = parse_certificate(ByteView(der, static_cast<size_t>(len)));
  OPENSSL_free(der);
  REQUIRE(c);
  return *c;
}

}  // namespace

TEST_CASE("live: endpoints with and without ports, IPv6 in brackets") {
  auto a = parse_endpoint("bmc.example");
  REQUIRE(a);
  CHECK(a->host == "bmc.example");
  CHECK(a->port == 443);
  auto b = parse_endpoint("10.0.0.5:8443");
  REQUIRE(b);
  CHECK(b->port == 8443);
  auto c = parse_endpoint("[fe80::1]:623", 443);
  REQUIRE(c);
  CHECK(c->host == "fe80::1");
  CHECK(c->port == 623);
  CHECK(to_string(*c) == "[fe80::1]:623");
  auto d = parse_endpoint("fe80::1", 623);
  REQUIRE(d);
  CHECK(d->port == 623);
  CHECK_FALSE(parse_endpoint(""));
  CHECK_FALSE(parse_endpoint(":443"));
  CHECK_FALSE(parse_endpoint("host:"));
  CHECK_FALSE(parse_endpoint("host:0"));
  CHECK_FALSE(parse_endpoint("host:65536"));
  CHECK_FALSE(parse_endpoint("host:44x"));
  CHECK_FALSE(parse_endpoint("[::1"));
}

TEST_CASE("live: Redfish DateTime with offsets, fractions and Z") {
  CHECK(parse_redfish_datetime("2026-12-04T09:12:00+00:00") == parse_user_time("2026-12-04T09:12:00Z"));
  CHECK(parse_redfish_datetime("2026-12-04T09:12:00Z") == parse_user_time("2026-12-04T09:12:00Z"));
  CHECK(parse_redfish_datetime("2026-12-04T04:12:00.123-05:00") == parse_user_time("2026-12-04T09:12:00Z"));
  CHECK(parse_redfish_datetime("2015-06-01T02:00:00+02:00") == parse_user_time("2015-06-01"));
  CHECK_FALSE(parse_redfish_datetime("2026-12-04T09:12:00"));  // no zone: a local time of an unknown zone
  CHECK_FALSE(parse_redfish_datetime("2026-02-30T00:00:00Z"));
  CHECK_FALSE(parse_redfish_datetime("2026-12-04T24:00:00Z"));
  CHECK_FALSE(parse_redfish_datetime("2026-12-04T09:12:00+0000"));
  CHECK_FALSE(parse_redfish_datetime(""));
}

TEST_CASE("live: inventory CSV by header names or by position; errors name the line") {
  auto inv = read_inventory_csv(
      "# fleet\nlabel,host,port,redfish\nrack1,10.0.0.1,443,https://10.0.0.1\n\"rack 2, top\",bmc2.example,,\n");
  REQUIRE(inv);
  REQUIRE(inv->size() == 2);
  CHECK((*inv)[0].label == "rack1");
  CHECK((*inv)[0].redfish_url == "https://10.0.0.1");
  CHECK((*inv)[1].label == "rack 2, top");
  CHECK((*inv)[1].endpoint.port == 443);
  CHECK_FALSE((*inv)[1].ipmi);
  auto pos = read_inventory_csv("10.0.0.9,8443,,10.0.0.10,r9\r\n");
  REQUIRE(pos);
  REQUIRE(pos->size() == 1);
  CHECK(pos->front().endpoint.port == 8443);
  REQUIRE(pos->front().ipmi);
  CHECK(pos->front().ipmi->port == 623);
  auto bad = read_inventory_csv("host,port\nok,1\nbad,99999\n");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("line 3") != std::string::npos);
  CHECK_FALSE(read_inventory_csv("host,port,redfish\nh,1,http://h\n"));  // HTTPS only
  CHECK_FALSE(read_inventory_csv("host\n\"unterminated\n"));
}

TEST_CASE("live: a served certificate judged at our clock and at the BMC's, three days behind") {
  // server.crt: 2020-07-17T09:00:00Z .. 2030-07-15T09:00:00Z.
  HostCheck h;
  h.spec.endpoint = {"127.0.0.1", 443};
  h.probe.chain.push_back(sample_cert("server.crt"));
  BmcClock rf;
  rf.source = "redfish test";
  rf.ok = true;
  rf.skew = -259200;
  rf.bmc_time = 1;
  h.redfish = rf;
  CheckOptions o;
  o.probe.now = *parse_user_time("2020-07-18T09:00:00Z");  // a day after notBefore: valid here, not at the BMC
  judge_host_check(h, nullptr, o);
  REQUIRE(h.served.size() == 1);
  CHECK(h.served[0].status == CertStatus::Valid);
  REQUIRE(h.served[0].bmc_status);
  CHECK(*h.served[0].bmc_status == CertStatus::NotYetValid);
  CHECK(*h.served[0].margin_behind == -2 * 86400);
  REQUIRE(h.skew);
  CHECK(*h.skew == -259200);
  REQUIRE(h.findings.size() == 2);
  CHECK(h.findings[0].find("above the 60 s limit") != std::string::npos);
  CHECK(h.findings[1].find("not yet valid") != std::string::npos);
  CHECK(h.findings[1].find("BMC's clock 2020-07-15T09:00:00Z") != std::string::npos);
  FleetPolicy p;
  CHECK(fleet_host_fails(h, p));
  CHECK(fleet_row(h, p)[7] == "FINDING: skew -259200 s; not-yet-valid at BMC clock");

  // The same BMC in step: nothing to report.
  h.redfish->skew = 30;
  judge_host_check(h, nullptr, o);
  CHECK(h.findings.empty());
  CHECK(*h.served[0].bmc_status == CertStatus::Valid);
  CHECK(*h.served[0].margin_behind == 86400 + 30);
  CHECK_FALSE(fleet_host_fails(h, p));
  CHECK(fleet_row(h, p)[7] == "ok");
}

TEST_CASE("live: a BMC clock never set is a finding of its own; an unreachable host counts only when asked") {
  HostCheck h;
  h.spec.endpoint = {"127.0.0.1", 443};
  h.probe.chain.push_back(sample_cert("server.crt"));
  BmcClock ipmi;
  ipmi.source = "ipmi test";
  ipmi.ok = true;
  ipmi.never_set = true;
  ipmi.raw = "0x0000080c";
  h.ipmi = ipmi;
  CheckOptions o;
  o.probe.now = *parse_user_time("2026-06-01");
  judge_host_check(h, nullptr, o);
  REQUIRE(h.findings.size() == 1);
  CHECK(h.findings[0].rfind("BMC clock not set: every certificate is judged at an unknown time", 0) == 0);
  CHECK_FALSE(h.served[0].bmc_status);  // no clock to judge at

  HostCheck down;
  down.spec.endpoint = {"127.0.0.1", 9};
  down.probe.error = ProbeError::Refused;
  down.probe.message = "connection to 127.0.0.1:9 refused";
  judge_host_check(down, nullptr, o);
  CHECK(down.unreachable);
  FleetPolicy p;
  CHECK_FALSE(fleet_host_fails(down, p));
  p.fail_on_unreachable = true;
  CHECK(fleet_host_fails(down, p));
  CHECK(fleet_row(down, p)[7] == "FINDING: unreachable");
  CHECK(fleet_row(down, p)[8].find("refused") != std::string::npos);
}

TEST_CASE("live: probe errors are one line and bounded (refused, silent port)") {
  // A port nobody listens on: bind, read the number, close.
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(s >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  const uint16_t port = ntohs(a.sin_port);
  ::close(s);
  ProbeOptions o;
  o.timeout_ms = 500;
  auto r = probe_tls({"127.0.0.1", port}, o);
  CHECK(r.error == ProbeError::Refused);
  CHECK(r.message.find('\n') == std::string::npos);
  CHECK(r.chain.empty());

  // A listener that never accepts: the kernel completes the connection, nobody speaks; the handshake times out.
  s = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(s >= 0);
  a.sin_port = 0;
  REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(s, 4) == 0);
  len = sizeof a;
  REQUIRE(::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  auto t = probe_tls({"127.0.0.1", ntohs(a.sin_port)}, o);
  ::close(s);
  CHECK(t.error == ProbeError::TimedOut);
  CHECK(t.message.find("timed out after 500 ms") != std::string::npos);
}

TEST_CASE("live: a Redfish URL carrying credentials is refused without echoing them") {
  RedfishOptions o;
  o.timeout_ms = 200;
  auto b = read_redfish_clock("https://root:hunter2@127.0.0.1:1/redfish/v1", o);
  CHECK_FALSE(b.ok);
  CHECK(b.error.find("credentials in the URL are refused") != std::string::npos);
  CHECK(b.error.find("hunter2") == std::string::npos);
  CHECK(b.source.find("hunter2") == std::string::npos);
  auto plain = read_redfish_clock("http://127.0.0.1:1/redfish/v1", o);
  CHECK_FALSE(plain.ok);
  CHECK(plain.error.find("https://") != std::string::npos);
}

TEST_CASE("live: a server that closes right after its handshake flight does not kill the prober (SIGPIPE)") {
  // The server writes its whole TLS 1.3 flight, then closes without reading the client's Finished: the client's
  // Finished reaches a closed socket (the kernel answers with a reset), and the close_notify written after it raises
  // SIGPIPE, which ended the whole program before probe_tls blocked it.
  const std::string certs = fwtest::source_dir() + "/samples/certs/";
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  REQUIRE(ctx);
  REQUIRE(SSL_CTX_use_certificate_file(ctx.get(), (certs + "server.crt").c_str(), SSL_FILETYPE_PEM) == 1);
  REQUIRE(SSL_CTX_use_PrivateKey_file(ctx.get(), (certs + "server.key").c_str(), SSL_FILETYPE_PEM) == 1);
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION);
  SSL_CTX_set_num_tickets(ctx.get(), 0);
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(listener >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(listener, 4) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  std::thread server([&] {
    int fd = ::accept(listener, nullptr, nullptr);
    if (fd < 0) return;
    timeval tv{5, 0};  // bounded: a client that stops talking does not hang the test
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    // The TLS engine works on memory BIOs so that the test decides when the socket closes: right after the flight.
    SSL* ssl = SSL_new(ctx.get());
    BIO* in = BIO_new(BIO_s_mem());
    BIO* out = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl, in, out);
    SSL_set_accept_state(ssl);
    char buf[16384];
    for (int rounds = 0; rounds < 50 && BIO_ctrl_pending(out) == 0; ++rounds) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      BIO_write(in, buf, static_cast<int>(n));
      SSL_do_handshake(ssl);
    }
    while (BIO_ctrl_pending(out) > 0) {
      int n = BIO_read(out, buf, sizeof buf);
      if (n <= 0 || ::write(fd, buf, static_cast<size_t>(n)) != n) break;
    }
    ::close(fd);
    SSL_free(ssl);
  });
  ProbeOptions o;
  o.timeout_ms = 3000;
  auto r = probe_tls({"127.0.0.1", ntohs(a.sin_port)}, o);
  server.join();
  ::close(listener);
  // Reaching this line is the test; the chain was read before the server went away.
  CHECK(r.chain.size() == 1);
}
