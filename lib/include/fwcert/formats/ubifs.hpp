// UBIFS on-flash structures, the walk's validator and the reader. Facts from Linux fs/ubifs/ubifs-media.h (struct
// ubifs_ch, ubifs_sb_node, ubifs_mst_node, ubifs_idx_node, ubifs_branch, ubifs_ino_node, ubifs_dent_node,
// ubifs_data_node, the simple key format, UBIFS_BLOCK_SIZE, UBIFS_COMPR_*, UBIFS_FLG_*, UBIFS_CRYPT_FL) and
// fs/ubifs/key.h (key layout: inode number in the first 32 bits, type in the top 3 bits of the second, block number
// or name hash in its low 29 bits).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "fwcert/core/bytes.hpp"
#include "fwcert/extract/containers.hpp"

namespace fwcert::ubifs {

inline constexpr uint32_t kNodeMagic = 0x06101831;  // UBIFS_NODE_MAGIC, little endian like every UBIFS field
inline constexpr uint64_t kChSize = 24;             // struct ubifs_ch
inline constexpr uint64_t kBlockSize = 4096;        // UBIFS_BLOCK_SIZE: what one data node holds at most

enum NodeType : uint8_t { kIno = 0, kData = 1, kDent = 2, kXent = 3, kTrun = 4, kPad = 5, kSb = 6, kMst = 7,
                          kRef = 8, kIdx = 9, kCs = 10, kOrph = 11, kAuth = 12 };

// The superblock node's facts (struct ubifs_sb_node).
struct Superblock {
  uint8_t key_hash = 0, key_fmt = 0;
  uint32_t flags = 0, min_io_size = 0, leb_size = 0, leb_cnt = 0, max_leb_cnt = 0;
  uint32_t log_lebs = 0, lpt_lebs = 0, orph_lebs = 0, fanout = 0, fmt_version = 0;
  uint16_t default_compr = 0, hash_algo = 0;
  bool encrypted() const { return flags & 0x10; }      // UBIFS_FLG_ENCRYPTION
  bool authenticated() const { return flags & 0x20; }  // UBIFS_FLG_AUTHENTICATION
};

// The newest valid master node (struct ubifs_mst_node) of LEBs 1 and 2.
struct Master {
  uint64_t sqnum = 0, highest_inum = 0, cmt_no = 0;
  uint32_t flags = 0, log_lnum = 0, root_lnum = 0, root_offs = 0, root_len = 0;
  uint32_t copies = 0;  // valid master nodes seen
};

// The superblock at fs[0] (magic, node type, CRC and the geometry checks); nullopt when it is none.
std::optional<Superblock> parse_superblock(ByteView fs, std::string* why = nullptr);
// The newest master node with a good CRC; nullopt when LEBs 1 and 2 hold none.
std::optional<Master> find_master(ByteView fs, const Superblock& sb);

const char* compression_name(uint16_t compr);

}  // namespace fwcert::ubifs

namespace fwcert {

// A UBIFS image (fs[0] = LEB 0, the superblock; LEBs are leb_size bytes each, as in a UBI volume). The tree is read
// from the committed index: the newest master node's root, index nodes down to the leaf nodes (inodes, directory
// entries, data nodes), each node's CRC checked. Files are rebuilt per 4 KiB block from their data nodes (none, LZO,
// zlib as raw deflate, zstd; holes read as zeros), directories from their entries, with hard links, symlinks and
// devices. Paths are absolute. Encrypted files are listed as encrypted, without content. With options.visit, files
// are streamed (see MemberVisitor).
ExtractResult read_ubifs(ByteView fs, Budget& budget, const ContainerReadOptions& options = {});

}  // namespace fwcert
