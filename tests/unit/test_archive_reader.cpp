// libarchive-backed readers: archives (read_archive) and single compressed streams (read_stream).
// Fixtures are written in code with libarchive's write API, zlib, libbz2, liblzma and libzstd; real files come from
// the corpus (skipped when absent).
#include <archive.h>
#include <archive_entry.h>
#include <bzlib.h>
#include <lzma.h>
#include <openssl/evp.h>
#include <zstd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <random>

#include "fwcert/extract/readers.hpp"
#include "support.hpp"

using namespace fwcert;
using fwtest::Bytes;

namespace {

// ---- Fixture writers -------------------------------------------------------------------------------------------

struct Member {
  // mtime is even: zip's DOS time has 2-second resolution.
  Member(std::string p, uint32_t m = 0100644, std::string c = "", std::string sym = "", std::string hard = "",
         uint32_t u = 1000, uint32_t g = 100, int64_t t = 1594976572, uint32_t major = 0, uint32_t minor = 0)
      : path(std::move(p)), mode(m), content(std::move(c)), symlink(std::move(sym)), hardlink(std::move(hard)),
        uid(u), gid(g), mtime(t), rdev_major(major), rdev_minor(minor) {}
  std::string path;
  uint32_t mode;  // full st_mode
  std::string content;
  std::string symlink;
  std::string hardlink;
  uint32_t uid, gid;
  int64_t mtime;
  uint32_t rdev_major, rdev_minor;
};

struct WriteDeleter {
  void operator()(archive* a) const { archive_write_free(a); }
};

la_ssize_t append_cb(archive*, void* client, const void* buf, size_t n) {
  try {
    auto* out = static_cast<Bytes*>(client);
    const auto* p = static_cast<const uint8_t*>(buf);
    out->insert(out->end(), p, p + n);
    return static_cast<la_ssize_t>(n);
  } catch (...) {
    return -1;
  }
}

// Writes members with libarchive in `format` (e.g. "zip", "ustar", "pax", "gnutar", "newc", "odc", "bin", "7zip",
// "arsvr4"), optional filter ("gzip", "xz", ...) and format options.
Bytes write_archive(const std::string& format, const std::vector<Member>& members, const std::string& filter = "",
                    const std::string& options = "", const char* passphrase = nullptr,
                    uint64_t zero_file_bytes = 0) {
  std::unique_ptr<archive, WriteDeleter> a(archive_write_new());
  int r = ARCHIVE_FATAL;
  if (format == "bin") r = archive_write_set_format_cpio_bin(a.get());
  else if (format == "odc") r = archive_write_set_format_cpio_odc(a.get());
  else if (format == "newc") r = archive_write_set_format_cpio_newc(a.get());
  else if (format == "arsvr4") r = archive_write_set_format_ar_svr4(a.get());
  else if (format == "arbsd") r = archive_write_set_format_ar_bsd(a.get());
  else if (format == "raw") r = archive_write_set_format_raw(a.get());
  else if (format == "zip") r = archive_write_set_format_zip(a.get());
  else if (format == "ustar") r = archive_write_set_format_ustar(a.get());
  else if (format == "pax") r = archive_write_set_format_pax(a.get());
  else if (format == "gnutar") r = archive_write_set_format_gnutar(a.get());
  else if (format == "7zip") r = archive_write_set_format_7zip(a.get());
  else if (format == "iso9660") r = archive_write_set_format_iso9660(a.get());
  // Not archive_write_set_format_by_name: it links every writer, xar's too, which needs libxml2 (the static
  // libarchive.a is linked without it).
  INFO("format " << format);
  REQUIRE(r == ARCHIVE_OK);
  if (!filter.empty()) REQUIRE(archive_write_add_filter_by_name(a.get(), filter.c_str()) == ARCHIVE_OK);
  if (!options.empty()) REQUIRE(archive_write_set_options(a.get(), options.c_str()) == ARCHIVE_OK);
  if (passphrase) REQUIRE(archive_write_set_passphrase(a.get(), passphrase) == ARCHIVE_OK);
  archive_write_set_bytes_in_last_block(a.get(), 1);
  Bytes out;
  REQUIRE(archive_write_open(a.get(), &out, nullptr, append_cb, nullptr) == ARCHIVE_OK);
  // Inode numbers and link counts: cpio identifies hard links by them, not by a link name.
  std::map<std::string, std::pair<int64_t, unsigned>> inodes;
  for (size_t i = 0; i < members.size(); ++i) inodes[members[i].path] = {static_cast<int64_t>(i + 1), 1};
  for (const Member& m : members)
    if (!m.hardlink.empty() && inodes.count(m.hardlink)) {
      inodes[m.path] = inodes[m.hardlink];
      ++inodes[m.hardlink].second;
    }
  for (const Member& m : members) {
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(), archive_entry_free);
    archive_entry_set_pathname(e.get(), m.path.c_str());
    archive_entry_set_mode(e.get(), m.mode);
    archive_entry_set_uid(e.get(), m.uid);
    archive_entry_set_gid(e.get(), m.gid);
    archive_entry_set_mtime(e.get(), m.mtime, 0);
    archive_entry_set_ino64(e.get(), inodes[m.path].first);
    archive_entry_set_nlink(e.get(), inodes[m.hardlink.empty() ? m.path : m.hardlink].second);
    if (!m.symlink.empty()) archive_entry_set_symlink(e.get(), m.symlink.c_str());
    if (!m.hardlink.empty()) archive_entry_set_hardlink(e.get(), m.hardlink.c_str());
    if ((m.mode & 0170000) == 0020000 || (m.mode & 0170000) == 0060000) {
      archive_entry_set_rdevmajor(e.get(), m.rdev_major);
      archive_entry_set_rdevminor(e.get(), m.rdev_minor);
    }
    bool regular = (m.mode & 0170000) == 0100000 && m.hardlink.empty();
    uint64_t size = regular ? (zero_file_bytes && m.content.empty() ? zero_file_bytes : m.content.size()) : 0;
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(size));
    int hr = archive_write_header(a.get(), e.get());
    INFO(format << " " << m.path << ": " << (archive_error_string(a.get()) ? archive_error_string(a.get()) : ""));
    REQUIRE(hr >= ARCHIVE_WARN);
    if (!regular) continue;
    if (!m.content.empty()) {
      REQUIRE(archive_write_data(a.get(), m.content.data(), m.content.size()) ==
              static_cast<la_ssize_t>(m.content.size()));
    } else if (zero_file_bytes) {
      std::vector<uint8_t> zeros(1 << 20);
      for (uint64_t done = 0; done < zero_file_bytes; done += zeros.size())
        REQUIRE(archive_write_data(a.get(), zeros.data(), zeros.size()) > 0);
    }
  }
  REQUIRE(archive_write_close(a.get()) == ARCHIVE_OK);
  return out;
}

ByteView view_of(const Bytes& b, uint64_t base = 0) { return ByteView(b.data(), b.size(), base); }
std::string text_of(const Entry& e) {
  ByteView c = e.content();
  return std::string(c.as_string_view());
}
bool is_big_text(const Entry& e);
const Entry* find(const ExtractResult& r, const std::string& path) {
  for (const Entry& e : r.entries)
    if (e.path == path) return &e;
  return nullptr;
}
bool any_diag(const std::vector<Diagnostic>& ds, const std::string& needle) {
  for (const Diagnostic& d : ds)
    if (d.message.find(needle) != std::string::npos) return true;
  return false;
}
bool reports_trouble(const ExtractResult& r) {
  if (!r.diagnostics.empty() || r.limited) return true;
  for (const Entry& e : r.entries)
    if (!e.complete || !e.diagnostics.empty()) return true;
  return false;
}
std::string md5_hex(ByteView v) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  REQUIRE(EVP_Digest(v.data(), v.size(), md, &len, EVP_md5(), nullptr) == 1);
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < len; ++i) {
    s += digits[md[i] >> 4];
    s += digits[md[i] & 15];
  }
  return s;
}

const std::string kBigText = [] {
  std::string s;
  for (int i = 0; i < 5000; ++i) s += "line " + std::to_string(i) + " of a moderately compressible file\n";
  return s;
}();
bool is_big_text(const Entry& e) { return text_of(e) == kBigText; }

std::vector<Member> standard_members() {
  std::vector<Member> m;
  m.push_back({"etc", 040755, "", "", "", 0, 0});
  m.push_back({"etc/hello.txt", 0100644, "hello, world\n", "", "", 1000, 100});
  m.push_back({"etc/big.txt", 0100600, kBigText, "", "", 1001, 101});
  m.push_back({"usr/bin/su", 0104755, "#!/bin/sh\necho root\n", "", "", 0, 0});
  m.push_back({"etc/link", 0120777, "", "hello.txt", "", 0, 0});
  return m;
}

struct FormatCase {
  FormatCase(std::string f, bool i = true, bool implied = false, std::string o = "")
      : format(std::move(f)), ids(i), implied_dirs(implied), options(std::move(o)) {}
  std::string format;
  bool ids;           // keeps uid/gid
  bool implied_dirs;  // the writer adds the parent directories itself (iso9660)
  std::string options;
};

}  // namespace

// ---- Round trips -----------------------------------------------------------------------------------------------

TEST_CASE("archive reader: every field round-trips through libarchive-written archives") {
  std::vector<FormatCase> cases = {
      {"zip"}, {"ustar"}, {"pax"}, {"gnutar"}, {"newc"}, {"odc"}, {"bin"}, {"7zip", false},
      // Rock Ridge "useful" (the default) normalises permissions; "strict" keeps them.
      {"iso9660", true, true, "iso9660:rockridge=strict"},
  };
  for (const FormatCase& fc : cases) {
    SECTION(fc.format) {
      std::vector<Member> members = standard_members();
      Bytes bytes = write_archive(fc.format, members, "", fc.options);
      Budget budget;
      ExtractResult r = read_archive(view_of(bytes, 0x1000), budget);
      INFO("format " << fc.format);
      for (const Diagnostic& d : r.diagnostics) INFO("diag: " << d.message);
      CHECK(r.diagnostics.empty());
      CHECK_FALSE(r.limited);
      if (fc.implied_dirs) {
        REQUIRE(r.entries.size() >= members.size());
        for (const Entry& e : r.entries)
          if (e.path == "usr" || e.path == "usr/" || e.path == "usr/bin" || e.path == "usr/bin/")
            CHECK(e.kind == EntryKind::Directory);
      } else {
        REQUIRE(r.entries.size() == members.size());
      }
      CHECK(budget.used_entries() == r.entries.size());
      for (const Member& m : members) {
        INFO("member " << m.path);
        const Entry* e = find(r, m.path);
        if (!e && (m.mode & 0170000) == 040000) e = find(r, m.path + "/");
        REQUIRE(e != nullptr);
        CHECK(e->mode == m.mode);
        CHECK(e->kind == kind_from_mode(m.mode));
        CHECK(e->mtime == m.mtime);
        CHECK(e->complete);
        CHECK_FALSE(e->encrypted);
        if (fc.ids) {
          CHECK(e->uid == m.uid);
          CHECK(e->gid == m.gid);
        }
        CHECK(e->link_target == m.symlink);
        if (e->kind == EntryKind::File) {
          CHECK(e->size == m.content.size());
          CHECK(text_of(*e) == m.content);
        } else {
          CHECK(e->content().empty());
        }
      }
      CHECK((find(r, "usr/bin/su")->mode & 04000) != 0);
      CHECK(budget.used_bytes() == kBigText.size() + 13 + 20);
    }
  }
}

TEST_CASE("archive reader: ar members and a filtered tar (tar.gz, cpio.xz)") {
  for (std::string format : {"arsvr4", "arbsd"}) SECTION(format) {
    // GNU/SVR4 ar needs a "//" name table for names over 15 bytes; BSD ar stores them inline ("#1/20").
    std::string long_name = format == "arbsd" ? "a_long_member_name.o" : "member.o";
    std::vector<Member> members = {{"hello.txt", 0100644, "hello\n", "", "", 1000, 100},
                                   {long_name, 0100755, kBigText, "", "", 0, 0}};
    Bytes bytes = write_archive(format, members);
    Budget budget;
    ExtractResult r = read_archive(view_of(bytes), budget);
    CHECK(r.diagnostics.empty());
    REQUIRE(r.entries.size() == 2);
    CHECK(r.entries[0].path == "hello.txt");
    CHECK(text_of(r.entries[0]) == "hello\n");
    CHECK(r.entries[0].uid == 1000);
    CHECK(r.entries[0].gid == 100);
    CHECK(r.entries[0].mtime == 1594976572);
    CHECK(r.entries[1].path == long_name);
    CHECK(r.entries[1].mode == 0100755);
    CHECK(is_big_text(r.entries[1]));
  }
  for (std::string filter : {"gzip", "xz", "bzip2", "zstd"}) {
    SECTION("ustar + " + filter) {
      Bytes bytes = write_archive("ustar", standard_members(), filter);
      Budget budget;
      ExtractResult r = read_archive(view_of(bytes, 500), budget);
      CHECK(r.diagnostics.empty());
      REQUIRE(r.entries.size() == 5);
      CHECK(is_big_text(*find(r, "etc/big.txt")));
      // Offsets inside a filtered stream are not image offsets: they fall back to the container's start.
      for (const Entry& e : r.entries)
        for (const Diagnostic& d : e.diagnostics) CHECK(d.offset == 500);
    }
  }
}

TEST_CASE("archive reader: devices, hard links and hostile names are returned verbatim") {
  std::vector<Member> members = {
      {"../../etc/passwd", 0100644, "root:x:0:0\n"},
      {"/abs/path", 0100644, "absolute\n"},
      {"dev/console", 020600, "", "", "", 0, 0, 1594976572, 5, 1},
      {"dev/sda", 060660, "", "", "", 0, 6, 1594976572, 8, 0},
      {"hard", 0100644, "", "", "/abs/path"},
      {"evil_link", 0120777, "", "../../../../etc/shadow"},
  };
  for (std::string format : {"pax", "newc", "gnutar"}) {
    SECTION(format) {
      Bytes bytes = write_archive(format, members);
      Budget budget;
      ExtractResult r = read_archive(view_of(bytes), budget);
      REQUIRE(r.entries.size() == members.size());
      CHECK(r.entries[0].path == "../../etc/passwd");
      CHECK(text_of(r.entries[0]) == "root:x:0:0\n");
      CHECK(r.entries[1].path == "/abs/path");
      const Entry* con = find(r, "dev/console");
      REQUIRE(con);
      CHECK(con->kind == EntryKind::CharDevice);
      CHECK(con->rdev_major == 5);
      CHECK(con->rdev_minor == 1);
      const Entry* sda = find(r, "dev/sda");
      REQUIRE(sda);
      CHECK(sda->kind == EntryKind::BlockDevice);
      CHECK(sda->rdev_major == 8);
      CHECK(sda->gid == 6);
      const Entry* hard = find(r, "hard");
      REQUIRE(hard);
      CHECK(hard->kind == EntryKind::File);
      CHECK(hard->link_target == "/abs/path");
      CHECK(any_diag(hard->diagnostics, "hard link to /abs/path"));
      // A hard link has its target's content (tar: stored with the first name; cpio: with the last one).
      CHECK(text_of(*hard) == "absolute\n");
      CHECK(text_of(r.entries[1]) == "absolute\n");
      CHECK(find(r, "evil_link")->link_target == "../../../../etc/shadow");
    }
  }
}

TEST_CASE("archive reader: hard links resolve whatever the root spelling, chains too, and never to a later member") {
  std::vector<Member> members = {
      {"./etc/ssl/real.crt", 0100644, "CERT\n"},
      {"etc/stunnel/server.crt", 0100644, "", "", "etc/ssl/real.crt"},
      {"etc/stunnel/again.crt", 0100644, "", "", "/etc/stunnel/server.crt"},
      {"etc/early", 0100644, "", "", "etc/late"},
      {"etc/late", 0100644, "late\n"},
  };
  Bytes bytes = write_archive("gnutar", members);
  Budget budget;
  ExtractResult r = read_archive(view_of(bytes), budget);
  REQUIRE(r.entries.size() == members.size());
  CHECK(text_of(r.entries[1]) == "CERT\n");
  CHECK(text_of(r.entries[2]) == "CERT\n");
  CHECK(text_of(r.entries[3]).empty());
  CHECK(any_diag(r.entries[3].diagnostics, "is not an earlier member"));
  // The shared bytes count against the output limit (every name is walked again): a limit leaves a link empty.
  ExtractLimits tight;
  tight.max_total_bytes = 12;
  Budget small(tight);
  ExtractResult cut = read_archive(view_of(bytes), small);
  REQUIRE(cut.entries.size() >= 3);
  CHECK(text_of(cut.entries[1]) == "CERT\n");
  CHECK(text_of(cut.entries[2]).empty());
  CHECK(any_diag(cut.entries[2].diagnostics, "left empty"));
}

TEST_CASE("archive reader: streaming hands each member to the visitor and keeps only what it asks for") {
  // A scan keeps what has something inside; holding every member made memory follow the decompressed total
  // (2.5 GB for a 2.9 MB zip of zero-filled members).
  std::vector<Member> members;
  for (int i = 0; i < 20; ++i) members.push_back({"zero" + std::to_string(i) + ".bin"});
  members.push_back({"etc/keep.conf", 0100644, "cert = /etc/x.crt\n"});
  Bytes bytes = write_archive("zip", members, "", "", nullptr, uint64_t{1} << 20);
  Budget budget;
  std::vector<std::pair<size_t, size_t>> seen;  // entry index, content size
  MemberVisitor visit = [&](size_t k, const Entry& e, ByteView content) {
    seen.emplace_back(k, content.size());
    return e.path == "etc/keep.conf";
  };
  ExtractResult r = read_archive(view_of(bytes), budget, visit);
  REQUIRE(r.entries.size() == members.size());
  REQUIRE(seen.size() == members.size());
  for (size_t k = 0; k < 20; ++k) {
    CHECK(seen[k].first == k);
    CHECK(seen[k].second == (size_t{1} << 20));
    CHECK(r.entries[k].content().empty());
    CHECK(r.entries[k].unkept_size == (uint64_t{1} << 20));
  }
  CHECK(text_of(r.entries[20]) == "cert = /etc/x.crt\n");
  CHECK(r.entries[20].unkept_size == 0);
  CHECK(budget.used_bytes() >= 20 * (uint64_t{1} << 20));  // the limits still count what was decompressed
}

TEST_CASE("archive reader: a reader that fails (out of memory) says the archive was not read to its end") {
  Bytes bytes = write_archive("zip", standard_members());
  Budget budget;
  MemberVisitor visit = [](size_t, const Entry&, ByteView) -> bool { throw std::bad_alloc(); };
  ExtractResult r = read_archive(view_of(bytes), budget, visit);
  CHECK(r.failed);
  CHECK(any_diag(r.diagnostics, "archive reader failed"));
  ExtractResult fine = read_archive(view_of(bytes), budget);
  CHECK_FALSE(fine.failed);
}

// ---- Damage ----------------------------------------------------------------------------------------------------

TEST_CASE("archive reader: truncated and bit-flipped archives never crash or hang") {
  std::vector<std::pair<std::string, std::string>> kinds = {{"zip", ""},   {"ustar", ""}, {"gnutar", ""},
                                                            {"newc", ""},  {"odc", ""},   {"bin", ""},
                                                            {"7zip", ""},  {"pax", "gzip"}, {"newc", "xz"}};
  for (const auto& [format, filter] : kinds) {
    std::vector<Member> members = standard_members();
    Bytes good = write_archive(format, members, filter);
    INFO("format " << format << " filter " << filter << " size " << good.size());
    // Truncations: every cut through the archive (steps keep the count reasonable).
    size_t step = std::max<size_t>(1, good.size() / 97);
    int reported = 0, cuts = 0;
    for (size_t cut = 0; cut < good.size(); cut += step) {
      Bytes part(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
      Budget budget;
      ExtractResult r = read_archive(view_of(part), budget);
      CHECK(budget.used_bytes() <= kBigText.size() + 64);
      CHECK(r.entries.size() <= members.size());
      ++cuts;
      if (reports_trouble(r)) ++reported;
    }
    // Dropping bytes must show: nearly every cut has a diagnostic or an incomplete entry (a cut in trailing padding
    // may legitimately read clean).
    CHECK(reported >= cuts * 8 / 10);
    // Bit flips with fixed seeds.
    std::mt19937 rng(0xC0FFEE ^ static_cast<uint32_t>(good.size()));
    for (int variant = 0; variant < 150; ++variant) {
      Bytes bad = good;
      int flips = 1 + variant % 8;
      for (int f = 0; f < flips; ++f) bad[rng() % bad.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
      Budget budget;
      ExtractResult r = read_archive(view_of(bad), budget);
      CHECK(r.entries.size() <= 64);
      for (const Entry& e : r.entries) CHECK(e.content().size() <= budget.allowance(bad.size()) + kBigText.size());
    }
  }
  // Random junk is no archive.
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    Bytes junk = fwtest::random_bytes(4096, seed);
    Budget budget;
    ExtractResult r = read_archive(view_of(junk, 77), budget);
    CHECK(r.entries.empty());
    REQUIRE_FALSE(r.diagnostics.empty());
    CHECK(r.diagnostics[0].offset == 77);
  }
  Budget budget;
  CHECK_FALSE(read_archive(ByteView(), budget).diagnostics.empty());
  // "Never hang" is bounded by the work asserted above (every read within its budget), not by the wall clock: a
  // loaded machine must not turn this test red. ctest's timeout catches a real hang.
}

TEST_CASE("archive reader: a corrupt entry header in the middle is reported with its offset") {
  Bytes bytes = write_archive("ustar", standard_members());
  // Third header (after etc/ and etc/hello.txt = 512 + 512 + 512): break its checksum field.
  Bytes bad = bytes;
  size_t third = 512 * 3;
  REQUIRE(bad.size() > third + 512);
  std::memcpy(&bad[third + 148], "7777777", 7);
  Budget budget;
  ExtractResult r = read_archive(view_of(bad, 0x10000), budget);
  CHECK(find(r, "etc/hello.txt") != nullptr);
  bool found = false;
  for (const Diagnostic& d : r.diagnostics)
    if (d.offset == 0x10000 + third) found = true;
  CHECK(found);
}

// ---- Limits ----------------------------------------------------------------------------------------------------

TEST_CASE("archive reader: a zip bomb stops at the cap") {
  const uint64_t zeros = uint64_t{200} << 20;
  std::vector<Member> members = {{"bomb.bin", 0100644, ""}, {"after.txt", 0100644, "still here\n"}};
  Bytes bomb = write_archive("zip", members, "", "", nullptr, zeros);
  REQUIRE(bomb.size() < (uint64_t{1} << 20));
  SECTION("per-file limit") {
    ExtractLimits limits;
    limits.max_file_bytes = 4 << 20;
    Budget budget(limits);
    ExtractResult r = read_archive(view_of(bomb), budget);
    CHECK(r.limited);
    REQUIRE(r.entries.size() == 2);
    CHECK(r.entries[0].size == zeros);
    CHECK(r.entries[0].content().size() == limits.max_file_bytes);
    CHECK_FALSE(r.entries[0].complete);
    CHECK(any_diag(r.entries[0].diagnostics, "per-file limit"));
    CHECK(text_of(r.entries[1]) == "still here\n");  // the archive continues after a capped entry
    CHECK(budget.used_bytes() == limits.max_file_bytes + 11);
  }
  SECTION("ratio limit") {
    ExtractLimits limits;
    limits.max_ratio = 10;
    Budget budget(limits);
    ExtractResult r = read_archive(view_of(bomb), budget);
    CHECK(r.limited);
    REQUIRE_FALSE(r.entries.empty());
    CHECK(r.entries[0].content().size() == std::max<uint64_t>(1 << 20, bomb.size() * 10));
    CHECK(any_diag(r.entries[0].diagnostics, "compression ratio limit"));
  }
  SECTION("total limit stops the archive") {
    ExtractLimits limits;
    limits.max_total_bytes = 3 << 20;
    Budget budget(limits);
    ExtractResult r = read_archive(view_of(bomb), budget);
    CHECK(r.limited);
    CHECK(budget.used_bytes() == limits.max_total_bytes);
    REQUIRE(r.entries.size() == 1);
    CHECK(any_diag(r.diagnostics, "total output limit"));
  }
  SECTION("entry limit") {
    ExtractLimits limits;
    limits.max_entries = 1;
    limits.max_file_bytes = 1 << 20;
    Budget budget(limits);
    ExtractResult r = read_archive(view_of(bomb), budget);
    CHECK(r.limited);
    CHECK(r.entries.size() == 1);
    CHECK(any_diag(r.diagnostics, "entry limit"));
  }
}

TEST_CASE("archive reader: a tar.gz bomb is bounded by the archive's ratio cap") {
  const uint64_t zeros = uint64_t{200} << 20;
  Bytes bomb = write_archive("ustar", {{"bomb.bin", 0100644, ""}, {"after.txt", 0100644, "x"}}, "gzip", "", nullptr,
                             zeros);
  ExtractLimits limits;
  limits.max_file_bytes = 1 << 20;
  limits.max_ratio = 50;
  Budget budget(limits);
  ExtractResult r = read_archive(view_of(bomb), budget);
  CHECK(r.limited);
  REQUIRE_FALSE(r.entries.empty());
  CHECK(r.entries[0].content().size() == limits.max_file_bytes);
  CHECK(any_diag(r.diagnostics, "compression ratio limit for the archive"));
}

// ---- Encryption ------------------------------------------------------------------------------------------------

TEST_CASE("archive reader: encrypted entries are listed, not fatal") {
  SECTION("synthetic zipcrypt zip with a plain member after it") {
    std::vector<Member> secret = {{"secret.txt", 0100644, "top secret\n"}};
    Bytes enc = write_archive("zip", secret, "", "zip:encryption=zipcrypt", "pw");
    Budget budget;
    ExtractResult r = read_archive(view_of(enc), budget);
    REQUIRE(r.entries.size() == 1);
    CHECK(r.entries[0].encrypted);
    CHECK_FALSE(r.entries[0].complete);
    CHECK(r.entries[0].content().empty());
    CHECK(any_diag(r.entries[0].diagnostics, "encrypted"));
  }
  SECTION("corpus: FACT test_password.zip") {
    auto path =
        fwtest::corpus_file("fact_extractor/fact_extractor/plugins/unpacking/sevenz/test/data/test_password.zip");
    if (!path) return;
    Bytes bytes = fwtest::read_file(*path);
    Budget budget;
    ExtractResult r = read_archive(view_of(bytes), budget);
    REQUIRE(r.entries.size() == 5);
    int encrypted = 0;
    for (const Entry& e : r.entries) {
      if (e.kind != EntryKind::File) continue;
      CHECK(e.encrypted);
      CHECK(e.content().empty());
      ++encrypted;
    }
    CHECK(encrypted == 3);
    CHECK(find(r, "get_files_test/generic folder/test file 3_.txt") != nullptr);
  }
}

// ---- Streams ---------------------------------------------------------------------------------------------------

namespace {

Bytes bzip2_of(const std::string& s) {
  Bytes out(s.size() + s.size() / 100 + 700);
  unsigned len = static_cast<unsigned>(out.size());
  REQUIRE(BZ2_bzBuffToBuffCompress(reinterpret_cast<char*>(out.data()), &len, const_cast<char*>(s.data()),
                                   static_cast<unsigned>(s.size()), 9, 0, 0) == BZ_OK);
  out.resize(len);
  return out;
}
Bytes xz_of(const std::string& s) {
  Bytes out(s.size() + 1024);
  size_t pos = 0;
  REQUIRE(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, nullptr, reinterpret_cast<const uint8_t*>(s.data()), s.size(),
                                  out.data(), &pos, out.size()) == LZMA_OK);
  out.resize(pos);
  return out;
}
Bytes lzma_alone_of(const std::string& s) {
  lzma_stream z = LZMA_STREAM_INIT;
  lzma_options_lzma opt;
  lzma_lzma_preset(&opt, 6);
  REQUIRE(lzma_alone_encoder(&z, &opt) == LZMA_OK);
  Bytes out(s.size() + 1024);
  z.next_in = reinterpret_cast<const uint8_t*>(s.data());
  z.avail_in = s.size();
  z.next_out = out.data();
  z.avail_out = out.size();
  lzma_ret r = lzma_code(&z, LZMA_FINISH);
  out.resize(out.size() - z.avail_out);
  lzma_end(&z);
  REQUIRE(r == LZMA_STREAM_END);
  return out;
}
Bytes zstd_of(const std::string& s) {
  Bytes out(ZSTD_compressBound(s.size()));
  std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
  ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 1);  // so that damage is detectable
  size_t n = ZSTD_compress2(cctx.get(), out.data(), out.size(), s.data(), s.size());
  REQUIRE_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}
Bytes lz4_of(const std::string& s) {
  return write_archive("raw", {{"data", 0100644, s}}, "lz4");
}
Bytes compress(const std::string& format, const std::string& s) {
  if (format == "gzip") return fwtest::gzip_compress(Bytes(s.begin(), s.end()));
  if (format == "bzip2") return bzip2_of(s);
  if (format == "xz") return xz_of(s);
  if (format == "lzma") return lzma_alone_of(s);
  if (format == "zstd") return zstd_of(s);
  return lz4_of(s);
}

}  // namespace

TEST_CASE("stream reader: every format decodes, ignores trailing bytes and reports truncation") {
  for (std::string format : {"gzip", "bzip2", "xz", "lzma", "zstd", "lz4"}) {
    SECTION(format) {
      Bytes good = compress(format, kBigText);
      {
        Budget budget;
        ExtractResult r = read_stream(view_of(good, 4096), format, budget);
        REQUIRE(r.entries.size() == 1);
        const Entry& e = r.entries[0];
        CHECK(e.path.empty());
        CHECK(e.kind == EntryKind::File);
        CHECK(e.complete);
        CHECK(e.diagnostics.empty());
        CHECK(is_big_text(e));
        CHECK(e.size == kBigText.size());
        CHECK(budget.used_bytes() == kBigText.size());
        CHECK(budget.used_entries() == 1);
      }
      if (format != "lz4") {  // libarchive's lz4 reader cannot tell where the frame ended
        Bytes trailing = good;
        fwtest::append(trailing, fwtest::random_bytes(300, 9));
        Budget budget;
        ExtractResult r = read_stream(view_of(trailing, 4096), format, budget);
        REQUIRE(r.entries.size() == 1);
        CHECK(is_big_text(r.entries[0]));
        CHECK(r.entries[0].complete);
        REQUIRE(r.entries[0].diagnostics.size() == 1);
        CHECK(r.entries[0].diagnostics[0].offset == 4096 + good.size());
        CHECK(any_diag(r.entries[0].diagnostics, "300 bytes after the end"));
      }
      for (size_t cut : {good.size() / 4, good.size() / 2, good.size() - 5}) {
        Bytes part(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
        Budget budget;
        ExtractResult r = read_stream(view_of(part), format, budget);
        INFO("cut at " << cut);
        REQUIRE(r.entries.size() == 1);
        CHECK_FALSE(r.entries[0].complete);
        std::string got = text_of(r.entries[0]);
        CHECK(got.size() <= kBigText.size());
        CHECK(kBigText.compare(0, got.size(), got) == 0);  // what was decoded is a correct prefix
        CHECK((any_diag(r.entries[0].diagnostics, "truncated") || any_diag(r.entries[0].diagnostics, "damaged")));
      }
      // Bit flips: never crash; damage is reported or the output is still right.
      std::mt19937 rng(42);
      for (int v = 0; v < 100; ++v) {
        Bytes bad = good;
        bad[rng() % bad.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
        Budget budget;
        ExtractResult r = read_stream(view_of(bad), format, budget);
        REQUIRE(r.entries.size() == 1);
        // (.lzma and lz4 frames without a content checksum cannot notice every flip.)
        if (r.entries[0].complete && r.entries[0].diagnostics.empty() && format != "lz4" && format != "lzma")
          CHECK(is_big_text(r.entries[0]));
      }
    }
  }
  {
    // A .lzma header asking for a 4 GiB dictionary: refused by the memory limit, not allocated.
    Bytes huge = {0x5d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0x11, 0x22};
    Budget budget;
    ExtractResult r = read_stream(view_of(huge), "lzma", budget);
    REQUIRE(r.entries.size() == 1);
    CHECK_FALSE(r.entries[0].complete);
    CHECK(any_diag(r.entries[0].diagnostics, "memory limit"));
  }
  Budget budget;
  ExtractResult r = read_stream(view_of(fwtest::random_bytes(100, 3)), "rar", budget);
  CHECK(r.entries.empty());
  CHECK(any_diag(r.diagnostics, "unknown stream format"));
}

TEST_CASE("stream reader: bombs stop at the cap") {
  std::string zeros(64 << 20, '\0');
  for (std::string format : {"gzip", "zstd", "xz", "bzip2"}) {
    SECTION(format) {
      Bytes bomb = compress(format, zeros);
      ExtractLimits limits;
      limits.max_file_bytes = 2 << 20;
      Budget budget(limits);
      // bzip2 squeezes 64 MiB of zeros into ~100 bytes: the ratio limit (floor 1 MiB) comes first there.
      const uint64_t expected = budget.allowance(bomb.size());
      CHECK(expected <= limits.max_file_bytes);
      ExtractResult r = read_stream(view_of(bomb), format, budget);
      CHECK(r.limited);
      REQUIRE(r.entries.size() == 1);
      CHECK(r.entries[0].content().size() == expected);
      CHECK_FALSE(r.entries[0].complete);
      CHECK(any_diag(r.entries[0].diagnostics, expected == limits.max_file_bytes ? "per-file limit" : "ratio limit"));
      CHECK(budget.used_bytes() == expected);
    }
  }
}

// ---- Corpus ----------------------------------------------------------------------------------------------------

namespace {
std::optional<Bytes> corpus(const std::string& rel) {
  auto path = fwtest::corpus_file(rel);
  if (!path) return std::nullopt;
  return fwtest::read_file(*path);
}
}  // namespace

TEST_CASE("corpus: binwalk dirtraversal.tar lists every member verbatim") {
  auto bytes = corpus("binwalk/v2.3.4/testing/tests/input-vectors/dirtraversal.tar");
  if (!bytes) return;
  Budget budget;
  ExtractResult r = read_archive(view_of(*bytes), budget);
  CHECK(r.diagnostics.empty());
  REQUIRE(r.entries.size() == 11);
  CHECK(find(r, "bar")->link_target == "/etc/passwd");
  CHECK(find(r, "foo")->link_target == "../../");
  CHECK(find(r, "subdir/foo2")->link_target == "../../../../");
  CHECK(find(r, "subdir/bar2")->link_target == "/etc/shadow");
  CHECK(find(r, "ls")->content().size() == 133792);
  CHECK(text_of(*find(r, "README.txt")).size() == 19);
  CHECK(find(r, "subdir/")->kind == EntryKind::Directory);
}

TEST_CASE("corpus: libarchive's recursive gzip terminates under the caps") {
  auto bytes = corpus("libarchive/decoded/test_read_filter_gzip_recursive.gz");
  if (!bytes) return;
  ExtractLimits limits;
  limits.max_total_bytes = 64 << 20;
  Budget b1(limits);
  ExtractResult a = read_archive(view_of(*bytes), b1);
  CHECK(b1.used_bytes() <= limits.max_total_bytes);
  Budget b2(limits);
  ExtractResult s = read_stream(view_of(*bytes), "gzip", b2);
  REQUIRE(s.entries.size() == 1);
  CHECK(s.entries[0].content().size() <= b2.allowance(bytes->size()));
  CHECK(reports_trouble(a));
}

TEST_CASE("corpus: libarchive cpio vectors (newc, crc, odc, binary LE/BE, gzip'd, RPM)") {
  for (std::string name : {"test_gcpio_compat_ref.newc", "test_gcpio_compat_ref.crc", "test_gcpio_compat_ref.bin"}) {
    SECTION(name) {
      auto bytes = corpus("libarchive/decoded/" + name);
      if (!bytes) return;
      Budget budget;
      ExtractResult r = read_archive(view_of(*bytes), budget);
      CHECK(r.diagnostics.empty());
      const Entry* file = find(r, "file");
      REQUIRE(file);
      CHECK(file->kind == EntryKind::File);
      const Entry* link = find(r, "linkfile");
      REQUIRE(link);
      // Either member may hold the 10 bytes (cpio stores a hard link's data once); together they do.
      CHECK(file->content().size() + link->content().size() >= 10);
      CHECK((link->link_target == "file" || file->link_target == "linkfile"));
      const Entry* sym = find(r, "symlink");
      REQUIRE(sym);
      CHECK(sym->kind == EntryKind::Symlink);
      CHECK(sym->link_target == "file");
      REQUIRE(find(r, "dir"));
      CHECK(find(r, "dir")->kind == EntryKind::Directory);
    }
  }
  for (std::string name : {"test_read_format_cpio_bin_le.cpio", "test_read_format_cpio_bin_be.cpio"}) {
    SECTION(name) {
      auto bytes = corpus("libarchive/decoded/" + name);
      if (!bytes) return;
      Budget budget;
      ExtractResult r = read_archive(view_of(*bytes), budget);
      REQUIRE(r.entries.size() == 1);
      const Entry& e = r.entries[0];
      CHECK(e.path == "file1111222233334444");
      CHECK(e.size == 5);
      CHECK(e.content().size() == 5);
      CHECK(e.mtime == 1240664175);
      CHECK(e.mode == 0100644);
      CHECK(e.uid == 1000);
      CHECK(e.gid == 0);
    }
  }
  SECTION("odc (test_option_t.cpio)") {
    auto bytes = corpus("libarchive/decoded/test_option_t.cpio");
    if (!bytes) return;
    Budget budget;
    ExtractResult r = read_archive(view_of(*bytes), budget);
    REQUIRE_FALSE(r.entries.empty());
    CHECK(r.entries[0].path == "file");
  }
  SECTION("gzip'd cpio") {
    auto bytes = corpus("libarchive/decoded/test_extract.cpio.gz");
    if (!bytes) return;
    Budget budget;
    ExtractResult r = read_archive(view_of(*bytes), budget);
    CHECK(r.diagnostics.empty());
    CHECK_FALSE(r.entries.empty());
  }
  SECTION("RPM with a gzip'd newc payload") {
    auto bytes = corpus("libarchive/decoded/test_read_format_cpio_svr4_gzip_rpm.rpm");
    if (!bytes) return;
    Budget budget;
    ExtractResult r = read_archive(view_of(*bytes), budget);
    CHECK(r.diagnostics.empty());
    CHECK_FALSE(r.entries.empty());
    for (const Entry& e : r.entries) CHECK(e.complete);
  }
}

TEST_CASE("corpus: FACT standard unpack set in cpio and jar") {
  for (std::string rel : {"fact_extractor/fact_extractor/plugins/unpacking/patool/test/data/test.cpio",
                          "fact_extractor/fact_extractor/plugins/unpacking/patool/test/data/test.jar"}) {
    SECTION(rel) {
      auto bytes = corpus(rel);
      if (!bytes) return;
      Budget budget;
      ExtractResult r = read_archive(view_of(*bytes), budget);
      CHECK(r.diagnostics.empty());
      std::map<std::string, size_t> sizes;
      for (const Entry& e : r.entries) {
        std::string p = e.path;
        auto slash = p.find("get_files_test/");
        if (slash != std::string::npos) p = p.substr(slash + 15);
        if (e.kind == EntryKind::File) sizes[p] = e.content().size();
      }
      CHECK(sizes["testfile1"] == 62);
      CHECK(sizes["testfile2"] == 28);
      CHECK(sizes["generic folder/test file 3_.txt"] == 20);
    }
  }
}

TEST_CASE("corpus: Supermicro iKVM jar carries its signature block") {
  auto bytes = corpus("supermicro-ikvm/iKVM__V1.69.21.0x0.jar");
  if (!bytes) return;
  Budget budget;
  ExtractResult r = read_archive(view_of(*bytes), budget);
  CHECK(r.diagnostics.empty());
  const Entry* rsa = find(r, "META-INF/SMCCERT.RSA");
  REQUIRE(rsa);
  CHECK(rsa->content().size() == 7499);
  CHECK(rsa->size == 7499);
  CHECK(rsa->content().u8(0) == 0x30);  // DER SEQUENCE: a PKCS#7 signature block
  CHECK(find(r, "META-INF/MANIFEST.MF")->content().size() == 55133);
}

TEST_CASE("corpus: binwalk inputs decode to the expected content") {
  if (auto b = corpus("binwalk/tests/inputs/gzip.bin")) {
    Budget budget;
    ExtractResult r = read_stream(view_of(*b), "gzip", budget);
    REQUIRE(r.entries.size() == 1);
    CHECK(r.entries[0].complete);
    CHECK(r.entries[0].content().size() == 104);
    CHECK(md5_hex(r.entries[0].content()) == "030a6c03519bd00b405e95f8759c9c8f");
  }
  if (auto b = corpus("binwalk/tests/inputs/bzip2.bin")) {
    Budget budget;
    ExtractResult r = read_stream(view_of(*b), "bzip2", budget);
    REQUIRE(r.entries.size() == 1);
    CHECK(r.entries[0].complete);
    CHECK(r.entries[0].content().size() == 21043);
    CHECK(md5_hex(r.entries[0].content()) == "6a70914f833ce811ed3132b0dc1b2805");
    CHECK(any_diag(r.entries[0].diagnostics, "after the end of the stream"));  // the file has trailing bytes
  }
  if (auto b = corpus("binwalk/v2.3.4/testing/tests/input-vectors/foobar.lzma")) {
    Budget budget;
    ExtractResult r = read_stream(view_of(*b), "lzma", budget);
    REQUIRE(r.entries.size() == 1);
    CHECK(text_of(r.entries[0]) == "Foobar.\n");
  }
  if (auto b = corpus("binwalk/tests/inputs/7z.bin")) {
    Budget budget;
    ExtractResult r = read_archive(view_of(*b), budget);
    REQUIRE(r.entries.size() == 1);
    CHECK(r.entries[0].path == "lsb-release");
    CHECK(md5_hex(r.entries[0].content()) == "030a6c03519bd00b405e95f8759c9c8f");
  }
  if (auto b = corpus("binwalk/tests/inputs/zip.bin")) {
    Budget budget;
    ExtractResult r = read_archive(view_of(*b), budget);
    REQUIRE(r.entries.size() == 1);
    CHECK(r.entries[0].path == "CH-sys-48.53.64.67.bin");
    CHECK(r.entries[0].content().size() == 612699);
    CHECK(md5_hex(r.entries[0].content()) == "58df9214226cfe46760215bfca0c496c");
  }
}

TEST_CASE("corpus: a zip without its central directory is still read member by member") {
  auto bytes = corpus("binwalk/tests/inputs/zip_truncated.bin");
  if (!bytes) return;
  Budget budget;
  ExtractResult r = read_archive(view_of(*bytes), budget);
  const Entry* readme = find(r, "AfuLnx64/AfuLnx64/readme.txt");
  REQUIRE(readme);
  CHECK(readme->content().size() == 5194);
  CHECK(readme->complete);
  const Entry* tool = find(r, "AfuLnx64/AfuLnx64/afulnx_64");
  REQUIRE(tool);
  CHECK(tool->content().size() == 1103728);
  CHECK(tool->content().matches(0, "\x7f" "ELF"));
}
