// The ext2/3/4 reader (libext2fs over our read-only memory channel, under our bounds and budget) and its superblock
// checks.
#include "fuzz_common.hpp"
#include "fwcert/formats/ext.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fwcert::Budget budget(fwfuzz::small_limits());
  (void)fwcert::ext::read_superblock(fwfuzz::view(data, size));
  (void)fwcert::ext::read_ext(fwfuzz::view(data, size), budget);
  return 0;
}
