#include "fwcert/extract/tree.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "fwcert/core/crypto_providers.hpp"
#include "fwcert/core/parallel.hpp"
#include "fwcert/extract/containers.hpp"
#include "fwcert/extract/folder.hpp"
#include "fwcert/extract/readers.hpp"
#include "fwcert/formats/aspeed.hpp"
#include "fwcert/formats/fit.hpp"
#include "fwcert/formats/megarac.hpp"
#include "fwcert/formats/uimage.hpp"

namespace fwcert {

std::string_view to_string(NodeRole r) {
  switch (r) {
    case NodeRole::Input: return "input";
    case NodeRole::Carved: return "carved";
    case NodeRole::Stream: return "stream";
    case NodeRole::Member: return "member";
  }
  return "member";
}

const Node* Tree::find(const std::string& location) const {
  for (const auto& n : nodes)
    if (n.location == location) return &n;
  return nullptr;
}

std::vector<const Node*> Tree::find_suffix(const std::string& suffix) const {
  std::vector<const Node*> out;
  for (const auto& n : nodes)
    if (n.location.size() >= suffix.size() && n.location.compare(n.location.size() - suffix.size(), suffix.size(), suffix) == 0)
      out.push_back(&n);
  return out;
}

std::string sha256_hex(ByteView data) {
  load_crypto_providers();  // never hash while another thread loads them (no SHA-256 for a moment)
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 || EVP_DigestFinal_ex(ctx.get(), md, &len) != 1)
    return {};
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

namespace {

std::string hex_upper(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llX", static_cast<unsigned long long>(v));
  return buf;
}

// The step name a hit type contributes to locations.
std::string step_name(const std::string& type) {
  if (type == "jar") return "zip";
  if (type.rfind("pem", 0) == 0) return "pem";
  if (type.rfind("der", 0) == 0) return "der";
  return type;
}

bool is_stream(const std::string& t) {
  return t == "gzip" || t == "bzip2" || t == "xz" || t == "lzma" || t == "zstd" || t == "lz4" || t == "lzo";
}
bool is_key_material(const std::string& t) {
  return t.rfind("pem", 0) == 0 || t.rfind("der", 0) == 0 || t == "pkcs12" || t == "jks" || t == "jceks";
}

class Builder {
 public:
  Builder(Tree& tree, const Walker& walker, const ExtractOptions& options)
      : t_(tree), walker_(walker), options_(options), budget_(options.limits, options.clock) {}

  void run(ByteView input, const std::string& name) {
    Node root;
    root.location = name;
    root.role = NodeRole::Input;
    root.content = ByteView(input.data(), input.size(), 0);
    root.size = input.size();
    if (options_.hash_nodes) root.sha256 = sha256_hex(root.content);
    t_.nodes.push_back(std::move(root));
    try {
      expand(0);
    } catch (const std::exception& ex) {  // out of memory past the readers' own catches: say what was not read
      t_.incomplete = true;
      t_.diagnostics.push_back({0, Severity::Error, std::string("extraction stopped: ") + ex.what()});
    }
    note_time();
    t_.extracted_bytes = budget_.used_bytes();
  }

  // The time limit, once reached, makes the whole result partial; said once for the tree.
  void note_time() {
    if (!budget_.deadline().hit() || t_.timed_out) return;
    t_.timed_out = true;
    t_.incomplete = true;
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "time limit of %g s reached (--max-seconds): what was found so far is reported, the result is partial",
                  budget_.deadline().limit());
    t_.diagnostics.push_back({0, Severity::Error, buf});
  }

  // A folder as one input: see extract_folder_tree.
  void run_folder(const std::string& dir, const std::string& name, uint64_t separate_from, FolderTreeInfo& info) {
    Node root;
    root.location = name;
    root.role = NodeRole::Input;
    root.format = "dir";
    root.kind = EntryKind::Directory;
    root.mode = 040755;
    t_.nodes.push_back(std::move(root));
    const ExtractedLayout layout = fwextract_layout(dir);
    // Reads one folder into a container node under the root; nullopt when it holds nothing and said nothing.
    auto read = [&](const std::string& folder, const std::string& format, const std::string& location,
                    FolderReadOptions o) -> std::optional<size_t> {
      StreamedWalks streamed;
      o.visit = cramfs_options(nullptr, 0, &streamed).visit;
      o.threads = threads();
      FolderReadResult fr = read_folder(folder, budget_, o);
      info.files += fr.files;
      info.bytes += fr.bytes;
      for (auto& s : fr.separate) info.separate.push_back(std::move(s));
      for (auto& u : fr.unreadable) info.unreadable.push_back(std::move(u));
      if (fr.result.entries.empty() && fr.result.diagnostics.empty()) return std::nullopt;
      auto walks = streamed.by_entry(fr.result.entries.size());
      const size_t box = add_part(0, NodeRole::Carved, format, location, ByteView(), nullptr, 0, 0);
      t_.nodes[box].kind = EntryKind::Directory;
      add_members(box, std::move(fr.result), &walks);
      return box;
    };
    std::vector<std::string> skip;
    if (layout.recognised) {
      skip.push_back(layout.manifest_name);
      for (const auto& c : layout.carve_folders) {
        skip.push_back(c.name);
        FolderReadOptions o;
        // Filesystems name their members from the root ("/etc/x"), archives as they stored them ("res/x").
        const ContainerFormat* f = find_container(c.format);
        o.absolute_paths = f && f->absolute_paths;
        o.skip_carve_folders = true;
        read((std::filesystem::path(dir) / c.name).string(), c.format, name + "!" + c.name, o);
      }
      // A region or stream of the input written as a file ("pem@0x7A120", "gzip"): a node named as in the image, whose
      // walk finds again what the image's node holds.
      for (const std::string& file : layout.carve_files) {
        skip.push_back(file);
        const std::string path = (std::filesystem::path(dir) / file).string();
        if (!budget_.take_entry()) continue;
        auto data = std::make_shared<Buffer>();
        std::string why;
        if (!read_regular_file(path, *data, why)) {
          info.unreadable.push_back(path + ": " + why);
          const size_t id = add_part(0, NodeRole::Carved, "file", name + "!" + file, ByteView(), nullptr, 0, 0);
          t_.nodes[id].diagnostics.push_back({0, Severity::Error, why});
          continue;
        }
        ++info.files;
        info.bytes += data->size();
        const ByteView content(data->data(), data->size());
        const size_t id = add_part(0, NodeRole::Carved, "file", name + "!" + file, content, data, 0, 0);
        if (!content.empty()) expand(id);
      }
    }
    FolderReadOptions o;
    o.skip_top = skip;
    o.skip_carve_folders = layout.inside;
    o.separate_from = layout.inside ? 0 : separate_from;  // fwextract's output is one firmware, whatever its sizes
    if (auto box = read(dir, "dir", name + "!dir", o)) {
      std::error_code ec;
      std::string abs = std::filesystem::absolute(dir, ec).lexically_normal().string();
      while (abs.size() > 1 && abs.back() == '/') abs.pop_back();
      t_.folders[*box] = abs;
    }
    t_.nodes[0].size = info.bytes;
    note_time();
    t_.extracted_bytes = budget_.used_bytes();
  }

 private:
  size_t add(Node n, size_t parent) {
    n.id = t_.nodes.size();
    n.parent = parent;
    if (options_.hash_nodes && n.kind == EntryKind::File && n.sha256.empty()) n.sha256 = sha256_hex(n.content);
    t_.nodes.push_back(std::move(n));
    t_.nodes[parent].children.push_back(t_.nodes.back().id);
    return t_.nodes.back().id;
  }

  void note_limit(const ExtractResult& r, const std::string& where) {
    if (r.failed) t_.incomplete = true;
    if (r.limited && !limit_noted_) {
      limit_noted_ = true;
      t_.diagnostics.push_back({0, Severity::Warning, "extraction limit reached in " + where + "; result is partial"});
    }
  }

  // A node for a region or decoded stream of the node `parent`.
  size_t add_part(size_t parent, NodeRole role, const std::string& fmt, const std::string& location, ByteView content,
                  std::shared_ptr<const void> owned, uint64_t offset, int depth) {
    Node n;
    n.role = role;
    n.format = fmt;
    n.location = location;
    n.content = content;
    n.owned = std::move(owned);
    n.size = content.size();
    n.offset = offset;
    n.depth = depth;
    return add(std::move(n), parent);
  }

  // The walks a streaming read (CramFS, squashfs, archive) makes of its files (by entry index), gathered from its
  // threads.
  struct StreamedWalks {
    std::mutex mutex;
    std::vector<std::pair<size_t, WalkResult>> walks;
    std::vector<std::optional<WalkResult>> by_entry(size_t entries) {
      std::vector<std::optional<WalkResult>> out(entries);
      for (auto& [k, w] : walks)
        if (k < entries) out[k] = std::move(w);
      walks.clear();
      return out;
    }
  };

  ExtractResult read_container(const std::string& type, ByteView region, Budget& budget,
                               const CramfsReadOptions& cramfs) const {
    ContainerReadOptions o;
    static_cast<CramfsReadOptions&>(o) = cramfs;
    o.include_deleted = options_.include_deleted;
    return find_container(type)->read(region, budget, o);
  }

  // Nodes at least this large have their containers read ahead while they are walked.
  static constexpr uint64_t kReadAheadNode = uint64_t{4} << 20;
  static constexpr uint64_t kReadAheadRegion = uint64_t{1} << 20;

  // Read-ahead of the containers a walk finds (a firmware image's filesystems), on other cores while the walk goes
  // on (it still has a kernel to inflate and CRCs to check): each job reads its container under a copy of the
  // budget and walks the files in it. The hits are then handled in order as always, and a job's result is taken
  // only when it reached no limit and all it used fits what the budget has left at that point: exactly when reading
  // the container there would give the same result. Otherwise (or when the region turns out to be inside something
  // handled before it) the result is dropped and the container is read in place. The tree is the same either way.
  class ReadAhead {
   public:
    struct Job {
      uint64_t offset = 0;
      std::string type;
      ByteView region;
      Budget budget;
      uint64_t bytes0 = 0, entries0 = 0;
      ExtractResult result;
      std::vector<std::optional<WalkResult>> walks;  // by entry index
      StreamedWalks streamed;
      bool crc_verified = false;
      bool ok = false;
      int state = 0;  // 0 queued, 1 running, 2 done (under mutex_)
    };

    ReadAhead(Builder& b, ByteView content, int depth, unsigned workers)
        : b_(b), content_(content), depth_(depth), workers_(workers) {}
    ~ReadAhead() {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        closing_ = true;
      }
      cv_.notify_all();
      pool_.clear();  // joins: running jobs finish, queued ones are dropped
    }
    ReadAhead(const ReadAhead&) = delete;
    ReadAhead& operator=(const ReadAhead&) = delete;

    // Called by the walk for each hit it keeps.
    void consider(const Hit& h) {
      if (h.confidence < Confidence::Medium || h.offset >= content_.size()) return;
      if (!find_container(h.type)) return;
      const uint64_t len = h.size ? std::min<uint64_t>(h.size, content_.size() - h.offset) : content_.size() - h.offset;
      // A container inside one already queued (a squashfs in a flash layout's partition) is read with its member.
      for (const auto& [b, e] : queued_)
        if (h.offset > b && h.offset < e) return;
      queued_.emplace_back(h.offset, h.offset + len);
      if (len < kReadAheadRegion) return;
      auto job = std::make_unique<Job>();
      job->offset = h.offset;
      job->type = h.type;
      job->crc_verified = b_.cramfs_options(&h).crc_verified;
      job->region = content_.clamp(h.offset, len);
      job->budget = b_.budget_;  // the walk does not touch the budget: this is its state when the hits are handled
      job->bytes0 = job->budget.used_bytes();
      job->entries0 = job->budget.used_entries();
      {
        std::lock_guard<std::mutex> lock(mutex_);
        jobs_.push_back(std::move(job));
      }
      if (pool_.size() < workers_) {
        try {
          pool_.emplace_back([this] { work(); });
        } catch (const std::system_error&) {
          workers_ = 0;  // no thread to be had: take() runs the jobs in place
        }
      }
      cv_.notify_one();
    }

    // The job for this hit, finished (run here if no worker has started it), when its result may be used.
    Job* take(const Hit& h) {
      Job* job = nullptr;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        for (auto& j : jobs_)
          if (j->offset == h.offset && j->type == h.type) job = j.get();
        if (!job) return nullptr;
        if (job->state == 0) {
          job->state = 1;
          lock.unlock();
          run(*job);
          lock.lock();
          job->state = 2;
        } else {
          cv_.wait(lock, [&] { return job->state == 2; });
        }
      }
      if (!job->ok || job->result.limited) return nullptr;
      if (!b_.budget_.take(job->budget.used_bytes() - job->bytes0, job->budget.used_entries() - job->entries0))
        return nullptr;
      return job;
    }

   private:
    void work() {
      for (;;) {
        Job* job = nullptr;
        {
          std::unique_lock<std::mutex> lock(mutex_);
          cv_.wait(lock, [&] {
            if (closing_) return true;
            for (auto& j : jobs_)
              if (j->state == 0) return true;
            return false;
          });
          if (closing_) return;
          for (auto& j : jobs_)
            if (j->state == 0) {
              job = j.get();
              break;
            }
          job->state = 1;
        }
        run(*job);
        {
          std::lock_guard<std::mutex> lock(mutex_);
          job->state = 2;
        }
        cv_.notify_all();
      }
    }

    void run(Job& j) {
      try {
        CramfsReadOptions one = b_.cramfs_options(nullptr, depth_, &j.streamed);
        one.threads = 1;  // this job is one of the parallel strands already
        one.crc_verified = j.crc_verified;
        j.result = b_.read_container(j.type, j.region, j.budget, one);
        j.walks = j.streamed.by_entry(j.result.entries.size());
        if (b_.walks_members(depth_)) {
          for (size_t k = 0; k < j.result.entries.size(); ++k) {
            const Entry& e = j.result.entries[k];
            const ByteView content = e.content();
            if (j.walks[k] || e.kind != EntryKind::File || content.empty() || e.encrypted) continue;
            j.walks[k] = b_.walk_member(content);
          }
        }
        j.ok = true;
      } catch (const std::exception&) {
        j.ok = false;  // read again in place, where the failure is reported
      }
    }

    Builder& b_;
    ByteView content_;
    int depth_;
    unsigned workers_;
    std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<std::unique_ptr<Job>> jobs_;
    std::vector<std::jthread> pool_;
    std::vector<std::pair<uint64_t, uint64_t>> queued_;  // regions of the containers considered (walk thread only)
    bool closing_ = false;
  };

  WalkOptions walk_options() const {
    WalkOptions o;
    o.keep_decoded = true;  // the gzip streams the walk inflates are the ones extracted next
    o.deadline = &budget_.deadline();
    return o;
  }
  // The walk of a member's content made ahead of its expansion (offsets relative to the content, as expand() uses).
  WalkResult walk_member(ByteView content) const {
    return walker_.walk(ByteView(content.data(), content.size(), 0), walk_options());
  }

  // The output the walk's validator already decoded for the stream `stream` (which starts where the hit does), as
  // read_stream would return it; nullopt when there is none or a limit says no (read_stream then decodes again and
  // reports the limit).
  std::optional<ExtractResult> reuse_decoded(const Hit* h, ByteView stream) {
    if (!h || !h->decoded_owner || h->size == 0 || h->size > stream.size()) return std::nullopt;
    if (h->decoded_size > budget_.allowance(stream.size())) return std::nullopt;
    if (!budget_.take_entry()) return std::nullopt;
    if (!budget_.take_bytes(h->decoded_size)) return std::nullopt;
    ExtractResult r;
    Entry e;
    e.kind = EntryKind::File;
    e.mode = 0100644;
    e.size = h->decoded_size;
    e.view = ByteView(h->decoded, static_cast<size_t>(h->decoded_size));
    e.keep = h->decoded_owner;
    reused_.insert(h->decoded);
    if (h->size < stream.size())
      e.diagnostics.push_back({stream.base() + h->size, Severity::Info,
                               std::to_string(stream.size() - h->size) + " bytes after the end of the stream ignored"});
    r.entries.push_back(std::move(e));
    return r;
  }

  unsigned threads() const {
    return options_.threads ? options_.threads : std::max(std::thread::hardware_concurrency(), 1u);
  }
  // Whether the members of a container at `depth` are walked (they are one level deeper).
  bool walks_members(int depth) const { return options_.recurse && depth + 1 <= options_.limits.max_depth; }

  // `walked`: the walk's hit for this CramFS, whose High confidence means its CRC-32 was checked and matched.
  // `streamed`, when given and the options ask for streaming (keep_content), receives the walks of the files of a
  // container at `depth`, made where each file is inflated; a file's content is kept only when its walk found
  // something or keep_content asks for it.
  CramfsReadOptions cramfs_options(const Hit* walked, int depth = 0, StreamedWalks* streamed = nullptr) const {
    CramfsReadOptions o;
    o.threads = threads();
    o.crc_verified = walked && walked->type == "cramfs" && walked->confidence == Confidence::High;
    if (streamed && options_.keep_content && !options_.hash_nodes) {
      const bool walk = walks_members(depth);
      o.visit = [this, streamed, walk](size_t k, const Entry& e, ByteView content) {
        if (content.empty() || e.encrypted) return false;
        bool keep = options_.keep_content(e.path, content.size());
        if (walk) {
          WalkResult w = walk_member(content);
          keep = keep || !w.hits.empty();
          std::lock_guard<std::mutex> lock(streamed->mutex);
          streamed->walks.emplace_back(k, std::move(w));
        }
        return keep;
      };
    }
    return o;
  }

  // Members of a container node; file members are walked again.
  // `walked`, when given, holds the walks of (some of) r.entries made ahead of time, by entry index.
  void add_members(size_t container, ExtractResult&& r, std::vector<std::optional<WalkResult>>* walked = nullptr) {
    const std::string loc = t_.nodes[container].location;
    const int depth = t_.nodes[container].depth + 1;
    note_limit(r, loc);
    for (auto& d : r.diagnostics) t_.nodes[container].diagnostics.push_back(d);
    if (r.recovered) t_.nodes[container].recovered = true;
    std::vector<size_t> to_expand;
    std::vector<std::optional<WalkResult>> walks;
    for (size_t k = 0; k < r.entries.size(); ++k) {
      Entry& e = r.entries[k];
      Node n;
      n.role = NodeRole::Member;
      n.format = t_.nodes[container].format;
      n.member_path = e.path;
      n.location = loc + ":" + e.path;
      n.kind = e.kind;
      n.mode = e.mode;
      n.uid = e.uid;
      n.gid = e.gid;
      n.mtime = e.mtime;
      n.rdev_major = e.rdev_major;
      n.rdev_minor = e.rdev_minor;
      n.link_target = e.link_target;
      n.content = e.content();
      n.owned = e.owner();
      n.size = n.content.size();
      if (e.unkept_size) {
        n.size = e.unkept_size;
        n.content_kept = false;
      }
      n.encrypted = e.encrypted;
      n.complete = e.complete;
      n.diagnostics = std::move(e.diagnostics);
      n.depth = depth;
      const bool walk = n.kind == EntryKind::File && n.size > 0 && !n.encrypted;
      size_t id = add(std::move(n), container);
      if (walk) {
        to_expand.push_back(id);
        walks.emplace_back(walked && k < walked->size() ? std::move((*walked)[k]) : std::nullopt);
      }
    }
    // Walking the members is read-only work: do it on every core, then look into them one by one.
    std::vector<size_t> pending;  // indices into to_expand still to walk
    uint64_t bytes = 0;
    for (size_t i = 0; i < to_expand.size(); ++i)
      if (!walks[i]) {
        pending.push_back(i);
        bytes += t_.nodes[to_expand[i]].size;
      }
    const unsigned cores = threads();
    if (cores > 1 && pending.size() > 1 && bytes > (1u << 20) && depth <= options_.limits.max_depth) {
      std::atomic<size_t> next{0};
      auto worker = [&] {
        for (size_t i = next++; i < pending.size(); i = next++) {
          walks[pending[i]] = walk_member(t_.nodes[to_expand[pending[i]]].content);
        }
      };
      run_on_threads(cores, worker);
    }
    for (size_t i = 0; i < to_expand.size(); ++i) expand(to_expand[i], std::move(walks[i]));
  }

  // Walks the node (unless `walked` already holds its walk) and extracts what the walk finds.
  void expand(size_t id, std::optional<WalkResult> walked = std::nullopt) {
    if (t_.nodes[id].depth > options_.limits.max_depth) {
      t_.nodes[id].diagnostics.push_back(
          {0, Severity::Warning, "not looked into: depth limit " + std::to_string(options_.limits.max_depth) + " reached"});
      return;
    }
    if (id != 0 && !options_.recurse && t_.nodes[id].role == NodeRole::Member) return;
    // The time limit, asked once per node: past it a node is not looked into, but what a walk already found in it (a
    // streaming read walks each file as it reads it) is still carved below, so that it is reported.
    if (budget_.out_of_time() && !walked) return;
    // Hits, locations and consumed ranges are all relative to this node's own content.
    const ByteView c(t_.nodes[id].content.data(), t_.nodes[id].content.size(), 0);
    // A large node's containers are read ahead on other cores while its walk goes on.
    std::optional<ReadAhead> ahead;
    WalkOptions wo = walk_options();
    if (!walked && threads() > 1 && c.size() >= kReadAheadNode) {
      ahead.emplace(*this, c, t_.nodes[id].depth, std::min(threads(), 8u) - 1);
      wo.on_hit = [&](const Hit& h) { ahead->consider(h); };
    }
    WalkResult wr = walked ? std::move(*walked) : walker_.walk(c, wo);
    t_.nodes[id].expanded = true;
    for (auto& d : wr.diagnostics) t_.nodes[id].diagnostics.push_back(d);
    t_.nodes[id].hits = wr.hits;

    std::vector<std::pair<uint64_t, uint64_t>> consumed;  // [begin, end) handled by a container reader
    // [begin, end) of structures that claim more bytes than the node holds (cut images): their extent is not proven,
    // so key material found inside is still carved (a certificate appended to a cut image is reported; at worst a
    // certificate the reader also found gets a second location). Other structures there are not read twice.
    std::vector<std::pair<uint64_t, uint64_t>> truncated;
    auto is_consumed = [&](const Hit& h) {
      const auto in = [&](auto& r) { return h.offset >= r.first && h.offset < r.second; };
      if (std::any_of(consumed.begin(), consumed.end(), in)) return true;
      return !is_key_material(h.type) && std::any_of(truncated.begin(), truncated.end(), in);
    };
    const auto consume = [&](const Hit& h, std::pair<uint64_t, uint64_t> range) {
      if (h.open_ended || h.size > c.size() - h.offset || range.second > c.size()) {
        truncated.push_back(range);
        consumed.emplace_back(range.first, range.first + 1);
      } else {
        consumed.push_back(range);
      }
    };
    for (const Hit& h : wr.hits) {
      if (is_consumed(h)) continue;
      if (!is_key_material(h.type) && budget_.out_of_time()) continue;  // asked once per hit: only carving is left
      const uint64_t len = h.size ? std::min<uint64_t>(h.size, c.size() - h.offset) : c.size() - h.offset;
      const ByteView region = c.clamp(h.offset, len);
      const bool whole = h.offset == 0 && len == c.size();
      const std::string base_loc = t_.nodes[id].location + "!" + step_name(h.type);
      const std::string loc = whole ? base_loc : base_loc + "@" + hex_upper(h.offset);
      const int depth = t_.nodes[id].depth;
      if (find_container(h.type)) {
        ReadAhead::Job* job = ahead ? ahead->take(h) : nullptr;
        StreamedWalks streamed;
        ExtractResult r = job ? std::move(job->result)
                              : read_container(h.type, region, budget_, cramfs_options(&h, depth, &streamed));
        std::vector<std::optional<WalkResult>> walks =
            job ? std::move(job->walks) : streamed.by_entry(r.entries.size());
        size_t box = add_part(id, NodeRole::Carved, step_name(h.type), loc, region, nullptr, h.offset, depth);
        add_members(box, std::move(r), &walks);
        consume(h, {h.offset, h.offset + len});
      } else if (is_stream(h.type)) {
        auto reused = reuse_decoded(&h, region);
        ExtractResult r = reused ? std::move(*reused) : read_stream(region, h.type, budget_);
        consume(h, {h.offset, h.offset + std::max<uint64_t>(h.size, 1)});
        add_stream(id, h.type, loc, h.offset, depth, std::move(r));
      } else if (h.type == "uimage") {
        consume(h, expand_uimage(id, h, region, loc, depth, wr.hits));
      } else if (h.type == "fit") {
        expand_fit(id, h, region, loc, depth);
        consumed.emplace_back(h.offset, h.offset + len);
      } else if (is_key_material(h.type)) {
        add_part(id, NodeRole::Carved, h.type, loc, region, nullptr, h.offset, depth);
        consumed.emplace_back(h.offset, h.offset + len);
      }
    }
    if (!budget_.deadline().hit()) recover_damaged_cramfs(id, wr.hits, consumed);
    // Decoded output nobody took (a stream inside something read another way) is not kept for the tree's lifetime.
    for (Hit& x : t_.nodes[id].hits)
      if (x.decoded_owner && !reused_.count(x.decoded)) {
        x.decoded_owner.reset();
        x.decoded = nullptr;
        x.decoded_size = 0;
      }
  }

  // CramFS images whose superblock is damaged are invisible to the walk (ossobv/vcutil#68). Where something says a
  // filesystem must be (an [img] index record, a MegaRAC module header, or the user's --cramfs-at), try to rebuild its
  // tree from the root directory that follows the superblock.
  void recover_damaged_cramfs(size_t id, const std::vector<Hit>& hits,
                              std::vector<std::pair<uint64_t, uint64_t>>& consumed) {
    const ByteView c(t_.nodes[id].content.data(), t_.nodes[id].content.size(), 0);
    std::vector<std::pair<uint64_t, uint64_t>> candidates;  // offset, length (0 = to the end)
    const size_t asked = id == 0 ? options_.cramfs_at.size() : 0;  // the first `asked` candidates are the user's
    if (id == 0)
      for (uint64_t off : options_.cramfs_at) candidates.emplace_back(off, 0);
    // Index records that hold filesystems: images 2 and 4 (root_fs and web_fs, as ipmi_firmware_tools numbers
    // them; FORMATS.md 4.1) and any whose name says "fs". The boot loader and the kernel are not searched for a
    // CramFS root directory (that search costs milliseconds over a 192 KiB boot loader).
    for (const Hit& h : hits) {
      if (h.type != "aspeed-index") continue;
      const auto records = aspeed::index_records(c, h.offset);
      for (size_t i = 0; i < records.size(); ++i)
        if (i == 1 || i == 3 || records[i].name.find("fs") != std::string::npos)
          candidates.emplace_back(records[i].base, records[i].length);
    }
    // A MegaRAC module whose header says CramFS (the member is walked on its own, so its parent holds the table).
    if (t_.nodes[id].role == NodeRole::Member && t_.nodes[id].parent) {
      const Node& parent = t_.nodes[*t_.nodes[id].parent];
      if (parent.format == "megarac" && megarac::holds_cramfs(parent.content, t_.nodes[id].member_path))
        candidates.emplace_back(0, 0);
    }
    // Plain variables, not a structured binding: the lambdas below capture `off`, which clang before 16 refuses.
    for (size_t k = 0; k < candidates.size(); ++k) {
      const uint64_t off = candidates[k].first, length = candidates[k].second;
      // What the user asked for is answered: a diagnostic when it cannot be read there.
      auto refuse = [&](const std::string& why) {
        if (k < asked)
          t_.nodes[id].diagnostics.push_back({off, Severity::Error, "--cramfs-at " + hex_upper(off) + ": " + why});
      };
      if (off >= c.size()) {
        refuse("past the end of the input (" + std::to_string(c.size()) + " bytes)");
        continue;
      }
      const bool known = std::any_of(hits.begin(), hits.end(), [&](const Hit& h) { return h.offset == off; });
      const bool inside = std::any_of(consumed.begin(), consumed.end(),
                                      [&](auto& r) { return off >= r.first && off < r.second; });
      if (inside || (known && length != 0)) continue;
      const ByteView region = length ? c.clamp(off, length) : c.tail(off);
      ExtractResult r = read_cramfs(region, budget_, cramfs_options(nullptr));
      if (r.entries.empty()) r = recover_cramfs(region, budget_, cramfs_options(nullptr));
      if (r.entries.empty()) {
        std::string why = "no CramFS there";
        for (const auto& d : r.diagnostics)
          if (d.severity == Severity::Error) why = d.message;
        refuse(why);
        continue;
      }
      const std::string loc = t_.nodes[id].location + "!cramfs@" + hex_upper(off);
      size_t box = add_part(id, NodeRole::Carved, "cramfs", loc, region, nullptr, off, t_.nodes[id].depth);
      add_members(box, std::move(r));
      consumed.emplace_back(off, off + region.size());
    }
  }

  void add_stream(size_t parent, const std::string& fmt, const std::string& loc, uint64_t offset, int depth,
                  ExtractResult&& r) {
    note_limit(r, loc);
    if (r.entries.empty()) {
      for (auto& d : r.diagnostics) t_.nodes[parent].diagnostics.push_back(d);
      return;
    }
    Entry& e = r.entries.front();
    size_t s = add_part(parent, NodeRole::Stream, fmt, loc, e.content(), e.owner(), offset, depth + 1);
    t_.nodes[s].complete = e.complete;
    for (auto& d : e.diagnostics) t_.nodes[s].diagnostics.push_back(d);
    for (auto& d : r.diagnostics) t_.nodes[s].diagnostics.push_back(d);
    if (t_.nodes[s].size > 0) expand(s);
  }

  // Returns the range of the parent the uImage reader handled.
  std::pair<uint64_t, uint64_t> expand_uimage(size_t id, const Hit& h, ByteView region, const std::string& loc, int depth,
                                               const std::vector<Hit>& hits) {
    size_t box = add_part(id, NodeRole::Carved, "uimage", loc, region, nullptr, h.offset, depth);
    auto hdr = uimage::read_header(region, 0);
    if (!hdr) return {h.offset, h.offset + 1};
    const ByteView payload = region.clamp(uimage::kHeaderSize, hdr->size);
    const std::string comp(uimage::comp_name(hdr->comp));
    const uint64_t end = h.offset + uimage::kHeaderSize + payload.size();
    // A file that is a uImage may carry bytes after the payload (FACT's uboot.image_with_header): keep them as a node
    // of their own. The parent's walk still carves any structure found there.
    if (h.offset == 0 && end < t_.nodes[id].content.size()) {
      ByteView rest = t_.nodes[id].content.tail(end);
      size_t tr = add_part(id, NodeRole::Carved, "trailing", t_.nodes[id].location + "!trailing@" + hex_upper(end), rest,
                           nullptr, end, depth);
      t_.nodes[tr].diagnostics.push_back({end, Severity::Info, std::to_string(rest.size()) + " bytes after the uImage"});
    }
    if (hdr->type == uimage::kTypeMulti) {
      auto sizes = uimage::multi_part_sizes(payload);
      uint64_t off = 4 * (sizes.size() + 1);
      ExtractResult parts;
      for (size_t i = 0; i < sizes.size(); ++i) {
        Entry e;
        e.path = "part-" + std::to_string(i);
        e.view = payload.clamp(off, sizes[i]);
        if (e.view.size() < sizes[i]) {
          e.complete = false;
          e.diagnostics.push_back({payload.base() + off, Severity::Warning, "part truncated"});
        }
        e.size = e.view.size();
        parts.entries.push_back(std::move(e));
        off += (uint64_t{sizes[i]} + 3) / 4 * 4;
      }
      add_members(box, std::move(parts));
      return {h.offset, end};
    }
    // Trust the content over the header: U-Boot checks the magic too, and cameras ship "gzip" over raw CramFS.
    static const std::pair<const char*, std::string_view> kMagic[] = {
        {"gzip", "\x1f\x8b"}, {"bzip2", "BZh"}, {"lzma", std::string_view("\x5d\x00", 2)}, {"xz", "\xfd" "7zXZ"},
        {"zstd", "\x28\xb5\x2f\xfd"}, {"lz4", "\x04\x22\x4d\x18"}, {"lzo", "\x89LZO"}};
    for (const auto& [name, magic] : kMagic) {
      if (comp != name || !payload.matches(0, magic)) continue;
      const uint64_t at = h.offset + uimage::kHeaderSize;
      auto walked = std::find_if(hits.begin(), hits.end(), [&](const Hit& x) { return x.offset == at && x.type == comp; });
      auto reused = reuse_decoded(walked == hits.end() ? nullptr : &*walked, payload);
      ExtractResult r = reused ? std::move(*reused) : read_stream(payload, comp, budget_);
      add_stream(box, comp, loc + "!" + comp, uimage::kHeaderSize, depth, std::move(r));
      return {h.offset, end};
    }
    // Uncompressed (or mislabelled) payload: let the parent's walk carve what is inside it.
    return {h.offset, h.offset + uimage::kHeaderSize};
  }

  void expand_fit(size_t id, const Hit& h, ByteView region, const std::string& loc, int depth) {
    size_t box = add_part(id, NodeRole::Carved, "fit", loc, region, nullptr, h.offset, depth);
    auto images = fit::list_images(region);
    if (!images) {
      t_.nodes[box].diagnostics.push_back({images.error().offset, Severity::Warning, images.error().message});
      return;
    }
    ExtractResult plain;
    for (const fit::Image& im : *images) {
      if (!im.data) {
        t_.nodes[box].diagnostics.push_back(
            {0, Severity::Warning, "image " + im.unit + ": data lies outside the input"});
        continue;
      }
      if (is_stream(im.compression)) {
        ExtractResult r = read_stream(*im.data, im.compression, budget_);
        if (!r.entries.empty()) r.entries.front().path = im.unit;
        add_members(box, std::move(r));
      } else {
        Entry e;
        e.path = im.unit;
        e.view = *im.data;
        e.size = im.data->size();
        plain.entries.push_back(std::move(e));
      }
    }
    add_members(box, std::move(plain));
  }

  Tree& t_;
  const Walker& walker_;
  ExtractOptions options_;
  Budget budget_;
  std::set<const uint8_t*> reused_;  // decoded outputs of walk hits that became stream nodes
  bool limit_noted_ = false;
};

}  // namespace

Tree extract_tree(ByteView input, const std::string& name, const Walker& walker, const ExtractOptions& options) {
  Tree t;
  Builder(t, walker, options).run(input, name);
  return t;
}

Tree extract_folder_tree(const std::string& dir, const std::string& name, const Walker& walker,
                         const ExtractOptions& options, uint64_t separate_from, FolderTreeInfo& info) {
  Tree t;
  Builder(t, walker, options).run_folder(dir, name, separate_from, info);
  return t;
}

}  // namespace fwcert
