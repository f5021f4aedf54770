// CramFS on-disk structures (Linux include/uapi/linux/cramfs_fs.h). Shared by the walk's validator and the reader.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "fwcert/core/bytes.hpp"
#include "fwcert/core/result.hpp"

namespace fwcert::cramfs {

inline constexpr uint32_t kMagic = 0x28cd3d45;
inline constexpr uint32_t kSuperblockSize = 76;
inline constexpr uint32_t kInodeSize = 12;

// Superblock flags (cramfs_fs.h).
inline constexpr uint32_t kFlagFsidVersion2 = 0x001;
inline constexpr uint32_t kFlagSortedDirs = 0x002;
inline constexpr uint32_t kFlagHoles = 0x100;
inline constexpr uint32_t kFlagWrongSignature = 0x200;
inline constexpr uint32_t kFlagShiftedRootOffset = 0x400;
inline constexpr uint32_t kFlagExtBlockPointers = 0x800;
inline constexpr uint32_t kKnownFlags = 0xff | kFlagHoles | kFlagWrongSignature | kFlagShiftedRootOffset | kFlagExtBlockPointers;

struct Inode {
  uint32_t mode = 0;
  uint32_t uid = 0;
  uint32_t size = 0;
  uint32_t gid = 0;
  uint32_t namelen = 0;  // in 4-byte units
  uint32_t offset = 0;   // in 4-byte units, absolute from the start of the image (pad included)
};

struct Superblock {
  uint64_t start = 0;  // index of the superblock in the view
  bool big_endian = false;
  uint32_t size = 0;
  uint32_t flags = 0;
  bool signature_ok = false;  // "Compressed ROMFS" at +16 (the kernel does not check it; we use it for confidence)
  uint32_t crc = 0;
  uint32_t edition = 0;
  uint32_t blocks = 0;
  uint32_t files = 0;
  std::string name;
  Inode root;
};

// Decodes the three inode words at view[off] in the image's byte order (FORMATS.md 1.4).
std::optional<Inode> read_inode(ByteView view, uint64_t off, bool big_endian);

// Reads the superblock whose magic is at view[start]. Fails on a wrong magic or a truncated superblock.
Result<Superblock> read_superblock(ByteView view, uint64_t start);

inline bool is_dir(uint32_t mode) { return (mode & 0170000) == 0040000; }

// A CramFS whose superblock is gone, found by its own structure (the walk's "cramfs-root" validator): the root
// directory inode at +64 (+512+64 after a boot pad) with no name and entries right after it, a run of plausible
// entries of exactly its size, then the whole tree read without a problem and the first blocks of files inflating to
// the sizes their inodes promise. The work per probe is capped (root directory bytes, inodes, inflated blocks).
inline constexpr uint64_t kProbeMaxRootBytes = uint64_t{1} << 20;
inline constexpr uint64_t kProbeMaxInodes = 8192;
inline constexpr size_t kProbeSamples = 32;

struct HeadlessProbe {
  bool found = false;       // the root inode and its directory are plausible (a low-confidence candidate)
  bool consistent = false;  // and the tree reads back (every directory parses, sampled blocks inflate right)
  bool big_endian = false;
  uint64_t root_at = 0;     // index of the root inode in the view
  uint64_t entries = 0;     // entries of the root directory
  uint64_t size = 0;        // bytes the tree uses from the start, rounded up to the block size
  uint32_t block_size = 0;
  uint64_t files = 0, dirs = 0, inflated = 0;  // among the first kProbeMaxInodes inodes
  std::string why;          // when found but not consistent: the first problem
};

// Probes view[start..] as a CramFS without a superblock (its first 64 bytes may be anything), in one byte order,
// with or without the 512-byte boot pad. Never throws; bounds-checked.
HeadlessProbe probe_headless(ByteView view, uint64_t start, bool big_endian, bool pad);

}  // namespace fwcert::cramfs
