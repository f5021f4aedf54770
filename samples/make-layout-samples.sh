#!/usr/bin/env bash
# make-layout-samples.sh OUTDIR — one small flash image per BMC flash layout, for fwcert's tests and demos.
#
#   OUTDIR/megarac-sample.bin   1 MiB AMI MegaRAC flash: module table ($MODULE$ headers) with boot (ALT_FMH),
#                               conf (JFFS2), root (squashfs: stunnel.conf, server.crt, server.key), www (CramFS)
#                               and the firmware-info module (whole-image CRC-32)
#   OUTDIR/megarac-badcrc.bin   the same with a wrong stored CRC-32 for the root module
#   OUTDIR/openbmc-static.bin   32 MiB OpenBMC static layout: u-boot, u-boot-env, kernel FIT, rofs squashfs
#                               (/etc/ssl/certs/https/server.pem), rwfs JFFS2
#   OUTDIR/openbmc-ubi.bin      32 MiB OpenBMC UBI layout: u-boot, u-boot-env, obmc-ubi (ubinize, 64 KiB PEBs) with
#                               volumes kernel-0a1b2c3d (FIT), rofs-0a1b2c3d (the squashfs above), rwfs (JFFS2)
#
# The images are made where they are needed (the tests call this script into a temporary folder) rather than
# committed: the OpenBMC layouts live at fixed offsets of a 32 MiB flash. Inputs: samples/certs (public test keys),
# samples/rootfs/etc/stunnel/stunnel.conf, samples/tools/layoutimg.py. Tools: mksquashfs (squashfs-tools),
# mkfs.jffs2 and ubinize (mtd-utils), mkfs.cramfs (util-linux), python3. Exits 77 when one is missing.
# Fixed times and owners (mksquashfs -all-time/-all-root, mkfs.jffs2 -f -q), so the output depends only on the tools.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: make-layout-samples.sh OUTDIR}
export TZ=UTC LC_ALL=C
umask 022
for tool in mksquashfs mkfs.jffs2 ubinize mkfs.cramfs python3; do
    command -v "$tool" >/dev/null || PATH=$PATH:/usr/sbin:/sbin command -v "$tool" >/dev/null ||
        { echo "make-layout-samples.sh: '$tool' not found (apt-get install squashfs-tools mtd-utils util-linux python3)" >&2; exit 77; }
done
export PATH=$PATH:/usr/sbin:/sbin
mkdir -p "$out"
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
img="python3 $here/tools/layoutimg.py"
c=$here/certs

# ---- file system trees ----
mkdir -p "$w/mroot/etc/stunnel" "$w/mroot/bin" "$w/mconf/ssl" "$w/mwww/certs" \
         "$w/orofs/etc/ssl/certs/https" "$w/orofs/usr/bin" "$w/orwfs/etc/ssl/certs/authority"
cp "$here/rootfs/etc/stunnel/stunnel.conf" "$c/server.crt" "$c/server.key" "$w/mroot/etc/stunnel/"
echo '#!/bin/sh' > "$w/mroot/bin/stunnel"
chmod 600 "$w/mroot/etc/stunnel/server.key"
cp "$c/web.pem" "$w/mconf/ssl/server.pem"
echo '<html><body>MegaRAC sample</body></html>' > "$w/mwww/index.html"
cp "$c/client.crt" "$w/mwww/certs/client.crt"
cat "$c/server.crt" "$c/server.key" > "$w/orofs/etc/ssl/certs/https/server.pem"
chmod 600 "$w/orofs/etc/ssl/certs/https/server.pem"
echo '#!/bin/sh' > "$w/orofs/usr/bin/bmcweb"
cp "$c/ca.crt" "$w/orwfs/etc/ssl/certs/authority/ca.pem"

sq() { mksquashfs "$1" "$2" -noappend -all-root -all-time 1594976572 -mkfs-time 1594976572 -nopad -processors 1 -quiet >/dev/null; }
jf() { mkfs.jffs2 -r "$1" -o "$2" -e 0x10000 -l -f -q -n; }

# ---- AMI MegaRAC ----
sq "$w/mroot" "$w/root.sqfs"
jf "$w/mconf" "$w/conf.jffs2"
mkfs.cramfs -b 4096 -n www "$w/mwww" "$w/www.cramfs" >/dev/null
$img uboot "$w/boot.bin" --size 0x8000
for variant in sample badcrc; do
    bad=""; [[ $variant == badcrc ]] && bad=root
    $img megarac "$out/megarac-$variant.bin" --size 0x100000 --boot "$w/boot.bin" --conf "$w/conf.jffs2" \
        --root "$w/root.sqfs" --www "$w/www.cramfs" --bad-crc "$bad"
done

# ---- OpenBMC (32 MiB: u-boot 0, u-boot-env 0x60000, kernel 0x80000, rofs 0x4C0000, rwfs 0x1C00000) ----
sq "$w/orofs" "$w/rofs.sqfs"
jf "$w/orwfs" "$w/rwfs.jffs2"
$img uboot "$w/u-boot.bin" --size 0x30000
$img fit "$w/fitImage"
$img env "$w/env-static.bin" --size 0x10000 --var "baudrate=115200" \
    --var "bootargs=console=ttyS4,115200n8 root=/dev/ram rw" --var "bootcmd=bootm 20080000" --var "bootdelay=2" \
    --var "openbmconce=sample"
$img place "$out/openbmc-static.bin" --size 0x2000000 0x0:"$w/u-boot.bin" 0x60000:"$w/env-static.bin" \
    0x80000:"$w/fitImage" 0x4C0000:"$w/rofs.sqfs" 0x1C00000:"$w/rwfs.jffs2"

cat > "$w/ubinize.cfg" <<EOF
[kernel-0a1b2c3d]
mode=ubi
image=$w/fitImage
vol_type=static
vol_name=kernel-0a1b2c3d
vol_id=0
[rofs-0a1b2c3d]
mode=ubi
image=$w/rofs.sqfs
vol_type=static
vol_name=rofs-0a1b2c3d
vol_id=1
[rwfs]
mode=ubi
image=$w/rwfs.jffs2
vol_type=dynamic
vol_name=rwfs
vol_id=2
vol_size=1MiB
EOF
ubinize -p 64KiB -m 1 -Q 1594976572 -o "$w/ubi.img" "$w/ubinize.cfg" >/dev/null  # it notes on stdout that static volumes get no vol_size
$img env "$w/env-ubi.bin" --size 0x10000 --var "bootargs=console=ttyS4,115200n8 ubi.mtd=obmc-ubi rootfstype=squashfs" \
    --var "bootcmd=run bootcmd_ubi" --var "bootside=a"
$img place "$out/openbmc-ubi.bin" --size 0x2000000 0x0:"$w/u-boot.bin" 0x60000:"$w/env-ubi.bin" 0x80000:"$w/ubi.img"
ls -l "$out"/megarac-*.bin "$out"/openbmc-*.bin >&2
