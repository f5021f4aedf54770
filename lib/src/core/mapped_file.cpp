#include "fwcert/core/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace fwcert {

MappedFile::MappedFile(MappedFile&& other) noexcept { *this = std::move(other); }

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    reset();
    path_ = std::move(other.path_);
    prefault_ = std::move(other.prefault_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    mapped_ = std::exchange(other.mapped_, false);
  }
  return *this;
}

MappedFile::~MappedFile() { reset(); }

void MappedFile::reset() {
  if (prefault_.joinable()) {
    prefault_.request_stop();
    prefault_.join();
  }
  if (mapped_ && data_) munmap(const_cast<uint8_t*>(data_), size_);
  data_ = nullptr;
  size_ = 0;
  mapped_ = false;
}

Result<MappedFile> MappedFile::open(const std::string& path, bool prefault) {
  // O_NONBLOCK: a FIFO with no writer would block open() for ever; it is refused below as not a regular file. For
  // regular files and block devices the flag changes nothing.
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return make_error(0, path + ": " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return make_error(0, path + ": " + std::strerror(e));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return make_error(0, path + ": is a directory");
  }
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
    ::close(fd);
    return make_error(0, path + ": not a regular file");
  }
  MappedFile f;
  f.path_ = path;
  if (st.st_size > 0) {
    void* p = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int e = errno;
      ::close(fd);
      return make_error(0, path + ": cannot map: " + std::strerror(e));
    }
    madvise(p, static_cast<size_t>(st.st_size), MADV_SEQUENTIAL);
    f.data_ = static_cast<const uint8_t*>(p);
    f.size_ = static_cast<size_t>(st.st_size);
    f.mapped_ = true;
    // Page faults cost as much as the scan itself on a cached file: take them on another core, ahead of the reader
    // (which starts at the beginning too, so this thread touches pages in the same order, one per page).
    if (prefault && f.size_ >= (size_t{4} << 20) && std::thread::hardware_concurrency() > 1) {
      const uint8_t* base = f.data_;
      const size_t n = f.size_;
      f.prefault_ = std::jthread([base, n](std::stop_token stop) {
        // MADV_POPULATE_READ (Linux 5.14) maps a range in one call, without a fault per page; 4 MiB at a time so a
        // reader that finishes early is not kept waiting. Older kernels: touch one byte per page.
        constexpr size_t kStep = size_t{4} << 20;
        size_t off = 0;
#ifdef MADV_POPULATE_READ
        for (; off < n && !stop.stop_requested(); off += kStep) {
          if (madvise(const_cast<uint8_t*>(base) + off, std::min(kStep, n - off), MADV_POPULATE_READ) != 0) break;
        }
#endif
        volatile uint8_t sink = 0;
        for (; off < n && !stop.stop_requested(); off += 4096) sink = sink + base[off];
      });
    }
  }
  ::close(fd);
  return f;
}

}  // namespace fwcert
