#include "fwcert/core/big_block.hpp"

#include <sys/mman.h>

#include <cstdlib>

namespace fwcert {

namespace {
constexpr size_t kHuge = size_t{2} << 20;  // x86-64 and arm64 (4 KiB granule) PMD size
constexpr size_t kPage = 4096;
}  // namespace

std::shared_ptr<BigBlock> BigBlock::allocate(size_t size) {
  if (size < kHuge) {
    // Small: the heap reuses freed memory and needs no mapping of its own.
    void* p = std::calloc(size ? size : 1, 1);
    if (!p) return nullptr;
    return std::shared_ptr<BigBlock>(new BigBlock(static_cast<uint8_t*>(p), size, nullptr, 0));
  }
  if (size > (size_t{1} << 46)) return nullptr;
  // Map one huge page more than needed, keep the 2 MiB-aligned part, give the rest back.
  const size_t rounded = (size + kPage - 1) / kPage * kPage;
  const size_t len = rounded + kHuge;
  void* m = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) return nullptr;
  const uintptr_t base = reinterpret_cast<uintptr_t>(m);
  const uintptr_t aligned = (base + kHuge - 1) / kHuge * kHuge;
  if (aligned > base) munmap(m, aligned - base);
  const uintptr_t end = aligned + rounded;
  if (base + len > end) munmap(reinterpret_cast<void*>(end), base + len - end);
#ifdef MADV_HUGEPAGE
  madvise(reinterpret_cast<void*>(aligned), rounded, MADV_HUGEPAGE);  // advisory: ignored where THP is off
#endif
  return std::shared_ptr<BigBlock>(
      new BigBlock(reinterpret_cast<uint8_t*>(aligned), size, reinterpret_cast<void*>(aligned), rounded));
}

BigBlock::~BigBlock() {
  if (map_) munmap(map_, map_size_);
  else std::free(data_);
}

}  // namespace fwcert
