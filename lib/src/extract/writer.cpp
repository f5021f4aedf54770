#include "fwcert/extract/writer.hpp"

#include "fwcert/core/atomic_file.hpp"
#include "fwcert/report/text.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <unordered_map>

namespace fwcert {

namespace fs = std::filesystem;

std::string fit_name(const std::string& base, const std::string& suffix) {
  if (base.size() + suffix.size() <= kMaxNameBytes) return base + suffix;
  size_t cut = suffix.size() < kMaxNameBytes ? kMaxNameBytes - suffix.size() : 0;
  // Back off over UTF-8 continuation bytes (10xxxxxx) so that the cut falls between two characters.
  for (int i = 0; i < 3 && cut > 0 && (static_cast<unsigned char>(base[cut]) & 0xC0) == 0x80; ++i) --cut;
  return base.substr(0, cut) + suffix;
}

std::vector<std::string> sanitize_member_path(const std::string& path, bool& changed) {
  changed = false;
  std::vector<std::string> out;
  size_t i = 0;
  if (!path.empty() && path[0] == '/') i = 0;  // absolute paths become relative: leading '/' yields an empty part
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string part = path.substr(i, j - i);
    i = j + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      part = "__dotdot__";
      changed = true;
    }
    for (char& ch : part)
      if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) {
        ch = '_';
        changed = true;
      }
    if (part.size() > kMaxNameBytes) {  // longer than the file system takes: cut, never inside a UTF-8 sequence
      part = fit_name(part, "");
      changed = true;
    }
    out.push_back(std::move(part));
  }
  return out;
}

namespace {

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = o.fd_;
      o.fd_ = -1;
    }
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

 private:
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd_;
};

// Creates files only below root_fd, one component at a time, never following a symlink.
class SafeWriter {
 public:
  SafeWriter(int root_fd, WriteReport& report) : root_(root_fd), report_(report) {}

  // Opens (creating as needed) the directory at components; -1 with a diagnostic when a component is not a real
  // directory (a symlink planted by an earlier member, a file).
  Fd open_dir(const std::vector<std::string>& parts) {
    Fd cur(::dup(root_));
    for (const auto& p : parts) {
      if (::mkdirat(cur.get(), p.c_str(), 0755) != 0 && errno != EEXIST) return fail(parts, "mkdir", errno);
      Fd next(::openat(cur.get(), p.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!next.ok()) return fail(parts, "open directory", errno);
      cur = std::move(next);
    }
    return cur;
  }

  // A name not yet used in dir: name, name~1, name~2, ... (cut to fit NAME_MAX with its suffix). The next suffix to
  // try is remembered per folder and name, so that N members of one name cost N tries in all, not N^2/2 (a zip of
  // 10,000 members all named "dup" took 118 s).
  std::string free_name(int dir, const std::vector<std::string>& dir_parts, const std::string& name) {
    struct stat st {};
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return name;
    uint64_t& next = next_suffix_[join(dir_parts, name)];
    for (uint64_t i = std::max<uint64_t>(next, 1); i < next + 1000000; ++i) {
      std::string cand = fit_name(name, "~" + std::to_string(i));
      if (::fstatat(dir, cand.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        next = i + 1;
        return cand;
      }
    }
    return fit_name(name, "~x");
  }

  std::string write_file(const std::vector<std::string>& dir_parts, const std::string& name, ByteView data, uint32_t mode) {
    Fd dir = open_dir(dir_parts);
    if (!dir.ok()) return {};
    std::string n = free_name(dir.get(), dir_parts, name);
    // No setuid/setgid/sticky bits on disk (the manifest keeps the real mode); always readable by the user.
    const mode_t perm = static_cast<mode_t>((mode & 0111 ? 0755 : 0644));
    Fd f(::openat(dir.get(), n.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, perm));
    if (!f.ok()) {
      fail(dir_parts, "create " + n, errno);
      return {};
    }
    const uint8_t* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t w = ::write(f.get(), p, left);
      if (w < 0) {
        if (errno == EINTR) continue;
        fail(dir_parts, "write " + n, errno);
        return {};
      }
      p += w;
      left -= static_cast<size_t>(w);
    }
    ++report_.files;
    return join(dir_parts, n);
  }

  std::string make_dir(const std::vector<std::string>& parts) {
    Fd d = open_dir(parts);
    if (!d.ok()) return {};
    ++report_.dirs;
    return join(parts, "");
  }

  std::string make_symlink(const std::vector<std::string>& dir_parts, const std::string& name, const std::string& target) {
    Fd dir = open_dir(dir_parts);
    if (!dir.ok()) return {};
    std::string n = free_name(dir.get(), dir_parts, name);
    if (::symlinkat(target.c_str(), dir.get(), n.c_str()) != 0) {
      fail(dir_parts, "symlink " + n, errno);
      return {};
    }
    ++report_.links;
    return join(dir_parts, n);
  }

  static std::string join(const std::vector<std::string>& parts, const std::string& last) {
    std::string s;
    for (const auto& p : parts) s += (s.empty() ? "" : "/") + p;
    if (!last.empty()) s += (s.empty() ? "" : "/") + last;
    return s;
  }

 private:
  Fd fail(const std::vector<std::string>& parts, const std::string& what, int err) {
    report_.diagnostics.push_back({0, Severity::Error, what + " in '" + join(parts, "") + "': " + std::strerror(err)});
    return Fd();
  }

  int root_;
  WriteReport& report_;
  std::unordered_map<std::string, uint64_t> next_suffix_;  // folder/name -> the next ~N to try
};

// The last step of a node's location ("cramfs@0x400000", "gzip"), used as its name on disk for non-members.
std::string last_step(const std::string& location) {
  size_t bang = location.rfind('!');
  return bang == std::string::npos ? location : location.substr(bang + 1);
}

}  // namespace

Result<WriteReport> write_tree(const Tree& tree, const std::string& out_dir, const WriteOptions& options) {
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) return make_error(0, out_dir + ": cannot create: " + ec.message());
  if (!fs::is_directory(out_dir, ec)) return make_error(0, out_dir + ": not a directory");
  if (!options.force && !fs::is_empty(out_dir, ec))
    return make_error(0, out_dir + ": not empty (use --force to write into it anyway)");
  Fd root(::open(out_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.ok()) return make_error(0, out_dir + ": " + std::strerror(errno));

  WriteReport report;
  report.paths.assign(tree.nodes.size(), "");
  SafeWriter w(root.get(), report);
  // Directory (as components) in which each node's children go.
  std::vector<std::vector<std::string>> child_dir(tree.nodes.size());
  for (const Node& n : tree.nodes) {
    if (!n.parent) continue;  // the input itself is not copied
    const Node& parent = tree.nodes[*n.parent];
    std::vector<std::string> dir = child_dir[parent.id];
    std::string name;
    if (n.role == NodeRole::Member) {
      bool changed = false;
      auto parts = sanitize_member_path(n.member_path, changed);
      if (changed)
        report.diagnostics.push_back({0, Severity::Warning, "unsafe member path '" + n.member_path + "' written as '" +
                                                                 SafeWriter::join(parts, "") + "' (" + n.location + ")"});
      if (parts.empty()) parts.push_back("_unnamed_");
      name = parts.back();
      parts.pop_back();
      dir.insert(dir.end(), parts.begin(), parts.end());
    } else {
      bool changed = false;
      auto parts = sanitize_member_path(last_step(n.location), changed);
      name = parts.empty() ? "_part_" : parts.back();
    }
    const bool container_dir = n.role == NodeRole::Carved && !n.children.empty();
    std::string written;
    if (n.kind == EntryKind::Directory || container_dir) {
      auto full = dir;
      full.push_back(name);
      written = w.make_dir(full);
      child_dir[n.id] = full;
    } else if (n.kind == EntryKind::Symlink) {
      written = w.make_symlink(dir, name, n.link_target);
    } else if (n.kind != EntryKind::File) {
      written = w.write_file(dir, name, ByteView(), 0644);  // device, fifo, socket: an empty placeholder
      if (!written.empty()) {
        ++report.placeholders;
        --report.files;
      }
    } else {
      written = w.write_file(dir, name, n.content, n.mode);
      if (!n.children.empty()) {
        auto full = dir;
        full.push_back(fit_name(written.empty() ? name : written.substr(written.rfind('/') + 1), ".extracted"));
        child_dir[n.id] = full;
      }
    }
    report.paths[n.id] = written;
  }

  // The manifest is written whole or not at all, and replaces the one of an earlier run (--force): the folder's
  // manifest.json always describes the last extraction into it.
  const std::string manifest = dump_json(tree_manifest(tree, &report)) + "\n";
  report.manifest_path = (fs::path(out_dir) / "manifest.json").string();
  if (auto written = write_file_atomically_at(root.get(), "manifest.json", manifest, report.manifest_path); !written)
    return written.error();
  return report;
}

nlohmann::json tree_manifest(const Tree& tree, const WriteReport* report) {
  auto diags_json = [](const std::vector<Diagnostic>& ds) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& d : ds) a.push_back({{"offset", d.offset}, {"severity", std::string(to_string(d.severity))}, {"message", d.message}});
    return a;
  };
  nlohmann::json nodes = nlohmann::json::array();
  for (const Node& n : tree.nodes) {
    char mode[16];
    std::snprintf(mode, sizeof mode, "%07o", n.mode);
    nlohmann::json j = {{"location", n.location},
                        {"role", std::string(to_string(n.role))},
                        {"kind", std::string(to_string(n.kind))},
                        {"format", n.format},
                        {"size", n.size},
                        {"mode", mode},
                        {"uid", n.uid},
                        {"gid", n.gid},
                        {"mtime", n.mtime},
                        {"sha256", n.sha256},
                        {"offset", n.offset},
                        {"recovered", n.recovered},
                        {"encrypted", n.encrypted},
                        {"complete", n.complete},
                        {"diagnostics", diags_json(n.diagnostics)}};
    // Names from the firmware: a name that is not UTF-8 also gets its exact bytes in "<field>_bytes" (hex).
    put_name(j, "location", n.location);
    if (!n.link_target.empty()) put_name(j, "link_target", n.link_target);
    if (n.kind == EntryKind::CharDevice || n.kind == EntryKind::BlockDevice)
      j["rdev"] = std::to_string(n.rdev_major) + ":" + std::to_string(n.rdev_minor);
    if (report) {
      if (report->paths[n.id].empty())
        j["path"] = nullptr;
      else
        put_name(j, "path", report->paths[n.id]);
    }
    nodes.push_back(std::move(j));
  }
  nlohmann::json diags = diags_json(tree.diagnostics);
  if (report)
    for (const auto& d : diags_json(report->diagnostics)) diags.push_back(d);
  nlohmann::json doc = {{"input", tree.root().location},
                        {"size", tree.root().size},
                        {"sha256", tree.root().sha256},
                        {"extracted_bytes", tree.extracted_bytes},
                        {"nodes", nodes},
                        {"diagnostics", diags}};
  put_name(doc, "input", tree.root().location);
  return doc;
}

}  // namespace fwcert
