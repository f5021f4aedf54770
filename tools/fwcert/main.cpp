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

#include "fwcert/catalog/catalog.hpp"
#include "fwcert/certs/scan.hpp"
#include "fwcert/certs/x509.hpp"
#include "fwcert/core/mapped_file.hpp"
#include "fwcert/extract/folder.hpp"
#include "fwcert/report/calendar.hpp"
#include "fwcert/report/scan_report.hpp"
#include "fwcert/report/text.hpp"
#include "fwcert/scan/walker.hpp"

namespace fs = std::filesystem;

namespace {

// Files to scan for one PATH argument: the file itself, or every regular file below a directory (sorted, symlinks
// not followed).
std::vector<std::string> expand_path(const std::string& path, std::vector<std::string>& errors) {
  std::vector<std::string> out;
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

bool fails(const fwcert::ScanReport& r, const std::set<std::string>& fail_on) {
  for (const auto& c : r.certificates) {
    if (fail_on.count(std::string(fwcert::to_string(c.status)))) return true;
    if (fail_on.count("weak"))
      for (const auto& a : c.anomalies)
        if (a.find("weak") != std::string::npos) return true;
  }
  return fail_on.count("private-key") && !r.keys.empty();
}

int run_scan(const std::vector<std::string>& paths, const std::string& now_text, int warn_days, const std::string& format,
             const std::string& fail_on_text, const std::string& sig_path_opt, const std::vector<std::string>& passwords,
             bool each, const char* argv0) {
  fwcert::ScanOptions opts;
  opts.warn_days = warn_days;
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
    static const std::set<std::string> kKnown = {"expired", "not-yet-valid", "expiring", "invalid-date", "private-key",
                                                 "weak"};
    while (std::getline(ss, item, ',')) {
      if (item.empty()) continue;
      if (!kKnown.count(item)) {
        std::cerr << "fwcert scan: --fail-on: unknown condition '" << item
                  << "' (use expired, not-yet-valid, expiring, invalid-date, private-key, weak)\n";
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

  // A folder is one input (scan_folder) unless --each makes each file below it an input of its own. Inputs are
  // scanned in the order given.
  struct Input {
    std::string path;
    bool folder = false;
  };
  std::vector<std::string> errors;
  std::vector<Input> inputs;
  for (const auto& p : paths) {
    std::error_code ec;
    if (!fs::is_directory(p, ec)) {
      for (auto& f : expand_path(p, errors)) inputs.push_back({std::move(f)});
    } else if (!each) {
      inputs.push_back({p, true});
    } else {
      const size_t before = errors.size();
      auto listed = fwcert::list_folder_files(p, errors);
      if (listed.empty() && errors.size() == before) errors.push_back(p + ": empty folder: no file to scan");
      for (auto& f : listed) inputs.push_back({std::move(f)});
    }
  }
  const bool progress = isatty(STDERR_FILENO) && inputs.size() > 1;
  std::vector<fwcert::ScanReport> reports;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string& path = inputs[i].path;
    if (progress) std::cerr << "\r[" << i + 1 << "/" << inputs.size() << "] " << path << "\033[K" << std::flush;
    if (inputs[i].folder) {
      fwcert::FolderScan folder = fwcert::scan_folder(path, **walker, opts);
      for (auto& r : folder.reports) reports.push_back(std::move(r));
      for (auto& u : folder.unreadable) errors.push_back(std::move(u));
      if (folder.empty && folder.unreadable.empty()) errors.push_back(path + ": empty folder: no file to scan");
      continue;
    }
    auto mf = fwcert::MappedFile::open(path);
    if (!mf) {
      errors.push_back(mf.error().message);
      continue;
    }
    reports.push_back(fwcert::scan_input(mf->view(), path, **walker, opts));
  }
  if (progress) std::cerr << "\r\033[K";

  if (format == "json") {
    std::cout << fwcert::scan_to_json(reports).dump(2) << "\n";
  } else if (format == "sarif") {
    std::cout << fwcert::scan_to_sarif(reports).dump(2) << "\n";
  } else if (format == "csv") {
    fwcert::write_scan_csv(std::cout, reports);
  } else {
    const char* no_color = std::getenv("NO_COLOR");
    const bool color = isatty(STDOUT_FILENO) && !(no_color && *no_color);
    fwcert::write_scan_table(std::cout, reports, color);
  }
  for (const auto& e : errors) std::cerr << "fwcert scan: " << e << "\n";
  if (!errors.empty()) return 2;
  for (const auto& r : reports)
    if (fails(r, fail_on)) return 1;
  return 0;
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
    std::cerr << who << ": " << db << ": " << c.error().message << "\n";
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


// Prints rows as a padded table, CSV (header first) or a JSON array of objects.
void print_rows(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows,
                const std::string& format) {
  if (format == "json") {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& r : rows) {
      nlohmann::json o;
      for (size_t i = 0; i < header.size(); ++i) o[header[i]] = i < r.size() ? r[i] : "";
      a.push_back(o);
    }
    std::cout << a.dump(2) << "\n";
  } else if (format == "csv") {
    for (const auto* r : {&header}) {
      for (size_t i = 0; i < r->size(); ++i) std::cout << (i ? "," : "") << fwcert::csv_field((*r)[i], true);
      std::cout << "\r\n";
    }
    for (const auto& r : rows) {
      for (size_t i = 0; i < r.size(); ++i) std::cout << (i ? "," : "") << fwcert::csv_field(r[i], true);
      std::cout << "\r\n";
    }
  } else {
    std::vector<size_t> w(header.size());
    for (size_t i = 0; i < header.size(); ++i) w[i] = header[i].size();
    for (const auto& r : rows)
      for (size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], std::min<size_t>(r[i].size(), 70));
    auto line = [&](const std::vector<std::string>& r, bool upper) {
      std::string out;
      for (size_t i = 0; i < header.size(); ++i) {
        std::string c = i < r.size() ? r[i] : "";
        if (upper) std::transform(c.begin(), c.end(), c.begin(), ::toupper);
        if (c.size() > 70) c = c.substr(0, 67) + "...";
        out += c + (i + 1 < header.size() ? std::string(w[i] - c.size() + 2, ' ') : "");
      }
      std::cout << out << "\n";
    };
    line(header, true);
    for (const auto& r : rows) line(r, false);
  }
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

struct AddOptions {
  std::string db, manifest, shard, now_text;
  int jobs = 0, warn_days = 90;
  bool rescan = false;
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
  for (const std::string& f : files) {
    struct stat st {};
    if (::stat(f.c_str(), &st) != 0) {
      errors.push_back(f + ": cannot stat");
      continue;
    }
    Todo t{f, fwcert::derive_meta_from_name(fs::path(f).filename().string()), std::nullopt};
    if (auto it = manifest.find(f); it != manifest.end()) t.meta = it->second;
    t.meta.path = f;
    t.meta.size = static_cast<uint64_t>(st.st_size);
    t.meta.mtime = static_cast<int64_t>(st.st_mtime);
    if (!fresh) t.known = catalog->find_image(f);
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
  fwcert::ScanOptions so;
  so.now = *now;
  so.warn_days = a.warn_days;
  so.extract.threads = 1;  // one image per core scales better than splitting each image over the cores
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
      Scanned done{i, fwcert::scan_input(mf->view(), f, **walker, so)};
      mf = fwcert::MappedFile();  // unmapped before the next image is mapped
      {
        std::lock_guard lk(mu);
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
                  int warn_days) {
  const char* who = "fwcert catalog";
  auto catalog = open_catalog(db, who);
  if (!catalog) return 2;
  std::vector<std::vector<std::string>> rows;
  if (what == "list") {
    auto images = catalog->list_images();
    if (!images) return std::cerr << who << ": " << images.error().message << "\n", 2;
    for (const auto& im : *images)
      rows.push_back({im.meta.path, im.meta.vendor, im.meta.board, im.meta.version, std::to_string(im.meta.size),
                      im.meta.sha256, std::to_string(im.certificates), std::to_string(im.keys),
                      fwcert::rfc3339(im.scanned_at)});
    print_rows({"path", "vendor", "board", "version", "size", "sha256", "certificates", "keys", "scanned_at"}, rows,
               format);
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
    for (const auto& c : *certs)
      rows.push_back({std::string(fwcert::to_string(c.status)),
                      c.cert.not_after.unix ? fwcert::rfc3339(*c.cert.not_after.unix) : "unreadable: " + c.cert.not_after.raw,
                      c.days_left ? std::to_string(*c.days_left) : "", c.cert.common_name, std::to_string(c.image_count),
                      join(c.roles, "; "), c.cert.sha256});
    print_rows({"status", "not_after", "days_left", "common_name", "images", "roles", "sha256"}, rows, format);
  } else if (what == "where") {
    auto w = catalog->where(arg);
    if (!w) return std::cerr << who << ": " << w.error().message << "\n", 2;
    for (const auto& p : *w) rows.push_back({p.image_path, p.location, join(p.roles, "; ")});
    print_rows({"image", "location", "roles"}, rows, format);
  } else if (what == "keys") {
    auto keys = catalog->shared_keys();
    if (!keys) return std::cerr << who << ": " << keys.error().message << "\n", 2;
    for (const auto& k : *keys)
      for (const auto& p : k.placements)
        rows.push_back({k.spki_sha256, k.key.algorithm + (k.key.bits ? " " + std::to_string(k.key.bits) : ""),
                        std::to_string(k.image_count), p.image_path, p.location, join(p.roles, "; ")});
    print_rows({"public_key_sha256", "key", "images", "image", "location", "roles"}, rows, format);
  }
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
  auto catalog = open_catalog(db, who);
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
                     : format == "json" ? fwcert::calendar_json(events, opts).dump(2) + "\n"
                                        : fwcert::calendar_ics(events, opts);
  if (out == "-") {
    std::cout << text;
  } else {
    std::ofstream f(out, std::ios::binary | std::ios::trunc);
    if (!f || !(f << text)) return std::cerr << who << ": cannot write " << out << "\n", 2;
    std::cerr << who << ": " << events.size() << " events -> " << out << "\n";
  }
  return 0;
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
      "  fwcert scan out/                                  what fwextract wrote, or a mounted image: one firmware\n\n"
      "A folder is one input: the files of one firmware (a mounted image, a root filesystem, fwextract's output),\n"
      "paired and given roles together; paths in its configs (/etc/stunnel/server.crt) are resolved against the\n"
      "folder and each of its parents. Below it, a file of 4 MiB or more is a firmware image and an input of its own\n"
      "(a firmware library), except in fwextract's output, whose carve folders (*.extracted) and manifest are not\n"
      "read twice. --each makes every file below a folder an input of its own. Symlinks are listed, never followed.\n"
      "An empty folder, or an entry that cannot be read, is a problem with exit 2.\n\n"
      "Status: valid, expiring (notAfter within --warn-days), expired, not-yet-valid, invalid-date (a date that\n"
      "cannot be read: never called valid or expired). Exit: 0 fine, 1 --fail-on matched, 2 usage or unreadable input.");
  std::vector<std::string> paths, passwords;
  std::string now_text, format = "table", fail_on, sig_path;
  int warn_days = 90;
  scan->add_option("PATH", paths, "Firmware images, vendor zips, folders (one input each, see above), certificate/key/keystore files")
      ->required();
  scan->add_option("--now", now_text,
                   "Clock for every judgement: 2026-05-17, 2026-05-17T09:46:36Z or @<unix> (default: system clock)");
  scan->add_option("--warn-days", warn_days, "Days before notAfter that count as expiring")->default_val(90)->check(CLI::Range(0, 36500));
  scan->add_option("--format", format, "table, json, csv or sarif")
      ->default_val("table")
      ->check(CLI::IsMember({"table", "json", "csv", "sarif"}));
  scan->add_option("--fail-on", fail_on,
                   "Exit 1 when any of these holds (comma list): expired, not-yet-valid, expiring, invalid-date, "
                   "private-key, weak");
  scan->add_option("--pkcs12-password", passwords,
                   "Password to try on PKCS#12 files (repeatable; default: empty and a few vendor defaults)");
  scan->add_option("--signatures", sig_path, "Signature file or directory (default: built-in / next to the program)");
  bool scan_each = false;
  scan->add_flag("--each", scan_each,
                 "Scan each file below a folder as an input of its own (a folder of unrelated files), not the folder as "
                 "one firmware");

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
  db_opt(add);
  auto* list = catalog->add_subcommand("list", "The images in the catalog");
  db_opt(list);
  fmt_opt(list);
  std::vector<std::string> statuses;
  std::string before, qnow;
  int qwarn = 90;
  auto* certs = catalog->add_subcommand("certs", "Unique certificates with their status at --now and image count");
  certs->add_option("--status", statuses, "Keep these statuses (valid, expiring, expired, not-yet-valid, invalid-date)")
      ->delimiter(',');
  certs->add_option("--expiring-before", before, "Keep certificates whose notAfter is before this date");
  certs->add_option("--now", qnow, "Clock for the status (default: system clock)");
  certs->add_option("--warn-days", qwarn, "Expiring window")->default_val(90);
  db_opt(certs);
  fmt_opt(certs);
  std::string sha;
  auto* where = catalog->add_subcommand("where", "Which images ship this certificate, and where");
  where->add_option("SHA256", sha, "Certificate SHA-256 (from certs)")->required();
  db_opt(where);
  fmt_opt(where);
  bool shared = false;
  auto* keys = catalog->add_subcommand("keys", "Private keys present in more than one image");
  keys->add_flag("--shared", shared, "Only keys shared by several images (the only mode today)");
  db_opt(keys);
  fmt_opt(keys);
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
  cal->add_option("--alarm", cal_alarm, "Reminder days before expiry")->capture_default_str();
  cal->add_flag("--all", cal_all, "Include certificates that already expired");
  cal->add_option("--warn-days", cal_warn, "Expiring window for the status")->default_val(90);
  cal->add_option("--format", cal_format, "ics, csv or json")->check(CLI::IsMember({"ics", "csv", "json"}));
  cal->add_option("-o,--output", cal_out, "Output file ('-' for standard output)")->required();
  db_opt(cal);

  CLI11_PARSE(app, argc, argv);
  try {
    if (*add) {
      add_opts.db = db;
      return catalog_add(add_paths, add_opts, argv[0]);
    }
    if (*list) return catalog_query("list", db, cformat, "", {}, "", "", 90);
    if (*certs) return catalog_query("certs", db, cformat, "", statuses, before, qnow, qwarn);
    if (*where) return catalog_query("where", db, cformat, sha, {}, "", "", 90);
    if (*keys) return catalog_query("keys", db, cformat, "", {}, "", "", 90);
    if (*merge) {
      auto r = fwcert::Catalog::merge(merge_out, merge_in);
      if (!r) return std::cerr << "fwcert catalog merge: " << r.error().message << "\n", 2;
      return 0;
    }
    if (*cal) return calendar_export(db, cal_now, cal_until, cal_alarm, cal_all, cal_warn, cal_format, cal_out);
    if (*scan) return run_scan(paths, now_text, warn_days, format, fail_on, sig_path, passwords, scan_each, argv[0]);
  } catch (const std::exception& e) {
    std::cerr << "fwcert: internal error: " << e.what() << "\n";
    return 3;
  }
  return 2;
}
