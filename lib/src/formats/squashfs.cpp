// SquashFS: the superblock of every version (2.x, 3.x, 4.0, both byte orders, vendor magics) and the walk's validator.
// The 2.x/3.x reader is formats/squashfs3.cpp; the v4 little-endian reader is extract/squashfs_reader.cpp.
//
// References: squashfs-tools squashfs_fs.h (struct squashfs_super_block, v4) and squashfs_compat.h
// (struct squashfs_super_block_3, which 2.x shares up to fragment_table_start_2), Linux fs/squashfs/super.c (table
// sanity checks), unsquash-2.c/unsquash-3.c read_filesystem_tables (table order).
#include "fwcert/formats/squashfs.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "fwcert/scan/validator.hpp"

namespace fwcert {
namespace squashfs {
namespace {

bool is_pow2(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

struct Magic {
  const char* magic;
  const char* note;  // nullptr for the standard magics
};
constexpr std::array<Magic, 7> kMagics{{
    {"hsqs", nullptr},
    {"sqsh", nullptr},
    {"shsq", "non-standard signature"},
    {"qshs", "non-standard signature"},
    {"hsqt", "DD-WRT signature"},
    {"tqsh", "DD-WRT signature"},
    {"sqlz", "LZMA signature"},
}};

}  // namespace

std::optional<Superblock> read_superblock(ByteView v) {
  auto magic = v.str(0, 4);
  if (!magic) return std::nullopt;
  const Magic* m = nullptr;
  for (const auto& k : kMagics)
    if (*magic == k.magic) m = &k;
  if (!m) return std::nullopt;
  // The byte order comes from s_major at 28 (same place in every version): 2..4 in exactly one of the orders.
  auto maj_le = v.u16le(28);
  auto maj_be = v.u16be(28);
  if (!maj_le || !maj_be) return std::nullopt;
  Superblock s;
  s.magic = std::string(*magic);
  s.magic_note = m->note;
  if (*maj_le >= 2 && *maj_le <= 4) {
    s.big_endian = false;
    s.major = *maj_le;
  } else if (*maj_be >= 2 && *maj_be <= 4) {
    s.big_endian = true;
    s.major = *maj_be;
  } else {
    return std::nullopt;
  }
  const bool be = s.big_endian;
  s.minor = *v.u16(30, be);
  if (s.major == 4) {
    // struct squashfs_super_block (96 bytes).
    s.sb_size = 96;
    if (!v.contains(0, s.sb_size)) return std::nullopt;
    s.inodes = *v.u32(4, be);
    s.mkfs_time = *v.u32(8, be);
    s.block_size = *v.u32(12, be);
    s.fragments = *v.u32(16, be);
    s.compression = *v.u16(20, be);
    s.block_log = *v.u16(22, be);
    s.flags = *v.u16(24, be);
    s.root_inode = *v.u64(32, be);
    s.bytes_used = *v.u64(40, be);
    s.id_table = *v.u64(48, be);
    s.xattr_table = *v.u64(56, be);
    s.inode_table = *v.u64(64, be);
    s.directory_table = *v.u64(72, be);
    s.fragment_table = *v.u64(80, be);
    s.lookup_table = *v.u64(88, be);
    if (s.compression < 1 || s.compression > 6) return std::nullopt;
    // v4 block sizes are 4 KiB .. 1 MiB (SQUASHFS_FILE_MAX_SIZE).
    if (s.block_size < 4096 || s.block_size > (1u << 20) || !is_pow2(s.block_size)) return std::nullopt;
  } else {
    // struct squashfs_super_block_3: 16-bit fields at 28..35, byte fields at 36..38, unaligned fields from 39 (the
    // struct is packed). 2.x stops after fragment_table_start_2 (63 bytes) and keeps its table starts in the 32-bit
    // fields; 3.x adds 64-bit copies from 63 on (119 bytes).
    s.sb_size = s.major == 3 ? 119 : 63;
    if (!v.contains(0, s.sb_size)) return std::nullopt;
    s.inodes = *v.u32(4, be);
    s.block_log = *v.u16(34, be);
    s.flags = *v.u8(36);
    s.no_uids = *v.u8(37);
    s.no_guids = *v.u8(38);
    s.mkfs_time = *v.u32(39, be);
    s.root_inode = *v.u64(43, be);
    s.block_size = *v.u32(51, be);
    s.fragments = *v.u32(55, be);
    // 2.x tools write 512 B .. 64 KiB blocks, 3.x up to 1 MiB.
    const uint32_t max_block = s.major == 3 ? (1u << 20) : (1u << 16);
    if (s.block_size < 512 || s.block_size > max_block || !is_pow2(s.block_size)) return std::nullopt;
    if (s.major == 3) {
      s.bytes_used = *v.u64(63, be);
      s.uid_table = *v.u64(71, be);
      s.guid_table = *v.u64(79, be);
      s.inode_table = *v.u64(87, be);
      s.directory_table = *v.u64(95, be);
      s.fragment_table = *v.u64(103, be);
      s.lookup_table = *v.u64(111, be);
    } else {
      s.bytes_used = *v.u32(8, be);
      s.uid_table = *v.u32(12, be);
      s.guid_table = *v.u32(16, be);
      s.inode_table = *v.u32(20, be);
      s.directory_table = *v.u32(24, be);
      s.fragment_table = *v.u32(59, be);
    }
  }
  if (s.block_log > 31 || (uint64_t{1} << s.block_log) != s.block_size) return std::nullopt;
  // Below the superblock there is no filesystem; above 1 TiB is not a firmware filesystem.
  if (s.bytes_used < s.sb_size || s.bytes_used > (uint64_t{1} << 40)) return std::nullopt;
  return s;
}

}  // namespace squashfs

namespace {

using squashfs::kInvalidBlock;

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }
Confidence lower_to(Confidence c, Confidence cap) { return c < cap ? c : cap; }

const char* v4_compression(uint16_t id) {
  // v4 superblock "compression" (squashfs_fs.h ZLIB_COMPRESSION .. ZSTD_COMPRESSION).
  switch (id) {
    case 1: return "gzip";
    case 2: return "lzma";
    case 3: return "lzo";
    case 4: return "xz";
    case 5: return "lz4";
    case 6: return "zstd";
    default: return "unknown";
  }
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

struct Table {
  const char* name;
  uint64_t start;
};

std::optional<Hit> validate_squashfs(const ValidateInput& in) {
  const ByteView v = in.image.tail(in.start);
  const uint64_t abs = in.image.base() + in.start;
  auto parsed = squashfs::read_superblock(v);
  if (!parsed) return std::nullopt;
  const squashfs::Superblock& s = *parsed;
  const bool be = s.big_endian;

  Hit hit;
  hit.offset = abs;
  hit.type = "squashfs";
  hit.nesting = Nesting::Opaque;
  Confidence conf = Confidence::High;

  if (s.major == 4 && s.minor != 0) {
    hit.diag(abs + 30, Severity::Warning, "unexpected minor version " + std::to_string(s.minor) + " for squashfs 4");
    conf = lower_to(conf, Confidence::Medium);
  }

  // Tables that must lie in [directory table, bytes_used) (mksquashfs write order: superblock, data, inode table,
  // directory table, then the fragment/lookup/id/xattr indexes or the 2.x/3.x uid/guid arrays).
  std::vector<Table> tables;
  if (s.major == 4) {
    tables.push_back({"id table", s.id_table});
    if (s.xattr_table != kInvalidBlock) tables.push_back({"xattr table", s.xattr_table});
    if (s.fragments != 0) tables.push_back({"fragment table", s.fragment_table});
    if (s.lookup_table != kInvalidBlock) tables.push_back({"lookup table", s.lookup_table});
  } else {
    if (s.no_uids) tables.push_back({"uid table", s.uid_table});
    if (s.no_guids) tables.push_back({"guid table", s.guid_table});
    if (s.fragments) tables.push_back({"fragment table", s.fragment_table});
    if (s.major == 3 && (s.flags & squashfs::kFlagExportable) && s.lookup_table != kInvalidBlock)
      tables.push_back({"lookup table", s.lookup_table});
  }

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
  for (const auto& t : tables)
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
  if (tables_ok && s.major == 4 && v.contains(s.id_table, 8)) {
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

  // 2.x/3.x have no compression field: a dry run of the reader decodes the first compressed block it needs (zlib or
  // one of the vendor LZMA layouts) and reads the root directory. Its verdict is reported, not held against the
  // superblock: a damaged tree is still a squashfs the extractor will report on.
  std::string compression;
  if (s.major == 4) {
    compression = v4_compression(s.compression);
  } else if (tables_ok) {
    squashfs::Probe3 p = squashfs::probe_squashfs3(v.clamp(0, size));
    if (p.codec_known) {
      compression = p.compression;
      if (!p.variant.empty()) compression += " (" + p.variant + ")";
    }
    if (!p.problem.empty()) hit.diag(abs, Severity::Warning, "tree: " + p.problem);
  }
  // Nothing decoded: what the version implies (2.x/3.x tools only knew zlib; vendor LZMA builds mark minor 'L').
  if (compression.empty()) compression = s.minor == 0x4C ? "lzma" : "gzip";
  hit.confidence = conf;

  std::string d = "Squashfs filesystem, ";
  d += be ? "big endian" : "little endian";
  if (s.magic_note) d += std::string(", ") + s.magic_note;
  d += ", version " + std::to_string(s.major) + "." + std::to_string(s.minor);
  d += ", compression:" + compression;
  d += ", size: " + std::to_string(s.bytes_used) + " bytes";
  d += ", " + std::to_string(s.inodes) + " inodes";
  d += ", blocksize: " + std::to_string(s.block_size) + " bytes";
  d += ", created: " + utc_time(s.mkfs_time);
  hit.description = std::move(d);
  return hit;
}

}  // namespace

void register_squashfs_validators(ValidatorRegistry& registry) {
  registry.add("squashfs", "SquashFS v2/v3/v4 superblock (both byte orders, vendor magics); size = bytes_used",
               validate_squashfs);
}

}  // namespace fwcert
