// Dates that TLS stacks refuse (issue 17 item 9): a differential test of our ASN.1 time reader (certs/x509.hpp
// parse_asn1_time) against what OpenSSL 3 does when it verifies a certificate. For every generated date text, a
// certificate carrying it as notAfter is signed, encoded, decoded again (d2i_X509 refuses some forms itself) and
// compared with X509_cmp_time, the function X509_verify_cert uses (0 = the field is in error: the peer rejects the
// certificate whatever its clock). Our reader must agree on accept/reject for every text, on the instant when both
// accept (ASN1_TIME_diff from the epoch) and on the comparison with a clock one second either side. The test fails
// listing every disagreement.
#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <ctime>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "fwcert/certs/x509.hpp"
#include "support.hpp"

using namespace fwcert;

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct TimeFree {
  void operator()(ASN1_TIME* t) const { ASN1_TIME_free(t); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509P = std::unique_ptr<X509, X509Free>;
using TimeP = std::unique_ptr<ASN1_TIME, TimeFree>;

// Exactly these bytes with this tag (ASN1_TIME_set_string would refuse the forms under test).
void set_raw(ASN1_TIME* t, int type, const std::string& raw) {
  REQUIRE(ASN1_STRING_set(t, raw.data(), static_cast<int>(raw.size())) == 1);
  t->type = type;
}

// What an OpenSSL peer makes of a certificate whose notAfter is (type, raw): decoded or not, and X509_cmp_time at
// each clock (0 = error).
struct PeerView {
  bool decoded = false;
  bool accepted = false;          // decoded and X509_cmp_time != 0
  std::optional<int64_t> unix;    // the instant OpenSSL reads (ASN1_TIME_diff from 1970), when accepted
  X509P cert;
};

PeerView peer_view(EVP_PKEY* key, int type, const std::string& raw) {
  PeerView v;
  X509P x(X509_new());
  REQUIRE(x);
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), 1);
  set_raw(X509_getm_notBefore(x.get()), V_ASN1_UTCTIME, "000101000000Z");
  set_raw(X509_getm_notAfter(x.get()), type, raw);
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("date"), -1, -1, 0);
  X509_set_issuer_name(x.get(), name);
  X509_set_pubkey(x.get(), key);
  REQUIRE(X509_sign(x.get(), key, EVP_sha256()) > 0);
  unsigned char* der = nullptr;
  const int n = i2d_X509(x.get(), &der);
  REQUIRE(n > 0);
  const unsigned char* p = der;
  v.cert.reset(d2i_X509(nullptr, &p, n));
  OPENSSL_free(der);
  if (!v.cert) return v;
  v.decoded = true;
  time_t now = 1780000000;  // 2026-05-28: any clock; an error is an error at every clock
  v.accepted = X509_cmp_time(X509_get0_notAfter(v.cert.get()), &now) != 0;
  if (v.accepted) {
    TimeP epoch(ASN1_TIME_set(nullptr, 0));
    int day = 0, sec = 0;
    if (epoch && ASN1_TIME_diff(&day, &sec, epoch.get(), X509_get0_notAfter(v.cert.get())) == 1)
      v.unix = static_cast<int64_t>(day) * 86400 + sec;
  }
  return v;
}

struct Case {
  int type;
  std::string raw;
  bool operator<(const Case& o) const { return type != o.type ? type < o.type : raw < o.raw; }
};

std::string two(int v) {
  char b[8];
  std::snprintf(b, sizeof b, "%02d", v % 100);
  return b;
}
std::string four(int v) {
  char b[8];
  std::snprintf(b, sizeof b, "%04d", v % 10000);
  return b;
}

// The generated texts: a calendar grid (years at the century and UTCTime 1950/2049 boundaries, every month edge,
// days 0/1/28-32, hours 0/23/24, minutes 0/59/60, seconds 0/59/60/61), the relaxed forms on valid dates (no seconds,
// fractions, offsets, lowercase z, no zone, spaces, signs, non-digits), every truncation, and seeded mutations.
std::set<Case> generate() {
  std::set<Case> out;
  const int U = V_ASN1_UTCTIME, G = V_ASN1_GENERALIZEDTIME;
  // Calendar grid.
  for (int yy : {0, 16, 24, 25, 49, 50, 69, 70, 99}) {
    for (int mo : {0, 1, 2, 4, 6, 9, 11, 12, 13})
      for (int d : {0, 1, 28, 29, 30, 31, 32}) out.insert({U, two(yy) + two(mo) + two(d) + "000000Z"});
    for (int h : {0, 23, 24, 99})
      for (int mi : {0, 59, 60})
        for (int s : {0, 59, 60, 61, 99}) out.insert({U, two(yy) + "1231" + two(h) + two(mi) + two(s) + "Z"});
  }
  for (int y : {0, 1, 4, 100, 1600, 1900, 1949, 1950, 1999, 2000, 2016, 2024, 2025, 2049, 2050, 2100, 2400, 9999}) {
    for (int mo : {0, 1, 2, 4, 12, 13})
      for (int d : {0, 1, 28, 29, 30, 31, 32}) out.insert({G, four(y) + two(mo) + two(d) + "000000Z"});
    for (int h : {0, 23, 24})
      for (int mi : {0, 59, 60})
        for (int s : {0, 59, 60, 61}) out.insert({G, four(y) + "1231" + two(h) + two(mi) + two(s) + "Z"});
  }
  // Relaxed forms on valid dates.
  const std::vector<std::string> zones = {"Z",     "z",     "",      "+0000", "-0000", "+0500", "-0500", "+1200",
                                          "+1300", "-1200", "+1400", "+2359", "+0060", "+05",   "+05000", " Z",
                                          "Z ",    "ZZ",    "+",     "-",     "Z\n",   std::string("Z\0", 2)};
  const std::vector<std::pair<int, std::string>> bases = {
      {U, "1612312359"}, {U, "4912312359"}, {U, "5001010000"}, {U, "2402290000"},
      {G, "201612312359"}, {G, "205001010000"}, {G, "999912312359"}, {G, "000001010000"}};
  for (const auto& [type, b] : bases) {
    for (const std::string& sec : {std::string(), std::string("59"), std::string("60"), std::string("00")})
      for (const std::string& frac : {std::string(), std::string(".5"), std::string(",5"), std::string("."),
                                      std::string(".123456789"), std::string(".0")})
        for (const auto& z : zones) out.insert({type, b + sec + frac + z});
    const std::string full = b + "59Z";
    for (size_t n = 0; n <= full.size(); ++n) out.insert({type, full.substr(0, n)});
    out.insert({type, " " + full});
    out.insert({type, full + " "});
    out.insert({type, "+" + full.substr(1)});
    out.insert({type, "-" + full.substr(1)});
  }
  // The other tag's length: a UTCTime of 15 characters, a GeneralizedTime of 13.
  out.insert({U, "20161231235959Z"});
  out.insert({G, "161231235959Z"});
  out.insert({G, "2016123123595Z"});
  // Seeded mutations of valid texts: replace, insert or delete one or two characters.
  std::mt19937 rng(20161231);
  const std::string alphabet = std::string("0123456789Zz+-., aO/:\xFF", 22) + std::string(1, '\0');
  const std::vector<Case> seeds = {{U, "161231235959Z"}, {U, "260517094636Z"}, {G, "20161231235959Z"},
                                   {G, "20500101000000Z"}, {G, "99991231235959Z"}};
  for (int k = 0; k < 3000; ++k) {
    Case c = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 2);
    for (int e = 0; e < edits && !c.raw.empty(); ++e) {
      const size_t at = rng() % c.raw.size();
      const char ch = alphabet[rng() % alphabet.size()];
      switch (rng() % 4) {
        case 0:
        case 1: c.raw[at] = ch; break;
        case 2: c.raw.insert(c.raw.begin() + static_cast<std::ptrdiff_t>(at), ch); break;
        default: c.raw.erase(at, 1); break;
      }
    }
    out.insert(c);
  }
  return out;
}

std::string shown(const Case& c) {
  std::string s = c.type == V_ASN1_UTCTIME ? "UTCTime \"" : "GeneralizedTime \"";
  for (unsigned char ch : c.raw) {
    if (ch >= 0x20 && ch < 0x7F) {
      s += static_cast<char>(ch);
    } else {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02X", ch);
      s += b;
    }
  }
  return s + "\"";
}

}  // namespace

TEST_CASE("dates: our reader accepts exactly the date texts OpenSSL accepts when it verifies a certificate") {
  Pkey key(EVP_EC_gen("P-256"));
  REQUIRE(key);
  const std::set<Case> cases = generate();
  size_t accepted = 0, lenient_only = 0, disagree = 0;
  std::ostringstream report;
  for (const Case& c : cases) {
    const PeerView peer = peer_view(key.get(), c.type, c.raw);
    const TimeValue ours = parse_asn1_time(c.type == V_ASN1_UTCTIME ? "UTCTime" : "GeneralizedTime", c.raw);
    std::string why;
    if (ours.unix.has_value() != peer.accepted) {
      why = std::string(peer.accepted ? "OpenSSL accepts, we reject (" + ours.error + ")"
                                      : std::string("OpenSSL rejects (") + (peer.decoded ? "X509_cmp_time" : "d2i_X509") +
                                            "), we accept as " + rfc3339(*ours.unix));
    } else if (peer.accepted) {
      ++accepted;
      if (!peer.unix || *peer.unix != *ours.unix) {
        why = "instants differ: OpenSSL " + (peer.unix ? rfc3339(*peer.unix) : std::string("?")) + ", ours " +
              rfc3339(*ours.unix);
      } else if (*ours.unix > -2208988800 && *ours.unix < 253402300799) {  // X509_time_adj: years 1900-9999
        // The comparison a verifier makes, one second either side and at the instant itself (<= is "before").
        for (int64_t d : {-1, 0, 1}) {
          time_t now = static_cast<time_t>(*ours.unix + d);
          const int cmp = X509_cmp_time(X509_get0_notAfter(peer.cert.get()), &now);
          const int want = *ours.unix <= *ours.unix + d ? -1 : 1;
          if (cmp != want) why = "X509_cmp_time at " + rfc3339(*ours.unix + d) + " is " + std::to_string(cmp);
        }
      }
    } else if (ours.lenient) {
      ++lenient_only;
      if (ours.error.rfind("rejected by TLS peers (OpenSSL): ", 0) != 0) why = "lenient reading without the reason";
    }
    if (!why.empty()) {
      ++disagree;
      report << "  " << shown(c) << ": " << why << "\n";
    }
  }
  INFO(cases.size() << " date texts, " << accepted << " accepted by both, " << lenient_only
                    << " rejected by OpenSSL and read leniently by us; disagreements:\n"
                    << report.str());
  CHECK(disagree == 0);
  // The generator covers the interesting classes, and the figures show up in the log.
  CHECK(cases.size() > 3000);
  CHECK(accepted > 300);
  CHECK(lenient_only > 100);
  WARN(cases.size() << " date texts compared with OpenSSL: " << accepted << " accepted by both, " << lenient_only
                    << " read leniently only, " << cases.size() - accepted - lenient_only << " rejected by both");
}

TEST_CASE("dates: a leap second is invalid-date, says that peers reject it and keeps the lenient reading") {
  const TimeValue t = parse_asn1_time("GeneralizedTime", "20161231235960Z");
  CHECK_FALSE(t.unix);
  REQUIRE(t.lenient);
  CHECK(rfc3339(*t.lenient) == "2016-12-31T23:59:59Z");
  CHECK(t.error == "rejected by TLS peers (OpenSSL): seconds 60");
  const TimeValue u = parse_asn1_time("UTCTime", "1612312359+0100");
  CHECK_FALSE(u.unix);
  REQUIRE(u.lenient);
  CHECK(rfc3339(*u.lenient) == "2016-12-31T22:59:00Z");
  CHECK(u.error == "rejected by TLS peers (OpenSSL): no seconds, an offset instead of Z");

  Pkey key(EVP_EC_gen("P-256"));
  REQUIRE(key);
  const PeerView peer = peer_view(key.get(), V_ASN1_GENERALIZEDTIME, "20161231235960Z");
  REQUIRE(peer.cert);
  CHECK_FALSE(peer.accepted);
  unsigned char* der = nullptr;
  const int n = i2d_X509(peer.cert.get(), &der);
  REQUIRE(n > 0);
  auto parsed = parse_certificate(ByteView(der, static_cast<size_t>(n)));
  OPENSSL_free(der);
  REQUIRE(parsed.ok());
  const Certificate& c = parsed.value();
  std::optional<int64_t> days = 5;
  // Expired by the lenient reading at 2026, valid by it at 2010: invalid-date at both, as for a peer.
  for (int64_t now : {int64_t{1262304000}, int64_t{1780000000}}) {
    CHECK(judge_certificate(c, now, 30, days) == CertStatus::InvalidDate);
    CHECK_FALSE(days);
  }
  const auto a = certificate_anomalies(c);
  CHECK(std::find(a.begin(), a.end(),
                  "notAfter rejected by TLS peers (OpenSSL): seconds 60; read leniently as 2016-12-31T23:59:59Z") !=
        a.end());
}
