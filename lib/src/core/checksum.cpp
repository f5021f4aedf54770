#include "fwcert/core/checksum.hpp"

#include <zlib.h>

#include <algorithm>

namespace fwcert {

uint32_t crc32(ByteView data, uint32_t seed) {
  uLong crc = seed;
  const uint8_t* p = data.data();
  size_t n = data.size();
  // zlib takes uInt lengths; feed large buffers in chunks.
  while (n > 0) {
    uInt chunk = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    crc = ::crc32(crc, p, chunk);
    p += chunk;
    n -= chunk;
  }
  return static_cast<uint32_t>(crc);
}

uint32_t crc32_with_zeroed_word(ByteView data, uint64_t hole) {
  if (!data.contains(hole, 4)) return crc32(data);
  static const uint8_t kZero[4] = {0, 0, 0, 0};
  uint32_t c = crc32(ByteView(data.data(), static_cast<size_t>(hole)));
  c = crc32(ByteView(kZero, 4), c);
  return crc32(data.tail(hole + 4), c);
}

}  // namespace fwcert
