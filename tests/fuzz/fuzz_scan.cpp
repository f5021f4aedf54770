// The whole scan of one input: walk, tree building with extraction (archives, CramFS, squashfs, compressed streams,
// nested to the depth cap), certificate/key/keystore parsing, key pairing and role inference.
#include "fuzz_common.hpp"
#include "fwcert/certs/scan.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fwcert::ScanOptions options;
  options.now = 1767225600;  // 2026-01-01T00:00:00Z, pinned like the tests
  options.extract.limits = fwfuzz::small_limits();
  options.extract.threads = 1;
  options.pkcs12_passwords = {"", "password"};
  (void)fwcert::scan_input(fwfuzz::view(data, size), "fuzz.bin", fwfuzz::walker(), options);
  return 0;
}
