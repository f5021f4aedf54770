// Output files written whole or not at all: every file a tool writes on the user's behalf (calendar -o, catalog
// export -o, report --html, fwextract's manifest.json) goes through here. The text goes to a temporary file beside the
// target (same folder, so the rename stays within one file system), is flushed to disk, and is then renamed over the
// target. A failure at any point (a full disk, a file size limit, a folder that is not writable) removes the temporary
// file and leaves the previous target as it was.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "fwcert/core/result.hpp"

namespace fwcert {

// Writes `text` to `path` atomically. Error: the message names the path and the reason.
Result<std::monostate> write_file_atomically(const std::string& path, std::string_view text);

// The same for the file `name` (one path component) of the folder open as `dir_fd`; `shown` is how messages name the
// target. The temporary file is created in that folder with O_EXCL|O_NOFOLLOW, and the target is replaced with
// renameat (a symlink planted there is replaced, never followed).
Result<std::monostate> write_file_atomically_at(int dir_fd, const std::string& name, std::string_view text,
                                                const std::string& shown);

}  // namespace fwcert
