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

}  // namespace fwcert::cramfs
