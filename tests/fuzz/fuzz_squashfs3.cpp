// The squashfs 2.x/3.x reader (formats/squashfs3.cpp) and the dry run the walk's validator makes of it.
#include "fuzz_common.hpp"
#include "fwcert/formats/squashfs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fwcert::Budget budget(fwfuzz::small_limits());
  (void)fwcert::read_squashfs3(fwfuzz::view(data, size), budget);
  (void)fwcert::squashfs::probe_squashfs3(fwfuzz::view(data, size));
  return 0;
}
