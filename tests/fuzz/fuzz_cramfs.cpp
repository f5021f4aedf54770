// The CramFS reader: superblock, inodes, directory walk and file contents, and the recovery path for damaged images.
#include "fuzz_common.hpp"
#include "fwcert/extract/readers.hpp"
#include "fwcert/formats/cramfs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto v = fwfuzz::view(data, size);
  (void)fwcert::cramfs::read_superblock(v, 0);
  {
    fwcert::Budget budget(fwfuzz::small_limits());
    (void)fwcert::read_cramfs(v, budget);
  }
  {
    fwcert::Budget budget(fwfuzz::small_limits());
    (void)fwcert::recover_cramfs(v, budget);
  }
  return 0;
}
