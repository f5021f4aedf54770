// ext2/ext3/ext4: the superblock checks shared by the walk's validator and the reader, and the reader itself (through
// Debian's libext2fs, reading from memory). Layout: e2fsprogs lib/ext2fs/ext2_fs.h, struct ext2_super_block.
#pragma once

#include <cstdint>
#include <string>

#include "fwcert/core/bytes.hpp"
#include "fwcert/core/result.hpp"
#include "fwcert/extract/containers.hpp"

namespace fwcert::ext {

inline constexpr uint64_t kSuperblockOffset = 1024;  // SUPERBLOCK_OFFSET: the primary superblock, in every block size
inline constexpr uint64_t kSuperblockSize = 1024;
inline constexpr uint16_t kMagic = 0xEF53;

// The facts of a superblock that the checks below found sane.
struct Superblock {
  uint64_t block_size = 0;
  uint64_t blocks_count = 0;  // 64-bit with the 64bit feature
  uint64_t groups = 0;
  uint64_t desc_size = 32;  // group descriptor size
  uint32_t inodes_count = 0, inodes_per_group = 0, blocks_per_group = 0, first_data_block = 0;
  uint32_t inode_size = 128;
  uint32_t rev_level = 0;
  uint32_t compat = 0, incompat = 0, ro_compat = 0;
  uint16_t state = 0;
  uint32_t mtime = 0, wtime = 0, mkfs_time = 0;
  std::string volume_name;
  uint32_t unknown_incompat = 0, unknown_ro_compat = 0;  // feature bits that libext2fs does not know

  uint64_t size() const { return blocks_count * block_size; }  // the filesystem's extent in bytes
  bool needs_recovery() const;                                 // a journal not replayed (mounted when imaged)
  const char* flavour() const;                                 // "ext2", "ext3" or "ext4"
  std::string features() const;                                // "has_journal extent 64bit ..." (the known ones)
};

// Reads and checks the superblock of the filesystem starting at fs[0] (the superblock is at 1024): the magic, the
// block size (1 KiB to 64 KiB), the group geometry (blocks and inodes per group fit one bitmap block; the inode count
// equals groups x inodes per group), the inode and descriptor sizes, and that the group descriptor table is no larger
// than the image could hold. Fails naming the first field that is wrong.
Result<Superblock> read_superblock(ByteView fs);

// The reader: libext2fs over a read-only in-memory io_manager (no temporary file), the tree walked from the root with
// bounded depth, entries and reads, every file and allocation drawn from `budget`. The journal is not replayed.
// Paths are absolute ("/etc/ssl/x.pem"). With options.visit, files are streamed (see MemberVisitor).
ExtractResult read_ext(ByteView fs, Budget& budget, const ContainerReadOptions& options = {});

}  // namespace fwcert::ext
