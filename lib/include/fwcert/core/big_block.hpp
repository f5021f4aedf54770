// Zero-filled memory for decompressed data, in its own anonymous mapping. A scan decompresses tens of MiB into
// buffers that live until the report is written; taking them 4 KiB page fault by page fault costs as much CPU as the
// decompression. Large blocks are aligned to 2 MiB and offered to the kernel as transparent huge pages
// (MADV_HUGEPAGE), so the kernel maps them 2 MiB at a time where THP is available ("madvise" or "always").
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace fwcert {

class BigBlock {
 public:
  // nullptr when the memory cannot be had (the caller reports it like any other allocation failure).
  static std::shared_ptr<BigBlock> allocate(size_t size);

  ~BigBlock();
  BigBlock(const BigBlock&) = delete;
  BigBlock& operator=(const BigBlock&) = delete;

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  BigBlock(uint8_t* data, size_t size, void* map, size_t map_size)
      : data_(data), size_(size), map_(map), map_size_(map_size) {}
  uint8_t* data_;
  size_t size_;
  void* map_;        // what to unmap (nullptr: data_ came from calloc)
  size_t map_size_;
};

// Output of a decoder, in a BigBlock that grows by doubling (copying what it holds) up to a cap. Decoders write into
// room() and then count what they wrote with produced().
class GrowingBlock {
 public:
  // `first`: the size of the first block (a size hint); `cap`: never more than this in all.
  GrowingBlock(uint64_t first, uint64_t cap) : first_(first), cap_(cap) {}

  // Room for at least min(want, cap - size) more bytes, possibly more; {nullptr, 0} at the cap or when memory cannot
  // be had.
  std::pair<uint8_t*, uint64_t> room(uint64_t want);
  void produced(uint64_t n) { size_ += n; }

  uint64_t size() const { return size_; }
  const uint8_t* data() const { return block_ ? block_->data() : nullptr; }
  // The block holding the output (nullptr when nothing was ever written); the GrowingBlock is empty afterwards.
  std::shared_ptr<BigBlock> release() {
    size_ = 0;
    return std::move(block_);
  }

 private:
  uint64_t first_, cap_;
  std::shared_ptr<BigBlock> block_;
  uint64_t size_ = 0;
};

}  // namespace fwcert
