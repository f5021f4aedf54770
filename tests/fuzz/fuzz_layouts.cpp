// The flash-layout parsers: the AMI MegaRAC module table (every "$MODULE$" of the input as the walk would meet it,
// and the container reader) and the OpenBMC static and UBI layouts (the input cut into the partitions of a 32 MiB
// flash, so that small inputs reach the environment, FIT, squashfs and UBI volume-table checks).
#include <algorithm>
#include <cstring>
#include <vector>

#include "fuzz_common.hpp"
#include "fwcert/formats/megarac.hpp"
#include "fwcert/formats/openbmc.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fwcert::ByteView v = fwfuzz::view(data, size);
  int tables = 0;
  for (size_t q = 0; q + 8 <= size && tables < 4; ++q) {
    const void* p = std::memchr(data + q, '$', size - q);
    if (!p) break;
    q = static_cast<size_t>(static_cast<const uint8_t*>(p) - data);
    if (!fwcert::megarac::plausible_fmh(v, q)) continue;
    (void)fwcert::megarac::read_table(v, q);
    fwcert::Budget budget(fwfuzz::small_limits());
    (void)fwcert::read_megarac(v.tail(q), budget);
    ++tables;
  }

  // A 32 MiB erased flash whose env, kernel, rofs and rwfs partitions start with quarters of the input; the first
  // byte picks the static (even) or UBI (odd) layout and the 32 or 64 MiB offsets (bit 1).
  static std::vector<uint8_t> flash(64u << 20, 0xFF);
  if (size < 2) return 0;
  const bool ubi = data[0] & 1, big = data[0] & 2;
  const size_t env = big ? 0xE0000 : 0x60000, kernel = big ? 0x100000 : 0x80000, rofs = big ? 0xA00000 : 0x4C0000,
               rwfs = big ? 0x2A00000 : 0x1C00000;
  const size_t quarter = std::min<size_t>((size - 1) / 4, 0x20000);  // the environment partition's size
  const size_t at[4] = {env, kernel, rofs, rwfs};
  for (size_t i = 0; i < 4; ++i) std::memcpy(flash.data() + at[i], data + 1 + i * quarter, quarter);
  const fwcert::ByteView f(flash.data(), big ? flash.size() : (32u << 20));
  const auto kind = ubi ? fwcert::openbmc::Kind::Ubi : fwcert::openbmc::Kind::Static;
  (void)fwcert::openbmc::recognise(f, kind, kernel);
  fwcert::Budget budget(fwfuzz::small_limits());
  (void)(ubi ? fwcert::read_openbmc_ubi(f, budget) : fwcert::read_openbmc_static(f, budget));
  for (size_t i = 0; i < 4; ++i) std::memset(flash.data() + at[i], 0xFF, quarter);
  return 0;
}
