// bench/ubifs.sh's yardstick: decompression alone. Every data node of a UBIFS image (found by a linear scan of the
// image for node headers of type UBIFS_DATA_NODE at 8-byte boundaries, fs/ubifs/ubifs-media.h struct ubifs_data_node)
// is decoded with the library's codec layer (core/codec decode_block) into one 4 KiB buffer, N times; prints the best
// CPU time in milliseconds (CPU, not wall: the bench machines are shared) and the bytes produced. No CRC, no index, no tree, no walk, nothing kept: the least any reader
// of this image must do. Built by bench/ubifs.sh against build/lib/libfwcert_lib.a.
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "fwcert/core/codec.hpp"

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  std::ifstream in(argv[1], std::ios::binary);
  std::vector<uint8_t> img((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const fwcert::ByteView v(img.data(), img.size());
  // The data nodes, found once (not timed).
  struct Node { size_t at, len; };
  std::vector<Node> nodes;
  for (size_t p = 0; p + 48 <= img.size(); p += 8) {
    if (v.u32le(p) != 0x06101831u || v.u8(p + 20) != 1) continue;
    const uint32_t len = *v.u32le(p + 16);
    if (len < 48 || !v.contains(p, len)) continue;
    nodes.push_back({p, len});
    p += (len + 7) / 8 * 8 - 8;
  }
  uint8_t out[4096];
  double best = 1e9;
  uint64_t produced = 0;
  for (int r = 0; r < rounds; ++r) {
    produced = 0;
    timespec c0{}, c1{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    for (const Node& n : nodes) {
      const uint16_t compr = *v.u16le(n.at + 44);
      const fwcert::ByteView payload = *v.sub(n.at + 48, n.len - 48);
      if (compr == 0) {
        std::memcpy(out, payload.data(), std::min<size_t>(payload.size(), sizeof out));
        produced += payload.size();
        continue;
      }
      const fwcert::BlockCodec c = compr == 1 ? fwcert::BlockCodec::Lzo1x
                                   : compr == 2 ? fwcert::BlockCodec::Deflate
                                                : fwcert::BlockCodec::Zstd;
      produced += fwcert::decode_block(c, payload, out, sizeof out).produced;
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    const double ms = (c1.tv_sec - c0.tv_sec) * 1e3 + (c1.tv_nsec - c0.tv_nsec) / 1e6;
    if (ms < best) best = ms;
  }
  std::printf("%.2f %zu %llu\n", best, nodes.size(), static_cast<unsigned long long>(produced));
  return 0;
}
