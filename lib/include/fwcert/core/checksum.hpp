// Checksums used by firmware formats. CRC-32 is zlib's (polynomial 0xEDB88320, seed 0), as U-Boot, CramFS and the
// ASPEED index use it.
#pragma once

#include <cstdint>

#include "fwcert/core/bytes.hpp"

namespace fwcert {

uint32_t crc32(ByteView data, uint32_t seed = 0);
// CRC-32 of data where the 4 bytes at [hole, hole+4) are taken as zero (CramFS fsid.crc, uImage ih_hcrc).
uint32_t crc32_with_zeroed_word(ByteView data, uint64_t hole);

}  // namespace fwcert
