// The one-pass matcher: the AVX2 prefilter path and the scalar path must make exactly the same callbacks, in the same
// order, as a plain reference written from the documented semantics (every match at positions >= from, in
// increasing order; at one position the signatures sharing the prefix longest magic first, the first callback that
// returns a jump ends the position; a jump > pos resumes at min(jump, n)).
#include <catch2/catch.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <set>
#include <sstream>

#include "fwcert/scan/matcher.hpp"
#include "fwcert/scan/signature.hpp"
#include "support.hpp"

using namespace fwcert;
using fwtest::Bytes;

namespace {

using Calls = std::vector<std::pair<uint64_t, size_t>>;  // (position, signature index), in call order

uint64_t mix(uint64_t x) {  // splitmix64 finaliser: a deterministic "random" answer per (position, signature)
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// What the callback answers, a function of (position, signature) only, so that every implementation sees the same
// answers and must then make the same calls.
struct Policy {
  uint32_t jump_percent = 0;  // share of calls answering with a position
  uint64_t max_distance = 1;  // forward jumps go 1..max_distance past the match
  uint64_t seed = 0;

  std::optional<uint64_t> operator()(uint64_t pos, size_t sig, uint64_t n) const {
    const uint64_t h = mix(pos * 1000003 + sig * 7919 + seed);
    if (h % 100 >= jump_percent) return std::nullopt;
    switch ((h >> 8) % 10) {
      case 0: return pos;                 // not forward: ignored, but it still ends this position
      case 1: return pos / 2;             // backward: likewise
      case 2: return n + (h >> 16) % 70;  // past the end
      case 3: return pos + 1;
      default: return pos + 1 + (h >> 16) % max_distance;
    }
  }
};

// The documented semantics, as plainly as possible: try every position, compare every magic in full.
Calls reference(const std::vector<Signature>& sigs, const Bytes& d, uint64_t from, const Policy& policy) {
  std::vector<std::vector<size_t>> by_first(256);  // longest magic first, then file order
  for (size_t k = 0; k < sigs.size(); ++k)
    if (sigs[k].magic.size() >= 2) by_first[static_cast<uint8_t>(sigs[k].magic[0])].push_back(k);
  for (auto& list : by_first)
    std::stable_sort(list.begin(), list.end(),
                     [&](size_t a, size_t b) { return sigs[a].magic.size() > sigs[b].magic.size(); });
  Calls out;
  const uint64_t n = d.size();
  for (uint64_t i = from; i + 1 < n;) {
    std::optional<uint64_t> jump;
    for (size_t k : by_first[d[i]]) {
      const std::string& m = sigs[k].magic;
      if (m.size() > n - i || std::memcmp(d.data() + i, m.data(), m.size()) != 0) continue;
      out.emplace_back(i, k);
      jump = policy(i, k, n);
      if (jump) break;
    }
    i = jump && *jump > i ? std::min<uint64_t>(*jump, n) : i + 1;
  }
  return out;
}

// Restores the automatic choice even when an assertion throws.
struct ScalarGuard {
  explicit ScalarGuard(bool scalar) { Matcher::force_scalar(scalar); }
  ~ScalarGuard() { Matcher::force_scalar(false); }
};

// view: the bytes to scan. They end where their allocation ends, so that ASan sees any read past the end.
Calls run(const Matcher& m, ByteView view, uint64_t from, const Policy& policy, bool scalar) {
  ScalarGuard guard(scalar);
  Calls out;
  const Signature* first = m.signatures().data();
  m.scan(view, from, [&](uint64_t pos, const Signature& s) -> std::optional<uint64_t> {
    const size_t k = static_cast<size_t>(&s - first);
    out.emplace_back(pos, k);
    return policy(pos, k, view.size());
  });
  return out;
}

// "" when equal, else where the sequences part.
std::string difference(const Calls& want, const Calls& got) {
  if (want == got) return "";
  size_t k = 0;
  while (k < want.size() && k < got.size() && want[k] == got[k]) ++k;
  std::ostringstream s;
  s << "calls part at #" << k << " of " << want.size() << " expected / " << got.size() << " made: expected ";
  if (k < want.size()) s << "(" << want[k].first << ", sig " << want[k].second << ")";
  else s << "no more";
  s << ", made ";
  if (k < got.size()) s << "(" << got[k].first << ", sig " << got[k].second << ")";
  else s << "no more";
  return s.str();
}

// Checks both paths against the reference on data (copied to an allocation of exactly its size, starting
// `misalign` bytes in, so that the vector loads see various alignments and the end is the allocation's end).
void check_paths(const Matcher& m, const Bytes& data, uint64_t from, const Policy& policy, size_t misalign = 0) {
  std::vector<uint8_t> store(misalign + data.size());
  std::copy(data.begin(), data.end(), store.begin() + static_cast<std::ptrdiff_t>(misalign));
  const ByteView view(store.data() + misalign, data.size());
  const Calls want = reference(m.signatures(), data, from, policy);
  INFO("size " << data.size() << ", from " << from << ", jump% " << policy.jump_percent << ", seed " << policy.seed
               << ", misalign " << misalign);
  CHECK(difference(want, run(m, view, from, policy, false)) == "");
  CHECK(difference(want, run(m, view, from, policy, true)) == "");
}

// Random bytes with padding runs of 00 / FF and magics of the given signatures written at random places: some
// overlapping, some cut by the end of the buffer, one ending exactly at the end, a prefix at n - 2.
Bytes sprinkled(size_t n, const std::vector<Signature>& sigs, std::mt19937& rng, size_t magics) {
  Bytes b(n);
  for (auto& x : b) x = static_cast<uint8_t>(rng());
  if (n == 0) return b;
  auto at = [&](size_t limit) { return static_cast<size_t>(rng() % limit); };
  for (size_t runs = at(4); runs > 0; --runs) {  // padding
    const size_t start = at(n), len = std::min(n - start, at(std::max<size_t>(n / 2, 1)) + 1);
    std::fill_n(b.begin() + static_cast<std::ptrdiff_t>(start), len, (rng() & 1) ? 0x00 : 0xff);
  }
  auto put = [&](const std::string& m, size_t pos) {
    for (size_t k = 0; k < m.size() && pos + k < n; ++k) b[pos + k] = static_cast<uint8_t>(m[k]);
  };
  for (size_t k = 0; k < magics; ++k) {
    const std::string& m = sigs[at(sigs.size())].magic;
    const size_t pos = at(n);
    put(m, pos);
    if (rng() % 4 == 0) put(sigs[at(sigs.size())].magic, pos + 1 + at(std::max<size_t>(m.size(), 1)));  // overlap
  }
  const std::string& last = sigs[at(sigs.size())].magic;
  if (last.size() <= n && rng() % 2) put(last, n - last.size());
  if (n >= 2 && rng() % 2) put(sigs[at(sigs.size())].magic.substr(0, 2), n - 2);
  return b;
}

// Small buffers of every size 0..300, several `from`s, alignments and callback policies each.
void check_small_buffers(const Matcher& m, uint32_t seed) {
  std::mt19937 rng(seed);
  const auto& sigs = m.signatures();
  for (size_t n = 0; n <= 300; ++n) {
    const Bytes data = sprinkled(n, sigs, rng, 1 + n / 24);
    for (int round = 0; round < 3; ++round) {
      const uint64_t from = round == 0 ? 0 : rng() % (n + 3);
      const Policy policy{round == 0 ? 0u : 35u, 1 + rng() % 80, rng()};
      check_paths(m, data, from, policy, rng() % 32);
    }
  }
}

std::vector<Signature> parse(const std::string& text) {
  auto r = parse_signatures(text, "test.sig");
  REQUIRE(r);
  return *r;
}

// n random magics of 2..4 bytes.
std::vector<Signature> random_magics(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::ostringstream text;
  for (size_t k = 0; k < n; ++k) {
    text << "r" << k << " v 0";
    for (size_t len = 2 + rng() % 3; len > 0; --len) {
      char hex[4];
      std::snprintf(hex, sizeof hex, " %02x", static_cast<unsigned>(rng() & 0xff));
      text << hex;
    }
    text << "\n";
  }
  return parse(text.str());
}

}  // namespace

TEST_CASE("force_scalar switches the vector path off and back") {
  {
    ScalarGuard guard(true);
    CHECK_FALSE(Matcher::simd_active());
  }
  if (!Matcher::simd_active())
    WARN("no AVX2 here (or FWCERT_NO_SIMD is set): the tests below compare the scalar path with itself");
#if defined(__x86_64__)
  const char* env = std::getenv("FWCERT_NO_SIMD");
  if (__builtin_cpu_supports("avx2") && !(env && *env && std::strcmp(env, "0") != 0)) CHECK(Matcher::simd_active());
#endif
}

TEST_CASE("a jump mid-block restarts the scan at the target, on both paths") {
  const auto sigs = parse("ab v 0 \"AB\"\nabcd v 0 \"ABCD\"\n");
  const Matcher m(sigs);
  std::string text(300, 'x');
  for (size_t pos : {10, 40, 45, 230, 298}) text.replace(pos, 2, "AB");
  text.replace(100, 4, "ABCD");  // "ABCD" (longest first) then "AB" at 100
  const Bytes data(text.begin(), text.end());
  for (bool scalar : {false, true}) {
    INFO((scalar ? "scalar" : "vector") << " path");
    const Calls got = run(m, ByteView(data.data(), data.size()), 0, Policy{}, scalar);  // no jumps: every match
    const Calls all = {{10, 0}, {40, 0}, {45, 0}, {100, 1}, {100, 0}, {230, 0}, {298, 0}};
    CHECK(difference(all, got) == "");
    // From 5: at 10, jump to 44; 40 lies in the same 64-byte block as 10 and must not be reported, 45 must.
    Calls jumped;
    ScalarGuard guard(scalar);
    m.scan(ByteView(data.data(), data.size()), 5, [&](uint64_t pos, const Signature& s) -> std::optional<uint64_t> {
      jumped.emplace_back(pos, static_cast<size_t>(&s - m.signatures().data()));
      if (pos == 10) return 44;
      if (pos == 100) return 101;    // "ABCD" answers: "AB" at 100 is not tried, 101 is next
      if (pos == 230) return 100000;  // past the end: the scan ends, 298 is not reported
      return std::nullopt;
    });
    const Calls want = {{10, 0}, {45, 0}, {100, 1}, {230, 0}};
    CHECK(difference(want, jumped) == "");
  }
}

TEST_CASE("both paths match the reference on small buffers of every size with the built-in signatures") {
  const Matcher m(builtin_signatures());
  REQUIRE(m.signatures().size() > 50);
  check_small_buffers(m, 1);
}

TEST_CASE("both paths match the reference on a few MiB of mixed data, with and without jumps") {
  const auto sigs = builtin_signatures();
  const Matcher m(sigs);
  std::mt19937 rng(7);
  // Random data with magics every few KiB, long 00 / FF padding runs, text and compressed data.
  Bytes data = fwtest::random_bytes(3 * 1024 * 1024 + 37, 11);
  auto at = [&](size_t off) { return data.begin() + static_cast<std::ptrdiff_t>(off); };
  const std::string text = "bootcmd=run bootflash; baudrate=115200 ustar  hsqs sqsh -----BEGIN CERTIFICATE-----\n";
  for (size_t off = 0; off + 64 * 1024 < data.size(); off += 700 * 1024) {
    std::fill_n(at(off + 1000), 40000 + rng() % 9, (off / (700 * 1024)) % 2 ? 0xff : 0x00);
    Bytes plain;
    for (size_t k = 0; k < 50; ++k) {
      std::copy(text.begin(), text.end(), at(off + 50000 + k * text.size()));
      fwtest::append(plain, text + std::to_string(k * off));
    }
    const Bytes z = fwtest::zlib_compress(plain);
    std::copy(z.begin(), z.end(), at(off + 60000));
  }
  for (size_t k = 0; k < 3000; ++k) {
    const std::string& mg = sigs[rng() % sigs.size()].magic;
    const size_t pos = rng() % (data.size() - mg.size());
    std::copy(mg.begin(), mg.end(), data.begin() + static_cast<std::ptrdiff_t>(pos));
  }
  const std::string& last = sigs[0].magic;
  std::copy(last.begin(), last.end(), data.end() - static_cast<std::ptrdiff_t>(last.size()));

  const Calls all = reference(sigs, data, 0, Policy{});
  std::set<size_t> found;
  for (const auto& c : all) found.insert(c.second);
  REQUIRE(found.size() == sigs.size());  // every built-in magic occurs (and is reported) somewhere
  check_paths(m, data, 0, Policy{});
  check_paths(m, data, 123457, Policy{});
  check_paths(m, data, 0, Policy{40, 5000, 3}, 3);
  check_paths(m, data, 1, Policy{90, 20, 4}, 17);
  check_paths(m, data, 0, Policy{100, 300000, 5});
}

TEST_CASE("user signature sets: padding-like prefixes, two-byte magics, shared prefixes, many random magics") {
  SECTION("a magic starting with FF FF") {
    check_small_buffers(Matcher(parse("pad v 0 ff ff 12 34\nx v 0 \"AB\"\n")), 2);
  }
  SECTION("a magic starting with 00 00") {
    check_small_buffers(Matcher(parse("zero v 0 00 00 de ad\nx v 0 \"AB\"\n")), 3);
  }
  SECTION("magics of exactly two bytes, found up to n - 2") {
    const Matcher m(parse("a v 0 c3 3c\nb v 0 3c c3\nc v 0 0f f0\n"));
    check_small_buffers(m, 4);
    Bytes data(100, 0x55);
    data[98] = 0xc3;
    data[99] = 0x3c;
    for (bool scalar : {false, true})
      CHECK(difference(Calls{{98, 0}}, run(m, ByteView(data.data(), data.size()), 0, Policy{}, scalar)) == "");
  }
  SECTION("signatures sharing a prefix are tried longest first, and a jump ends the position") {
    check_small_buffers(Matcher(parse("a v 0 \"AB\"\nb v 0 \"ABCD\"\nc v 0 \"ABC\"\nd v 0 \"ABX\"\ne v 0 \"ABCD\"\n"
                                      "f v 0 \"BCD\"\ng v 0 \"CD\"\n")),
                        5);
  }
  SECTION("prefixes alike in their nibbles (the prefilter's classes overlap)") {
    check_small_buffers(Matcher(parse("a v 0 12 34\nb v 0 21 43\nc v 0 14 32\nd v 0 32 14\ne v 0 11 33\n"
                                      "f v 0 22 44\ng v 0 13 24 99\n")),
                        6);
  }
  SECTION("16 and 17 distinct prefixes (one bucket each, then a shared one)") {
    check_small_buffers(Matcher(random_magics(16, 16)), 7);
    check_small_buffers(Matcher(random_magics(17, 17)), 8);
  }
  SECTION("40 random magics") { check_small_buffers(Matcher(random_magics(40, 40)), 9); }
  SECTION("200 random magics") { check_small_buffers(Matcher(random_magics(200, 200)), 10); }
  SECTION("no signature at all") {
    const Matcher m(std::vector<Signature>{});
    const Bytes data = fwtest::random_bytes(1000, 12);
    for (bool scalar : {false, true}) CHECK(run(m, ByteView(data.data(), data.size()), 0, Policy{}, scalar).empty());
  }
}

TEST_CASE("padding runs are skipped on both paths and magics right after them are found") {
  const Matcher m(builtin_signatures());
  for (uint8_t fill : {uint8_t{0x00}, uint8_t{0xff}}) {
    Bytes data(1 << 20, fill);
    const std::string& mg = m.signatures()[0].magic;
    for (size_t pos : {size_t{0}, size_t{63}, size_t{64}, size_t{65}, size_t{4095}, data.size() - mg.size()})
      std::copy(mg.begin(), mg.end(), data.begin() + static_cast<std::ptrdiff_t>(pos));
    check_paths(m, data, 0, Policy{});
    check_paths(m, data, 64, Policy{});
  }
}
