# ext2/ext3/ext4 (validator in lib/src/formats/ext.cpp). The superblock starts 1024 bytes into the filesystem and its
# magic 0xEF53 sits 56 bytes into it, so a filesystem starts 1080 bytes before the magic (e2fsprogs ext2_fs.h, struct
# ext2_super_block). The 2-byte magic alone is too weak for the prefilter: the state word that follows it is part of
# each definition (EXT2_VALID_FS 1, EXT2_ERROR_FS 2; 0 = mounted when imaged, or not cleanly unmounted).
ext  ext  1080  53 ef 01 00   # clean
ext  ext  1080  53 ef 00 00   # mounted or not cleanly unmounted
ext  ext  1080  53 ef 02 00   # errors recorded
ext  ext  1080  53 ef 03 00   # clean with errors recorded
