// U-Boot legacy uImage headers (multi-file payloads included) and FIT (flattened device tree) image lists.
#include "fuzz_common.hpp"
#include "fwcert/formats/fit.hpp"
#include "fwcert/formats/uimage.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto v = fwfuzz::view(data, size);
  auto h = fwcert::uimage::read_header(v, 0);
  (void)h;
  if (size > 64) (void)fwcert::uimage::multi_part_sizes(fwfuzz::view(data + 64, size - 64));
  (void)fwcert::fit::list_images(v);
  return 0;
}
