// Roles of certificates and keys: what the firmware's own configuration files say each file is for (stunnel,
// lighttpd, nginx, Apache, plain INI files), and what a file's place in the image says (iKVM jar resources, jar
// signature blocks, CA bundles, JNLP).
//
// Every parser here reads untrusted text from a firmware image: nothing throws on bad input, every line that does not
// parse is skipped, and the work and the output are capped (kMaxText, kMaxHints).
//
// Paths are reported exactly as the config writes them. stunnel resolves relative names against its working
// directory (and CApath/CRLpath against its chroot), lighttpd against its start directory, nginx against its prefix,
// Apache against ServerRoot: none of these is knowable from the file alone, so the caller matches a hint's path
// against the extracted tree by suffix ("certs/server.pem" matches ":/usr/local/www/certs/server.pem").
#include "fwcert/certs/roles.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <utility>

namespace fwcert {
namespace {

constexpr size_t kMaxText = 4u << 20;  // configs are small; a huge "config" is a misidentified blob
constexpr size_t kMaxHints = 4096;     // a hostile config cannot make the report explode
constexpr size_t kMaxDepth = 64;       // nesting of lighttpd/nginx/Apache blocks we bother tracking

// ---------------------------------------------------------------------------------------------------------------
// Small text helpers

std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool starts_with(std::string_view s, std::string_view p) { return s.size() >= p.size() && s.substr(0, p.size()) == p; }
bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}
bool contains(std::string_view s, std::string_view p) { return s.find(p) != std::string_view::npos; }

std::string_view basename(std::string_view p) {
  while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  const size_t slash = p.rfind('/');
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

std::string_view dirname(std::string_view p) {
  const size_t slash = p.rfind('/');
  if (slash == std::string_view::npos) return {};
  if (slash == 0) return "/";
  return p.substr(0, slash);
}

// Caps the text, drops a UTF-8 BOM, and refuses binary data (a config has no NUL bytes).
std::optional<std::string_view> prepare(std::string_view text) {
  if (text.size() > kMaxText) text = text.substr(0, kMaxText);
  if (starts_with(text, "\xEF\xBB\xBF")) text.remove_prefix(3);
  if (text.find('\0') != std::string_view::npos) return std::nullopt;
  return text;
}

struct Line {
  std::string_view text;  // without the line terminator
  size_t number;          // 1-based
};

// Splits on LF, CRLF and lone CR.
std::vector<Line> split_lines(std::string_view text) {
  std::vector<Line> out;
  size_t start = 0, number = 1;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '\n' || text[i] == '\r') {
      if (i == text.size() && start == i) break;
      out.push_back({text.substr(start, i - start), number++});
      if (i + 1 < text.size() && text[i] == '\r' && text[i + 1] == '\n') ++i;
      start = i + 1;
    }
  }
  return out;
}

std::string source_of(const std::string& config_path, size_t line) { return config_path + ":" + std::to_string(line); }

std::string unquote(std::string_view v) {
  v = trim(v);
  if (v.size() >= 2 && ((v.front() == '"' && v.back() == '"') || (v.front() == '\'' && v.back() == '\'')))
    v = v.substr(1, v.size() - 2);
  return std::string(v);
}

// A value naming a file rather than an engine/provider URI ("pkcs11:token=...", "engine:...").
bool is_file_value(std::string_view v) {
  if (v.empty()) return false;
  if (v.front() == '/' || v.front() == '.') return true;
  const size_t colon = v.find(':');
  if (colon == std::string_view::npos) return true;
  const size_t slash = v.find('/');
  return slash != std::string_view::npos && slash < colon;  // "certs/a:b.pem" is a path, "pkcs11:..." is not
}

class Hints {
 public:
  explicit Hints(const std::string& config_path) : config_(config_path) {}
  void add(std::string path, std::string role, const char* kind, size_t line) {
    if (out_.size() >= kMaxHints || path.empty()) return;
    out_.push_back({std::move(path), std::move(role), kind, source_of(config_, line)});
  }
  std::vector<RoleHint> take() { return std::move(out_); }

 private:
  const std::string& config_;
  std::vector<RoleHint> out_;
};

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string r;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    if (!r.empty()) r += sep;
    r += p;
  }
  return r;
}

std::string paren(const std::string& s) { return s.empty() ? std::string() : " (" + s + ")"; }

// ---------------------------------------------------------------------------------------------------------------
// stunnel (FORMATS.md section 7)

struct StunnelValue {
  std::string value;
  size_t line = 0;
};

struct StunnelSection {
  std::string name;  // empty for the global section
  size_t line = 0;
  std::map<std::string, std::vector<StunnelValue>> options;  // lowercased option name -> values in file order
};

bool yes(std::string_view v) {
  const std::string l = lower(trim(v));
  return l == "yes" || l == "true" || l == "1" || l == "on";
}

// Effective values of an option for a service: its own, else the global default (stunnel copies service-level options
// given before the first section into every service).
const std::vector<StunnelValue>* stunnel_get(const StunnelSection& svc, const StunnelSection& global,
                                             const std::string& name) {
  if (auto it = svc.options.find(name); it != svc.options.end()) return &it->second;
  if (&svc != &global)
    if (auto it = global.options.find(name); it != global.options.end()) return &it->second;
  return nullptr;
}

const StunnelValue* stunnel_last(const StunnelSection& svc, const StunnelSection& global, const std::string& name) {
  const auto* v = stunnel_get(svc, global, name);
  return v && !v->empty() ? &v->back() : nullptr;
}

struct PeerCheck {
  bool chain = false, peer = false, require = false, requested = false;
  std::string how;  // "verify 3", "verifyPeer", "verifyChain", ...
};

// verify = LEVEL (obsolete) per options.c: every level requests a certificate; require = level >= 2;
// chain = levels 1..3; peer = level >= 3. The newer verifyChain/verifyPeer/requireCert override.
PeerCheck stunnel_peer_check(const StunnelSection& svc, const StunnelSection& global) {
  PeerCheck pc;
  std::vector<std::string> how;
  if (const auto* v = stunnel_last(svc, global, "verify")) {
    const std::string t(trim(v->value));
    if (t.size() == 1 && t[0] >= '0' && t[0] <= '4') {
      const int level = t[0] - '0';
      pc.requested = true;
      pc.require = level >= 2;
      pc.chain = level >= 1 && level <= 3;
      pc.peer = level >= 3;
      how.push_back("verify " + t);
    }
  }
  if (const auto* v = stunnel_last(svc, global, "verifychain")) {
    pc.chain = yes(v->value);
    if (pc.chain) pc.requested = pc.require = true, how.push_back("verifyChain");
  }
  if (const auto* v = stunnel_last(svc, global, "verifypeer")) {
    pc.peer = yes(v->value);
    if (pc.peer) pc.requested = pc.require = true, how.push_back("verifyPeer");
  }
  if (const auto* v = stunnel_last(svc, global, "requirecert")) {
    if (yes(v->value)) pc.requested = pc.require = true, how.push_back("requireCert");
  }
  pc.how = join(how, ", ");
  return pc;
}

void stunnel_emit(Hints& hints, const StunnelSection& svc, const StunnelSection& global) {
  const bool client = [&] {
    const auto* v = stunnel_last(svc, global, "client");
    return v && yes(v->value);
  }();
  const std::string who = svc.name.empty() ? "stunnel" : "stunnel [" + svc.name + "]";
  const std::string side = client ? "client" : "server";
  const std::string peer_side = client ? "server" : "client";

  // "accept 5900 -> connect 127.0.0.1:5901": which port this certificate guards.
  std::vector<std::string> where;
  if (const auto* a = stunnel_get(svc, global, "accept")) {
    std::vector<std::string> v;
    for (const auto& x : *a) v.push_back(std::string(trim(x.value)));
    where.push_back("accept " + join(v, ", "));
  }
  if (const auto* c = stunnel_get(svc, global, "connect")) {
    std::vector<std::string> v;
    for (const auto& x : *c) v.push_back(std::string(trim(x.value)));
    where.push_back("connect " + join(v, ", "));
  }
  const std::string addr = join(where, " -> ");

  const StunnelValue* cert = stunnel_last(svc, global, "cert");
  const StunnelValue* key = stunnel_last(svc, global, "key");
  if (cert && is_file_value(cert->value))
    hints.add(cert->value, who + " " + side + " certificate" + paren(addr), "certificate", cert->line);
  if (key && is_file_value(key->value)) {
    hints.add(key->value, who + " " + side + " private key" + paren(addr), "key", key->line);
  } else if (!key && cert && is_file_value(cert->value)) {
    // key defaults to the cert value: one PEM holding both.
    hints.add(cert->value,
              who + " " + side + " private key (defaults to the cert file" + (addr.empty() ? "" : "; ") + addr + ")",
              "key", cert->line);
  }

  const PeerCheck pc = stunnel_peer_check(svc, global);
  std::string meaning;
  if (pc.peer && pc.chain)
    meaning = pc.how + ": peer must present it, chain checked too";
  else if (pc.peer)
    meaning = pc.how + ": peer must present it";
  else if (pc.chain && pc.require)
    meaning = pc.how + ": " + peer_side + " chain must lead to it";
  else if (pc.chain)
    meaning = pc.how + ": " + peer_side + " chain checked when presented";
  else if (pc.requested)
    meaning = pc.how + ": " + peer_side + " certificate requested, not checked";
  else
    meaning = "no verify option: peers not checked";
  // With peer verification the CA file holds the peer's own leaf: for a server, the client certificate it must present.
  const std::string what =
      pc.peer ? "CA / " + peer_side + " certificate" : "CA / trusted " + peer_side + " certificate";
  if (const auto* ca = stunnel_last(svc, global, "cafile"); ca && is_file_value(ca->value))
    hints.add(ca->value, who + " " + what + paren(meaning), "ca", ca->line);
  if (const auto* cap = stunnel_last(svc, global, "capath"); cap && is_file_value(cap->value))
    hints.add(cap->value, who + " CA directory (" + peer_side + " certificates by subject hash; " + meaning + ")", "ca",
              cap->line);
}

// ---------------------------------------------------------------------------------------------------------------
// lighttpd

// Strips a '#' comment that is not inside a quoted string.
std::string_view strip_hash_comment(std::string_view s) {
  char quote = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (quote) {
      if (c == '\\')
        ++i;
      else if (c == quote)
        quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '#') {
      return s.substr(0, i);
    }
  }
  return s;
}

// Position of c outside quoted strings, or npos.
size_t find_unquoted(std::string_view s, char want) {
  char quote = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (quote) {
      if (c == '\\')
        ++i;
      else if (c == quote)
        quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == want) {
      return i;
    }
  }
  return std::string_view::npos;
}

struct LtContext {
  std::optional<size_t> parent;
  std::string label;  // ":443" for $SERVER["socket"] == ":443", else the condition text
  bool socket = false;
  std::map<std::string, std::pair<std::string, size_t>> options;  // name -> (value, line)
};

// Evaluates a lighttpd value: quoted strings and var.* names joined with '+'. Anything else yields what it can.
std::string lt_value(std::string_view v, const std::map<std::string, std::string>& vars) {
  std::string out;
  size_t i = 0;
  while (i < v.size()) {
    const char c = v[i];
    if (c == '"' || c == '\'') {
      size_t j = i + 1;
      while (j < v.size() && v[j] != c) {
        if (v[j] == '\\' && j + 1 < v.size()) ++j;
        out += v[j++];
      }
      i = j + 1;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < v.size() &&
             (std::isalnum(static_cast<unsigned char>(v[j])) || v[j] == '.' || v[j] == '_' || v[j] == '-'))
        ++j;
      const std::string name(v.substr(i, j - i));
      if (auto it = vars.find(name); it != vars.end())
        out += it->second;
      else if (auto it2 = vars.find("var." + name); it2 != vars.end())
        out += it2->second;
      else if (!starts_with(name, "var.") && !starts_with(name, "env."))
        out += name;  // a bare word: keep it
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) out += v[i++];  // server.port = 443
    } else {
      ++i;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// nginx

struct NgBlock {
  std::optional<size_t> parent;
  std::string name;  // "http", "server", "stream", "mail", "location", ...
  std::vector<std::string> server_names, listens;
};

struct NgDirective {
  std::vector<std::string> words;
  size_t line = 0;
  size_t block = 0;
};

// Tokenises nginx syntax: words (quoted or bare), ';', '{', '}', '#' comments to end of line.
void nginx_parse(std::string_view text, std::vector<NgBlock>& blocks, std::vector<NgDirective>& dirs) {
  blocks.push_back({});  // main context
  std::vector<size_t> stack{0};
  std::vector<std::string> words;
  size_t line = 1, start_line = 1;
  auto finish = [&](bool opens) {
    if (!words.empty()) {
      if (opens) {
        NgBlock b;
        b.parent = stack.back();
        b.name = lower(words[0]);
        blocks.push_back(std::move(b));
        if (stack.size() < kMaxDepth) stack.push_back(blocks.size() - 1);
      } else if (dirs.size() < 16 * kMaxHints) {
        dirs.push_back({words, start_line, stack.back()});
      }
    } else if (opens && stack.size() < kMaxDepth) {
      blocks.push_back({stack.back(), "", {}, {}});
      stack.push_back(blocks.size() - 1);
    }
    words.clear();
  };
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      ++i;
    } else if (is_space(c)) {
      ++i;
    } else if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == ';') {
      finish(false);
      ++i;
    } else if (c == '{') {
      finish(true);
      ++i;
    } else if (c == '}') {
      finish(false);
      if (stack.size() > 1) stack.pop_back();
      ++i;
    } else {
      if (words.empty()) start_line = line;
      std::string w;
      if (c == '"' || c == '\'') {
        size_t j = i + 1;
        while (j < text.size() && text[j] != c) {
          if (text[j] == '\\' && j + 1 < text.size()) ++j;
          if (text[j] == '\n') ++line;
          w += text[j++];
        }
        i = j + 1;
      } else {
        while (i < text.size() && !is_space(text[i]) && text[i] != ';' && text[i] != '{' && text[i] != '}') {
          if (text[i] == '\\' && i + 1 < text.size()) ++i;
          w += text[i++];
        }
      }
      if (words.size() < 64) words.push_back(std::move(w));
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Apache

struct ApBlock {
  std::optional<size_t> parent;
  std::string tag, arg;  // "virtualhost", "*:443"
  std::vector<std::string> server_names;
  bool verify_client = false;
  std::string verify_level;
};

// ---------------------------------------------------------------------------------------------------------------
// location_roles helpers

struct Step {
  std::string format;       // "cramfs", "zip", "gzip", "pem", ... (empty for the input step)
  std::string member_path;  // for member steps: the path after "format[@0xHEX]:"
  bool member = false;
};

bool is_step_head(std::string_view tok) {
  // format [@0xHEX] [':' member path]: the format is a short lowercase identifier.
  size_t i = 0;
  while (i < tok.size() && (std::islower(static_cast<unsigned char>(tok[i])) ||
                            std::isdigit(static_cast<unsigned char>(tok[i])) || tok[i] == '-' || tok[i] == '_'))
    ++i;
  if (i == 0 || i > 24) return false;
  if (i < tok.size() && tok[i] == '@') {
    if (tok.substr(i + 1, 2) != "0x") return false;
    size_t j = i + 3;
    while (j < tok.size() && std::isxdigit(static_cast<unsigned char>(tok[j]))) ++j;
    if (j == i + 3) return false;
    i = j;
  }
  return i == tok.size() || tok[i] == ':';
}

// Splits a location into steps. The grammar joins steps with '!' and does not escape member paths, which may hold
// '!' and ':' themselves. So: split on '!'; a piece that does not start like a step ("format", "format@0xHEX",
// "format:..." with a short lowercase format name) belongs to the previous piece's member path (or the input name).
// Within a step, the member path is everything after the first ':'.
std::vector<Step> parse_location(const std::string& location) {
  std::vector<std::string> pieces;
  size_t start = 0;
  for (size_t i = 0; i <= location.size(); ++i) {
    if (i == location.size() || location[i] == '!') {
      std::string_view tok(location.data() + start, i - start);
      if (pieces.empty() || !is_step_head(tok))
        (pieces.empty() ? pieces.emplace_back() : pieces.back() += "!"), pieces.back() += tok;
      else
        pieces.emplace_back(tok);
      start = i + 1;
    }
  }
  std::vector<Step> steps;
  for (size_t k = 0; k < pieces.size(); ++k) {
    Step s;
    if (k == 0) {
      s.member_path = pieces[0];  // the input's name stands for a file name
    } else {
      const size_t colon = pieces[k].find(':');
      const std::string head = pieces[k].substr(0, colon);
      s.format = head.substr(0, head.find('@'));
      if (colon != std::string::npos) {
        s.member = true;
        s.member_path = pieces[k].substr(colon + 1);
      }
    }
    steps.push_back(std::move(s));
  }
  return steps;
}

bool looks_like_kvm_jar(std::string_view jar) {
  const std::string l = lower(jar);
  return starts_with(l, "ikvm") || starts_with(l, "jviewer") || contains(l, "kvm") || starts_with(l, "avct");
}

// "iKVM__V1.69.38.0x0.jar.pack.gz" -> "iKVM__V1.69.38.0x0.jar": name the jar, not its transport encoding.
std::string jar_display_name(std::string_view name) {
  std::string n(name);
  for (const char* suffix : {".gz", ".pack"}) {
    if (n.size() > 4 && ends_with(lower(n), suffix)) n.resize(n.size() - std::string_view(suffix).size());
  }
  return n;
}

bool has_ext(std::string_view name, std::initializer_list<const char*> exts) {
  const std::string l = lower(name);
  return std::any_of(exts.begin(), exts.end(), [&](const char* e) { return ends_with(l, e); });
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------

// stunnel.conf: lines are empty, ';'/'#' comments, "[service]" or "option = value". Everything else (and a '['
// line without its ']') is skipped. include = DIR cannot be followed from a single file and is ignored.
std::vector<RoleHint> stunnel_role_hints(const std::string& config_path, std::string_view text) {
  Hints hints(config_path);
  const auto t = prepare(text);
  if (!t) return {};
  std::vector<StunnelSection> sections(1);  // [0] = global
  bool skipping = false;  // inside a section header we could not accept: its options belong to no service
  for (const Line& ln : split_lines(*t)) {
    const std::string_view s = trim(ln.text);
    if (s.empty() || s.front() == ';' || s.front() == '#') continue;
    if (s.front() == '[') {
      if (s.back() != ']') continue;  // junk line: skipped, the current section goes on
      StunnelSection sec;
      sec.name = std::string(trim(s.substr(1, s.size() - 2)));
      sec.line = ln.number;
      skipping = sec.name.empty() || sections.size() > kMaxHints;
      if (!skipping) sections.push_back(std::move(sec));
      continue;
    }
    if (skipping) continue;
    const size_t eq = s.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string name = lower(trim(s.substr(0, eq)));
    const std::string_view value = trim(s.substr(eq + 1));
    if (name.empty() || value.empty()) continue;
    auto& vals = sections.back().options[name];
    if (vals.size() < 64) vals.push_back({std::string(value), ln.number});
  }
  if (sections.size() == 1) {
    stunnel_emit(hints, sections[0], sections[0]);  // inetd mode: the global section is the one service
  } else {
    for (size_t i = 1; i < sections.size(); ++i) stunnel_emit(hints, sections[i], sections[0]);
  }
  return hints.take();
}

// lighttpd.conf: "name = value" (also "+=", ":="), '#' comments, conditional blocks `$SERVER["socket"] == ":443" {`
// ... `}` (also "else" / "else if" chains), var.* variables. Options set in an outer block apply inside inner blocks.
std::vector<RoleHint> lighttpd_role_hints(const std::string& config_path, std::string_view text) {
  Hints hints(config_path);
  const auto t = prepare(text);
  if (!t) return {};
  std::vector<LtContext> ctx(1);
  std::vector<size_t> stack{0};
  std::map<std::string, std::string> vars;
  std::string pending_cond;  // a condition whose '{' is on a later line
  size_t overflow = 0;       // open blocks beyond kMaxDepth
  struct Item {
    std::string name, value;
    size_t line, context;
  };
  std::vector<Item> items;
  for (const Line& ln : split_lines(*t)) {
    std::string_view s = trim(strip_hash_comment(ln.text));
    // One line may close blocks, open one and hold an assignment: "} else $HTTP[...] { ssl.pemfile = "x" }".
    for (int guard = 0; !s.empty() && guard < 256; ++guard) {
      if (s.front() == '}') {
        if (overflow > 0)
          --overflow;
        else if (stack.size() > 1)
          stack.pop_back();
        s = trim(s.substr(1));
        continue;
      }
      if (s.front() == '$' || starts_with(s, "else") || s.front() == '{') {
        const size_t brace = find_unquoted(s, '{');
        std::string_view cond = trim(s.substr(0, brace));
        if (brace == std::string_view::npos) {  // the '{' comes on a later line
          pending_cond = std::string(cond);
          break;
        }
        const std::string carried = std::move(pending_cond);
        pending_cond.clear();
        if (cond.empty()) cond = carried;
        if (starts_with(cond, "else")) cond = trim(cond.substr(4));
        LtContext c;
        c.parent = stack.back();
        c.label = std::string(cond);
        // $SERVER["socket"] == ":443" -> ":443"
        if (starts_with(cond, "$SERVER[\"socket\"]")) {
          const size_t q1 = cond.find('"', 17);
          const size_t q2 = q1 == std::string_view::npos ? q1 : cond.find('"', q1 + 1);
          if (q2 != std::string_view::npos) {
            c.label = std::string(cond.substr(q1 + 1, q2 - q1 - 1));
            c.socket = true;
          }
        }
        // Past the depth cap blocks are still counted (so '}' pops the right one) but share their parent's context.
        if (stack.size() < kMaxDepth) {
          ctx.push_back(std::move(c));
          stack.push_back(ctx.size() - 1);
        } else {
          ++overflow;
        }
        s = trim(s.substr(brace + 1));
        continue;
      }
      // An assignment runs to the end of the line or to an unquoted '}' closing the block.
      const size_t close = find_unquoted(s, '}');
      const std::string_view stmt = trim(s.substr(0, close));
      s = close == std::string_view::npos ? std::string_view() : s.substr(close);
      const size_t eq = stmt.find('=');
      if (eq == std::string_view::npos || eq == 0) continue;
      std::string_view name = stmt.substr(0, eq);
      if (name.back() == '+' || name.back() == ':') name.remove_suffix(1);
      const std::string key = lower(trim(name));
      const std::string value = lt_value(trim(stmt.substr(eq + 1)), vars);
      if (starts_with(key, "var.")) vars[key] = value;
      if (items.size() < 16 * kMaxHints) items.push_back({key, value, ln.number, stack.back()});
      ctx[stack.back()].options[key] = {value, ln.number};
    }
  }

  // The nearest setting of an option, looking outwards through enclosing blocks.
  auto lookup = [&](size_t c, const std::string& name) -> const std::string* {
    for (std::optional<size_t> k = c; k; k = ctx[*k].parent)
      if (auto it = ctx[*k].options.find(name); it != ctx[*k].options.end()) return &it->second.first;
    return nullptr;
  };
  auto where = [&](size_t c) {
    std::vector<std::string> w;
    for (std::optional<size_t> k = c; k && *k != 0; k = ctx[*k].parent)
      if (ctx[*k].socket) return ctx[*k].label;
    for (std::optional<size_t> k = c; k && *k != 0; k = ctx[*k].parent) w.push_back(ctx[*k].label);
    if (w.empty())
      if (const auto* port = lookup(0, "server.port")) return "port " + *port;
    return join(w, " / ");
  };
  auto verify_meaning = [&](size_t c) -> std::string {
    const auto* act = lookup(c, "ssl.verifyclient.activate");
    if (!act || lower(*act) != "enable") return "client certificates not requested";
    const auto* enf = lookup(c, "ssl.verifyclient.enforce");
    return (enf && lower(*enf) == "disable") ? "ssl.verifyclient: optional" : "ssl.verifyclient: required";
  };
  for (const Item& it : items) {
    if (it.value.empty()) continue;
    const std::string w = where(it.context);
    if (it.name == "ssl.pemfile") {
      // One PEM with certificate and (unless ssl.privkey is set) the private key.
      hints.add(it.value, "lighttpd HTTPS server certificate" + paren(w), "certificate", it.line);
      if (!lookup(it.context, "ssl.privkey"))
        hints.add(it.value, "lighttpd HTTPS server private key" + paren(w), "key", it.line);
    } else if (it.name == "ssl.privkey") {
      hints.add(it.value, "lighttpd HTTPS server private key" + paren(w), "key", it.line);
    } else if (it.name == "ssl.ca-file" || it.name == "ssl.verifyclient.ca-file") {
      hints.add(it.value,
                "lighttpd CA / trusted client certificate" + paren(join({w, verify_meaning(it.context)}, "; ")), "ca",
                it.line);
    } else if (it.name == "ssl.ca-dn-file" || it.name == "ssl.verifyclient.ca-dn-file") {
      hints.add(it.value, "lighttpd client CA names sent to clients" + paren(w), "ca", it.line);
    } else if (it.name == "ssl.stapling-file") {
      // An OCSP response, not a certificate: no hint.
    }
  }
  return hints.take();
}

// nginx.conf: directives "name args;" and blocks "name args { ... }". ssl_* directives inherit from http into server
// blocks; the role names the enclosing server block's server_name and listen when it has them.
std::vector<RoleHint> nginx_role_hints(const std::string& config_path, std::string_view text) {
  Hints hints(config_path);
  const auto t = prepare(text);
  if (!t) return {};
  std::vector<NgBlock> blocks;
  std::vector<NgDirective> dirs;
  nginx_parse(*t, blocks, dirs);
  for (const NgDirective& d : dirs) {
    const std::string name = lower(d.words[0]);
    if (name == "server_name")
      for (size_t i = 1; i < d.words.size() && i < 4; ++i) blocks[d.block].server_names.push_back(d.words[i]);
    if (name == "listen")
      blocks[d.block].listens.push_back(join(std::vector<std::string>(d.words.begin() + 1, d.words.end()), " "));
  }
  for (const NgDirective& d : dirs) {
    if (d.words.size() < 2) continue;
    const std::string name = lower(d.words[0]);
    const std::string& path = d.words[1];
    if (!is_file_value(path) || starts_with(path, "data:")) continue;
    std::string proto = "HTTPS";
    std::vector<std::string> w;
    for (std::optional<size_t> k = d.block; k; k = blocks[*k].parent) {
      const NgBlock& b = blocks[*k];
      if (b.name == "server" && w.empty()) {
        if (!b.server_names.empty()) w.push_back("server_name " + join(b.server_names, " "));
        if (!b.listens.empty()) w.push_back("listen " + join(b.listens, ", "));
      }
      if (b.name == "stream") proto = "stream TLS";
      if (b.name == "mail") proto = "mail TLS";
    }
    const std::string where = join(w, ", ");
    if (name == "ssl_certificate")
      hints.add(path, "nginx " + proto + " server certificate" + paren(where), "certificate", d.line);
    else if (name == "ssl_certificate_key")
      hints.add(path, "nginx " + proto + " server private key" + paren(where), "key", d.line);
    else if (name == "ssl_client_certificate")
      hints.add(path,
                "nginx CA / trusted client certificate (ssl_verify_client" + (where.empty() ? "" : "; " + where) + ")",
                "ca", d.line);
    else if (name == "ssl_trusted_certificate")
      hints.add(path, "nginx trusted CA (client chains / OCSP stapling" + (where.empty() ? "" : "; " + where) + ")",
                "ca", d.line);
    else if (name == "proxy_ssl_certificate")
      hints.add(path, "nginx proxy client certificate (to upstream" + (where.empty() ? "" : "; " + where) + ")",
                "certificate", d.line);
    else if (name == "proxy_ssl_certificate_key")
      hints.add(path, "nginx proxy client private key (to upstream" + (where.empty() ? "" : "; " + where) + ")", "key",
                d.line);
    else if (name == "proxy_ssl_trusted_certificate")
      hints.add(path, "nginx proxy trusted CA (upstream servers" + (where.empty() ? "" : "; " + where) + ")", "ca",
                d.line);
  }
  return hints.take();
}

// Apache httpd: "Directive args" lines, '#' comments, '\' line continuation, <VirtualHost ...> ... </VirtualHost>
// (any <Tag> section is tracked). Directive names are case-insensitive.
std::vector<RoleHint> apache_role_hints(const std::string& config_path, std::string_view text) {
  Hints hints(config_path);
  const auto t = prepare(text);
  if (!t) return {};
  std::vector<ApBlock> blocks(1);
  std::vector<size_t> stack{0};
  struct Item {
    std::string name, value;
    size_t line, block;
  };
  std::vector<Item> items;
  std::string pending;
  size_t pending_line = 0;
  for (const Line& ln : split_lines(*t)) {
    std::string_view s = trim(ln.text);
    if (pending.empty()) pending_line = ln.number;
    if (!s.empty() && s.back() == '\\') {
      if (pending.size() < 65536) pending += std::string(s.substr(0, s.size() - 1)) + " ";
      continue;
    }
    std::string full = pending + std::string(s);
    pending.clear();
    std::string_view f = trim(full);
    if (f.empty() || f.front() == '#') continue;
    if (starts_with(f, "</")) {
      if (stack.size() > 1) stack.pop_back();
      continue;
    }
    if (f.front() == '<') {
      if (f.back() != '>' || stack.size() >= kMaxDepth) continue;
      f = trim(f.substr(1, f.size() - 2));
      const size_t sp = f.find_first_of(" \t");
      ApBlock b;
      b.parent = stack.back();
      b.tag = lower(f.substr(0, sp));
      if (sp != std::string_view::npos) b.arg = std::string(trim(f.substr(sp)));
      blocks.push_back(std::move(b));
      stack.push_back(blocks.size() - 1);
      continue;
    }
    const size_t sp = f.find_first_of(" \t");
    if (sp == std::string_view::npos) continue;
    const std::string name = lower(f.substr(0, sp));
    const std::string value = unquote(f.substr(sp));
    if (name == "servername") blocks[stack.back()].server_names.push_back(value);
    if (name == "sslverifyclient") blocks[stack.back()].verify_level = lower(value);
    if (items.size() < 16 * kMaxHints) items.push_back({name, value, pending_line, stack.back()});
  }
  for (const Item& it : items) {
    if (!is_file_value(it.value)) continue;
    std::vector<std::string> w;
    std::string verify;
    for (std::optional<size_t> k = it.block; k; k = blocks[*k].parent) {
      const ApBlock& b = blocks[*k];
      if (b.tag == "virtualhost" && w.empty()) {
        w.push_back("<VirtualHost " + b.arg + ">");
        if (!b.server_names.empty()) w.push_back("ServerName " + b.server_names.front());
      }
      if (verify.empty()) verify = b.verify_level;
    }
    const std::string where = join(w, ", ");
    if (it.name == "sslcertificatefile") {
      hints.add(it.value, "Apache HTTPS server certificate" + paren(where), "certificate", it.line);
    } else if (it.name == "sslcertificatekeyfile") {
      hints.add(it.value, "Apache HTTPS server private key" + paren(where), "key", it.line);
    } else if (it.name == "sslcertificatechainfile") {
      hints.add(it.value, "Apache HTTPS server certificate chain" + paren(where), "chain", it.line);
    } else if (it.name == "sslcacertificatefile" || it.name == "sslcacertificatepath") {
      const std::string v = verify.empty() ? "SSLVerifyClient not set" : "SSLVerifyClient " + verify;
      hints.add(it.value,
                std::string("Apache CA / trusted client certificate") +
                    (it.name == "sslcacertificatepath" ? " directory" : "") + paren(join({where, v}, "; ")),
                "ca", it.line);
    } else if (it.name == "sslproxymachinecertificatefile") {
      hints.add(it.value, "Apache proxy client certificate and key" + paren(where), "certificate", it.line);
    } else if (it.name == "sslproxycacertificatefile") {
      hints.add(it.value, "Apache proxy trusted CA (backend servers)" + paren(where), "ca", it.line);
    }
  }
  return hints.take();
}

// INI-style files of other daemons (a Redfish service, a vendor web server): "name = value" under "[section]", where
// the name says certificate/key/CA and the value looks like a file of such. The program is named after the file.
std::vector<RoleHint> generic_role_hints(const std::string& config_path, std::string_view text) {
  Hints hints(config_path);
  const auto t = prepare(text);
  if (!t) return {};
  std::string program(basename(config_path));
  if (const size_t dot = program.find('.'); dot != std::string::npos && dot > 0) program.resize(dot);
  if (program.empty()) program = "config";
  std::string section;
  std::map<std::string, std::string> port_of;  // section -> port
  struct Item {
    std::string section, path;
    const char* kind;
    std::string what;
    size_t line;
  };
  std::vector<Item> items;
  for (const Line& ln : split_lines(*t)) {
    const std::string_view s = trim(ln.text);
    if (s.empty() || s.front() == '#' || s.front() == ';') continue;
    if (s.front() == '[' && s.back() == ']' && s.size() > 2) {
      section = std::string(trim(s.substr(1, s.size() - 2)));
      continue;
    }
    const size_t eq = s.find_first_of("=:");
    if (eq == std::string_view::npos || eq == 0) continue;
    const std::string name = lower(trim(s.substr(0, eq)));
    const std::string value = unquote(s.substr(eq + 1));
    if (name == "port" || name == "listen" || name == "https_port" || name == "ssl_port") port_of[section] = value;
    if (value.empty() || !is_file_value(value) || name.size() > 64) continue;
    const bool pathlike = value.front() == '/' || contains(value, "/") ||
                          has_ext(value, {".pem", ".crt", ".cer", ".der", ".key", ".p12", ".pfx"});
    if (!pathlike) continue;
    const bool ca =
        starts_with(name, "ca") || contains(name, "_ca") || contains(name, "-ca") || contains(name, "trust");
    const bool key = contains(name, "key") && !contains(name, "keystore_pass") && !contains(name, "password");
    const bool cert = contains(name, "cert") || contains(name, "pem");
    if (ca && (cert || contains(name, "file") || contains(name, "path")))
      items.push_back({section, value, "ca", "trusted CA certificate", ln.number});
    else if (key && !ca)
      items.push_back({section, value, "key", "private key", ln.number});
    else if (cert)
      items.push_back({section, value, "certificate", "certificate", ln.number});
  }
  for (const Item& it : items) {
    std::string who = program + (it.section.empty() ? "" : " [" + it.section + "]");
    std::string where;
    if (auto p = port_of.find(it.section); p != port_of.end() && !p->second.empty()) where = "port " + p->second;
    hints.add(it.path, who + " " + it.what + paren(where), it.kind, it.line);
  }
  return hints.take();
}

std::vector<RoleHint> config_role_hints(const std::string& config_path, std::string_view text) {
  const auto t = prepare(text);
  if (!t) return {};
  const std::string path = lower(config_path);
  const std::string name(basename(path));
  // JNLP files reference jars and at most embed a PEM the scanner finds on its own: roles come from location_roles.
  if (ends_with(name, ".jnlp")) return {};

  using Parser = std::vector<RoleHint> (*)(const std::string&, std::string_view);
  std::vector<Parser> tried;
  auto run = [&](Parser p) -> std::vector<RoleHint> {
    if (std::find(tried.begin(), tried.end(), p) != tried.end()) return {};
    tried.push_back(p);
    return p(config_path, *t);
  };

  // 1. By name.
  Parser by_name = nullptr;
  if (starts_with(name, "stunnel") || contains(path, "/stunnel/"))
    by_name = stunnel_role_hints;
  else if (starts_with(name, "lighttpd") || contains(path, "/lighttpd/"))
    by_name = lighttpd_role_hints;
  else if (name == "nginx.conf" || contains(path, "/nginx/"))
    by_name = nginx_role_hints;
  else if (name == "httpd.conf" || name == "apache2.conf" || name == "ssl.conf" || contains(path, "/apache2/") ||
           contains(path, "/httpd/"))
    by_name = apache_role_hints;
  if (by_name)
    if (auto r = run(by_name); !r.empty()) return r;

  // 2. By content.
  const std::string_view s = *t;
  auto has_line_option = [&](std::initializer_list<const char*> names) {
    for (const Line& ln : split_lines(s)) {
      const std::string_view l = trim(ln.text);
      const size_t eq = l.find('=');
      if (eq == std::string_view::npos) continue;
      const std::string n = lower(trim(l.substr(0, eq)));
      for (const char* want : names)
        if (n == want) return true;
    }
    return false;
  };
  if (contains(s, "ssl.pemfile") || contains(s, "ssl.privkey"))
    if (auto r = run(lighttpd_role_hints); !r.empty()) return r;
  if (contains(s, "ssl_certificate"))
    if (auto r = run(nginx_role_hints); !r.empty()) return r;
  if (contains(lower(s), "sslcertificatefile"))
    if (auto r = run(apache_role_hints); !r.empty()) return r;
  if (has_line_option({"cert", "cafile"}) && has_line_option({"accept", "connect"}))
    if (auto r = run(stunnel_role_hints); !r.empty()) return r;
  // 3. Any other INI-style file naming certificate files.
  return run(generic_role_hints);
}

// Location parsing: see parse_location(). The file a certificate sits in is the innermost member step (or the input
// name when no container is involved); steps after it (pem@0x.., der@0x.., gzip) are encodings of that file's bytes.
// The archive holding it is the format of that member step, and the archive's own name is the member path of the
// member step before it (basename), or the input name.
std::vector<std::string> location_roles(const std::string& location, bool is_key) {
  std::vector<std::string> roles;
  if (location.empty() || location.size() > 65536) return roles;
  const std::vector<Step> steps = parse_location(location);
  size_t file_step = 0;
  for (size_t i = steps.size(); i-- > 1;)
    if (steps[i].member) {
      file_step = i;
      break;
    }
  const std::string& file_path = steps[file_step].member_path;
  const std::string file_name(basename(file_path));
  const std::string lname = lower(file_name);
  const std::string lpath = lower(file_path);
  const std::string container = steps[file_step].format;
  std::string archive_name;
  if (file_step > 0) {
    for (size_t i = file_step; i-- > 0;)
      if (i == 0 || steps[i].member) {
        archive_name = std::string(basename(steps[i].member_path));
        break;
      }
  }
  const bool in_zip = container == "zip" || container == "jar";

  // Jar signature blocks: META-INF/<signer>.RSA|DSA|EC hold the PKCS#7 with the signer's chain.
  if (in_zip && !is_key && starts_with(lpath, "meta-inf/") && has_ext(lname, {".rsa", ".dsa", ".ec"})) {
    roles.push_back("jar signing certificate (" + jar_display_name(archive_name) + ")");
    return roles;
  }

  // iKVM / JViewer / Avocent viewer resources: the client certificate and key the viewer's TLS side uses. Only for
  // jars whose name says KVM viewer: a res/client.crt in some other zip says nothing about iKVM.
  const bool in_res = starts_with(lpath, "res/") || contains(lpath, "/res/");
  if (in_zip && in_res && looks_like_kvm_jar(archive_name)) {
    const bool cert_ext = has_ext(lname, {".crt", ".pem", ".cer", ".der", ".p12", ".pfx"});
    const bool key_ext = has_ext(lname, {".key", ".pem", ".der", ".p12", ".pfx"});
    if (is_key ? key_ext : cert_ext) {
      const char* which = contains(lname, "client") ? "client" : contains(lname, "server") ? "server" : "embedded";
      roles.push_back(std::string("iKVM ") + which + (is_key ? " private key" : " certificate"));
    }
  }

  // A Pack200 jar (".jar.pack.gz") is not a zip: its entries are stored in Pack200 bands and the walker carves the
  // certificates straight out of the decoded stream ("/iKVM.jar.pack.gz!gzip!der@0x1F0"), with no member name. There,
  // DER certificates come from the META-INF signature block (resources such as res/client.crt are PEM text), and PEM
  // material in a KVM viewer's pack is its embedded resource of unknown name.
  const bool packed_jar = file_step > 0 && !in_zip && (ends_with(lname, ".pack.gz") || ends_with(lname, ".pack"));
  if (packed_jar) {
    const std::string& last = steps.back().format;
    if (!is_key && (last == "der" || last == "pkcs7") && steps.size() > file_step + 1)
      roles.push_back("jar signing certificate (" + jar_display_name(file_name) + ")");
    else if (last == "pem" && looks_like_kvm_jar(file_name))
      roles.push_back(is_key ? "iKVM embedded private key" : "iKVM embedded certificate");
  }

  if (ends_with(lname, ".jnlp")) roles.push_back(is_key ? "JNLP embedded private key" : "JNLP embedded certificate");

  if (!is_key) {
    static const char* kBundles[] = {"ca-certificates.crt", "ca-bundle.crt",      "ca-bundle.pem",
                                     "cacert.pem",          "cacerts.pem",        "tls-ca-bundle.pem",
                                     "ca-root-nss.crt",     "ca-bundle.trust.crt"};
    const bool bundle_name =
        std::any_of(std::begin(kBundles), std::end(kBundles), [&](const char* b) { return lname == b; }) ||
        (contains(lname, "ca") && contains(lname, "bundle"));
    const std::string dir(dirname(file_path));
    const std::string ldir = lower(dir);
    if (bundle_name) {
      roles.push_back("CA bundle");
    } else if (lname == "cacerts" && ends_with(ldir, "/security")) {
      roles.push_back("Java trusted CA keystore (" + dir + ")");
    } else if (file_step > 0 && (ldir == "/etc/ssl/certs" || ldir == "etc/ssl/certs" || ldir == "/etc/pki/tls/certs" ||
                                 ldir == "/etc/pki/ca-trust/extracted/pem" ||
                                 starts_with(ldir, "/usr/share/ca-certificates") || ldir == "/etc/ca-certificates")) {
      roles.push_back("trusted CA (" + dir + ")");
    }
  }
  return roles;
}

}  // namespace fwcert
