// ext2/ext3/ext4: superblock checks (the walk's validator) and the reader on top of libext2fs (e2fsprogs).
//
// Structures relied on, all from e2fsprogs' public headers as Debian ships them (libext2fs-dev 1.47):
//   lib/ext2fs/ext2_fs.h  struct ext2_super_block (field offsets via offsetof), struct ext2_inode_large,
//                         struct ext2_dir_entry, the EXT2/3/4_FEATURE_* bits, inode_uid()/inode_gid()
//   lib/ext2fs/ext2_io.h  struct struct_io_manager / struct_io_channel (the in-memory channel below)
//   lib/ext2fs/ext2fs.h   ext2fs_open2, ext2fs_dir_iterate2, ext2fs_file_open2/read, EXT2_LIB_FEATURE_*_SUPP
// Device numbers follow Linux fs/ext4/inode.c ext4_iget() (old_decode_dev of i_block[0], else new_decode_dev of
// i_block[1]); the mtime epoch bits follow ext4_decode_extra_time() (fs/ext4/ext4.h). The ext2/ext3/ext4 naming follows
// util-linux libblkid/src/superblocks/ext.c: a filesystem with features beyond ext3's set is ext4.
//
// libext2fs does the format work (group descriptors, inode tables, indirect blocks, extent trees, inline data, htree
// directories read linearly). This file gives it the image through a read-only io_manager over the ByteView (reads
// outside the view fail, writes are refused, and the bytes read in all are capped, so a crafted block map cannot make
// it read forever), walks the directory tree itself (depth, entries and directory loops under our control), draws every
// file from the Budget and grows buffers only as data is read, and turns every libext2fs error into a diagnostic.
// libext2fs reports some problems through com_err, which prints to stderr by default: a silent hook is installed
// before the first filesystem is opened (fwcert uses com_err for nothing else).
#include "fwcert/formats/ext.hpp"

// com_err.h has no extern "C" of its own.
extern "C" {
#include <et/com_err.h>
}
#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <unordered_set>
#include <vector>

#include "fwcert/scan/validator.hpp"

namespace fwcert {
namespace ext {
namespace {

template <class T>
std::optional<T> field(ByteView sb, size_t offset) {
  if constexpr (sizeof(T) == 1) return sb.u8(offset);
  if constexpr (sizeof(T) == 2) return sb.u16le(offset);
  if constexpr (sizeof(T) == 4) return sb.u32le(offset);
  return std::nullopt;
}
#define EXT_FIELD(sb, name) \
  field<decltype(ext2_super_block::name)>(sb, offsetof(ext2_super_block, name)).value_or(0)

// The feature sets of ext3 as libblkid has them (EXT3_FEATURE_*_SUPP): anything beyond makes an ext4.
constexpr uint32_t kExt3Incompat =
    EXT2_FEATURE_INCOMPAT_FILETYPE | EXT3_FEATURE_INCOMPAT_RECOVER | EXT2_FEATURE_INCOMPAT_META_BG;
constexpr uint32_t kExt3RoCompat =
    EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER | EXT2_FEATURE_RO_COMPAT_LARGE_FILE | 0x0004;  // 0x0004: BTREE_DIR (never used)

struct FeatureName {
  int set;  // 0 compat, 1 incompat, 2 ro_compat
  uint32_t bit;
  const char* name;
};
constexpr FeatureName kFeatureNames[] = {
    {0, EXT3_FEATURE_COMPAT_HAS_JOURNAL, "has_journal"},
    {0, EXT2_FEATURE_COMPAT_DIR_INDEX, "dir_index"},
    {1, EXT3_FEATURE_INCOMPAT_RECOVER, "needs_recovery"},
    {1, EXT3_FEATURE_INCOMPAT_EXTENTS, "extent"},
    {1, EXT4_FEATURE_INCOMPAT_64BIT, "64bit"},
    {1, EXT4_FEATURE_INCOMPAT_FLEX_BG, "flex_bg"},
    {1, EXT2_FEATURE_INCOMPAT_META_BG, "meta_bg"},
    {1, EXT4_FEATURE_INCOMPAT_INLINE_DATA, "inline_data"},
    {1, EXT4_FEATURE_INCOMPAT_ENCRYPT, "encrypt"},
    {1, EXT4_FEATURE_INCOMPAT_CASEFOLD, "casefold"},
    {1, EXT3_FEATURE_INCOMPAT_JOURNAL_DEV, "journal_dev"},
    {2, EXT4_FEATURE_RO_COMPAT_HUGE_FILE, "huge_file"},
    {2, EXT4_FEATURE_RO_COMPAT_METADATA_CSUM, "metadata_csum"},
    {2, EXT4_FEATURE_RO_COMPAT_GDT_CSUM, "uninit_bg"},
    {2, EXT4_FEATURE_RO_COMPAT_BIGALLOC, "bigalloc"},
};

}  // namespace

bool Superblock::needs_recovery() const { return (incompat & EXT3_FEATURE_INCOMPAT_RECOVER) != 0; }

const char* Superblock::flavour() const {
  if ((incompat & ~kExt3Incompat) != 0 || (ro_compat & ~kExt3RoCompat) != 0) return "ext4";
  if (compat & EXT3_FEATURE_COMPAT_HAS_JOURNAL) return "ext3";
  return "ext2";
}

std::string Superblock::features() const {
  std::string s;
  const uint32_t sets[3] = {compat, incompat, ro_compat};
  for (const auto& f : kFeatureNames)
    if (sets[f.set] & f.bit) s += (s.empty() ? "" : " ") + std::string(f.name);
  return s;
}

Result<Superblock> read_superblock(ByteView fs) {
  const uint64_t at = fs.base() + kSuperblockOffset;
  auto sbv = fs.sub(kSuperblockOffset, kSuperblockSize);
  if (!sbv) return make_error(at, "ext: truncated superblock (" + std::to_string(fs.size()) + " bytes)");
  const ByteView sb = *sbv;
  if (EXT_FIELD(sb, s_magic) != kMagic) return make_error(at + 56, "ext: bad magic");
  Superblock s;
  const uint32_t log = EXT_FIELD(sb, s_log_block_size);
  // EXT2_MAX_BLOCK_LOG_SIZE is 16 (64 KiB); the field counts from 1 KiB.
  if (log > EXT2_MAX_BLOCK_LOG_SIZE - EXT2_MIN_BLOCK_LOG_SIZE)
    return make_error(at + 24, "ext: block size 2^(10+" + std::to_string(log) + ") out of range");
  s.block_size = uint64_t{1024} << log;
  s.rev_level = EXT_FIELD(sb, s_rev_level);
  if (s.rev_level > EXT2_DYNAMIC_REV) return make_error(at + 76, "ext: revision " + std::to_string(s.rev_level));
  s.compat = EXT_FIELD(sb, s_feature_compat);
  s.incompat = EXT_FIELD(sb, s_feature_incompat);
  s.ro_compat = EXT_FIELD(sb, s_feature_ro_compat);
  if (s.rev_level == EXT2_GOOD_OLD_REV && (s.compat | s.incompat | s.ro_compat) != 0)
    return make_error(at + 92, "ext: feature flags in a revision 0 superblock");
  s.unknown_incompat = s.incompat & ~uint32_t{EXT2_LIB_FEATURE_INCOMPAT_SUPP};
  s.unknown_ro_compat = s.ro_compat & ~uint32_t{EXT2_LIB_FEATURE_RO_COMPAT_SUPP};
  s.blocks_count = EXT_FIELD(sb, s_blocks_count);
  if (s.incompat & EXT4_FEATURE_INCOMPAT_64BIT)
    s.blocks_count |= uint64_t{EXT_FIELD(sb, s_blocks_count_hi)} << 32;
  s.first_data_block = EXT_FIELD(sb, s_first_data_block);
  s.blocks_per_group = EXT_FIELD(sb, s_blocks_per_group);
  s.inodes_per_group = EXT_FIELD(sb, s_inodes_per_group);
  s.inodes_count = EXT_FIELD(sb, s_inodes_count);
  // mke2fs puts the first data block at 1 with 1 KiB blocks, else at 0.
  if (s.first_data_block > 1) return make_error(at + 20, "ext: first data block " + std::to_string(s.first_data_block));
  if (s.blocks_count <= s.first_data_block || s.blocks_count > (uint64_t{1} << 48))
    return make_error(at + 4, "ext: blocks count " + std::to_string(s.blocks_count));
  const uint64_t bits_per_block = s.block_size * 8;
  const bool bigalloc = (s.ro_compat & EXT4_FEATURE_RO_COMPAT_BIGALLOC) != 0;
  if (s.blocks_per_group == 0 || (!bigalloc && s.blocks_per_group > bits_per_block))
    return make_error(at + 32, "ext: blocks per group " + std::to_string(s.blocks_per_group));
  if (s.inodes_per_group == 0 || s.inodes_per_group > bits_per_block)
    return make_error(at + 40, "ext: inodes per group " + std::to_string(s.inodes_per_group));
  s.groups = (s.blocks_count - s.first_data_block + s.blocks_per_group - 1) / s.blocks_per_group;
  if (s.groups * s.inodes_per_group != s.inodes_count)
    return make_error(at, "ext: inodes count " + std::to_string(s.inodes_count) + " is not " + std::to_string(s.groups) +
                              " groups x " + std::to_string(s.inodes_per_group));
  if (s.rev_level >= EXT2_DYNAMIC_REV) {
    s.inode_size = EXT_FIELD(sb, s_inode_size);
    if (s.inode_size < EXT2_GOOD_OLD_INODE_SIZE || s.inode_size > s.block_size || (s.inode_size & (s.inode_size - 1)))
      return make_error(at + 88, "ext: inode size " + std::to_string(s.inode_size));
  }
  if (s.incompat & EXT4_FEATURE_INCOMPAT_64BIT) {
    s.desc_size = EXT_FIELD(sb, s_desc_size);
    if (s.desc_size < EXT2_MIN_DESC_SIZE_64BIT || s.desc_size > EXT2_MAX_DESC_SIZE || (s.desc_size & (s.desc_size - 1)))
      return make_error(at + 254, "ext: group descriptor size " + std::to_string(s.desc_size));
  }
  // libext2fs allocates the whole descriptor table when it opens the filesystem: it must fit in the image's claimed
  // extent (a hostile superblock cannot make us allocate more than the image holds).
  if (s.groups > s.blocks_count || s.groups * s.desc_size > s.blocks_count * s.block_size)
    return make_error(at, "ext: " + std::to_string(s.groups) + " groups do not fit the filesystem");
  s.state = EXT_FIELD(sb, s_state);
  s.mtime = EXT_FIELD(sb, s_mtime);
  s.wtime = EXT_FIELD(sb, s_wtime);
  s.mkfs_time = EXT_FIELD(sb, s_mkfs_time);
  s.volume_name = sb.cstring(offsetof(ext2_super_block, s_volume_name), 16);
  return s;
}

namespace {

// --- the walk's validator -------------------------------------------------------------------------------------------

std::optional<Hit> validate_ext(const ValidateInput& in) {
  const ByteView fs = in.image.tail(in.start);
  auto sbr = read_superblock(fs);
  if (!sbr) return std::nullopt;
  const Superblock& s = *sbr;
  Hit hit;
  hit.offset = in.image.base() + in.start;
  hit.type = "ext";
  hit.nesting = Nesting::Opaque;
  hit.size = s.size();
  Confidence conf = Confidence::High;
  auto lower = [&](Confidence c) { conf = std::min(conf, c); };
  if (s.state > (EXT2_VALID_FS | EXT2_ERROR_FS | EXT3_ORPHAN_FS)) {
    hit.diag(hit.offset + 1024 + 58, Severity::Warning, "unknown state " + hex(s.state));
    lower(Confidence::Low);
  }
  if (s.unknown_incompat) {
    hit.diag(hit.offset + 1024 + 96, Severity::Warning,
             "incompatible features unknown to libext2fs: " + hex(s.unknown_incompat));
    lower(Confidence::Low);
  }
  if (s.size() > fs.size()) {
    hit.diag(hit.offset, Severity::Warning,
             "truncated: the superblock says " + std::to_string(s.size()) + " bytes, " + std::to_string(fs.size()) +
                 " remain");
    lower(Confidence::Medium);
  }
  if (s.needs_recovery())
    hit.diag(hit.offset + 1024 + 96, Severity::Info, "the journal needs recovery (not replayed: files as last synced)");
  std::string d = std::string(s.flavour()) + " filesystem, " + std::to_string(s.block_size) + "-byte blocks, " +
                  std::to_string(s.blocks_count) + " blocks (" + std::to_string(s.size()) + " bytes), " +
                  std::to_string(s.inodes_count) + " inodes";
  if (!s.volume_name.empty()) d += ", volume \"" + printable(s.volume_name, 16) + "\"";
  if (std::string f = s.features(); !f.empty()) d += ", features: " + f;
  if (s.wtime) d += ", last written " + utc_time(s.wtime);
  hit.confidence = conf;
  hit.description = std::move(d);
  return hit;
}

}  // namespace
}  // namespace ext

void register_ext_validators(ValidatorRegistry& registry) {
  registry.add("ext",
               "ext2/ext3/ext4 superblock (block size, group geometry, inode and descriptor sizes, features); "
               "size = blocks_count x block size",
               ext::validate_ext);
}

// ====================================================================================================================
// The reader
// ====================================================================================================================

namespace ext {
namespace {

// Nesting of directories below the root that we descend into.
constexpr int kMaxDepth = 128;
constexpr size_t kMaxDiagnostics = 256;
// A symlink target longer than PATH_MAX is not one the kernel would follow.
constexpr uint64_t kMaxLinkTarget = 4096;

// --- libext2fs messages ---------------------------------------------------------------------------------------------

void silent_com_err(const char*, errcode_t, const char*, va_list) {}

// Registers the ext2 error table (so error_message() names its codes) and silences com_err, once per process.
void init_library() {
  static std::once_flag once;
  std::call_once(once, [] {
    initialize_ext2_error_table();
    set_com_err_hook(silent_com_err);
  });
}

std::string error_text(errcode_t code) {
  // error_message() formats unknown codes into a static buffer.
  static std::mutex m;
  std::lock_guard<std::mutex> lock(m);
  const char* text = error_message(code);
  return std::string(text ? text : "error") + " (" + std::to_string(code) + ")";
}

bool is_checksum_error(errcode_t code) {
  switch (code) {
    case EXT2_ET_INODE_CSUM_INVALID:
    case EXT2_ET_EXTENT_CSUM_INVALID:
    case EXT2_ET_DIR_CSUM_INVALID:
    case EXT2_ET_EXT_ATTR_CSUM_INVALID:
    case EXT2_ET_SB_CSUM_INVALID:
      return true;
    default:
      return false;
  }
}

// --- a read-only io_channel over a ByteView -------------------------------------------------------------------------

// What the channel reads from; ext2fs_open2 names it by the address of this object ("fwcert-mem:<address>"), so
// several filesystems can be read at once on different threads.
struct MemorySource {
  ByteView bytes;
  uint64_t read_cap = 0;    // bytes that may be read in all (a crafted block map could otherwise re-read forever)
  uint64_t bytes_read = 0;
  bool over_cap = false;
  uint64_t short_reads = 0;
};

errcode_t mem_open(const char* name, int flags, io_channel* channel);
errcode_t mem_close(io_channel channel);
errcode_t mem_set_blksize(io_channel channel, int blksize);
errcode_t mem_read_blk64(io_channel channel, unsigned long long block, int count, void* data);
errcode_t mem_read_blk(io_channel channel, unsigned long block, int count, void* data) {
  return mem_read_blk64(channel, block, count, data);
}
errcode_t mem_write_blk64(io_channel, unsigned long long, int, const void*) { return EXT2_ET_RO_FILSYS; }
errcode_t mem_write_blk(io_channel, unsigned long, int, const void*) { return EXT2_ET_RO_FILSYS; }
errcode_t mem_write_byte(io_channel, unsigned long, int, const void*) { return EXT2_ET_RO_FILSYS; }
errcode_t mem_flush(io_channel) { return 0; }
errcode_t mem_set_option(io_channel, const char*, const char*) { return EXT2_ET_INVALID_ARGUMENT; }

struct_io_manager make_manager() {
  struct_io_manager m;
  std::memset(&m, 0, sizeof m);
  m.magic = EXT2_ET_MAGIC_IO_MANAGER;
  m.name = "fwcert read-only memory";
  m.open = mem_open;
  m.close = mem_close;
  m.set_blksize = mem_set_blksize;
  m.read_blk = mem_read_blk;
  m.write_blk = mem_write_blk;
  m.flush = mem_flush;
  m.write_byte = mem_write_byte;
  m.set_option = mem_set_option;
  m.read_blk64 = mem_read_blk64;
  m.write_blk64 = mem_write_blk64;
  // discard, cache_readahead, zeroout, get_stats: absent (libext2fs then answers EXT2_ET_UNIMPLEMENTED itself).
  return m;
}
struct_io_manager g_manager = make_manager();

constexpr const char kNamePrefix[] = "fwcert-mem:";

errcode_t mem_open(const char* name, int flags, io_channel* channel) {
  if (!name || !channel || std::strncmp(name, kNamePrefix, sizeof kNamePrefix - 1) != 0) return EXT2_ET_BAD_DEVICE_NAME;
  if (flags & IO_FLAG_RW) return EXT2_ET_RO_FILSYS;
  auto* source = reinterpret_cast<MemorySource*>(std::strtoull(name + sizeof kNamePrefix - 1, nullptr, 16));
  if (!source) return EXT2_ET_BAD_DEVICE_NAME;
  io_channel io = nullptr;
  if (ext2fs_get_memzero(sizeof(struct_io_channel), &io) != 0) return EXT2_ET_NO_MEMORY;
  const size_t len = std::strlen(name) + 1;
  if (ext2fs_get_mem(len, &io->name) != 0) {
    ext2fs_free_mem(&io);
    return EXT2_ET_NO_MEMORY;
  }
  std::memcpy(io->name, name, len);
  io->magic = EXT2_ET_MAGIC_IO_CHANNEL;
  io->manager = &g_manager;
  io->block_size = 1024;
  io->refcount = 1;
  io->private_data = source;
  *channel = io;
  return 0;
}

errcode_t mem_close(io_channel channel) {
  if (!channel || channel->magic != EXT2_ET_MAGIC_IO_CHANNEL) return EXT2_ET_MAGIC_IO_CHANNEL;
  if (--channel->refcount > 0) return 0;
  ext2fs_free_mem(&channel->name);
  ext2fs_free_mem(&channel);
  return 0;
}

errcode_t mem_set_blksize(io_channel channel, int blksize) {
  if (blksize < 1024 || blksize > EXT2_MAX_BLOCK_SIZE) return EXT2_ET_INVALID_ARGUMENT;
  channel->block_size = blksize;
  return 0;
}

// count > 0: that many blocks; count < 0: -count bytes (libext2fs' convention). What lies outside the view reads as
// zeros and the call fails with EXT2_ET_SHORT_READ, as the Unix manager does at the end of a device.
errcode_t mem_read_blk64(io_channel channel, unsigned long long block, int count, void* data) {
  auto* src = static_cast<MemorySource*>(channel->private_data);
  const uint64_t size = count < 0 ? uint64_t(-int64_t{count}) : uint64_t(count) * uint64_t(channel->block_size);
  if (size > (uint64_t{1} << 30)) return EXT2_ET_INVALID_ARGUMENT;
  if (src->bytes_read > src->read_cap || size > src->read_cap - src->bytes_read) {
    src->over_cap = true;
    return EXT2_ET_SHORT_READ;
  }
  src->bytes_read += size;
  const uint64_t bs = uint64_t(channel->block_size);
  if (block > (~uint64_t{0}) / bs) {
    ++src->short_reads;
    std::memset(data, 0, size);
    return EXT2_ET_SHORT_READ;
  }
  const uint64_t off = block * bs;
  const ByteView v = src->bytes.clamp(off, size);
  if (v.size()) std::memcpy(data, v.data(), v.size());
  if (v.size() < size) {
    std::memset(static_cast<uint8_t*>(data) + v.size(), 0, size - v.size());
    ++src->short_reads;
    return EXT2_ET_SHORT_READ;
  }
  return 0;
}

// --- the walk -------------------------------------------------------------------------------------------------------

struct FsClose {
  void operator()(ext2_filsys fs) const { ext2fs_close_free(&fs); }
};
using Filesystem = std::unique_ptr<struct_ext2_filsys, FsClose>;

struct FileClose {
  void operator()(ext2_file_t f) const { ext2fs_file_close(f); }
};
using File = std::unique_ptr<std::remove_pointer_t<ext2_file_t>, FileClose>;

struct Child {
  std::string name;
  ext2_ino_t ino = 0;
};

class ExtReader {
 public:
  ExtReader(ByteView fs, Budget& budget, const ContainerReadOptions& options)
      : fs_(fs), budget_(budget), visit_(options.visit) {}

  ExtractResult run() {
    init_library();
    auto sbr = read_superblock(fs_);
    if (!sbr) {
      diag(sbr.error().offset - fs_.base(), Severity::Error, sbr.error().message.substr(5));
      return std::move(out_);
    }
    sb_ = *sbr;
    if (sb_.size() > fs_.size())
      diag(0, Severity::Warning,
           "truncated: the superblock says " + std::to_string(sb_.size()) + " bytes, " + std::to_string(fs_.size()) +
               " available; what lies beyond reads as an error");
    if (sb_.needs_recovery())
      diag(kSuperblockOffset + 96, Severity::Info,
           "the journal needs recovery and is not replayed: files are read as the filesystem last had them on disk");
    // What libext2fs may read in all: every block of the image 64 times over, and 64 MiB more for small images.
    source_.bytes = fs_;
    source_.read_cap = 64 * uint64_t{fs_.size()} + (uint64_t{64} << 20);
    if (!open()) return std::move(out_);
    walk_root();
    if (source_.over_cap) {
      out_.limited = true;
      diag(0, Severity::Warning,
           "stopped reading: libext2fs read " + std::to_string(source_.bytes_read) +
               " bytes, 64 times the image (a block map or directory that loops)");
    }
    return std::move(out_);
  }

 private:
  void diag(uint64_t rel, Severity s, std::string message) {
    if (diag_count_ == kMaxDiagnostics)
      out_.diagnostics.push_back({fs_.base(), Severity::Warning,
                                  "ext: further diagnostics suppressed (more than " +
                                      std::to_string(kMaxDiagnostics) + ")"});
    if (diag_count_++ >= kMaxDiagnostics) return;
    out_.diagnostics.push_back({fs_.base() + rel, s, "ext: " + std::move(message)});
  }

  void limit(std::string message) {
    out_.limited = true;
    stop_ = true;
    diag(0, Severity::Warning, std::move(message));
  }

  bool open() {
    char name[64];
    std::snprintf(name, sizeof name, "%s%llx", kNamePrefix,
                  static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(&source_)));
    // Read-only (no EXT2_FLAG_RW: libext2fs then writes nothing back), 64-bit block numbers, MMP not taken (it is
    // for writers), features libext2fs only half supports still opened for reading.
    int flags = EXT2_FLAG_64BITS | EXT2_FLAG_SKIP_MMP | EXT2_FLAG_SOFTSUPP_FEATURES;
    ext2_filsys raw = nullptr;
    errcode_t rc = ext2fs_open2(name, nullptr, flags, 0, 0, &g_manager, &raw);
    if (rc != 0 && (is_checksum_error(rc) || rc == EXT2_ET_UNKNOWN_CSUM)) {
      diag(kSuperblockOffset, Severity::Warning, "superblock or descriptors fail their checksum, read anyway: " +
                                                     error_text(rc));
      if (raw) ext2fs_free(raw);
      raw = nullptr;
      rc = ext2fs_open2(name, nullptr, flags | EXT2_FLAG_IGNORE_CSUM_ERRORS, 0, 0, &g_manager, &raw);
    }
    if (rc != 0) {
      if (raw) ext2fs_free(raw);
      diag(kSuperblockOffset, Severity::Error, "cannot open the filesystem: " + error_text(rc));
      return false;
    }
    fs_handle_.reset(raw);
    return true;
  }

  // Where an inode lies in the image (for messages), or the superblock when its group is unknown.
  uint64_t inode_offset(ext2_ino_t ino) const {
    ext2_filsys fs = fs_handle_.get();
    if (ino == 0 || ino > fs->super->s_inodes_count) return kSuperblockOffset;
    const dgrp_t group = (ino - 1) / fs->super->s_inodes_per_group;
    if (group >= fs->group_desc_count) return kSuperblockOffset;
    const uint64_t table = ext2fs_inode_table_loc(fs, group);
    return table * fs->blocksize + uint64_t((ino - 1) % fs->super->s_inodes_per_group) * EXT2_INODE_SIZE(fs->super);
  }

  // Runs `op` (a libext2fs call); when it fails only on a checksum, runs it again ignoring checksums and notes it.
  template <class Op>
  errcode_t tolerant(const std::string& what, ext2_ino_t ino, Op&& op) {
    errcode_t rc = op();
    if (rc != 0 && is_checksum_error(rc) && !(fs_handle_->flags & EXT2_FLAG_IGNORE_CSUM_ERRORS)) {
      diag(inode_offset(ino), Severity::Warning, what + ": checksum mismatch, read anyway: " + error_text(rc));
      fs_handle_->flags |= EXT2_FLAG_IGNORE_CSUM_ERRORS;
      rc = op();
      fs_handle_->flags &= ~EXT2_FLAG_IGNORE_CSUM_ERRORS;
    }
    return rc;
  }

  bool read_inode(ext2_ino_t ino, const std::string& path, ext2_inode_large& inode) {
    std::memset(&inode, 0, sizeof inode);
    errcode_t rc = tolerant(path + ": inode " + std::to_string(ino), ino, [&] {
      return ext2fs_read_inode_full(fs_handle_.get(), ino, reinterpret_cast<ext2_inode*>(&inode), sizeof inode);
    });
    if (rc != 0) {
      diag(inode_offset(ino), Severity::Error, path + ": cannot read inode " + std::to_string(ino) + ": " +
                                                   error_text(rc));
      return false;
    }
    return true;
  }

  void walk_root() {
    ext2_inode_large root;
    if (!read_inode(EXT2_ROOT_INO, "/", root)) return;
    if (!LINUX_S_ISDIR(root.i_mode)) {
      diag(inode_offset(EXT2_ROOT_INO), Severity::Error, "the root inode is not a directory");
      return;
    }
    expanded_.insert(EXT2_ROOT_INO);
    walk(EXT2_ROOT_INO, "", 0);
  }

  struct IterateState {
    ExtReader* self;
    std::vector<Child>* children;
    uint64_t budget_left;
    bool failed = false;
  };

  // Called from C: nothing may be thrown through libext2fs, so a failed allocation ends the listing.
  static int on_dirent(ext2_ino_t dir, int entry, ext2_dir_entry* dirent, int offset, int blocksize, char* buf,
                       void* priv) {
    try {
      return on_dirent_unsafe(dir, entry, dirent, offset, blocksize, buf, priv);
    } catch (...) {
      static_cast<IterateState*>(priv)->failed = true;
      return DIRENT_ABORT;
    }
  }

  static int on_dirent_unsafe(ext2_ino_t, int entry, ext2_dir_entry* dirent, int, int, char*, void* priv) {
    auto* st = static_cast<IterateState*>(priv);
    ExtReader& r = *st->self;
    // Entries looked at in all, empty ones included: bounds the work on a directory of far more (or emptier) slots
    // than the entry budget would ever take.
    if (++r.looked_at_ > 2 * r.budget_.limits().max_entries + 1024) {
      r.looked_at_over_ = true;
      return DIRENT_ABORT;
    }
    if (r.source_.over_cap) return DIRENT_ABORT;
    if (entry == DIRENT_DOT_FILE || entry == DIRENT_DOT_DOT_FILE || dirent->inode == 0) return 0;
    const int len = ext2fs_dirent_name_len(dirent);
    std::string name(dirent->name, static_cast<size_t>(len));
    if (name == "." || name == "..") return 0;
    if (st->children->size() >= st->budget_left) return DIRENT_ABORT;  // emit() reports the limit
    st->children->push_back({std::move(name), dirent->inode});
    return 0;
  }

  void walk(ext2_ino_t dir, const std::string& path, int depth) {
    const std::string shown = path.empty() ? "/" : path;
    std::vector<Child> children;
    IterateState st{this, &children,
                    budget_.limits().max_entries - std::min(budget_.limits().max_entries, budget_.used_entries()) + 1};
    errcode_t rc = tolerant(shown + ": directory", dir, [&] {
      children.clear();
      // Inline-data directories are listed by ext2fs_dir_iterate2 itself (DIRENT_FLAG_INCLUDE_INLINE_DATA is its own
      // internal flag: passed in, it skips reading the blocks).
      return ext2fs_dir_iterate2(fs_handle_.get(), dir, DIRENT_FLAG_INCLUDE_EMPTY,
                                 nullptr, on_dirent, &st);
    });
    if (st.failed) throw std::bad_alloc();
    if (looked_at_over_) {
      limit("stopped after looking at " + std::to_string(looked_at_ - 1) + " directory entries");
    } else if (rc != 0) {
      // What was listed before the damage is still emitted.
      diag(inode_offset(dir), Severity::Error, shown + ": directory listing damaged after " +
                                                   std::to_string(children.size()) + " entries: " + error_text(rc));
    }
    for (const Child& c : children) {
      if (source_.over_cap) stop_ = true;  // every further read would fail the same way
      if (stop_) return;
      const std::string child_path = path + "/" + c.name;
      ext2_inode_large inode;
      if (!read_inode(c.ino, child_path, inode)) continue;
      if (!emit(c.ino, inode, child_path, c.name)) return;
      if (!LINUX_S_ISDIR(inode.i_mode)) continue;
      if (depth + 1 >= kMaxDepth) {
        diag(inode_offset(c.ino), Severity::Warning,
             child_path + ": not descended: deeper than " + std::to_string(kMaxDepth) + " levels");
        continue;
      }
      // ext cannot hard-link directories: an inode seen twice is a loop (an entry naming an ancestor) or damage.
      if (!expanded_.insert(c.ino).second) {
        diag(inode_offset(c.ino), Severity::Warning,
             child_path + ": not descended: directory inode " + std::to_string(c.ino) +
                 " was already read (directory loop or hard-linked directory)");
        continue;
      }
      walk(c.ino, child_path, depth + 1);
    }
  }

  bool emit(ext2_ino_t ino, const ext2_inode_large& inode, const std::string& path, const std::string& name) {
    if (!budget_.take_entry()) {
      limit("entry limit reached (" + std::to_string(budget_.limits().max_entries) + " entries)");
      return false;
    }
    Entry e;
    e.path = path;
    e.mode = inode.i_mode;
    e.kind = kind_from_mode(e.mode);
    e.uid = inode_uid(inode);
    e.gid = inode_gid(inode);
    e.mtime = static_cast<int32_t>(inode.i_mtime);
    // The epoch bits of i_mtime_extra extend the seconds past 2038 (ext4_decode_extra_time).
    if (EXT2_INODE_SIZE(fs_handle_->super) > EXT2_GOOD_OLD_INODE_SIZE &&
        inode.i_extra_isize >= offsetof(ext2_inode_large, i_mtime_extra) + 4 - EXT2_GOOD_OLD_INODE_SIZE)
      e.mtime += int64_t(inode.i_mtime_extra & EXT4_EPOCH_MASK) << 32;
    if (name.find('\0') != std::string::npos)
      e.diagnostics.push_back({fs_.base() + inode_offset(ino), Severity::Warning, "ext: suspicious entry name"});
    if (inode.i_flags & EXT4_ENCRYPT_FL) e.encrypted = true;
    const uint64_t size = EXT2_I_SIZE(&inode);
    switch (e.kind) {
      case EntryKind::File:
        e.size = size;
        if (!e.encrypted) read_content(ino, inode, e);
        break;
      case EntryKind::Symlink:
        read_link(ino, inode, e);
        break;
      case EntryKind::CharDevice:
      case EntryKind::BlockDevice: {
        if (inode.i_block[0]) {
          e.rdev_major = (inode.i_block[0] >> 8) & 0xff;
          e.rdev_minor = inode.i_block[0] & 0xff;
        } else {
          const uint32_t dev = inode.i_block[1];
          e.rdev_major = (dev & 0xfff00u) >> 8;
          e.rdev_minor = (dev & 0xffu) | ((dev >> 12) & 0xfff00u);
        }
        break;
      }
      default:
        break;
    }
    out_.entries.push_back(std::move(e));
    return !stop_;
  }

  void read_link(ext2_ino_t ino, const ext2_inode_large& inode, Entry& e) {
    const uint64_t size = EXT2_I_SIZE(&inode);
    ext2_inode_large copy = inode;
    if (ext2fs_is_fast_symlink(reinterpret_cast<ext2_inode*>(&copy))) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(size, sizeof inode.i_block));
      e.link_target.assign(reinterpret_cast<const char*>(inode.i_block), n);
      e.size = e.link_target.size();
      return;
    }
    // A slow symlink (target in a data block) or one with inline data: read like a file, at most PATH_MAX.
    if (size > kMaxLinkTarget) {
      e.diagnostics.push_back({fs_.base() + inode_offset(ino), Severity::Warning,
                               "ext: " + e.path + ": symlink target of " + std::to_string(size) + " bytes not read"});
      e.complete = false;
      return;
    }
    Buffer buf;
    if (!read_bytes(ino, inode, size, e, buf)) e.complete = false;
    e.link_target.assign(buf.begin(), buf.end());
    e.size = e.link_target.size();
  }

  // Reads up to `want` bytes of the inode's data into buf (which grows only as data arrives). False on an error (with a
  // diagnostic on e); what was read before stays in buf.
  bool read_bytes(ext2_ino_t ino, const ext2_inode_large& inode, uint64_t want, Entry& e, Buffer& buf) {
    buf.clear();
    ext2_file_t raw = nullptr;
    ext2_inode_large copy = inode;
    errcode_t rc = tolerant(e.path, ino, [&] {
      if (raw) ext2fs_file_close(raw);
      raw = nullptr;
      return ext2fs_file_open2(fs_handle_.get(), ino, reinterpret_cast<ext2_inode*>(&copy), 0, &raw);
    });
    File file(raw);
    if (rc != 0 || !file) {
      e.diagnostics.push_back({fs_.base() + inode_offset(ino), Severity::Error,
                               "ext: " + e.path + ": cannot open: " + error_text(rc)});
      return false;
    }
    const uint64_t chunk = std::max<uint64_t>(fs_handle_->blocksize, 64 * 1024);
    uint64_t off = 0;
    while (off < want) {
      const uint64_t n = std::min(chunk, want - off);
      if (!budget_.take_bytes(n)) {
        limit("total output limit reached at " + e.path);
        return false;
      }
      buf.resize(static_cast<size_t>(off + n));
      unsigned int got = 0;
      rc = tolerant(e.path, ino, [&] {
        return ext2fs_file_read(file.get(), buf.data() + off, static_cast<unsigned int>(n), &got);
      });
      if (rc != 0 || got == 0) {
        buf.resize(static_cast<size_t>(off));
        if (source_.over_cap) stop_ = true;
        e.diagnostics.push_back({fs_.base() + inode_offset(ino), Severity::Error,
                                 "ext: " + e.path + ": data unreadable at byte " + std::to_string(off) + ": " +
                                     (rc ? error_text(rc) : std::string("unexpected end of file data"))});
        return false;
      }
      off += got;
      buf.resize(static_cast<size_t>(off));
    }
    return true;
  }

  void read_content(ext2_ino_t ino, const ext2_inode_large& inode, Entry& e) {
    const uint64_t size = e.size;
    if (size == 0) {
      e.data = std::make_shared<const Buffer>();
      return;
    }
    // Input behind the file, for the ratio limit: the blocks it has allocated (holes are free, so a sparse file of a
    // terabyte is a bomb by that measure), never more than the image. Inline data counts as the inode itself.
    ext2_inode_large copy = inode;
    uint64_t stored = ext2fs_get_stat_i_blocks(fs_handle_.get(), reinterpret_cast<ext2_inode*>(&copy)) * 512;
    stored = std::min<uint64_t>(std::max<uint64_t>(stored, EXT2_INODE_SIZE(fs_handle_->super)), fs_.size());
    const uint64_t allowance = budget_.allowance(stored);
    if (allowance == 0) {
      e.complete = false;
      limit("total output limit reached at " + e.path);
      return;
    }
    const uint64_t want = std::min<uint64_t>(size, allowance);
    if (want < size) {
      out_.limited = true;
      e.complete = false;
      e.diagnostics.push_back({fs_.base() + inode_offset(ino), Severity::Warning,
                               "ext: " + e.path + ": content cut at " + std::to_string(want) + " of " +
                                   std::to_string(size) + " bytes (file, total or ratio limit; " +
                                   std::to_string(stored) + " bytes allocated)"});
    }
    Buffer local;
    Buffer& buf = visit_ ? scratch_ : local;
    if (!read_bytes(ino, inode, want, e, buf)) e.complete = false;
    if (visit_ && !buf.empty() && !visit_(out_.entries.size(), e, ByteView(buf.data(), buf.size()))) {
      e.unkept_size = buf.size();
      buf.clear();
      return;
    }
    e.data = std::make_shared<const Buffer>(std::move(buf));
    if (visit_) scratch_ = Buffer();
  }

  ByteView fs_;
  Budget& budget_;
  const MemberVisitor& visit_;
  ExtractResult out_;
  Superblock sb_;
  MemorySource source_;
  Filesystem fs_handle_;
  Buffer scratch_;
  std::unordered_set<ext2_ino_t> expanded_;
  uint64_t looked_at_ = 0;
  bool looked_at_over_ = false;
  size_t diag_count_ = 0;
  bool stop_ = false;
};

}  // namespace

ExtractResult read_ext(ByteView fs, Budget& budget, const ContainerReadOptions& options) {
  try {
    return ExtReader(fs, budget, options).run();
  } catch (const std::exception& ex) {  // allocation failure: report, never propagate
    ExtractResult r;
    r.failed = true;
    r.diagnostics.push_back({fs.base(), Severity::Error, std::string("ext reader failed: ") + ex.what()});
    return r;
  }
}

}  // namespace ext
}  // namespace fwcert
