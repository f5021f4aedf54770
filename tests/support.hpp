// Helpers shared by the tests: building synthetic bytes, finding the corpus, walking buffers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fwcert/scan/walker.hpp"

namespace fwtest {

using Bytes = std::vector<uint8_t>;

// ../shared/corpus next to the project, or "" when absent (tests then SKIP via corpus_file()).
std::string corpus_dir();
// Full path of a corpus file, or nullopt (and a Catch2 WARN saying it was skipped) when the corpus is absent.
std::optional<std::string> corpus_file(const std::string& relative);
std::string source_dir();

Bytes read_file(const std::string& path);

// Little helpers to build synthetic structures.
void put_u16le(Bytes& b, size_t off, uint16_t v);
void put_u32le(Bytes& b, size_t off, uint32_t v);
void put_u32be(Bytes& b, size_t off, uint32_t v);
void put_u16be(Bytes& b, size_t off, uint16_t v);
void put_u64le(Bytes& b, size_t off, uint64_t v);
void put_u64be(Bytes& b, size_t off, uint64_t v);
void append(Bytes& b, const Bytes& more);
void append(Bytes& b, const std::string& text);
Bytes random_bytes(size_t n, uint32_t seed);
// gzip/zlib/raw-deflate helpers built on zlib (maximum compression; for synthetic fixtures).
Bytes gzip_compress(const Bytes& data);
Bytes zlib_compress(const Bytes& data);
Bytes raw_deflate(const Bytes& data);  // bare RFC 1951 data, no wrapper

// A minimal valid CramFS (version 2, sorted, CRC filled) whose root directory holds these regular files, in the
// given byte order. Names must be sorted and at most 252 bytes; blocks are 4096 bytes, zlib-compressed.
struct CramfsFile {
  std::string name;
  Bytes content;
  uint32_t mode = 0100644;
};
Bytes make_cramfs(const std::vector<CramfsFile>& files, bool big_endian);
// A legacy uImage around payload (header and data CRCs filled).
Bytes make_uimage(const Bytes& payload, uint8_t type = 2, uint8_t comp = 1, const std::string& name = "21400000",
                  uint32_t time = 1594976572);

// A ustar archive built by hand (no validation of names: tests use it for hostile names). typeflag '0' file,
// '2' symlink (linkname), '5' directory.
struct TarMember {
  std::string name;
  std::string content;
  char typeflag = '0';
  std::string linkname;
};
Bytes make_tar(const std::vector<TarMember>& members);

// Does any diagnostic of the hit contain needle?
bool has_diag(const fwcert::Hit& h, const std::string& needle);
// a ++ b ++ c
Bytes concat(const Bytes& a, const Bytes& b, const Bytes& c = {});

// The default walker (built-in signatures), shared by tests.
const fwcert::Walker& walker();
// Walks bytes with min confidence low (everything).
fwcert::WalkResult walk_all(const Bytes& data);
// Hits of a type.
std::vector<fwcert::Hit> hits_of(const fwcert::WalkResult& r, const std::string& type);
// Runs one validator by name at start (relative to data) with the first signature of that validator.
std::optional<fwcert::Hit> validate(const std::string& validator, const Bytes& data, uint64_t start = 0);

}  // namespace fwtest
