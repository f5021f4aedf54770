#!/usr/bin/env bash
# make-bench-image.sh — build the benchmark inputs in bench/work/ (git-ignored):
#
#   bench/work/x10-bench.bin  32 MiB, exactly the Supermicro X10 (REDFISH_X10_390) layout:
#       0x0000000  boot loader blob, CRC-32 table (LE) at 0x193C0
#       0x0100000  "nvram", zeros
#       0x0400000  CramFS LE root fs (~15 MB: sample rootfs + incompressible random files)
#       0x1400000  uImage (ARM, gzip, "21400000") wrapping gzip "linux.bin" (~1.5 MB)
#       0x1700000  CramFS LE web fs (~7.4 MB: sample webfs + iKVM jar + random files)
#                  then the ATENs_FW v3 footer
#       0x1F40000  env area, zeros;  0x1FC0000  "[img]:" index
#   bench/work/random.bin     32 MiB of pseudo-random bytes (Python random, seed 32)
#
# Same certificates, stunnel/lighttpd/redfish configs and jar as samples/bmc-sample.bin.
# Deterministic (fixed seeds); rerun with --force to rebuild existing files.
set -euo pipefail

bench=$(cd "$(dirname "$0")" && pwd)
here=$(cd "$bench/../samples" && pwd)      # common.sh expects $here = samples/
work="$bench/work"
export TZ=UTC LC_ALL=C SOURCE_DATE_EPOCH=1594976572
export PATH="$PATH:/usr/sbin:/sbin"  # mkfs.cramfs, for users whose PATH has no sbin (Debian's default)
umask 022

force=no
[[ "${1:-}" == "--force" ]] && force=yes

# What the images are made with, from Debian's packages (installed here when missing, as the other bench scripts do).
sudo=""
[[ $EUID -ne 0 ]] && sudo=sudo
need=()
for pair in mkimage:u-boot-tools zip:zip gzip:gzip python3:python3 mkfs.cramfs:util-linux fakeroot:fakeroot; do
    [[ ${pair%%:*} == fakeroot && $EUID -eq 0 ]] && continue  # root records file owners itself
    command -v "${pair%%:*}" >/dev/null || need+=("${pair##*:}")
done
if ((${#need[@]})); then
    echo "make-bench-image.sh: installing ${need[*]}" >&2
    $sudo apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 ||
        { $sudo apt-get update -qq && $sudo apt-get install -y -qq "${need[@]}" >/dev/null; } ||
        { echo "make-bench-image.sh: cannot install ${need[*]}" >&2; exit 1; }
fi

if [[ $EUID -ne 0 ]]; then
    if command -v fakeroot >/dev/null && [[ -z "${FAKEROOTKEY:-}" ]]; then
        exec fakeroot -- "$0" "$@"
    fi
    echo "make-bench-image.sh: run as root or install fakeroot (CramFS records file owners)" >&2
    exit 1
fi
for tool in mkfs.cramfs mkimage gzip zip python3; do
    command -v "$tool" >/dev/null || { echo "make-bench-image.sh: '$tool' not found" >&2; exit 1; }
done

# shellcheck source=../samples/tools/common.sh
source "$here/tools/common.sh"     # stage_trees, make_uimage, $bmcimg
mkdir -p "$work"

if [[ $force == yes || ! -f "$work/random.bin" ]]; then
    echo "make-bench-image.sh: writing $work/random.bin (32 MiB, seed 32)"
    python3 - "$work/random.bin" <<'PY'
import random, sys
rng = random.Random(32)
with open(sys.argv[1] + ".tmp", "wb") as f:
    for _ in range(32):
        f.write(rng.getrandbits(8 << 20).to_bytes(1 << 20, "little"))
import os; os.replace(sys.argv[1] + ".tmp", sys.argv[1])
PY
fi

if [[ $force == yes || ! -f "$work/x10-bench.bin" ]]; then
    echo "make-bench-image.sh: building $work/x10-bench.bin (a few seconds) ..."
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    stage_trees "$tmp"
    # Fill the trees up to the real sizes (X10 3.90: root fs 15253504 B / 1100 inodes,
    # web fs 7446528 B / 456 inodes) with incompressible files.
    $bmcimg randtree --dir "$tmp/rootfs" --dirs usr/lib,lib,usr/bin,usr/local/bin,SMASH,share \
        --count 1040 --total 15150000 --prefix lib --suffix .so --seed 3
    $bmcimg randtree --dir "$tmp/webfs" --dirs images,js,lang,cgi \
        --count 440 --total 7392000 --prefix res --suffix .dat --seed 4
    find "$tmp/rootfs" "$tmp/webfs" -type d -exec chmod 755 {} +
    make_uimage "$tmp" 0x2FC000 1
    mkfs.cramfs -E -N little -b 4096 -e 0 -n rootfs "$tmp/rootfs" "$tmp/rootfs.cramfs" >/dev/null
    mkfs.cramfs -E -N little -b 4096 -e 0 -n webfs "$tmp/webfs" "$tmp/webfs.cramfs" >/dev/null
    $bmcimg uboot --endian le --size 0x30000 --table-at 0x193C0 --seed 1 -o "$tmp/u-boot.bin"
    $bmcimg assemble --size 0x2000000 \
        --fill 0:0x100000:0xff --fill 0x100000:0x400000:0 --fill 0x400000:0x1F40000:0xff --fill 0x1F40000:0x2000000:0 \
        --image u-boot.bin:0x0:"$tmp/u-boot.bin" \
        --image out_rootfs_img.bin:0x400000:"$tmp/rootfs.cramfs" \
        --image out_kernel.bin:0x1400000:"$tmp/uImage" \
        --image out_webfs_img.bin:0x1700000:"$tmp/webfs.cramfs" \
        --index-at 0x1FC0000 --footer 3.0x5a -o "$work/x10-bench.bin.tmp" | sed 's/^/  /'
    mv "$work/x10-bench.bin.tmp" "$work/x10-bench.bin"
    printf '  rootfs CramFS %d bytes, webfs CramFS %d bytes, uImage %d bytes\n' \
        "$(stat -c %s "$tmp/rootfs.cramfs")" "$(stat -c %s "$tmp/webfs.cramfs")" "$(stat -c %s "$tmp/uImage")"
fi
ls -l "$work"/x10-bench.bin "$work"/random.bin
