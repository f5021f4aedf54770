# Filesystems and executables (validators in lib/src/formats/filesystem.cpp; SquashFS: squashfs.sig).

# JFFS2 node header: magic 0x1985 then the node type. The 2-byte magic alone is too weak for the prefilter, so each
# known node type (with and without the ACCURATE bit 0x2000 for obsoleted dirent/inode nodes) is its own line.
jffs2  jffs2  0  85 19 01 e0   # LE dirent
jffs2  jffs2  0  85 19 02 e0   # LE inode
jffs2  jffs2  0  85 19 03 20   # LE clean marker
jffs2  jffs2  0  85 19 04 20   # LE padding
jffs2  jffs2  0  85 19 06 20   # LE summary
jffs2  jffs2  0  85 19 08 e0   # LE xattr
jffs2  jffs2  0  85 19 09 e0   # LE xattr reference
jffs2  jffs2  0  85 19 01 c0   # LE obsolete dirent
jffs2  jffs2  0  85 19 02 c0   # LE obsolete inode
jffs2  jffs2  0  19 85 e0 01   # BE dirent
jffs2  jffs2  0  19 85 e0 02   # BE inode
jffs2  jffs2  0  19 85 20 03   # BE clean marker
jffs2  jffs2  0  19 85 20 04   # BE padding
jffs2  jffs2  0  19 85 20 06   # BE summary
jffs2  jffs2  0  19 85 e0 08   # BE xattr
jffs2  jffs2  0  19 85 e0 09   # BE xattr reference
jffs2  jffs2  0  19 85 c0 01   # BE obsolete dirent
jffs2  jffs2  0  19 85 c0 02   # BE obsolete inode

# ELF: e_ident magic.
elf  elf  0  7f "ELF"
