# CramFS and U-Boot legacy images. Format: <type> <validator> <at> <magic...>  (see README "Signatures").

# CramFS superblock magic 0x28cd3d45 in the image's own byte order (Linux include/uapi/linux/cramfs_fs.h).
cramfs      cramfs      0   45 3d cd 28     # little endian
cramfs      cramfs      0   28 cd 3d 45     # big endian

# A CramFS whose superblock is gone: the third word of its root inode at +64 (name length 0, entries at 76 = 19*4;
# 588 = 147*4 after a 512-byte boot pad; FORMATS.md 1.4), little endian C0 04 00 00 / C0 24 00 00, big endian
# 00 00 00 13 / 00 00 00 93 (anchored on its last two bytes). The validator reads the root directory and its tree.
cramfs      cramfs-root 72  c0 04 00 00     # little endian
cramfs      cramfs-root 584 c0 24 00 00     # little endian, boot pad
cramfs      cramfs-root 74  00 13           # big endian
cramfs      cramfs-root 586 00 93           # big endian, boot pad

# U-Boot legacy image header, ih_magic 0x27051956, always big endian (u-boot include/image.h).
uimage      uimage      0   27 05 19 56
