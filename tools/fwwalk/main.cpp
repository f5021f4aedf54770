// fwwalk: list every known structure in firmware images, validated, binwalk style or as JSON.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli.hpp"
#include "fwcert/core/mapped_file.hpp"
#include "fwcert/report/text.hpp"
#include "fwcert/report/walk_report.hpp"
#include "fwcert/scan/walker.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "fwwalk: find every known structure in firmware images (CramFS, uImage, FIT, squashfs, JFFS2, UBI, ELF,\n"
      "compressed streams, archives, PEM/DER certificates and keys, keystores), validate each one, and print a\n"
      "binwalk-compatible table or JSON.\n\n"
      "Examples:\n"
      "  fwwalk firmware.bin                 table of medium- and high-confidence hits\n"
      "  fwwalk --json firmware.bin | jq .   JSON array of {file, offset, size, type, confidence, ...}\n"
      "  fwwalk --all firmware.bin           include low-confidence candidates too\n"
      "  fwwalk --list-signatures            the magics loaded, and which validator each binds to\n"
      "  cat firmware.bin | fwwalk -         standard input (piped input is read into memory, up to 1 GiB)\n\n"
      "Exit: 0 fine, 2 usage error or unreadable input.\n",
      "fwwalk"};
  std::vector<std::string> files;
  bool json = false, all = false, list_sigs = false, list_validators = false;
  std::string min_conf = "medium", sig_path;
  std::vector<std::string> types;
  app.add_option("IMAGE", files, "Firmware images or any files to walk ('-': standard input)");
  app.add_flag("--json", json, "Print a JSON array instead of the table");
  app.add_flag("-a,--all", all, "Also list low-confidence hits (same as --min-confidence low)");
  app.add_option("--min-confidence", min_conf, "Lowest confidence to list: low, medium or high")
      ->default_val("medium")
      ->check(CLI::IsMember({"low", "medium", "high"}, CLI::ignore_case));
  app.add_option("-t,--type", types,
                 "Only list hits of this type (repeatable, or a comma list), e.g. -t cramfs -t uimage or "
                 "-t cramfs,uimage")
      ->delimiter(',');
  app.add_option("--signatures", sig_path,
                 "Signature file or directory of *.sig files (default: $FWCERT_SIGNATURES, the signatures/ folder "
                 "next to the program, or the built-in set)");
  app.add_flag("--list-signatures", list_sigs, "Print the loaded signature definitions and exit");
  app.add_flag("--list-validators", list_validators, "Print the built-in validators and exit");
  fwcert::cli::add_version(app, "fwwalk");
  if (auto rc = fwcert::cli::parse(app, argc, argv)) return *rc;

  try {
    if (sig_path.empty()) sig_path = fwcert::default_signature_path(argv[0]);
    auto walker = fwcert::make_default_walker(sig_path);
    if (!walker) {
      std::cerr << "fwwalk: " << fwcert::display(walker.error().message) << "\n";
      return 2;
    }
    if (list_validators) {
      fwcert::ValidatorRegistry reg;
      fwcert::register_builtin_validators(reg);
      for (const auto& v : reg.all()) std::cout << v.name << "\t" << v.summary << "\n";
      return 0;
    }
    if (list_sigs) {
      for (const auto& s : (*walker)->matcher().signatures()) {
        std::cout << s.type << "\t" << s.validator << "\t" << s.at << "\t";
        for (unsigned char c : s.magic) {
          char b[4];
          std::snprintf(b, sizeof b, "%02x", c);
          std::cout << b;
        }
        std::cout << "\t" << s.source << "\n";
      }
      return 0;
    }
    if (files.empty()) {
      std::cerr << "fwwalk: no IMAGE given (see fwwalk --help)\n";
      return 2;
    }
    fwcert::WalkOptions opts;
    fwcert::parse_confidence(all ? "low" : min_conf, opts.min_confidence);

    int rc = 0;
    std::vector<fwcert::FileWalk> walks;
    for (const auto& f : files) {
      auto mf = fwcert::MappedFile::open_input(f);
      if (!mf) {
        std::cerr << "fwwalk: " << fwcert::display(mf.error().message) << "\n";
        rc = 2;
        continue;
      }
      fwcert::FileWalk fw{f, (*walker)->walk(mf->view(), opts)};
      if (mf->truncated_while_read()) {
        std::cerr << "fwwalk: " << fwcert::display(f) << ": changed while being read (truncated); the walk is partial\n";
        rc = 2;
      }
      if (!types.empty())
        std::erase_if(fw.result.hits, [&](const fwcert::Hit& h) {
          return std::find(types.begin(), types.end(), h.type) == types.end();
        });
      if (!json) fwcert::write_walk_table(std::cout, fw, files.size() > 1);
      walks.push_back(std::move(fw));
    }
    if (json) std::cout << fwcert::dump_json(fwcert::walks_to_json(walks)) << "\n";
    return rc;
  } catch (const std::exception& e) {
    std::cerr << "fwwalk: internal error: " << e.what() << "\n";
    return 3;
  }
}
