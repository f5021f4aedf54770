// The squashfs reader (libsquashfs under our bounds and budget).
#include "fuzz_common.hpp"
#include "fwcert/extract/readers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fwcert::Budget budget(fwfuzz::small_limits());
  (void)fwcert::read_squashfs(fwfuzz::view(data, size), budget);
  return 0;
}
