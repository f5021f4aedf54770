# Archives. <type> <validator> <at> <magic>

# zip local file header "PK\3\4" (the validator reports "jar" when the first entry is META-INF/ or carries the
# jar tool's 0xCAFE extra field).
zip   zip   0    "PK" 03 04
# 7-Zip signature header.
7z    7z    0    "7z" bc af 27 1c
# tar: the ustar magic sits at offset 257 of the 512-byte header. POSIX: "ustar\0" "00"; GNU: "ustar  \0".
tar   tar   257  "ustar" 00 "00"
tar   tar   257  "ustar  " 00
# cpio: SVR4 newc, SVR4 with CRC, odc (portable ASCII), and the old binary header (070707 octal = 0x71C7 as a
# 16-bit word, stored little- or big-endian).
cpio  cpio  0    "070701"
cpio  cpio  0    "070702"
cpio  cpio  0    "070707"
cpio  cpio  0    c7 71
cpio  cpio  0    71 c7
