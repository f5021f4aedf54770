// The container formats: each hit type that names a filesystem or an archive has one row here, pairing the type the
// walk reports with the reader that lists its members. The tree builder dispatches through this table only, so a new
// filesystem is one reader and one row (issue 18 grows this into the full format registry).
#pragma once

#include <string_view>

#include "fwcert/extract/readers.hpp"

namespace fwcert {

// What every container reader may be asked; a reader uses the fields that apply to it.
struct ContainerReadOptions : CramfsReadOptions {
  // Data that the filesystem itself no longer shows (JFFS2 nodes that a newer version or a deletion replaced):
  // listed too, marked as such in the member path. Off by default.
  bool include_deleted = false;
};

struct ContainerFormat {
  std::string_view type;  // the walk's hit type ("cramfs", "zip", ...)
  // Members are named from the filesystem root ("/etc/x"), not as an archive stored them ("res/x").
  bool absolute_paths = false;
  ExtractResult (*read)(ByteView region, Budget& budget, const ContainerReadOptions& options) = nullptr;
};

// The row for a hit type, or nullptr when the type is no container.
const ContainerFormat* find_container(std::string_view type);

}  // namespace fwcert
