// Signature files as data, their binding to validators, and the one-pass matcher.
#include <catch2/catch.hpp>
#include <set>

#include "fwcert/scan/matcher.hpp"
#include "fwcert/scan/signature.hpp"
#include "fwcert/scan/walker.hpp"
#include "support.hpp"

using namespace fwcert;

TEST_CASE("the signature parser reads hex, quoted strings, escapes and comments") {
  auto r = parse_signatures(
      "# comment\n"
      "cramfs cramfs 0 45 3d cd 28  # trailing comment\n"
      "pem    pem    0 \"-----BEGIN \"\n"
      "tar    tar    0x101 \"ustar\" 00\n"
      "x      pem    0 \"a\\x00\\\"#\"\n",
      "test.sig");
  REQUIRE(r);
  REQUIRE(r->size() == 4);
  CHECK((*r)[0].magic == std::string("\x45\x3d\xcd\x28", 4));
  CHECK((*r)[1].magic == "-----BEGIN ");
  CHECK((*r)[2].at == 257);
  CHECK((*r)[2].magic == std::string("ustar\0", 6));
  CHECK((*r)[3].magic == std::string("a\0\"#", 4));
  CHECK((*r)[3].source == "test.sig:5");
}

TEST_CASE("the signature parser names the file and line of a bad definition") {
  auto bad_hex = parse_signatures("\n\ngzip gzip 0 1f 8g\n", "x.sig");
  REQUIRE_FALSE(bad_hex);
  CHECK(bad_hex.error().message.find("x.sig:3") != std::string::npos);
  CHECK_FALSE(parse_signatures("gzip gzip 0 1f\n", "x.sig"));             // one byte is too short
  CHECK_FALSE(parse_signatures("gzip gzip zero 1f 8b\n", "x.sig"));       // bad offset
  CHECK_FALSE(parse_signatures("gzip gzip 0 \"open\n", "x.sig"));         // unterminated string
  CHECK_FALSE(parse_signatures("gzip 0 1f 8b\n", "x.sig"));               // missing field (0 is taken as validator)
}

TEST_CASE("every definition binds to a validator and every validator has a definition") {
  ValidatorRegistry reg;
  register_builtin_validators(reg);
  auto sigs = load_signatures(fwtest::source_dir() + "/signatures");
  REQUIRE(sigs);
  REQUIRE_FALSE(sigs->empty());
  std::set<std::string> used;
  for (const auto& s : *sigs) {
    INFO(s.source << " names validator " << s.validator);
    CHECK(reg.find(s.validator) != nullptr);
    used.insert(s.validator);
    // The prefilter works on the first two bytes: padding-like prefixes would flood it.
    CHECK_FALSE(s.magic.substr(0, 2) == std::string("\0\0", 2));
    CHECK_FALSE(s.magic.substr(0, 2) == "\xff\xff");
  }
  for (const auto& v : reg.all()) {
    INFO("validator " << v.name);
    CHECK(used.count(v.name) == 1);
  }
}

TEST_CASE("the built-in signatures equal the signatures directory") {
  auto dir = load_signatures(fwtest::source_dir() + "/signatures");
  REQUIRE(dir);
  auto builtin = builtin_signatures();
  REQUIRE(builtin.size() == dir->size());
  for (size_t i = 0; i < builtin.size(); ++i) {
    CHECK(builtin[i].magic == (*dir)[i].magic);
    CHECK(builtin[i].validator == (*dir)[i].validator);
  }
}

TEST_CASE("a signature naming an unknown validator is refused with its source") {
  ValidatorRegistry reg;
  register_builtin_validators(reg);
  auto sigs = parse_signatures("foo nosuchvalidator 0 ab cd\n", "user.sig");
  REQUIRE(sigs);
  auto w = Walker::create(*sigs, reg);
  REQUIRE_FALSE(w);
  CHECK(w.error().message.find("user.sig:1") != std::string::npos);
}

TEST_CASE("the matcher finds every magic in one pass, in order, including overlapping ones") {
  auto sigs = parse_signatures(
      "a v 0 \"ABCD\"\n"
      "b v 0 \"AB\"\n"
      "c v 0 \"BCDE\"\n",
      "m.sig");
  REQUIRE(sigs);
  Matcher m(*sigs);
  std::string data = "xxABCDExxAByyBCDE";
  std::vector<std::pair<uint64_t, std::string>> found;
  m.scan(ByteView(data), 0, [&](uint64_t pos, const Signature& s) -> std::optional<uint64_t> {
    found.emplace_back(pos, s.type);
    return std::nullopt;
  });
  std::vector<std::pair<uint64_t, std::string>> expect = {{2, "a"}, {2, "b"}, {3, "c"}, {9, "b"}, {13, "c"}};
  CHECK(found == expect);
}

TEST_CASE("the matcher jumps when the callback says so and never reads past the end") {
  auto sigs = parse_signatures("a v 0 \"AB\"\n", "m.sig");
  REQUIRE(sigs);
  Matcher m(*sigs);
  std::string data = "ABABABAB";
  std::vector<uint64_t> found;
  m.scan(ByteView(data), 0, [&](uint64_t pos, const Signature&) -> std::optional<uint64_t> {
    found.push_back(pos);
    return pos + 4;
  });
  CHECK(found == std::vector<uint64_t>{0, 4});
  std::string tail = "xA";  // a prefix cut by the end of the buffer
  int n = 0;
  m.scan(ByteView(tail), 0, [&](uint64_t, const Signature&) -> std::optional<uint64_t> {
    ++n;
    return std::nullopt;
  });
  CHECK(n == 0);
}

TEST_CASE("a user-added magic bound to an existing validator works without recompiling") {
  ValidatorRegistry reg;
  register_builtin_validators(reg);
  // A vendor that stores its CramFS superblock behind a 4-byte tag "VND!" would add a line like this one.
  auto sigs = parse_signatures("cramfs cramfs 0 45 3d cd 28\n", "user.sig");
  REQUIRE(sigs);
  auto w = Walker::create(*sigs, reg);
  REQUIRE(w);
  auto img = fwtest::make_cramfs({{"a.txt", fwtest::Bytes(100, 'a')}}, false);
  fwtest::Bytes data(3000, 0x5a);
  fwtest::append(data, img);
  auto r = (*w)->walk(ByteView(data.data(), data.size()));
  REQUIRE(r.hits.size() == 1);
  CHECK(r.hits[0].offset == 3000);
  CHECK(r.hits[0].type == "cramfs");
}

TEST_CASE("the matcher skips 00/FF padding quickly but still finds a user magic that starts with FF FF") {
  auto sigs = parse_signatures("pad v 0 ff ff 12 34\nx v 0 \"AB\"\n", "m.sig");
  REQUIRE(sigs);
  Matcher m(*sigs);
  std::string data(4096, '\xff');
  data.replace(1000, 2, "AB");
  data.replace(2001, 2, "\x12\x34");  // preceded by ff ff: the user magic ff ff 12 34 starts at 1999
  std::vector<std::pair<uint64_t, std::string>> found;
  m.scan(ByteView(data), 0, [&](uint64_t pos, const Signature& s) -> std::optional<uint64_t> {
    found.emplace_back(pos, s.type);
    return std::nullopt;
  });
  std::vector<std::pair<uint64_t, std::string>> expect = {{1000, "x"}, {1999, "pad"}};
  CHECK(found == expect);
  // Without a padding magic, the same buffer with zeros finds just the text.
  auto plain = parse_signatures("x v 0 \"AB\"\n", "m.sig");
  Matcher m2(*plain);
  std::string zeros(4096, '\0');
  zeros.replace(4001, 2, "AB");
  std::vector<uint64_t> hits;
  m2.scan(ByteView(zeros), 0, [&](uint64_t pos, const Signature&) -> std::optional<uint64_t> {
    hits.push_back(pos);
    return std::nullopt;
  });
  CHECK(hits == std::vector<uint64_t>{4001});
}
