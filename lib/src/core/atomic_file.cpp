#include "fwcert/core/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace fwcert {

Result<std::monostate> write_file_atomically_at(int dir_fd, const std::string& name, std::string_view text,
                                                const std::string& shown) {
  // Hidden (a collector reading *.prom skips it) and unique to this process and call.
  static std::atomic<unsigned> counter{0};
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    tmp = "." + name.substr(0, 200) + "." + std::to_string(::getpid()) + "." + std::to_string(counter++) + ".tmp";
    fd = ::openat(dir_fd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) return make_error(0, shown + ": cannot create a temporary file beside it: " + std::strerror(errno));
  const auto fail = [&](const char* what, int err) {
    ::close(fd);
    ::unlinkat(dir_fd, tmp.c_str(), 0);
    return make_error(0, shown + ": " + what + ": " + std::strerror(err) + " (the previous file, if any, is unchanged)");
  };
  for (size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("cannot write", n < 0 ? errno : ENOSPC);
    done += static_cast<size_t>(n);
  }
  // Readable like any file the user would create (the temporary file is 0600).
  const mode_t mask = ::umask(0);
  ::umask(mask);
  if (::fchmod(fd, 0666 & ~mask) != 0) return fail("cannot set the mode", errno);
  if (::fsync(fd) != 0) return fail("cannot sync", errno);
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlinkat(dir_fd, tmp.c_str(), 0);
    return make_error(0, shown + ": cannot write: " + std::strerror(err) + " (the previous file, if any, is unchanged)");
  }
  if (::renameat(dir_fd, tmp.c_str(), dir_fd, name.c_str()) != 0) {
    const int err = errno;
    ::unlinkat(dir_fd, tmp.c_str(), 0);
    return make_error(0, shown + ": cannot rename the temporary file over it: " + std::strerror(err));
  }
  ::fsync(dir_fd);  // the rename itself on disk; a folder that cannot be synced is no error
  return std::monostate{};
}

Result<std::monostate> write_file_atomically(const std::string& path, std::string_view text) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  const std::string name = target.filename().string();
  if (name.empty() || name == "." || name == "..") return make_error(0, path + ": not a file name");
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return make_error(0, path + ": cannot open its folder: " + std::strerror(errno));
  auto r = write_file_atomically_at(dir_fd, name, text, path);
  ::close(dir_fd);
  return r;
}

}  // namespace fwcert
