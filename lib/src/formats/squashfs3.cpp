// In-process reader of squashfs 2.x and 3.x (both byte orders, zlib and the vendor LZMA layouts), which libsquashfs
// does not read. Written from the public descriptions of the on-disk structures; no code is taken from them:
//   - squashfs-tools 4.x squashfs_compat.h: struct squashfs_super_block_3; squashfs_base/ipc/dev/symlink/reg/lreg/
//     dir/ldir_inode_header_3 and _2; squashfs_dir_header_3/_2, squashfs_dir_entry_3/_2, squashfs_fragment_entry_3/_2;
//     the SQUASHFS_SWAP_* macros, which give every field's bit position and width (used below as (pos, width)).
//   - unsquash-2.c / unsquash-3.c (squashfs-tools 4.x): directory size minus 3 in 3.x only, file block count from the
//     fragment index, guid 255 = "same as uid", 2.x times of non-dir/non-file inodes = mkfs_time.
//   - Linux 2.6 fs/squashfs/inode.c (3.x): metadata blocks of at most 8 KiB with a 16-bit length (bit 15 = stored
//     uncompressed) and, with SQUASHFS_CHECK, a marker byte after it; data block sizes with bit 24 = uncompressed.
//   - sasquatch (binwalk's unsquashfs) notes on the vendor LZMA layouts: the 13-byte "alone" header (sqlzma, 2.6
//     SDKs), the same without the 8-byte size (Broadcom CFE/7zlzma and others), headerless data with lc=3 lp=0 pb=2,
//     DD-WRT's 4-byte per-block header (pb, lc, lp, fast bytes). sqlzma also stores some blocks as zlib.
//
// Bitfields: a packed C struct on a little-endian machine fills each field from the least significant bit of the
// lowest byte on (field at bit position p of width w = the w bits above bit p of the little-endian number there); a
// big-endian machine fills from the most significant bit of the lowest byte (the w bits at stream position p counted
// MSB first). So the same (p, w) pair decodes both orders, only the bit numbering differs (bits() below).
//
// Nothing here trusts the image: every read is bounds-checked, metadata reads always move forward, directories are
// expanded once, depth, entries, bytes and decoded metadata are capped, and problems become diagnostics.
#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "fwcert/core/codec.hpp"
#include "fwcert/formats/squashfs.hpp"

namespace fwcert {
namespace {

using squashfs::Superblock;

constexpr uint32_t kMetadataSize = 8192;              // SQUASHFS_METADATA_SIZE
constexpr uint32_t kMetaUncompressed = 0x8000;        // SQUASHFS_COMPRESSED_BIT
constexpr uint32_t kBlockUncompressed = 1u << 24;     // SQUASHFS_COMPRESSED_BIT_BLOCK
constexpr uint32_t kInvalidFrag = 0xFFFFFFFFu;        // SQUASHFS_INVALID_FRAG
constexpr uint8_t kGuidSameAsUid = 255;               // SQUASHFS_GUIDS
constexpr uint32_t kMaxDirCount = 256;                // SQUASHFS_DIR_COUNT: entries under one directory header
constexpr int kMaxDepth = 128;
constexpr size_t kMaxDiagnostics = 256;
constexpr uint64_t kMaxMetadataBytes = uint64_t{256} << 20;  // decoded inode/directory/fragment metadata, in all

// Inode types (squashfs_fs.h 3.x SQUASHFS_DIR_TYPE .. SQUASHFS_LREG_TYPE).
enum : unsigned { kDir = 1, kFile = 2, kSymlink = 3, kBlkDev = 4, kChrDev = 5, kFifo = 6, kSocket = 7, kLDir = 8,
                  kLReg = 9 };

uint32_t type_bits(unsigned type) {
  switch (type) {
    case kDir: case kLDir: return 0040000;
    case kFile: case kLReg: return 0100000;
    case kSymlink: return 0120000;
    case kBlkDev: return 0060000;
    case kChrDev: return 0020000;
    case kFifo: return 0010000;
    case kSocket: return 0140000;
    default: return 0;
  }
}

// Field (pos, width) in bits of a packed structure in the image's byte order (see the header comment).
uint64_t bits(const uint8_t* b, unsigned pos, unsigned width, bool be) {
  uint64_t v = 0;
  for (unsigned i = 0; i < width; ++i) {
    const unsigned k = pos + i;
    if (be) {
      v = (v << 1) | ((b[k / 8] >> (7 - k % 8)) & 1u);
    } else {
      v |= uint64_t{(b[k / 8] >> (k % 8)) & 1u} << i;
    }
  }
  return v;
}

// --- Block compression ----------------------------------------------------------------------------------------------

// How the image's compressed blocks are stored. Found once per image on the first compressed block (sasquatch does the
// same); a zlib block (0x78 header) is accepted anywhere, as sqlzma mixes the two.
enum class Lzma { Unknown, Alone, NoSize, Raw302, DdWrt, NoSizeAt4, Failed };

const char* lzma_variant_name(Lzma v) {
  switch (v) {
    case Lzma::Alone: return "13-byte header";
    case Lzma::NoSize: return "5-byte header without size";
    case Lzma::Raw302: return "headerless lc=3 lp=0 pb=2";
    case Lzma::DdWrt: return "DD-WRT per-block properties";
    case Lzma::NoSizeAt4: return "4-byte prefix, 5-byte header";
    default: return "";
  }
}

// LZMA properties byte: (pb * 5 + lp) * 9 + lc.
std::optional<LzmaParams> props_from_byte(uint8_t p, uint32_t dict) {
  if (p >= 9 * 5 * 5) return std::nullopt;
  LzmaParams lp;
  lp.lc = static_cast<uint8_t>(p % 9);
  lp.lp = static_cast<uint8_t>((p / 9) % 5);
  lp.pb = static_cast<uint8_t>(p / 45);
  lp.dict_size = dict;
  return lp;
}

CodecOutcome decode_lzma_once(Lzma v, ByteView in, uint8_t* out, uint64_t cap) {
  // A block decodes to at most one block (<= 1 MiB), so a dictionary of cap bytes holds every distance it can use.
  const uint32_t dict = static_cast<uint32_t>(std::max<uint64_t>(cap, 4096));
  CodecOutcome bad;
  bad.status = CodecStatus::Corrupt;
  bad.why = "not this LZMA layout";
  switch (v) {
    case Lzma::Alone: {
      // The "alone" header read here rather than by liblzma's alone decoder: that one allocates the dictionary the
      // header names (up to 4 GiB of garbage when this is not the layout), while a block never needs more than cap.
      // The size must fit the block (or be "unknown", all ones).
      auto p = in.u8(0);
      auto size = in.u64le(5);
      if (!p || !size) return bad;
      auto params = props_from_byte(*p, dict);
      if (!params) return bad;
      if (*size == ~uint64_t{0}) return decode_block(BlockCodec::LzmaRaw, in.tail(13), out, cap, *params);
      if (*size == 0 || *size > cap) return bad;
      CodecOutcome r = decode_block(BlockCodec::LzmaRaw, in.tail(13), out, *size, *params);
      if (r.status == CodecStatus::Overflow && r.produced == *size) {
        r.status = CodecStatus::Ok;
        r.why.clear();
      }
      return r;
    }
    case Lzma::NoSize:
    case Lzma::NoSizeAt4: {
      const uint64_t skip = v == Lzma::NoSizeAt4 ? 4 : 0;
      auto p = in.u8(skip);
      auto d = in.u32le(skip + 1);
      if (!p || !d) return bad;
      auto params = props_from_byte(*p, dict);
      if (!params || *d < 4096) return bad;
      return decode_block(BlockCodec::LzmaRaw, in.tail(skip + 5), out, cap, *params);
    }
    case Lzma::Raw302: {
      LzmaParams p;
      p.dict_size = dict;
      return decode_block(BlockCodec::LzmaRaw, in, out, cap, p);
    }
    case Lzma::DdWrt: {
      auto pb = in.u8(0), lc = in.u8(1), lp = in.u8(2);
      if (!pb || !lc || !lp || *pb > 4 || *lc > 8 || *lp > 4) return bad;
      LzmaParams p;
      p.lc = *lc;
      p.lp = *lp;
      p.pb = *pb;
      p.dict_size = dict;
      return decode_block(BlockCodec::LzmaRaw, in.tail(4), out, cap, p);
    }
    default:
      return bad;
  }
}

// Without a size in the block, a raw LZMA stream has no end of its own (vendor encoders write no end marker, and the
// stored block may carry padding): where the inode says how much the block holds, decoding stops there, as the
// kernel drivers do with their fixed output size.
CodecOutcome decode_lzma(Lzma v, ByteView in, uint8_t* out, uint64_t cap, uint64_t exact) {
  if (exact == 0 || exact > cap || v == Lzma::Alone) return decode_lzma_once(v, in, out, cap);  // alone: its own size
  CodecOutcome r = decode_lzma_once(v, in, out, exact);
  if (r.status == CodecStatus::Overflow && r.produced == exact) {
    r.status = CodecStatus::Ok;
    r.why.clear();
  }
  return r;
}

bool looks_zlib(ByteView in) {
  auto a = in.u8(0), b = in.u8(1);
  return a && b && (*a & 0x0F) == 8 && (*a >> 4) <= 7 && ((unsigned{*a} << 8) | *b) % 31 == 0;
}

class Codec {
 public:
  // Decodes one block into out[0, cap). `exact`: the size it must decode to (0 = any size up to cap).
  CodecOutcome decode(ByteView in, uint8_t* out, uint64_t cap, uint64_t exact) {
    auto fits = [&](const CodecOutcome& r) { return r.ok() && r.produced > 0 && (exact == 0 || r.produced == exact); };
    CodecOutcome zr;
    zr.status = CodecStatus::Unsupported;
    zr.why = "block decodes neither as zlib nor as any known LZMA layout";
    if (looks_zlib(in)) {
      zr = decode_block(BlockCodec::Zlib, in, out, cap);
      if (fits(zr)) {
        zlib_seen_ = true;
        return zr;
      }
    }
    if (lzma_ == Lzma::Unknown) {
      for (Lzma v : {Lzma::Alone, Lzma::NoSize, Lzma::Raw302, Lzma::DdWrt, Lzma::NoSizeAt4}) {
        CodecOutcome r = decode_lzma(v, in, out, cap, exact);
        if (fits(r)) {
          lzma_ = v;
          return r;
        }
      }
      // Give up after a few blocks that nothing decodes: the image is damaged or uses something else.
      if (++detect_failures_ >= 4) lzma_ = Lzma::Failed;
      return zr;
    }
    if (lzma_ == Lzma::Failed) return zr;
    CodecOutcome r = decode_lzma(lzma_, in, out, cap, exact);
    return !r.ok() && looks_zlib(in) ? zr : r;
  }

  bool known() const { return zlib_seen_ || (lzma_ != Lzma::Unknown && lzma_ != Lzma::Failed); }
  std::string compression() const {
    if (lzma_ != Lzma::Unknown && lzma_ != Lzma::Failed) return zlib_seen_ ? "lzma+gzip" : "lzma";
    return zlib_seen_ ? "gzip" : "";
  }
  std::string variant() const { return lzma_variant_name(lzma_); }

 private:
  Lzma lzma_ = Lzma::Unknown;
  bool zlib_seen_ = false;
  int detect_failures_ = 0;
};

// --- The reader -----------------------------------------------------------------------------------------------------

struct Inode {
  unsigned type = 0;
  uint32_t mode = 0;  // permission bits (12) plus the type bits
  uint8_t uid_idx = 0, gid_idx = 0;
  int64_t mtime = 0;
  uint32_t number = 0;  // 3.x inode number (2.x has none)
  // directories
  uint32_t dir_size = 0, dir_offset = 0;
  uint64_t dir_start = 0;
  // files
  uint64_t file_size = 0, data_start = 0;
  uint32_t fragment = kInvalidFrag, frag_offset = 0;
  uint64_t list_block = 0;  // where the block list starts (metadata cursor)
  uint32_t list_offset = 0;
  // symlinks, devices
  std::string target;
  uint32_t rdev = 0;
};

struct MetaBlock {
  std::vector<uint8_t> data;
  uint64_t next = 0;  // index of the following metadata block
};

struct Child {
  std::string name;
  uint64_t block = 0;  // inode location: metadata block index in fs_
  uint32_t offset = 0;
};

class Reader3 {
 public:
  Reader3(ByteView fs, Budget& budget, const MemberVisitor& visit, bool probe)
      : fs_(fs), budget_(budget), visit_(visit), probe_(probe) {}

  ExtractResult run() {
    if (!open()) return std::move(out_);
    Inode root;
    const uint64_t rb = sb_.inode_table + (sb_.root_inode >> 16);
    const uint32_t ro = static_cast<uint32_t>(sb_.root_inode & 0xFFFF);
    if (!read_inode(rb, ro, root)) {
      diag(sb_.inode_table, Severity::Error, "cannot read the root inode: " + last_error_);
      return std::move(out_);
    }
    if (root.type != kDir && root.type != kLDir) {
      diag(sb_.inode_table, Severity::Error, "the root inode is not a directory (type " + std::to_string(root.type) + ")");
      return std::move(out_);
    }
    root_ok_ = true;
    expanded_.insert((rb << 16) | ro);
    walk(root, "", 0);
    return std::move(out_);
  }

  // Probe results.
  bool root_ok() const { return root_ok_; }
  const Codec& codec() const { return codec_; }
  std::string first_problem() const {
    for (const auto& d : out_.diagnostics)
      if (d.severity == Severity::Error) return d.message.substr(d.message.find(": ") + 2);
    return {};
  }

 private:
  // --- diagnostics and limits

  void diag(uint64_t rel, Severity s, std::string message) {
    if (diag_count_ == kMaxDiagnostics)
      out_.diagnostics.push_back({fs_.base(), Severity::Warning,
                                  "squashfs: further diagnostics suppressed (more than " +
                                      std::to_string(kMaxDiagnostics) + ")"});
    if (diag_count_++ >= kMaxDiagnostics) return;
    out_.diagnostics.push_back({fs_.base() + rel, s, "squashfs: " + std::move(message)});
  }
  void limit(std::string message) {
    out_.limited = true;
    stop_ = true;
    diag(0, Severity::Warning, std::move(message));
  }
  bool fail(std::string why) {
    last_error_ = std::move(why);
    return false;
  }
  const MetaBlock* meta_fail(std::string why) {
    last_error_ = std::move(why);
    return nullptr;
  }

  // --- superblock, id tables

  bool open() {
    auto s = squashfs::read_superblock(fs_);
    if (!s) {
      diag(0, Severity::Error, "no squashfs 2.x/3.x superblock here");
      return false;
    }
    sb_ = *s;
    be_ = sb_.big_endian;
    if (sb_.major != 2 && sb_.major != 3) {
      diag(28, Severity::Error, "squashfs version " + std::to_string(sb_.major) + "." + std::to_string(sb_.minor) +
                                    " is not read here (2.x and 3.x only)");
      return false;
    }
    v3_ = sb_.major == 3;
    if (sb_.bytes_used > fs_.size())
      diag(0, Severity::Warning,
           "image truncated: the superblock says " + std::to_string(sb_.bytes_used) + " bytes, " +
               std::to_string(fs_.size()) + " available");
    limit_end_ = std::min<uint64_t>(sb_.bytes_used, fs_.size());
    if (sb_.inode_table < sb_.sb_size || sb_.inode_table >= limit_end_) {
      diag(0, Severity::Error, "inode table start " + std::to_string(sb_.inode_table) + " outside the image");
      return false;
    }
    if (sb_.directory_table <= sb_.inode_table || sb_.directory_table >= limit_end_) {
      diag(0, Severity::Error, "directory table start " + std::to_string(sb_.directory_table) + " outside the image");
      return false;
    }
    load_ids(sb_.uid_table, sb_.no_uids, uids_, "uid");
    load_ids(sb_.guid_table, sb_.no_guids, gids_, "guid");
    return true;
  }

  // 2.x/3.x keep uids and gids as plain u32 arrays (unsquash-123.c read_ids), at most 255 of each.
  void load_ids(uint64_t at, uint8_t count, std::vector<uint32_t>& ids, const char* what) {
    if (count == 0) return;
    if (!fs_.contains(at, uint64_t{count} * 4)) {
      diag(0, Severity::Warning, std::string(what) + " table outside the image; ids left 0");
      return;
    }
    for (unsigned i = 0; i < count; ++i) ids.push_back(*fs_.u32(at + 4 * uint64_t{i}, be_));
  }

  // --- metadata

  // The metadata block whose length header is at fs_[at], decoded (and cached). nullptr with last_error_ on failure.
  const MetaBlock* meta_block(uint64_t at) {
    if (auto it = meta_.find(at); it != meta_.end()) return &it->second;
    auto h = fs_.u16(at, be_);
    if (!h || at >= limit_end_) return meta_fail("metadata block at " + std::to_string(at) + " outside the image");
    const uint32_t len = *h & 0x7FFFu;
    const bool compressed = (*h & kMetaUncompressed) == 0;
    const uint64_t head = (sb_.flags & squashfs::kFlagCheck) ? 3 : 2;  // SQUASHFS_CHECK: a marker byte follows
    if (len == 0 || len > kMetadataSize)
      return meta_fail("metadata block at " + std::to_string(at) + " has length " + std::to_string(len));
    auto in = fs_.sub(at + head, len);
    if (!in || at + head + len > limit_end_)
      return meta_fail("metadata block at " + std::to_string(at) + " runs past the image");
    if (meta_bytes_ + kMetadataSize > kMaxMetadataBytes)
      return meta_fail("decoded metadata exceeds " + std::to_string(kMaxMetadataBytes >> 20) + " MiB");
    MetaBlock b;
    b.next = at + head + len;
    if (compressed) {
      b.data.resize(kMetadataSize);
      CodecOutcome r = codec_.decode(*in, b.data.data(), kMetadataSize, 0);
      if (!r.ok())
        return meta_fail("metadata block at " + std::to_string(at) + " does not decode: " + r.why);
      b.data.resize(static_cast<size_t>(r.produced));
    } else {
      b.data.assign(in->data(), in->data() + in->size());
    }
    meta_bytes_ += b.data.size();
    return &meta_.emplace(at, std::move(b)).first->second;
  }

  // Reads n bytes of metadata from (block, offset), moving the cursor; a read may span blocks. Every step either
  // copies bytes or moves to a block further on in the image, so it ends.
  bool meta_read(uint64_t& block, uint32_t& offset, uint8_t* out, size_t n) {
    while (n > 0) {
      const MetaBlock* b = meta_block(block);
      if (!b) return false;
      if (offset > b->data.size()) return fail("offset " + std::to_string(offset) + " past the end of its block");
      if (offset == b->data.size()) {
        block = b->next;
        offset = 0;
        continue;
      }
      const size_t take = std::min<size_t>(n, b->data.size() - offset);
      std::memcpy(out, b->data.data() + offset, take);
      out += take;
      n -= take;
      offset += static_cast<uint32_t>(take);
    }
    return true;
  }

  // --- inodes

  bool read_inode(uint64_t block, uint32_t offset, Inode& in) {
    uint8_t b[64] = {};
    // The base header tells the type; the full header is then read again from the start.
    const size_t base = v3_ ? 12 : 4;
    uint64_t bk = block;
    uint32_t of = offset;
    if (!meta_read(bk, of, b, base)) return false;
    in.type = static_cast<unsigned>(bits(b, 0, 4, be_));
    in.mode = static_cast<uint32_t>(bits(b, 4, 12, be_));
    in.uid_idx = static_cast<uint8_t>(bits(b, 16, 8, be_));
    in.gid_idx = static_cast<uint8_t>(bits(b, 24, 8, be_));
    if (v3_) {
      in.mtime = static_cast<int64_t>(bits(b, 32, 32, be_));
      in.number = static_cast<uint32_t>(bits(b, 64, 32, be_));
    } else {
      in.mtime = sb_.mkfs_time;  // 2.x: only directories and files have a time of their own
    }
    // Sizes of the fixed parts (sizeof the packed _3 / _2 structs).
    size_t full = 0;
    switch (in.type) {
      case kDir: full = v3_ ? 28 : 15; break;
      case kLDir: full = v3_ ? 31 : 18; break;
      case kFile: full = v3_ ? 32 : 24; break;
      case kLReg: full = v3_ ? 40 : 0; break;
      case kSymlink: full = v3_ ? 18 : 6; break;
      case kBlkDev: case kChrDev: full = v3_ ? 18 : 6; break;
      case kFifo: case kSocket: full = v3_ ? 16 : 4; break;
      default: full = 0; break;
    }
    if (full == 0) return fail("unknown inode type " + std::to_string(in.type));
    in.mode |= type_bits(in.type);
    bk = block;
    of = offset;
    if (!meta_read(bk, of, b, full)) return false;
    switch (in.type) {
      case kDir:
        if (v3_) {
          in.dir_size = static_cast<uint32_t>(bits(b, 128, 19, be_));
          in.dir_offset = static_cast<uint32_t>(bits(b, 147, 13, be_));
          in.dir_start = bits(b, 160, 32, be_);
        } else {
          in.dir_size = static_cast<uint32_t>(bits(b, 32, 19, be_));
          in.dir_offset = static_cast<uint32_t>(bits(b, 51, 13, be_));
          in.mtime = static_cast<int64_t>(bits(b, 64, 32, be_));
          in.dir_start = bits(b, 96, 24, be_);
        }
        break;
      case kLDir:
        if (v3_) {
          in.dir_size = static_cast<uint32_t>(bits(b, 128, 27, be_));
          in.dir_offset = static_cast<uint32_t>(bits(b, 155, 13, be_));
          in.dir_start = bits(b, 168, 32, be_);
        } else {
          in.dir_size = static_cast<uint32_t>(bits(b, 32, 27, be_));
          in.dir_offset = static_cast<uint32_t>(bits(b, 59, 13, be_));
          in.mtime = static_cast<int64_t>(bits(b, 72, 32, be_));
          in.dir_start = bits(b, 104, 24, be_);
        }
        break;
      case kFile:
        if (v3_) {
          in.data_start = bits(b, 96, 64, be_);
          in.fragment = static_cast<uint32_t>(bits(b, 160, 32, be_));
          in.frag_offset = static_cast<uint32_t>(bits(b, 192, 32, be_));
          in.file_size = bits(b, 224, 32, be_);
        } else {
          in.mtime = static_cast<int64_t>(bits(b, 32, 32, be_));
          in.data_start = bits(b, 64, 32, be_);
          in.fragment = static_cast<uint32_t>(bits(b, 96, 32, be_));
          in.frag_offset = static_cast<uint32_t>(bits(b, 128, 32, be_));
          in.file_size = bits(b, 160, 32, be_);
        }
        in.list_block = bk;
        in.list_offset = of;
        break;
      case kLReg:
        in.data_start = bits(b, 128, 64, be_);
        in.fragment = static_cast<uint32_t>(bits(b, 192, 32, be_));
        in.frag_offset = static_cast<uint32_t>(bits(b, 224, 32, be_));
        in.file_size = bits(b, 256, 64, be_);
        in.list_block = bk;
        in.list_offset = of;
        break;
      case kSymlink: {
        const size_t n = static_cast<size_t>(bits(b, v3_ ? 128 : 32, 16, be_));
        in.target.resize(n);
        if (n > 0 && !meta_read(bk, of, reinterpret_cast<uint8_t*>(in.target.data()), n)) return false;
        break;
      }
      case kBlkDev:
      case kChrDev:
        in.rdev = static_cast<uint32_t>(bits(b, v3_ ? 128 : 32, 16, be_));
        break;
      default:
        break;
    }
    return true;
  }

  // --- directories

  // The entries of a directory listing (squashfs_dir_header + entries, read until the listing size is used up).
  bool list_dir(const Inode& dir, std::vector<Child>& children, const std::string& shown) {
    // 3.x sizes count 3 bytes for "." and ".." that are not stored (unsquash-3.c: size - 3); 2.x stores the real size.
    const uint64_t size = v3_ ? (dir.dir_size >= 3 ? dir.dir_size - 3 : 0) : dir.dir_size;
    if (size == 0) return true;
    uint64_t block = sb_.directory_table + dir.dir_start;
    uint32_t offset = dir.dir_offset;
    const size_t hsize = v3_ ? 9 : 4, esize = v3_ ? 5 : 3;
    uint64_t used = 0;
    const uint64_t max_entries = budget_.limits().max_entries;
    while (used < size) {
      uint8_t h[9];
      if (!meta_read(block, offset, h, hsize)) {
        diag(sb_.directory_table, Severity::Error, shown + ": directory listing unreadable: " + last_error_);
        return false;
      }
      used += hsize;
      const uint32_t count = static_cast<uint32_t>(bits(h, 0, 8, be_)) + 1;
      const uint64_t start = bits(h, 8, v3_ ? 32 : 24, be_);
      if (count > kMaxDirCount) {  // cannot happen with an 8-bit field; kept as the format's rule
        diag(sb_.directory_table, Severity::Error, shown + ": directory header with " + std::to_string(count) + " entries");
        return false;
      }
      for (uint32_t i = 0; i < count; ++i) {
        if (++looked_at_ > 2 * max_entries + 1024) {
          limit("stopped after looking at " + std::to_string(looked_at_ - 1) + " directory entries");
          return false;
        }
        uint8_t e[5];
        if (!meta_read(block, offset, e, esize)) {
          diag(sb_.directory_table, Severity::Error, shown + ": directory entry unreadable: " + last_error_);
          return false;
        }
        used += esize;
        const uint32_t eoff = static_cast<uint32_t>(bits(e, 0, 13, be_));
        const size_t nlen = static_cast<size_t>(bits(e, 16, 8, be_)) + 1;
        std::string name(nlen, '\0');
        if (!meta_read(block, offset, reinterpret_cast<uint8_t*>(name.data()), nlen)) {
          diag(sb_.directory_table, Severity::Error, shown + ": directory entry name unreadable: " + last_error_);
          return false;
        }
        used += nlen;
        children.push_back({std::move(name), sb_.inode_table + start, eoff});
        if (used >= size) break;
      }
    }
    return true;
  }

  static std::string join(const std::string& dir, const std::string& name) { return dir + "/" + name; }

  void walk(const Inode& dir, const std::string& path, int depth) {
    if (probe_ && codec_.known()) return;  // the dry run has what it came for
    const std::string shown = path.empty() ? "/" : path;
    std::vector<Child> children;
    list_dir(dir, children, shown);
    for (auto& c : children) {
      if (stop_) return;
      const std::string child_path = join(path, c.name);
      Inode in;
      if (!read_inode(c.block, c.offset, in)) {
        diag(sb_.inode_table, Severity::Error, child_path + ": cannot read inode: " + last_error_);
        continue;
      }
      if (!emit(in, child_path, c.name)) return;
      if (probe_ && codec_.known()) {
        stop_ = true;
        return;
      }
      if (in.type != kDir && in.type != kLDir) continue;
      if (depth + 1 >= kMaxDepth) {
        diag(sb_.directory_table, Severity::Warning,
             child_path + ": not descended: deeper than " + std::to_string(kMaxDepth) + " levels");
        continue;
      }
      // Every directory inode and every listing is expanded once: a loop (an entry naming an ancestor) or a crafted
      // DAG costs nothing.
      const uint64_t inode_key = (c.block << 16) | c.offset;
      const uint64_t listing_key = ((sb_.directory_table + in.dir_start) << 16) | in.dir_offset;
      const bool has_listing = v3_ ? in.dir_size > 3 : in.dir_size > 0;
      if (!expanded_.insert(inode_key).second) {
        diag(sb_.directory_table, Severity::Warning,
             child_path + ": not descended: its inode was already expanded (directory loop or hard-linked directory)");
        continue;
      }
      if (has_listing && !listings_.insert(listing_key).second) {
        diag(sb_.directory_table, Severity::Warning,
             child_path + ": not descended: its listing was already read (two directories share one listing)");
        continue;
      }
      walk(in, child_path, depth + 1);
    }
  }

  // --- entries

  bool emit(const Inode& in, const std::string& path, const std::string& name) {
    if (!budget_.take_entry()) {
      limit("entry limit reached (" + std::to_string(budget_.limits().max_entries) + " entries)");
      return false;
    }
    Entry e;
    e.path = path;
    e.mode = in.mode;
    e.kind = kind_from_mode(e.mode);
    e.mtime = in.mtime;
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
        name.find('\0') != std::string::npos)
      e.diagnostics.push_back({fs_.base(), Severity::Warning, "squashfs: suspicious entry name"});
    if (in.uid_idx < uids_.size()) {
      e.uid = uids_[in.uid_idx];
    } else if (!uids_.empty() || sb_.no_uids) {
      e.diagnostics.push_back({fs_.base() + sb_.uid_table, Severity::Warning,
                               "squashfs: uid index " + std::to_string(in.uid_idx) + " outside the uid table"});
    }
    if (in.gid_idx == kGuidSameAsUid) {
      e.gid = e.uid;
    } else if (in.gid_idx < gids_.size()) {
      e.gid = gids_[in.gid_idx];
    } else {
      e.diagnostics.push_back({fs_.base() + sb_.guid_table, Severity::Warning,
                               "squashfs: guid index " + std::to_string(in.gid_idx) + " outside the guid table"});
    }
    switch (in.type) {
      case kSymlink:
        e.link_target = in.target;
        e.size = in.target.size();
        break;
      case kBlkDev:
      case kChrDev:
        // The old 16-bit encoding: major in the high byte, minor in the low byte.
        e.rdev_major = (in.rdev >> 8) & 0xFF;
        e.rdev_minor = in.rdev & 0xFF;
        break;
      case kFile:
      case kLReg:
        read_content(in, e);
        break;
      default:
        break;
    }
    out_.entries.push_back(std::move(e));
    return !stop_;
  }

  // --- fragments

  // The fragment table entry `index`: where the fragment block is and its stored size (bit 24 = uncompressed).
  bool fragment_entry(uint32_t index, uint64_t& start, uint32_t& size) {
    if (index >= sb_.fragments) return fail("fragment " + std::to_string(index) + " beyond the " +
                                            std::to_string(sb_.fragments) + " of the superblock");
    // squashfs_fragment_entry_3 is 16 bytes (u64 start, u32 size, u32 pending) indexed by u64 pointers; the 2.x entry
    // is 8 bytes (u32 start, u32 size) indexed by u32 pointers. One index pointer per 8 KiB metadata block.
    const uint64_t esize = v3_ ? 16 : 8, psize = v3_ ? 8 : 4;
    const uint64_t byte = uint64_t{index} * esize;
    const uint64_t slot = sb_.fragment_table + (byte / kMetadataSize) * psize;
    if (!fs_.contains(slot, psize)) return fail("fragment index outside the image");
    uint64_t block = v3_ ? *fs_.u64(slot, be_) : *fs_.u32(slot, be_);
    uint32_t offset = static_cast<uint32_t>(byte % kMetadataSize);
    uint8_t b[16];
    if (!meta_read(block, offset, b, esize)) return false;
    start = bits(b, 0, v3_ ? 64 : 32, be_);
    size = static_cast<uint32_t>(bits(b, v3_ ? 64 : 32, 32, be_));
    return true;
  }

  // Decodes a data or fragment block stored at fs_[at] with size field `field` into out (cap bytes).
  bool data_block(uint64_t at, uint32_t field, uint8_t* out, uint64_t cap, uint64_t exact, uint64_t& produced) {
    const uint32_t len = field & ~kBlockUncompressed & 0x00FFFFFFu;
    auto in = fs_.sub(at, len);
    if (!in) return fail("block at " + std::to_string(at) + " (" + std::to_string(len) + " bytes) runs past the image");
    if (field & kBlockUncompressed) {
      const uint64_t n = std::min<uint64_t>(len, cap);
      std::memcpy(out, in->data(), static_cast<size_t>(n));
      produced = n;
      return true;
    }
    CodecOutcome r = codec_.decode(*in, out, cap, exact);
    produced = r.produced;
    if (!r.ok()) return fail("block at " + std::to_string(at) + " does not decode: " + r.why);
    return true;
  }

  const std::vector<uint8_t>* fragment_block(uint32_t index) {
    if (auto it = frags_.find(index); it != frags_.end()) return &it->second;
    uint64_t start = 0;
    uint32_t size = 0;
    if (!fragment_entry(index, start, size)) return nullptr;
    std::vector<uint8_t> buf(sb_.block_size);
    uint64_t got = 0;
    if (!data_block(start, size, buf.data(), buf.size(), 0, got)) return nullptr;
    buf.resize(static_cast<size_t>(got));
    if (frags_.size() >= 8) frags_.clear();  // files sharing a fragment block are usually neighbours
    return &frags_.emplace(index, std::move(buf)).first->second;
  }

  // --- file content

  void read_content(const Inode& in, Entry& e) {
    e.size = in.file_size;
    const uint64_t bs = sb_.block_size;
    const bool has_frag = in.fragment != kInvalidFrag;
    const uint64_t nblocks = has_frag ? in.file_size >> sb_.block_log : (in.file_size + bs - 1) >> sb_.block_log;
    const uint64_t tail = has_frag ? in.file_size % bs : 0;
    const uint64_t at = fs_.base() + in.data_start;
    if (in.file_size == 0) {
      e.data = std::make_shared<const Buffer>();
      return;
    }
    if (probe_) {  // the dry run only wants the compression: one block decides it
      probe_block(in, nblocks);
      e.complete = false;
      return;
    }
    // The block list (u32 per block, in the inode table right after the inode), read no further than the output
    // limits could use: a file's claimed size allocates nothing by itself.
    const uint64_t allow_max = std::min<uint64_t>(budget_.limits().max_file_bytes,
                                                  budget_.limits().max_total_bytes - budget_.used_bytes());
    const uint64_t list_n = std::min<uint64_t>(nblocks, allow_max / bs + 1);
    std::vector<uint32_t> list;
    list.reserve(static_cast<size_t>(std::min<uint64_t>(list_n, 1u << 16)));
    uint64_t lb = in.list_block;
    uint32_t lo = in.list_offset;
    bool list_ok = true;
    for (uint64_t i = 0; i < list_n; ++i) {
      uint8_t w[4];
      if (!meta_read(lb, lo, w, 4)) {
        e.diagnostics.push_back({at, Severity::Error,
                                 "squashfs: " + e.path + ": block list unreadable at block " + std::to_string(i) +
                                     ": " + last_error_});
        list_ok = false;
        break;
      }
      list.push_back(static_cast<uint32_t>(bits(w, 0, 32, be_)));
    }
    // Input behind this file for the ratio limit: its stored blocks, the block list, the tail counted in full.
    uint64_t compressed = 4 * uint64_t{list.size()} + tail;
    for (uint32_t f : list) compressed += f & 0x00FFFFFFu & ~kBlockUncompressed;
    compressed = std::min<uint64_t>(compressed, fs_.size());
    const uint64_t allowance = budget_.allowance(compressed);
    if (allowance == 0) {
      e.complete = false;
      limit("total output limit reached at " + e.path);
      return;
    }
    const uint64_t want = std::min<uint64_t>(in.file_size, allowance);
    if (want < in.file_size) {
      out_.limited = true;
      e.complete = false;
      e.diagnostics.push_back({at, Severity::Warning,
                               "squashfs: " + e.path + ": content cut at " + std::to_string(want) + " of " +
                                   std::to_string(in.file_size) + " bytes (file, total or ratio limit)"});
    }
    Buffer local;
    Buffer& buf = visit_ ? scratch_ : local;
    buf.clear();
    uint64_t pos = in.data_start;
    bool ok = list_ok;
    for (size_t i = 0; i < list.size() && buf.size() < want && ok; ++i) {
      const uint64_t expect = std::min<uint64_t>(bs, in.file_size - uint64_t{i} * bs);
      const uint64_t n = std::min<uint64_t>(expect, want - buf.size());
      if (!budget_.take_bytes(n)) {
        e.complete = false;
        limit("total output limit reached at " + e.path);
        ok = false;
        break;
      }
      const size_t off = buf.size();
      const uint32_t f = list[i];
      const uint32_t len = f & 0x00FFFFFFu & ~kBlockUncompressed;
      if (len == 0) {  // a sparse block: zeros
        buf.resize(off + static_cast<size_t>(n), 0);
        continue;
      }
      buf.resize(off + static_cast<size_t>(bs));
      uint64_t got = 0;
      const bool decoded = data_block(pos, f, buf.data() + off, bs, expect, got);
      if (!decoded || got != expect) {
        e.diagnostics.push_back({fs_.base() + pos, Severity::Error,
                                 "squashfs: " + e.path + ": block " + std::to_string(i) + " unreadable: " +
                                     (decoded ? "decodes to " + std::to_string(got) + " bytes, not " +
                                                    std::to_string(expect)
                                              : last_error_)});
        buf.resize(off);
        ok = false;
        break;
      }
      buf.resize(off + static_cast<size_t>(n));
      pos += len;
    }
    if (ok && list.size() < nblocks && buf.size() < want) ok = false;
    if (ok && tail > 0 && buf.size() < want) {
      const uint64_t n = std::min<uint64_t>(tail, want - buf.size());
      const std::vector<uint8_t>* frag = budget_.take_bytes(n) ? fragment_block(in.fragment) : nullptr;
      if (!frag) {
        e.diagnostics.push_back({at, Severity::Error,
                                 "squashfs: " + e.path + ": fragment " + std::to_string(in.fragment) +
                                     " unreadable: " + (last_error_.empty() ? "output limit" : last_error_)});
        ok = false;
      } else if (in.frag_offset > frag->size() || n > frag->size() - in.frag_offset) {
        e.diagnostics.push_back({at, Severity::Error,
                                 "squashfs: " + e.path + ": tail of " + std::to_string(n) + " bytes at " +
                                     std::to_string(in.frag_offset) + " outside its fragment block of " +
                                     std::to_string(frag->size()) + " bytes"});
        ok = false;
      } else {
        buf.insert(buf.end(), frag->begin() + in.frag_offset, frag->begin() + in.frag_offset + static_cast<long>(n));
      }
    }
    if (!ok) e.complete = false;
    last_error_.clear();
    if (visit_ && !buf.empty() && !visit_(out_.entries.size(), e, ByteView(buf.data(), buf.size()))) {
      e.unkept_size = buf.size();
      buf.clear();
      return;
    }
    e.data = std::make_shared<const Buffer>(std::move(buf));
    if (visit_) scratch_ = Buffer();
  }

  // Dry run: decode the file's first compressed block (or its fragment) so that the codec is known.
  void probe_block(const Inode& in, uint64_t nblocks) {
    uint64_t lb = in.list_block;
    uint32_t lo = in.list_offset;
    uint64_t pos = in.data_start;
    std::vector<uint8_t> buf(sb_.block_size);
    for (uint64_t i = 0; i < std::min<uint64_t>(nblocks, 64); ++i) {
      uint8_t w[4];
      if (!meta_read(lb, lo, w, 4)) return;
      const uint32_t f = static_cast<uint32_t>(bits(w, 0, 32, be_));
      const uint32_t len = f & 0x00FFFFFFu & ~kBlockUncompressed;
      if (len != 0 && !(f & kBlockUncompressed)) {
        const uint64_t expect = std::min<uint64_t>(sb_.block_size, in.file_size - i * sb_.block_size);
        uint64_t got = 0;
        data_block(pos, f, buf.data(), buf.size(), expect, got);
        return;
      }
      pos += len;
    }
    if (in.fragment != kInvalidFrag) fragment_block(in.fragment);
  }

  ByteView fs_;
  Budget& budget_;
  const MemberVisitor& visit_;
  bool probe_ = false;
  Superblock sb_;
  bool be_ = false, v3_ = true;
  uint64_t limit_end_ = 0;
  Codec codec_;
  std::vector<uint32_t> uids_, gids_;
  std::unordered_map<uint64_t, MetaBlock> meta_;
  uint64_t meta_bytes_ = 0;
  std::map<uint32_t, std::vector<uint8_t>> frags_;
  std::unordered_set<uint64_t> expanded_, listings_;
  Buffer scratch_;
  ExtractResult out_;
  std::string last_error_;
  uint64_t looked_at_ = 0;
  size_t diag_count_ = 0;
  bool stop_ = false;
  bool root_ok_ = false;
};

}  // namespace

namespace squashfs {

Probe3 probe_squashfs3(ByteView fs) {
  Probe3 p;
  try {
    ExtractLimits lim;
    lim.max_entries = 512;
    Budget budget(lim);
    MemberVisitor none;
    Reader3 r(fs, budget, none, true);
    ExtractResult res = r.run();
    p.root_ok = r.root_ok();
    p.codec_known = r.codec().known();
    p.compression = r.codec().compression();
    p.variant = r.codec().variant();
    p.problem = r.first_problem();
  } catch (const std::exception& ex) {
    p.problem = std::string("probe failed: ") + ex.what();
  }
  return p;
}

}  // namespace squashfs

ExtractResult read_squashfs3(ByteView fs, Budget& budget, const MemberVisitor& visit) {
  try {
    Reader3 r(fs, budget, visit, false);
    ExtractResult res = r.run();
    if (r.codec().known() && !res.entries.empty()) {
      std::string c = r.codec().compression();
      if (!r.codec().variant().empty()) c += " (" + r.codec().variant() + ")";
      res.diagnostics.push_back({fs.base(), Severity::Info, "squashfs: compression " + c});
    }
    return res;
  } catch (const std::exception& ex) {  // allocation failure: report, never propagate
    ExtractResult r;
    r.failed = true;
    r.diagnostics.push_back({fs.base(), Severity::Error, std::string("squashfs reader failed: ") + ex.what()});
    return r;
  }
}

ExtractResult read_squashfs_any(ByteView fs, Budget& budget, const MemberVisitor& visit) {
  auto sb = squashfs::read_superblock(fs);
  if (sb && (sb->major == 2 || sb->major == 3)) return read_squashfs3(fs, budget, visit);
  if (sb && sb->major == 4 && sb->big_endian) {
    ExtractResult r;
    r.diagnostics.push_back({fs.base(), Severity::Error,
                             "squashfs: big-endian squashfs 4.0 (AVM-style) is detected but not read: libsquashfs reads "
                             "little-endian 4.0 only"});
    return r;
  }
  return read_squashfs(fs, budget, visit);
}

}  // namespace fwcert
