# Compressed streams. Each validator decodes the stream with the reference library to find where it ends.
# <type> <validator> <at> <magic>

# gzip (RFC 1952): ID1 ID2 and CM = 8 (deflate, the only defined method).
gzip   gzip   0  1f 8b 08
# bzip2: "BZh" + block size digit; the validator also checks the block / end-of-stream magic after it.
bzip2  bzip2  0  "BZh"
# xz: stream header magic fd "7zXZ" 00.
xz     xz     0  fd "7zXZ" 00
# zstd frame magic 0xFD2FB528 (little-endian).
zstd   zstd   0  28 b5 2f fd

# Legacy .lzma (LZMA_Alone): properties byte + little-endian dictionary size. The magic is weak, so only the
# common properties (0x5D = lc3 lp0 pb2, the default; 0x6D = lc1 lp2 pb2) with power-of-two dictionaries of
# 64 KiB .. 128 MiB are registered; the validator checks the rest of the header and decodes.
lzma   lzma   0  5d 00 00 01 00
lzma   lzma   0  5d 00 00 02 00
lzma   lzma   0  5d 00 00 04 00
lzma   lzma   0  5d 00 00 08 00
lzma   lzma   0  5d 00 00 10 00
lzma   lzma   0  5d 00 00 20 00
lzma   lzma   0  5d 00 00 40 00
lzma   lzma   0  5d 00 00 80 00
lzma   lzma   0  5d 00 00 00 01
lzma   lzma   0  5d 00 00 00 02
lzma   lzma   0  5d 00 00 00 04
lzma   lzma   0  5d 00 00 00 08
lzma   lzma   0  6d 00 00 80 00
lzma   lzma   0  6d 00 00 00 01
