// Writing a tree to disk: the only code that creates files. Nothing is written outside the output folder: member
// paths are sanitised ('..' and absolute paths neutralised), every directory is opened with O_NOFOLLOW from the
// output folder's descriptor, symlinks are created as links and never followed, devices become empty placeholders.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fwcert/core/result.hpp"
#include "fwcert/extract/tree.hpp"

namespace fwcert {

struct WriteOptions {
  bool force = false;  // write into a non-empty folder (existing names are kept, new files get a ~N suffix; the
                       // manifest.json of an earlier run is replaced)
};

struct WriteReport {
  std::vector<std::string> paths;  // per node id: path relative to the output folder ("" when nothing was written)
  size_t files = 0, dirs = 0, links = 0, placeholders = 0;
  std::vector<Diagnostic> diagnostics;  // paths refused or renamed, write errors
  std::string manifest_path;            // the manifest written: out_dir/manifest.json
};

// Writes every node of the tree under out_dir and a manifest.json. Fails (writing nothing) when out_dir is not empty
// and force is off, or cannot be created.
Result<WriteReport> write_tree(const Tree& tree, const std::string& out_dir, const WriteOptions& options = {});

// The longest name one path component may have on disk (NAME_MAX of Linux file systems).
constexpr size_t kMaxNameBytes = 255;

// base + suffix, with base cut (at a UTF-8 character boundary) so that the whole fits in kMaxNameBytes.
std::string fit_name(const std::string& base, const std::string& suffix);

// Makes one stored member path safe to join under a folder: components "", "." dropped, ".." replaced, control
// characters replaced, components longer than kMaxNameBytes cut (at a UTF-8 boundary). `changed` tells whether
// anything was altered; a valid name of up to 255 bytes is written as it is.
std::vector<std::string> sanitize_member_path(const std::string& path, bool& changed);

// The manifest: {input, sha256, size, extracted_bytes, nodes: [{location, path, role, kind, format, size, mode, uid,
// gid, mtime, sha256, link_target, offset, recovered, encrypted, complete, diagnostics}], diagnostics}.
nlohmann::json tree_manifest(const Tree& tree, const WriteReport* report);

}  // namespace fwcert
