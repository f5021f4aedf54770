#!/usr/bin/env bash
# squashfs 3.1 images as a user meets them, from our own generator tests/tools/mksquashfs3.py (no Debian tool writes
# 3.x any more; the corpus images in tests/unit/test_squashfs3.cpp are the real-tool evidence): little- and big-endian,
# zlib and the three vendor LZMA layouts it writes. For each, `fwextract -o` gives back the source tree file by file,
# `fwcert scan` finds the certificate at its full location and pairs it with its key, and for zlib Debian's unsquashfs
# (which reads 3.x zlib in both byte orders) extracts the same tree, which checks the generator independently.
# Exits 77 (skipped) without python3.
set -euo pipefail
X=$1
F=$2
SRC=$3
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

t=$W/t
mkdir -p "$t/etc/ssl/private" "$t/etc/empty" "$t/usr/share/doc" "$t/var"
cp "$SRC/samples/certs/server.crt" "$t/etc/ssl/"
cp "$SRC/samples/certs/server.key" "$t/etc/ssl/private/"
echo "small file in a fragment" >"$t/var/motd"
python3 -c "import random; random.seed(7); print(' '.join(random.choice(['cert','key','squash','fs']) for _ in range(90000)))" \
  >"$t/usr/share/doc/multi-block.txt"  # several 64 KiB blocks and a tail
head -c 150000 /dev/zero | tr '\0' 'z' >"$t/usr/share/doc/zeros.txt"
ln -s ../etc/ssl/server.crt "$t/usr/server.crt"

# The certificate at its full location, paired with its key, and no problem.
check='
import json, sys
img = sys.argv[1]
inp = json.load(sys.stdin)["inputs"][0]
hit = [c for c in inp["certificates"] if img + "!squashfs:/etc/ssl/server.crt" in c["locations"]]
assert hit, "certificate location missing"
assert hit[0]["private_keys"] == [img + "!squashfs:/etc/ssl/private/server.key"], hit[0]["private_keys"]
assert inp["problems"] == [], inp["problems"]
'

for order in le be; do
  for comp in zlib lzma lzma-nosize lzma-raw lzma-ddwrt; do
    img=$W/fw-$order-$comp.sqfs
    python3 "$SRC/tests/tools/mksquashfs3.py" "$t" "$img" --comp "$comp" $([ $order = be ] && echo --be)
    out=$W/out-$order-$comp
    "$X" "$img" -o "$out" >/dev/null 2>"$W/err" || fail "$order $comp: fwextract failed: $(cat "$W/err")"
    diff -r -x '*.extracted' "$t" "$out/squashfs" >"$W/diff" ||
      fail "$order $comp: fwextract tree differs from the source: $(cat "$W/diff")"
    [ -L "$out/squashfs/usr/server.crt" ] || fail "$order $comp: symlink not kept"
    json=$("$F" scan "$img" --now 2026-01-01 --format json)
    echo "$json" | python3 -c "$check" "$img" || fail "$order $comp: fwcert scan: $json"
    if [ $comp = zlib ] && command -v unsquashfs >/dev/null; then
      unsquashfs -d "$W/u-$order" "$img" >/dev/null 2>&1 || fail "$order: unsquashfs refused our 3.1 image"
      diff -r "$t" "$W/u-$order" >/dev/null || fail "$order: unsquashfs extracts another tree from our image"
    fi
    echo "$order $comp: tree equal, certificate and key found"
  done
done
