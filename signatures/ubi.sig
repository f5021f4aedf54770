# UBI and UBIFS (validators in lib/src/formats/ubi.cpp and ubifs.cpp).

# UBI: erase-counter header (starts every PEB) with version 1, and the volume identifier header.
ubi  ubi  0  "UBI#" 01
ubi  ubi  0  "UBI!" 01

# UBIFS: the node magic 0x06101831 (little endian) starts every node; the validator accepts only a superblock node
# (node type 6 at offset 20), which starts LEB 0 of the filesystem.
ubifs  ubifs  0  31 18 10 06
