#include "fwcert/core/mapped_file.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>
#include <system_error>
#include <utility>

namespace fwcert {
namespace {

// The SIGBUS guard. Reading a page of a mapped file past its end raises SIGBUS, which kills the process: a file
// truncated while it is scanned (an image being rewritten, a download restarted) would take a whole catalog run
// with it. The handler looks the faulting address up in a table of live mappings; when it lies in one, it maps
// anonymous zero pages over the rest of that mapping (mmap is a plain system call, safe in a handler), marks the
// mapping truncated and returns: the faulting read is retried and finds zeros, on whatever thread it was. No jump
// out of C++ frames, no cost on the reading path. A fault anywhere else goes on to the handler that was there
// before (the default one kills, as it would have).
constexpr int kGuardSlots = 512;
struct GuardSlot {
  std::atomic<bool> used{false};
  std::atomic<uintptr_t> begin{0};  // 0: no mapping (being registered or released)
  std::atomic<uintptr_t> end{0};
  std::atomic<bool> truncated{false};
};
GuardSlot g_slots[kGuardSlots];
uintptr_t g_page = 4096;
struct sigaction g_previous {};
std::mutex g_install_mutex;

void on_sigbus(int sig, siginfo_t* info, void* context) {
  const uintptr_t addr = reinterpret_cast<uintptr_t>(info->si_addr);
  for (GuardSlot& slot : g_slots) {
    const uintptr_t b = slot.begin.load(std::memory_order_acquire);
    const uintptr_t e = slot.end.load(std::memory_order_acquire);
    if (b == 0 || addr < b || addr >= e) continue;
    const uintptr_t page = addr & ~(g_page - 1);
    void* p = mmap(reinterpret_cast<void*>(page), e - page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (p == MAP_FAILED) break;
    slot.truncated.store(true, std::memory_order_release);
    return;
  }
  if ((g_previous.sa_flags & SA_SIGINFO) && g_previous.sa_sigaction) {
    g_previous.sa_sigaction(sig, info, context);
    return;
  }
  if (!(g_previous.sa_flags & SA_SIGINFO) && g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN) {
    g_previous.sa_handler(sig);
    return;
  }
  // The default action: returning retries the faulting access, which now kills the process as it would have.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(SIGBUS, &dfl, nullptr);
}

// (Re)installs the handler when it is not the current one (a test framework may have replaced it since).
void install_guard() {
  std::lock_guard<std::mutex> lock(g_install_mutex);
  struct sigaction current {};
  if (sigaction(SIGBUS, nullptr, &current) != 0) return;
  if ((current.sa_flags & SA_SIGINFO) && current.sa_sigaction == on_sigbus) return;
  const long page = sysconf(_SC_PAGESIZE);
  if (page > 0) g_page = static_cast<uintptr_t>(page);
  struct sigaction action {};
  action.sa_sigaction = on_sigbus;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  g_previous = current;
  sigaction(SIGBUS, &action, nullptr);
}

// A slot for [data, data + size), or -1 when every slot is taken (the mapping is then not guarded).
int guard(const uint8_t* data, size_t size) {
  install_guard();
  for (int i = 0; i < kGuardSlots; ++i) {
    bool expected = false;
    if (!g_slots[i].used.compare_exchange_strong(expected, true)) continue;
    const uintptr_t b = reinterpret_cast<uintptr_t>(data);
    g_slots[i].truncated.store(false);
    g_slots[i].end.store(b + (size + g_page - 1) / g_page * g_page, std::memory_order_release);
    g_slots[i].begin.store(b, std::memory_order_release);
    return i;
  }
  return -1;
}

void unguard(int slot) {
  if (slot < 0) return;
  g_slots[slot].begin.store(0, std::memory_order_release);
  g_slots[slot].end.store(0, std::memory_order_release);
  g_slots[slot].used.store(false, std::memory_order_release);
}

}  // namespace

MappedFile::MappedFile(MappedFile&& other) noexcept { *this = std::move(other); }

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    reset();
    path_ = std::move(other.path_);
    prefault_ = std::move(other.prefault_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    mapped_ = std::exchange(other.mapped_, false);
    guard_ = std::exchange(other.guard_, -1);
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
  unguard(std::exchange(guard_, -1));
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
    f.guard_ = guard(f.data_, f.size_);
    // Page faults cost as much as the scan itself on a cached file: take them on another core, ahead of the reader
    // (which starts at the beginning too, so this thread touches pages in the same order, one per page).
    if (prefault && f.size_ >= (size_t{4} << 20) && std::thread::hardware_concurrency() > 1) {
      const uint8_t* base = f.data_;
      const size_t n = f.size_;
      try {
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
      } catch (const std::system_error&) {
        // No thread to be had (a memory or thread limit): the reader takes the page faults itself.
      }
    }
  }
  ::close(fd);
  return f;
}

bool MappedFile::truncated_while_read() const {
  return guard_ >= 0 && g_slots[guard_].truncated.load(std::memory_order_acquire);
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
