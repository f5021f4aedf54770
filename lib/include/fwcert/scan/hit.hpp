// Plain records produced by the walk. No formatting here: reporters turn these into text.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace fwcert {

enum class Confidence : uint8_t { Low = 1, Medium = 2, High = 3 };
enum class Severity : uint8_t { Info, Warning, Error };

std::string_view to_string(Confidence c);
std::string_view to_string(Severity s);
// Parses "low", "medium", "high" (case-insensitive); false when unknown.
bool parse_confidence(std::string_view text, Confidence& out);

// Something noteworthy about a structure, at an absolute offset: a bad checksum, a truncated payload, ...
struct Diagnostic {
  uint64_t offset = 0;
  Severity severity = Severity::Warning;
  std::string message;
};

// How the walk treats the bytes a validated hit covers.
enum class Nesting : uint8_t {
  // Skip past the region: its bytes are compressed or otherwise not worth scanning (CramFS, gzip, squashfs).
  Opaque,
  // Keep scanning inside and list what is there (uImage payloads, tar and cpio members, ELF data), but do not list
  // the container's own repeated headers (each cpio entry, each tar header) as new hits of the same type.
  Container,
};

struct Hit {
  uint64_t offset = 0;  // absolute offset where the structure starts (CramFS: the superblock)
  uint64_t size = 0;    // bytes the structure covers; 0 when the format does not tell
  std::string type;     // short type name: cramfs, uimage, gzip, crc32, pem-certificate, ...
  Confidence confidence = Confidence::Low;
  std::string description;  // one human line, binwalk style
  std::vector<Diagnostic> diagnostics;
  Nesting nesting = Nesting::Opaque;
  // The structure ran into the end of the input without its own end (a truncated stream): `size` is what remained,
  // not a proven extent, so the walk and the tree still look at what lies inside it.
  bool open_ended = false;
  // What a validator decoded while checking the structure (the inflated bytes of a gzip stream), kept only when the
  // walk asked for it (WalkOptions::keep_decoded), so an extractor need not decode the same stream again.
  std::shared_ptr<const void> decoded_owner;
  const uint8_t* decoded = nullptr;
  uint64_t decoded_size = 0;

  void diag(uint64_t at, Severity s, std::string message) { diagnostics.push_back({at, s, std::move(message)}); }
};

}  // namespace fwcert
