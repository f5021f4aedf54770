// fwextract: unpack a firmware image in-process (CramFS, uImage/FIT, squashfs, archives, compressed streams),
// recursively, into one provenance-tracked tree; write it safely under an output folder with a JSON manifest.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "cli.hpp"
#include "fwcert/core/mapped_file.hpp"
#include "fwcert/extract/tree.hpp"
#include "fwcert/extract/writer.hpp"
#include "fwcert/report/text.hpp"
#include "fwcert/scan/walker.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "fwextract: unpack a firmware image without root, mounting or external programs. CramFS (both byte orders,\n"
      "damaged superblocks recovered), uImage and FIT payloads, squashfs, JFFS2, zip/jar/tar/cpio/7z/ar/iso9660 and\n"
      "gzip/bzip2/xz/lzma/zstd streams are read in-process and every extracted file is walked again.\n"
      "Every node carries its provenance, e.g.  x10.bin!cramfs@0x400000:/etc/stunnel/client.crt\n\n"
      "Examples:\n"
      "  fwextract firmware.bin -o out/       write the tree and out/manifest.json\n"
      "  fwextract firmware.bin --list        print every node's location, no writing\n"
      "  fwextract firmware.bin --list --json print the manifest as JSON\n"
      "  cat firmware.bin | fwextract - --list  standard input (piped input is read into memory, up to 1 GiB)\n\n"
      "Limits (per input; hitting one gives a diagnostic and a partial result): --max-depth 8, --max-total-mb 4096,\n"
      "--max-file-mb 1024, --max-entries 200000, --max-ratio 2000, --max-seconds 0 (none).\n\n"
      "Exit: 0 fine, 2 usage error, unreadable input, or an input not read to its end (out of memory, changed\n"
      "while read, or --max-seconds reached: what was found is still written or listed).\n",
      "fwextract"};
  std::string image, out_dir, sig_path;
  bool force = false, list = false, json = false;
  fwcert::ExtractOptions opts;
  fwcert::cli::LimitOptions limits;
  app.add_option("IMAGE", image, "Firmware image (or any file) to unpack ('-': standard input)")->required();
  app.add_option("-o,--output", out_dir, "Output folder (created; must be empty unless --force)");
  app.add_flag("--force", force, "Write into a non-empty output folder");
  app.add_flag("--list", list, "Print the tree's locations instead of writing files");
  app.add_flag("--json", json, "With --list: print the manifest JSON");
  limits.add(app);
  app.add_flag("!--no-recurse", opts.recurse, "Do not walk extracted files again");
  app.add_flag("--include-deleted", opts.include_deleted,
               "Also extract what a filesystem keeps but no longer shows: JFFS2 files whose name was deleted "
               "(PATH;deleted) and older contents of overwritten files (PATH;vN)");
  std::vector<std::string> cramfs_at;
  fwcert::cli::add_cramfs_at(app, cramfs_at);
  app.add_option("--signatures", sig_path, "Signature file or directory (default: built-in / next to the program)");
  fwcert::cli::add_version(app, "fwextract");
  if (auto rc = fwcert::cli::parse(app, argc, argv)) return *rc;
  if (!list && out_dir.empty()) {
    std::cerr << "fwextract: give an output folder with -o DIR, or --list (see fwextract --help)\n";
    return 2;
  }
  if (!fwcert::cli::parse_offsets(cramfs_at, "fwextract", opts.cramfs_at)) return fwcert::cli::kExitUsage;
  opts.limits = limits.get();

  try {
    if (sig_path.empty()) sig_path = fwcert::default_signature_path(argv[0]);
    auto walker = fwcert::make_default_walker(sig_path);
    if (!walker) {
      std::cerr << "fwextract: " << fwcert::display(walker.error().message) << "\n";
      return 2;
    }
    auto mf = fwcert::MappedFile::open_input(image);
    if (!mf) {
      std::cerr << "fwextract: " << fwcert::display(mf.error().message) << "\n";
      return 2;
    }
    const std::string name = std::filesystem::path(image).filename().string();
    fwcert::Tree tree = fwcert::extract_tree(mf->view(), name, **walker, opts);
    // Diagnostics quote member names from the image: display() keeps their control characters off the terminal.
    for (const auto& d : tree.diagnostics)
      std::cerr << "fwextract: " << fwcert::display(image) << ": " << fwcert::display(d.message) << "\n";
    // Not read to its end (a reader out of memory, the file truncated while read): what was read is still given.
    auto partial = [&] {
      if (!tree.incomplete && !mf->truncated_while_read()) return false;
      if (tree.timed_out) {
        std::cerr << "fwextract: " << fwcert::display(image) << ": time limit of " << opts.limits.max_seconds
                  << " s reached (--max-seconds); the result is partial\n";
        return true;
      }
      std::cerr << "fwextract: " << fwcert::display(image) << ": not read to the end (out of memory, or the file "
                << "changed while being read); the result is partial\n";
      return true;
    };
    if (list) {
      if (json) {
        std::cout << fwcert::dump_json(fwcert::tree_manifest(tree, nullptr)) << "\n";
      } else {
        // Depth first, so that what a file holds is listed right under it.
        std::vector<size_t> order, stack{0};
        while (!stack.empty()) {
          size_t id = stack.back();
          stack.pop_back();
          order.push_back(id);
          const auto& kids = tree.nodes[id].children;
          stack.insert(stack.end(), kids.rbegin(), kids.rend());
        }
        for (size_t id : order) {
          const auto& n = tree.nodes[id];
          // display(): member names are firmware bytes; control characters must not reach the terminal raw.
          std::cout << fwcert::display(n.location);
          if (n.kind == fwcert::EntryKind::Symlink) std::cout << " -> " << fwcert::display(n.link_target);
          if (n.kind != fwcert::EntryKind::File) std::cout << "  [" << fwcert::to_string(n.kind) << "]";
          for (const auto& d : n.diagnostics)
            if (d.severity != fwcert::Severity::Info)
              std::cout << "  (" << fwcert::to_string(d.severity) << ": " << fwcert::display(d.message) << ")";
          std::cout << "\n";
        }
      }
      return partial() ? 2 : 0;
    }
    auto report = fwcert::write_tree(tree, out_dir, fwcert::WriteOptions{force});
    if (!report) {
      std::cerr << "fwextract: " << fwcert::display(report.error().message) << "\n";
      return 2;
    }
    for (const auto& d : report->diagnostics) std::cerr << "fwextract: " << fwcert::display(d.message) << "\n";
    std::cerr << "fwextract: " << fwcert::display(image) << ": " << tree.nodes.size() << " nodes, " << report->files << " files, "
              << report->dirs << " directories, " << report->links << " symlinks, " << report->placeholders
              << " device placeholders, " << (tree.extracted_bytes >> 10) << " KiB decompressed -> " << report->manifest_path << "\n";
    return partial() ? 2 : 0;
  } catch (const std::exception& e) {
    std::cerr << "fwextract: internal error: " << e.what() << "\n";
    return 3;
  }
}
