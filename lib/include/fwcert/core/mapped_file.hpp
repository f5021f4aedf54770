// Read-only memory-mapped input (or, for standard input, an owned buffer). Opening never throws; failures come back as
// an Error naming the file.
#pragma once

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "fwcert/core/bytes.hpp"
#include "fwcert/core/result.hpp"

namespace fwcert {

class MappedFile {
 public:
  MappedFile() = default;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  ~MappedFile();

  // Maps path read-only. A directory, a missing file or an unreadable one is an Error ("PATH: reason").
  // With prefault, a large file's pages are faulted in on another core ahead of the reader (turn it off when every
  // core already works on its own input).
  static Result<MappedFile> open(const std::string& path, bool prefault = true);

  // The name that stands for standard input where a file is expected, and in locations.
  static constexpr const char* kStdin = "-";
  // Piped standard input is held in memory whole, so it is capped (as one extracted file is, ExtractLimits).
  static constexpr uint64_t kMaxStdinBytes = uint64_t{1} << 30;

  // open(path), except that "-" is standard input: a regular file or block device redirected to it is mapped, a pipe
  // or socket is read to its end into memory (more than kMaxStdinBytes, or nothing at all, is an Error). A terminal
  // is refused rather than waited on. path() is "-" either way.
  static Result<MappedFile> open_input(const std::string& path, bool prefault = true);

  // Reads fd to its end into an owned buffer of at most max_bytes (more is an Error); name labels it and its errors.
  static Result<MappedFile> read_all(int fd, const std::string& name, uint64_t max_bytes);

  ByteView view() const { return ByteView(data_, size_, 0); }
  const std::string& path() const { return path_; }
  size_t size() const { return size_; }
  // True once a read of the mapping met a page past the file's end: the file shrank (was truncated) while it was
  // mapped. Such a read does not kill the process (SIGBUS): a handler maps zeros over the rest of the mapping, so
  // the reader sees zero bytes from there on and goes on; the caller must then report the input as not read.
  bool truncated_while_read() const;

 private:
  void reset();

  std::string path_;
  std::jthread prefault_;  // maps the pages in ahead of the reader, on another core
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
  int guard_ = -1;  // this mapping's slot in the SIGBUS guard's table (-1: not guarded)
  std::vector<uint8_t> owned_;  // read_all's bytes (data_ points into it); empty for a mapping
};

}  // namespace fwcert
