#include "fwcert/certs/scan.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <system_error>
#include <thread>

#include "fwcert/certs/compromised.hpp"
#include "fwcert/certs/roles.hpp"
#include "fwcert/certs/x509.hpp"
#include "fwcert/core/crypto_providers.hpp"
#include "fwcert/core/mapped_file.hpp"
#include "fwcert/extract/folder.hpp"

namespace fwcert {

namespace {

using Der = std::vector<uint8_t>;

struct PemBlock {
  std::string label;
  Der der;
};

// Decodes the first PEM block of bytes with OpenSSL (any label; headers such as Proc-Type are returned separately).
std::optional<PemBlock> decode_pem(ByteView bytes) {
  if (bytes.size() > (64u << 20)) return std::nullopt;
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())), BIO_free);
  if (!bio) return std::nullopt;
  char *name = nullptr, *header = nullptr;
  unsigned char* data = nullptr;
  long len = 0;
  if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  PemBlock b{name ? name : "", Der(data, data + len)};
  OPENSSL_free(name);
  OPENSSL_free(header);
  OPENSSL_free(data);
  return b;
}

// The certificates of a PKCS#7 SignedData (DER).
std::vector<Der> pkcs7_certificates(const Der& der) {
  std::vector<Der> out;
  const unsigned char* p = der.data();
  std::unique_ptr<PKCS7, decltype(&PKCS7_free)> p7(d2i_PKCS7(nullptr, &p, static_cast<long>(der.size())), PKCS7_free);
  if (!p7 || !PKCS7_type_is_signed(p7.get()) || !p7->d.sign) {
    ERR_clear_error();
    return out;
  }
  STACK_OF(X509)* certs = p7->d.sign->cert;
  for (int i = 0; certs && i < sk_X509_num(certs); ++i) {
    unsigned char* buf = nullptr;
    int n = i2d_X509(sk_X509_value(certs, i), &buf);
    if (n > 0) out.emplace_back(buf, buf + n);
    OPENSSL_free(buf);
  }
  return out;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string_view basename_of(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// A member file the role inference reads as a configuration (by its name; at most 1 MiB).
bool config_candidate(std::string_view path, uint64_t size) {
  if (size == 0 || size > (1u << 20)) return false;
  const std::string_view name = basename_of(path);
  return ends_with(name, ".conf") || ends_with(name, ".cnf") || ends_with(name, ".cfg") ||
         name.find("stunnel") != std::string::npos || name.find("lighttpd") != std::string::npos ||
         name.find("nginx") != std::string::npos || name.find("httpd") != std::string::npos;
}

// A member path as the firmware sees it, without the root: tar and cpio store a root filesystem's files as
// "./etc/x" or "etc/x" (`tar -C rootfs -c .`, `find . | cpio -o`), CramFS and squashfs as "/etc/x", and configs name
// "/etc/x". "./", "/" and "//" prefixes (in any mix) are dropped.
std::string_view rootless(std::string_view p) {
  for (;;) {
    if (p.size() >= 2 && p[0] == '.' && p[1] == '/') p.remove_prefix(2);
    else if (!p.empty() && p[0] == '/') p.remove_prefix(1);
    else return p;
  }
}

bool looks_like_config(const Node& n) {
  return n.role == NodeRole::Member && n.kind == EntryKind::File && n.content_kept &&
         config_candidate(n.member_path, n.size);
}

// Which of many needles occur in a text, in one pass over it: the Aho-Corasick automaton (Aho and Corasick, "Efficient
// string matching", CACM 18(6), 1975), written here. Role inference asks, for every config, which certificate and key
// paths it names; one find() per path and config cost configs x paths x config size (100 configs of 1 MiB and 100
// certificates: 54 s). Built once per filesystem, each config is then read once, whatever the number of paths.
class NeedleSet {
 public:
  // `boundary`: an occurrence counts only when the byte before it is not part of a path (see path_boundary).
  NeedleSet(const std::vector<std::string>& needles, bool boundary) : boundary_(boundary) {
    states_.emplace_back();
    for (const auto& n : needles) {
      int s = 0;
      for (unsigned char c : n) {
        auto it = states_[s].next.find(c);
        if (it == states_[s].next.end()) {
          states_.emplace_back();
          states_.back().depth = states_[s].depth + 1;
          it = states_[s].next.emplace(c, static_cast<int>(states_.size() - 1)).first;
        }
        s = it->second;
      }
      states_[s].end = true;
      ids_.push_back(s);
    }
    // Failure links breadth first; `dict`: the nearest state down the failure chain where a needle ends.
    std::vector<int> queue;
    for (auto& [c, t] : states_[0].next) queue.push_back(t);
    for (size_t q = 0; q < queue.size(); ++q) {
      const int s = queue[q];
      for (auto& [c, t] : states_[s].next) {
        int f = states_[s].fail;
        while (f && !states_[f].next.count(c)) f = states_[f].fail;
        auto it = states_[f].next.find(c);
        states_[t].fail = it != states_[f].next.end() && it->second != t ? it->second : 0;
        const int ft = states_[t].fail;
        states_[t].dict = states_[ft].end ? ft : states_[ft].dict;
        queue.push_back(t);
      }
    }
  }

  // found[i]: needle i occurs in text (with the boundary rule when asked).
  std::vector<bool> find_in(std::string_view text) const {
    std::vector<char> hit(states_.size(), 0);
    int s = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(text[i]);
      for (;;) {
        auto it = states_[s].next.find(c);
        if (it != states_[s].next.end()) {
          s = it->second;
          break;
        }
        if (s == 0) break;
        s = states_[s].fail;
      }
      for (int t = states_[s].end ? s : states_[s].dict; t > 0; t = states_[t].dict) {
        if (!boundary_) {
          // Every needle down the chain from a found one was found with it: stop there.
          if (hit[t]) break;
          hit[t] = 1;
          continue;
        }
        const size_t start = i + 1 - states_[t].depth;
        if (!hit[t] && path_boundary(start ? text[start - 1] : ' ')) hit[t] = 1;
      }
    }
    std::vector<bool> found(ids_.size());
    for (size_t k = 0; k < ids_.size(); ++k) found[k] = hit[ids_[k]] != 0;
    return found;
  }

  // A path named in a config starts after a byte that cannot be part of a longer path.
  static bool path_boundary(char before) {
    return !(std::isalnum(static_cast<unsigned char>(before)) || before == '/' || before == '.' || before == '_' ||
             before == '-');
  }

 private:
  struct State {
    std::map<unsigned char, int> next;
    int fail = 0, dict = -1;
    size_t depth = 0;
    bool end = false;
  };
  std::vector<State> states_;
  std::vector<int> ids_;  // needle -> its final state
  bool boundary_;
};

class Scanner {
 public:
  Scanner(const Tree& tree, const ScanOptions& options) : tree_(tree), options_(options) {}

  ScanReport run() {
    report_.input = tree_.root().location;
    report_.sha256 = tree_.root().sha256;
    report_.size = tree_.root().size;
    report_.now = options_.now;
    report_.warn_days = options_.warn_days;
    report_.incomplete = tree_.incomplete;
    report_.timed_out = tree_.timed_out;
    for (const auto& d : tree_.diagnostics) report_.problems.push_back({tree_.root().location, d});
    for (const Node& n : tree_.nodes) {
      for (const auto& d : n.diagnostics)
        if (d.severity != Severity::Info) report_.problems.push_back({n.location, d});
      if (n.role == NodeRole::Carved) visit_key_material(n);
    }
    apply_config_roles();
    finish();
    return std::move(report_);
  }

 private:
  // The location a user should see: a PEM or DER block that is the whole file is reported as the file.
  std::string display_location(const Node& n) const {
    if (n.parent && n.offset == 0 && n.size == tree_.nodes[*n.parent].size && tree_.nodes[*n.parent].role != NodeRole::Input)
      return tree_.nodes[*n.parent].location;
    return n.location;
  }

  void problem(const Node& n, Severity s, const std::string& message) {
    report_.problems.push_back({display_location(n), Diagnostic{n.offset, s, message}});
  }

  void add_certificate(const Der& der, const std::string& location, size_t node, const std::string& alias = {}) {
    auto c = parse_certificate(ByteView(der.data(), der.size()));
    if (!c) {
      problem(tree_.nodes[node], Severity::Warning, "certificate could not be parsed: " + c.error().message);
      return;
    }
    auto it = certs_.find(c->sha256);
    if (it == certs_.end()) {
      CertRecord r;
      r.cert = std::move(*c);
      it = certs_.emplace(r.cert.sha256, std::move(r)).first;
    }
    auto& locs = it->second.locations;
    if (std::find(locs.begin(), locs.end(), location) == locs.end()) {
      locs.push_back(location);
      if (in_recovered(node)) it->second.recovered_locations.push_back(location);
    }
    auto& aliases = it->second.aliases;
    if (!alias.empty() && std::find(aliases.begin(), aliases.end(), alias) == aliases.end()) aliases.push_back(alias);
    cert_nodes_[it->first].push_back(node);
  }

  // Whether the node lies inside a container rebuilt from damaged metadata (Node::recovered).
  bool in_recovered(size_t node) const {
    for (std::optional<size_t> id = node; id; id = tree_.nodes[*id].parent)
      if (tree_.nodes[*id].recovered) return true;
    return false;
  }

  void add_key(PrivateKey k, const std::string& location, size_t node) {
    k.location = location;
    k.recovered = in_recovered(node);
    key_nodes_.push_back(node);
    report_.keys.push_back(std::move(k));
  }

  void visit_key_material(const Node& n) {
    const std::string& f = n.format;
    const std::string loc = display_location(n);
    if (f == "pem-certificate" || f == "pem-pkcs7") {
      auto pem = decode_pem(n.content);
      if (!pem) {
        problem(n, Severity::Warning, "PEM block could not be decoded");
        return;
      }
      if (f == "pem-pkcs7" || pem->label.find("PKCS7") != std::string::npos || pem->label == "CMS") {
        for (const auto& der : pkcs7_certificates(pem->der)) add_certificate(der, loc, n.id);
      } else {
        add_certificate(pem->der, loc, n.id);
      }
    } else if (f == "der-certificate") {
      add_certificate(Der(n.content.data(), n.content.data() + n.content.size()), loc, n.id);
    } else if (f == "pem-private-key" || f == "der-private-key") {
      auto k = parse_private_key(n.content);
      if (k) add_key(std::move(*k), loc, n.id);
      else problem(n, Severity::Warning, "private key block could not be read");
    } else if (f == "pkcs12") {
      const auto& pw = options_.pkcs12_passwords.empty() ? default_pkcs12_passwords() : options_.pkcs12_passwords;
      KeystoreContents ks = read_pkcs12(n.content, pw);
      for (const auto& der : ks.certificates) add_certificate(der, loc, n.id);
      for (auto& k : ks.keys) add_key(std::move(k), loc, n.id);
      for (const auto& note : ks.notes) problem(n, Severity::Info, "PKCS#12: " + note);
    } else if (f == "jks" || f == "jceks") {
      KeystoreContents ks = read_jks(n.content);
      for (size_t i = 0; i < ks.certificates.size(); ++i)
        add_certificate(ks.certificates[i], loc, n.id,
                        i < ks.certificate_aliases.size() ? ks.certificate_aliases[i] : std::string());
      for (auto& k : ks.keys) add_key(std::move(k), loc, n.id);
      for (const auto& note : ks.notes) problem(n, Severity::Info, "keystore: " + note);
    }
  }

  // The file node a certificate/key node belongs to (itself when it is a file member, else the nearest member).
  const Node* owning_member(size_t id) const {
    const Node* n = &tree_.nodes[id];
    while (n && n->role != NodeRole::Member) n = n->parent ? &tree_.nodes[*n->parent] : nullptr;
    return n;
  }

  // Roles from stunnel/lighttpd/nginx/Apache configs: a hint names a path as the firmware sees it; the certificate or
  // key found in the member with that path, in the same filesystem, gets the role.
  void apply_config_roles() {
    for (const Node& cfg : tree_.nodes) {
      if (!looks_like_config(cfg)) continue;
      auto hints = config_role_hints(cfg.member_path, cfg.content.as_string_view());
      const size_t fs = *cfg.parent;
      if (hints.empty()) hints = named_in_config(cfg, fs);
      for (const RoleHint& h : hints) {
        // A "key" hint names a private key; "certificate", "ca" and "chain" hints name certificates. A file holding
        // both (lighttpd's ssl.pemfile) gets one hint of each kind. Hints of no kind apply to what is there.
        // Only the members of this filesystem with the hint's file name can match it (member_matches decides).
        const FsIndex& index = fs_index(fs);
        auto cands = index.by_name.find(std::string(path_basename(h.path)));
        if (cands == index.by_name.end()) continue;
        if (h.kind != "key")
          for (const auto& [sha_p, id] : cands->second.certs) {
            const std::string& sha = *sha_p;
            if (member_matches(id, fs, h.path)) {
              add_role(certs_[sha].roles, h.role);
              // h.source is "<member path>:<line>": give it as a full location.
              auto& src = certs_[sha].role_sources[h.role];
              if (src.empty())
                src = h.source.rfind(cfg.member_path, 0) == 0 ? cfg.location + h.source.substr(cfg.member_path.size())
                                                              : h.source;
            }
          }
        if (h.kind != "certificate" && h.kind != "ca" && h.kind != "chain")
          for (size_t i : cands->second.keys)
            if (member_matches(key_nodes_[i], fs, h.path)) add_role(report_.keys[i].roles, h.role);
      }
    }
  }

  // A config no parser knows (a vendor's redfish.conf) that names a certificate or key file of the same filesystem
  // still tells what uses it.
  // Every certificate and key node of a filesystem is a candidate; the texts a config may name it by are needles of
  // one set, searched for in each config once.
  std::vector<RoleHint> named_in_config(const Node& cfg, size_t fs) {
    std::vector<RoleHint> out;
    const FsIndex& index = fs_index(fs);
    if (index.candidates.empty()) return out;
    const std::vector<bool> found = index.needles->find_in(cfg.content.as_string_view());
    // In the order of the candidates (certificates by SHA-256, then keys), as one find() per candidate gave them.
    std::vector<size_t> named;  // candidate indices
    for (size_t k = 0; k < found.size(); ++k)
      if (found[k]) named.push_back(index.needle_candidate[k]);
    std::sort(named.begin(), named.end());
    named.erase(std::unique(named.begin(), named.end()), named.end());
    for (size_t c : named) {
      const Candidate& cand = index.candidates[c];
      std::string path;
      // A folder's member: the longest of its names (see named_folder_path) the config names.
      for (size_t k = cand.first_needle; k < cand.first_needle + cand.needles; ++k)
        if (found[k]) {
          path = index.needle_text[k];
          break;
        }
      if (!tree_.folders.count(fs)) path = owning_member(cand.node)->member_path;
      out.push_back({path, std::string(cand.what) + " named in " + cfg.member_path,
                     std::string(cand.what) == "certificate" ? "certificate" : "key", cfg.member_path});
    }
    return out;
  }

  // What role inference looks up in one filesystem (a container node), built on first use.
  struct Candidate {
    size_t node;
    const char* what;
    size_t first_needle = 0, needles = 0;
  };
  struct NameCandidates {
    std::vector<std::pair<const std::string*, size_t>> certs;  // (sha256, node) as in cert_nodes_
    std::vector<size_t> keys;   // indices into report_.keys
  };
  struct FsIndex {
    std::map<std::string, NameCandidates> by_name;  // file name -> the nodes whose member has it
    std::vector<Candidate> candidates;              // certificate then key nodes, in that order
    std::vector<std::string> needle_text;
    std::vector<size_t> needle_candidate;
    std::unique_ptr<NeedleSet> needles;
  };

  static std::string_view path_basename(std::string_view p) {
    const size_t slash = p.rfind('/');
    return slash == std::string_view::npos ? p : p.substr(slash + 1);
  }

  const FsIndex& fs_index(size_t fs) {
    auto it = fs_index_.find(fs);
    if (it != fs_index_.end()) return it->second;
    FsIndex& x = fs_index_[fs];
    const auto folder = tree_.folders.find(fs);
    auto index_name = [&](const std::string* sha, size_t id, bool is_key, size_t key_index) {
      const Node* m = owning_member(id);
      if (!m || !m->parent || *m->parent != fs) return;
      // Under the member's own file name, and for a folder's member under that of its full path on disk too (a
      // config path must end with it, whichever way it matches).
      std::vector<std::string> names{std::string(path_basename(m->member_path))};
      if (folder != tree_.folders.end())
        names.emplace_back(path_basename((folder->second == "/" ? "" : folder->second) + m->member_path));
      if (names.size() == 2 && names[1] == names[0]) names.pop_back();
      for (const auto& n : names) {
        if (is_key) x.by_name[n].keys.push_back(key_index);
        else x.by_name[n].certs.emplace_back(sha, id);
      }
    };
    auto add_candidate = [&](size_t id, const char* what) {
      const Node* m = owning_member(id);
      if (!m || !m->parent || *m->parent != fs || m->member_path.size() < 2) return;
      Candidate c{id, what, x.needle_text.size(), 0};
      std::vector<std::string> texts;
      if (folder != tree_.folders.end()) {
        texts = folder_names(fs, m->member_path);
      } else {
        // Named as the firmware sees it: "/etc/x" for a member stored as "./etc/x" or "etc/x" too.
        texts.push_back(m->member_path);
        const std::string_view bare = rootless(m->member_path);
        const std::string rooted = "/" + std::string(bare);
        if (!bare.empty() && rooted != m->member_path) texts.push_back(rooted);
      }
      for (auto& t : texts) {
        x.needle_text.push_back(std::move(t));
        x.needle_candidate.push_back(x.candidates.size());
        ++c.needles;
      }
      x.candidates.push_back(c);
    };
    for (const auto& [sha, nodes] : cert_nodes_)
      for (size_t id : nodes) {
        index_name(&sha, id, false, 0);
        add_candidate(id, "certificate");
      }
    for (size_t i = 0; i < key_nodes_.size(); ++i) {
      index_name(nullptr, key_nodes_[i], true, i);
      add_candidate(key_nodes_[i], "private key");
    }
    x.needles = std::make_unique<NeedleSet>(x.needle_text, folder != tree_.folders.end());
    return x;
  }

  // A folder's member as a config of its firmware may name it: the member's full path on disk without the folder or
  // one of its parents ("/work/out/etc/stunnel" + "/server.crt" -> "/server.crt", "/stunnel/server.crt",
  // "/etc/stunnel/server.crt", ...). `path` is absolute.
  bool folder_resolves(size_t fs, const std::string& member, const std::string& path) const {
    auto it = tree_.folders.find(fs);
    if (it == tree_.folders.end() || path.empty() || path[0] != '/') return false;
    const std::string folder = it->second == "/" ? "" : it->second;
    const std::string full = folder + member;
    if (!ends_with(full, path)) return false;
    const std::string_view root(full.data(), full.size() - path.size());  // must be the folder or a parent of it
    return folder.compare(0, root.size(), root) == 0 && (folder.size() == root.size() || folder[root.size()] == '/');
  }

  // Those paths, longest first: a config names the member by the longest of them it holds (not as the tail of a
  // longer path: NeedleSet's boundary rule).
  std::vector<std::string> folder_names(size_t fs, const std::string& member) const {
    std::vector<std::string> out;
    const std::string& folder = tree_.folders.at(fs);
    const std::string full = (folder == "/" ? "" : folder) + member;
    for (size_t at = 0; at < full.size(); at = full.find('/', at + 1)) {
      if (at > (folder == "/" ? 0 : folder.size())) break;  // below the folder: not a root of the firmware
      const std::string_view candidate = std::string_view(full).substr(at);
      if (candidate.size() < 2) break;
      out.emplace_back(candidate);
    }
    return out;
  }

  bool member_matches(size_t id, size_t fs, const std::string& path) const {
    const Node* m = owning_member(id);
    if (!m || !m->parent || *m->parent != fs) return false;
    if (m->member_path == path) return true;
    if (path.empty()) return false;
    if (folder_resolves(fs, m->member_path, path)) return true;
    // An absolute config path names the member of the root filesystem, however the archive spells the root.
    if (path[0] == '/') return !rootless(path).empty() && rootless(m->member_path) == rootless(path);
    // Relative config paths: match on the trailing components.
    return ends_with(m->member_path, "/" + path);
  }

  static void add_role(std::vector<std::string>& roles, const std::string& role) {
    if (std::find(roles.begin(), roles.end(), role) == roles.end()) roles.push_back(role);
  }

  void finish() {
    // Pair keys with certificates by public key.
    std::map<std::string, std::vector<std::string>> cert_by_spki;
    for (auto& [sha, r] : certs_)
      if (!r.cert.spki_sha256.empty()) cert_by_spki[r.cert.spki_sha256].push_back(sha);
    const CompromisedKeys* public_keys = options_.compromised_keys;
    for (auto& k : report_.keys) {
      if (public_keys)
        if (const CompromisedKey* ck = public_keys->find(k.spki_sha256)) k.anomalies.push_back(compromised_anomaly(*ck));
      for (const auto& role : location_roles(k.location, true)) add_role(k.roles, role);
      if (k.spki_sha256.empty()) continue;
      auto it = cert_by_spki.find(k.spki_sha256);
      if (it == cert_by_spki.end()) continue;
      for (const auto& sha : it->second) {
        k.certificates.push_back(sha);
        add_role(certs_[sha].private_keys, k.location);
      }
    }
    for (auto& [sha, r] : certs_) {
      for (const auto& loc : r.locations)
        for (const auto& role : location_roles(loc, false)) add_role(r.roles, role);
      r.anomalies = certificate_anomalies(r.cert);
      if (!r.private_keys.empty()) r.anomalies.push_back("private key shipped in firmware");
      if (public_keys)
        if (const CompromisedKey* ck = public_keys->find(r.cert.spki_sha256)) r.anomalies.push_back(compromised_anomaly(*ck));
      r.status = judge_certificate(r.cert, options_.now, options_.warn_days, r.days_left);
      report_.certificates.push_back(std::move(r));
    }
    std::stable_sort(report_.certificates.begin(), report_.certificates.end(), [](const CertRecord& a, const CertRecord& b) {
      const auto& x = a.cert.not_after.unix;
      const auto& y = b.cert.not_after.unix;
      if (x.has_value() != y.has_value()) return x.has_value();
      if (x && y && *x != *y) return *x < *y;
      return a.cert.sha256 < b.cert.sha256;
    });
  }

  const Tree& tree_;
  const ScanOptions& options_;
  ScanReport report_;
  std::map<std::string, CertRecord> certs_;               // by sha256
  std::map<std::string, std::vector<size_t>> cert_nodes_;  // sha256 -> nodes it was found in
  std::vector<size_t> key_nodes_;                          // parallel to report_.keys
  std::map<size_t, FsIndex> fs_index_;                     // role inference's lookups, per filesystem
};

}  // namespace

ScanReport scan_tree(const Tree& tree, const ScanOptions& options) {
  load_crypto_providers();
  return Scanner(tree, options).run();
}

ScanReport scan_input(ByteView input, const std::string& name, const Walker& walker, const ScanOptions& options) {
  // The input's SHA-256 (its identity in reports and the catalog) is computed on the second core while the tree is
  // built; the nodes inside are not hashed at all: a scan does not need them. That thread also loads OpenSSL's
  // providers first (sha256_hex does), while the walk starts here: every use of OpenSSL waits for them.
  std::string input_sha256;
  ScanReport report;
  {
    std::jthread hasher;
    bool hashed_here = options.extract.threads == 1;
    if (!hashed_here) {
      try {
        hasher = std::jthread([&] { input_sha256 = sha256_hex(input); });
      } catch (const std::system_error&) {
        hashed_here = true;  // no thread to be had (a memory or thread limit): hash here, nothing is lost but time
      }
    }
    if (hashed_here) input_sha256 = sha256_hex(input);
    ExtractOptions extract = options.extract;
    extract.hash_nodes = false;
    // Files are walked where they are read; only those with something inside and the configs stay in memory.
    extract.keep_content = config_candidate;
    Tree tree = extract_tree(input, name, walker, extract);
    report = scan_tree(tree, options);
  }
  report.sha256 = std::move(input_sha256);
  return report;
}

ScanReport scan_file(const MappedFile& file, const std::string& name, const Walker& walker,
                     const ScanOptions& options) {
  ScanReport report = scan_input(file.view(), name, walker, options);
  if (file.truncated_while_read()) {
    report.incomplete = true;
    report.problems.push_back({name, Diagnostic{0, Severity::Error,
                                                "input changed while being read (truncated): the bytes past its new "
                                                "end were read as zeros, the result is partial"}});
  }
  return report;
}

FolderScan scan_folder(const std::string& dir, const Walker& walker, const ScanOptions& options,
                       uint64_t separate_from) {
  FolderScan out;
  std::string name = dir;
  while (name.size() > 1 && name.back() == '/') name.pop_back();
  FolderTreeInfo info;
  {
    ExtractOptions extract = options.extract;
    extract.hash_nodes = false;
    extract.keep_content = config_candidate;
    Tree tree = extract_folder_tree(dir, name, walker, extract, separate_from, info);
    out.empty = info.files == 0;
    // The folder's own report, unless all it holds are images of their own.
    if (tree.nodes.size() > 1 || out.empty) {
      ScanReport r = scan_tree(tree, options);
      if (out.empty && info.unreadable.empty())
        r.problems.push_back({name, Diagnostic{0, Severity::Error, "empty folder: no file to scan"}});
      out.reports.push_back(std::move(r));
    }
  }
  out.unreadable = std::move(info.unreadable);
  for (const std::string& image : info.separate) {
    auto mf = MappedFile::open(image);
    if (!mf) {
      out.unreadable.push_back(mf.error().message);
      continue;
    }
    out.reports.push_back(scan_file(*mf, image, walker, options));
  }
  return out;
}

}  // namespace fwcert
