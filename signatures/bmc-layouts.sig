# BMC flash layouts (lib/src/formats/megarac.cpp, lib/src/formats/openbmc.cpp): the walk reports the whole flash as
# one container whose members are its partitions by name.
#
# This file's name sorts before filesystems.sig on purpose: at one position the walk tries the signatures in load
# order and stops at the first validator that skips past its structure. The OpenBMC UBI layout is recognised at the
# same position as the UBI image itself ("UBI#" at the kernel offset), so it must be tried before the ubi validator.

# AMI MegaRAC firmware module header (FMH): "$MODULE$" at every module header; the first one found reports the table.
megarac         megarac          0         "$MODULE$"

# OpenBMC static layout: a FIT at the kernel offset (0x80000 on 32 MiB flashes, 0x100000 on 64 and 128 MiB), which the
# validator confirms with the squashfs at the rofs offset or the U-Boot environment.
openbmc-static  openbmc-static   0x80000   d0 0d fe ed
openbmc-static  openbmc-static   0x100000  d0 0d fe ed

# OpenBMC UBI layout: the UBI image ("obmc-ubi") at the same kernel offset; the volume table names its volumes.
openbmc-ubi     openbmc-ubi      0x80000   "UBI#" 01
openbmc-ubi     openbmc-ubi      0x100000  "UBI#" 01
