// A folder on disk read as a container: the files of one firmware (a mounted image, a root filesystem copied out, the
// tree that fwextract wrote). Its entries are produced as an archive's members are, so the tree walks each file like
// any member. Nothing outside the folder is opened: symlinks are listed, never followed.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "fwcert/extract/entry.hpp"
#include "fwcert/extract/tree.hpp"

namespace fwcert {

struct FolderReadOptions {
  // Paths of the entries: "/etc/x" (the folder is a filesystem root) or "etc/x" (as an archive stores them).
  bool absolute_paths = true;
  // Regular files of this many bytes or more are not read but listed in FolderReadResult::separate (0: none is).
  uint64_t separate_from = 0;
  // Entry names directly in the folder that are not read (folders read as containers of their own, a manifest).
  std::vector<std::string> skip_top;
  // fwextract's carve folders ("x.crt.extracted" beside the file "x.crt") are not read: walking x.crt finds again
  // what fwextract wrote there.
  bool skip_carve_folders = false;
  int max_depth = 64;  // nested folders
  // Streaming, as CramfsReadOptions::visit: each file's content is handed to visit (with its entry index) when read,
  // and kept in the entry only when visit returns true. Unset: every file is kept.
  std::function<bool(size_t entry, const Entry& e, ByteView content)> visit;
  // Threads calling visit: files are read in order, a few at a time, and visited in parallel (the result is the same
  // for any count).
  unsigned threads = 1;
};

struct FolderReadResult {
  ExtractResult result;
  std::vector<std::string> separate;    // files left out by separate_from, as folder + "/" + relative path
  std::vector<std::string> unreadable;  // "PATH: reason" for each entry that could not be read (also an Error entry)
  uint64_t files = 0;                   // regular files listed (read or separate)
  uint64_t bytes = 0;                   // bytes read
};

// Reads the folder `dir` under the budget's entry count. Entries that cannot be read are listed with complete=false
// and an Error diagnostic naming the reason, and in `unreadable`. Never throws.
FolderReadResult read_folder(const std::string& dir, Budget& budget, const FolderReadOptions& options = {});

// fwextract's output: a folder with its manifest.json. Its carve folders of containers ("cramfs@0x80000") are the
// roots of the filesystems fwextract read.
struct ExtractedLayout {
  bool recognised = false;        // dir holds fwextract's manifest.json
  bool inside = false;            // dir or one of its parents holds it (dir is a part of fwextract's output)
  std::string manifest_name;      // "manifest.json" when recognised
  struct CarveFolder {
    std::string name;    // on disk, directly in dir: "cramfs@0x80000"
    std::string format;  // "cramfs"
  };
  std::vector<CarveFolder> carve_folders;
  // Files directly in dir that hold a region or decoded stream of the input ("pem@0x7A120", "gzip"), not a member.
  std::vector<std::string> carve_files;
};
ExtractedLayout fwextract_layout(const std::string& dir);

// What extract_folder_tree met besides the tree.
struct FolderTreeInfo {
  std::vector<std::string> separate;    // files of separate_from bytes or more, not in the tree (firmware images)
  std::vector<std::string> unreadable;  // "PATH: reason" for each entry that could not be read (problems in the tree)
  uint64_t files = 0;                   // regular files met, separate ones included
  uint64_t bytes = 0;                   // bytes read into the tree
};

// The tree of a folder given as one input, named `name` in locations. Its files are the members of a container
// "dir" ("name!dir:/etc/stunnel/server.crt"), read as one root filesystem. When the folder is fwextract's output,
// each of its carve folders is the container it was carved from ("name!cramfs@0x80000:/etc/stunnel/server.crt", as in
// the image), each file it wrote for a region or stream of the input is that node ("name!pem@0x7A120"), its manifest
// is not read, and its "*.extracted" folders are not read (walking the file they were carved from finds their content
// again); the same holds below a part of fwextract's output. Regular files of
// `separate_from` bytes or more are left out of the tree (0: none is): the caller scans them as inputs of their own.
// Every file is walked like any member. Never throws.
Tree extract_folder_tree(const std::string& dir, const std::string& name, const Walker& walker,
                         const ExtractOptions& options, uint64_t separate_from, FolderTreeInfo& info);

// Reads a regular file whole (a symlink is refused). False with the reason in `error`.
bool read_regular_file(const std::string& path, Buffer& out, std::string& error);

// The regular files below `dir` (sorted, symlinks not followed, at most max_depth folders deep), for a scan of each
// file on its own. Entries that cannot be read are added to `unreadable` ("PATH: reason").
std::vector<std::string> list_folder_files(const std::string& dir, std::vector<std::string>& unreadable,
                                           int max_depth = 64);

}  // namespace fwcert
