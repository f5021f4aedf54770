# SquashFS 2.x/3.x/4.0 (validator in lib/src/formats/squashfs.cpp).

# SquashFS superblock magic at offset 0. The validator takes the byte order from the version field at offset 28,
# so the vendor variants below (LZMA-patched, DD-WRT) share the same validator.
squashfs  squashfs  0  "hsqs"   # little endian (standard)
squashfs  squashfs  0  "sqsh"   # big endian (standard)
squashfs  squashfs  0  "shsq"   # little endian, non-standard signature (vendor LZMA builds)
squashfs  squashfs  0  "qshs"   # big endian, non-standard signature (vendor LZMA builds)
squashfs  squashfs  0  "hsqt"   # little endian, DD-WRT signature
squashfs  squashfs  0  "tqsh"   # big endian, DD-WRT signature
squashfs  squashfs  0  "sqlz"   # big endian, LZMA signature
