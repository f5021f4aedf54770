// The Supermicro ASPEED "[img]: base length crc32 name" partition index (FORMATS.md 4.1).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fwcert/core/bytes.hpp"

namespace fwcert::aspeed {

struct Record {
  uint64_t base = 0, length = 0;  // file offset and length of the image
  uint32_t crc = 0;               // CRC-32 of file[base, base+length)
  std::string name;
};

// The records of the index whose text starts at img[start] (empty when there is none).
std::vector<Record> index_records(ByteView img, uint64_t start);

}  // namespace fwcert::aspeed
