// The command-line contract of every fwcert tool (fwwalk, fwextract, fwcert): exit 0 when fine, 1 for findings where
// asked (--fail-on), 2 for usage errors and unreadable input; --version; one value per use of an option.
#pragma once

#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>
#include <string>

#include "fwcert/core/version.hpp"

namespace fwcert::cli {

constexpr int kExitOk = 0;
constexpr int kExitFindings = 1;
constexpr int kExitUsage = 2;

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
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  return std::nullopt;
}

}  // namespace fwcert::cli
