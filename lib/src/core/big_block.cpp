#include "fwcert/core/big_block.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

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

std::pair<uint8_t*, uint64_t> GrowingBlock::room(uint64_t want) {
  const uint64_t capacity = block_ ? block_->size() : 0;
  const uint64_t need = size_ + std::min(want, cap_ - size_);
  if (need > capacity) {
    uint64_t next = std::max<uint64_t>({need, first_, uint64_t{64} << 10, 2 * capacity});
    next = std::min(next, cap_);
    auto bigger = BigBlock::allocate(static_cast<size_t>(next));
    if (!bigger) return {nullptr, 0};
    if (size_) std::memcpy(bigger->data(), block_->data(), static_cast<size_t>(size_));
    block_ = std::move(bigger);
  }
  if (!block_) return {nullptr, 0};
  const uint64_t avail = std::min<uint64_t>(block_->size(), cap_) - size_;
  if (avail == 0) return {nullptr, 0};
  return {block_->data() + size_, avail};
}

}  // namespace fwcert
