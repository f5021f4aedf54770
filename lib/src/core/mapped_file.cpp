#include "fwcert/core/mapped_file.hpp"

#include <fcntl.h>
#include <poll.h>
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
    owned_ = std::move(other.owned_);  // a vector's move keeps its buffer, so data_ still points into it
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
  owned_ = {};
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

Result<MappedFile> MappedFile::open_input(const std::string& path, bool prefault) {
  if (path != kStdin) return open(path, prefault);
  struct stat st {};
  if (fstat(STDIN_FILENO, &st) != 0)
    return make_error(0, std::string(kStdin) + ": standard input: " + std::strerror(errno));
  if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) {
    // Redirected from a file: mapped like any file, through a descriptor of its own, so nothing is copied.
    auto f = open("/dev/fd/0", prefault);
    if (!f) return make_error(0, std::string(kStdin) + ": standard input: " + f.error().message);
    f->path_ = kStdin;
    return f;
  }
  if (isatty(STDIN_FILENO))
    return make_error(0, std::string(kStdin) + ": standard input is a terminal; pipe or redirect a file into it");
  auto f = read_all(STDIN_FILENO, kStdin, kMaxStdinBytes);
  // An empty pipe is almost always a failed command before it (curl, ssh): said, not scanned as an empty input.
  if (f && f->size() == 0) return make_error(0, std::string(kStdin) + ": nothing on standard input");
  return f;
}

Result<MappedFile> MappedFile::read_all(int fd, const std::string& name, uint64_t max_bytes) {
  auto too_long = [&] {
    const std::string cap = max_bytes % (uint64_t{1} << 20) == 0 ? std::to_string(max_bytes >> 20) + " MiB"
                                                                  : std::to_string(max_bytes) + " bytes";
    return make_error(0, name + ": longer than " + cap + ", the limit for input read into memory (give it as a file)");
  };
  MappedFile f;
  f.path_ = name;
  std::vector<uint8_t>& buf = f.owned_;
  size_t used = 0;
  for (;;) {
    if (used == buf.size()) {
      if (used > max_bytes) return too_long();
      // Doubling from 1 MiB, up to one byte past the cap so that reaching it can be told from passing it.
      const uint64_t grown = std::max<uint64_t>(used * uint64_t{2}, uint64_t{1} << 20);
      const uint64_t want = std::min<uint64_t>(grown, max_bytes + 1);
      try {
        buf.resize(static_cast<size_t>(want));
      } catch (const std::exception&) {
        return make_error(0, name + ": out of memory after " + std::to_string(used) + " bytes");
      }
    }
    ssize_t n = ::read(fd, buf.data() + used, buf.size() - used);
    if (n > 0) {
      used += static_cast<size_t>(n);
    } else if (n == 0) {
      break;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      pollfd p{fd, POLLIN, 0};  // a descriptor left non-blocking by whoever made it: wait for data or its end
      ::poll(&p, 1, -1);
    } else if (errno != EINTR) {
      return make_error(0, name + ": " + std::strerror(errno));
    }
  }
  if (used > max_bytes) return too_long();
  buf.resize(used);  // not shrunk: that would copy it all once more
  f.data_ = buf.data();
  f.size_ = used;
  return f;
}

}  // namespace fwcert
