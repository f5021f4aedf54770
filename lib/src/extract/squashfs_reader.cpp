// squashfs v4 reader on top of libsquashfs (squashfs-tools-ng), reading from memory.
//
// libsquashfs does the format work (superblock, metadata blocks, inodes, directory listings, fragments, id table);
// this file supplies a read-only in-memory sqfs_file_t over the ByteView, walks the directory tree itself (so depth,
// entry count and directory loops stay under our control: libsquashfs' own full-hierarchy reader expands a directory
// each time it is referenced, which a hostile image can turn into exponential work), and turns every libsquashfs
// error into a diagnostic naming the path and the error code. Debian builds libsquashfs without LZO, so LZO images get
// a decompressor of ours (on liblzo2) through libsquashfs' compressor interface.
#include <lzo/lzo1x.h>
#include <sqfs/compressor.h>
#include <sqfs/data_reader.h>
#include <sqfs/dir.h>
#include <sqfs/dir_reader.h>
#include <sqfs/error.h>
#include <sqfs/id_table.h>
#include <sqfs/inode.h>
#include <sqfs/io.h>
#include <sqfs/super.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "fwcert/extract/readers.hpp"

namespace fwcert {
namespace {

// Nesting of directories below the root that we descend into; real firmware trees are a few levels deep.
constexpr int kMaxDepth = 128;
// Diagnostics about the container as a whole; past this, one note says the rest were dropped.
constexpr size_t kMaxDiagnostics = 256;
// struct squashfs_super_block (v4) is 96 bytes; an optional compressor options block follows it.
constexpr uint64_t kSuperblockSize = 96;

// --- RAII for libsquashfs objects -----------------------------------------------------------------------------------

struct SqfsDestroy {
  void operator()(void* p) const { sqfs_destroy(p); }
};
struct SqfsFree {
  void operator()(void* p) const { sqfs_free(p); }
};
using Compressor = std::unique_ptr<sqfs_compressor_t, SqfsDestroy>;
using DirReader = std::unique_ptr<sqfs_dir_reader_t, SqfsDestroy>;
using DataReader = std::unique_ptr<sqfs_data_reader_t, SqfsDestroy>;
using IdTable = std::unique_ptr<sqfs_id_table_t, SqfsDestroy>;
using Inode = std::unique_ptr<sqfs_inode_generic_t, SqfsFree>;
using DirEntry = std::unique_ptr<sqfs_dir_entry_t, SqfsFree>;

// --- Read-only sqfs_file_t over a ByteView -------------------------------------------------------------------------

// libsquashfs reaches the image only through this interface; every read is bounds-checked against the view, so a
// hostile table offset or block size yields SQFS_ERROR_OUT_OF_BOUNDS instead of a stray read.
struct MemoryFile {
  sqfs_file_t iface;  // first member: libsquashfs hands back a sqfs_file_t* that we cast to MemoryFile*
  ByteView bytes;
};
static_assert(std::is_standard_layout_v<MemoryFile>);

const MemoryFile& self(const sqfs_file_t* f) { return *reinterpret_cast<const MemoryFile*>(f); }

int memory_read_at(sqfs_file_t* f, sqfs_u64 offset, void* buffer, size_t size) {
  const ByteView& v = self(f).bytes;
  if (!v.contains(offset, size)) return SQFS_ERROR_OUT_OF_BOUNDS;
  if (size > 0) std::memcpy(buffer, v.data() + offset, size);
  return 0;
}
int memory_write_at(sqfs_file_t*, sqfs_u64, const void*, size_t) { return SQFS_ERROR_UNSUPPORTED; }
sqfs_u64 memory_get_size(const sqfs_file_t* f) { return self(f).bytes.size(); }
int memory_truncate(sqfs_file_t*, sqfs_u64) { return SQFS_ERROR_UNSUPPORTED; }
// The object lives on our stack and is never handed over for ownership; destroy must exist but frees nothing.
void memory_destroy(sqfs_object_t*) {}

void init_memory_file(MemoryFile& m, ByteView bytes) {
  std::memset(&m.iface, 0, sizeof(m.iface));
  m.iface.base.destroy = memory_destroy;
  m.iface.base.copy = nullptr;
  m.iface.read_at = memory_read_at;
  m.iface.write_at = memory_write_at;
  m.iface.get_size = memory_get_size;
  m.iface.truncate = memory_truncate;
  m.bytes = bytes;
}

// --- LZO decompressor ----------------------------------------------------------------------------------------------

// A squashfs LZO block is a bare LZO1X stream, whichever lzo1x compressor and level made it (the options block records
// those for the compressor's sake only), so one safe decompressor reads them all. Extraction only: do_block never
// writes past outsize (lzo1x_decompress_safe checks every output and input step), and a stream that does not end
// exactly at the end of the block is an error, as in the kernel and unsquashfs.
struct LzoDecompressor {
  sqfs_compressor_t iface;  // first member: libsquashfs hands back the sqfs_compressor_t* / sqfs_object_t*
  sqfs_u32 block_size;
};
static_assert(std::is_standard_layout_v<LzoDecompressor>);

LzoDecompressor* lzo_self(sqfs_object_t* o) { return reinterpret_cast<LzoDecompressor*>(o); }
const LzoDecompressor* lzo_self(const sqfs_object_t* o) { return reinterpret_cast<const LzoDecompressor*>(o); }

void lzo_destroy(sqfs_object_t* o) { delete lzo_self(o); }
sqfs_object_t* lzo_copy(const sqfs_object_t* o) {
  auto* copy = new (std::nothrow) LzoDecompressor(*lzo_self(o));
  return copy ? &copy->iface.base : nullptr;
}
void lzo_get_configuration(const sqfs_compressor_t* c, sqfs_compressor_config_t* cfg) {
  std::memset(cfg, 0, sizeof(*cfg));
  cfg->id = SQFS_COMP_LZO;
  cfg->flags = SQFS_COMP_FLAG_UNCOMPRESS;
  cfg->block_size = lzo_self(&c->base)->block_size;
}
int lzo_write_options(sqfs_compressor_t*, sqfs_file_t*) { return SQFS_ERROR_UNSUPPORTED; }
// The options (algorithm, level) only tune compression.
int lzo_read_options(sqfs_compressor_t*, sqfs_file_t*) { return 0; }
sqfs_s32 lzo_do_block(sqfs_compressor_t*, const sqfs_u8* in, sqfs_u32 size, sqfs_u8* out, sqfs_u32 outsize) {
  // The result is an sqfs_s32; libsquashfs never asks for more than a block (at most 1 MiB) anyway.
  lzo_uint n = std::min<sqfs_u32>(outsize, 0x7FFFFFFF);
  const int rc = lzo1x_decompress_safe(in, size, out, &n, nullptr);
  if (rc == LZO_E_OK && n <= outsize) return static_cast<sqfs_s32>(n);
  // 0 is libsquashfs' "the output buffer is too small".
  return rc == LZO_E_OUTPUT_OVERRUN ? 0 : SQFS_ERROR_COMPRESSOR;
}

// Null when liblzo2 cannot be initialised (a library built for another ABI) or memory is short.
sqfs_compressor_t* make_lzo_decompressor(sqfs_u32 block_size) {
  static const bool lzo_ok = lzo_init() == LZO_E_OK;
  if (!lzo_ok) return nullptr;
  auto* c = new (std::nothrow) LzoDecompressor{};
  if (!c) return nullptr;
  c->iface.base.destroy = lzo_destroy;
  c->iface.base.copy = lzo_copy;
  c->iface.get_configuration = lzo_get_configuration;
  c->iface.write_options = lzo_write_options;
  c->iface.read_options = lzo_read_options;
  c->iface.do_block = lzo_do_block;
  c->block_size = block_size;
  return &c->iface;
}

// --- Names for messages ---------------------------------------------------------------------------------------------

// libsquashfs error codes (sqfs/error.h) by name, for diagnostics.
constexpr struct {
  int code;
  const char* name;
} kErrorNames[] = {
    {SQFS_ERROR_ALLOC, "ALLOC"},
    {SQFS_ERROR_IO, "IO"},
    {SQFS_ERROR_COMPRESSOR, "COMPRESSOR"},
    {SQFS_ERROR_INTERNAL, "INTERNAL"},
    {SQFS_ERROR_CORRUPTED, "CORRUPTED"},
    {SQFS_ERROR_UNSUPPORTED, "UNSUPPORTED"},
    {SQFS_ERROR_OVERFLOW, "OVERFLOW"},
    {SQFS_ERROR_OUT_OF_BOUNDS, "OUT_OF_BOUNDS"},
    {SFQS_ERROR_SUPER_MAGIC, "SUPER_MAGIC"},
    {SFQS_ERROR_SUPER_VERSION, "SUPER_VERSION"},
    {SQFS_ERROR_SUPER_BLOCK_SIZE, "SUPER_BLOCK_SIZE"},
    {SQFS_ERROR_NOT_DIR, "NOT_DIR"},
    {SQFS_ERROR_NO_ENTRY, "NO_ENTRY"},
    {SQFS_ERROR_LINK_LOOP, "LINK_LOOP"},
    {SQFS_ERROR_NOT_FILE, "NOT_FILE"},
    {SQFS_ERROR_ARG_INVALID, "ARG_INVALID"},
    {SQFS_ERROR_SEQUENCE, "SEQUENCE"},
};

std::string error_text(int code) {
  std::string s = "error";
  for (const auto& e : kErrorNames)
    if (e.code == code) s = std::string("SQFS_ERROR_") + e.name;
  return s + " (" + std::to_string(code) + ")";
}

// Compression ids of the v4 superblock (squashfs_fs.h: ZLIB 1, LZMA 2, LZO 3, XZ 4, LZ4 5, ZSTD 6).
std::string compressor_name(unsigned id) {
  switch (id) {
    case SQFS_COMP_GZIP:
      return "gzip";
    case SQFS_COMP_LZMA:
      return "lzma";
    case SQFS_COMP_LZO:
      return "lzo";
    case SQFS_COMP_XZ:
      return "xz";
    case SQFS_COMP_LZ4:
      return "lz4";
    case SQFS_COMP_ZSTD:
      return "zstd";
    default:
      return "id " + std::to_string(id);
  }
}

bool is_dir(const sqfs_inode_generic_t& in) {
  return in.base.type == SQFS_INODE_DIR || in.base.type == SQFS_INODE_EXT_DIR;
}

// Where a directory's listing lives in the directory table (metadata block start << 16 | offset in the block), or
// nothing for an empty directory. An empty directory has no listing of its own: its stored size is 3 (the size
// counts 3 bytes for the "." and ".." the kernel makes up) and mksquashfs gives it the position where the next
// listing will be written, so its position is shared with another directory and identifies nothing.
std::optional<uint64_t> listing_location(const sqfs_inode_generic_t& in) {
  const bool basic = in.base.type == SQFS_INODE_DIR;
  const uint32_t size = basic ? in.data.dir.size : in.data.dir_ext.size;
  if (size <= 3) return std::nullopt;
  if (basic) return (uint64_t{in.data.dir.start_block} << 16) | in.data.dir.offset;
  return (uint64_t{in.data.dir_ext.start_block} << 16) | in.data.dir_ext.offset;
}

class SquashfsReader {
 public:
  SquashfsReader(ByteView fs, Budget& budget, const MemberVisitor& visit) : fs_(fs), budget_(budget), visit_(visit) {
    init_memory_file(file_, fs);
  }

  ExtractResult run() {
    if (open()) {
      sqfs_inode_generic_t* raw = nullptr;
      int ret = sqfs_dir_reader_get_root_inode(dir_.get(), &raw);
      Inode root(raw);
      if (ret != 0 || !root) {
        diag(super_.inode_table_start, Severity::Error, "cannot read the root inode: " + error_text(ret));
      } else if (!is_dir(*root)) {
        diag(super_.inode_table_start, Severity::Error, "the root inode is not a directory");
      } else {
        first_expansion(*root, "/");
        walk(*root, "", 0);
      }
    }
    return std::move(out_);
  }

 private:
  struct Child {
    std::string name;
    Inode inode;
  };

  void diag(uint64_t rel, Severity s, std::string message) {
    if (diag_count_ == kMaxDiagnostics) {
      out_.diagnostics.push_back(
          {fs_.base(), Severity::Warning,
           "squashfs: further diagnostics suppressed (more than " + std::to_string(kMaxDiagnostics) + ")"});
    }
    if (diag_count_++ >= kMaxDiagnostics) return;
    out_.diagnostics.push_back({fs_.base() + rel, s, "squashfs: " + std::move(message)});
  }

  void limit(std::string message) {
    out_.limited = true;
    stop_ = true;
    diag(0, Severity::Warning, std::move(message));
  }

  // Superblock, compressor, id table, directory and data readers. False (with a diagnostic) when nothing can be read.
  bool open() {
    if (fs_.size() < kSuperblockSize) {
      diag(0, Severity::Error, "image too short for a superblock (" + std::to_string(fs_.size()) + " bytes)");
      return false;
    }
    // Explain the common rejections ourselves: libsquashfs only reads little-endian v4.
    if (fs_.matches(0, "sqsh")) {
      diag(0, Severity::Error, "big-endian squashfs is not supported (only little-endian v4)");
      return false;
    }
    if (fs_.matches(0, "hsqs")) {
      uint16_t major = fs_.u16le(28).value_or(0), minor = fs_.u16le(30).value_or(0);
      if (major != 4) {
        diag(0, Severity::Error,
             "squashfs version " + std::to_string(major) + "." + std::to_string(minor) + " is not supported (only v4)");
        return false;
      }
    }
    // libsquashfs rejects unknown compression ids as a bad superblock; say what it is.
    if (uint16_t id = fs_.u16le(20).value_or(0); fs_.matches(0, "hsqs") && (id < SQFS_COMP_MIN || id > SQFS_COMP_MAX)) {
      diag(20, Severity::Error, "compressor " + compressor_name(id) + " not supported");
      return false;
    }
    std::memset(&super_, 0, sizeof(super_));
    if (int ret = sqfs_super_read(&super_, &file_.iface); ret != 0) {
      diag(0, Severity::Error, "invalid superblock: " + error_text(ret));
      return false;
    }
    if (super_.bytes_used > fs_.size()) {
      diag(0, Severity::Warning,
           "image truncated: the superblock says " + std::to_string(super_.bytes_used) + " bytes, " +
               std::to_string(fs_.size()) + " available");
    }

    std::string cname = compressor_name(super_.compression_id);
    int ret = 0;
    sqfs_compressor_t* cmp_raw = nullptr;
    if (super_.compression_id == SQFS_COMP_LZO) {
      // Ours whether or not this libsquashfs has one, so LZO images read the same with every build.
      cmp_raw = make_lzo_decompressor(super_.block_size);
      if (!cmp_raw) ret = SQFS_ERROR_ALLOC;
    } else {
      sqfs_compressor_config_t cfg;
      std::memset(&cfg, 0, sizeof(cfg));
      ret = sqfs_compressor_config_init(&cfg, static_cast<SQFS_COMPRESSOR>(super_.compression_id), super_.block_size,
                                        SQFS_COMP_FLAG_UNCOMPRESS);
      if (ret == 0) ret = sqfs_compressor_create(&cfg, &cmp_raw);
    }
    cmp_.reset(cmp_raw);
    if (ret != 0 || !cmp_) {
      diag(0, Severity::Error, "compressor " + cname + " not supported (" + error_text(ret) + ")");
      return false;
    }
    // The options block only tunes compression; decompression does not need it, so a bad one is just noted.
    if ((super_.flags & SQFS_FLAG_COMPRESSOR_OPTIONS) != 0) {
      if (int r = cmp_->read_options(cmp_.get(), &file_.iface); r != 0)
        diag(kSuperblockSize, Severity::Warning, cname + " compressor options unreadable: " + error_text(r));
    }

    ids_.reset(sqfs_id_table_create(0));
    if (ids_) {
      if (int r = sqfs_id_table_read(ids_.get(), &file_.iface, &super_, cmp_.get()); r != 0) {
        diag(super_.id_table_start, Severity::Warning, "id table unreadable, uid/gid left 0: " + error_text(r));
        ids_.reset();
      }
    }

    dir_.reset(sqfs_dir_reader_create(&super_, cmp_.get(), &file_.iface, 0));
    if (!dir_) {
      diag(0, Severity::Error, "cannot create a directory reader (inode or directory table unreadable)");
      return false;
    }
    data_.reset(sqfs_data_reader_create(&file_.iface, super_.block_size, cmp_.get(), 0));
    if (!data_) {
      diag(0, Severity::Error, "cannot create a data reader");
      return false;
    }
    // libsquashfs allocates the whole fragment table (16 bytes an entry) before it reads a byte of it: a count of
    // 0x2A000001 in a 483-byte image asked malloc for 10.5 GiB (found by tests/fuzz). The table's index, 8 bytes per
    // 8 KiB metadata block, lies at fragment_table_start and must fit in the image, which bounds the count by the
    // image size; a count that cannot fit is refused before anything is allocated.
    const uint64_t fragments = super_.fragment_entry_count;
    const uint64_t index_bytes = (fragments * 16 + 8191) / 8192 * 8;
    if (fragments > 0 &&
        (super_.fragment_table_start > fs_.size() || index_bytes > fs_.size() - super_.fragment_table_start)) {
      diag(16, Severity::Warning,
           "fragment table unreadable, files with fragments will be incomplete: the superblock claims " +
               std::to_string(fragments) + " fragments, whose table index (" + std::to_string(index_bytes) +
               " bytes at " + std::to_string(super_.fragment_table_start) + ") does not fit in the " +
               std::to_string(fs_.size()) + "-byte image");
    } else if (int r = sqfs_data_reader_load_fragment_table(data_.get(), &super_); r != 0) {
      diag(super_.fragment_table_start, Severity::Warning,
           "fragment table unreadable, files with fragments will be incomplete: " + error_text(r));
    }
    return true;
  }

  // Lists one directory (all its entries first, so the single directory reader is free again), then emits each child
  // and descends into subdirectories, depth first in listing order.
  void walk(const sqfs_inode_generic_t& dir, const std::string& path, int depth) {
    const std::string shown = path.empty() ? "/" : path;
    if (int ret = sqfs_dir_reader_open_dir(dir_.get(), &dir, 0); ret != 0) {
      diag(super_.directory_table_start, Severity::Error, shown + ": cannot open directory: " + error_text(ret));
      return;
    }
    std::vector<Child> children;
    const uint64_t max_entries = budget_.limits().max_entries;
    for (;;) {
      // Entries looked at in all (including unreadable ones): bounds the work on a directory table that lists far
      // more than the entry budget would ever take.
      if (++looked_at_ > 2 * max_entries + 1024) {
        limit("stopped after looking at " + std::to_string(looked_at_ - 1) + " directory entries");
        break;
      }
      if (children.size() > max_entries - std::min(max_entries, budget_.used_entries())) break;  // emit() reports
      sqfs_dir_entry_t* ent_raw = nullptr;
      int ret = sqfs_dir_reader_read(dir_.get(), &ent_raw);
      DirEntry ent(ent_raw);
      if (ret > 0) break;  // end of the listing
      if (ret < 0 || !ent) {
        diag(super_.directory_table_start, Severity::Error, shown + ": directory listing damaged: " + error_text(ret));
        break;
      }
      // The stored size is the name length minus one; libsquashfs allocates and NUL-terminates name[size + 1].
      std::string name(reinterpret_cast<const char*>(ent->name), size_t{ent->size} + 1);
      sqfs_inode_generic_t* in_raw = nullptr;
      ret = sqfs_dir_reader_get_inode(dir_.get(), &in_raw);
      Inode in(in_raw);
      if (ret != 0 || !in) {
        diag(super_.inode_table_start, Severity::Error, join(path, name) + ": cannot read inode: " + error_text(ret));
        continue;
      }
      children.push_back({std::move(name), std::move(in)});
    }

    for (auto& c : children) {
      if (stop_) return;
      std::string child_path = join(path, c.name);
      if (!emit(*c.inode, child_path, c.name)) return;
      if (!is_dir(*c.inode)) continue;
      if (depth + 1 >= kMaxDepth) {
        diag(super_.directory_table_start, Severity::Warning,
             child_path + ": not descended: deeper than " + std::to_string(kMaxDepth) + " levels");
        continue;
      }
      if (auto seen = first_expansion(*c.inode, child_path)) {
        diag(super_.directory_table_start, Severity::Warning, child_path + ": not descended: " + *seen);
        continue;
      }
      walk(*c.inode, child_path, depth + 1);
      c.inode.reset();
    }
  }

  // Every directory is expanded at most once, so a loop or a crafted DAG (which would otherwise be expanded again for
  // every reference, exponentially) costs nothing. A directory is identified by its inode number: a v4 image numbers
  // inodes uniquely and cannot hard-link a directory, so a number seen twice is a loop (an entry naming an ancestor)
  // or a directory referenced from two places. Two directory inodes sharing one non-empty listing are also refused:
  // mksquashfs never writes that, and each could otherwise expand the same listing again. Records this directory and
  // returns nothing the first time; otherwise why it is not descended.
  std::optional<std::string> first_expansion(const sqfs_inode_generic_t& dir, const std::string& path) {
    auto [inode, fresh] = expanded_inodes_.try_emplace(dir.base.inode_number, path);
    if (!fresh) {
      return "directory inode " + std::to_string(dir.base.inode_number) + " was already read as " + inode->second +
             " (directory loop or hard-linked directory)";
    }
    if (auto at = listing_location(dir)) {
      auto [listing, first] = expanded_listings_.try_emplace(*at, path);
      if (!first)
        return "its listing was already read as " + listing->second + " (two directories share one listing)";
    }
    return std::nullopt;
  }

  static std::string join(const std::string& dir, const std::string& name) { return dir + "/" + name; }

  // Turns one inode into an Entry (reading file content under the budget). False when a limit stops the walk.
  bool emit(const sqfs_inode_generic_t& in, const std::string& path, const std::string& name) {
    if (budget_.out_of_time()) {  // asked once per entry
      char buf[64];
      std::snprintf(buf, sizeof buf, "time limit (%g s) reached", budget_.deadline().limit());
      limit(buf);
      return false;
    }
    if (!budget_.take_entry()) {
      limit("entry limit reached (" + std::to_string(budget_.limits().max_entries) + " entries)");
      return false;
    }
    Entry e;
    e.path = path;
    // libsquashfs sets the S_IFMT bits from the inode type; the permission bits (incl. setuid) are stored as-is.
    e.mode = in.base.mode;
    e.kind = kind_from_mode(e.mode);
    e.mtime = in.base.mod_time;
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
        name.find('\0') != std::string::npos) {
      e.diagnostics.push_back({fs_.base(), Severity::Warning, "squashfs: suspicious entry name"});
    }
    if (ids_) {
      sqfs_u32 id = 0;
      if (sqfs_id_table_index_to_id(ids_.get(), in.base.uid_idx, &id) == 0)
        e.uid = id;
      else
        e.diagnostics.push_back({fs_.base() + super_.id_table_start, Severity::Warning,
                                 "squashfs: uid index " + std::to_string(in.base.uid_idx) + " outside the id table"});
      if (sqfs_id_table_index_to_id(ids_.get(), in.base.gid_idx, &id) == 0)
        e.gid = id;
      else
        e.diagnostics.push_back({fs_.base() + super_.id_table_start, Severity::Warning,
                                 "squashfs: gid index " + std::to_string(in.base.gid_idx) + " outside the id table"});
    }

    switch (in.base.type) {
      case SQFS_INODE_SLINK:
      case SQFS_INODE_EXT_SLINK: {
        // The target follows the fixed part; never trust target_size beyond what libsquashfs allocated.
        size_t n = std::min<size_t>(in.data.slink.target_size, in.payload_bytes_used);
        e.link_target.assign(reinterpret_cast<const char*>(in.extra), n);
        e.size = n;
        break;
      }
      case SQFS_INODE_BDEV:
      case SQFS_INODE_CDEV:
      case SQFS_INODE_EXT_BDEV:
      case SQFS_INODE_EXT_CDEV: {
        // Linux new_encode_dev(): minor low byte in bits 0-7, major in bits 8-19, minor high bits in 20-31.
        uint32_t dev = (in.base.type == SQFS_INODE_BDEV || in.base.type == SQFS_INODE_CDEV) ? in.data.dev.devno
                                                                                            : in.data.dev_ext.devno;
        e.rdev_major = (dev & 0xfff00u) >> 8;
        e.rdev_minor = (dev & 0xffu) | ((dev >> 12) & 0xfff00u);
        break;
      }
      case SQFS_INODE_FILE:
      case SQFS_INODE_EXT_FILE:
        read_content(in, e);
        break;
      default:
        break;
    }
    out_.entries.push_back(std::move(e));
    return !stop_;
  }

  void read_content(const sqfs_inode_generic_t& in, Entry& e) {
    sqfs_u64 size = 0;
    if (int ret = sqfs_inode_get_file_size(&in, &size); ret != 0) {
      e.complete = false;
      e.diagnostics.push_back(
          {fs_.base(), Severity::Error, "squashfs: " + e.path + ": no file size: " + error_text(ret)});
      return;
    }
    e.size = size;
    if (size == 0) {
      e.data = std::make_shared<const Buffer>();
      return;
    }
    sqfs_u64 start = 0;
    sqfs_inode_get_file_block_start(&in, &start);
    const uint64_t at = fs_.base() + start;

    // Input bytes behind this file, for the ratio limit: the stored block sizes (bit 24 = stored uncompressed), the
    // block list itself (so sparse blocks are not free) and the tail in a fragment counted at its full size (its
    // compressed share of the fragment block is not known per file). Never more than the whole image.
    const size_t blocks = sqfs_inode_get_file_block_count(&in);
    uint64_t compressed = 4 * uint64_t{blocks};
    for (size_t i = 0; i < blocks; ++i) compressed += in.extra[i] & 0x00FFFFFFu;
    const uint64_t in_blocks = uint64_t{blocks} * super_.block_size;
    if (size > in_blocks) compressed += size - in_blocks;
    compressed = std::min<uint64_t>(compressed, fs_.size());

    const uint64_t allowance = budget_.allowance(compressed);
    if (allowance == 0) {
      e.complete = false;
      limit("total output limit reached at " + e.path);
      return;
    }
    const uint64_t want = std::min<uint64_t>(size, allowance);
    if (want < size) {
      out_.limited = true;
      e.complete = false;
      e.diagnostics.push_back({at, Severity::Warning,
                               "squashfs: " + e.path + ": content cut at " + std::to_string(want) + " of " +
                                   std::to_string(size) + " bytes (file, total or ratio limit)"});
    }

    // Grow the buffer as data actually decompresses: the stored size alone must not make us allocate. Streaming, one
    // scratch buffer serves every file (see MemberVisitor).
    Buffer local;
    Buffer& buf = visit_ ? scratch_ : local;
    buf.clear();
    const uint64_t chunk = std::max<uint64_t>(super_.block_size, 4096);
    uint64_t off = 0;
    while (off < want) {
      const uint64_t n = std::min(chunk, want - off);
      if (!budget_.take_bytes(n)) {
        e.complete = false;
        limit("total output limit reached at " + e.path);
        break;
      }
      buf.resize(static_cast<size_t>(off + n));
      sqfs_s32 got = sqfs_data_reader_read(data_.get(), &in, off, buf.data() + off, static_cast<sqfs_u32>(n));
      if (got <= 0) {
        e.complete = false;
        e.diagnostics.push_back({at, Severity::Error,
                                 "squashfs: " + e.path + ": data unreadable at byte " + std::to_string(off) + ": " +
                                     (got < 0 ? error_text(got) : std::string("unexpected end of file data"))});
        buf.resize(static_cast<size_t>(off));
        break;
      }
      off += static_cast<uint64_t>(got);
      buf.resize(static_cast<size_t>(off));
    }
    if (visit_ && !buf.empty() && !visit_(out_.entries.size(), e, ByteView(buf.data(), buf.size()))) {
      e.unkept_size = buf.size();  // looked at where it was read, not kept
      buf.clear();
      return;
    }
    e.data = std::make_shared<const Buffer>(std::move(buf));
    if (visit_) scratch_ = Buffer();  // moved into the entry: the next file starts afresh
  }

  ByteView fs_;
  Budget& budget_;
  const MemberVisitor& visit_;
  Buffer scratch_;  // streaming: the current file's content
  ExtractResult out_;
  MemoryFile file_{};
  sqfs_super_t super_{};
  Compressor cmp_;
  IdTable ids_;
  DirReader dir_;
  DataReader data_;
  std::unordered_map<uint32_t, std::string> expanded_inodes_;    // inode number -> path where it was expanded
  std::unordered_map<uint64_t, std::string> expanded_listings_;  // listing location -> path where it was read
  uint64_t looked_at_ = 0;
  size_t diag_count_ = 0;
  bool stop_ = false;
};

}  // namespace

ExtractResult read_squashfs(ByteView fs, Budget& budget, const MemberVisitor& visit) {
  try {
    return SquashfsReader(fs, budget, visit).run();
  } catch (const std::exception& ex) {  // allocation failure: report, never propagate
    ExtractResult r;
    r.failed = true;
    r.diagnostics.push_back({fs.base(), Severity::Error, std::string("squashfs reader failed: ") + ex.what()});
    return r;
  }
}

}  // namespace fwcert
