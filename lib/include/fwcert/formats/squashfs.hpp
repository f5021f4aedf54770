// SquashFS superblocks of every version (2.x, 3.x, 4.0) in both byte orders, with the vendor magics, and the reader of
// the 2.x/3.x layouts (lib/src/formats/squashfs3.cpp). The walk's validator (lib/src/formats/squashfs.cpp) and the
// readers share read_superblock(); v4 little-endian images are read by extract/squashfs_reader.cpp (libsquashfs).
//
// Sources: squashfs-tools 4.x squashfs_compat.h (struct squashfs_super_block_3, the *_inode_header_3/_2, dir_header,
// dir_entry, fragment_entry structs and the SQUASHFS_SWAP_* bit positions), squashfs_fs.h (v4 superblock),
// unsquash-2.c / unsquash-3.c (how unsquashfs reads them), Linux 2.6 fs/squashfs (v3 kernel driver).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "fwcert/core/bytes.hpp"
#include "fwcert/extract/readers.hpp"

namespace fwcert::squashfs {

inline constexpr uint64_t kInvalidBlock = ~uint64_t{0};  // SQUASHFS_INVALID_BLK: "table absent"

// Superblock flags of 2.x/3.x (squashfs_fs.h 3.x: SQUASHFS_NOI .. SQUASHFS_EXPORT).
inline constexpr uint8_t kFlagUncompressedInodes = 0x01;
inline constexpr uint8_t kFlagUncompressedData = 0x02;
inline constexpr uint8_t kFlagCheck = 0x04;  // metadata blocks carry a marker byte after their length
inline constexpr uint8_t kFlagUncompressedFragments = 0x08;
inline constexpr uint8_t kFlagNoFragments = 0x10;
inline constexpr uint8_t kFlagAlwaysFragments = 0x20;
inline constexpr uint8_t kFlagDuplicates = 0x40;
inline constexpr uint8_t kFlagExportable = 0x80;

// The version-independent facts of a superblock; fields a version lacks stay 0 / kInvalidBlock.
struct Superblock {
  bool big_endian = false;
  std::string magic;                 // the 4 bytes found
  const char* magic_note = nullptr;  // "non-standard signature", "DD-WRT signature", ... (nullptr: standard)
  uint16_t major = 0, minor = 0;
  uint64_t sb_size = 0;  // 96 (v4), 119 (v3), 63 (v2)
  uint32_t inodes = 0, mkfs_time = 0, block_size = 0, fragments = 0;
  uint16_t block_log = 0;
  uint16_t flags = 0;
  uint16_t compression = 0;  // v4 compression id; 0 for v2/v3 (no field: zlib, or a vendor LZMA)
  uint8_t no_uids = 0, no_guids = 0;  // v2/v3
  uint64_t root_inode = 0;            // metadata block (relative to the inode table) << 16 | offset
  uint64_t bytes_used = 0;
  uint64_t inode_table = 0, directory_table = 0;
  uint64_t fragment_table = kInvalidBlock, lookup_table = kInvalidBlock;
  uint64_t uid_table = kInvalidBlock, guid_table = kInvalidBlock;  // v2/v3: raw u32 arrays
  uint64_t id_table = kInvalidBlock, xattr_table = kInvalidBlock;  // v4
};

// Reads the superblock at v[0]: a known magic, s_major 2..4 in exactly one byte order (the order comes from it),
// the fixed fields of that version plausible (block size and block_log agree, bytes_used within reason). nullopt
// otherwise. Does not look at the tables.
std::optional<Superblock> read_superblock(ByteView v);

// What a dry run of the 2.x/3.x reader found (the walk's probe): whether the root directory is readable and which
// compression the blocks use.
struct Probe3 {
  bool root_ok = false;
  bool codec_known = false;  // a compressed block was decoded
  std::string compression;   // "gzip", "lzma", or "" when no compressed block was seen
  std::string variant;       // for LZMA: which vendor layout ("13-byte header", "headerless lc=3 lp=0 pb=2", ...)
  std::string problem;       // first error met, empty when none
};
Probe3 probe_squashfs3(ByteView fs);

}  // namespace fwcert::squashfs

namespace fwcert {

// squashfs 2.x and 3.x, both byte orders, zlib and the vendor LZMA layouts of the 2006-2012 SDKs (13-byte "alone"
// header, 5-byte header without size, headerless lc=3 lp=0 pb=2, DD-WRT's per-block properties), chosen per image on
// the first compressed block. `fs` starts at the superblock. With `visit`, files are streamed (see MemberVisitor).
ExtractResult read_squashfs3(ByteView fs, Budget& budget, const MemberVisitor& visit = {});

// Any squashfs: 2.x/3.x through read_squashfs3, 4.0 through read_squashfs (libsquashfs; big-endian 4.0 is reported,
// not read).
ExtractResult read_squashfs_any(ByteView fs, Budget& budget, const MemberVisitor& visit = {});

}  // namespace fwcert
