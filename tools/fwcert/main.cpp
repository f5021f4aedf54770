// fwcert: which TLS certificates and private keys a firmware image carries, and when each stops working.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>
#include <cstdlib>
#include <deque>
#include <optional>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <set>
#include <sstream>
#include <sys/stat.h>

#include "cli.hpp"
#include "fwcert/catalog/catalog.hpp"
#include "fwcert/certs/clock.hpp"
#include "fwcert/certs/scan.hpp"
#include "fwcert/certs/x509.hpp"
#include "fwcert/core/mapped_file.hpp"
#include "fwcert/core/version.hpp"
#include "fwcert/live/check.hpp"
#include "fwcert/extract/folder.hpp"
#include "fwcert/report/calendar.hpp"
#include "fwcert/report/catalog_report.hpp"
#include "fwcert/report/clock_report.hpp"
#include "fwcert/report/html_report.hpp"
#include "fwcert/report/metrics.hpp"
#include "fwcert/report/scan_report.hpp"
#include "fwcert/report/text.hpp"
#include "fwcert/scan/walker.hpp"

namespace fs = std::filesystem;

namespace {

// Files to scan for one PATH argument: the file itself, or every regular file below a directory (sorted, symlinks
// not followed).
std::vector<std::string> expand_path(const std::string& path, std::vector<std::string>& errors) {
  std::vector<std::string> out;
  if (path == fwcert::MappedFile::kStdin) return {path};  // standard input, read by MappedFile::open_input
  std::error_code ec;
  auto st = fs::status(path, ec);
  if (ec || !fs::exists(st)) {
    errors.push_back(path + ": no such file or directory");
    return out;
  }
  if (!fs::is_directory(st)) {
    out.push_back(path);
    return out;
  }
  for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) out.push_back(it->path().string());
  }
  if (ec) errors.push_back(path + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

// Says on stderr what matched, so that an exit 1 in CI names its reason.
bool fails(const fwcert::ScanReport& r, const std::set<std::string>& fail_on) {
  const auto matched = fwcert::fail_on_matches(r, fail_on);
  if (matched.empty()) return false;
  std::string line;
  for (const auto& m : matched) line += (line.empty() ? "" : ", ") + m;
  std::cerr << "fwcert scan: --fail-on matched in " << fwcert::display(r.input) << ": " << line << "\n";
  return true;
}

std::string seconds_text(double s) {
  std::ostringstream o;
  o << s;
  return o.str();
}

int run_scan(const std::vector<std::string>& paths, const std::string& now_text, int warn_days, const std::string& format,
             const std::string& fail_on_text, const std::string& sig_path_opt, const std::vector<std::string>& passwords,
             const char* argv0, bool wide, const std::vector<std::string>& compromised_files,
             bool each, const std::vector<uint64_t>& cramfs_at,
             bool include_deleted, const fwcert::ExtractLimits& limits) {
  fwcert::ScanOptions opts;
  opts.extract.limits = limits;
  opts.extract.include_deleted = include_deleted;
  opts.warn_days = warn_days;
  opts.extract.cramfs_at = cramfs_at;
  opts.pkcs12_passwords = passwords;
  if (now_text.empty()) {
    opts.now = static_cast<int64_t>(std::time(nullptr));
  } else {
    auto t = fwcert::parse_user_time(now_text);
    if (!t) {
      std::cerr << "fwcert scan: --now '" << now_text
                << "' is not a time (use 2026-05-17, 2026-05-17T09:46:36Z or @<unix seconds>)\n";
      return 2;
    }
    opts.now = *t;
  }
  std::set<std::string> fail_on;
  {
    std::stringstream ss(fail_on_text);
    std::string item;
    static const std::set<std::string> kKnown = {"expired", "not-yet-valid", "expiring",   "invalid-date",
                                                 "private-key", "weak",          "compromised"};
    while (std::getline(ss, item, ',')) {
      if (item.empty()) continue;
      if (!kKnown.count(item)) {
        std::cerr << "fwcert scan: --fail-on: unknown condition '" << item
                  << "' (use expired, not-yet-valid, expiring, invalid-date, private-key, weak, compromised)\n";
        return 2;
      }
      fail_on.insert(item);
    }
  }
  std::string sig_path = sig_path_opt.empty() ? fwcert::default_signature_path(argv0) : sig_path_opt;
  auto walker = fwcert::make_default_walker(sig_path);
  if (!walker) {
    std::cerr << "fwcert scan: " << walker.error().message << "\n";
    return 2;
  }
  auto compromised = fwcert::load_compromised_keys(argv0, compromised_files);
  if (!compromised) return std::cerr << "fwcert scan: " << compromised.error().message << "\n", 2;
  opts.compromised_keys = &*compromised;

  // A folder is one input (scan_folder) unless --each makes each file below it an input of its own. Inputs are
  // scanned in the order given.
  struct Input {
    std::string path;
    bool folder = false;
  };
  std::vector<std::string> errors;
  std::vector<fwcert::UnreadableInput> unreadable;  // for SARIF's tool execution notifications and the metrics
  std::vector<Input> inputs;
  for (const auto& p : paths) {
    const size_t before = errors.size();
    std::error_code ec;
    if (!fs::is_directory(p, ec)) {
      for (auto& f : expand_path(p, errors)) inputs.push_back({std::move(f)});
    } else if (!each) {
      inputs.push_back({p, true});
    } else {
      auto listed = fwcert::list_folder_files(p, errors);
      if (listed.empty() && errors.size() == before) errors.push_back(p + ": empty folder: no file to scan");
      for (auto& f : listed) inputs.push_back({std::move(f)});
    }
    for (size_t e = before; e < errors.size(); ++e) unreadable.push_back({p, errors[e]});
  }
  const bool progress = isatty(STDERR_FILENO) && inputs.size() > 1;
  std::vector<fwcert::ScanReport> reports;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string& path = inputs[i].path;
    if (progress) std::cerr << "\r[" << i + 1 << "/" << inputs.size() << "] " << path << "\033[K" << std::flush;
    if (inputs[i].folder) {
      fwcert::FolderScan folder = fwcert::scan_folder(path, **walker, opts);
      for (auto& r : folder.reports) reports.push_back(std::move(r));
      for (auto& u : folder.unreadable) {
        unreadable.push_back({path, u});
        errors.push_back(std::move(u));
      }
      if (folder.empty && folder.unreadable.empty()) {
        errors.push_back(path + ": empty folder: no file to scan");
        unreadable.push_back({path, errors.back()});
      }
      continue;
    }
    auto mf = fwcert::MappedFile::open_input(path);
    if (!mf) {
      errors.push_back(mf.error().message);
      unreadable.push_back({path, mf.error().message});
      continue;
    }
    reports.push_back(fwcert::scan_file(*mf, path, **walker, opts));
  }
  if (progress) std::cerr << "\r\033[K";
  for (const auto& r : reports) {  // a partial result is an unreadable input: never "nothing found"
    if (!r.incomplete) continue;
    if (r.timed_out)
      errors.push_back(r.input + ": time limit of " + seconds_text(limits.max_seconds) +
                       " s reached (--max-seconds): what was found so far is reported, the result is partial");
    else
      errors.push_back(r.input + ": not read to the end (see its problems); the result is partial");
    unreadable.push_back({r.input, errors.back()});
  }

  if (format == "json") {
    std::cout << fwcert::dump_json(fwcert::scan_to_json(reports)) << "\n";
  } else if (format == "sarif") {
    std::cout << fwcert::dump_json(fwcert::scan_to_sarif(reports, unreadable)) << "\n";
  } else if (format == "csv") {
    fwcert::write_scan_csv(std::cout, reports);
  } else if (format == "prometheus") {
    std::cout << fwcert::scan_to_prometheus(reports, unreadable);
  } else {
    const char* no_color = std::getenv("NO_COLOR");
    const bool color = isatty(STDOUT_FILENO) && !(no_color && *no_color);
    fwcert::write_scan_table(std::cout, reports, {color, wide ? 0 : fwcert::table_columns(STDOUT_FILENO)});
  }
  for (const auto& e : errors) std::cerr << "fwcert scan: " << fwcert::display(e) << "\n";
  if (!errors.empty()) return 2;
  bool failed = false;
  for (const auto& r : reports) failed = fails(r, fail_on) || failed;  // every input's matches are named
  return failed ? 1 : 0;
}


// ---------------------------------------------------------------------------------------------------------------
// catalog and calendar

// $FWCERT_DB, else $XDG_DATA_HOME/fwcert/catalog.sqlite, else ~/.local/share/fwcert/catalog.sqlite.
std::string default_db_path() {
  if (const char* e = std::getenv("FWCERT_DB"); e && *e) return e;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return std::string(x) + "/fwcert/catalog.sqlite";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.local/share/fwcert/catalog.sqlite";
  return "fwcert-catalog.sqlite";
}

std::unique_ptr<fwcert::Catalog> open_catalog(const std::string& db, const char* who) {
  std::error_code ec;
  fs::path parent = fs::path(db).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  auto c = fwcert::Catalog::open(db);
  if (!c) {
    const std::string& m = c.error().message;
    std::cerr << who << ": " << (m.rfind(db + ":", 0) == 0 ? "" : db + ": ") << m << "\n";
    return nullptr;
  }
  return std::move(*c);
}

// For the commands that only read: a missing, foreign or unreadable catalog is an error, never a new one.
std::unique_ptr<fwcert::Catalog> open_existing_catalog(const std::string& db, const char* who) {
  auto c = fwcert::Catalog::open_read_only(db);
  if (!c) {
    std::cerr << who << ": " << c.error().message << "\n";
    return nullptr;
  }
  return std::move(*c);
}

std::optional<int64_t> clock_from(const std::string& text, const char* who) {
  if (text.empty()) return static_cast<int64_t>(std::time(nullptr));
  auto t = fwcert::parse_user_time(text);
  if (!t) std::cerr << who << ": '" << text << "' is not a time (use 2026-05-17, 2026-05-17T09:46:36Z or @<unix>)\n";
  return t;
}


struct AddOptions {
  std::string db, manifest, shard, now_text;
  int jobs = 0, warn_days = 90;
  bool rescan = false;
  std::vector<uint64_t> cramfs_at;  // --cramfs-at: read as CramFS in every image, superblock or not
  bool include_deleted = false;  // JFFS2: deleted files and older contents too
  fwcert::ExtractLimits limits;
};

// Write-ahead log pages after which the catalog is checkpointed in the background (an image's record writes about 35).
constexpr int kCheckpointFrames = 128;

int catalog_add(const std::vector<std::string>& paths, const AddOptions& a, const char* argv0) {
  const char* who = "fwcert catalog add";
  auto now = clock_from(a.now_text, who);
  if (!now) return 2;
  int shard_k = 1, shard_n = 1;
  if (!a.shard.empty() && (std::sscanf(a.shard.c_str(), "%d/%d", &shard_k, &shard_n) != 2 || shard_n < 1 ||
                           shard_k < 1 || shard_k > shard_n)) {
    std::cerr << who << ": --shard takes K/N with 1 <= K <= N, e.g. 2/8\n";
    return 2;
  }
  std::map<std::string, fwcert::ImageMeta> manifest;
  if (!a.manifest.empty()) {
    auto mf = fwcert::MappedFile::open(a.manifest);
    if (!mf) {
      std::cerr << who << ": " << mf.error().message << "\n";
      return 2;
    }
    auto m = fwcert::read_manifest_csv(mf->view().as_string_view());
    if (!m) {
      std::cerr << who << ": " << a.manifest << ": " << m.error().message << "\n";
      return 2;
    }
    manifest = std::move(*m);
  }
  auto walker = fwcert::make_default_walker(fwcert::default_signature_path(argv0));
  if (!walker) {
    std::cerr << who << ": " << walker.error().message << "\n";
    return 2;
  }
  // A catalog that does not exist yet records no image, so the scans need not wait for it to be created (the schema
  // and the switch to WAL cost a few milliseconds of syncs): it is created on another thread, and only the first
  // record waits for it. An existing one is opened first: its records decide what is scanned.
  std::error_code exists_ec;
  const bool fresh = !fs::exists(a.db, exists_ec) && !exists_ec;
  auto opening = std::async(std::launch::async, [&] {
    auto c = open_catalog(a.db, who);
    // The log is copied into the database on a thread of the catalog's own every few images, while the scans go on:
    // it stays short, and the close at the end has little left to copy and sync.
    if (c) c->checkpoint_in_background(kCheckpointFrames);
    return c;
  });
  std::unique_ptr<fwcert::Catalog> catalog;
  auto get_catalog = [&]() -> fwcert::Catalog* {  // under db_mu once workers run; nullptr: it could not be opened
    if (opening.valid()) catalog = opening.get();
    return catalog.get();
  };
  if (!fresh && !get_catalog()) return 2;

  std::vector<std::string> errors, files;
  for (const auto& p : paths)
    for (auto& f : expand_path(p, errors))
      if (fwcert::in_shard(f, shard_k, shard_n)) files.push_back(std::move(f));

  // First, without reading any image: its metadata, and whether the catalog has it with the same size and mtime
  // (unchanged: not read again). An unchanged re-run ends here.
  struct Todo {
    std::string path;
    fwcert::ImageMeta meta;
    std::optional<fwcert::ImageRow> known;
    uint64_t work = 0;
  };
  std::vector<Todo> todo;
  size_t unchanged = 0;
  std::set<std::string> keys;
  for (const std::string& f : files) {
    struct stat st {};
    if (::stat(f.c_str(), &st) != 0) {
      errors.push_back(f + ": cannot stat");
      continue;
    }
    Todo t{f, fwcert::derive_meta_from_name(fs::path(f).filename().string()), std::nullopt};
    const std::string key = fwcert::normalize_image_path(f);  // one image however its path is spelled
    if (!keys.insert(key).second) continue;                   // and given twice, scanned once
    if (auto it = manifest.find(f); it != manifest.end()) t.meta = it->second;
    else if (it = manifest.find(key); it != manifest.end()) t.meta = it->second;
    t.meta.path = key;
    t.meta.size = static_cast<uint64_t>(st.st_size);
    t.meta.mtime = static_cast<int64_t>(st.st_mtime);
    if (!fresh) t.known = catalog->find_or_adopt_image(key, f);
    if (t.known && !a.rescan && t.known->meta.size == t.meta.size && t.known->meta.mtime == t.meta.mtime) {
      ++unchanged;
      continue;
    }
    todo.push_back(std::move(t));
  }
  // Largest work first (a vendor zip counts what it holds, not what it weighs): with one image per worker, that
  // keeps every core busy to the end. Only zips are mapped for this.
  for (Todo& t : todo) t.work = fwcert::estimated_file_scan_bytes(t.path, t.meta.size);
  std::stable_sort(todo.begin(), todo.end(), [](const Todo& x, const Todo& y) { return x.work > y.work; });

  // Workers scan images in parallel; recording is done by whichever worker holds `db_mu`. A worker that finishes a
  // scan while another records queues its report and goes on to its next image instead of waiting: the recorder
  // takes the queue too.
  struct Scanned {
    size_t index;  // in todo
    fwcert::ScanReport report;
  };
  std::mutex mu;     // guards pending, errors, the counters and the progress line
  std::mutex db_mu;  // guards the catalog connection (and its creation): held by the one worker recording
  std::deque<Scanned> pending;
  std::atomic<size_t> next{0};
  size_t finished = 0, scanned = 0;  // of todo
  const bool tty = isatty(STDERR_FILENO);
  auto progress = [&](const std::string& current) {  // under mu
    if (!tty) return;
    const size_t done = files.size() - todo.size() + finished;
    const size_t width = 30, filled = files.empty() ? width : done * width / files.size();
    std::cerr << "\r[" << std::string(filled, '#') << std::string(width - filled, '.') << "] " << done << "/"
              << files.size() << "  " << current.substr(current.size() > 50 ? current.size() - 50 : 0) << "\033[K"
              << std::flush;
  };
  auto record_pending = [&] {
    for (;;) {
      std::unique_lock db(db_mu, std::try_to_lock);
      if (!db) return;  // another worker records, ours included
      for (;;) {
        std::optional<Scanned> item;
        {
          std::lock_guard lk(mu);
          if (pending.empty()) break;
          item = std::move(pending.front());
          pending.pop_front();
        }
        const Todo& t = todo[item->index];
        fwcert::Catalog* c = get_catalog();
        std::optional<std::string> error;
        if (!c) {
          next = todo.size();  // it could not be created (the message is out): nothing can be recorded, stop
        } else if (auto rec = c->record(t.meta, item->report); !rec) {
          error = t.path + ": " + rec.error().message;
        }
        std::lock_guard lk(mu);
        if (error) errors.push_back(std::move(*error));
        else if (c) ++scanned;
        ++finished;
        progress(t.path);
      }
      db.unlock();
      std::lock_guard lk(mu);
      if (pending.empty()) return;  // else: queued after our last look, by a worker that found db_mu taken
    }
  };
  const int jobs = a.jobs > 0 ? a.jobs : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto compromised = fwcert::load_compromised_keys(argv0, {});
  if (!compromised) return std::cerr << who << ": " << compromised.error().message << "\n", 2;
  fwcert::ScanOptions so;
  so.compromised_keys = &*compromised;
  so.now = *now;
  so.warn_days = a.warn_days;
  so.extract.limits = a.limits;
  so.extract.threads = 1;  // one image per core scales better than splitting each image over the cores
  so.extract.cramfs_at = a.cramfs_at;
  so.extract.include_deleted = a.include_deleted;
  auto worker = [&] {
    for (size_t i = next++; i < todo.size(); i = next++) {
      const Todo& t = todo[i];
      const std::string& f = t.path;
      auto mf = fwcert::MappedFile::open(f, /*prefault=*/false);  // --jobs N means N threads in all
      if (!mf) {
        std::lock_guard lk(mu);
        errors.push_back(mf.error().message);
        ++finished;
        continue;
      }
      // Same size, new mtime: the same content (sha256) is not scanned again.
      if (t.known && !a.rescan && t.known->meta.size == t.meta.size &&
          t.known->meta.sha256 == fwcert::sha256_hex(mf->view())) {
        std::lock_guard lk(mu);
        ++unchanged;
        ++finished;
        progress(f);
        continue;
      }
      Scanned done{i, fwcert::scan_file(*mf, f, **walker, so)};
      mf = fwcert::MappedFile();  // unmapped before the next image is mapped
      {
        std::lock_guard lk(mu);
        if (done.report.timed_out)
          errors.push_back(f + ": time limit of " + seconds_text(a.limits.max_seconds) +
                           " s reached (--max-seconds); the recorded result is partial");
        else if (done.report.incomplete)
          errors.push_back(f + ": not read to the end; the recorded result is partial");
        pending.push_back(std::move(done));
      }
      record_pending();
    }
  };
  {
    std::vector<std::jthread> pool;
    for (int k = 1; k < jobs && static_cast<size_t>(k) < todo.size(); ++k) pool.emplace_back(worker);
    worker();
  }
  record_pending();  // nothing should be left: each worker records what it queued unless another did
  const bool recorded = get_catalog() != nullptr;  // false: the database could not be created (said already)
  if (tty) std::cerr << "\r\033[K";
  for (const auto& e : errors) std::cerr << who << ": " << e << "\n";
  if (!recorded) return 2;
  std::cerr << who << ": " << files.size() << " files, " << scanned << " scanned, " << unchanged << " unchanged, "
            << errors.size() << " errors -> " << a.db << "\n";
  return errors.empty() ? 0 : 2;
}

int catalog_query(const std::string& what, const std::string& db, const std::string& format, const std::string& arg,
                  const std::vector<std::string>& statuses, const std::string& before_text, const std::string& now_text,
                  int warn_days, const char* argv0 = "", bool only_compromised = false,
                  const std::vector<std::string>& compromised_files = {}) {
  const char* who = "fwcert catalog";
  auto catalog = open_existing_catalog(db, who);
  if (!catalog) return 2;
  fwcert::CatalogTable table;
  if (what == "list") {
    auto images = catalog->list_images();
    if (!images) return std::cerr << who << ": " << images.error().message << "\n", 2;
    table = fwcert::catalog_images_table(*images);
  } else if (what == "certs") {
    auto now = clock_from(now_text, who);
    if (!now) return 2;
    fwcert::CertFilter f;
    f.now = *now;
    f.warn_days = warn_days;
    for (const auto& st : statuses) {
      bool ok = false;
      for (auto c : {fwcert::CertStatus::Valid, fwcert::CertStatus::Expiring, fwcert::CertStatus::Expired,
                     fwcert::CertStatus::NotYetValid, fwcert::CertStatus::InvalidDate})
        if (st == fwcert::to_string(c)) f.statuses.push_back(c), ok = true;
      if (!ok) return std::cerr << who << ": unknown status '" << st << "'\n", 2;
    }
    if (!before_text.empty()) {
      auto b = fwcert::parse_user_time(before_text);
      if (!b) return std::cerr << who << ": --expiring-before '" << before_text << "' is not a date\n", 2;
      f.expiring_before = *b;
    }
    auto certs = catalog->certificates(f);
    if (!certs) return std::cerr << who << ": " << certs.error().message << "\n", 2;
    table = fwcert::catalog_certs_table(*certs, f.now, f.warn_days);
  } else if (what == "where") {
    auto hex = fwcert::parse_sha256_query(arg);
    if (!hex) return std::cerr << who << " where: '" << arg << "': " << hex.error().message << "\n", 2;
    auto found = catalog->find_certificates(*hex);
    if (!found) return std::cerr << who << ": " << found.error().message << "\n", 2;
    if (found->empty()) return std::cerr << who << " where: no certificate " << *hex << " in " << db << "\n", 1;
    if (found->size() > 1) {
      std::cerr << who << " where: " << *hex << " is the start of several certificates' SHA-256; give more digits:\n";
      for (const auto& sha : *found) std::cerr << "  " << sha << "\n";
      return 2;
    }
    auto w = catalog->where(found->front());
    if (!w) return std::cerr << who << ": " << w.error().message << "\n", 2;
    table = fwcert::catalog_where_table(found->front(), *w);
  } else if (what == "keys") {
    auto compromised = fwcert::load_compromised_keys(argv0, compromised_files);
    if (!compromised) return std::cerr << who << ": " << compromised.error().message << "\n", 2;
    auto keys = only_compromised ? catalog->keys(1) : catalog->shared_keys();
    if (!keys) return std::cerr << who << ": " << keys.error().message << "\n", 2;
    if (only_compromised)
      std::erase_if(*keys, [&](const fwcert::SharedKey& k) { return !compromised->find(k.spki_sha256); });
    table = fwcert::catalog_keys_table(*keys, &*compromised);
  }
  fwcert::write_catalog(std::cout, table, format);
  return 0;
}

// catalog export: every certificate and key placement of the catalog as metrics, judged at --now.
int catalog_export(const std::string& db, const std::string& now_text, int warn_days, const std::string& out,
                   const char* argv0, const std::vector<std::string>& compromised_files) {
  const char* who = "fwcert catalog export";
  auto now = clock_from(now_text, who);
  if (!now) return 2;
  auto compromised = fwcert::load_compromised_keys(argv0, compromised_files);
  if (!compromised) return std::cerr << who << ": " << compromised.error().message << "\n", 2;
  auto catalog = open_existing_catalog(db, who);
  if (!catalog) return 2;
  fwcert::CertFilter f;
  f.now = *now;
  f.warn_days = warn_days;
  auto images = catalog->list_images();
  auto certs = images ? catalog->certificates(f) : images.error();
  auto keys = certs ? catalog->keys(1) : certs.error();
  if (!keys) return std::cerr << who << ": " << keys.error().message << "\n", 2;
  const std::string text = fwcert::catalog_to_prometheus(*images, *certs, *keys, &*compromised, *now);
  if (out.empty() || out == "-") {
    std::cout << text;
    return 0;
  }
  if (auto w = fwcert::write_file_atomically(out, text); !w) return std::cerr << who << ": " << w.error().message << "\n", 2;
  return 0;
}

int calendar_export(const std::string& db, const std::string& now_text, const std::string& until_text,
                    const std::string& alarms, bool all, int warn_days, const std::string& format,
                    const std::string& out) {
  const char* who = "fwcert calendar";
  auto now = clock_from(now_text, who);
  if (!now) return 2;
  std::optional<int64_t> until;
  if (!until_text.empty() && !(until = fwcert::parse_user_time(until_text)))
    return std::cerr << who << ": --until '" << until_text << "' is not a date\n", 2;
  fwcert::CalendarOptions opts;
  opts.now = *now;
  opts.alarm_days.clear();
  std::stringstream ss(alarms);
  for (std::string item; std::getline(ss, item, ',');) {
    char* end = nullptr;
    long d = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end || d < 0 || d > 3650) return std::cerr << who << ": --alarm: bad day count '" << item << "'\n", 2;
    opts.alarm_days.push_back(static_cast<int>(d));
  }
  auto catalog = open_existing_catalog(db, who);
  if (!catalog) return 2;
  auto entries = catalog->calendar_entries(*now, all);
  if (!entries) return std::cerr << who << ": " << entries.error().message << "\n", 2;
  std::vector<fwcert::CalendarEvent> events;
  for (const auto& e : *entries) {
    if (until && e.not_after > *until) continue;
    fwcert::CalendarEvent ev;
    ev.sha256 = e.sha256;
    ev.common_name = e.common_name;
    ev.subject = e.subject;
    ev.issuer = e.issuer;
    ev.not_after = e.not_after;
    ev.roles = e.roles;
    for (const auto& im : e.images) ev.images.push_back({im.image_path, im.location});
    ev.status = e.not_after < *now ? "expired" : e.not_after - *now <= int64_t{warn_days} * 86400 ? "expiring" : "valid";
    events.push_back(std::move(ev));
  }
  std::string text = format == "csv" ? fwcert::calendar_csv(events, opts)
                     : format == "json" ? fwcert::dump_json(fwcert::calendar_json(events, opts)) + "\n"
                                        : fwcert::calendar_ics(events, opts);
  if (out == "-") {
    std::cout << text;
  } else {
    // Whole or not at all: on a full disk the previous calendar stays as it was.
    if (auto w = fwcert::write_file_atomically(out, text); !w) return std::cerr << who << ": " << w.error().message << "\n", 2;
    std::cerr << who << ": " << events.size() << " events -> " << out << "\n";
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------------------------
// probe and fleet check: live BMCs (logic in lib/src/live/)

struct LiveOptions {
  std::vector<std::string> targets;
  std::string db, now_text, servername, ca_file, redfish, ipmi, format = "table", inventory, fail_on, cert, key;
  bool redfish_flag = false, insecure = false;
  double timeout = 5;
  int64_t max_skew = 60;
  int warn_days = 30, jobs = 8;
};

// The catalog when the file exists, opened read-only (a probe never creates one); nullptr otherwise.
std::unique_ptr<fwcert::Catalog> open_catalog_if_present(const std::string& db, const char* who) {
  std::error_code ec;
  if (db.empty() || !fs::exists(db, ec)) return nullptr;
  return open_existing_catalog(db, who);
}

// Rows of texts as the catalog answers are written: a padded table, CSV, or a JSON document with format_version
// (empty texts are null).
void print_rows(const std::string& query, const std::string& rows_name, const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows, const std::string& format) {
  fwcert::CatalogTable t;
  t.query = query;
  t.rows_name = rows_name;
  for (const auto& h : header) t.columns.push_back({h});
  for (const auto& r : rows) {
    std::vector<fwcert::CatalogCell> cells;
    for (size_t i = 0; i < header.size(); ++i)
      cells.push_back(i < r.size() && !r[i].empty() ? fwcert::CatalogCell(r[i]) : fwcert::CatalogCell());
    t.rows.push_back(std::move(cells));
  }
  fwcert::write_catalog(std::cout, t, format);
}

std::optional<fwcert::CheckOptions> live_check_options(const LiveOptions& l, const char* who) {
  auto now = clock_from(l.now_text, who);
  if (!now) return std::nullopt;
  fwcert::CheckOptions o;
  o.probe.now = *now;
  o.probe.servername = l.servername;
  o.probe.ca_file = l.ca_file;
  o.probe.client_cert = l.cert;
  o.probe.client_key = l.key;
  o.probe.timeout_ms = o.redfish.timeout_ms = static_cast<int>(l.timeout * 1000);
  o.ipmi.timeout_ms = 2 * o.probe.timeout_ms;
  o.redfish.ca_file = l.ca_file;
  o.redfish.insecure = l.insecure;
  o.warn_days = l.warn_days;
  o.max_skew = l.max_skew;
  return o;
}

int run_probe(const LiveOptions& l) {
  const char* who = "fwcert probe";
  auto o = live_check_options(l, who);
  if (!o) return 2;
  std::vector<fwcert::HostSpec> hosts;
  for (const auto& t : l.targets) {
    auto ep = fwcert::parse_endpoint(t);
    if (!ep) return std::cerr << who << ": " << ep.error().message << "\n", 2;
    fwcert::HostSpec h{*ep, "", std::nullopt, ""};
    if (l.redfish_flag) h.redfish_url = l.redfish.empty() ? "https://" + fwcert::to_string(*ep) : l.redfish;
    if (!l.ipmi.empty()) {
      auto ie = fwcert::parse_endpoint(l.ipmi, 623);
      if (!ie) return std::cerr << who << ": --ipmi: " << ie.error().message << "\n", 2;
      h.ipmi = *ie;
    }
    hosts.push_back(std::move(h));
  }
  auto catalog = open_catalog_if_present(l.db, who);
  auto checks = fwcert::run_fleet(hosts, *o, 1, catalog.get());
  nlohmann::json all = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  bool failed = false;
  for (const auto& h : checks) {
    failed = failed || h.unreachable;
    if (l.format == "json") all.push_back(fwcert::host_check_to_json(h, *o));
    else if (l.format == "csv") for (auto& r : fwcert::served_rows(h)) rows.push_back(std::move(r));
    else fwcert::write_host_check_text(std::cout, h, *o);
  }
  if (l.format == "json")
    std::cout << fwcert::dump_json({{"tool", "fwcert"}, {"version", fwcert::version()}, {"format_version", 1},
                                    {"query", "probe"}, {"hosts", all}})
              << "\n";
  if (l.format == "csv") print_rows("probe", "served", fwcert::served_rows_header(), rows, "csv");
  for (const auto& h : checks)
    if (h.unreachable && l.format != "table") std::cerr << who << ": " << h.probe.message << "\n";
  if (failed) return 2;
  for (const auto& h : checks)
    if (!h.findings.empty()) return 1;
  return 0;
}

int run_fleet_check(const LiveOptions& l) {
  const char* who = "fwcert fleet check";
  auto o = live_check_options(l, who);
  if (!o) return 2;
  fwcert::FleetPolicy policy;
  std::stringstream ss(l.fail_on);
  for (std::string item; std::getline(ss, item, ',');) {
    if (item == "unknown") policy.fail_on_unknown = true;
    else if (item == "unreachable") policy.fail_on_unreachable = true;
    else if (!item.empty()) return std::cerr << who << ": --fail-on: unknown condition '" << item
                                             << "' (use unknown, unreachable)\n", 2;
  }
  auto mf = fwcert::MappedFile::open(l.inventory);
  if (!mf) return std::cerr << who << ": " << mf.error().message << "\n", 2;
  auto hosts = fwcert::read_inventory_csv(mf->view().as_string_view());
  if (!hosts) return std::cerr << who << ": " << l.inventory << ": " << hosts.error().message << "\n", 2;
  auto catalog = open_catalog_if_present(l.db, who);
  auto checks = fwcert::run_fleet(*hosts, *o, l.jobs, catalog.get());
  std::vector<std::vector<std::string>> rows;
  int status = 0;
  for (const auto& h : checks) {
    rows.push_back(fwcert::fleet_row(h, policy));
    if (fwcert::fleet_host_fails(h, policy)) status = 1;
  }
  if (l.format == "prometheus") std::cout << fwcert::fleet_to_prometheus(checks, policy);
  else print_rows("fleet check", "hosts", fwcert::fleet_rows_header(), rows, l.format);
  return status;
}

void add_live_subcommands(CLI::App& app, LiveOptions& l, CLI::App*& probe, CLI::App*& fleet_check) {
  l.db = default_db_path();
  auto common = [&](CLI::App* c) {
    c->add_option("--db", l.db, "Catalog to match served certificates against (not created when missing)")
        ->capture_default_str();
    c->add_option("--servername", l.servername, "SNI and name to verify (default: the host when it is a name)");
    c->add_option("--ca-file", l.ca_file, "Trust anchors for verification (default: the system store)");
    c->add_option("--now", l.now_text, "Clock for the judgements (default: system clock)");
    c->add_option("--timeout", l.timeout, "Seconds for each of connect, handshake and each Redfish request")
        ->check(CLI::Range(0.05, 120.0))->capture_default_str();
    c->add_option("--max-skew", l.max_skew, "Seconds of BMC clock skew that are a finding")->capture_default_str();
    c->add_option("--warn-days", l.warn_days, "Days before notAfter that count as expiring")->capture_default_str();
    c->add_flag("--insecure", l.insecure, "Redfish: do not verify the BMC's certificate (only when you must)");
  };
  probe = app.add_subcommand(
      "probe",
      "TLS handshake with live BMCs: the served chain (read without verification, then verified on its own), each\n"
      "certificate's window and status, the firmware in the catalog that ships it, and the BMC's own clock.\n"
      "Credentials only from FWCERT_REDFISH_USER/FWCERT_REDFISH_PASSWORD (or ~/.netrc) and FWCERT_IPMI_USER/\n"
      "FWCERT_IPMI_PASSWORD. Exit: 0 fine, 1 a finding, 2 usage error or an endpoint without a handshake.");
  probe->add_option("HOST[:PORT]", l.targets, "Endpoints (port 443 when none)")->required();
  probe->add_option("--redfish", l.redfish, "Read the BMC clock from Redfish (default URL: https://HOST[:PORT])")
      ->expected(0, 1);
  probe->add_option("--client-cert", l.cert, "PEM certificate offered when the server asks for one (the iKVM client's)");
  probe->add_option("--client-key", l.key, "PEM key of --client-cert (default: in the same file)");
  probe->add_option("--ipmi", l.ipmi, "Read the BMC clock with IPMI Get SEL Time (HOST[:PORT], lanplus)");
  common(probe);
  probe->add_option("--format", l.format, "table, json or csv")->check(CLI::IsMember({"table", "json", "csv"}));
  auto* fleet = app.add_subcommand("fleet", "Many BMCs at once");
  fleet->require_subcommand(1);
  fleet_check = fleet->add_subcommand(
      "check",
      "Probe every BMC of an inventory (CSV: host,port,redfish,ipmi,label) with bounded parallelism; one row a host.\n"
      "Exit: 0 all good, 1 a finding (skew above --max-skew, a served certificate expired/expiring/not yet valid at\n"
      "either clock, --fail-on unknown/unreachable), 2 usage error.");
  fleet_check->add_option("INVENTORY", l.inventory, "Inventory CSV")->required();
  fleet_check->add_option("--jobs,-j", l.jobs, "Hosts probed at once")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  fleet_check->add_option("--fail-on", l.fail_on, "Also fail on: unknown (firmware), unreachable (comma list)");
  common(fleet_check);
  fleet_check
      ->add_option("--format", l.format, "table, json, csv or prometheus (node_exporter textfile collector)")
      ->check(CLI::IsMember({"table", "json", "csv", "prometheus"}));
}

// fwcert clock: who verifies each certificate at whose clock (the model lives in lib/src/certs/clock.cpp).
int run_clock(const std::vector<std::string>& paths, const std::string& db, const std::string& now_text,
              const std::string& bmc_text, const std::string& format, const std::string& sig_path_opt,
              const char* argv0) {
  const char* who = "fwcert clock";
  fwcert::ClockOptions opts;
  if (paths.empty() == db.empty()) return std::cerr << who << ": give image PATHs or --db FILE\n", 2;
  auto now = clock_from(now_text, who);
  if (!now) return 2;
  opts.now = *now;
  if (!bmc_text.empty()) {
    auto bmc = clock_from(bmc_text, who);
    if (!bmc) return 2;
    opts.bmc_clock = *bmc;
  }
  std::vector<fwcert::ScanReport> scans;
  std::vector<std::string> errors;
  if (!db.empty()) {
    if (!fs::exists(db)) return std::cerr << who << ": " << db << ": no such catalog\n", 2;
    auto cat = open_catalog(db, who);
    if (!cat) return 2;
    auto r = fwcert::clock_inputs_from_catalog(*cat, opts.now);
    if (!r) return std::cerr << who << ": " << db << ": " << r.error().message << "\n", 2;
    scans = std::move(*r);
  } else {
    auto walker = fwcert::make_default_walker(sig_path_opt.empty() ? fwcert::default_signature_path(argv0) : sig_path_opt);
    if (!walker) return std::cerr << who << ": " << walker.error().message << "\n", 2;
    fwcert::ScanOptions so;
    so.now = opts.now;
    for (const auto& p : paths)
      for (const auto& f : expand_path(p, errors)) {
        auto mf = fwcert::MappedFile::open(f);
        if (!mf) errors.push_back(mf.error().message);
        else scans.push_back(fwcert::scan_input(mf->view(), f, **walker, so));
      }
  }
  std::vector<fwcert::ClockReport> reports;
  for (const auto& s : scans) reports.push_back(fwcert::analyze_clock(s, opts));
  if (format == "json") std::cout << fwcert::dump_json(fwcert::clock_to_json(reports)) << "\n";
  else fwcert::write_clock_table(std::cout, reports);
  for (const auto& e : errors) std::cerr << who << ": " << e << "\n";
  if (!errors.empty()) return 2;
  for (const auto& r : reports)
    if (r.failing) return 1;
  return 0;
}

// fwcert report --html: one self-contained page (the page lives in lib/src/report/html_report.cpp).
int run_report(const std::vector<std::string>& paths, const std::string& db, const std::string& now_text,
               const std::string& html, const std::string& sig_path_opt, const char* argv0) {
  const char* who = "fwcert report";
  if (paths.empty() == db.empty()) return std::cerr << who << ": give image PATHs or --db FILE\n", 2;
  auto now = clock_from(now_text, who);
  if (!now) return 2;
  fwcert::ReportModel model;
  std::vector<std::string> errors;
  if (!db.empty()) {
    if (!fs::exists(db)) return std::cerr << who << ": " << db << ": no such catalog\n", 2;
    auto cat = open_catalog(db, who);
    if (!cat) return 2;
    auto m = fwcert::report_model_from_catalog(*cat, *now);
    if (!m) return std::cerr << who << ": " << db << ": " << m.error().message << "\n", 2;
    model = std::move(*m);
  } else {
    auto sigs = sig_path_opt.empty() ? fwcert::default_signature_path(argv0) : sig_path_opt;
    auto walker = fwcert::make_default_walker(sigs);
    if (!walker) return std::cerr << who << ": " << walker.error().message << "\n", 2;
    // Known-compromised keys flag certificates as in `fwcert scan` (the catalog already recorded them).
    auto compromised = fwcert::load_compromised_keys(argv0, {});
    if (!compromised) return std::cerr << who << ": " << compromised.error().message << "\n", 2;
    fwcert::ScanOptions so;
    so.now = *now;
    so.compromised_keys = &*compromised;
    fwcert::ClockOptions co;
    co.now = *now;
    std::vector<fwcert::ScanReport> scans;
    std::vector<fwcert::ClockReport> clocks;
    for (const auto& p : paths)
      for (const auto& f : expand_path(p, errors)) {
        auto mf = fwcert::MappedFile::open(f);
        if (!mf) errors.push_back(mf.error().message);
        if (!mf) continue;
        scans.push_back(fwcert::scan_input(mf->view(), f, **walker, so));
        clocks.push_back(fwcert::analyze_clock(scans.back(), co));
      }
    model = fwcert::report_model_from_scans(scans, clocks);
    model.now = *now;
  }
  if (auto w = fwcert::write_file_atomically(html, fwcert::render_html_report(model)); !w)
    return std::cerr << who << ": " << w.error().message << "\n", 2;
  std::cerr << who << ": " << model.certs.size() << " certificates in " << model.images.size() << " images -> " << html
            << "\n";
  for (const auto& e : errors) std::cerr << who << ": " << e << "\n";
  return errors.empty() ? 0 : 2;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "fwcert: which TLS certificates and private keys a BMC firmware image carries, and when each stops working.",
      "fwcert"};
  app.require_subcommand(1);
  app.footer(
      "\nTypical use:\n"
      "  fwcert scan image.bin                              what it carries and when each certificate expires\n"
      "  fwcert catalog add firmware/                       record a whole firmware library (incremental)\n"
      "  fwcert catalog certs --status expired,expiring     what needs a new firmware release\n"
      "  fwcert calendar -o expiry.ics                      the dates in your calendar, with 90/30/7-day reminders\n"
      "Run 'fwcert SUBCOMMAND --help' for the options of each.");

  auto* scan = app.add_subcommand(
      "scan",
      "Every certificate, private key and keystore in firmware images, vendor zips, directories or plain files:\n"
      "validity window, status at a chosen clock, role from the firmware's own configs, and the paired key.\n\n"
      "Examples:\n"
      "  fwcert scan REDFISH_X10_390.bin                   table for people\n"
      "  fwcert scan --now 2015-06-01 image.bin            what a BMC whose clock says 2015 would see\n"
      "  fwcert scan --format json images/ > certs.json    every image below a folder, as JSON\n"
      "  fwcert scan --fail-on expired,expiring image.bin  exit 1 when any certificate is expired or expiring\n"
      "  curl -s URL | fwcert scan -                       standard input (read into memory, up to 1 GiB)\n"
      "  fwcert scan out/                                  what fwextract wrote, or a mounted image: one firmware\n\n"
      "A folder is one input: the files of one firmware (a mounted image, a root filesystem, fwextract's output),\n"
      "paired and given roles together; paths in its configs (/etc/stunnel/server.crt) are resolved against the\n"
      "folder and each of its parents. Below it, a file of 4 MiB or more is a firmware image and an input of its own\n"
      "(a firmware library), except in fwextract's output, whose carve folders (*.extracted) and manifest are not\n"
      "read twice. --each makes every file below a folder an input of its own. Symlinks are listed, never followed.\n"
      "An empty folder, or an entry that cannot be read, is a problem with exit 2.\n\n"
      "Status: valid, expiring (notAfter within --warn-days), expired, not-yet-valid, invalid-date (a date that\n"
      "cannot be read: never called valid or expired). --fail-on compromised: a private key that is public.\n"
      "Limits (per input; hitting one gives a diagnostic and a partial result), with their defaults:\n"
      "depth --max-depth 8, bytes --max-total-mb 4096 and --max-file-mb 1024, entries --max-entries 200000,\n"
      "expansion --max-ratio 2000, time --max-seconds 0 (none).\n"
      "Exit: 0 fine, 1 --fail-on matched, 2 usage or unreadable input, or an input not read to its end (out of\n"
      "memory, changed while read, --max-seconds reached: what was found so far is still reported).");
  std::vector<std::string> paths, passwords;
  std::string now_text, format = "table", fail_on, sig_path;
  int warn_days = 90;
  bool wide = false;
  scan->add_option("PATH", paths,
                   "Firmware images, vendor zips, folders (one input each, see above), certificate/key/keystore "
                   "files ('-': standard input)")
      ->required();
  scan->add_option("--now", now_text,
                   "Clock for every judgement: 2026-05-17, 2026-05-17T09:46:36Z or @<unix> (default: system clock)");
  scan->add_option("--warn-days", warn_days, "Days before notAfter that count as expiring")->default_val(90)->check(CLI::Range(0, 36500));
  scan->add_option("--format", format, "table, json, csv, sarif or prometheus (node_exporter textfile collector)")
      ->default_val("table")
      ->check(CLI::IsMember({"table", "json", "csv", "sarif", "prometheus"}));
  scan->add_option("--fail-on", fail_on,
                   "Exit 1 when any of these holds (comma list, repeatable): expired, not-yet-valid, expiring, "
                   "invalid-date, private-key, weak, compromised")
      ->delimiter(',')
      ->multi_option_policy(CLI::MultiOptionPolicy::Join);
  scan->add_option("--pkcs12-password", passwords,
                   "Password to try on PKCS#12 files (one per use, repeatable; default: empty and a few vendor "
                   "defaults)");
  scan->add_option("--signatures", sig_path, "Signature file or directory (default: built-in / next to the program)");
  std::vector<std::string> compromised_files;
  const auto compromised_opt = [&](CLI::App* c) {
    c->add_option("--compromised-keys", compromised_files,
                  "More known-compromised keys: a TSV file as data/compromised-keys.tsv (repeatable; also "
                  "$FWCERT_COMPROMISED_KEYS=FILE[:FILE...])");
  };
  compromised_opt(scan);
  fwcert::cli::LimitOptions scan_limits, add_limits;
  scan_limits.add(*scan);
  scan->add_flag("--wide", wide, "Table: every cell in full (default: fit $COLUMNS or the terminal, else 120 columns)");
  bool scan_each = false;
  scan->add_flag("--each", scan_each,
                 "Scan each file below a folder as an input of its own (a folder of unrelated files), not the folder as "
                 "one firmware");
  std::vector<std::string> scan_cramfs_at;
  fwcert::cli::add_cramfs_at(*scan, scan_cramfs_at);
  bool include_deleted = false;
  const char* kDeletedHelp =
      "Also report what a filesystem keeps but no longer shows: JFFS2 files whose name was deleted (location "
      "PATH;deleted) and older contents of overwritten files (PATH;vN)";
  scan->add_flag("--include-deleted", include_deleted, kDeletedHelp);

  // catalog
  auto* catalog = app.add_subcommand("catalog", "A SQLite catalog of many firmware images: what expires when, where, "
                                                "and which certificates and keys are shared across images");
  catalog->require_subcommand(1);
  std::string db = default_db_path(), cformat = "table";
  auto db_opt = [&](CLI::App* c) {
    c->add_option("--db", db, "Catalog database (default: $FWCERT_DB, else ~/.local/share/fwcert/catalog.sqlite)")
        ->capture_default_str();
  };
  auto fmt_opt = [&](CLI::App* c) {
    c->add_option("--format", cformat, "table, json or csv")->check(CLI::IsMember({"table", "json", "csv"}));
  };
  AddOptions add_opts;
  std::vector<std::string> add_paths;
  auto* add = catalog->add_subcommand(
      "add",
      "Scan images (files, directories recursively, vendor zips) into the catalog, in parallel. Unchanged images\n"
      "(same size and mtime, or same SHA-256) are not scanned again; each image is committed in its own\n"
      "transaction, so an interrupted run resumes where it stopped.");
  add->add_option("PATH", add_paths, "Images, vendor zips or directories")->required();
  add->add_option("--jobs,-j", add_opts.jobs, "Parallel scans (default: all cores)");
  add->add_option("--shard", add_opts.shard, "Scan only slice K of N (1-based, e.g. 2/8), for batch engines");
  add->add_option("--manifest", add_opts.manifest, "CSV with path,vendor,board,version per image");
  add->add_option("--now", add_opts.now_text, "Clock recorded with the scan (default: system clock)");
  add->add_option("--warn-days", add_opts.warn_days, "Expiring window recorded with the scan")->default_val(90);
  add->add_flag("--rescan", add_opts.rescan, "Scan every image again even when unchanged");
  std::vector<std::string> add_cramfs_at;
  fwcert::cli::add_cramfs_at(*add, add_cramfs_at);
  add->add_flag("--include-deleted", add_opts.include_deleted,
                std::string(kDeletedHelp) + " (an image already in the catalog needs --rescan for it)");
  add_limits.add(*add);
  db_opt(add);
  auto* list = catalog->add_subcommand("list", "The images in the catalog");
  db_opt(list);
  fmt_opt(list);
  std::vector<std::string> statuses;
  std::string before, qnow;
  int qwarn = 90;
  auto* certs = catalog->add_subcommand("certs", "Unique certificates with their status at --now and image count");
  certs->add_option("--status", statuses,
                    "Keep these statuses (comma list, repeatable): valid, expiring, expired, not-yet-valid, "
                    "invalid-date")
      ->delimiter(',');
  certs->add_option("--expiring-before", before, "Keep certificates whose notAfter is before this date");
  certs->add_option("--now", qnow, "Clock for the status (default: system clock)");
  certs->add_option("--warn-days", qwarn, "Expiring window")->default_val(90);
  db_opt(certs);
  fmt_opt(certs);
  std::string sha;
  auto* where = catalog->add_subcommand("where", "Which images ship this certificate, and where");
  where->add_option("SHA256", sha,
                    "Certificate SHA-256 (from certs; any case, colons allowed, as openssl -fingerprint prints it), "
                    "or a unique prefix of 8+ hex digits. Exit 1 when the catalog has no such certificate")
      ->required();
  db_opt(where);
  fmt_opt(where);
  bool shared = false;
  auto* keys = catalog->add_subcommand("keys", "Private keys present in more than one image");
  bool keys_compromised = false;
  keys->add_flag("--shared", shared, "Keys shared by several images (the default)");
  keys->add_flag("--compromised", keys_compromised,
                 "Instead: every key (in one image or more) whose private key is public (known-compromised list)");
  compromised_opt(keys);
  db_opt(keys);
  fmt_opt(keys);
  std::string export_format = "prometheus", export_out, export_now;
  int export_warn = 90;
  auto* exp = catalog->add_subcommand(
      "export", "Every certificate and private key placement as metrics: the Prometheus text format that\n"
                "node_exporter's textfile collector reads (write it with -o into its --collector.textfile.directory)");
  exp->add_option("--format", export_format, "prometheus")->check(CLI::IsMember({"prometheus"}));
  exp->add_option("-o,--output", export_out, "Output file, replaced atomically (default or '-': standard output)");
  exp->add_option("--now", export_now, "Clock for the status metrics (default: system clock)");
  exp->add_option("--warn-days", export_warn, "Expiring window")->default_val(90);
  compromised_opt(exp);
  db_opt(exp);
  std::string merge_out;
  std::vector<std::string> merge_in;
  auto* merge = catalog->add_subcommand("merge", "Combine shard catalogs into one");
  merge->add_option("OUT", merge_out, "Catalog to create or extend")->required();
  merge->add_option("IN", merge_in, "Shard catalogs")->required();

  // calendar
  std::string cal_until, cal_alarm = "90,30,7", cal_format = "ics", cal_out, cal_now;
  bool cal_all = false;
  int cal_warn = 90;
  auto* cal = app.add_subcommand(
      "calendar",
      "Export the catalog's certificate expiry dates as an RFC 5545 calendar (one all-day event per unique\n"
      "certificate on its notAfter date, UID from its SHA-256 so re-imports update, reminders at --alarm days).");
  cal->add_option("--now", cal_now, "Clock: events after it (default: system clock)");
  cal->add_option("--until", cal_until, "Only certificates expiring before this date");
  cal->add_option("--alarm", cal_alarm, "Reminder days before expiry (comma list, repeatable; '' for none)")
      ->capture_default_str()
      ->delimiter(',')
      ->multi_option_policy(CLI::MultiOptionPolicy::Join);
  cal->add_flag("--all", cal_all, "Include certificates that already expired");
  cal->add_option("--warn-days", cal_warn, "Expiring window for the status")->default_val(90);
  cal->add_option("--format", cal_format, "ics, csv or json")->check(CLI::IsMember({"ics", "csv", "json"}));
  cal->add_option("-o,--output", cal_out, "Output file, replaced atomically ('-' for standard output)")->required();
  db_opt(cal);

  LiveOptions live;
  CLI::App *probe = nullptr, *fleet_check = nullptr;
  add_live_subcommands(app, live, probe, fleet_check);

  // clock
  std::vector<std::string> clock_paths;
  std::string clock_db, clock_now, clock_bmc, clock_format = "table";
  auto* clk = app.add_subcommand(
      "clock",
      "Is it the clock? Per TLS service of the image: who verifies each certificate at whose clock (the BMC's or\n"
      "the workstation's), the alert an OpenSSL peer sends when it fails (42 bad_certificate for not yet valid, 45\n"
      "certificate_expired), and the safe BMC clock window. Exit: 0 all pass, 1 a judgement fails, 2 usage.\n\n"
      "Example: fwcert clock image.bin --bmc-clock 2015-06-01    a BMC whose clock was reset to 2015");
  clk->add_option("PATH", clock_paths, "Firmware images, vendor zips or directories");
  clk->add_option("--db", clock_db, "Run over every image of this catalog instead of PATHs");
  clk->add_option("--now", clock_now, "Workstation clock (default: system clock)");
  clk->add_option("--bmc-clock", clock_bmc, "The BMC's clock (default: --now)");
  clk->add_option("--format", clock_format, "table or json")->check(CLI::IsMember({"table", "json"}));
  clk->add_option("--signatures", sig_path, "Signature file or directory");

  // report
  std::vector<std::string> report_paths;
  std::string report_db, report_now, report_html;
  auto* rep = app.add_subcommand(
      "report",
      "One self-contained HTML page (no network): summary, a timeline of every certificate with each image's safe BMC\n"
      "clock window, and a table that sorts and filters in the browser.\n\n"
      "Example: fwcert report --db catalog.sqlite --html report.html");
  rep->add_option("PATH", report_paths, "Firmware images, vendor zips or directories");
  rep->add_option("--db", report_db, "Report on every image of this catalog instead of PATHs");
  rep->add_option("--now", report_now, "Clock for the judgements (default: system clock)");
  rep->add_option("--html", report_html, "The HTML file to write (replaced atomically)")->required();
  rep->add_option("--signatures", sig_path, "Signature file or directory");

  fwcert::cli::add_version(app, "fwcert");
  if (auto rc = fwcert::cli::parse(app, argc, argv)) return *rc;
  try {
    if (*add) {
      // A catalog records images by path, size and mtime, which standard input has not: refused before anything is
      // created.
      if (std::find(add_paths.begin(), add_paths.end(), fwcert::MappedFile::kStdin) != add_paths.end())
        return std::cerr << "fwcert catalog add: '-' (standard input) cannot be catalogued: give the image as a file\n",
               fwcert::cli::kExitUsage;
      add_opts.db = db;
      if (!fwcert::cli::parse_offsets(add_cramfs_at, "fwcert catalog add", add_opts.cramfs_at))
        return fwcert::cli::kExitUsage;
      add_opts.limits = add_limits.get();
      return catalog_add(add_paths, add_opts, argv[0]);
    }
    if (*list) return catalog_query("list", db, cformat, "", {}, "", "", 90);
    if (*certs) return catalog_query("certs", db, cformat, "", statuses, before, qnow, qwarn);
    if (*where) return catalog_query("where", db, cformat, sha, {}, "", "", 90);
    if (*keys) return catalog_query("keys", db, cformat, "", {}, "", "", 90, argv[0], keys_compromised, compromised_files);
    if (*exp) return catalog_export(db, export_now, export_warn, export_out, argv[0], compromised_files);
    if (*merge) {
      auto r = fwcert::Catalog::merge(merge_out, merge_in);
      if (!r) return std::cerr << "fwcert catalog merge: " << r.error().message << "\n", 2;
      for (const auto& f : r->failed) std::cerr << "fwcert catalog merge: not merged: " << f << "\n";
      std::cerr << "fwcert catalog merge: " << r->merged << " of " << merge_in.size() << " catalogs merged -> "
                << merge_out << "\n";
      return r->failed.empty() ? 0 : 2;
    }
    if (*cal) return calendar_export(db, cal_now, cal_until, cal_alarm, cal_all, cal_warn, cal_format, cal_out);
    live.redfish_flag = probe->count("--redfish") > 0;
    if (*probe) return run_probe(live);
    if (*fleet_check) return run_fleet_check(live);

    if (*rep) return run_report(report_paths, report_db, report_now, report_html, sig_path, argv[0]);
    if (*clk) return run_clock(clock_paths, clock_db, clock_now, clock_bmc, clock_format, sig_path, argv[0]);
    if (*scan) {
      std::vector<uint64_t> offsets;
      if (!fwcert::cli::parse_offsets(scan_cramfs_at, "fwcert scan", offsets)) return fwcert::cli::kExitUsage;
      return run_scan(paths, now_text, warn_days, format, fail_on, sig_path, passwords, argv[0], wide,
                      compromised_files, scan_each, offsets, include_deleted,
                      scan_limits.get());
    }
  } catch (const std::exception& e) {
    std::cerr << "fwcert: internal error: " << e.what() << "\n";
    return 3;
  }
  return 2;
}
