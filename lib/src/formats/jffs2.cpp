// JFFS2: node scanner, the walk's validator (a dry run of the scanner) and the reader.
//
// Structures: Linux include/uapi/linux/jffs2.h (struct jffs2_unknown_node, jffs2_raw_dirent, jffs2_raw_inode,
// jffs2_raw_summary, union jffs2_device_node); semantics: fs/jffs2/scan.c (header CRC with JFFS2_NODE_ACCURATE set,
// obsolete nodes), fs/jffs2/readinode.c (data fragments: the highest version wins each byte; the size is the isize of
// the newest node), fs/jffs2/dir.c and write.c (a dirent with ino 0 unlinks a name), fs/jffs2/compr_rtime.c, and
// OpenWrt's compr_lzma.c for compressor 8 (see the header).
#include "fwcert/formats/jffs2.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "fwcert/core/checksum.hpp"
#include "fwcert/core/codec.hpp"
#include "fwcert/scan/validator.hpp"

namespace fwcert::jffs2 {

uint32_t crc(ByteView v) { return ~crc32(v, 0xFFFFFFFFu); }

namespace {

constexpr uint64_t kMaxGap = uint64_t{1} << 20;  // unrecognised bytes skipped between two nodes before giving up
constexpr uint64_t kMaxNodeData = uint64_t{1} << 20;  // no page (a compressed node's data) is larger
constexpr size_t kMaxDiagnostics = 256;
constexpr uint64_t align4(uint64_t v) { return (v + 3) & ~uint64_t{3}; }

// CRC of the first `len` bytes of the node at pos with the ACCURATE bit of its type set, as the writer computed it
// (scan.c: an obsoleted node still checks).
uint32_t crc_accurate(ByteView v, uint64_t pos, uint64_t len, bool be) {
  uint8_t buf[kInodeSize];
  std::memcpy(buf, v.data() + pos, len);
  buf[be ? 2 : 3] |= 0x20;  // the 0x2000 bit of the big- or little-endian u16 at +2
  return crc(ByteView(buf, len));
}

class Scanner {
 public:
  Scanner(ByteView v, const ScanOptions& o) : v_(v), o_(o) {}

  Scan run() {
    if (v_.matches(0, "\x85\x19"))
      s_.big_endian = false;
    else if (v_.matches(0, "\x19\x85"))
      s_.big_endian = true;
    else
      return std::move(s_);
    be_ = s_.big_endian;
    if (!header_ok(0)) return std::move(s_);
    s_.found = true;
    uint64_t pos = 0, gap_start = 0, gap = 0;  // gap: unrecognised bytes since the last node
    bool in_gap = false;
    while (v_.contains(pos, kHeaderSize)) {
      if (s_.nodes >= o_.max_nodes) {
        s_.capped = true;
        diag(pos, Severity::Warning, "node scan stopped after " + std::to_string(o_.max_nodes) + " nodes (cap)");
        break;
      }
      if (*v_.u16(pos, be_) == kMagic && header_ok(pos)) {
        if (in_gap) {
          ++s_.bad;
          diag(gap_start, Severity::Warning,
               std::to_string(gap) + " bytes of unrecognised data skipped before the node at " +
                   hex(v_.base() + pos));
          in_gap = false;
          gap = 0;
        }
        const uint32_t totlen = *v_.u32(pos + 4, be_);
        ++s_.nodes;
        if (!v_.contains(pos, totlen)) {
          s_.truncated = true;
          diag(pos, Severity::Warning,
               "truncated: node of " + std::to_string(totlen) + " bytes runs past the end of the input");
          s_.end = v_.size();
          break;
        }
        node(pos, totlen);
        s_.end = pos + totlen;
        pos = align4(pos + totlen);
        continue;
      }
      // Erased flash and zero fill (to the end of an erase block) are skipped a word at a time.
      const uint32_t w = *v_.u32le(pos);
      if (w == 0xFFFFFFFFu || w == 0) {
        while (v_.contains(pos, 4) && *v_.u32le(pos) == w) pos += 4;
        continue;
      }
      if (*v_.u16(pos, be_) == kMagic) {
        ++s_.bad;
        diag(pos, Severity::Warning, "node header CRC mismatch (or length below 12); node skipped");
      } else if (!in_gap) {
        in_gap = true;
        gap_start = pos;
      }
      gap += 4;
      if (gap > kMaxGap) break;
      pos += 4;
    }
    return std::move(s_);
  }

 private:
  bool header_ok(uint64_t pos) const {
    if (!v_.contains(pos, kHeaderSize)) return false;
    const uint32_t totlen = *v_.u32(pos + 4, be_);
    return totlen >= kHeaderSize && crc_accurate(v_, pos, 8, be_) == *v_.u32(pos + 8, be_);
  }

  void diag(uint64_t pos, Severity s, std::string msg) {
    if (s_.diagnostics.size() == kMaxDiagnostics)
      s_.diagnostics.push_back({v_.base() + pos, Severity::Warning, "jffs2: further diagnostics suppressed"});
    if (s_.diagnostics.size() > kMaxDiagnostics) return;
    s_.diagnostics.push_back({v_.base() + pos, s, "jffs2: " + std::move(msg)});
  }

  void bad_node(uint64_t pos, const std::string& what) {
    ++s_.bad;
    diag(pos, Severity::Warning, what + "; node not used");
  }

  void node(uint64_t pos, uint32_t totlen) {
    const uint16_t raw_type = *v_.u16(pos + 2, be_);
    const bool obsolete = (raw_type & kAccurate) == 0;
    const uint16_t type = raw_type | kAccurate;
    const ByteView n = *v_.sub(pos, totlen);
    switch (type) {
      case kInode: {
        if (totlen < kInodeSize) return bad_node(pos, "inode node shorter than its header");
        if (crc_accurate(v_, pos, kInodeSize - 8, be_) != *n.u32(64, be_))
          return bad_node(pos, "inode node CRC mismatch");
        InodeNode r;
        r.pos = pos;
        r.obsolete = obsolete;
        r.ino = *n.u32(12, be_);
        r.version = *n.u32(16, be_);
        r.isize = *n.u32(28, be_);
        r.offset = *n.u32(44, be_);
        r.csize = *n.u32(48, be_);
        r.dsize = *n.u32(52, be_);
        r.compr = *n.u8(56);
        if (r.csize > totlen - kInodeSize) return bad_node(pos, "inode node data runs past the node");
        // A compressed node holds one page (fs/jffs2/write.c); its dsize bounds what is allocated to decode it.
        if (r.compr != Zero && r.dsize > kMaxNodeData)
          return bad_node(pos, "inode node claims " + std::to_string(r.dsize) + " bytes of data, more than a node holds");
        if (o_.check_data && r.csize > 0 && crc(*n.sub(kInodeSize, r.csize)) != *n.u32(60, be_))
          return bad_node(pos, "inode node data CRC mismatch (ino " + std::to_string(r.ino) + ", version " +
                                   std::to_string(r.version) + ")");
        if (r.ino == 0) return bad_node(pos, "inode node with inode number 0");
        if (o_.records) s_.inodes.push_back(r);
        return;
      }
      case kDirent: {
        if (totlen < kDirentSize) return bad_node(pos, "dirent node shorter than its header");
        if (crc_accurate(v_, pos, kDirentSize - 8, be_) != *n.u32(32, be_))
          return bad_node(pos, "dirent node CRC mismatch");
        const uint8_t nsize = *n.u8(28);
        if (nsize > totlen - kDirentSize) return bad_node(pos, "dirent name runs past the node");
        const ByteView name = *n.sub(kDirentSize, nsize);
        if (crc(name) != *n.u32(36, be_)) return bad_node(pos, "dirent name CRC mismatch");
        if (!o_.records) return;
        DirentNode d;
        d.pos = pos;
        d.obsolete = obsolete;
        d.pino = *n.u32(12, be_);
        d.version = *n.u32(16, be_);
        d.ino = *n.u32(20, be_);
        d.type = *n.u8(29);
        d.name.assign(name.as_string_view());
        s_.dirents.push_back(std::move(d));
        return;
      }
      case kSummary:
        // The summary repeats what the scan finds anyway (every node of its erase block): checked, then skipped.
        if (totlen >= kSummarySize && crc(*n.sub(0, kSummarySize - 8)) != *n.u32(28, be_))
          diag(pos, Severity::Info, "summary node CRC mismatch; summary ignored (the nodes are scanned anyway)");
        return;
      case kCleanmarker:
      case kPadding:
      case kXattr:  // extended attributes and their references carry no file data
      case kXref:
        return;
      default:
        if ((raw_type & kCompatMask) == kIncompat && unknown_.insert(raw_type).second)
          diag(pos, Severity::Warning, "unknown incompatible node type " + hex(raw_type) + " skipped");
        return;
    }
  }

  ByteView v_;
  ScanOptions o_;
  Scan s_;
  bool be_ = false;
  std::unordered_set<uint16_t> unknown_;
};

}  // namespace

Scan scan(ByteView v, const ScanOptions& options) { return Scanner(v, options).run(); }

}  // namespace fwcert::jffs2

namespace fwcert {
namespace {

using namespace jffs2;

std::optional<Hit> validate_jffs2(const ValidateInput& in) {
  const ByteView v = in.image.tail(in.start);
  const uint64_t abs = in.image.base() + in.start;
  // The magic is 2 bytes: the signature adds a known type, and nothing is reported unless the first header CRC holds.
  Scan s = scan(v, ScanOptions{});
  if (!s.found) return std::nullopt;
  Hit hit;
  hit.offset = abs;
  hit.type = "jffs2";
  hit.nesting = Nesting::Opaque;
  hit.diagnostics = std::move(s.diagnostics);
  hit.size = std::min<uint64_t>(align4(s.end), v.size());
  hit.confidence = s.truncated || s.bad ? Confidence::Medium : s.nodes >= 3 ? Confidence::High : Confidence::Medium;
  hit.description = std::string("JFFS2 filesystem, ") + (s.big_endian ? "big endian" : "little endian") + ", " +
                    std::to_string(s.nodes) + (s.nodes == 1 ? " node" : " nodes") + ", size: " +
                    std::to_string(hit.size) + " bytes";
  return hit;
}

// --- Reader --------------------------------------------------------------------------------------------------------

constexpr uint32_t kRootIno = 1;
constexpr size_t kMaxDepth = 256;
constexpr size_t kMaxOldVersions = 8;  // per inode, with include_deleted
constexpr uint64_t kMaxLinkTarget = 65536;

EntryKind kind_from_dt(uint8_t dt) {
  switch (dt) {  // DT_* of <dirent.h>
    case 1: return EntryKind::Fifo;
    case 2: return EntryKind::CharDevice;
    case 4: return EntryKind::Directory;
    case 6: return EntryKind::BlockDevice;
    case 10: return EntryKind::Symlink;
    case 12: return EntryKind::Socket;
    default: return EntryKind::File;
  }
}
uint32_t type_bits(EntryKind k) {
  switch (k) {
    case EntryKind::Directory: return 0040000;
    case EntryKind::Symlink: return 0120000;
    case EntryKind::CharDevice: return 0020000;
    case EntryKind::BlockDevice: return 0060000;
    case EntryKind::Fifo: return 0010000;
    case EntryKind::Socket: return 0140000;
    default: return 0100000;
  }
}

class Jffs2Reader {
 public:
  Jffs2Reader(ByteView fs, Budget& budget, const ContainerReadOptions& o) : fs_(fs), budget_(budget), o_(o) {}

  ExtractResult run() {
    ScanOptions so;
    so.records = true;
    so.check_data = true;
    // A node takes at least 12 bytes: no more records than that can exist.
    so.max_nodes = std::min<uint64_t>(so.max_nodes, fs_.size() / kHeaderSize + 1);
    Scan s = scan(fs_, so);
    be_ = s.big_endian;
    out_.diagnostics = std::move(s.diagnostics);
    if (!s.found) {
      diag(0, Severity::Error, "no valid JFFS2 node at the start");
      return std::move(out_);
    }
    inodes_ = std::move(s.inodes);
    dirents_ = std::move(s.dirents);
    index();
    walk_root();
    orphans();
    if (o_.include_deleted) deleted();
    return std::move(out_);
  }

 private:
  struct Span {
    size_t first = 0, last = 0;  // [first, last) in inodes_ (sorted by ino, version)
  };

  void diag(uint64_t pos, Severity s, std::string msg) {
    if (diags_ == kMaxDiagnostics)
      out_.diagnostics.push_back({fs_.base() + pos, Severity::Warning, "jffs2: further diagnostics suppressed"});
    if (diags_++ >= kMaxDiagnostics) return;
    out_.diagnostics.push_back({fs_.base() + pos, s, "jffs2: " + std::move(msg)});
  }
  void limit(std::string msg) {
    out_.limited = true;
    stop_ = true;
    diag(0, Severity::Warning, std::move(msg));
  }

  static bool newer(const DirentNode& a, const DirentNode& b) {
    return a.version != b.version ? a.version > b.version : a.pos > b.pos;
  }

  void index() {
    std::sort(inodes_.begin(), inodes_.end(), [](const InodeNode& a, const InodeNode& b) {
      if (a.ino != b.ino) return a.ino < b.ino;
      if (a.version != b.version) return a.version < b.version;
      return a.pos < b.pos;
    });
    for (size_t i = 0; i < inodes_.size();) {
      size_t j = i;
      while (j < inodes_.size() && inodes_[j].ino == inodes_[i].ino) ++j;
      spans_[inodes_[i].ino] = {i, j};
      i = j;
    }
    // The newest live dirent of each (parent, name); the names a reader may not take as path components are refused.
    std::map<std::pair<uint32_t, std::string_view>, size_t> newest;
    for (size_t i = 0; i < dirents_.size(); ++i) {
      const DirentNode& d = dirents_[i];
      if (d.name.empty() || d.name == "." || d.name == ".." || d.name.find('/') != std::string::npos ||
          d.name.find('\0') != std::string::npos) {
        diag(d.pos, Severity::Warning, "dirent with an invalid name \"" + printable(d.name, 64) + "\" ignored");
        bad_dirent_.insert(i);
        continue;
      }
      if (d.ino) named_.insert(d.ino);
      if (d.obsolete) continue;
      auto [it, fresh] = newest.try_emplace({d.pino, d.name}, i);
      if (!fresh && newer(d, dirents_[it->second])) it->second = i;
    }
    for (auto& [key, i] : newest) {
      const DirentNode& d = dirents_[i];
      if (d.ino == 0) continue;  // unlinked
      children_[d.pino].push_back(i);
      live_target_.insert(d.ino);
    }
    for (auto& [pino, kids] : children_)
      std::sort(kids.begin(), kids.end(), [&](size_t a, size_t b) { return dirents_[a].name < dirents_[b].name; });
  }

  const Span* nodes_of(uint32_t ino) const {
    auto it = spans_.find(ino);
    return it == spans_.end() ? nullptr : &it->second;
  }
  // The newest inode node (live only unless `all`), or nullptr.
  const InodeNode* latest(uint32_t ino, bool all) const {
    const Span* sp = nodes_of(ino);
    if (!sp) return nullptr;
    for (size_t i = sp->last; i-- > sp->first;)
      if (all || !inodes_[i].obsolete) return &inodes_[i];
    return nullptr;
  }

  // Lists the tree from a directory: depth first, children sorted by name.
  void walk_dir(uint32_t top, const std::string& top_path) {
    std::vector<std::pair<uint32_t, std::string>> stack{{top, top_path}};
    while (!stack.empty() && !stop_) {
      auto [dir, path] = std::move(stack.back());
      stack.pop_back();
      auto it = children_.find(dir);
      if (it == children_.end()) continue;
      std::vector<std::pair<uint32_t, std::string>> subdirs;
      for (size_t k : it->second) {
        if (stop_) return;
        const DirentNode& d = dirents_[k];
        const std::string child = path + "/" + d.name;
        const InodeNode* meta = latest(d.ino, false);
        const EntryKind kind = meta ? kind_from_mode(mode_of(*meta)) : kind_from_dt(d.type);
        if (kind == EntryKind::Directory) {
          if (!dirs_seen_.insert(d.ino).second) {
            diag(d.pos, Severity::Warning,
                 child + ": directory inode " + std::to_string(d.ino) + " is reached again (a loop or a second link); "
                         "not listed twice");
            continue;
          }
          if (std::count(child.begin(), child.end(), '/') > static_cast<long>(kMaxDepth)) {
            diag(d.pos, Severity::Warning, child + ": directories nested deeper than " + std::to_string(kMaxDepth));
            continue;
          }
          dir_path_[d.ino] = child;
          subdirs.emplace_back(d.ino, child);
        }
        reached_.insert(d.ino);
        emit(d.ino, child, kind, &d, false);
      }
      stack.insert(stack.end(), subdirs.rbegin(), subdirs.rend());
    }
  }

  void walk_root() {
    dirs_seen_.insert(kRootIno);
    reached_.insert(kRootIno);
    dir_path_[kRootIno] = "";
    walk_dir(kRootIno, "");
  }

  // Directories no path from the root reaches (their parent's dirent is lost) and inodes no dirent names at all:
  // listed under /lost+found/inoN, never looping (every directory is expanded once).
  void orphans() {
    std::vector<uint32_t> parents;
    for (auto& [pino, kids] : children_)
      if (!dirs_seen_.count(pino)) parents.push_back(pino);
    std::sort(parents.begin(), parents.end());
    std::unordered_map<uint32_t, uint32_t> parent_of;  // directory ino -> the parent its live dirent names
    for (auto& [pino, kids] : children_)
      for (size_t k : kids) parent_of[dirents_[k].ino] = pino;
    for (uint32_t p : parents) {
      if (stop_) return;
      if (dirs_seen_.count(p)) continue;
      // The top of p's detached subtree: up through live dirents until a directory with none (or a loop).
      uint32_t top = p;
      std::unordered_set<uint32_t> chain{top};
      for (auto it = parent_of.find(top); it != parent_of.end(); it = parent_of.find(top)) {
        if (dirs_seen_.count(it->second) || !chain.insert(it->second).second) break;
        top = it->second;
      }
      if (!dirs_seen_.insert(top).second) continue;
      const std::string path = "/lost+found/ino" + std::to_string(top);
      diag(0, Severity::Warning,
           "directory inode " + std::to_string(top) + " is not reachable from the root; listed as " + path);
      reached_.insert(top);
      dir_path_[top] = path;
      emit(top, path, EntryKind::Directory, nullptr, false);
      walk_dir(top, path);
    }
    std::vector<uint32_t> unnamed;  // in inode order, whatever the hash map's order
    for (auto& [ino, sp] : spans_)
      if (!reached_.count(ino) && !named_.count(ino) && ino != kRootIno && latest(ino, false)) unnamed.push_back(ino);
    std::sort(unnamed.begin(), unnamed.end());
    for (uint32_t ino : unnamed) {
      if (stop_) return;
      const Span& sp = spans_.at(ino);
      const std::string path = "/lost+found/ino" + std::to_string(ino);
      diag(inodes_[sp.first].pos, Severity::Warning,
           "inode " + std::to_string(ino) + " has data but no directory entry names it; listed as " + path);
      reached_.insert(ino);
      const InodeNode* meta = latest(ino, false);
      emit(ino, path, kind_from_mode(mode_of(*meta)), nullptr, false);
    }
  }

  // A path for an inode outside the live tree: its newest dirent of any kind, up through its parents.
  std::string any_path(uint32_t ino, int depth) {
    if (auto it = dir_path_.find(ino); it != dir_path_.end()) return it->second;
    if (newest_any_.empty())  // ino -> its newest dirent of any kind, made once
      for (size_t i = 0; i < dirents_.size(); ++i) {
        if (bad_dirent_.count(i) || dirents_[i].ino == 0) continue;
        auto [it, fresh] = newest_any_.try_emplace(dirents_[i].ino, i);
        if (!fresh && newer(dirents_[i], dirents_[it->second])) it->second = i;
      }
    auto found = newest_any_.find(ino);
    if (depth >= 32 || found == newest_any_.end()) return "/lost+found/ino" + std::to_string(ino);
    const DirentNode* best = &dirents_[found->second];
    return any_path(best->pino, depth + 1) + "/" + best->name;
  }

  // include_deleted: inodes whose every name was unlinked or replaced, and the older contents of every file.
  void deleted() {
    std::vector<uint32_t> gone;
    for (auto& [ino, sp] : spans_)
      if (!reached_.count(ino) && named_.count(ino)) gone.push_back(ino);
    std::sort(gone.begin(), gone.end());
    std::unordered_set<std::string> used;
    for (uint32_t ino : gone) {
      if (stop_) return;
      const InodeNode* meta = latest(ino, true);
      const EntryKind kind = kind_from_mode(mode_of(*meta));
      if (kind == EntryKind::Directory) continue;  // its files are listed under its old path
      std::string path = any_path(ino, 0) + ";deleted";
      if (!used.insert(path).second) path += ";ino" + std::to_string(ino);
      emit(ino, path, kind, nullptr, true);
    }
    for (auto& [ino, path, hash] : old_versions_todo_) {
      if (stop_) return;
      old_versions(ino, path, hash);
    }
  }

  static size_t hash_of(ByteView b) { return std::hash<std::string_view>{}(b.as_string_view()); }

  uint32_t mode_of(const InodeNode& n) const { return *fs_.u32(n.pos + 20, be_); }

  // The nodes that make the content of `ino` (live ones, or all with `all`) up to version `upto`, oldest first.
  std::vector<const InodeNode*> nodes_for(uint32_t ino, bool all, uint32_t upto = UINT32_MAX) const {
    std::vector<const InodeNode*> v;
    if (const Span* sp = nodes_of(ino))
      for (size_t i = sp->first; i < sp->last; ++i)
        if ((all || !inodes_[i].obsolete) && inodes_[i].version <= upto) v.push_back(&inodes_[i]);
    return v;
  }

  struct Piece {
    const InodeNode* node;
    uint64_t from, to;  // bytes of the file this node supplies
  };

  // Fragment resolution (readinode.c): newest first, each node supplies the bytes of [offset, offset+dsize) no newer
  // node covered, cut at the newest node's isize. Returns the pieces and the extent they reach.
  static std::vector<Piece> resolve(const std::vector<const InodeNode*>& nodes, uint64_t& extent, uint64_t& size) {
    std::vector<Piece> pieces;
    extent = 0;
    size = nodes.empty() ? 0 : nodes.back()->isize;
    std::map<uint64_t, uint64_t> covered;  // start -> end, disjoint
    for (size_t i = nodes.size(); i-- > 0;) {
      const InodeNode* n = nodes[i];
      const uint64_t a = n->offset, b = std::min<uint64_t>(uint64_t{n->offset} + n->dsize, size);
      if (a >= b) continue;
      uint64_t cur = a;
      auto it = covered.upper_bound(a);
      if (it != covered.begin()) --it;
      for (; it != covered.end() && it->first < b && cur < b; ++it) {
        if (it->second <= cur) continue;
        if (it->first > cur) pieces.push_back({n, cur, it->first});
        cur = std::max(cur, it->second);
      }
      if (cur < b) pieces.push_back({n, cur, b});
      // Merge [a, b) into the covered set.
      uint64_t ma = a, mb = b;
      auto lo = covered.upper_bound(a);
      if (lo != covered.begin() && std::prev(lo)->second >= a) --lo;
      auto hi = lo;
      while (hi != covered.end() && hi->first <= b) {
        ma = std::min(ma, hi->first);
        mb = std::max(mb, hi->second);
        ++hi;
      }
      covered.erase(lo, hi);
      covered[ma] = mb;
    }
    for (const Piece& p : pieces) extent = std::max(extent, p.to);
    return pieces;
  }

  // Decodes one node's data into out[0, dsize). False with a diagnostic when it cannot be.
  bool decode(const InodeNode& n, uint8_t* out, const std::string& path) {
    const ByteView data = *fs_.sub(n.pos + kInodeSize, n.csize);
    auto fail = [&](const std::string& why) {
      diag(n.pos, Severity::Warning,
           path + ": data node (version " + std::to_string(n.version) + ", offset " + std::to_string(n.offset) +
               ") " + why);
      return false;
    };
    if (n.compr != Zero && n.dsize > kMaxNodeData)
      return fail("claims " + std::to_string(n.dsize) + " bytes, more than any node holds");
    CodecOutcome r;
    switch (n.compr) {
      case None:
        if (n.csize != n.dsize) return fail("is stored uncompressed but its sizes differ");
        if (n.dsize) std::memcpy(out, data.data(), n.dsize);
        return true;
      case Zero:
        std::memset(out, 0, n.dsize);
        return true;
      case Zlib:
        r = decode_block(BlockCodec::Zlib, data, out, n.dsize);
        // zlib.c accepts a bare deflate stream too (it checks the zlib header before skipping it).
        if (!r.ok()) r = decode_block(BlockCodec::Deflate, data, out, n.dsize);
        break;
      case Rtime: r = decode_block(BlockCodec::Rtime, data, out, n.dsize); break;
      case Lzo: r = decode_block(BlockCodec::Lzo1x, data, out, n.dsize); break;
      case Lzma: {
        LzmaParams p;
        p.lc = 0;
        p.lp = 0;
        p.pb = 0;
        p.dict_size = 0x2000;
        r = decode_block(BlockCodec::LzmaRaw, data, out, n.dsize, p);
        break;
      }
      default:
        return fail("uses compressor " + std::to_string(n.compr) + " (" +
                    (n.compr == Rubinmips ? "rubinmips" : n.compr == Dynrubin ? "dynrubin" : "unknown") +
                    "), which is not supported");
    }
    if (!r.ok()) return fail("does not decode: " + r.why);
    if (r.produced != n.dsize)
      return fail("decodes to " + std::to_string(r.produced) + " bytes instead of " + std::to_string(n.dsize));
    return true;
  }

  struct Content {
    std::shared_ptr<Buffer> data;  // owned content; empty when built into the stream buffer
    ByteView view;                 // the content, in `data` or in the stream buffer (valid until the next build)
    uint64_t size = 0;  // isize
    bool complete = true;
    bool ok = false;    // false: a limit refused it
  };

  // Builds the content from the nodes. `cap_to` bounds the bytes taken (symlink targets, device numbers).
  // With `stream`, the content is built in the reader's stream buffer, reused from file to file until the visitor
  // keeps one (a scan walks every file once and keeps some: no fresh pages for the others, no copy for those kept).
  Content build(const std::vector<const InodeNode*>& nodes, const std::string& path, uint64_t node_pos,
                uint64_t cap_to = UINT64_MAX, bool stream = false) {
    Content c;
    uint64_t extent = 0;
    std::vector<Piece> pieces = resolve(nodes, extent, c.size);
    if (extent < c.size) {
      c.complete = false;
      diag(node_pos, Severity::Warning,
           path + ": the size is " + std::to_string(c.size) + " bytes but the data nodes cover only " +
               std::to_string(extent));
    }
    extent = std::min(extent, cap_to);
    uint64_t filled = 0;
    for (const Piece& p : pieces) filled += std::min(p.to, extent) - std::min(p.from, extent);
    if (filled < extent) {
      c.complete = false;
      diag(node_pos, Severity::Warning,
           path + ": " + std::to_string(extent - filled) + " bytes within the file are covered by no data node (read "
                  "as zeros)");
    }
    uint64_t stored = 0;
    for (const Piece& p : pieces) stored += kInodeSize + p.node->csize;
    const uint64_t allowed = budget_.allowance(stored);
    if (extent > allowed) {
      const ExtractLimits& lim = budget_.limits();
      if (extent > lim.max_total_bytes - budget_.used_bytes() && allowed == lim.max_total_bytes - budget_.used_bytes()) {
        limit(path + ": max_total_bytes (" + std::to_string(lim.max_total_bytes) + ")");
        return c;
      }
      // One file's limit (its size, or the ratio guard against a node claiming a huge hole): the file is cut there and
      // the rest of the image is still read.
      std::string which = allowed == lim.max_file_bytes ? "max_file_bytes (" + std::to_string(lim.max_file_bytes) + ")"
                                                         : "max_ratio (" + std::to_string(lim.max_ratio) +
                                                            ", decompression bomb guard)";
      out_.limited = true;
      diag(node_pos, Severity::Warning,
           path + ": " + std::to_string(extent) + " bytes from " + std::to_string(stored) + " stored bytes exceeds " +
               which + "; cut at " + std::to_string(allowed));
      extent = allowed;
      c.complete = false;
    }
    if (!budget_.take_bytes(extent)) {
      limit(path + ": max_total_bytes (" + std::to_string(budget_.limits().max_total_bytes) + ")");
      return c;
    }
    uint8_t* out = nullptr;
    try {
      if (stream) {
        if (!stream_buf_) stream_buf_ = std::make_shared<Buffer>();
        stream_buf_->resize(extent);  // keeps its capacity: a file not kept leaves its pages to the next one
        out = stream_buf_->data();
        if (filled < extent) std::memset(out, 0, extent);  // holes read as zeros
      } else {
        c.data = std::make_shared<Buffer>(extent);
        out = c.data->data();
      }
    } catch (const std::bad_alloc&) {
      out_.failed = true;
      diag(node_pos, Severity::Error, path + ": cannot allocate " + std::to_string(extent) + " bytes");
      return c;
    }
    c.ok = true;
    c.view = ByteView(out, extent);
    // Pieces come newest node first; a node supplying several pieces is decoded once.
    std::vector<uint8_t> scratch;
    const InodeNode* decoded = nullptr;
    bool decoded_ok = false;
    for (const Piece& p : pieces) {
      const InodeNode& n = *p.node;
      const uint64_t to = std::min(p.to, extent);
      if (p.from >= to) continue;
      if (n.compr == Zero) {
        std::memset(out + p.from, 0, to - p.from);
        continue;
      }
      // A piece that is the node's whole range is decoded in place; a node partly covered by newer ones, or cut by the
      // size, is decoded aside and its visible bytes copied.
      const bool whole = p.from == n.offset && p.to == uint64_t{n.offset} + n.dsize && p.to <= extent;
      if (whole && decoded != &n) {
        if (!decode(n, out + n.offset, path)) {
          std::memset(out + n.offset, 0, n.dsize);
          c.complete = false;
        }
        continue;
      }
      if (decoded != &n) {
        decoded = &n;
        decoded_ok = false;
        if (n.dsize <= kMaxNodeData || n.compr == None) {
          try {
            scratch.assign(n.dsize, 0);
            decoded_ok = decode(n, scratch.data(), path);
          } catch (const std::bad_alloc&) {
            decoded_ok = false;
          }
        } else {
          decoded_ok = decode(n, nullptr, path);  // reports the oversized node
        }
      }
      if (!decoded_ok) {
        std::memset(out + p.from, 0, to - p.from);
        c.complete = false;
        continue;
      }
      std::memcpy(out + p.from, scratch.data() + (p.from - n.offset), to - p.from);
    }
    return c;
  }

  // One entry: metadata from the newest node, content built from the nodes (all of them when `all`).
  void emit(uint32_t ino, const std::string& path, EntryKind kind, const DirentNode* d, bool all) {
    if (stop_) return;
    if (!budget_.take_entry()) {
      limit("entry limit (" + std::to_string(budget_.limits().max_entries) + ") reached at " + path);
      return;
    }
    Entry e;
    e.path = path;
    e.kind = kind;
    const InodeNode* meta = latest(ino, all);
    if (meta) {
      const uint32_t mode = mode_of(*meta);
      e.mode = kind_from_mode(mode) == kind ? mode : (mode & 07777) | type_bits(kind);
      e.uid = *fs_.u16(meta->pos + 24, be_);
      e.gid = *fs_.u16(meta->pos + 26, be_);
      e.mtime = *fs_.u32(meta->pos + 36, be_);
    } else {
      e.mode = type_bits(kind) | (kind == EntryKind::Directory ? 0755 : 0644);
      if (ino != kRootIno)
        e.diagnostics.push_back({fs_.base() + (d ? d->pos : 0), Severity::Warning,
                                 "jffs2: no inode node for inode " + std::to_string(ino) + "; metadata unknown"});
      e.complete = kind == EntryKind::Directory;
    }
    const size_t index = out_.entries.size();
    if (!meta || kind == EntryKind::Directory || kind == EntryKind::Fifo || kind == EntryKind::Socket) {
      out_.entries.push_back(std::move(e));
      return;
    }
    const auto nodes = nodes_for(ino, all);
    if (kind == EntryKind::CharDevice || kind == EntryKind::BlockDevice) {
      // union jffs2_device_node: the old 16-bit (major << 8 | minor) or the new 32-bit encoding (kdev_t.h).
      Content c = build(nodes, path, meta->pos, 4);
      if (c.ok && c.data->size() == 2) {
        const uint32_t dev = be_ ? (uint32_t{(*c.data)[0]} << 8 | (*c.data)[1]) : (uint32_t{(*c.data)[1]} << 8 | (*c.data)[0]);
        e.rdev_major = dev >> 8;
        e.rdev_minor = dev & 0xff;
      } else if (c.ok && c.data->size() == 4) {
        const uint32_t dev = *ByteView(c.data->data(), 4).u32(0, be_);
        e.rdev_major = (dev & 0xfff00) >> 8;
        e.rdev_minor = (dev & 0xff) | ((dev >> 12) & 0xfff00);
      }
      out_.entries.push_back(std::move(e));
      return;
    }
    const bool stream = o_.visit && kind == EntryKind::File;
    Content c = build(nodes, path, meta->pos, kind == EntryKind::Symlink ? kMaxLinkTarget : UINT64_MAX, stream);
    e.size = c.size;
    e.complete = e.complete && c.complete && c.ok;
    if (!c.ok) {
      out_.entries.push_back(std::move(e));
      return;
    }
    if (kind == EntryKind::Symlink) {
      e.link_target.assign(c.view.as_string_view());
      out_.entries.push_back(std::move(e));
      return;
    }
    if (o_.include_deleted && !all && kind == EntryKind::File) old_versions_todo_.emplace_back(ino, path, hash_of(c.view));
    out_.entries.push_back(std::move(e));
    Entry& stored = out_.entries[index];
    if (!stream) {
      stored.data = std::move(c.data);
      return;
    }
    try {
      if (o_.visit(index, stored, c.view))
        stored.data = std::move(stream_buf_);  // handed over whole; the next file gets a new buffer
      else
        stored.unkept_size = c.view.size();
    } catch (const std::bad_alloc&) {
      out_.failed = true;
      stored.unkept_size = c.view.size();
      stored.complete = false;
    }
  }

  // The contents a file had before a node overwrote or truncated what was there (with include_deleted). Nodes the
  // kernel obsoleted count too: that is where older data stays on NOR flash.
  void old_versions(uint32_t ino, const std::string& path, size_t current_hash) {
    const auto all = nodes_for(ino, true);
    if (all.size() < 2) return;
    std::vector<uint32_t> cuts;  // versions whose content was destroyed by the next node
    std::map<uint64_t, uint64_t> written;
    uint64_t size = 0;
    for (size_t i = 0; i < all.size(); ++i) {
      const InodeNode& n = *all[i];
      const uint64_t a = n.offset, b = uint64_t{n.offset} + n.dsize;
      bool destroys = n.isize < size;
      for (auto it = written.begin(); !destroys && it != written.end(); ++it)
        destroys = it->first < std::min(b, size) && it->second > a;
      if (destroys && i > 0 && (cuts.empty() || cuts.back() != all[i - 1]->version))
        cuts.push_back(all[i - 1]->version);
      if (n.dsize) written[a] = std::max(written[a], b);
      size = n.isize;
      if (written.size() > 4096) break;  // enough history looked at
    }
    std::unordered_set<size_t> seen{current_hash};
    size_t listed = 0;
    for (size_t k = cuts.size(); k-- > 0 && listed < kMaxOldVersions && !stop_;) {
      const uint32_t v = cuts[k];
      auto nodes = nodes_for(ino, true, v);
      uint64_t extent = 0, sz = 0;
      resolve(nodes, extent, sz);
      if (extent == 0) continue;
      const std::string vpath = path + ";v" + std::to_string(v);
      // An old content equal to the current one (or to one listed already) is not listed again; the bytes it took
      // from the budget stay taken.
      Content c = build(nodes, vpath, nodes.back()->pos);
      if (!c.ok) continue;
      if (!seen.insert(hash_of(c.view)).second) continue;
      if (!budget_.take_entry()) {
        limit("entry limit (" + std::to_string(budget_.limits().max_entries) + ") reached at " + vpath);
        return;
      }
      Entry e;
      e.path = vpath;
      e.kind = EntryKind::File;
      const InodeNode& m = *nodes.back();
      e.mode = mode_of(m);
      e.uid = *fs_.u16(m.pos + 24, be_);
      e.gid = *fs_.u16(m.pos + 26, be_);
      e.mtime = *fs_.u32(m.pos + 36, be_);
      e.size = c.size;
      e.complete = c.complete;
      const size_t index = out_.entries.size();
      const ByteView content(c.data->data(), c.data->size());
      out_.entries.push_back(std::move(e));
      if (o_.visit) {
        if (o_.visit(index, out_.entries[index], content))
          out_.entries[index].data = std::move(c.data);
        else
          out_.entries[index].unkept_size = content.size();
      } else {
        out_.entries[index].data = std::move(c.data);
      }
      ++listed;
    }
  }

  ByteView fs_;
  Budget& budget_;
  const ContainerReadOptions& o_;
  ExtractResult out_;
  bool be_ = false;
  bool stop_ = false;
  size_t diags_ = 0;
  std::vector<InodeNode> inodes_;
  std::vector<DirentNode> dirents_;
  std::unordered_map<uint32_t, Span> spans_;
  std::unordered_map<uint32_t, std::vector<size_t>> children_;  // pino -> newest live dirents, by name
  std::unordered_set<uint32_t> live_target_, named_, reached_, dirs_seen_;
  std::unordered_set<size_t> bad_dirent_;
  std::unordered_map<uint32_t, std::string> dir_path_;
  std::unordered_map<uint32_t, size_t> newest_any_;  // any_path(): ino -> newest dirent naming it
  std::vector<std::tuple<uint32_t, std::string, size_t>> old_versions_todo_;
  std::shared_ptr<Buffer> stream_buf_;  // build(stream): streamed files, one after the other, until one is kept  // ino, path, hash of the content
};

}  // namespace

void register_jffs2_validators(ValidatorRegistry& registry) {
  registry.add("jffs2",
               "JFFS2 node chain (header and node CRCs, both byte orders, damaged nodes skipped); size = extent of "
               "the nodes",
               validate_jffs2);
}

ExtractResult read_jffs2(ByteView fs, Budget& budget, const ContainerReadOptions& options) {
  try {
    return Jffs2Reader(fs, budget, options).run();
  } catch (const std::bad_alloc&) {
    ExtractResult r;
    r.failed = true;
    r.diagnostics.push_back({fs.base(), Severity::Error, "jffs2: out of memory; the image was not read to its end"});
    return r;
  }
}

}  // namespace fwcert
