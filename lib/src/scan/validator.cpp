#include "fwcert/scan/validator.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "fwcert/report/text.hpp"

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
  // At most max bytes, not cut inside a UTF-8 sequence (at most 3 continuation bytes are given back), then the one
  // display sanitiser of every human-readable output (report/text.hpp display()).
  size_t end = std::min(max, s.size());
  for (int k = 0; k < 3 && end > 0 && end < s.size() && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80; ++k) --end;
  return display(s.substr(0, end));
}

}  // namespace fwcert
