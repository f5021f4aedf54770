#include "fwcert/extract/folder.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "fwcert/core/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

namespace fwcert {

namespace {

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

enum class Step { Skip, Descend, Stop };

// Files read ahead of their visits: enough to keep the threads busy, few enough to hold in memory.
constexpr size_t kBatchFiles = 64;
constexpr uint64_t kBatchBytes = uint64_t{64} << 20;

// Depth-first walk below an open folder, names sorted, one descriptor per level (never more than max_depth + 1 open).
// Nothing is followed: entries are looked at with AT_SYMLINK_NOFOLLOW and folders opened with O_NOFOLLOW, relative to
// their parent's descriptor, so a folder swapped for a symlink while we read is refused, not followed.
class FolderWalk {
 public:
  using OnEntry = std::function<Step(int dir_fd, const std::string& name, const std::string& rel, const struct stat& st)>;
  using OnError = std::function<void(const std::string& rel, bool is_dir, const std::string& message)>;

  FolderWalk(int max_depth, OnEntry on_entry, OnError on_error)
      : max_depth_(max_depth), on_entry_(std::move(on_entry)), on_error_(std::move(on_error)) {}

  // false when on_entry asked to stop.
  bool walk(int fd, const std::string& rel, int depth) {
    std::vector<std::string> names;
    {
      int copy = ::dup(fd);  // fdopendir owns the descriptor it is given
      DIR* d = copy >= 0 ? ::fdopendir(copy) : nullptr;
      if (!d) {
        const int err = errno;
        if (copy >= 0) ::close(copy);
        on_error_(rel, true, std::string("cannot list the folder: ") + std::strerror(err));
        return true;
      }
      for (;;) {
        errno = 0;
        const dirent* e = ::readdir(d);
        if (!e) {
          if (errno) on_error_(rel, true, std::string("listing cut short: ") + std::strerror(errno));
          break;
        }
        const std::string name = e->d_name;
        if (name != "." && name != "..") names.push_back(name);
      }
      ::closedir(d);
    }
    std::sort(names.begin(), names.end());
    for (const std::string& name : names) {
      const std::string child = rel.empty() ? name : rel + "/" + name;
      struct stat st {};
      if (::fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        on_error_(child, false, std::string("cannot stat: ") + std::strerror(errno));
        continue;
      }
      const Step step = on_entry_(fd, name, child, st);
      if (step == Step::Stop) return false;
      if (step != Step::Descend || !S_ISDIR(st.st_mode)) continue;
      if (depth + 1 > max_depth_) {
        on_error_(child, true, "not read: more than " + std::to_string(max_depth_) + " nested folders");
        continue;
      }
      Fd sub(::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
      if (!sub.ok()) {
        on_error_(child, true, std::string("cannot open the folder: ") + std::strerror(errno));
        continue;
      }
      if (!walk(sub.get(), child, depth + 1)) return false;
    }
    return true;
  }

 private:
  int max_depth_;
  OnEntry on_entry_;
  OnError on_error_;
};

Fd open_folder(const std::string& dir, std::string& error) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK));
  if (!fd.ok()) error = std::strerror(errno);
  return fd;
}

std::string joined(const std::string& dir, const std::string& rel) {
  if (rel.empty()) return dir;
  return !dir.empty() && dir.back() == '/' ? dir + rel : dir + "/" + rel;
}

// Reads a regular file whole (no mapping: a file truncated while we read it must not kill the process).
bool read_whole(int dir_fd, const std::string& name, uint64_t expected, Buffer& out, std::string& error,
                bool& short_read) {
  Fd f(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (!f.ok()) {
    error = std::string("cannot open: ") + std::strerror(errno);
    return false;
  }
  struct stat st {};
  if (::fstat(f.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    error = "not a regular file any more";
    return false;
  }
  out.resize(static_cast<size_t>(expected));
  size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::read(f.get(), out.data() + got, out.size() - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = std::string("cannot read: ") + std::strerror(errno);
      return false;
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  short_read = got < out.size();
  out.resize(got);
  return true;
}

}  // namespace

FolderReadResult read_folder(const std::string& dir, Budget& budget, const FolderReadOptions& options) {
  FolderReadResult out;
  ExtractResult& r = out.result;
  std::string error;
  Fd root = open_folder(dir, error);
  if (!root.ok()) {
    out.unreadable.push_back(dir + ": cannot open the folder: " + error);
    r.diagnostics.push_back({0, Severity::Error, "cannot open the folder: " + error});
    return out;
  }
  const std::string lead = options.absolute_paths ? "/" : "";
  // Files read but not yet visited: visited together, in parallel, once there are enough of them (or at the end).
  struct Pending {
    size_t index;
    std::shared_ptr<Buffer> data;
  };
  std::vector<Pending> batch;
  uint64_t batch_bytes = 0;
  auto flush = [&] {
    std::vector<char> keep(batch.size(), 1);
    if (options.visit) {
      std::atomic<size_t> next{0};
      auto work = [&] {
        for (size_t i = next++; i < batch.size(); i = next++) {
          const Pending& p = batch[i];
          keep[i] = options.visit(p.index, r.entries[p.index], ByteView(p.data->data(), p.data->size()));
        }
      };
      if (options.threads > 1 && batch.size() > 1) run_on_threads(options.threads, work);
      else work();
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      Entry& e = r.entries[batch[i].index];
      if (keep[i]) e.data = std::move(batch[i].data);
      else e.unkept_size = e.size;
    }
    batch.clear();
    batch_bytes = 0;
  };
  auto unreadable = [&](const std::string& rel, EntryKind kind, const std::string& message) {
    out.unreadable.push_back(joined(dir, rel) + ": " + message);
    Entry e;
    e.path = lead + rel;
    e.kind = kind;
    e.mode = kind == EntryKind::Directory ? 040755 : 0100644;
    e.complete = false;
    e.diagnostics.push_back({0, Severity::Error, message});
    r.entries.push_back(std::move(e));
  };
  FolderWalk walk(
      options.max_depth,
      [&](int dir_fd, const std::string& name, const std::string& rel, const struct stat& st) -> Step {
        const bool top = rel == name;
        if (top && std::find(options.skip_top.begin(), options.skip_top.end(), name) != options.skip_top.end())
          return Step::Skip;
        if (options.skip_carve_folders && S_ISDIR(st.st_mode) && name.size() > 10 &&
            name.compare(name.size() - 10, 10, ".extracted") == 0) {
          struct stat file {};
          const std::string carved_from = name.substr(0, name.size() - 10);
          if (::fstatat(dir_fd, carved_from.c_str(), &file, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(file.st_mode))
            return Step::Skip;
        }
        if (S_ISREG(st.st_mode)) {
          ++out.files;
          if (options.separate_from && static_cast<uint64_t>(st.st_size) >= options.separate_from) {
            out.separate.push_back(joined(dir, rel));
            return Step::Skip;
          }
        }
        if (budget.out_of_time() || !budget.take_entry()) {  // the time limit: asked once per entry
          r.limited = true;
          return Step::Stop;
        }
        Entry e;
        e.path = lead + rel;
        e.kind = kind_from_mode(st.st_mode);
        e.mode = st.st_mode;
        e.uid = st.st_uid;
        e.gid = st.st_gid;
        e.mtime = static_cast<int64_t>(st.st_mtime);
        if (e.kind == EntryKind::CharDevice || e.kind == EntryKind::BlockDevice) {
          e.rdev_major = major(st.st_rdev);
          e.rdev_minor = minor(st.st_rdev);
        }
        if (e.kind == EntryKind::Symlink) {
          char target[4096];
          const ssize_t n = ::readlinkat(dir_fd, name.c_str(), target, sizeof target);
          if (n >= 0) e.link_target.assign(target, static_cast<size_t>(n));
        }
        if (e.kind == EntryKind::File && st.st_size > 0) {
          auto data = std::make_shared<Buffer>();
          std::string why;
          bool short_read = false;
          if (!read_whole(dir_fd, name, static_cast<uint64_t>(st.st_size), *data, why, short_read)) {
            unreadable(rel, EntryKind::File, why);
            return Step::Skip;
          }
          if (short_read) {
            e.complete = false;
            e.diagnostics.push_back({0, Severity::Warning, "the file shrank while it was read: " +
                                                               std::to_string(data->size()) + " of " +
                                                               std::to_string(st.st_size) + " bytes"});
          }
          out.bytes += data->size();
          e.size = data->size();
          batch_bytes += data->size();
          batch.push_back({r.entries.size(), std::move(data)});
        }
        r.entries.push_back(std::move(e));
        if (batch.size() >= kBatchFiles || batch_bytes >= kBatchBytes) flush();
        return Step::Descend;
      },
      [&](const std::string& rel, bool is_dir, const std::string& message) {
        unreadable(rel, is_dir ? EntryKind::Directory : EntryKind::File, message);
      });
  walk.walk(root.get(), "", 0);
  flush();
  return out;
}

ExtractedLayout fwextract_layout(const std::string& dir) {
  ExtractedLayout layout;
  namespace fs = std::filesystem;
  std::error_code ec;
  // fwextract's manifest: a JSON object with its "input" and its "nodes", each node with its "location" and the
  // "path" it was written to (written by write_tree; at most a few MiB for the largest image).
  auto manifest = [](const fs::path& p) -> std::optional<nlohmann::json> {
    std::error_code e;
    if (!fs::is_regular_file(fs::symlink_status(p, e)) || fs::file_size(p, e) > (uint64_t{256} << 20) || e)
      return std::nullopt;
    Fd f(::open(p.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!f.ok()) return std::nullopt;
    struct stat st {};
    if (::fstat(f.get(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    std::string text(static_cast<size_t>(st.st_size), '\0');
    size_t got = 0;
    while (got < text.size()) {
      const ssize_t n = ::read(f.get(), text.data() + got, text.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    text.resize(got);
    auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("input") || !j.contains("nodes") || !j["nodes"].is_array()) return std::nullopt;
    return j;
  };
  const fs::path base = fs::absolute(dir, ec).lexically_normal();
  if (ec) return layout;
  if (auto j = manifest(base / "manifest.json")) {
    layout.recognised = layout.inside = true;
    layout.manifest_name = "manifest.json";
    for (const auto& n : (*j)["nodes"]) {
      if (!n.is_object() || !n.contains("path") || !n["path"].is_string()) continue;
      const std::string role = n.value("role", "");
      if (role != "carved" && role != "stream") continue;
      const std::string path = n["path"].get<std::string>();
      if (path.empty() || path.find('/') != std::string::npos || path == "." || path == "..") continue;
      const auto st = fs::symlink_status(base / path, ec);
      if (role == "carved" && fs::is_directory(st)) layout.carve_folders.push_back({path, n.value("format", "")});
      else if (fs::is_regular_file(st)) layout.carve_files.push_back(path);
    }
    return layout;
  }
  // A part of fwextract's output (its stunnel/ folder, say): the manifest is in a parent.
  fs::path p = base;
  for (int up = 0; up < 64 && p.has_relative_path(); ++up) {
    p = p.parent_path();
    if (manifest(p / "manifest.json")) {
      layout.inside = true;
      break;
    }
  }
  return layout;
}

bool read_regular_file(const std::string& path, Buffer& out, std::string& error) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    error = std::string("cannot stat: ") + std::strerror(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    error = "not a regular file";
    return false;
  }
  bool short_read = false;
  return read_whole(AT_FDCWD, path, static_cast<uint64_t>(st.st_size), out, error, short_read);
}

std::vector<std::string> list_folder_files(const std::string& dir, std::vector<std::string>& unreadable,
                                           int max_depth) {
  std::vector<std::string> files;
  std::string error;
  Fd root = open_folder(dir, error);
  if (!root.ok()) {
    unreadable.push_back(dir + ": cannot open the folder: " + error);
    return files;
  }
  FolderWalk walk(
      max_depth,
      [&](int, const std::string&, const std::string& rel, const struct stat& st) {
        if (S_ISREG(st.st_mode)) files.push_back(joined(dir, rel));
        return Step::Descend;
      },
      [&](const std::string& rel, bool, const std::string& message) {
        unreadable.push_back(joined(dir, rel) + ": " + message);
      });
  walk.walk(root.get(), "", 0);
  return files;
}

}  // namespace fwcert
