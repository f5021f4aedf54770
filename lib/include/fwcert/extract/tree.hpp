// One in-memory tree of everything inside an input, each node knowing where it came from.
//
// Location grammar (used verbatim by every report): steps joined by '!'; a carved region is `format@0xHEX`, a member
// of a container is `format:path`, a decoded stream is `format` (or `format@0xHEX` when carved from the middle).
//   x10.bin!cramfs@0x400000:/etc/stunnel/client.crt
//   x10.bin!cramfs@0x1700000:/iKVM.jar!zip:res/client.crt
//   x10.bin!uimage@0x1400000!gzip!pem@0x7A120
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fwcert/extract/entry.hpp"
#include "fwcert/scan/walker.hpp"

namespace fwcert {

enum class NodeRole : uint8_t {
  Input,      // the file given by the user
  Carved,     // a region found by the walk (a CramFS at 0x400000, a PEM block at 0x7A120)
  Stream,     // the decoded output of a compressed stream or payload
  Member,     // an entry of a container (file, directory, link, device)
};
std::string_view to_string(NodeRole r);

struct Node {
  size_t id = 0;
  std::optional<size_t> parent;
  std::vector<size_t> children;
  int depth = 0;  // containers between this node and the input

  std::string location;
  NodeRole role = NodeRole::Input;
  std::string format;  // the format of the step that produced it: "cramfs", "zip", "gzip", "pem-certificate", ...
  std::string member_path;  // for members: the path as the container stored it (untrusted)
  uint64_t offset = 0;      // for carved nodes: offset in the parent's content

  EntryKind kind = EntryKind::File;
  uint32_t mode = 0100644, uid = 0, gid = 0;
  int64_t mtime = 0;
  uint32_t rdev_major = 0, rdev_minor = 0;
  std::string link_target;

  // Content: a view into an ancestor's bytes or into memory kept alive here (a buffer, a reader's block).
  ByteView content;
  std::shared_ptr<const void> owned;
  uint64_t size = 0;
  // False for a member whose content was walked where it was read and then let go (ExtractOptions::keep_content):
  // `content` is empty, `size` is what was read, `hits` is what the walk found (nothing).
  bool content_kept = true;
  std::string sha256;  // hex, of content (empty for directories, links, devices)

  bool recovered = false, encrypted = false, complete = true;
  bool expanded = false;  // the walk looked inside it
  std::vector<Hit> hits;  // what the walk found in it (offsets relative to this node's content)
  std::vector<Diagnostic> diagnostics;
};

struct ExtractOptions {
  ExtractLimits limits;
  bool recurse = true;  // walk extracted files again (to limits.max_depth)
  bool hash_nodes = true;  // SHA-256 of every node's content (the manifest needs it; a certificate scan does not)
  unsigned threads = 0;    // threads for read-only work inside one input (0 = all cores; 1 = none, e.g. when the
                           // caller already runs one input per core)
  // Offsets in the input to read as CramFS even without a valid superblock there (the tree is recovered from the
  // root directory that follows it). Images with an ASPEED [img] index get this for free: every indexed image with
  // no structure found at its base is tried.
  std::vector<uint64_t> cramfs_at;
  // Also list what a filesystem keeps but no longer shows (JFFS2 nodes replaced by newer versions or deleted), each
  // marked as such in its location. Old keys hide there.
  bool include_deleted = false;
  // Streaming. When set (and hash_nodes is off), the files of a CramFS, a squashfs or an archive (zip, tar, cpio,
  // ...) are walked where they are decompressed, and a
  // file's content stays in the tree only when its walk finds something in it or this predicate asks for it (a
  // certificate scan asks for configuration files). The other members keep their metadata and size but no content
  // (Node::content_kept). A firmware image's filesystems hold tens of MiB of programs with no structure inside; not
  // holding them saves the memory and the time to fault it in. Unset: every member keeps its content (fwextract).
  std::function<bool(std::string_view member_path, uint64_t size)> keep_content;
  // The clock of the time limit (limits.max_seconds): the steady clock when empty. Tests give a fake one.
  Deadline::Clock clock;
};

class Tree {
 public:
  std::vector<Node> nodes;               // nodes[0] is the input
  std::vector<Diagnostic> diagnostics;   // limits reached and other whole-tree problems
  uint64_t extracted_bytes = 0;
  // A reader failed for want of a resource (memory), not because of the bytes: part of the input was not looked at.
  // The reason is an Error diagnostic of the node (or of the tree).
  bool incomplete = false;
  // The time limit (limits.max_seconds) was reached: the walks and readers stopped where they were (incomplete too).
  bool timed_out = false;
  // Containers read from a folder on disk (extract_folder_tree): node id -> the folder's absolute path.
  std::map<size_t, std::string> folders;

  const Node& root() const { return nodes.front(); }
  const Node* find(const std::string& location) const;
  // Nodes whose location ends with suffix (handy in tests and for users: ":/etc/stunnel/client.crt").
  std::vector<const Node*> find_suffix(const std::string& suffix) const;
};

// Builds the tree of `input` (named `name` in locations) with the walker's signatures. Never throws on bad bytes.
// The caller keeps `input` alive as long as the tree.
Tree extract_tree(ByteView input, const std::string& name, const Walker& walker, const ExtractOptions& options = {});

// Lowercase hex SHA-256 of bytes.
std::string sha256_hex(ByteView data);

}  // namespace fwcert
