// The command-line contract of every fwcert tool (fwwalk, fwextract, fwcert): exit 0 when fine, 1 for findings where
// asked (--fail-on), 2 for usage errors and unreadable input; --version; one value per use of an option.
#pragma once

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cctype>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "fwcert/core/version.hpp"
#include "fwcert/extract/entry.hpp"
#include "fwcert/report/text.hpp"

namespace fwcert::cli {

constexpr int kExitOk = 0;
constexpr int kExitFindings = 1;
constexpr int kExitUsage = 2;

// The extraction limits, the same options with the same defaults in fwextract, fwcert scan and fwcert catalog add.
// Hitting one gives a diagnostic and a partial result; the time limit makes the input partial (exit 2).
struct LimitOptions {
  fwcert::ExtractLimits limits;
  uint64_t total_mb = limits.max_total_bytes >> 20, file_mb = limits.max_file_bytes >> 20;
  void add(CLI::App& app) {
    app.add_option("--max-depth", limits.max_depth, "Nesting depth limit (containers inside containers)")
        ->capture_default_str();
    app.add_option("--max-total-mb", total_mb, "Total decompressed bytes limit per input, MiB")->capture_default_str();
    app.add_option("--max-file-mb", file_mb, "Limit for one extracted file, MiB")->capture_default_str();
    app.add_option("--max-entries", limits.max_entries, "Entry count limit per input")->capture_default_str();
    app.add_option("--max-ratio", limits.max_ratio, "Decompression ratio treated as a bomb (past 1 MiB)")
        ->capture_default_str();
    app.add_option("--max-seconds", limits.max_seconds,
                   "Time limit per input, seconds (0: none); when reached, what was found so far is reported, the "
                   "input is named as partial and the exit status is 2")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1e9));
  }
  // The limits as given (call after parsing).
  fwcert::ExtractLimits get() const {
    fwcert::ExtractLimits l = limits;
    l.max_total_bytes = total_mb << 20;
    l.max_file_bytes = file_mb << 20;
    return l;
  }
};

// --version prints "NAME 0.1.0" (the CMake project version, through the library) and exits 0.
inline void add_version(CLI::App& app, const std::string& name) {
  app.set_version_flag("--version", name + " " + std::string(fwcert::version()), "Print the version and exit");
}

// CLI11 lets an option that fills a list take every following word that is not an option, so
// `--pkcs12-password foo A.crt B.crt` took A.crt as a password and `-t cramfs IMAGE` took IMAGE as a type. Every such
// option, in every subcommand, takes exactly one value per use instead, and is repeated for more (a comma list too
// where its declaration adds a delimiter). Positional arguments are left alone.
inline void one_value_per_use(CLI::App& app) {
  for (CLI::Option* o : app.get_options())
    if (o->nonpositional() && o->get_items_expected_max() > 1) o->expected(1)->allow_extra_args(false)->take_all();
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) one_value_per_use(*sub);
}

// Notes whether an option called `name` ("--now") in app or one of its subcommands takes a value, or is a flag.
inline void find_option_kinds(CLI::App& app, const std::string& name, bool& takes_value, bool& is_flag) {
  if (CLI::Option* o = app.get_option_no_throw(name)) (o->get_items_expected_max() > 0 ? takes_value : is_flag) = true;
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
    find_option_kinds(*sub, name, takes_value, is_flag);
}

// argv for CLI11 (which takes it last word first). CLI11 reads `--name=` as `--name` and takes the next word as its
// value, so `--pkcs12-password= A.crt B.crt` took A.crt as the password: `--name=` is handed over as `--name` and an
// empty word, the empty value it means, when the option takes a value (never a flag's, never after `--`).
inline std::vector<std::string> arguments(CLI::App& app, int argc, char** argv) {
  std::vector<std::string> args;
  bool options_ended = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    options_ended = options_ended || a == "--";
    if (!options_ended && a.size() > 3 && a.starts_with("--") && a.find('=') == a.size() - 1) {
      a.pop_back();
      bool takes_value = false, is_flag = false;
      find_option_kinds(app, a, takes_value, is_flag);
      if (takes_value && !is_flag) {
        args.push_back(a);
        args.emplace_back();
        continue;
      }
      a.push_back('=');
    }
    args.push_back(std::move(a));
  }
  std::reverse(args.begin(), args.end());
  return args;
}

// Parses the command line after the options are declared. Returns the exit code when the program is to stop here:
// 0 after --help or --version (printed on stdout), 2 after a usage error (CLI11's message on stderr) or when there
// are no arguments at all (the usage on stderr). CLI11's own codes (105, 106, 109, ...) never reach the shell.
inline std::optional<int> parse(CLI::App& app, int argc, char** argv) {
  one_value_per_use(app);
  if (argc <= 1) {
    std::cerr << app.help();
    return kExitUsage;
  }
  try {
    app.parse(arguments(app, argc, argv));
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  return std::nullopt;
}

// --cramfs-at OFFSET of fwextract, fwcert scan and fwcert catalog add: offsets of CramFS images whose superblock is
// damaged, read by recovering their tree from the root directory. One offset per use, repeatable, or a comma list.
inline CLI::Option* add_cramfs_at(CLI::App& app, std::vector<std::string>& texts) {
  return app
      .add_option("--cramfs-at", texts,
                  "Offset (decimal or 0x hex) of a CramFS whose superblock is damaged; its tree is recovered from the "
                  "root directory (repeatable, or a comma list)")
      ->delimiter(',');
}

// The offsets of --cramfs-at: decimal, 0x hex (or 0 octal, as strtoull reads them). A word that is not a whole
// offset (empty, a sign, trailing text, more than 64 bits) is a usage error named on stderr as "WHO: --cramfs-at:
// 'WORD' is not an offset"; then false.
inline bool parse_offsets(const std::vector<std::string>& texts, const std::string& who, std::vector<uint64_t>& out) {
  for (const auto& s : texts) {
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = std::strtoull(s.c_str(), &end, 0);
    // strtoull skips leading blanks and takes "-1" as 2^64-1: only digits are an offset.
    if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0])) || end == s.c_str() || *end || errno == ERANGE) {
      std::cerr << who << ": --cramfs-at: '" << fwcert::display(s) << "' is not an offset\n";
      return false;
    }
    out.push_back(v);
  }
  return true;
}

}  // namespace fwcert::cli
