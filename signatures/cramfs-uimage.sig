# CramFS and U-Boot legacy images. Format: <type> <validator> <at> <magic...>  (see README "Signatures").

# CramFS superblock magic 0x28cd3d45 in the image's own byte order (Linux include/uapi/linux/cramfs_fs.h).
cramfs      cramfs      0   45 3d cd 28     # little endian
cramfs      cramfs      0   28 cd 3d 45     # big endian

# U-Boot legacy image header, ih_magic 0x27051956, always big endian (u-boot include/image.h).
uimage      uimage      0   27 05 19 56
