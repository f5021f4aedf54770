#include "fwcert/scan/signature.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fwcert {

namespace fs = std::filesystem;

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Splits a line into tokens; a quoted string is one token (kept with its quotes); '#' outside quotes ends the line.
bool tokenize(std::string_view line, std::vector<std::string>& out, std::string& err) {
  size_t i = 0;
  while (i < line.size()) {
    char c = line[i];
    if (c == '#') break;
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    std::string tok;
    if (c == '"') {
      tok.push_back('"');
      ++i;
      bool closed = false;
      while (i < line.size()) {
        char d = line[i++];
        if (d == '\\' && i < line.size()) {
          tok.push_back(d);
          tok.push_back(line[i++]);
          continue;
        }
        if (d == '"') {
          closed = true;
          break;
        }
        tok.push_back(d);
      }
      if (!closed) {
        err = "unterminated quoted string";
        return false;
      }
      tok.push_back('"');
    } else {
      while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i])) && line[i] != '#') tok.push_back(line[i++]);
    }
    out.push_back(std::move(tok));
  }
  return true;
}

bool decode_magic_token(const std::string& tok, std::string& magic, std::string& err) {
  if (tok.size() >= 2 && tok.front() == '"') {
    for (size_t i = 1; i + 1 < tok.size(); ++i) {
      char c = tok[i];
      if (c != '\\') {
        magic.push_back(c);
        continue;
      }
      char e = tok[++i];
      switch (e) {
        case 'n': magic.push_back('\n'); break;
        case 'r': magic.push_back('\r'); break;
        case 't': magic.push_back('\t'); break;
        case '\\': magic.push_back('\\'); break;
        case '"': magic.push_back('"'); break;
        case 'x': {
          if (i + 2 >= tok.size() - 0 || hex_value(tok[i + 1]) < 0 || hex_value(tok[i + 2]) < 0) {
            err = "bad \\x escape in " + tok;
            return false;
          }
          magic.push_back(static_cast<char>(hex_value(tok[i + 1]) * 16 + hex_value(tok[i + 2])));
          i += 2;
          break;
        }
        default: err = std::string("unknown escape \\") + e + " in " + tok; return false;
      }
    }
    return true;
  }
  if (tok.size() % 2 != 0) {
    err = "magic byte '" + tok + "' is not hex pairs";
    return false;
  }
  for (size_t i = 0; i < tok.size(); i += 2) {
    int hi = hex_value(tok[i]), lo = hex_value(tok[i + 1]);
    if (hi < 0 || lo < 0) {
      err = "magic byte '" + tok + "' is not hex";
      return false;
    }
    magic.push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

bool valid_name(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.';
  });
}

}  // namespace

Result<std::vector<Signature>> parse_signatures(std::string_view text, const std::string& source_name) {
  std::vector<Signature> out;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    std::string where = source_name + ":" + std::to_string(line_no);
    std::vector<std::string> toks;
    std::string err;
    if (!tokenize(line, toks, err)) return make_error(0, where + ": " + err);
    if (toks.empty()) continue;
    if (toks.size() < 4) return make_error(0, where + ": expected '<type> <validator> <at> <magic...>'");
    Signature s;
    s.type = toks[0];
    s.validator = toks[1];
    if (!valid_name(s.type)) return make_error(0, where + ": bad type name '" + s.type + "'");
    if (!valid_name(s.validator)) return make_error(0, where + ": bad validator name '" + s.validator + "'");
    char* end = nullptr;
    errno = 0;
    unsigned long at = std::strtoul(toks[2].c_str(), &end, 0);
    if (end == toks[2].c_str() || *end != '\0' || errno != 0 || at > 1u << 20)
      return make_error(0, where + ": bad offset '" + toks[2] + "' (a number up to 1048576)");
    s.at = static_cast<uint32_t>(at);
    for (size_t i = 3; i < toks.size(); ++i)
      if (!decode_magic_token(toks[i], s.magic, err)) return make_error(0, where + ": " + err);
    if (s.magic.size() < 2) return make_error(0, where + ": a magic needs at least 2 bytes");
    if (s.magic.size() > 64) return make_error(0, where + ": a magic may have at most 64 bytes");
    s.source = where;
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::vector<Signature>> load_signatures(const std::string& path) {
  std::error_code ec;
  std::vector<fs::path> files;
  if (fs::is_directory(path, ec)) {
    for (const auto& e : fs::directory_iterator(path, ec))
      if (e.path().extension() == ".sig") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    if (files.empty()) return make_error(0, path + ": no *.sig files");
  } else if (fs::exists(path, ec)) {
    files.push_back(path);
  } else {
    return make_error(0, path + ": no such file or directory");
  }
  std::vector<Signature> all;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) return make_error(0, f.string() + ": cannot read");
    std::stringstream ss;
    ss << in.rdbuf();
    auto r = parse_signatures(ss.str(), f.string());
    if (!r) return r.error();
    all.insert(all.end(), r->begin(), r->end());
  }
  return all;
}

std::string default_signature_path(const std::string& argv0) {
  if (const char* env = std::getenv("FWCERT_SIGNATURES"); env && *env) return env;
  std::error_code ec;
  fs::path exe = fs::canonical("/proc/self/exe", ec);
  if (ec) exe = fs::absolute(argv0, ec);
  for (fs::path dir = exe.parent_path(); !dir.empty() && dir != dir.root_path(); dir = dir.parent_path()) {
    for (const char* rel : {"signatures", "share/fwcert/signatures"}) {
      fs::path cand = dir / rel;
      if (fs::is_directory(cand, ec) && fs::exists(cand / "firmware.sig", ec)) return cand.string();
    }
  }
  return {};
}

}  // namespace fwcert
