// Archives: zip (and jar), 7z, tar (POSIX ustar and GNU) and cpio (newc, crc, odc, old binary in both byte orders).
// zip and 7z are opaque (their members are compressed); tar and cpio are containers whose members are scanned.
#include <zlib.h>

#include <algorithm>
#include <array>
#include <vector>
#include <cstring>
#include <string>
#include <string_view>

#include "fwcert/core/bytes.hpp"
#include "fwcert/core/checksum.hpp"
#include "fwcert/scan/validator.hpp"

namespace fwcert {
namespace {

constexpr uint64_t kMaxEntries = 1u << 20;  // cap on members walked in one archive

// True when every byte is a plausible path character: no controls, no DEL. UTF-8 bytes (>= 0x80) are allowed.
bool path_bytes_ok(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

// ---------------------------------------------------------------- zip (PKWARE APPNOTE 6.3) ------------------------

constexpr std::string_view kZipLocal("PK\x03\x04", 4);
constexpr std::string_view kZipCentral("PK\x01\x02", 4);
constexpr std::string_view kZipEnd("PK\x05\x06", 4);
constexpr std::string_view kZip64End("PK\x06\x06", 4);
constexpr std::string_view kZip64Locator("PK\x06\x07", 4);
constexpr std::string_view kZipDescriptor("PK\x07\x08", 4);

bool zip_method_known(uint16_t m) {
  switch (m) {
    case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 8: case 9: case 10: case 12: case 14: case 18:
    case 19: case 93: case 94: case 95: case 96: case 97: case 98: case 99:
      return true;
    default:
      return false;
  }
}

struct ZipLocal {
  uint16_t version = 0, flags = 0, method = 0;
  uint32_t crc = 0;
  uint64_t csize = 0, usize = 0;
  std::string name;
  uint64_t data = 0;       // index of the member data (relative to the view)
  bool has_extra_cafe = false;  // the jar tool marks the first entry with extra field id 0xCAFE
};

// Parses and sanity-checks the local file header at pos; nullopt when it is not a plausible header.
std::optional<ZipLocal> parse_zip_local(ByteView v, uint64_t pos) {
  if (!v.matches(pos, kZipLocal)) return std::nullopt;
  Reader r(v, pos + 4);
  auto version = r.u16le();
  auto flags = r.u16le();
  auto method = r.u16le();
  r.skip(4);  // DOS time and date
  auto crc = r.u32le();
  auto csize = r.u32le();
  auto usize = r.u32le();
  auto nlen = r.u16le();
  auto xlen = r.u16le();
  if (!xlen) return std::nullopt;
  if ((*version & 0xFF) > 90) return std::nullopt;  // spec versions go up to 6.3 (63)
  if (*flags & 0x0780) return std::nullopt;          // bits 7..10 are unused
  if (!zip_method_known(*method)) return std::nullopt;
  if (*nlen == 0 || *nlen > 1024) return std::nullopt;
  auto name = v.str(pos + 30, *nlen);
  if (!name || !path_bytes_ok(*name)) return std::nullopt;
  auto extra = v.sub(pos + 30 + *nlen, *xlen);
  if (!extra) return std::nullopt;
  ZipLocal z;
  z.version = *version;
  z.flags = *flags;
  z.method = *method;
  z.crc = *crc;
  z.csize = *csize;
  z.usize = *usize;
  z.name = std::string(*name);
  z.data = pos + 30 + *nlen + *xlen;
  // Extra fields: (id u16, size u16, data). Zip64 (0x0001) carries the real sizes when the header says 0xFFFFFFFF.
  for (uint64_t e = 0; extra->contains(e, 4);) {
    uint16_t id = *extra->u16le(e), sz = *extra->u16le(e + 2);
    if (!extra->contains(e + 4, sz)) break;
    if (id == 0xCAFE) z.has_extra_cafe = true;
    if (id == 0x0001) {
      uint64_t f = e + 4;
      const uint64_t fend = e + 4 + sz;
      if (*usize == 0xFFFFFFFFu && f + 8 <= fend) {
        z.usize = *extra->u64le(f);
        f += 8;
      }
      if (*csize == 0xFFFFFFFFu && f + 8 <= fend) z.csize = *extra->u64le(f);
    }
    e += 4 + sz;
  }
  return z;
}

struct ZipEnd {
  uint64_t end = 0;      // index just past the EOCD record and its comment
  uint64_t entries = 0;  // central directory entries counted
  bool comment_truncated = false;
  bool encrypted = false;  // some central directory entry has the encrypted flag
};

// Checks a candidate End Of Central Directory record at e (relative to the archive start, which is index 0 of v):
// the central directory it points to must end right where the EOCD (or zip64 end record) begins, start with a
// central header whose local header offset is 0, and hold exactly the number of entries the EOCD declares.
std::optional<ZipEnd> check_zip_end(ByteView v, uint64_t e) {
  auto disk = v.u16le(e + 4);
  auto cd_disk = v.u16le(e + 6);
  auto n_disk = v.u16le(e + 8);
  auto n_total = v.u16le(e + 10);
  auto cd_size32 = v.u32le(e + 12);
  auto cd_off32 = v.u32le(e + 16);
  auto clen = v.u16le(e + 20);
  if (!clen) return std::nullopt;
  uint64_t cd_size = *cd_size32, cd_off = *cd_off32, total = *n_total;
  uint64_t cd_end_expected = e;
  if (*cd_off32 == 0xFFFFFFFFu || *cd_size32 == 0xFFFFFFFFu || *n_total == 0xFFFF) {
    // Zip64: a locator right before the EOCD points at the zip64 end record.
    if (e < 20 || !v.matches(e - 20, kZip64Locator)) return std::nullopt;
    auto z64 = v.u64le(e - 20 + 8);
    if (!z64 || !v.matches(*z64, kZip64End)) return std::nullopt;
    auto t = v.u64le(*z64 + 32), s = v.u64le(*z64 + 40), o = v.u64le(*z64 + 48);
    if (!t || !s || !o) return std::nullopt;
    total = *t;
    cd_size = *s;
    cd_off = *o;
    cd_end_expected = *z64;
  } else {
    if (*disk != 0 || *cd_disk != 0 || *n_disk != *n_total) return std::nullopt;  // multi-disk: not supported
  }
  if (cd_off > cd_end_expected || cd_end_expected - cd_off != cd_size) return std::nullopt;
  // Walk the central directory.
  uint64_t pos = cd_off, count = 0;
  bool encrypted = false;
  while (pos < cd_end_expected && count <= total && count < kMaxEntries) {
    if (!v.matches(pos, kZipCentral)) return std::nullopt;
    auto nlen = v.u16le(pos + 28), xlen = v.u16le(pos + 30), klen = v.u16le(pos + 32);
    auto local = v.u32le(pos + 42);
    auto flags = v.u16le(pos + 8);
    if (!klen || !local || !flags) return std::nullopt;
    if (*flags & 0x01) encrypted = true;
    if (count == 0 && *local != 0 && *local != 0xFFFFFFFFu) return std::nullopt;  // first member must be at 0
    pos += 46ull + *nlen + *xlen + *klen;
    ++count;
  }
  if (pos != cd_end_expected || count != total) return std::nullopt;
  ZipEnd z;
  z.entries = count;
  z.encrypted = encrypted;
  z.end = e + 22 + *clen;
  if (z.end > v.size()) {
    z.comment_truncated = true;
    z.end = v.size();
  }
  return z;
}

// Length of the raw deflate stream at the start of data, by inflating it into a scratch buffer. total_out counts
// output across calls so one archive cannot make us inflate more than the cap. nullopt on error or truncation.
std::optional<uint64_t> deflate_length(ByteView data, uint64_t& total_out) {
  constexpr uint64_t kCap = 1ull << 30;
  thread_local std::vector<uint8_t> scratch(64 << 10);
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) return std::nullopt;
  std::optional<uint64_t> result;
  uint64_t fed = 0;
  for (;;) {
    if (zs.avail_in == 0 && fed < data.size()) {
      uint64_t n = std::min<uint64_t>(data.size() - fed, 1u << 30);
      zs.next_in = const_cast<Bytef*>(data.data() + fed);
      zs.avail_in = static_cast<uInt>(n);
      fed += n;
    }
    zs.next_out = scratch.data();
    zs.avail_out = static_cast<uInt>(scratch.size());
    int rc = inflate(&zs, Z_NO_FLUSH);
    total_out += scratch.size() - zs.avail_out;
    if (rc == Z_STREAM_END) {
      result = fed - zs.avail_in;
      break;
    }
    if (rc != Z_OK || total_out > kCap) break;
  }
  inflateEnd(&zs);
  return result;
}

std::optional<Hit> validate_zip(const ValidateInput& in) {
  ByteView v = in.image.tail(in.start);
  auto first = parse_zip_local(v, 0);
  if (!first) return std::nullopt;

  Hit hit;
  hit.offset = in.image.base() + in.start;
  hit.nesting = Nesting::Opaque;
  const bool jar = first->name.rfind("META-INF/", 0) == 0 || first->has_extra_cafe;
  hit.type = jar ? "jar" : "zip";

  // Walk the local headers while their sizes are known; this is where the EOCD search starts. With inflate_dd, a
  // deflated member whose sizes are only in the data descriptor is inflated to find where its data ends (used only
  // when no end record was found, so a truncated jar is still covered as a whole).
  uint64_t pos = 0, walked = 0, dd_header = 0, inflated = 0;
  bool data_truncated = false, sizes_unknown = false, encrypted = false;
  auto walk = [&](bool inflate_dd) {
    sizes_unknown = false;
    while (walked < kMaxEntries) {
      auto z = parse_zip_local(v, pos);
      if (!z) break;
      if (z->flags & 0x01) encrypted = true;
      uint64_t csize = z->csize;
      if ((z->flags & 0x08) && csize == 0) {
        std::optional<uint64_t> n;
        if (inflate_dd && z->method == 8 && !(z->flags & 0x01)) n = deflate_length(v.tail(z->data), inflated);
        if (!n) {  // sizes are in a data descriptor after the data: stop here
          sizes_unknown = true;
          dd_header = pos;
          pos = z->data;
          break;
        }
        csize = *n;
      }
      uint64_t next = z->data + csize;
      if (next > v.size()) {
        data_truncated = true;
        break;
      }
      if (z->flags & 0x08) {  // data descriptor: optional signature, CRC, sizes (4 or, for zip64, 8 bytes each)
        uint64_t d = next + (v.matches(next, kZipDescriptor) ? 4 : 0);
        next = (!v.matches(d + 12, "PK") && v.matches(d + 20, "PK")) ? d + 20 : d + 12;
        if (next > v.size()) {
          data_truncated = true;
          break;
        }
      }
      pos = next;
      ++walked;
    }
  };
  walk(false);

  // The first member's data: for a stored, unencrypted member with known size, its CRC-32 is checked directly.
  bool first_crc_bad = false;
  if (first->method == 0 && !(first->flags & 0x01) && first->csize != 0) {
    std::optional<uint32_t> expected = first->crc;
    if (first->flags & 0x08) {  // the CRC is in the data descriptor after the data (optional signature first)
      uint64_t d = first->data + first->csize;
      expected = v.u32le(d + (v.matches(d, kZipDescriptor) ? 4 : 0));
    }
    auto data = v.sub(first->data, first->csize);
    if (data && expected) {
      uint32_t c = crc32(*data);
      if (c != *expected) {
        first_crc_bad = true;
        hit.diag(hit.offset + first->data, Severity::Warning,
                 "stored member CRC-32 mismatch: stored " + hex(*expected) + ", computed " + hex(c));
      }
    }
  }

  // Find the End Of Central Directory record that is consistent with an archive starting here.
  std::optional<ZipEnd> end;
  std::string_view text = v.as_string_view();
  for (size_t e = text.find(kZipEnd, pos); e != std::string_view::npos; e = text.find(kZipEnd, e + 1)) {
    if ((end = check_zip_end(v, e))) break;
  }

  if (!end && sizes_unknown) {
    pos = dd_header;
    walk(true);
  }
  if (end) {
    hit.size = end->end;
    hit.confidence = first_crc_bad ? Confidence::Medium : Confidence::High;
    if (end->comment_truncated) {
      hit.confidence = Confidence::Medium;
      hit.diag(hit.offset + hit.size, Severity::Warning, "zip comment truncated by the end of the input");
    }
  } else {
    hit.size = pos;
    hit.confidence = Confidence::Medium;
    if (walked == 0 && data_truncated) {
      hit.confidence = Confidence::Low;
      hit.diag(hit.offset + first->data, Severity::Warning,
               "first member's data (" + std::to_string(first->csize) + " bytes) runs past the end of the input");
    } else {
      hit.diag(hit.offset + pos, Severity::Warning,
               std::string("no end of central directory found (truncated zip); ") + std::to_string(walked) +
                   " local entries walked" + (sizes_unknown ? ", then a member with a data descriptor" : ""));
    }
    if (first_crc_bad) hit.confidence = Confidence::Low;
  }

  std::string d = jar ? "Java archive (JAR) data" : "Zip archive data";
  d += ", at least v" + std::to_string((first->version & 0xFF) / 10) + "." +
       std::to_string((first->version & 0xFF) % 10) + " to extract";
  if (end && end->encrypted) encrypted = true;
  if (encrypted) {
    d += ", encrypted";
    hit.diag(hit.offset, Severity::Info, "encrypted: members are encrypted (traditional PKWARE or AES)");
  }
  d += ", compressed size: " + std::to_string(first->csize) + ", uncompressed size: " + std::to_string(first->usize);
  d += ", name: " + printable(first->name, 128);
  if (end) d += ", " + std::to_string(end->entries) + " entries";
  hit.description = std::move(d);
  return hit;
}

// ---------------------------------------------------------------- 7z ----------------------------------------------

std::optional<Hit> validate_7z(const ValidateInput& in) {
  ByteView v = in.image.tail(in.start);
  // Signature header (32 bytes): magic, version major/minor, CRC of the next 20 bytes, next header offset/size/CRC.
  if (!v.matches(0, "7z\xbc\xaf\x27\x1c")) return std::nullopt;
  auto major = v.u8(6), minor = v.u8(7);
  auto start_crc = v.u32le(8);
  auto nh_off = v.u64le(12), nh_size = v.u64le(20);
  auto nh_crc = v.u32le(28);
  if (!major || !minor || !start_crc || !nh_off || !nh_size || !nh_crc) return std::nullopt;
  if (*major != 0) return std::nullopt;
  Hit hit;
  hit.offset = in.image.base() + in.start;
  hit.type = "7z";
  hit.nesting = Nesting::Opaque;
  hit.description = "7-zip archive data, version " + std::to_string(*major) + "." + std::to_string(*minor);
  uint32_t computed = crc32(*v.sub(12, 20));
  if (computed != *start_crc) {
    hit.confidence = Confidence::Low;
    hit.diag(hit.offset + 8, Severity::Warning,
             "start header CRC mismatch: stored " + hex(*start_crc) + ", computed " + hex(computed));
    return hit;
  }
  if (*nh_off > (1ull << 40) || *nh_size > (1ull << 32)) return std::nullopt;
  const uint64_t total = 32 + *nh_off + *nh_size;
  hit.description += ", size: " + std::to_string(total);
  if (auto nh = v.sub(32 + *nh_off, *nh_size)) {
    hit.size = total;
    uint32_t c = crc32(*nh);
    auto kind = nh->u8(0);
    if (c == *nh_crc && (*nh_size == 0 || (kind && (*kind == 0x01 || *kind == 0x17)))) {
      hit.confidence = Confidence::High;
    } else {
      hit.confidence = Confidence::Medium;
      hit.diag(nh->base(), Severity::Warning,
               "next header CRC mismatch: stored " + hex(*nh_crc) + ", computed " + hex(c));
    }
  } else {
    hit.size = v.size();
    hit.confidence = Confidence::Medium;
    hit.diag(hit.offset + 12, Severity::Warning,
             "truncated: the next header ends at " + std::to_string(total) + " but only " +
                 std::to_string(v.size()) + " bytes are present");
  }
  return hit;
}

// ---------------------------------------------------------------- tar (POSIX ustar, GNU) --------------------------

// Parses a numeric tar field: octal digits, optionally space-padded, ended by NUL/space or the field end; GNU
// base-256 (first byte 0x80) for large values. nullopt when the field holds anything else.
std::optional<uint64_t> tar_number(ByteView field) {
  const uint8_t* p = field.data();
  size_t n = field.size(), i = 0;
  if (n && (p[0] & 0x80)) {  // base-256, big-endian, first byte's top bit is the marker
    if (p[0] != 0x80) return std::nullopt;  // negative or oversized: not for sizes
    uint64_t v = 0;
    for (i = 1; i < n; ++i) {
      if (v >> 56) return std::nullopt;
      v = (v << 8) | p[i];
    }
    return v;
  }
  while (i < n && p[i] == ' ') ++i;
  uint64_t v = 0;
  size_t digits = 0;
  for (; i < n && p[i] >= '0' && p[i] <= '7'; ++i, ++digits) v = v * 8 + (p[i] - '0');
  if (digits == 0) return std::nullopt;
  for (; i < n; ++i)
    if (p[i] != 0 && p[i] != ' ') return std::nullopt;
  return v;
}

bool tar_checksum_ok(ByteView h, uint64_t stored) {
  uint64_t usum = 0;
  int64_t ssum = 0;
  for (size_t i = 0; i < 512; ++i) {
    uint8_t c = (i >= 148 && i < 156) ? ' ' : h.data()[i];
    usum += c;
    ssum += static_cast<int8_t>(c);
  }
  return stored == usum || static_cast<int64_t>(stored) == ssum;
}

bool all_zero(ByteView b) {
  for (size_t i = 0; i < b.size(); ++i)
    if (b.data()[i]) return false;
  return true;
}

std::optional<Hit> validate_tar(const ValidateInput& in) {
  ByteView v = in.image.tail(in.start);
  auto h = v.sub(0, 512);
  if (!h) return std::nullopt;
  const bool posix = h->matches(257, std::string_view("ustar\0" "00", 8));
  const bool gnu = h->matches(257, std::string_view("ustar  \0", 8));
  if (!posix && !gnu) return std::nullopt;
  auto stored = tar_number(*h->sub(148, 8));
  auto size0 = tar_number(*h->sub(124, 12));
  if (!stored || !size0) return std::nullopt;
  if (h->data()[0] == 0) return std::nullopt;  // empty name
  const uint8_t type0 = h->data()[156];
  if (type0 != 0 && (type0 < 0x20 || type0 > 0x7e)) return std::nullopt;
  if (!tar_number(*h->sub(100, 8)) && h->data()[100] != 0) return std::nullopt;  // mode

  Hit hit;
  hit.offset = in.image.base() + in.start;
  hit.type = "tar";
  hit.nesting = Nesting::Container;
  std::string kind = gnu ? "POSIX tar archive (GNU)" : "POSIX tar archive";
  if (!tar_checksum_ok(*h, *stored)) {
    hit.confidence = Confidence::Low;
    hit.diag(hit.offset + 148, Severity::Warning, "tar header checksum mismatch: stored " + std::to_string(*stored));
    hit.description = kind + ", file name: \"" + printable(h->cstring(0, 100), 100) + "\"";
    return hit;
  }

  uint64_t pos = 0, entries = 0;
  bool ended = false, truncated = false;
  std::string first_name, long_name;
  while (entries < kMaxEntries) {
    auto b = v.sub(pos, 512);
    if (!b) {
      truncated = true;
      break;
    }
    if (all_zero(*b)) {  // end of archive: two zero blocks (accept one at the end of the input)
      auto b2 = v.sub(pos + 512, 512);
      pos += (b2 && all_zero(*b2)) ? 1024 : 512;
      ended = true;
      break;
    }
    auto ck = tar_number(*b->sub(148, 8));
    auto sz = tar_number(*b->sub(124, 12));
    if (!ck || !sz || !tar_checksum_ok(*b, *ck)) break;  // end of valid headers
    const uint8_t type = b->data()[156];
    uint64_t next = pos + 512 + ((*sz + 511) / 512) * 512;
    if (next > v.size()) {
      truncated = true;
      break;
    }
    if (type == 'L') {  // GNU long name: the data is the next member's name
      long_name = v.cstring(pos + 512, std::min<uint64_t>(*sz, 4096));
    } else if (type != 'K' && type != 'x' && type != 'g') {
      if (entries == 0) {
        if (!long_name.empty()) {
          first_name = long_name;
        } else {
          std::string prefix = posix ? b->cstring(345, 155) : std::string();
          first_name = (prefix.empty() ? "" : prefix + "/") + b->cstring(0, 100);
        }
      }
      long_name.clear();
      ++entries;
    }
    pos = next;
  }
  hit.size = pos;
  hit.confidence = Confidence::High;
  if (truncated) {
    hit.confidence = Confidence::Medium;
    hit.open_ended = true;  // a member size ran past the input: what follows the header may be anything
    hit.diag(hit.offset + pos, Severity::Warning, "tar archive truncated after " + std::to_string(entries) + " entries");
  } else if (!ended) {
    hit.diag(hit.offset + pos, Severity::Info, "no end-of-archive blocks: walk stopped at a non-header block");
  }
  hit.description = kind + ", file name: \"" + printable(first_name, 128) + "\", " + std::to_string(entries) +
                    " entries";
  return hit;
}

// ---------------------------------------------------------------- cpio --------------------------------------------

enum class CpioFormat { Newc, Crc, Odc, BinLE, BinBE };

struct CpioEntry {
  uint32_t mode = 0;
  uint32_t check = 0;
  uint64_t filesize = 0;
  uint64_t data = 0;  // index of the member data
  uint64_t next = 0;  // index of the next header (may be past the end when truncated)
  std::string name;
};

std::optional<uint64_t> parse_digits(ByteView v, uint64_t off, size_t len, unsigned base) {
  auto s = v.str(off, len);
  if (!s) return std::nullopt;
  uint64_t x = 0;
  for (char c : *s) {
    unsigned d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return std::nullopt;
    if (d >= base) return std::nullopt;
    x = x * base + d;
  }
  return x;
}

bool cpio_mode_ok(uint32_t mode) {
  switch (mode & 0170000) {
    case 0140000: case 0120000: case 0100000: case 060000: case 040000: case 020000: case 010000:
      return true;
    default:
      return false;
  }
}

uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

// Parses one cpio header at pos (relative to the archive start = index 0 of v). nullopt when invalid.
std::optional<CpioEntry> parse_cpio(ByteView v, uint64_t pos, CpioFormat f) {
  CpioEntry e;
  uint64_t namesize = 0, name_at = 0;
  switch (f) {
    case CpioFormat::Newc:
    case CpioFormat::Crc: {
      if (!v.matches(pos, f == CpioFormat::Newc ? "070701" : "070702")) return std::nullopt;
      // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check: 8 hex each.
      std::array<uint64_t, 13> fld{};
      for (size_t i = 0; i < 13; ++i) {
        auto x = parse_digits(v, pos + 6 + 8 * i, 8, 16);
        if (!x) return std::nullopt;
        fld[i] = *x;
      }
      e.mode = static_cast<uint32_t>(fld[1]);
      e.filesize = fld[6];
      namesize = fld[11];
      e.check = static_cast<uint32_t>(fld[12]);
      name_at = pos + 110;
      e.data = align_up(name_at + namesize, 4);
      e.next = align_up(e.data + e.filesize, 4);
      break;
    }
    case CpioFormat::Odc: {
      if (!v.matches(pos, "070707")) return std::nullopt;
      // dev ino mode uid gid nlink rdev (6 octal each), mtime (11), namesize (6), filesize (11).
      static constexpr std::array<size_t, 10> widths = {6, 6, 6, 6, 6, 6, 6, 11, 6, 11};
      std::array<uint64_t, 10> fld{};
      uint64_t off = pos + 6;
      for (size_t i = 0; i < widths.size(); ++i) {
        auto x = parse_digits(v, off, widths[i], 8);
        if (!x) return std::nullopt;
        fld[i] = *x;
        off += widths[i];
      }
      e.mode = static_cast<uint32_t>(fld[2]);
      namesize = fld[8];
      e.filesize = fld[9];
      name_at = pos + 76;
      e.data = name_at + namesize;
      e.next = e.data + e.filesize;
      break;
    }
    case CpioFormat::BinLE:
    case CpioFormat::BinBE: {
      const bool be = f == CpioFormat::BinBE;
      auto magic = v.u16(pos, be);
      if (!magic || *magic != 070707) return std::nullopt;
      auto mode = v.u16(pos + 6, be);
      auto ns = v.u16(pos + 20, be);
      auto fs_hi = v.u16(pos + 22, be), fs_lo = v.u16(pos + 24, be);
      if (!mode || !ns || !fs_hi || !fs_lo) return std::nullopt;
      e.mode = *mode;
      namesize = *ns;
      e.filesize = (static_cast<uint64_t>(*fs_hi) << 16) | *fs_lo;  // most significant 16-bit word first
      name_at = pos + 26;
      e.data = align_up(name_at + namesize, 2);
      e.next = align_up(e.data + e.filesize, 2);
      break;
    }
  }
  // The name (namesize includes its NUL): printable, NUL-terminated, no embedded NUL.
  if (namesize < 2 || namesize > 4096) return std::nullopt;
  auto name = v.str(name_at, namesize);
  if (!name || name->back() != '\0') return std::nullopt;
  e.name = std::string(name->substr(0, namesize - 1));
  if (!path_bytes_ok(e.name)) return std::nullopt;
  if (e.name != "TRAILER!!!" && !cpio_mode_ok(e.mode)) return std::nullopt;
  return e;
}

std::optional<Hit> validate_cpio(const ValidateInput& in) {
  ByteView v = in.image.tail(in.start);
  CpioFormat f;
  std::string kind;
  if (v.matches(0, "070701")) {
    f = CpioFormat::Newc;
    kind = "ASCII cpio archive (SVR4 with no CRC)";
  } else if (v.matches(0, "070702")) {
    f = CpioFormat::Crc;
    kind = "ASCII cpio archive (SVR4 with CRC)";
  } else if (v.matches(0, "070707")) {
    f = CpioFormat::Odc;
    kind = "ASCII cpio archive (pre-SVR4 or odc)";
  } else if (v.matches(0, "\xc7\x71")) {
    f = CpioFormat::BinLE;
    kind = "binary cpio archive (little-endian)";
  } else if (v.matches(0, "\x71\xc7")) {
    f = CpioFormat::BinBE;
    kind = "binary cpio archive (big-endian)";
  } else {
    return std::nullopt;
  }
  const bool binary = f == CpioFormat::BinLE || f == CpioFormat::BinBE;
  auto first = parse_cpio(v, 0, f);
  if (!first) return std::nullopt;

  Hit hit;
  hit.offset = in.image.base() + in.start;
  hit.type = "cpio";
  hit.nesting = Nesting::Container;
  uint64_t pos = 0, entries = 0, end = 0;
  bool trailer = false, truncated = false, crc_bad = false;
  while (entries < kMaxEntries) {
    auto e = parse_cpio(v, pos, f);
    if (!e) break;
    if (e->name == "TRAILER!!!") {  // end of archive (whatever the entry's type or size)
      trailer = true;
      end = std::min<uint64_t>(f == CpioFormat::Odc ? e->data : align_up(e->data, binary ? 2 : 4), v.size());
      break;
    }
    if (e->data + e->filesize > v.size()) {
      truncated = true;
      break;
    }
    if (f == CpioFormat::Crc && (e->mode & 0170000) == 0100000) {  // "crc": 32-bit sum of the data bytes
      uint32_t sum = 0;
      const uint8_t* p = v.data() + e->data;
      for (uint64_t i = 0; i < e->filesize; ++i) sum += p[i];
      if (sum != e->check && !crc_bad) {
        crc_bad = true;
        hit.diag(hit.offset + pos, Severity::Warning,
                 "cpio data checksum mismatch for \"" + printable(e->name, 64) + "\": stored " + hex(e->check) +
                     ", computed " + hex(sum));
      }
    }
    ++entries;
    pos = std::min<uint64_t>(e->next, v.size());
    end = pos;
  }

  if (trailer) {
    hit.confidence = crc_bad ? Confidence::Medium : Confidence::High;
  } else {
    // No trailer: the binary magic is only 2 bytes, so it needs a second valid entry to be believed.
    const uint64_t needed = binary ? 2 : 1;
    hit.confidence = entries >= needed ? Confidence::Medium : Confidence::Low;
    if (crc_bad && hit.confidence == Confidence::Medium) hit.confidence = Confidence::Low;
    hit.diag(hit.offset + pos, Severity::Warning,
             std::string(truncated ? "cpio archive truncated" : "cpio walk stopped at an invalid header") +
                 " after " + std::to_string(entries) + " entries, no TRAILER!!!");
  }
  hit.size = end;
  hit.open_ended = truncated;  // a member size ran past the input: what follows the header may be anything
  hit.description = kind + ", " + std::to_string(entries) + " entries, first: \"" + printable(first->name, 128) + "\"";
  return hit;
}

}  // namespace

void register_archive_validators(ValidatorRegistry& registry) {
  registry.add("zip", "zip/jar: local header checks, central directory and end record located and cross-checked",
               validate_zip);
  registry.add("7z", "7-Zip: start header CRC, next header CRC, size from the next header offset/size", validate_7z);
  registry.add("tar", "tar (POSIX ustar / GNU): header checksums, walk to the end-of-archive blocks", validate_tar);
  registry.add("cpio", "cpio (newc, crc, odc, old binary LE/BE): header checks, walk to TRAILER!!!",
               validate_cpio);
}

}  // namespace fwcert
