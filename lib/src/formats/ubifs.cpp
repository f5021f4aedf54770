// UBIFS: the walk's validator (superblock node, newest master node, root index node) and the reader, which walks the
// index B-tree from the master node's root down to the leaf nodes. The validator runs the reader's first stage
// (open_fs), so the two agree on what a UBIFS image is.
//
// Structures relied on (Linux fs/ubifs/ubifs-media.h): struct ubifs_ch (magic, crc over [8, len) with
// UBIFS_CRC32_INIT and no final inversion, sqnum, len, node_type), struct ubifs_sb_node (key_hash, key_fmt, flags,
// min_io_size, leb_size, leb_cnt, fanout, fmt_version, default_compr, hash_algo), struct ubifs_mst_node (root_lnum,
// root_offs, root_len; UBIFS_MST_LNUM = 1, two copies), struct ubifs_idx_node (child_cnt, level, branches) and struct
// ubifs_branch (lnum, offs, len, key, then the node's hash on authenticated filesystems), struct ubifs_ino_node,
// struct ubifs_dent_node, struct ubifs_data_node, UBIFS_ROOT_INO, UBIFS_BLOCK_SIZE, UBIFS_COMPR_NONE/LZO/ZLIB/ZSTD,
// UBIFS_CRYPT_FL, UBIFS_FLG_ENCRYPTION/AUTHENTICATION; fs/ubifs/key.h for the simple key format. Device numbers:
// Linux new_encode_dev() (include/linux/kdev_t.h).
#include "fwcert/formats/ubifs.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "fwcert/core/checksum.hpp"
#include "fwcert/core/codec.hpp"
#include "fwcert/scan/validator.hpp"

namespace fwcert::ubifs {
namespace {

constexpr uint64_t kSbNodeSize = 4096;   // UBIFS_SB_NODE_SZ
constexpr uint64_t kMstNodeSize = 512;   // UBIFS_MST_NODE_SZ
constexpr uint64_t kIdxNodeSize = 28;    // UBIFS_IDX_NODE_SZ: header before the branches
constexpr uint64_t kBranchSize = 20;     // lnum, offs, len and an 8-byte simple key (UBIFS_SK_LEN)
constexpr uint64_t kInoNodeSize = 160;   // UBIFS_INO_NODE_SZ
constexpr uint64_t kDentNodeSize = 56;   // UBIFS_DENT_NODE_SZ
constexpr uint64_t kDataNodeSize = 48;   // UBIFS_DATA_NODE_SZ
constexpr uint64_t kMaxNodeSize = 4096 + kInoNodeSize;  // UBIFS_MAX_NODE_SZ (an inode with its data)
constexpr uint32_t kMinLebSize = 15 * 1024;             // UBIFS_MIN_LEB_SZ
constexpr uint32_t kMaxLebSize = 16u << 20;
// UBIFS_MIN_LEB_CNT (17) holds for a mounted volume; mkfs.ubifs writes the LEBs it used (13 for a tiny tree) and
// the kernel grows leb_cnt on the first mount. Superblock, two master LEBs, two log LEBs at the least.
constexpr uint32_t kMinLebCnt = 5;

uint32_t node_crc(ByteView v) { return ~crc32(v, 0); }  // crc32_le(0xFFFFFFFF, ...) = ~zlib_crc32(0, ...)

}  // namespace

const char* compression_name(uint16_t compr) {
  switch (compr) {
    case 0: return "none";
    case 1: return "lzo";
    case 2: return "zlib";
    case 3: return "zstd";
    default: return "unknown";
  }
}

// A node with a valid common header and CRC at fs[pos], at most max_len bytes long.
struct Node {
  ByteView v;  // the whole node
  uint8_t type = 0;
  uint64_t sqnum = 0;
};

enum class NodeCheck { Ok, NoMagic, BadLength, BadCrc };

NodeCheck read_node(ByteView fs, uint64_t pos, uint64_t max_len, Node& out) {
  if (fs.u32le(pos) != kNodeMagic) return NodeCheck::NoMagic;
  auto len = fs.u32le(pos + 16);
  if (!len || *len < kChSize || *len > max_len || !fs.contains(pos, *len)) return NodeCheck::BadLength;
  ByteView n = *fs.sub(pos, *len);
  if (node_crc(*n.sub(8, *len - 8)) != *n.u32le(4)) return NodeCheck::BadCrc;
  out.v = n;
  out.type = *n.u8(20);
  out.sqnum = *n.u64le(8);
  return NodeCheck::Ok;
}

std::optional<Superblock> parse_superblock(ByteView fs, std::string* why) {
  auto fail = [&](const char* w) {
    if (why) *why = w;
    return std::nullopt;
  };
  if (fs.u32le(0) != kNodeMagic || fs.u8(20) != kSb) return fail("no superblock node");
  Node n;
  const NodeCheck c = read_node(fs, 0, kSbNodeSize, n);
  if (c == NodeCheck::BadLength) return fail("superblock node length is not 4096 or runs past the end");
  if (c == NodeCheck::BadCrc) return fail("superblock node CRC mismatch");
  if (n.v.size() < 260) return fail("superblock node too short");
  Superblock sb;
  const ByteView v = n.v;
  sb.key_hash = *v.u8(26);
  sb.key_fmt = *v.u8(27);
  sb.flags = *v.u32le(28);
  sb.min_io_size = *v.u32le(32);
  sb.leb_size = *v.u32le(36);
  sb.leb_cnt = *v.u32le(40);
  sb.max_leb_cnt = *v.u32le(44);
  sb.log_lebs = *v.u32le(56);
  sb.lpt_lebs = *v.u32le(60);
  sb.orph_lebs = *v.u32le(64);
  sb.fanout = *v.u32le(72);
  sb.fmt_version = *v.u32le(80);
  sb.default_compr = *v.u16le(84);
  sb.hash_algo = *v.u16le(256);
  if (sb.leb_size < kMinLebSize || sb.leb_size > kMaxLebSize || sb.leb_size % 8) return fail("implausible LEB size");
  if (sb.leb_cnt < kMinLebCnt || sb.leb_cnt > (1u << 24)) return fail("implausible LEB count");
  if (sb.min_io_size == 0 || sb.min_io_size > sb.leb_size || (sb.min_io_size & (sb.min_io_size - 1)))
    return fail("implausible minimum I/O size");
  if (sb.key_fmt != 0) return fail("unknown key format (only the simple key format exists)");
  if (sb.fmt_version < 1 || sb.fmt_version > 5) return fail("unknown format version");
  if (sb.fanout < 3) return fail("index fanout below 3");
  return sb;
}

std::optional<Master> find_master(ByteView fs, const Superblock& sb) {
  std::optional<Master> best;
  uint32_t copies = 0;
  for (uint64_t lnum = 1; lnum <= 2; ++lnum) {
    const ByteView leb = fs.clamp(lnum * sb.leb_size, sb.leb_size);
    // Master nodes are written one after the other, each at a min_io_size boundary; the last good one is the newest.
    const uint64_t step = std::max<uint64_t>(8, std::min<uint64_t>(sb.min_io_size, kMstNodeSize));
    for (uint64_t pos = 0; pos + kMstNodeSize <= leb.size(); pos += step) {
      Node n;
      if (leb.u32le(pos) != kNodeMagic) continue;
      if (read_node(leb, pos, kMstNodeSize, n) != NodeCheck::Ok || n.type != kMst || n.v.size() < 100) continue;
      ++copies;
      if (best && best->sqnum >= n.sqnum) continue;
      Master m;
      m.sqnum = n.sqnum;
      m.highest_inum = *n.v.u64le(24);
      m.cmt_no = *n.v.u64le(32);
      m.flags = *n.v.u32le(40);
      m.log_lnum = *n.v.u32le(44);
      m.root_lnum = *n.v.u32le(48);
      m.root_offs = *n.v.u32le(52);
      m.root_len = *n.v.u32le(56);
      best = m;
    }
  }
  if (best) best->copies = copies;
  return best;
}

}  // namespace fwcert::ubifs

namespace fwcert {
namespace {

using namespace ubifs;

struct Key {
  uint32_t ino = 0;
  uint8_t type = 0;
  uint32_t low = 0;  // block number (data keys) or name hash (entry keys)
};
Key read_key(ByteView v, uint64_t at) {
  Key k;
  k.ino = v.u32le(at).value_or(0);
  const uint32_t w = v.u32le(at + 4).value_or(0);
  k.type = static_cast<uint8_t>(w >> 29);
  k.low = w & 0x1FFFFFFFu;
  return k;
}

// What open_fs found: the superblock, the master node and the root index node's place.
struct Opened {
  Superblock sb;
  Master mst;
  uint64_t lebs = 0;  // LEBs present in the view
  bool root_ok = false;
  std::string root_problem;
};

// Where node (lnum, offs, len) lies in fs, when it lies inside it.
std::optional<uint64_t> node_pos(const Opened& o, uint64_t lnum, uint64_t offs, uint64_t len) {
  if (lnum >= o.lebs || offs % 8 || offs >= o.sb.leb_size || len > o.sb.leb_size - offs) return std::nullopt;
  return lnum * o.sb.leb_size + offs;
}

std::optional<Opened> open_fs(ByteView fs, std::string* why) {
  auto sb = parse_superblock(fs, why);
  if (!sb) return std::nullopt;
  Opened o;
  o.sb = *sb;
  o.lebs = (fs.size() + sb->leb_size - 1) / sb->leb_size;
  auto mst = find_master(fs, *sb);
  if (!mst) {
    o.root_problem = "no valid master node in LEBs 1 and 2";
    return o;
  }
  o.mst = *mst;
  auto pos = node_pos(o, mst->root_lnum, mst->root_offs, mst->root_len);
  Node n;
  if (!pos)
    o.root_problem = "root index node " + std::to_string(mst->root_lnum) + ":" + std::to_string(mst->root_offs) +
                     " lies outside the filesystem";
  else if (read_node(fs, *pos, mst->root_len, n) != NodeCheck::Ok || n.type != kIdx)
    o.root_problem = "root index node at LEB " + std::to_string(mst->root_lnum) + ":" + std::to_string(mst->root_offs) +
                     " is damaged";
  else
    o.root_ok = true;
  return o;
}

std::optional<Hit> validate_ubifs(const ValidateInput& in) {
  const ByteView v = in.image.tail(in.start);
  const uint64_t abs = in.image.base() + in.start;
  if (v.u8(20) != kSb) return std::nullopt;  // every node starts with the magic: only the superblock starts an image
  auto o = open_fs(v, nullptr);
  if (!o) return std::nullopt;
  const Superblock& sb = o->sb;
  Hit hit;
  hit.offset = abs;
  hit.type = "ubifs";
  hit.nesting = Nesting::Opaque;
  hit.confidence = Confidence::High;
  const uint64_t full = uint64_t{sb.leb_cnt} * sb.leb_size;
  hit.size = std::min<uint64_t>(full, v.size());
  if (!o->root_ok) {
    hit.diag(abs, Severity::Warning, "ubifs: " + o->root_problem);
    hit.confidence = Confidence::Medium;
  }
  std::string d = "UBIFS filesystem, format version " + std::to_string(sb.fmt_version) + ", LEB size " +
                  std::to_string(sb.leb_size) + ", " + std::to_string(sb.leb_cnt) + " LEBs (max " +
                  std::to_string(sb.max_leb_cnt) + "), min I/O " + std::to_string(sb.min_io_size) +
                  ", compression: " + compression_name(sb.default_compr) + ", fanout " + std::to_string(sb.fanout);
  if (sb.encrypted()) d += ", encrypted";
  if (sb.authenticated()) d += ", authenticated";
  if (o->root_ok) d += ", index root at LEB " + std::to_string(o->mst.root_lnum) + ":" + std::to_string(o->mst.root_offs);
  hit.description = std::move(d);
  return hit;
}

// ------------------------------------------------------------------------------------------------------------------
// Reader
// ------------------------------------------------------------------------------------------------------------------

constexpr size_t kMaxDiagnostics = 256;
constexpr int kMaxPathDepth = 128;

struct Inode {
  uint64_t sqnum = 0, size = 0;
  int64_t mtime = 0;
  uint32_t nlink = 0, uid = 0, gid = 0, mode = 0, flags = 0;
  ByteView data;  // the inode's own data (symlink target, device number)
  uint64_t pos = 0;
};
struct Dent {
  uint32_t parent = 0;
  uint64_t inum = 0;
  uint8_t type = 0;
  std::string name;
  uint64_t pos = 0;
};
struct DataRef {
  uint32_t block = 0;
  uint64_t pos = 0;  // the data node in fs
  uint32_t len = 0;
};

class UbifsReader {
 public:
  UbifsReader(ByteView fs, Budget& budget, const ContainerReadOptions& options)
      : fs_(fs), budget_(budget), options_(options) {}

  ExtractResult run() {
    std::string why;
    auto o = open_fs(fs_, &why);
    if (!o) {
      diag(0, Severity::Error, "ubifs: " + why);
      return std::move(out_);
    }
    o_ = *o;
    if (!o_.root_ok) {
      diag(0, Severity::Error, "ubifs: " + o_.root_problem);
      return std::move(out_);
    }
    if (o_.sb.encrypted())
      diag(0, Severity::Warning, "ubifs: the filesystem holds encrypted files (fscrypt): their names and content are "
                                 "not readable without the key");
    if (o_.sb.authenticated())
      diag(0, Severity::Info, "ubifs: authenticated filesystem (HMAC and node hashes present, not verified)");
    if (o_.mst.flags & 1)
      diag(o_.mst.root_lnum, Severity::Info,
           "ubifs: the master node is marked dirty (unclean unmount): what only the journal holds is not read");
    walk_index();
    build_tree();
    return std::move(out_);
  }

 private:
  void diag(uint64_t at, Severity s, std::string m) {
    if (diags_++ < kMaxDiagnostics)
      out_.diagnostics.push_back({fs_.base() + at, s, std::move(m)});
    else if (diags_ == kMaxDiagnostics + 1)
      out_.diagnostics.push_back({fs_.base(), Severity::Info, "ubifs: further diagnostics dropped"});
  }
  static std::string at_text(uint64_t lnum, uint64_t offs) {
    return "LEB " + std::to_string(lnum) + ":" + std::to_string(offs);
  }

  // The index B-tree, depth first from the root: levels strictly decrease to 0, whose branches are the leaf nodes.
  // Every index node is read once (a crafted index that shares subtrees cannot multiply the work).
  void walk_index() {
    struct Todo {
      uint32_t lnum, offs, len;
      int level;  // expected level; -1 for the root
    };
    std::vector<Todo> stack{{o_.mst.root_lnum, o_.mst.root_offs, o_.mst.root_len, -1}};
    std::unordered_set<uint64_t> seen;
    const uint64_t max_leaves = fs_.size() / kChSize + 1;
    uint64_t leaves = 0, bad_idx = 0, bad_leaf = 0;
    while (!stack.empty()) {
      const Todo t = stack.back();
      stack.pop_back();
      auto pos = node_pos(o_, t.lnum, t.offs, t.len);
      if (!pos) {
        ++bad_idx;
        diag(0, Severity::Warning, "ubifs: index node " + at_text(t.lnum, t.offs) + " lies outside the filesystem");
        continue;
      }
      if (!seen.insert(*pos).second) continue;
      Node n;
      NodeCheck c = read_node(fs_, *pos, t.len, n);
      if (c != NodeCheck::Ok || n.type != kIdx || n.v.size() < kIdxNodeSize) {
        ++bad_idx;
        diag(*pos, Severity::Warning,
             "ubifs: index node at " + at_text(t.lnum, t.offs) + " is damaged (" +
                 (c == NodeCheck::BadCrc ? "CRC mismatch" : c == NodeCheck::Ok ? "not an index node" : "bad header") +
                 "); the files below it are missing");
        continue;
      }
      const uint16_t children = *n.v.u16le(24);
      const uint16_t level = *n.v.u16le(26);
      if (children == 0 || (t.level >= 0 && level != t.level) || (n.v.size() - kIdxNodeSize) % children) {
        ++bad_idx;
        diag(*pos, Severity::Warning, "ubifs: index node at " + at_text(t.lnum, t.offs) + " has an inconsistent level "
                                      "or child count; skipped");
        continue;
      }
      const uint64_t bsz = (n.v.size() - kIdxNodeSize) / children;  // 20, plus the node hash when authenticated
      if (bsz < kBranchSize || bsz > kBranchSize + 64) {
        ++bad_idx;
        diag(*pos, Severity::Warning, "ubifs: index node at " + at_text(t.lnum, t.offs) + ": branch size " +
                                      std::to_string(bsz) + " is implausible; skipped");
        continue;
      }
      for (uint16_t i = 0; i < children; ++i) {
        const uint64_t b = kIdxNodeSize + i * bsz;
        const uint32_t lnum = *n.v.u32le(b), offs = *n.v.u32le(b + 4), len = *n.v.u32le(b + 8);
        if (level > 0) {
          stack.push_back({lnum, offs, len, level - 1});
          continue;
        }
        if (++leaves > max_leaves) {
          diag(*pos, Severity::Warning, "ubifs: more leaf references than the image can hold; index walk stopped");
          stack.clear();
          break;
        }
        if (!read_leaf(lnum, offs, len, read_key(n.v, b + 12))) ++bad_leaf;
      }
    }
    if (bad_leaf)
      diag(0, Severity::Warning, "ubifs: " + std::to_string(bad_leaf) + " leaf node(s) damaged or missing (skipped)");
  }

  bool read_leaf(uint32_t lnum, uint32_t offs, uint32_t len, const Key& key) {
    auto pos = node_pos(o_, lnum, offs, len);
    Node n;
    if (!pos || read_node(fs_, *pos, std::min<uint64_t>(len, kMaxNodeSize), n) != NodeCheck::Ok) {
      if (bad_leaf_notes_++ < 16)
        diag(pos.value_or(0), Severity::Warning,
             "ubifs: leaf node " + at_text(lnum, offs) + (pos ? " fails its CRC or header check" : " lies outside"));
      return false;
    }
    const ByteView v = n.v;
    const Key k = read_key(v, 24);
    if (k.ino != key.ino || k.type != key.type || k.low != key.low || k.type != n.type) {
      if (bad_leaf_notes_++ < 16)
        diag(*pos, Severity::Warning, "ubifs: leaf node " + at_text(lnum, offs) + ": key differs from the index");
      return false;
    }
    switch (n.type) {
      case kIno: {
        if (v.size() < kInoNodeSize) return false;
        Inode ino;
        ino.sqnum = n.sqnum;
        ino.pos = *pos;
        ino.size = *v.u64le(48);
        ino.mtime = static_cast<int64_t>(*v.u64le(72));
        ino.nlink = *v.u32le(92);
        ino.uid = *v.u32le(96);
        ino.gid = *v.u32le(100);
        ino.mode = *v.u32le(104);
        ino.flags = *v.u32le(108);
        const uint32_t data_len = *v.u32le(112);
        ino.data = v.clamp(kInoNodeSize, data_len);
        auto [it, fresh] = inodes_.emplace(k.ino, ino);
        if (!fresh && it->second.sqnum < ino.sqnum) it->second = ino;
        return true;
      }
      case kDent: {
        if (v.size() < kDentNodeSize) return false;
        Dent d;
        d.parent = k.ino;
        d.inum = *v.u64le(40);
        d.type = *v.u8(49);
        const uint16_t nlen = *v.u16le(50);
        if (nlen == 0 || nlen > 255 || !v.contains(kDentNodeSize, nlen)) return false;
        d.name = std::string(*v.str(kDentNodeSize, nlen));
        d.pos = *pos;
        dents_.push_back(std::move(d));
        return true;
      }
      case kData: {
        if (v.size() < kDataNodeSize) return false;
        data_[k.ino].push_back({k.low, *pos, static_cast<uint32_t>(v.size())});
        return true;
      }
      case kXent:
        return true;  // extended attributes are not files
      default:
        return false;
    }
  }

  // Directories from their entries, depth first from the root inode (UBIFS_ROOT_INO = 1); each directory is expanded
  // once, so entries that make a loop are cut with a diagnostic.
  void build_tree() {
    std::unordered_map<uint32_t, std::vector<size_t>> children;
    for (size_t i = 0; i < dents_.size(); ++i) children[dents_[i].parent].push_back(i);
    for (auto& [parent, list] : children)
      std::sort(list.begin(), list.end(), [&](size_t a, size_t b) { return dents_[a].name < dents_[b].name; });
    if (!inodes_.count(1)) diag(0, Severity::Warning, "ubifs: the root directory inode is missing from the index");
    struct Frame {
      uint32_t dir;
      std::string path;
      int depth;
    };
    std::vector<Frame> stack{{1, "", 0}};
    std::unordered_set<uint32_t> expanded{1};
    while (!stack.empty() && !stop_) {
      Frame f = std::move(stack.back());
      stack.pop_back();
      auto it = children.find(f.dir);
      if (it == children.end()) continue;
      auto dir_ino = inodes_.find(f.dir);
      const bool dir_encrypted = dir_ino != inodes_.end() && (dir_ino->second.flags & 0x40);  // UBIFS_CRYPT_FL
      std::vector<Frame> subdirs;
      for (size_t di : it->second) {
        const Dent& d = dents_[di];
        std::string name = d.name;
        // Entries of an encrypted directory hold ciphertext names (fscrypt encrypts every entry of an encrypted
        // directory, and mkfs.ubifs leaves the root's own flag clear): shown by inode number instead.
        auto child = d.inum <= 0xFFFFFFFFu ? inodes_.find(static_cast<uint32_t>(d.inum)) : inodes_.end();
        if (dir_encrypted || (child != inodes_.end() && (child->second.flags & 0x40)))
          name = "encrypted-inode-" + std::to_string(d.inum);
        if (name == "." || name == ".." || name.find('/') != std::string::npos ||
            name.find('\0') != std::string::npos) {
          diag(d.pos, Severity::Warning, "ubifs: suspicious entry name in " + (f.path.empty() ? "/" : f.path) +
                                             "; renamed");
          for (char& c : name)
            if (c == '/' || c == '\0') c = '_';
          if (name == "." || name == "..") name = "_" + name;
        }
        const std::string path = f.path + "/" + name;
        if (d.inum > 0xFFFFFFFFu) {
          diag(d.pos, Severity::Warning, "ubifs: " + path + ": inode number out of range");
          continue;
        }
        const uint32_t inum = static_cast<uint32_t>(d.inum);
        auto ino = inodes_.find(inum);
        if (ino == inodes_.end()) {
          diag(d.pos, Severity::Warning, "ubifs: " + path + ": its inode " + std::to_string(inum) + " is missing");
          continue;
        }
        if (!emit(path, inum, ino->second)) return;
        if (kind_from_mode(ino->second.mode) == EntryKind::Directory) {
          if (!expanded.insert(inum).second) {
            diag(d.pos, Severity::Warning, "ubifs: " + path + " is a directory already listed elsewhere (loop cut)");
          } else if (f.depth + 1 >= kMaxPathDepth) {
            diag(d.pos, Severity::Warning, "ubifs: " + path + ": directory nesting limit reached");
          } else {
            subdirs.push_back({inum, path, f.depth + 1});
          }
        }
      }
      // Depth first, in name order.
      for (auto s = subdirs.rbegin(); s != subdirs.rend(); ++s) stack.push_back(std::move(*s));
    }
  }

  bool emit(const std::string& path, uint32_t inum, const Inode& ino) {
    if (!budget_.take_entry()) {
      out_.limited = true;
      diag(0, Severity::Warning, "ubifs: entry limit reached (" + std::to_string(budget_.limits().max_entries) +
                                     " entries)");
      stop_ = true;
      return false;
    }
    Entry e;
    e.path = path;
    e.mode = ino.mode;
    e.kind = kind_from_mode(ino.mode);
    e.uid = ino.uid;
    e.gid = ino.gid;
    e.mtime = ino.mtime;
    const bool crypt = ino.flags & 0x40;  // UBIFS_CRYPT_FL
    switch (e.kind) {
      case EntryKind::Symlink:
        e.link_target = std::string(ino.data.as_string_view());
        e.size = e.link_target.size();
        if (crypt) e.encrypted = true;
        break;
      case EntryKind::CharDevice:
      case EntryKind::BlockDevice: {
        // union ubifs_dev_desc: new_encode_dev() in 32 bits, or huge_encode_dev() in 64.
        uint64_t dev = ino.data.size() == 8 ? *ino.data.u64le(0) : ino.data.u32le(0).value_or(0);
        e.rdev_major = static_cast<uint32_t>((dev & 0xfff00u) >> 8);
        e.rdev_minor = static_cast<uint32_t>((dev & 0xffu) | ((dev >> 12) & 0xfff00u));
        break;
      }
      case EntryKind::File:
        e.size = ino.size;
        if (crypt) {
          e.encrypted = true;
          e.complete = false;
          e.diagnostics.push_back({fs_.base() + ino.pos, Severity::Warning,
                                   "ubifs: " + path + " is encrypted (fscrypt); content not read"});
        } else {
          read_content(inum, ino, e);
        }
        break;
      default:
        break;
    }
    out_.entries.push_back(std::move(e));
    return !stop_;
  }

  void read_content(uint32_t inum, const Inode& ino, Entry& e) {
    auto shared = contents_.find(inum);
    if (shared != contents_.end()) {  // a hard link to a file already read and kept
      if (!budget_.take_bytes(shared->second->size())) {
        e.complete = false;
        limit("total output limit reached at " + e.path);
        return;
      }
      e.data = shared->second;
      return;
    }
    if (ino.size == 0) {
      e.data = std::make_shared<const Buffer>();
      return;
    }
    auto dit = data_.find(inum);
    static const std::vector<DataRef> kNone;
    if (dit != data_.end())  // in block order (the index walk is depth first from the last branch)
      std::sort(dit->second.begin(), dit->second.end(),
                [](const DataRef& a, const DataRef& b) { return a.block < b.block; });
    const std::vector<DataRef>& refs = dit == data_.end() ? kNone : dit->second;
    uint64_t compressed = 0;
    for (const DataRef& r : refs) compressed += r.len;
    const uint64_t allowance = budget_.allowance(std::max<uint64_t>(compressed, 1));
    const uint64_t want = std::min<uint64_t>(ino.size, allowance);
    if (want == 0) {
      e.complete = false;
      limit("total output limit reached at " + e.path);
      return;
    }
    if (want < ino.size) {
      out_.limited = true;
      e.complete = false;
      e.diagnostics.push_back({fs_.base() + ino.pos, Severity::Warning,
                               "ubifs: " + e.path + ": content cut at " + std::to_string(want) + " of " +
                                   std::to_string(ino.size) + " bytes (file, total or ratio limit)"});
    }
    if (!budget_.take_bytes(want)) {
      e.complete = false;
      limit("total output limit reached at " + e.path);
      return;
    }
    Buffer local;
    Buffer& buf = options_.visit ? scratch_ : local;
    // The scratch buffer keeps its size between files: only what no data node writes (holes, short blocks, damaged
    // ones) is zeroed, not the whole file first.
    buf.resize(static_cast<size_t>(want));
    uint64_t filled = 0;  // bytes [0, filled) hold this file's content
    auto zero_to = [&](uint64_t end) {
      if (end > filled) std::memset(buf.data() + filled, 0, end - filled);
      filled = std::max(filled, end);
    };
    uint64_t bad = 0;
    uint64_t first_bad = 0;
    for (const DataRef& r : refs) {
      const uint64_t off = uint64_t{r.block} * kBlockSize;
      if (off >= want) continue;
      if (off < filled) continue;  // blocks come in key order: a second node for one block is damage
      zero_to(off);
      const ByteView node = fs_.clamp(r.pos, r.len);
      const uint32_t size = node.u32le(40).value_or(0);
      const uint16_t compr = node.u16le(44).value_or(0xFFFF);
      const ByteView payload = node.tail(kDataNodeSize);
      const uint64_t room = std::min<uint64_t>(kBlockSize, want - off);
      std::string problem;
      if (size > kBlockSize) {
        problem = "data node claims " + std::to_string(size) + " bytes";
      } else if (compr == 0) {
        if (payload.size() != size) problem = "stored data node length mismatch";
        else std::memcpy(buf.data() + off, payload.data(), std::min<uint64_t>(size, room));
      } else {
        BlockCodec codec;
        if (compr == 1) codec = BlockCodec::Lzo1x;
        else if (compr == 2) codec = BlockCodec::Deflate;  // UBIFS "zlib" is raw deflate (crypto deflate, no header)
        else if (compr == 3) codec = BlockCodec::Zstd;
        else {
          problem = "unknown compression type " + std::to_string(compr);
          codec = BlockCodec::Zlib;
        }
        if (problem.empty()) {
          uint8_t* out = room == kBlockSize ? buf.data() + off : block_.data();
          CodecOutcome res = decode_block(codec, payload, out, kBlockSize);
          if (!res.ok()) problem = std::string(codec_name(codec)) + ": " + res.why;
          else if (res.produced != size) problem = "decoded " + std::to_string(res.produced) + " bytes, node says " +
                                                   std::to_string(size);
          if (out == block_.data() && res.produced) std::memcpy(buf.data() + off, out, std::min<uint64_t>(res.produced, room));
        }
      }
      if (problem.empty()) {
        filled = off + std::min<uint64_t>(size, room);
      }
      if (!problem.empty()) {
        std::memset(buf.data() + off, 0, room);  // a damaged block reads as zeros
        filled = off + room;
        if (!bad++) first_bad = r.block;
        if (bad == 1)
          e.diagnostics.push_back({fs_.base() + r.pos, Severity::Warning,
                                   "ubifs: " + e.path + ": block " + std::to_string(r.block) + ": " + problem});
      }
    }
    zero_to(want);
    if (bad) {
      e.complete = false;
      if (bad > 1)
        e.diagnostics.push_back({fs_.base(), Severity::Warning,
                                 "ubifs: " + e.path + ": " + std::to_string(bad) + " damaged blocks (first " +
                                     std::to_string(first_bad) + ") read as zeros"});
    }
    if (options_.visit && !options_.visit(out_.entries.size(), e, ByteView(buf.data(), buf.size()))) {
      e.unkept_size = buf.size();
      return;
    }
    auto kept = std::make_shared<const Buffer>(std::move(buf));
    if (options_.visit) scratch_ = Buffer();
    if (ino.nlink > 1) contents_.emplace(inum, kept);
    e.data = std::move(kept);
  }

  void limit(const std::string& what) {
    out_.limited = true;
    diag(0, Severity::Warning, "ubifs: " + what);
  }

  ByteView fs_;
  Budget& budget_;
  const ContainerReadOptions& options_;
  ExtractResult out_;
  Opened o_;
  std::unordered_map<uint32_t, Inode> inodes_;
  std::vector<Dent> dents_;
  std::unordered_map<uint32_t, std::vector<DataRef>> data_;
  std::unordered_map<uint32_t, std::shared_ptr<const Buffer>> contents_;  // hard-linked files already read
  Buffer scratch_;
  std::array<uint8_t, kBlockSize> block_{};
  size_t diags_ = 0;
  uint64_t bad_leaf_notes_ = 0;
  bool stop_ = false;
};

}  // namespace

ExtractResult read_ubifs(ByteView fs, Budget& budget, const ContainerReadOptions& options) {
  try {
    return UbifsReader(fs, budget, options).run();
  } catch (const std::exception& ex) {  // allocation failure: report, never propagate
    ExtractResult r;
    r.failed = true;
    r.diagnostics.push_back({fs.base(), Severity::Error, std::string("ubifs: reader stopped: ") + ex.what()});
    return r;
  }
}

void register_ubifs_validators(ValidatorRegistry& registry) {
  registry.add("ubifs", "UBIFS superblock node (CRC, geometry), newest master node, root index node; size = LEB count",
               validate_ubifs);
}

}  // namespace fwcert
