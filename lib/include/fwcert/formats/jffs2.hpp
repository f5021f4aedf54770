// JFFS2: the node scanner shared by the walk's validator (a dry run) and the reader, and the reader itself.
//
// On-flash structures from Linux include/uapi/linux/jffs2.h (struct jffs2_unknown_node, jffs2_raw_dirent,
// jffs2_raw_inode, jffs2_raw_summary, the JFFS2_NODETYPE_* and JFFS2_COMPR_* values) and the scan rules of
// fs/jffs2/scan.c (the header CRC is computed with JFFS2_NODE_ACCURATE set, so nodes the kernel obsoleted by clearing
// that bit still check); LZMA nodes as OpenWrt's JFFS2 LZMA patch writes them (compressor id 8, raw LZMA with lc=0,
// lp=0, pb=0 and an 8 KiB dictionary: LZMA_BEST_* and LZMA_BEST_DICT(0x2000) of its fs/jffs2/compr_lzma.c, the same in
// U-Boot's fs/jffs2/compr_lzma.c).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fwcert/core/bytes.hpp"
#include "fwcert/extract/containers.hpp"
#include "fwcert/scan/hit.hpp"

namespace fwcert {
class ValidatorRegistry;
}

namespace fwcert::jffs2 {

inline constexpr uint16_t kMagic = 0x1985;
inline constexpr uint16_t kAccurate = 0x2000;  // JFFS2_NODE_ACCURATE: cleared on NOR flash when a node is obsoleted
inline constexpr uint16_t kCompatMask = 0xc000;
inline constexpr uint16_t kIncompat = 0xc000;
inline constexpr uint16_t kDirent = 0xE001;
inline constexpr uint16_t kInode = 0xE002;
inline constexpr uint16_t kCleanmarker = 0x2003;
inline constexpr uint16_t kPadding = 0x2004;
inline constexpr uint16_t kSummary = 0x2006;
inline constexpr uint16_t kXattr = 0xE008;
inline constexpr uint16_t kXref = 0xE009;
inline constexpr uint64_t kHeaderSize = 12;   // struct jffs2_unknown_node
inline constexpr uint64_t kDirentSize = 40;   // struct jffs2_raw_dirent without the name
inline constexpr uint64_t kInodeSize = 68;    // struct jffs2_raw_inode without the data
inline constexpr uint64_t kSummarySize = 32;  // struct jffs2_raw_summary without the entries

// JFFS2_COMPR_* (0x08 is OpenWrt's LZMA).
enum Compr : uint8_t { None = 0, Zero = 1, Rtime = 2, Rubinmips = 3, Copy = 4, Dynrubin = 5, Zlib = 6, Lzo = 7, Lzma = 8 };

// The kernel's crc32(0, p, len) (crc32_le without pre/post inversion).
uint32_t crc(ByteView v);

// A valid inode node (header, node and data CRCs checked).
struct InodeNode {
  uint64_t pos = 0;  // in the scanned view
  uint32_t ino = 0, version = 0, isize = 0, offset = 0, csize = 0, dsize = 0;
  uint8_t compr = 0;
  bool obsolete = false;  // ACCURATE bit cleared
};

// A valid directory entry node.
struct DirentNode {
  uint64_t pos = 0;
  uint32_t pino = 0, version = 0, ino = 0;  // ino 0: the name was unlinked
  uint8_t type = 0;                         // DT_* of the target
  bool obsolete = false;
  std::string name;
};

struct ScanOptions {
  bool records = false;     // keep the inode and dirent nodes (the reader); the validator only counts
  bool check_data = false;  // check each inode node's data CRC (the reader; the validator skips that cost)
  uint64_t max_nodes = uint64_t{1} << 22;
};

struct Scan {
  bool big_endian = false;
  bool found = false;        // the view starts with a valid node header
  uint64_t end = 0;          // end of the last valid node (relative to the view)
  uint64_t nodes = 0;        // nodes with a valid header
  uint64_t bad = 0;          // damaged nodes and stretches of unrecognised bytes skipped
  bool truncated = false;    // a node runs past the end of the view
  bool capped = false;       // max_nodes reached
  std::vector<InodeNode> inodes;
  std::vector<DirentNode> dirents;
  std::vector<Diagnostic> diagnostics;  // absolute offsets
};

// Walks the nodes from the start of `v` (which must start with a node): 4-byte aligned nodes, erased (0xFF) and zero
// filled space skipped, damaged nodes and unknown bytes skipped up to the next node header (at most 1 MiB of
// unrecognised bytes between two nodes). Never throws on bad bytes.
Scan scan(ByteView v, const ScanOptions& options);

}  // namespace fwcert::jffs2

namespace fwcert {

// The walk's "jffs2" validator (a dry run of jffs2::scan).
void register_jffs2_validators(ValidatorRegistry& registry);

// Reads a JFFS2 image (both byte orders) into entries with absolute paths ("/etc/ssl/x.pem"). With
// options.include_deleted, files whose name was unlinked are listed too as "PATH;deleted", and the older contents of
// files that were overwritten or truncated as "PATH;vN" (N: the newest node version in that content). Inodes that no
// directory reaches are listed under "/lost+found/inoN". Streams through options.visit.
ExtractResult read_jffs2(ByteView fs, Budget& budget, const ContainerReadOptions& options = {});

}  // namespace fwcert
