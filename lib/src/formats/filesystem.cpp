// Filesystem-family validators: SquashFS (v2, v3, v4, both byte orders), JFFS2 and ELF (UBI: formats/ubi.cpp).
//
// References: squashfs-tools squashfs_fs.h (v4) and its v3/v2 compatibility headers, Linux fs/squashfs/super.c
// (table sanity checks), include/uapi/linux/jffs2.h, the System V ABI (ELF).
#include <algorithm>
#include <array>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "fwcert/core/checksum.hpp"
#include "fwcert/scan/validator.hpp"

namespace fwcert {
namespace {

constexpr uint64_t kInvalidBlock = ~uint64_t{0};  // SQUASHFS_INVALID_BLK: "table absent"

bool is_pow2(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }
uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

Confidence lower_to(Confidence c, Confidence cap) { return c < cap ? c : cap; }

// ------------------------------------------------------------------------------------------------------------------
// SquashFS
// ------------------------------------------------------------------------------------------------------------------

struct SquashMagic {
  const char* magic;
  const char* note;  // nullptr for the standard magics
};
constexpr std::array<SquashMagic, 7> kSquashMagics{{
    {"hsqs", nullptr},
    {"sqsh", nullptr},
    {"shsq", "non-standard signature"},
    {"qshs", "non-standard signature"},
    {"hsqt", "DD-WRT signature"},
    {"tqsh", "DD-WRT signature"},
    {"sqlz", "LZMA signature"},
}};

const char* squash_compression(uint16_t id) {
  // v4 superblock "compression" (squashfs_fs.h ZLIB_COMPRESSION .. ZSTD_COMPRESSION).
  switch (id) {
    case 1: return "gzip";
    case 2: return "lzma";
    case 3: return "lzo";
    case 4: return "xz";
    case 5: return "lz4";
    case 6: return "zstd";
    default: return nullptr;
  }
}

struct SquashTable {
  const char* name;
  uint64_t start;
};

// The version-independent facts of a superblock.
struct SquashInfo {
  uint16_t major = 0, minor = 0;
  uint32_t inodes = 0, mkfs_time = 0, block_size = 0;
  uint16_t block_log = 0;
  uint64_t bytes_used = 0;
  uint64_t sb_size = 0;
  uint64_t inode_table = 0, directory_table = 0;
  uint64_t id_table = kInvalidBlock;  // v4 only: the id index, checked further
  std::vector<SquashTable> tables;    // present tables that must lie in [directory_table, bytes_used)
  std::string compression;
};

// Parses the superblock of the given major version; nullopt when a fixed field rules the candidate out.
std::optional<SquashInfo> parse_squash_superblock(ByteView v, bool be, uint16_t major) {
  SquashInfo s;
  s.major = major;
  if (!v.contains(0, 32)) return std::nullopt;
  s.minor = *v.u16(30, be);
  if (major == 4) {
    // struct squashfs_super_block (96 bytes).
    s.sb_size = 96;
    if (!v.contains(0, s.sb_size)) return std::nullopt;
    s.inodes = *v.u32(4, be);
    s.mkfs_time = *v.u32(8, be);
    s.block_size = *v.u32(12, be);
    const uint32_t fragments = *v.u32(16, be);
    const uint16_t comp = *v.u16(20, be);
    s.block_log = *v.u16(22, be);
    s.bytes_used = *v.u64(40, be);
    s.id_table = *v.u64(48, be);
    const uint64_t xattr = *v.u64(56, be);
    s.inode_table = *v.u64(64, be);
    s.directory_table = *v.u64(72, be);
    const uint64_t fragment_table = *v.u64(80, be);
    const uint64_t lookup_table = *v.u64(88, be);
    const char* cname = squash_compression(comp);
    if (!cname) return std::nullopt;
    s.compression = cname;
    // v4 block sizes are 4 KiB .. 1 MiB (SQUASHFS_FILE_MAX_SIZE) and block_log must agree.
    if (s.block_size < 4096 || s.block_size > (1u << 20) || !is_pow2(s.block_size)) return std::nullopt;
    s.tables.push_back({"id table", s.id_table});
    if (xattr != kInvalidBlock) s.tables.push_back({"xattr table", xattr});
    if (fragments != 0) s.tables.push_back({"fragment table", fragment_table});
    if (lookup_table != kInvalidBlock) s.tables.push_back({"lookup table", lookup_table});
  } else {
    // v2/v3 share the first 63 bytes; 16-bit fields at 28..35, byte fields at 36..38, unaligned u32s from 39.
    s.sb_size = major == 3 ? 119 : 63;
    if (!v.contains(0, s.sb_size)) return std::nullopt;
    s.inodes = *v.u32(4, be);
    s.block_log = *v.u16(34, be);
    const uint8_t flags = *v.u8(36);
    const uint8_t no_uids = *v.u8(37), no_guids = *v.u8(38);
    s.mkfs_time = *v.u32(39, be);
    s.block_size = *v.u32(51, be);
    const uint32_t fragments = *v.u32(55, be);
    // v2 tools write 512 B .. 64 KiB blocks, v3 up to 1 MiB.
    const uint32_t max_block = major == 3 ? (1u << 20) : (1u << 16);
    if (s.block_size < 512 || s.block_size > max_block || !is_pow2(s.block_size)) return std::nullopt;
    if (major == 3) {
      s.bytes_used = *v.u64(63, be);
      const uint64_t uid = *v.u64(71, be), guid = *v.u64(79, be);
      s.inode_table = *v.u64(87, be);
      s.directory_table = *v.u64(95, be);
      const uint64_t fragment_table = *v.u64(103, be), lookup_table = *v.u64(111, be);
      if (no_uids) s.tables.push_back({"uid table", uid});
      if (no_guids) s.tables.push_back({"guid table", guid});
      if (fragments) s.tables.push_back({"fragment table", fragment_table});
      if ((flags & 0x80) && lookup_table != kInvalidBlock) s.tables.push_back({"lookup table", lookup_table});
    } else {
      s.bytes_used = *v.u32(8, be);
      const uint32_t uid = *v.u32(12, be), guid = *v.u32(16, be);
      s.inode_table = *v.u32(20, be);
      s.directory_table = *v.u32(24, be);
      const uint32_t fragment_table = *v.u32(59, be);
      if (no_uids) s.tables.push_back({"uid table", uid});
      if (no_guids) s.tables.push_back({"guid table", guid});
      if (fragments) s.tables.push_back({"fragment table", fragment_table});
    }
    // v2/v3 only knew zlib; vendor LZMA builds mark themselves with minor version 'L' (0x4C).
    s.compression = s.minor == 0x4C ? "lzma" : "gzip";
  }
  if (s.block_log > 31 || (uint64_t{1} << s.block_log) != s.block_size) return std::nullopt;
  // Below the superblock there is no filesystem; above 1 TiB is not a firmware filesystem.
  if (s.bytes_used < s.sb_size || s.bytes_used > (uint64_t{1} << 40)) return std::nullopt;
  return s;
}

// A metadata block starts with a u16: bit 15 = stored uncompressed, low 15 bits = length, at most 8 KiB
// (SQUASHFS_METADATA_SIZE). Returns the length, or nullopt when implausible.
std::optional<uint32_t> metadata_block_length(ByteView v, uint64_t at, bool be) {
  auto h = v.u16(at, be);
  if (!h) return std::nullopt;
  const uint32_t len = *h & 0x7FFFu;
  if (len == 0 || len > 8192) return std::nullopt;
  return len;
}

std::optional<Hit> validate_squashfs(const ValidateInput& in) {
  const ByteView v = in.image.tail(in.start);
  const uint64_t abs = in.image.base() + in.start;
  auto magic = v.str(0, 4);
  if (!magic) return std::nullopt;
  const SquashMagic* sm = nullptr;
  for (const auto& m : kSquashMagics)
    if (*magic == m.magic) sm = &m;
  if (!sm) return std::nullopt;

  // The byte order comes from s_major at 28 (same place in every version): 2..4 in exactly one of the orders.
  auto maj_le = v.u16le(28);
  auto maj_be = v.u16be(28);
  if (!maj_le || !maj_be) return std::nullopt;
  bool be;
  uint16_t major;
  if (*maj_le >= 2 && *maj_le <= 4) {
    be = false;
    major = *maj_le;
  } else if (*maj_be >= 2 && *maj_be <= 4) {
    be = true;
    major = *maj_be;
  } else {
    return std::nullopt;
  }
  auto parsed = parse_squash_superblock(v, be, major);
  if (!parsed) return std::nullopt;
  const SquashInfo& s = *parsed;

  Hit hit;
  hit.offset = abs;
  hit.type = "squashfs";
  hit.nesting = Nesting::Opaque;
  Confidence conf = Confidence::High;

  if (major == 4 && s.minor != 0) {
    hit.diag(abs + 30, Severity::Warning, "unexpected minor version " + std::to_string(s.minor) + " for squashfs 4");
    conf = lower_to(conf, Confidence::Medium);
  }

  // Table layout (kernel super.c and mksquashfs write order): superblock, data, inode table, directory table, then
  // the fragment/lookup/id/xattr indexes, all below bytes_used.
  bool tables_ok = true;
  auto bad = [&](uint64_t at, std::string msg) {
    hit.diag(abs + at, Severity::Warning, std::move(msg));
    tables_ok = false;
  };
  if (s.inode_table < s.sb_size || s.inode_table >= s.bytes_used)
    bad(0, "inode table start " + hex(s.inode_table) + " outside [superblock end, bytes_used " + hex(s.bytes_used) +
               ")");
  if (s.directory_table <= s.inode_table || s.directory_table >= s.bytes_used)
    bad(0, "directory table start " + hex(s.directory_table) + " not between inode table " + hex(s.inode_table) +
               " and bytes_used " + hex(s.bytes_used));
  for (const auto& t : s.tables)
    if (t.start < s.directory_table || t.start >= s.bytes_used)
      bad(0, std::string(t.name) + " start " + hex(t.start) + " not between directory table " +
                 hex(s.directory_table) + " and bytes_used " + hex(s.bytes_used));

  // The first inode metadata block must have a plausible length that stays inside the filesystem. AVM's big-endian
  // v4 images store metadata lengths little-endian, so the other order is accepted too.
  if (tables_ok && v.contains(s.inode_table, 2)) {
    auto len = metadata_block_length(v, s.inode_table, be);
    if (!len || s.inode_table + 2 + *len > s.bytes_used) len = metadata_block_length(v, s.inode_table, !be);
    if (!len || s.inode_table + 2 + *len > s.bytes_used)
      bad(s.inode_table, "first inode metadata block header at " + hex(s.inode_table) + " is implausible");
  }
  // v4: the id index is a list of u64 pointers to metadata blocks written before it.
  if (tables_ok && major == 4 && v.contains(s.id_table, 8)) {
    const uint64_t p = *v.u64(s.id_table, be);
    if (p < s.directory_table || p >= s.id_table)
      bad(s.id_table, "id index points to " + hex(p) + ", outside [directory table, id index)");
  }
  if (!tables_ok) conf = Confidence::Low;

  // Size: bytes_used; mksquashfs pads to 4 KiB with zeros, include that padding when it is there.
  uint64_t size = s.bytes_used;
  if (!v.contains(0, s.bytes_used)) {
    hit.diag(abs + v.size(), Severity::Warning,
             "truncated: bytes_used is " + std::to_string(s.bytes_used) + " but only " + std::to_string(v.size()) +
                 " bytes are available");
    conf = lower_to(conf, Confidence::Medium);
    size = v.size();
  } else {
    const uint64_t padded = align_up(s.bytes_used, 4096);
    if (padded != s.bytes_used && v.contains(0, padded)) {
      const uint8_t* p = v.data() + s.bytes_used;
      if (std::all_of(p, v.data() + padded, [](uint8_t b) { return b == 0; })) size = padded;
    }
  }
  hit.size = size;
  hit.confidence = conf;

  std::string d = "Squashfs filesystem, ";
  d += be ? "big endian" : "little endian";
  if (sm->note) d += std::string(", ") + sm->note;
  d += ", version " + std::to_string(s.major) + "." + std::to_string(s.minor);
  d += ", compression:" + s.compression;
  d += ", size: " + std::to_string(s.bytes_used) + " bytes";
  d += ", " + std::to_string(s.inodes) + " inodes";
  d += ", blocksize: " + std::to_string(s.block_size) + " bytes";
  d += ", created: " + utc_time(s.mkfs_time);
  hit.description = std::move(d);
  return hit;
}

// ------------------------------------------------------------------------------------------------------------------
// JFFS2
// ------------------------------------------------------------------------------------------------------------------

constexpr uint16_t kJffs2Magic = 0x1985;
constexpr uint64_t kJffs2HeaderSize = 12;  // struct jffs2_unknown_node
constexpr uint64_t kJffs2MaxNodes = 1u << 22;

// JFFS2 uses the kernel's crc32_le(seed, p, len), which has no pre/post inversion. zlib's crc32(c, p, len)
// is ~crc32_le(~c, p, len), so crc32_le(0, p, len) = ~zlib_crc32(0xFFFFFFFF, p, len).
uint32_t jffs2_crc(ByteView v) { return ~crc32(v, 0xFFFFFFFFu); }

bool jffs2_known_type(uint16_t t) {
  // JFFS2_NODETYPE_* from jffs2.h; dirent and inode also appear obsoleted (ACCURATE bit 0x2000 cleared).
  switch (t) {
    case 0xE001: case 0xE002: case 0x2003: case 0x2004: case 0x2006: case 0xE008: case 0xE009:
    case 0xC001: case 0xC002:
      return true;
    default:
      return false;
  }
}

enum class NodeCheck { Ok, NotNode, BadCrc, BadLength };

NodeCheck check_jffs2_node(ByteView v, uint64_t pos, bool be, uint32_t& totlen) {
  auto magic = v.u16(pos, be);
  auto type = v.u16(pos + 2, be);
  auto len = v.u32(pos + 4, be);
  auto crc = v.u32(pos + 8, be);
  if (!magic || !type || !len || !crc || *magic != kJffs2Magic) return NodeCheck::NotNode;
  if (jffs2_crc(*v.sub(pos, 8)) != *crc) return NodeCheck::BadCrc;
  if (*len < kJffs2HeaderSize) return NodeCheck::BadLength;
  totlen = *len;
  return NodeCheck::Ok;
}

std::optional<Hit> validate_jffs2(const ValidateInput& in) {
  const ByteView v = in.image.tail(in.start);
  const uint64_t abs = in.image.base() + in.start;
  bool be;
  if (v.matches(0, "\x85\x19"))
    be = false;
  else if (v.matches(0, "\x19\x85"))
    be = true;
  else
    return std::nullopt;
  auto type = v.u16(2, be);
  if (!type || !jffs2_known_type(*type)) return std::nullopt;
  uint32_t totlen = 0;
  // The magic is 2 bytes: nothing is reported unless the first node header's CRC holds.
  if (check_jffs2_node(v, 0, be, totlen) != NodeCheck::Ok) return std::nullopt;

  Hit hit;
  hit.offset = abs;
  hit.type = "jffs2";
  hit.nesting = Nesting::Opaque;
  bool truncated = false;
  uint64_t nodes = 0, end = 0, pos = 0;
  while (nodes < kJffs2MaxNodes && v.contains(pos, kJffs2HeaderSize)) {
    NodeCheck c = check_jffs2_node(v, pos, be, totlen);
    if (c == NodeCheck::Ok) {
      if (!v.contains(pos, totlen)) {
        hit.diag(abs + pos, Severity::Warning,
                 "truncated: node of " + std::to_string(totlen) + " bytes runs past the end of the input");
        truncated = true;
        ++nodes;
        end = v.size();
        break;
      }
      ++nodes;
      end = pos + totlen;
      pos = align_up(end, 4);
      continue;
    }
    if (c == NodeCheck::BadCrc || c == NodeCheck::BadLength) {
      hit.diag(abs + pos, Severity::Warning,
               c == NodeCheck::BadCrc ? "node header CRC mismatch, walk stopped" : "node length below 12, walk stopped");
      break;
    }
    // Between nodes: erased flash (0xFF) or zero fill up to the next erase block; skip whole padding words.
    auto w = v.u32le(pos);
    if (!w || (*w != 0xFFFFFFFFu && *w != 0)) break;
    const uint32_t fill = *w;
    while (v.u32le(pos) == fill) pos += 4;
  }
  if (nodes >= kJffs2MaxNodes)
    hit.diag(abs + pos, Severity::Info, "node walk stopped after " + std::to_string(kJffs2MaxNodes) + " nodes (cap)");

  hit.size = std::min<uint64_t>(align_up(end, 4), v.size());
  hit.confidence = truncated ? Confidence::Medium : nodes >= 3 ? Confidence::High : Confidence::Medium;
  hit.description = std::string("JFFS2 filesystem, ") + (be ? "big endian" : "little endian") + ", " +
                    std::to_string(nodes) + (nodes == 1 ? " node" : " nodes") + ", size: " +
                    std::to_string(hit.size) + " bytes";
  return hit;
}

// ------------------------------------------------------------------------------------------------------------------
// ELF
// ------------------------------------------------------------------------------------------------------------------

const char* elf_machine(uint16_t m) {
  switch (m) {
    case 2: return "SPARC";
    case 3: return "Intel 80386";
    case 4: return "Motorola m68k";
    case 8: return "MIPS";
    case 10: return "MIPS R3000 LE";
    case 18: return "SPARC32PLUS";
    case 20: return "PowerPC";
    case 21: return "64-bit PowerPC";
    case 22: return "IBM S/390";
    case 40: return "ARM";
    case 42: return "Renesas SH";
    case 43: return "SPARC V9";
    case 50: return "IA-64";
    case 62: return "x86-64";
    case 83: return "Atmel AVR";
    case 92: return "OpenRISC";
    case 93: return "ARC";
    case 94: return "Tensilica Xtensa";
    case 106: return "Analog Devices Blackfin";
    case 164: return "QUALCOMM DSP6";
    case 183: return "ARM aarch64";
    case 189: return "Xilinx MicroBlaze";
    case 195: return "ARCv2";
    case 243: return "RISC-V";
    case 258: return "LoongArch";
    default: return nullptr;
  }
}

std::string elf_osabi(uint8_t a) {
  switch (a) {
    case 0: return "SYSV";
    case 1: return "HP-UX";
    case 2: return "NetBSD";
    case 3: return "GNU/Linux";
    case 6: return "Solaris";
    case 9: return "FreeBSD";
    case 12: return "OpenBSD";
    case 97: return "ARM";
    case 255: return "embedded";
    default: return "OS ABI " + std::to_string(a);
  }
}

std::optional<Hit> validate_elf(const ValidateInput& in) {
  const ByteView v = in.image.tail(in.start);
  const uint64_t abs = in.image.base() + in.start;
  if (!v.matches(0, "\x7f" "ELF") || !v.contains(0, 52)) return std::nullopt;
  const uint8_t cls = *v.u8(4), data = *v.u8(5), version = *v.u8(6), osabi = *v.u8(7);
  if ((cls != 1 && cls != 2) || (data != 1 && data != 2) || version != 1) return std::nullopt;
  const bool is64 = cls == 2, be = data == 2;
  const uint64_t ehsize_expected = is64 ? 64 : 52;
  if (!v.contains(0, ehsize_expected)) return std::nullopt;

  const uint16_t e_type = *v.u16(16, be), e_machine = *v.u16(18, be);
  const uint32_t e_version = *v.u32(20, be);
  uint64_t phoff, shoff;
  uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
  if (is64) {
    phoff = *v.u64(32, be);
    shoff = *v.u64(40, be);
    ehsize = *v.u16(52, be);
    phentsize = *v.u16(54, be);
    phnum = *v.u16(56, be);
    shentsize = *v.u16(58, be);
    shnum = *v.u16(60, be);
    shstrndx = *v.u16(62, be);
  } else {
    phoff = *v.u32(28, be);
    shoff = *v.u32(32, be);
    ehsize = *v.u16(40, be);
    phentsize = *v.u16(42, be);
    phnum = *v.u16(44, be);
    shentsize = *v.u16(46, be);
    shnum = *v.u16(48, be);
    shstrndx = *v.u16(50, be);
  }
  const uint16_t ph_expected = is64 ? 56 : 32, sh_expected = is64 ? 64 : 40;
  // Fixed fields of every real ELF header: ET_REL..ET_CORE (or OS/processor-specific), EV_CURRENT, the header and
  // table entry sizes of the class.
  if (!((e_type >= 1 && e_type <= 4) || e_type >= 0xFE00) || e_machine == 0 || e_version != 1) return std::nullopt;
  if (ehsize != ehsize_expected) return std::nullopt;
  if (phnum && phentsize != ph_expected) return std::nullopt;
  if (shnum && shentsize != sh_expected) return std::nullopt;

  Hit hit;
  hit.offset = abs;
  hit.type = "elf";
  hit.nesting = Nesting::Container;
  constexpr uint64_t kMaxOffset = uint64_t{1} << 40;  // no firmware ELF is larger; also keeps sums from wrapping
  bool consistent = true, truncated = false;
  auto inconsistent = [&](uint64_t at, std::string msg) {
    hit.diag(abs + at, Severity::Warning, std::move(msg));
    consistent = false;
  };
  uint64_t size = ehsize;
  bool have_tables = false;

  // Program headers: the table, then each segment's file bytes.
  if (phnum) {
    const uint64_t ph_end = phoff + uint64_t{phnum} * ph_expected;
    if (phoff < ehsize || phoff > kMaxOffset) {
      inconsistent(is64 ? 32 : 28, "program header table offset " + hex(phoff) + " is implausible");
    } else {
      size = std::max(size, ph_end);
      if (!v.contains(phoff, ph_end - phoff)) {
        truncated = true;
      } else {
        have_tables = true;
        for (uint64_t i = 0; i < phnum; ++i) {
          const uint64_t e = phoff + i * ph_expected;
          const uint64_t off = is64 ? *v.u64(e + 8, be) : *v.u32(e + 4, be);
          const uint64_t filesz = is64 ? *v.u64(e + 32, be) : *v.u32(e + 16, be);
          if (off > kMaxOffset || filesz > kMaxOffset) {
            inconsistent(e, "segment " + std::to_string(i) + " offset/size " + hex(off) + "/" + hex(filesz) +
                                " is implausible");
            break;
          }
          if (filesz) size = std::max(size, off + filesz);
        }
      }
    }
  }

  // Section headers. e_shnum 0 with a table means the count is in section 0's sh_size (extended numbering).
  uint64_t sections = shnum;
  if (shoff) {
    if (shoff < ehsize || shoff > kMaxOffset) {
      inconsistent(is64 ? 40 : 32, "section header table offset " + hex(shoff) + " is implausible");
      sections = 0;
    } else if (sections == 0 && shentsize == sh_expected && v.contains(shoff, sh_expected)) {
      sections = is64 ? *v.u64(shoff + 32, be) : *v.u32(shoff + 20, be);
      if (sections > 0x100000) {
        inconsistent(shoff, "extended section count " + std::to_string(sections) + " is implausible");
        sections = 0;
      }
    }
  }
  if (shoff && sections) {
    const uint64_t sh_end = shoff + sections * sh_expected;
    size = std::max(size, sh_end);
    if (!v.contains(shoff, sh_end - shoff)) {
      truncated = true;
    } else {
      have_tables = true;
      for (uint64_t i = 0; i < sections; ++i) {
        const uint64_t e = shoff + i * sh_expected;
        const uint32_t sh_type = *v.u32(e + 4, be);
        const uint64_t off = is64 ? *v.u64(e + 24, be) : *v.u32(e + 16, be);
        const uint64_t sz = is64 ? *v.u64(e + 32, be) : *v.u32(e + 20, be);
        if (sh_type == 0 || sh_type == 8) continue;  // SHT_NULL, SHT_NOBITS: no bytes in the file
        if (off > kMaxOffset || sz > kMaxOffset) {
          inconsistent(e, "section " + std::to_string(i) + " offset/size " + hex(off) + "/" + hex(sz) +
                              " is implausible");
          break;
        }
        size = std::max(size, off + sz);
      }
      // The section-name string table must be a STRTAB section (SHN_XINDEX: its index is in section 0's sh_link).
      uint64_t strndx = shstrndx;
      if (shstrndx == 0xFFFF) strndx = *v.u32(shoff + (is64 ? 40 : 24), be);
      if (strndx != 0) {
        if (strndx >= sections)
          inconsistent(is64 ? 62 : 50, "section name table index " + std::to_string(strndx) + " >= section count");
        else if (*v.u32(shoff + strndx * sh_expected + 4, be) != 3)
          inconsistent(is64 ? 62 : 50, "section name table is not a string table");
      }
    }
  }

  if (size > v.size()) {
    truncated = true;
    hit.diag(abs + v.size(), Severity::Warning,
             "truncated: the ELF needs " + std::to_string(size) + " bytes but only " + std::to_string(v.size()) +
                 " are available");
  }
  hit.size = std::min<uint64_t>(size, v.size());
  if (!consistent || !have_tables)
    hit.confidence = Confidence::Low;
  else if (truncated)
    hit.confidence = Confidence::Medium;
  else
    hit.confidence = Confidence::High;

  std::string d = std::string("ELF, ") + (is64 ? "64-bit " : "32-bit ") + (be ? "MSB " : "LSB ");
  switch (e_type) {
    case 1: d += "relocatable"; break;
    case 2: d += "executable"; break;
    case 3: d += "shared object"; break;
    case 4: d += "core file"; break;
    default: d += e_type >= 0xFF00 ? "processor-specific" : "OS-specific"; break;
  }
  const char* machine = elf_machine(e_machine);
  d += ", " + (machine ? std::string(machine) : "machine " + std::to_string(e_machine));
  d += ", version 1 (" + elf_osabi(osabi) + ")";
  hit.description = std::move(d);
  return hit;
}

}  // namespace

void register_filesystem_validators(ValidatorRegistry& registry) {
  registry.add("squashfs", "SquashFS v2/v3/v4 superblock (both byte orders, vendor magics); size = bytes_used",
               validate_squashfs);
  registry.add("jffs2", "JFFS2 node chain (header CRC per node, both byte orders); size = extent of the nodes",
               validate_jffs2);
  registry.add("elf", "ELF header, program and section header tables; size = end of the last table or content",
               validate_elf);
}

}  // namespace fwcert
