#include "fwcert/core/checksum.hpp"

#include <isa-l/crc.h>

namespace fwcert {

// ISA-L's crc32_gzip_refl is zlib's crc32() (same reflected polynomial, same seeding and inversion) with
// PCLMULQDQ/AVX-512 folding picked at run time: several times faster on the large CramFS/uImage ranges we verify.
uint32_t crc32(ByteView data, uint32_t seed) {
  if (data.empty()) return seed;
  return crc32_gzip_refl(seed, data.data(), data.size());
}

uint32_t crc32_with_zeroed_word(ByteView data, uint64_t hole) {
  if (!data.contains(hole, 4)) return crc32(data);
  static const uint8_t kZero[4] = {0, 0, 0, 0};
  uint32_t c = crc32(ByteView(data.data(), static_cast<size_t>(hole)));
  c = crc32(ByteView(kZero, 4), c);
  return crc32(data.tail(hole + 4), c);
}

}  // namespace fwcert
