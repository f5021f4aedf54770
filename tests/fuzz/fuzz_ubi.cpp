// The UBI and UBIFS readers: the input read as a UBI image (every volume it yields is then read as UBIFS too, as the
// tree does with a UBIFS volume) and as a UBIFS image on its own.
#include "fuzz_common.hpp"
#include "fwcert/formats/ubi.hpp"
#include "fwcert/formats/ubifs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fwcert::Budget budget(fwfuzz::small_limits());
  fwcert::ExtractResult r = fwcert::read_ubi(fwfuzz::view(data, size), budget);
  for (const auto& e : r.entries) (void)fwcert::read_ubifs(e.content(), budget);
  fwcert::Budget fs_budget(fwfuzz::small_limits());
  (void)fwcert::read_ubifs(fwfuzz::view(data, size), fs_budget);
  return 0;
}
