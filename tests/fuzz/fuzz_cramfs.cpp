// The CramFS reader: superblock, inodes, directory walk and file contents, the recovery path for damaged images, and
// the finder of images without a superblock (cramfs::probe_headless and the walk's "cramfs-root" validator).
#include <algorithm>
#include <vector>

#include "fuzz_common.hpp"
#include "fwcert/extract/containers.hpp"
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
  // The finder, on the input as it is and with its superblock's first 64 bytes overwritten (so that the seeds, whole
  // CramFS images, reach the tree check at once): both byte orders, with and without the boot pad; then the walk,
  // which anchors on the root inode, and the container reader the tree would use on its hit.
  std::vector<uint8_t> headless(data, data + size);
  for (size_t i = 0; i < 64 && i < headless.size(); ++i) headless[i] = 0xa5;
  for (const auto& bytes : {fwfuzz::view(data, size), fwfuzz::view(headless.data(), headless.size())}) {
    for (bool be : {false, true})
      for (bool pad : {false, true}) (void)fwcert::cramfs::probe_headless(bytes, 0, be, pad);
    fwcert::WalkOptions options;
    options.min_confidence = fwcert::Confidence::Low;
    for (const fwcert::Hit& h : fwfuzz::walker().walk(bytes, options).hits) {
      if (h.type != "cramfs" || h.offset >= bytes.size()) continue;
      fwcert::Budget budget(fwfuzz::small_limits());
      const uint64_t len = h.size ? std::min<uint64_t>(h.size, bytes.size() - h.offset) : bytes.size() - h.offset;
      (void)fwcert::find_container("cramfs")->read(bytes.clamp(h.offset, len), budget, {});
    }
  }
  return 0;
}
