#include "fwcert/scan/validator.hpp"

#include <cinttypes>
#include <cstdio>

namespace fwcert {

void ValidatorRegistry::add(std::string name, std::string summary, ValidateFn fn) {
  validators_.push_back(Validator{std::move(name), std::move(summary), std::move(fn)});
}

const Validator* ValidatorRegistry::find(const std::string& name) const {
  for (const auto& v : validators_)
    if (v.name == name) return &v;
  return nullptr;
}

void register_builtin_validators(ValidatorRegistry& registry) {
  register_cramfs_uimage_validators(registry);
  register_firmware_validators(registry);
  register_squashfs_validators(registry);
  register_filesystem_validators(registry);
  register_ubi_validators(registry);
  register_ubifs_validators(registry);
  register_compression_validators(registry);
  register_archive_validators(registry);
  register_key_validators(registry);
  register_ext_validators(registry);
  register_megarac_validators(registry);
  register_openbmc_validators(registry);
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%" PRIX64, v);
  return buf;
}

std::string printable(std::string_view s, size_t max) {
  std::string out;
  for (char c : s.substr(0, max)) out.push_back(c >= 0x20 && c < 0x7f ? c : '.');
  return out;
}

}  // namespace fwcert
