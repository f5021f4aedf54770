// What container readers produce: entries with metadata and content, under shared limits. Readers never throw on bad
// bytes, never follow links and never touch the file system: they only return entries and diagnostics.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fwcert/core/bytes.hpp"
#include "fwcert/core/deadline.hpp"
#include "fwcert/scan/hit.hpp"

namespace fwcert {

enum class EntryKind : uint8_t { File, Directory, Symlink, CharDevice, BlockDevice, Fifo, Socket };
std::string_view to_string(EntryKind k);
// The kind encoded in a POSIX st_mode (S_IFMT bits); File when unknown.
EntryKind kind_from_mode(uint32_t mode);

using Buffer = std::vector<uint8_t>;

struct Entry {
  // Member path inside the container: '/'-separated. Filesystems (CramFS, squashfs) give absolute paths ("/etc/x");
  // archives give their stored names as they are (untrusted: may contain "..", "/" or anything; the tree and the
  // writer sanitise, readers do not).
  std::string path;
  EntryKind kind = EntryKind::File;
  uint32_t mode = 0;  // full st_mode, including type bits and setuid/setgid/sticky
  uint32_t uid = 0, gid = 0;
  int64_t mtime = 0;
  uint32_t rdev_major = 0, rdev_minor = 0;  // devices
  std::string link_target;                  // symlinks (and hard links in archives)
  uint64_t size = 0;                        // content size as stored in the container's metadata
  // Content: an owned buffer (decompressed data), or a view: into the input when the bytes lie there verbatim, or
  // into a block that `keep` holds alive (a CramFS reader decompresses all files of an image into one block).
  std::shared_ptr<const Buffer> data;
  ByteView view;
  std::shared_ptr<const void> keep;
  uint64_t unkept_size = 0;  // content of this many bytes was read and looked at (a streaming read) but not kept
  bool encrypted = false;    // content not available without a password
  bool complete = true;    // false when the content is partial (damaged data, a limit reached)
  std::vector<Diagnostic> diagnostics;

  ByteView content() const { return data ? ByteView(data->data(), data->size()) : view; }
  // What keeps the content alive (nullptr when it is a view into the input).
  std::shared_ptr<const void> owner() const { return data ? std::shared_ptr<const void>(data) : keep; }
};

// Limits on one whole extraction (all depths together), all configurable from the command line.
struct ExtractLimits {
  uint64_t max_total_bytes = uint64_t{4} << 30;  // bytes produced by decompression in all
  uint64_t max_file_bytes = uint64_t{1} << 30;   // bytes of one entry
  uint64_t max_entries = 200000;                 // entries in all
  uint64_t max_ratio = 2000;  // decompressed/compressed ratio above which a stream counts as a bomb (past 1 MiB)
  int max_depth = 8;          // nesting of containers
  double max_seconds = 0;     // time for one input (the extraction and the walks in it); 0: no limit
};

// The shared allowance that every reader draws from. A reader that cannot take what it needs stops, returns what it
// has, and adds a diagnostic naming the limit.
class Budget {
 public:
  // The time limit starts now, on `clock` (the steady clock when empty; tests give a fake one).
  explicit Budget(ExtractLimits limits = {}, Deadline::Clock clock = {})
      : limits_(limits), deadline_(limits.max_seconds, std::move(clock)) {}
  const ExtractLimits& limits() const { return limits_; }
  // The time limit: readers ask out_of_time() once per entry, file or block and stop there (limited, a diagnostic).
  // Copies of a budget share it.
  const Deadline& deadline() const { return deadline_; }
  bool out_of_time() const { return deadline_.expired(); }
  // Takes n bytes of output; false (and nothing taken) when the total limit would be passed.
  bool take_bytes(uint64_t n) {
    if (n > limits_.max_total_bytes - used_bytes_) return false;
    used_bytes_ += n;
    return true;
  }
  bool take_entry() {
    if (used_entries_ >= limits_.max_entries) return false;
    ++used_entries_;
    return true;
  }
  // Takes bytes and entries together, all or nothing (a reader's whole result, read ahead under a copy).
  bool take(uint64_t bytes, uint64_t entries) {
    if (bytes > limits_.max_total_bytes - used_bytes_ || entries > limits_.max_entries - used_entries_) return false;
    used_bytes_ += bytes;
    used_entries_ += entries;
    return true;
  }
  uint64_t used_bytes() const { return used_bytes_; }
  uint64_t used_entries() const { return used_entries_; }
  // The most one entry decompressed from `compressed` input bytes may produce under the per-file, total and ratio
  // limits.
  uint64_t allowance(uint64_t compressed) const {
    uint64_t a = limits_.max_file_bytes;
    uint64_t left = limits_.max_total_bytes - used_bytes_;
    if (left < a) a = left;
    uint64_t by_ratio = compressed > 0 && compressed < (uint64_t{1} << 40) ? compressed * limits_.max_ratio : a;
    if (by_ratio < (uint64_t{1} << 20)) by_ratio = uint64_t{1} << 20;
    return by_ratio < a ? by_ratio : a;
  }

 private:
  ExtractLimits limits_;
  Deadline deadline_;
  uint64_t used_bytes_ = 0;
  uint64_t used_entries_ = 0;
};

struct ExtractResult {
  std::vector<Entry> entries;
  std::vector<Diagnostic> diagnostics;  // about the container as a whole (absolute offsets)
  bool recovered = false;               // rebuilt from damaged metadata (e.g. CramFS without a superblock)
  bool limited = false;                 // a limit stopped the reader early
  bool failed = false;  // the reader itself failed (out of memory): the container was not read to its end
};

}  // namespace fwcert
