// In-process CramFS reader (FORMATS.md section 1): walks the directory tree from the root inode, depth first in
// directory order (as util-linux fsck.cramfs --extract does), and inflates each file's blocks the way the Linux kernel
// reads them (cramfs_read_folio), including holes and the extended block pointers of flag 0x800.
// Nothing here trusts the image: every read is bounds-checked, loops and depth are capped, and problems become
// diagnostics at absolute offsets.
#include <isa-l/igzip_lib.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <thread>
#include <cstdio>
#include <memory>
#include <new>
#include <optional>
#include <unordered_set>

#include "fwcert/core/big_block.hpp"
#include "fwcert/core/checksum.hpp"
#include "fwcert/core/parallel.hpp"
#include "fwcert/extract/readers.hpp"
#include "fwcert/formats/cramfs.hpp"
#include "fwcert/scan/validator.hpp"

namespace fwcert {

namespace {

// Block pointer flags with EXT_BLOCK_POINTERS (FORMATS.md 1.7, cramfs_fs.h CRAMFS_BLK_FLAG_*).
constexpr uint32_t kBlkUncompressed = 0x80000000u;
constexpr uint32_t kBlkDirect = 0x40000000u;
constexpr uint32_t kBlkFlags = kBlkUncompressed | kBlkDirect;
constexpr uint32_t kBlkDirectShift = 2;

constexpr int kMaxDepth = 64;            // deeper trees are loops or hostile
constexpr uint64_t kMaxInodes = 2000000;  // absolute cap on inodes visited, whatever the image size
constexpr uint32_t kPadSize = 512;        // boot-code pad before the superblock (mkfs.cramfs -p)
constexpr uint64_t kProbeMaxPointers = uint64_t{1} << 20;  // block pointers one headerless probe checks

// Candidate block sizes for auto-detection, in the order the issue asks for (page sizes first).
constexpr std::array<uint32_t, 7> kBlockSizes = {4096, 8192, 16384, 32768, 65536, 2048, 1024};

enum class TypeBits : uint32_t {
  Dir = 0040000,
  Reg = 0100000,
  Lnk = 0120000,
  Chr = 0020000,
  Blk = 0060000,
  Fifo = 0010000,
  Sock = 0140000,
};

bool has_type(uint32_t mode, TypeBits t) { return (mode & 0170000) == static_cast<uint32_t>(t); }

bool known_type(uint32_t mode) {
  switch (mode & 0170000) {
    case 0040000:
    case 0100000:
    case 0120000:
    case 0020000:
    case 0060000:
    case 0010000:
    case 0140000:
      return true;
    default:
      return false;
  }
}

// One inode found in a directory, with where it came from.
struct Node {
  std::string path;
  cramfs::Inode inode;
  uint64_t inode_at = 0;  // index of the inode in the view
};

// One data block as the kernel locates it.
struct Block {
  uint64_t start = 0;  // index in the view
  uint64_t len = 0;    // stored bytes (0 = hole)
  bool raw = false;    // CRAMFS_BLK_FLAG_UNCOMPRESSED
  uint64_t ptr_at = 0; // index of its block pointer
};

// The result of locating and inflating one file's content.
struct Decoded {
  Buffer data;
  bool ok = true;
  std::vector<Diagnostic> problems;
};

// Inflates CramFS blocks (each a complete zlib stream, RFC 1950) with ISA-L's igzip, which decodes the same streams
// two to three times faster than zlib and checks the Adler-32 trailer as zlib does.
class Inflater {
 public:
  static constexpr const char* kOverflow = "block inflates to more than the block size";
  Inflater() : state_(std::make_unique<inflate_state>()) {}

  // Inflates one complete zlib stream into out (capacity cap). Returns the bytes produced, or nullopt on a decoding
  // error or when the stream does not end within cap bytes (the kernel gives it exactly one block of room).
  // With `verified` (the image's CRC-32 already matched), the Adler-32 of each block is not computed again: the
  // zlib header is checked here and the deflate data decoded raw.
  std::optional<uint64_t> run(ByteView in, uint8_t* out, uint64_t cap, std::string& why, bool verified = false) {
    inflate_state* st = state_.get();
    isal_inflate_init(st);
    st->crc_flag = ISAL_ZLIB;
    if (verified) {
      // RFC 1950 2.2: CM 8 (deflate), CINFO <= 7, FCHECK makes CMF*256+FLG a multiple of 31, no preset dictionary.
      auto cmf = in.u8(0), flg = in.u8(1);
      if (!cmf || !flg || (*cmf & 0x0f) != 8 || (*cmf >> 4) > 7 || ((*cmf << 8) | *flg) % 31 != 0 || (*flg & 0x20)) {
        why = "not a zlib stream (bad header)";
        return std::nullopt;
      }
      st->crc_flag = ISAL_DEFLATE;
      in = in.tail(2);
    }
    st->next_in = const_cast<uint8_t*>(in.data());
    st->avail_in = static_cast<uint32_t>(std::min<uint64_t>(in.size(), UINT32_MAX));
    st->next_out = out;
    st->avail_out = static_cast<uint32_t>(std::min<uint64_t>(cap, UINT32_MAX));
    const int rc = isal_inflate_stateless(st);
    if (rc == ISAL_DECOMP_OK) return st->total_out;
    switch (rc) {
      case ISAL_OUT_OVERFLOW: why = kOverflow; break;
      case ISAL_END_INPUT: why = "compressed block is truncated"; break;
      case ISAL_INCORRECT_CHECKSUM: why = "Adler-32 checksum mismatch"; break;
      case ISAL_INVALID_WRAPPER: why = "not a zlib stream (bad header)"; break;
      default: why = "inflate error " + std::to_string(rc); break;
    }
    return std::nullopt;
  }

 private:
  std::unique_ptr<inflate_state> state_;
};

class CramfsReader {
 public:
  CramfsReader(ByteView fs, Budget& budget, ExtractResult& out, bool big_endian, bool ext_pointers, bool verified)
      : fs_(fs), budget_(budget), out_(out), be_(big_endian), ext_(ext_pointers), verified_(verified) {}

  void diag(uint64_t index, Severity s, std::string message) {
    out_.diagnostics.push_back({fs_.base() + index, s, std::move(message)});
  }

  // Phase 1: the tree, metadata only (a limit may stop it early; what was found is kept).
  void collect(const cramfs::Inode& root, uint64_t root_at) {
    if (!cramfs::is_dir(root.mode)) {
      diag(root_at, Severity::Error, "root inode is not a directory (mode " + octal(root.mode) + ")");
      return;
    }
    uint64_t cap = std::min<uint64_t>(kMaxInodes, fs_.size() / cramfs::kInodeSize + 16);
    if (probing_) cap = std::min(cap, probe_cap_);
    inode_cap_ = cap;
    walk_dir(root, root_at, "", 0);
  }

  // Chooses the block size: the first candidate under which sample files' first blocks inflate to exactly the sizes
  // their inodes promise (FORMATS.md 1.6: blksize is not stored).
  uint32_t detect_block_size() {
    std::vector<const Node*> samples;
    for (const Node& n : nodes_) {
      if (!has_type(n.inode.mode, TypeBits::Reg) || n.inode.size <= 1024 || n.inode.offset == 0) continue;
      samples.push_back(&n);
      if (samples.size() >= 6) break;
    }
    if (samples.empty()) return 4096;
    for (uint32_t bs : kBlockSizes) {
      bool all = true;
      for (const Node* n : samples) {
        Decoded d = decode(*n, bs, 3, false);
        if (!d.ok) {
          all = false;
          break;
        }
      }
      if (all) return bs;
    }
    diag(samples.front()->inode_at, Severity::Warning,
         "no block size makes the blocks of " + samples.front()->path + " inflate to the expected sizes; using 4096");
    return 4096;
  }

  // Phase 2: entries with content, drawing on the budget. The budget is taken in directory order first, so a limit
  // cuts the same files whatever the thread count; then the files are inflated on up to `threads` threads: straight
  // into their own slots of one block (no copies, huge pages; the entries are views into it), or, when streaming
  // (options.visit), each into a scratch buffer of its thread that the visitor sees before the next file reuses it.
  void emit(uint32_t bs, const CramfsReadOptions& options) {
    struct Job {
      size_t entry;
      const Node* node;
      std::vector<Block> blocks;
      uint64_t slot;
      Decoded d;
      uint64_t produced = 0;
      std::shared_ptr<const Buffer> kept;  // streaming: the copy the visitor asked for
      std::string link;                    // streaming: a symlink's target
    };
    std::vector<Job> jobs;
    uint64_t total = 0;
    for (const Node& n : nodes_) {
      Entry e;
      e.path = n.path;
      e.mode = n.inode.mode;
      e.kind = kind_from_mode(n.inode.mode);
      e.uid = n.inode.uid;
      e.gid = n.inode.gid;
      const uint32_t mode = n.inode.mode;
      if (has_type(mode, TypeBits::Chr) || has_type(mode, TypeBits::Blk)) {
        // The size field holds an old 16-bit dev_t (kernel: old_decode_dev).
        e.rdev_major = (n.inode.size >> 8) & 0xff;
        e.rdev_minor = n.inode.size & 0xff;
      } else if (has_type(mode, TypeBits::Dir) || has_type(mode, TypeBits::Reg) || has_type(mode, TypeBits::Lnk)) {
        e.size = n.inode.size;
      }
      if (!known_type(mode)) {
        e.diagnostics.push_back({fs_.base() + n.inode_at, Severity::Warning,
                                 n.path + ": unknown file type in mode " + octal(mode) + ", read as a regular file"});
      }
      const bool has_content = !has_type(mode, TypeBits::Dir) && !has_type(mode, TypeBits::Chr) &&
                               !has_type(mode, TypeBits::Blk) && !has_type(mode, TypeBits::Fifo) &&
                               !has_type(mode, TypeBits::Sock);
      if (!has_content && n.inode.offset != 0 && !has_type(mode, TypeBits::Dir)) {
        e.diagnostics.push_back({fs_.base() + n.inode_at, Severity::Warning,
                                 n.path + ": special file with a non-zero data offset " +
                                     hex(uint64_t{n.inode.offset} * 4)});
      }
      if (has_content && n.inode.size > 0) {
        Job job{out_.entries.size(), &n, {}, total, {}, 0, {}, {}};
        job.blocks = locate(n, bs, UINT64_MAX, job.d, true);
        if (!take_budget(n, job.blocks)) break;  // a limit stopped the read: this entry and the rest are not listed
        total += n.inode.size;
        jobs.push_back(std::move(job));
      }
      out_.entries.push_back(std::move(e));
    }
    if (jobs.empty()) return;
    const bool streaming = static_cast<bool>(options.visit);
    const unsigned threads = jobs.size() > 1 && total >= (uint64_t{1} << 20) ? options.threads : 1;

    std::shared_ptr<BigBlock> block;
    if (!streaming) {
      block = BigBlock::allocate(total);
      if (!block) {
        diag(0, Severity::Error, "cannot allocate " + std::to_string(total) + " bytes for the file contents");
        for (const Job& j : jobs) out_.entries[j.entry].complete = false;
        return;
      }
    }
    std::atomic<size_t> next{0};
    std::atomic<bool> no_memory{false};
    run_on_threads(threads, [&] {
      Inflater inflater;
      std::unique_ptr<uint8_t[]> scratch;
      uint64_t scratch_size = 0;
      for (size_t i = next++; i < jobs.size(); i = next++) {
        Job& j = jobs[i];
        if (budget_.out_of_time()) {  // asked once per file: the rest stay empty and incomplete
          j.d.ok = false;
          continue;
        }
        if (!streaming) {
          j.produced = inflate_blocks(*j.node, bs, j.blocks, block->data() + j.slot, j.d, true, inflater);
          continue;
        }
        const uint64_t size = j.node->inode.size;
        if (size > scratch_size) {
          scratch.reset(new (std::nothrow) uint8_t[size]);
          scratch_size = scratch ? size : 0;
          if (!scratch) {
            no_memory = true;
            continue;  // this file stays empty and incomplete
          }
        }
        j.produced = inflate_blocks(*j.node, bs, j.blocks, scratch.get(), j.d, true, inflater);
        const ByteView content(scratch.get(), static_cast<size_t>(j.produced));
        try {  // nothing may escape a worker thread: memory that cannot be had leaves the file incomplete
          if (has_type(j.node->inode.mode, TypeBits::Lnk)) j.link.assign(content.as_string_view());
          else if (options.visit(j.entry, out_.entries[j.entry], content))
            j.kept = std::make_shared<const Buffer>(content.data(), content.data() + content.size());
        } catch (const std::bad_alloc&) {
          j.d.ok = false;
          no_memory = true;
        }
      }
    });
    if (budget_.deadline().hit() && !out_.limited) limit_hit(0, time_limit());
    if (no_memory) {
      out_.failed = true;
      diag(0, Severity::Error, "cannot allocate memory for a file's contents; some files are incomplete");
    }
    std::shared_ptr<const void> keep = block;
    for (Job& j : jobs) {
      Entry& e = out_.entries[j.entry];
      e.complete = j.d.ok && j.produced == j.node->inode.size;
      e.diagnostics.insert(e.diagnostics.end(), std::make_move_iterator(j.d.problems.begin()),
                           std::make_move_iterator(j.d.problems.end()));
      if (streaming) {
        if (has_type(j.node->inode.mode, TypeBits::Lnk)) e.link_target = std::move(j.link);
        else if (j.kept) e.data = std::move(j.kept);
        else e.unkept_size = j.produced;
        continue;
      }
      const uint8_t* p = block->data() + j.slot;
      if (has_type(j.node->inode.mode, TypeBits::Lnk)) {
        e.link_target.assign(reinterpret_cast<const char*>(p), static_cast<size_t>(j.produced));
      } else {
        e.view = ByteView(p, static_cast<size_t>(j.produced));
        e.keep = keep;
      }
    }
  }

  uint64_t entries_found() const { return nodes_.size(); }

  // For the finder of headerless images (cramfs::probe_headless): collect() reads at most `max_inodes` inodes.
  void probe_mode(uint64_t max_inodes) {
    probing_ = true;
    probe_cap_ = max_inodes;
  }

  // Whether the tree collect() read is a CramFS that reads back: every directory parsed without a problem, and the
  // first block of up to `samples` files (and symlinks) inflates to the size its inode promises under one block
  // size. `files` counts the samples that inflated.
  struct TreeCheck {
    bool consistent = false;
    uint32_t block_size = 0;
    uint64_t files = 0, dirs = 0, inflated = 0;
    uint64_t extent = 0;  // end of the last directory or data block the tree uses (from the view's start)
    std::string why;      // why it is not consistent
  };
  TreeCheck check_tree(size_t samples) {
    TreeCheck c;
    for (const Diagnostic& d : out_.diagnostics)
      if (d.severity != Severity::Info) {
        c.why = d.message;
        return c;
      }
    const size_t before = out_.diagnostics.size();
    c.block_size = detect_block_size();
    if (out_.diagnostics.size() != before) {
      c.why = out_.diagnostics.back().message;
      return c;
    }
    uint64_t pointers = 0;
    for (const Node& n : nodes_) {
      const uint64_t data = uint64_t{n.inode.offset} * 4;
      if (cramfs::is_dir(n.inode.mode)) {
        ++c.dirs;
        if (n.inode.offset) c.extent = std::max(c.extent, data + n.inode.size);
        continue;
      }
      if (!has_type(n.inode.mode, TypeBits::Reg) && !has_type(n.inode.mode, TypeBits::Lnk)) continue;
      ++c.files;
      if (n.inode.size == 0 || n.inode.offset == 0) continue;
      // The last block pointer is where the file's data ends (FORMATS.md 1.6); a direct pointer (1.7) says nothing.
      const uint64_t nblocks = (uint64_t{n.inode.size} - 1) / c.block_size + 1;
      c.extent = std::max(c.extent, data + 4 * nblocks);
      if (auto last = fs_.u32(data + 4 * (nblocks - 1), be_); last && !(*last & kBlkDirect))
        c.extent = std::max<uint64_t>(c.extent, *last & ~kBlkFlags);
      // Every block pointer of the file must locate a block inside the image (cheap: no inflating), up to a cap on
      // the pointers read per probe.
      if (pointers < kProbeMaxPointers) {
        pointers += nblocks;
        Decoded located;
        if (locate(n, c.block_size, UINT64_MAX, located, false).size() != nblocks || !located.ok) {
          c.why = n.path + ": its block pointers do not locate its blocks inside the image";
          return c;
        }
      }
      if (c.inflated < samples) {
        Decoded d = decode(n, c.block_size, 1, false);
        if (!d.ok) {
          c.why = n.path + ": its first block does not inflate to the expected size";
          return c;
        }
        ++c.inflated;
      }
    }
    c.consistent = c.inflated > 0;
    if (!c.consistent) c.why = "no file content to check";
    return c;
  }

 private:
  static std::string octal(uint32_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0%o", v);
    return buf;
  }

  std::string time_limit() const {
    char buf[64];
    std::snprintf(buf, sizeof buf, "time limit (%g s)", budget_.deadline().limit());
    return buf;
  }

  bool limit_hit(uint64_t index, const std::string& what) {
    out_.limited = true;
    diag(index, Severity::Error, "limit reached: " + what + "; extraction stopped");
    return false;
  }

  void walk_dir(const cramfs::Inode& dir, uint64_t dir_at, const std::string& path, int depth) {
    if (dir.size == 0) return;
    const uint64_t start = uint64_t{dir.offset} * 4;
    if (dir.offset == 0) {
      diag(dir_at, Severity::Warning,
           (path.empty() ? std::string("/") : path) + ": directory of " + std::to_string(dir.size) +
               " bytes without an offset");
      return;
    }
    if (depth >= kMaxDepth) {
      diag(dir_at, Severity::Error,
           (path.empty() ? std::string("/") : path) + ": directories nested deeper than " +
               std::to_string(kMaxDepth) + "; not descending");
      return;
    }
    if (!visited_.insert(start).second) {
      diag(dir_at, Severity::Error,
           (path.empty() ? std::string("/") : path) + ": directory entries at " + hex(fs_.base() + start) +
               " were already read (directory loop); not descending");
      return;
    }
    const uint64_t end = start + dir.size;
    if (!fs_.contains(start, dir.size)) {
      diag(dir_at, Severity::Error,
           (path.empty() ? std::string("/") : path) + ": directory entries at " + hex(fs_.base() + start) + " (" +
               std::to_string(dir.size) + " bytes) extend past the end of the image");
      // Read what is there.
    }
    uint64_t pos = start;
    while (pos < end) {
      if (out_.limited) return;
      if (inodes_seen_ >= inode_cap_) {
        if (probing_) {  // the finder judges the tree by its first inodes: no diagnostic, no limit
          capped_ = true;
          return;
        }
        diag(pos, Severity::Error, "more than " + std::to_string(inode_cap_) + " inodes; stopping the tree walk");
        out_.limited = true;
        return;
      }
      auto child = cramfs::read_inode(fs_, pos, be_);
      if (!child) {
        diag(pos, Severity::Error,
             (path.empty() ? std::string("/") : path) + ": directory entry at " + hex(fs_.base() + pos) +
                 " is outside the image");
        return;
      }
      ++inodes_seen_;
      const uint64_t name_at = pos + cramfs::kInodeSize;
      const uint64_t name_len = uint64_t{child->namelen} * 4;
      if (child->namelen == 0) {
        // The kernel returns -EIO here: the entry length is unknown, so the rest of the directory is lost.
        diag(pos, Severity::Error,
             (path.empty() ? std::string("/") : path) + ": directory entry with a zero name length; rest of the "
                                                        "directory skipped");
        return;
      }
      auto raw_name = fs_.str(name_at, name_len);
      if (!raw_name) {
        diag(name_at, Severity::Error,
             (path.empty() ? std::string("/") : path) + ": entry name at " + hex(fs_.base() + name_at) +
                 " is outside the image");
        return;
      }
      pos = name_at + name_len;
      if (pos > end) {
        diag(name_at, Severity::Warning,
             (path.empty() ? std::string("/") : path) + ": last entry runs " + std::to_string(pos - end) +
                 " bytes past the directory size");
      }
      // The name is NUL-padded; like fsck, it ends at the first NUL.
      std::string name(raw_name->substr(0, std::min(raw_name->find('\0'), raw_name->size())));
      if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
        diag(name_at, Severity::Error,
             (path.empty() ? std::string("/") : path) + ": invalid entry name \"" + printable(name, 64) +
                 "\"; entry skipped");
        continue;
      }
      if (budget_.out_of_time()) {  // asked once per directory entry
        limit_hit(pos, time_limit());
        return;
      }
      if (!budget_.take_entry()) {
        limit_hit(pos, "max_entries (" + std::to_string(budget_.limits().max_entries) + ")");
        return;
      }
      Node n;
      n.path = path + "/" + name;
      n.inode = *child;
      n.inode_at = pos - name_len - cramfs::kInodeSize;
      nodes_.push_back(n);
      if (cramfs::is_dir(child->mode)) walk_dir(*child, n.inode_at, n.path, depth + 1);
    }
  }

  // Locates a file's blocks (kernel cramfs_read_folio). Stops at the first pointer that cannot be valid.
  std::vector<Block> locate(const Node& n, uint32_t bs, uint64_t max_blocks, Decoded& d, bool report) {
    std::vector<Block> blocks;
    const uint64_t size = n.inode.size;
    const uint64_t nblocks = (size - 1) / bs + 1;
    const uint64_t table = uint64_t{n.inode.offset} * 4;
    const uint64_t want = std::min(nblocks, max_blocks);
    auto fail = [&](uint64_t at, std::string what) {
      d.ok = false;
      if (report) d.problems.push_back({fs_.base() + at, Severity::Error, n.path + ": " + what});
    };
    if (n.inode.offset == 0) {
      fail(n.inode_at, "file of " + std::to_string(size) + " bytes without a data offset");
      return blocks;
    }
    for (uint64_t i = 0; i < want; ++i) {
      const uint64_t ptr_at = table + 4 * i;
      auto ptr = fs_.u32(ptr_at, be_);
      if (!ptr) {
        fail(ptr_at, "block pointer " + std::to_string(i) + " at " + hex(fs_.base() + ptr_at) +
                         " is outside the image");
        return blocks;
      }
      Block b;
      b.ptr_at = ptr_at;
      const uint64_t expected = std::min<uint64_t>(bs, size - i * bs);
      const bool direct = ext_ && (*ptr & kBlkDirect);
      b.raw = ext_ && (*ptr & kBlkUncompressed);
      const uint64_t value = ext_ ? (*ptr & ~kBlkFlags) : *ptr;
      if (direct) {
        // Absolute start (shifted by 2); a compressed direct block carries its length in a leading u16.
        b.start = value << kBlkDirectShift;
        if (b.raw) {
          b.len = expected;
        } else {
          auto len = fs_.u16(b.start, be_);
          if (!len) {
            fail(b.start, "direct block " + std::to_string(i) + " at " + hex(fs_.base() + b.start) +
                              " is outside the image");
            return blocks;
          }
          b.len = *len;
          b.start += 2;
        }
      } else {
        // The pointer is the end of this block; it starts where the previous one ended (or after the table).
        uint64_t start = table + 4 * nblocks;
        if (i > 0) {
          auto prev = fs_.u32(ptr_at - 4, be_);
          if (!prev) {
            fail(ptr_at - 4, "block pointer table outside the image");
            return blocks;
          }
          if (ext_ && (*prev & kBlkDirect)) {
            const uint64_t pstart = uint64_t{*prev & ~kBlkFlags} << kBlkDirectShift;
            if (*prev & kBlkUncompressed) {
              start = pstart + bs;
            } else {
              auto plen = fs_.u16(pstart, be_);
              if (!plen) {
                fail(pstart, "direct block " + std::to_string(i - 1) + " at " + hex(fs_.base() + pstart) +
                                 " is outside the image");
                return blocks;
              }
              start = pstart + 2 + *plen;
            }
          } else {
            start = ext_ ? (*prev & ~kBlkFlags) : *prev;
          }
        }
        if (value < start) {
          fail(ptr_at, "block " + std::to_string(i) + " ends at " + hex(fs_.base() + value) + " before it starts at " +
                           hex(fs_.base() + start));
          return blocks;
        }
        b.start = start;
        b.len = value - start;
      }
      if (b.len > 2 * uint64_t{bs} || (b.raw && b.len > bs)) {
        fail(b.start, "block " + std::to_string(i) + " at " + hex(fs_.base() + b.start) + " is " +
                          std::to_string(b.len) + " bytes, more than the kernel accepts for block size " +
                          std::to_string(bs));
        return blocks;
      }
      if (!fs_.contains(b.start, b.len)) {
        fail(b.start, "block " + std::to_string(i) + " at " + hex(fs_.base() + b.start) + " (" +
                          std::to_string(b.len) + " bytes) is outside the image");
        return blocks;
      }
      blocks.push_back(b);
    }
    return blocks;
  }

  // Inflates up to max_blocks blocks of a file or symlink. d.ok is false when anything disagrees with the inode.
  Decoded decode(const Node& n, uint32_t bs, uint64_t max_blocks, bool report) {
    Decoded d;
    std::vector<Block> blocks = locate(n, bs, max_blocks, d, report);
    d.data.assign(std::min<uint64_t>(n.inode.size, uint64_t{blocks.size()} * bs), 0);
    d.data.resize(inflate_blocks(n, bs, blocks, d.data.data(), d, report, inflater_));
    return d;
  }

  // Inflates the blocks into out, which holds room for every located block (min(size, blocks * bs) bytes; not
  // necessarily zero-filled: holes and the ends of short blocks are written as zeros). Returns the bytes of content
  // produced: up to the first block that cannot be read.
  uint64_t inflate_blocks(const Node& n, uint32_t bs, const std::vector<Block>& blocks, uint8_t* out, Decoded& d,
                          bool report, Inflater& inflater) {
    const uint64_t size = n.inode.size;
    uint64_t produced = 0;
    for (size_t i = 0; i < blocks.size(); ++i) {
      const Block& b = blocks[i];
      const uint64_t expected = std::min<uint64_t>(bs, size - i * uint64_t{bs});
      uint8_t* dst = out + produced;
      uint64_t got = 0;
      if (b.len == 0) {
        got = expected;  // a hole: zeros (FORMATS.md 1.6)
        std::fill(dst, dst + expected, uint8_t{0});
      } else if (b.raw) {
        got = b.len;
        std::copy(fs_.data() + b.start, fs_.data() + b.start + std::min(b.len, expected), dst);
      } else {
        std::string why;
        const ByteView stored = *fs_.sub(b.start, b.len);
        auto r = inflater.run(stored, dst, expected, why, verified_);
        if (!r && why == Inflater::kOverflow && expected < bs) {
          // More than the file has left but within a block: inflate aside to tell how much, keep what fits.
          Buffer aside(bs);
          r = inflater.run(stored, aside.data(), bs, why, verified_);
          if (r) std::copy(aside.begin(), aside.begin() + static_cast<long>(expected), dst);
        }
        if (!r) {
          d.ok = false;
          if (report)
            d.problems.push_back({fs_.base() + b.start, Severity::Error,
                                  n.path + ": block " + std::to_string(i) + " at " + hex(fs_.base() + b.start) +
                                      ": " + why});
          return produced;
        }
        got = *r;
      }
      if (got < expected) std::fill(dst + got, dst + expected, uint8_t{0});
      if (got != expected) {
        d.ok = false;
        // Like the kernel, a short block reads as zeros past its end; a long one is cut.
        if (report)
          d.problems.push_back({fs_.base() + b.start, Severity::Error,
                                n.path + ": block " + std::to_string(i) + " at " + hex(fs_.base() + b.start) +
                                    " holds " + std::to_string(got) + " bytes, expected " +
                                    std::to_string(expected)});
      }
      produced += expected;
    }
    return produced;
  }

  // Draws a file's size from the budget; false (with the diagnostic naming the limit) when a limit refuses it.
  bool take_budget(const Node& n, const std::vector<Block>& blocks) {
    uint64_t compressed = 0;
    for (const Block& b : blocks) compressed += b.len;
    const uint64_t size = n.inode.size;
    const uint64_t allowed = budget_.allowance(compressed);
    if (size > allowed) {
      const ExtractLimits& lim = budget_.limits();
      std::string which = size > lim.max_file_bytes ? "max_file_bytes (" + std::to_string(lim.max_file_bytes) + ")"
                          : size > lim.max_total_bytes - budget_.used_bytes()
                              ? "max_total_bytes (" + std::to_string(lim.max_total_bytes) + ")"
                              : "max_ratio (" + std::to_string(lim.max_ratio) + ", decompression bomb guard)";
      return limit_hit(n.inode_at, n.path + ": " + std::to_string(size) + " bytes from " +
                                       std::to_string(compressed) + " stored bytes exceeds " + which);
    }
    if (!budget_.take_bytes(size)) {
      return limit_hit(n.inode_at, n.path + ": max_total_bytes (" +
                                       std::to_string(budget_.limits().max_total_bytes) + ")");
    }
    return true;
  }

  ByteView fs_;
  Budget& budget_;
  ExtractResult& out_;
  bool be_;
  bool ext_;
  bool verified_;  // the whole image's CRC-32 matched
  std::vector<Node> nodes_;
  std::unordered_set<uint64_t> visited_;
  uint64_t inodes_seen_ = 0;
  uint64_t inode_cap_ = kMaxInodes;
  bool probing_ = false, capped_ = false;
  uint64_t probe_cap_ = kMaxInodes;
  Inflater inflater_;
};

// Runs both phases from a root inode.
void read_tree(ByteView fs, Budget& budget, const CramfsReadOptions& options, ExtractResult& out,
               const cramfs::Inode& root, uint64_t root_at, bool be, bool ext, bool verified = false) {
  CramfsReader reader(fs, budget, out, be, ext, verified);
  reader.collect(root, root_at);
  uint32_t bs = options.block_size;
  if (bs == 0) {
    bs = reader.detect_block_size();
  } else if (bs < 512 || bs > (1u << 20) || (bs & (bs - 1)) != 0) {
    out.diagnostics.push_back({fs.base(), Severity::Error,
                               "block size " + std::to_string(bs) + " is not a power of two in 512..1M; using 4096"});
    bs = 4096;
  }
  reader.emit(bs, options);
}

// ---------------------------------------------------------------------------------------------------------------
// Recovery: plausibility of an inode and of a run of directory entries (no superblock to trust).

bool plausible_inode(const cramfs::Inode& n, uint64_t image_size) {
  if (!known_type(n.mode) || n.namelen == 0) return false;
  const uint64_t off = uint64_t{n.offset} * 4;
  if (off >= image_size) return false;
  if (has_type(n.mode, TypeBits::Dir) || has_type(n.mode, TypeBits::Reg) || has_type(n.mode, TypeBits::Lnk)) {
    if ((n.size == 0) != (n.offset == 0)) return false;
    if (off != 0 && off < cramfs::kSuperblockSize) return false;
    if (has_type(n.mode, TypeBits::Lnk) && n.size > 4096) return false;
  } else {
    if (n.offset != 0) return false;
    if ((has_type(n.mode, TypeBits::Fifo) || has_type(n.mode, TypeBits::Sock)) && n.size != 0) return false;
  }
  return true;
}

bool plausible_name(std::string_view raw) {
  size_t len = raw.find('\0');
  if (len == std::string_view::npos) len = raw.size();
  if (len == 0 || raw.size() - len >= 4) return false;  // namelen is the padded length: at most 3 NULs
  for (size_t i = len; i < raw.size(); ++i)
    if (raw[i] != '\0') return false;
  std::string_view name = raw.substr(0, len);
  if (name == "." || name == "..") return false;
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f || c == '/') return false;
  return true;
}

struct Run {
  bool ok = false;
  uint64_t end = 0;
  uint64_t count = 0;
};

// A run of directory entries at start. With a known size it must consume exactly that; without, it ends where the
// first child's data or entries begin (mkfs writes each directory's entries right before its children's).
Run check_run(ByteView fs, uint64_t start, std::optional<uint64_t> size, bool be) {
  Run r;
  uint64_t pos = start;
  uint64_t first_child = UINT64_MAX;
  const uint64_t limit = size ? start + *size : fs.size();
  while (pos < limit && r.count < 100000) {
    if (!size && pos >= first_child) break;
    auto n = cramfs::read_inode(fs, pos, be);
    if (!n || !plausible_inode(*n, fs.size())) break;
    auto raw = fs.str(pos + cramfs::kInodeSize, uint64_t{n->namelen} * 4);
    if (!raw || !plausible_name(*raw)) break;
    const uint64_t next = pos + cramfs::kInodeSize + uint64_t{n->namelen} * 4;
    if (n->offset != 0) {
      const uint64_t child = uint64_t{n->offset} * 4;
      if (child < next) return r;  // children come after their directory's entries
      first_child = std::min(first_child, child);
    }
    pos = next;
    ++r.count;
  }
  r.end = pos;
  if (r.count == 0) return r;
  if (size) {
    r.ok = pos == start + *size;
  } else {
    r.ok = first_child == UINT64_MAX ? r.count >= 2 : pos == first_child;
  }
  return r;
}

}  // namespace

ExtractResult read_cramfs(ByteView fs, Budget& budget, const CramfsReadOptions& options) {
  ExtractResult out;
  // The superblock is at 0, or at 512 after a boot-code pad; offsets stay absolute from the view's start.
  auto sbr = cramfs::read_superblock(fs, 0);
  if (!sbr && fs.size() >= kPadSize) {
    auto padded = cramfs::read_superblock(fs, kPadSize);
    if (padded) sbr = padded;
  }
  if (!sbr) {
    out.diagnostics.push_back({sbr.error().offset, Severity::Error, sbr.error().message});
    return out;
  }
  const cramfs::Superblock& sb = *sbr;
  const uint64_t sb_at = sb.start;
  auto diag = [&](uint64_t index, Severity s, std::string m) {
    out.diagnostics.push_back({fs.base() + index, s, std::move(m)});
  };

  if (sb.flags & ~cramfs::kKnownFlags)
    diag(sb_at + 8, Severity::Warning, "unknown superblock flags " + hex(sb.flags & ~cramfs::kKnownFlags));
  if (!sb.signature_ok) diag(sb_at + 16, Severity::Warning, "signature is not \"Compressed ROMFS\"");

  const bool v2 = sb.flags & cramfs::kFlagFsidVersion2;
  bool crc_ok = false;
  if (v2) {
    // CRC-32 over [superblock, size) with fsid.crc taken as zero (FORMATS.md 1.8; util-linux fsck test_crc).
    if (sb.size < sb_at + cramfs::kSuperblockSize) {
      diag(sb_at + 4, Severity::Warning, "superblock size " + std::to_string(sb.size) + " is smaller than the superblock");
    } else if (sb.size > fs.size()) {
      diag(sb_at + 4, Severity::Warning,
           "truncated: the superblock says " + std::to_string(sb.size) + " bytes, " + std::to_string(fs.size()) +
               " present; CRC not checked");
    } else {
      ByteView covered = *fs.sub(sb_at, sb.size - sb_at);
      const uint32_t computed = options.crc_verified ? sb.crc : crc32_with_zeroed_word(covered, 32);
      if (computed == sb.crc) {
        crc_ok = true;
        diag(sb_at + 32, Severity::Info, "CRC OK (" + hex(sb.crc) + ")");
      } else {
        diag(sb_at + 32, Severity::Warning, "CRC mismatch: stored " + hex(sb.crc) + ", computed " + hex(computed));
      }
    }
  }
  read_tree(fs, budget, options, out, sb.root, sb_at + 64, sb.big_endian, sb.flags & cramfs::kFlagExtBlockPointers,
            crc_ok);
  return out;
}

ExtractResult recover_cramfs(ByteView fs, Budget& budget, const CramfsReadOptions& options) {
  // An intact superblock needs no recovery.
  for (uint64_t at : {uint64_t{0}, uint64_t{kPadSize}}) {
    auto sb = cramfs::read_superblock(fs, at);
    if (sb && cramfs::is_dir(sb->root.mode) && sb->root.namelen == 0 &&
        (sb->root.size == 0 || check_run(fs, uint64_t{sb->root.offset} * 4, sb->root.size, sb->big_endian).ok))
      return read_cramfs(fs, budget, options);
  }

  ExtractResult out;
  auto recovered = [&](uint64_t entries_at, uint64_t size, bool be, uint64_t root_at, const std::string& how) {
    out.recovered = true;
    out.diagnostics.push_back({fs.base() + entries_at, Severity::Warning,
                               "superblock damaged; tree recovered from the root directory at " +
                                   hex(fs.base() + entries_at) + " (" + how + ", " +
                                   (be ? "big" : "little") + " endian)"});
    cramfs::Inode root;
    root.mode = 0040755;
    root.size = static_cast<uint32_t>(size);
    root.offset = static_cast<uint32_t>(entries_at / 4);
    // The flags are lost; extended block pointers only add meaning to bits that ordinary images never set.
    read_tree(fs, budget, options, out, root, root_at, be, true);
    return out;
  };

  // 1. The root inode at the superblock's root field (+64; +512+64 with a pad) may have survived.
  for (uint64_t root_at : {uint64_t{64}, uint64_t{kPadSize} + 64}) {
    for (bool be : {false, true}) {
      auto root = cramfs::read_inode(fs, root_at, be);
      if (!root || !cramfs::is_dir(root->mode) || root->size == 0 || root->offset == 0) continue;
      const uint64_t start = uint64_t{root->offset} * 4;
      if (start < root_at + cramfs::kInodeSize) continue;
      Run r = check_run(fs, start, uint64_t{root->size}, be);
      if (r.ok) return recovered(start, root->size, be, root_at, "root inode at " + hex(fs.base() + root_at));
    }
  }

  // 2. Scan for the root directory's entries: after the superblock (76, or 588 with a pad), then onwards.
  const uint64_t scan_end = std::min<uint64_t>(fs.size(), 1 << 20);
  std::vector<uint64_t> starts = {cramfs::kSuperblockSize, kPadSize + cramfs::kSuperblockSize};
  for (uint64_t p = cramfs::kSuperblockSize + 4; p < scan_end; p += 4) starts.push_back(p);
  for (uint64_t start : starts) {
    if (start >= fs.size()) continue;
    for (bool be : {false, true}) {
      Run r = check_run(fs, start, std::nullopt, be);
      if (!r.ok) continue;
      // Where mkfs.cramfs puts the root directory (76, 588) a plausible run is taken. Further on it may as well be a
      // subdirectory (two empty directories are a plausible run): there the tree must read back, or a wrong
      // --cramfs-at would claim the bytes of the real file system after it.
      const bool mkfs_place = start == cramfs::kSuperblockSize || start == kPadSize + cramfs::kSuperblockSize;
      if (!mkfs_place) {
        Budget scratch;
        ExtractResult probe;
        CramfsReader reader(fs, scratch, probe, be, true, false);
        reader.probe_mode(cramfs::kProbeMaxInodes);
        cramfs::Inode root;
        root.mode = 0040755;
        root.size = static_cast<uint32_t>(r.end - start);
        root.offset = static_cast<uint32_t>(start / 4);
        reader.collect(root, start);
        if (!reader.check_tree(cramfs::kProbeSamples).consistent) continue;
      }
      return recovered(start, r.end - start, be, start, "found by scanning");
    }
  }
  out.diagnostics.push_back({fs.base(), Severity::Error,
                             "no CramFS superblock and no plausible root directory found; nothing recovered"});
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Finder of headerless images: a root directory inode where mkfs.cramfs puts it, with nothing else to go by.

namespace cramfs {

HeadlessProbe probe_headless(ByteView view, uint64_t start, bool big_endian, bool pad) {
  HeadlessProbe p;
  if (start >= view.size()) return p;
  // Offsets inside a CramFS are absolute from its first byte (the pad included), so the tree is read in a view that
  // starts there.
  const ByteView fs = view.tail(start);
  const uint64_t root_at = (pad ? kPadSize : 0) + 64;
  auto root = read_inode(fs, root_at, big_endian);
  // mkfs.cramfs writes the root directory's entries right after the superblock, and the root inode has no name
  // (FORMATS.md 1.2 and 1.5): offset 76 (588 with the boot pad), name length 0.
  if (!root || !is_dir(root->mode) || root->namelen != 0 || uint64_t{root->offset} * 4 != root_at + kInodeSize)
    return p;
  if (root->size < kInodeSize + 4 || root->size > kProbeMaxRootBytes) return p;
  const Run run = check_run(fs, root_at + kInodeSize, uint64_t{root->size}, big_endian);
  if (!run.ok) return p;
  p.found = true;
  p.big_endian = big_endian;
  p.root_at = start + root_at;
  p.entries = run.count;

  Budget scratch;
  ExtractResult out;
  CramfsReader reader(fs, scratch, out, big_endian, /*ext_pointers=*/true, /*verified=*/false);
  reader.probe_mode(kProbeMaxInodes);
  reader.collect(*root, root_at);
  const auto check = reader.check_tree(kProbeSamples);
  p.consistent = check.consistent;
  p.why = check.why;
  p.block_size = check.block_size;
  p.files = check.files;
  p.dirs = check.dirs + 1;  // the root
  p.inflated = check.inflated;
  uint64_t size = std::max<uint64_t>(check.extent, root_at + kInodeSize + root->size);
  // mkfs.cramfs pads the image to a whole block; stay inside the view.
  if (check.block_size) size = (size + check.block_size - 1) / check.block_size * check.block_size;
  p.size = std::min<uint64_t>(size, fs.size());
  return p;
}

}  // namespace cramfs

}  // namespace fwcert
