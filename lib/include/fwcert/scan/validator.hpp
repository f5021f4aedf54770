// Validators: one function per format that looks at a candidate offset and either rejects it or returns a Hit.
// Validators read untrusted bytes: they never throw on bad input, check every read, and cap their work.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "fwcert/core/bytes.hpp"
#include "fwcert/core/civil_time.hpp"  // utc_time() for descriptions
#include "fwcert/scan/hit.hpp"
#include "fwcert/scan/signature.hpp"

namespace fwcert {

struct ValidateInput {
  ByteView image;          // the whole input (absolute offsets = image.base() + index)
  uint64_t start = 0;      // index in image where the structure would start (magic position - signature.at)
  const Signature* signature = nullptr;  // the definition that matched
  bool keep_decoded = false;  // a validator that decodes the structure may keep the output in Hit::decoded
};

// Returns nullopt to reject the candidate. A returned hit has offset (absolute), size, type, confidence and a
// description filled; a failed checksum lowers the confidence and adds a diagnostic instead of rejecting.
using ValidateFn = std::function<std::optional<Hit>(const ValidateInput&)>;

struct Validator {
  std::string name;
  std::string summary;  // one line for --list-validators
  ValidateFn fn;
};

class ValidatorRegistry {
 public:
  void add(std::string name, std::string summary, ValidateFn fn);
  const Validator* find(const std::string& name) const;
  const std::vector<Validator>& all() const { return validators_; }

 private:
  std::vector<Validator> validators_;
};

// Registers every validator compiled into the library. Explicit on purpose: self-registering statics vanish from
// static libraries.
void register_builtin_validators(ValidatorRegistry& registry);

// Per-family registration functions, one per source file in lib/src/formats/.
void register_cramfs_uimage_validators(ValidatorRegistry& registry);  // cramfs (both endiannesses), legacy uImage
void register_firmware_validators(ValidatorRegistry& registry);     // fdt/fit, crc32 table, uboot env, ASPEED index/footer
void register_filesystem_validators(ValidatorRegistry& registry);   // jffs2, elf
void register_squashfs_validators(ValidatorRegistry& registry);     // squashfs 2.x/3.x/4.0 (formats/squashfs.cpp)
void register_ubi_validators(ValidatorRegistry& registry);          // ubi (formats/ubi.cpp)
void register_ubifs_validators(ValidatorRegistry& registry);        // ubifs (formats/ubifs.cpp)
void register_compression_validators(ValidatorRegistry& registry);  // gzip, bzip2, xz, lzma, zstd
void register_archive_validators(ValidatorRegistry& registry);      // zip, 7z, tar, cpio
void register_key_validators(ValidatorRegistry& registry);          // pem, der x509, pkcs12, jks/jceks
void register_ext_validators(ValidatorRegistry& registry);          // ext2/ext3/ext4 (formats/ext.cpp)
void register_megarac_validators(ValidatorRegistry& registry);      // AMI MegaRAC module table
void register_openbmc_validators(ValidatorRegistry& registry);      // OpenBMC static and UBI flash layouts

// Helpers shared by validators.
std::string hex(uint64_t v);                            // "0x1A2B"
// At most max bytes of s (never cut inside a UTF-8 sequence) through report/text.hpp display(): control characters,
// invalid bytes and bidi controls escaped visibly (\xNN, \u{XXXX}), so descriptions say what the bytes are.
std::string printable(std::string_view s, size_t max);

}  // namespace fwcert
