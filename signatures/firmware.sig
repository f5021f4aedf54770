# Firmware-level structures (lib/src/formats/firmware.cpp; byte layouts in FORMATS.md sections 3 and 4).

# Flattened device tree header magic 0xd00dfeed (big endian); the validator refines the type to "fit" for
# U-Boot FIT images (root /images node).
fdt            fdt             0   d0 0d fe ed

# CRC-32 lookup table for polynomial 0xEDB88320. Entry 0 is zero, so match entries 1 and 2.
crc32          crc32           4   96 30 07 77 2c 61 0e ee
crc32          crc32           4   77 07 30 96 ee 0e 61 2c

# U-Boot environment: CRC-32 (4 bytes) then "name=value\0" pairs. No magic of its own, so match variables that
# commonly come first (saved environments are sorted by name). at=5: redundant environment with a flag byte.
uboot-env      uboot-env       4   "arch="
uboot-env      uboot-env       4   "autoload="
uboot-env      uboot-env       4   "baudrate="
uboot-env      uboot-env       4   "board="
uboot-env      uboot-env       4   "board_name="
uboot-env      uboot-env       4   "bootargs="
uboot-env      uboot-env       4   "bootcmd="
uboot-env      uboot-env       4   "bootdelay="
uboot-env      uboot-env       4   "bootfile="
uboot-env      uboot-env       4   "ethact="
uboot-env      uboot-env       4   "ethaddr="
uboot-env      uboot-env       4   "ipaddr="
uboot-env      uboot-env       4   "loadaddr="
uboot-env      uboot-env       4   "serverip="
uboot-env      uboot-env       4   "stdin="
uboot-env      uboot-env       5   "arch="
uboot-env      uboot-env       5   "autoload="
uboot-env      uboot-env       5   "baudrate="
uboot-env      uboot-env       5   "board="
uboot-env      uboot-env       5   "board_name="
uboot-env      uboot-env       5   "bootargs="
uboot-env      uboot-env       5   "bootcmd="
uboot-env      uboot-env       5   "bootdelay="
uboot-env      uboot-env       5   "bootfile="
uboot-env      uboot-env       5   "ethact="
uboot-env      uboot-env       5   "ethaddr="
uboot-env      uboot-env       5   "ipaddr="
uboot-env      uboot-env       5   "loadaddr="
uboot-env      uboot-env       5   "serverip="
uboot-env      uboot-env       5   "stdin="

# Supermicro ASPEED (X10/AST2400) image index at 0x01FC0000: "[img]: <base> <length> <crc32> <name>" records.
aspeed-index   aspeed-index    0   "[img]: "

# Supermicro ATEN global firmware footer.
aten-footer    aten-footer     0   "ATENs_FW"

# Supermicro Winbond WPCM450 (X8/X9) image footer: signature 0xA0FFFF9F (u32 LE) at record offset 40.
winbond-footer winbond-footer  40  9f ff ff a0
