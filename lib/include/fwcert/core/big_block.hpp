// Zero-filled memory for decompressed data, in its own anonymous mapping. A scan decompresses tens of MiB into
// buffers that live until the report is written; taking them 4 KiB page fault by page fault costs as much CPU as the
// decompression. Large blocks are aligned to 2 MiB and offered to the kernel as transparent huge pages
// (MADV_HUGEPAGE), so the kernel maps them 2 MiB at a time where THP is available ("madvise" or "always").
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

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

}  // namespace fwcert
