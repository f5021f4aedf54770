// The signature walk with every built-in validator (CramFS, uImage, FIT, squashfs, archives, PEM, DER, ...).
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fwcert::WalkOptions options;
  options.min_confidence = fwcert::Confidence::Low;  // keep every candidate, so every validator's result is used
  options.keep_decoded = true;
  auto r = fwfuzz::walker().walk(fwfuzz::view(data, size), options);
  (void)r;
  return 0;
}
