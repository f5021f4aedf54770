// The JFFS2 reader (node scan, fragment resolution, every decompressor) and the walk's jffs2 validator, with and
// without the deleted data (the first byte of the input chooses).
#include "fuzz_common.hpp"
#include "fwcert/formats/jffs2.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  fwcert::Budget budget(fwfuzz::small_limits());
  fwcert::ContainerReadOptions o;
  o.include_deleted = (data[0] & 1) != 0;
  const fwcert::ByteView v = fwfuzz::view(data + 1, size - 1);
  (void)fwcert::read_jffs2(v, budget, o);
  fwcert::jffs2::ScanOptions so;
  so.records = true;
  so.check_data = true;
  (void)fwcert::jffs2::scan(v, so);
  return 0;
}
