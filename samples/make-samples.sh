#!/usr/bin/env bash
# make-samples.sh — rebuild the sample BMC firmware images from the text inputs in samples/.
#
#   samples/bmc-sample.bin     4 MiB, little-endian (CRC32 table LE, CramFS LE)
#   samples/bmc-sample-be.bin  4 MiB, big-endian twin (CRC32 table BE, CramFS made with -N big)
#   samples/bmc-sample.zip     vendor-style zip holding bmc-sample.bin
#
# Layout = the Supermicro X10 (ASPEED AST2400) image scaled down by 8; see samples/README.md.
# Inputs: samples/certs/ (made once by make-certs.sh), samples/rootfs/, samples/webfs/,
# samples/jar/, samples/tools/{common.sh,bmcimg.py}. Tools: mkfs.cramfs, mkimage, gzip, zip, python3.
#
# Deterministic: CramFS has no timestamps (uid/gid forced to 0 by running as root or under
# fakeroot, modes set explicitly, -b 4096), zip entries get fixed mtimes (TZ=UTC, zip -X), gzip -n
# for the pack.gz and a fixed mtime for linux.bin, mkimage's time from SOURCE_DATE_EPOCH.
# The script builds everything twice and checks the two builds are byte-identical, then
# reports whether the result differs from the files already in samples/.
# Output is byte-identical for the same tool versions (mkfs.cramfs uses zlib; a different zlib
# may compress differently).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
export TZ=UTC LC_ALL=C SOURCE_DATE_EPOCH=1594976572     # 2020-07-17 09:02:52 UTC, like the X10 3.90 uImage
umask 022

# CramFS stores uid/gid: build as uid 0 so the output does not depend on who runs the script.
if [[ $EUID -ne 0 ]]; then
    if command -v fakeroot >/dev/null && [[ -z "${FAKEROOTKEY:-}" ]]; then
        exec fakeroot -- "$0" "$@"
    fi
    echo "make-samples.sh: run as root or install fakeroot (CramFS records file owners)" >&2
    exit 1
fi

for tool in mkfs.cramfs mkimage gzip zip python3 cmp; do
    command -v "$tool" >/dev/null || { echo "make-samples.sh: '$tool' not found (apt-get install util-linux u-boot-tools gzip zip python3)" >&2; exit 1; }
done
for f in client.crt client.key server.crt server.key web.pem redfish.crt redfish.key; do
    [[ -f "$here/certs/$f" ]] || { echo "make-samples.sh: samples/certs/$f missing; run samples/make-certs.sh" >&2; exit 1; }
done

# ---- layout (X10 offsets / 8) ----
SIZE=0x400000          # X10: 0x2000000
UBOOT_AT=0x0           # boot loader blob; CRC-32 table at 0x193C0 as in the X10 image
UBOOT_LEN=0x1A000
CRC_TABLE_AT=0x193C0
NVRAM_AT=0x20000       # zero-filled, not indexed (X10: 0x100000-0x3FFFFF)
ROOTFS_AT=0x80000      # X10: 0x400000
KERNEL_AT=0x280000     # X10: 0x1400000
WEBFS_AT=0x2E0000      # X10: 0x1700000
ENV_AT=0x3E8000        # zero-filled env area (X10: 0x1F40000)
INDEX_AT=0x3F8000      # X10: 0x1FC0000
FW_VERSION=3.0x5a      # ATENs_FW major.minor bytes (3, 0x5a = 90)

# shellcheck source=tools/common.sh
source "$here/tools/common.sh"     # stage_trees, make_uimage

# build_image WORK ENDIAN(little|big) OUT
build_image() {
    local w=$1 endian=$2 out=$3 e
    e=$([[ $endian == little ]] && echo le || echo be)
    mkfs.cramfs -E -N "$endian" -b 4096 -e 0 -n rootfs "$w/rootfs" "$w/rootfs-$e.cramfs" >/dev/null
    mkfs.cramfs -E -N "$endian" -b 4096 -e 0 -n webfs "$w/webfs" "$w/webfs-$e.cramfs" >/dev/null
    $bmcimg uboot --endian "$e" --size $UBOOT_LEN --table-at $CRC_TABLE_AT --seed 1 -o "$w/u-boot-$e.bin"
    $bmcimg assemble --size $SIZE \
        --fill 0:$NVRAM_AT:0xff --fill $NVRAM_AT:$ROOTFS_AT:0 --fill $ROOTFS_AT:$ENV_AT:0xff --fill $ENV_AT:$SIZE:0 \
        --image u-boot.bin:$UBOOT_AT:"$w/u-boot-$e.bin" \
        --image out_rootfs_img.bin:$ROOTFS_AT:"$w/rootfs-$e.cramfs" \
        --image out_kernel.bin:$KERNEL_AT:"$w/uImage" \
        --image out_webfs_img.bin:$WEBFS_AT:"$w/webfs-$e.cramfs" \
        --index-at $INDEX_AT --footer $FW_VERSION -o "$out" >"$w/assemble-$e.log"
}

build_all() {   # build_all WORK -> WORK/out/{bmc-sample.bin,bmc-sample-be.bin,bmc-sample.zip}
    local w=$1
    mkdir -p "$w/out" "$w/zip"
    stage_trees "$w"
    make_uimage "$w" 0x80000 12
    build_image "$w" little "$w/out/bmc-sample.bin"
    build_image "$w" big "$w/out/bmc-sample-be.bin"
    cp "$w/out/bmc-sample.bin" "$w/zip/"
    chmod 644 "$w/zip/bmc-sample.bin"
    touch -d "$FIXED_MTIME" "$w/zip/bmc-sample.bin"
    (cd "$w/zip" && zip -q -X -9 "$w/out/bmc-sample.zip" bmc-sample.bin)
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "make-samples.sh: building (twice, to check determinism) ..."
build_all "$tmp/a"
build_all "$tmp/b"
for f in bmc-sample.bin bmc-sample-be.bin bmc-sample.zip; do
    if ! cmp -s "$tmp/a/out/$f" "$tmp/b/out/$f"; then
        echo "make-samples.sh: NOT DETERMINISTIC: two builds of $f differ" >&2
        exit 1
    fi
done
echo "make-samples.sh: two builds are byte-identical"

for f in bmc-sample.bin bmc-sample-be.bin bmc-sample.zip; do
    if [[ -f "$here/$f" ]]; then
        if cmp -s "$tmp/a/out/$f" "$here/$f"; then state="unchanged (byte-identical to the previous file)"
        else state="CHANGED (differs from the previous file)"; fi
    else
        state="new"
    fi
    cp "$tmp/a/out/$f" "$here/$f"
    printf '  %-20s %8d bytes  sha256 %s  %s\n' "$f" "$(stat -c %s "$here/$f")" \
        "$(sha256sum "$here/$f" | cut -c1-16)" "$state"
done
echo "make-samples.sh: layout of bmc-sample.bin:"
sed 's/^/  /' "$tmp/a/assemble-le.log"
echo "make-samples.sh: layout of bmc-sample-be.bin:"
sed 's/^/  /' "$tmp/a/assemble-be.log"
