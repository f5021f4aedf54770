/* The floor the JFFS2 bench compares `fwcert scan` with: walk the nodes of a little-endian JFFS2 image and inflate
 * every zlib data node (JFFS2_COMPR_ZLIB) into a page buffer with ISA-L, the inflater fwcert uses, and nothing else:
 * no CRC, no fragment resolution, no tree, no walk of the contents. Layout: Linux include/uapi/linux/jffs2.h
 * (struct jffs2_unknown_node, struct jffs2_raw_inode). Built by bench/jffs2.sh: cc -O2 jffs2_decode.c -lisal */
#include <fcntl.h>
#include <isa-l/igzip_lib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static uint32_t le32(const uint8_t* p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  int fd = open(argv[1], O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) return 2;
  const size_t n = (size_t)st.st_size;
  const uint8_t* m = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
  if (m == MAP_FAILED) return 2;
  static uint8_t page[1 << 20];
  static struct inflate_state s;
  uint64_t nodes = 0, out = 0;
  for (size_t pos = 0; pos + 12 <= n;) {
    if (m[pos] != 0x85 || m[pos + 1] != 0x19) { pos += 4; continue; }
    const uint32_t type = m[pos + 2] | m[pos + 3] << 8, totlen = le32(m + pos + 4);
    if (totlen < 12 || totlen > n - pos) { pos += 4; continue; }
    if (type == 0xE002 && totlen >= 68 && m[pos + 56] == 6) {
      const uint32_t csize = le32(m + pos + 48), dsize = le32(m + pos + 52);
      if (csize <= totlen - 68 && dsize <= sizeof page) {
        isal_inflate_init(&s);
        s.crc_flag = ISAL_ZLIB;
        s.next_in = (uint8_t*)m + pos + 68;
        s.avail_in = csize;
        s.next_out = page;
        s.avail_out = dsize;
        if (isal_inflate_stateless(&s) == ISAL_DECOMP_OK) out += s.total_out;
        ++nodes;
      }
    }
    pos += (totlen + 3) & ~3u;
  }
  printf("%llu zlib nodes, %llu bytes\n", (unsigned long long)nodes, (unsigned long long)out);
  return 0;
}
