// U-Boot legacy image header (u-boot include/image.h). Shared by the walk's validator and the extractor.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fwcert/core/bytes.hpp"
#include "fwcert/core/result.hpp"

namespace fwcert::uimage {

inline constexpr uint32_t kMagic = 0x27051956;
inline constexpr uint32_t kHeaderSize = 64;

struct Header {
  uint32_t hcrc = 0, time = 0, size = 0, load = 0, ep = 0, dcrc = 0;
  uint8_t os = 0, arch = 0, type = 0, comp = 0;
  std::string name;
};

// Reads the 64-byte header at view[start] (fails on a wrong magic or fewer than 64 bytes).
Result<Header> read_header(ByteView view, uint64_t start);

// Names as binwalk prints them ("Linux", "ARM", "OS Kernel Image", "gzip"); empty when the value is unknown.
std::string_view os_name(uint8_t v);
std::string_view arch_name(uint8_t v);
std::string_view type_name(uint8_t v);
std::string_view comp_name(uint8_t v);

inline constexpr uint8_t kTypeMulti = 4;
inline constexpr uint8_t kTypeScript = 6;

// Part sizes of a multi-file or script payload (u32 BE table ended by 0), capped at max_parts. Empty when the table
// does not fit.
std::vector<uint32_t> multi_part_sizes(ByteView payload, size_t max_parts = 256);

}  // namespace fwcert::uimage
