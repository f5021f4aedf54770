#!/usr/bin/env bash
# Builds the seed corpora of the fuzz targets into OUT (default build-fuzz/seeds/<target>/), from samples/ and, when
# present, ../shared/corpus. Nothing is written into the source tree; the corpus is read, never copied into git.
#
#   tests/fuzz/make-seeds.sh [OUT]
#
# Seeds are small on purpose (libFuzzer mutates faster on small inputs and its -max_len caps the rest): files above
# 1 MiB are left out, except that the 4 MiB sample images are kept for the walker and the scan.
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-$src/build-fuzz/seeds}"
corpus="$src/../shared/corpus"
targets=(walker cramfs uimage_fit squashfs ext scan certs roles calendar layouts squashfs3 jffs2 ubi)
for t in "${targets[@]}"; do mkdir -p "$out/$t"; done
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Copies a file into a target's seed folder under a name made from its path (cp keeps the folders flat).
seed() {  # target file
  local name
  name="$(printf '%s' "$2" | sed 's|^.*/shared/corpus/||; s|^.*/samples/||; s|[^A-Za-z0-9._-]|_|g')"
  cp -f "$2" "$out/$1/$name"
}
magic_at0() {  # file hexbytes
  [[ "$(head -c $((${#2} / 2)) "$1" | od -An -tx1 | tr -d ' \n')" == "$2" ]]
}

# Images we make from samples/ with the tools the tests use.
mkfs.cramfs -N little -n rootfs "$src/samples/rootfs" "$tmp/rootfs-le.cramfs" >/dev/null 2>&1 || true
mkfs.cramfs -N big -n webfs "$src/samples/webfs" "$tmp/webfs-be.cramfs" >/dev/null 2>&1 || true
mksquashfs "$src/samples/webfs" "$tmp/webfs.squashfs" -noappend -quiet -no-progress >/dev/null 2>&1 || true
mksquashfs "$src/samples/certs" "$tmp/certs-xz.squashfs" -comp xz -noappend -quiet -no-progress >/dev/null 2>&1 || true
for f in "$tmp"/*.cramfs; do [[ -f $f ]] && cp "$f" "$out/cramfs/" && cp "$f" "$out/scan/"; done
for f in "$tmp"/*.squashfs; do [[ -f $f ]] && cp "$f" "$out/squashfs/" && cp "$f" "$out/scan/"; done
# ext: small images (mke2fs needs at least 64 KiB; 1 KiB blocks keep the metadata dense).
mke2fs -q -F -t ext2 -b 1024 -d "$src/samples/certs" "$tmp/certs.ext2" 256K >/dev/null 2>&1 || true
mke2fs -q -F -t ext4 -b 1024 -O ^has_journal -d "$src/samples/certs" "$tmp/certs.ext4" 512K >/dev/null 2>&1 || true
mke2fs -q -F -t ext4 -b 1024 -O ^has_journal,inline_data -d "$src/samples/certs" "$tmp/certs-inline.ext4" 512K \
  >/dev/null 2>&1 || true
for f in "$tmp"/*.ext[24]; do [[ -f $f ]] && cp "$f" "$out/ext/" && cp "$f" "$out/scan/"; done

# Flash layouts: the MegaRAC sample as it is; the OpenBMC partitions (environment, FIT, squashfs, JFFS2) padded to one
# size and concatenated after a selector byte (0: static, 1: UBI), as fuzz_layouts.cpp cuts its input.
if bash "$src/samples/make-layout-samples.sh" "$tmp/layouts" >/dev/null 2>&1; then
  cp "$tmp/layouts/megarac-sample.bin" "$tmp/layouts/megarac-badcrc.bin" "$out/layouts/"
  python3 - "$tmp/layouts" "$out/layouts" <<'PY'
import sys
d, out = sys.argv[1], sys.argv[2]
for name, sel, parts in (("openbmc-static", 0, [(0x60000, 0x10000), (0x80000, 0x1000), (0x4C0000, 0x1000), (0x1C00000, 0x1000)]),
                         ("openbmc-ubi", 1, [(0x60000, 0x10000), (0x80000, 0x20000), (0x4C0000, 0), (0x1C00000, 0)])):
    img = open(f"{d}/{name}.bin", "rb").read()
    q = max(n for _, n in parts)
    data = bytes([sel]) + b"".join(img[o:o + n].ljust(q, b"\xff") for o, n in parts)
    open(f"{out}/{name}", "wb").write(data)
PY
fi
# squashfs 3.1 images of our own generator (tests/tools/mksquashfs3.py), both orders, zlib and vendor LZMA.
for order in "" --be; do
  for comp in zlib lzma lzma-nosize lzma-raw none; do
    python3 "$src/tests/tools/mksquashfs3.py" "$src/samples/certs" "$out/squashfs3/certs${order}-$comp.sqfs3" \
      --comp "$comp" $order >/dev/null 2>&1 || true
  done
done
# JFFS2 (fuzz_jffs2 takes a first byte: 0 = the live tree, 1 = with deleted data): mkfs.jffs2 in both byte orders and
# compressors, and histories of deleted and overwritten files (tests/tools/mkjffs2.py, LZMA nodes too).
for o in "-l" "-b -x zlib" "-l -x zlib -x rtime -X lzo"; do
  mkfs.jffs2 $o -e 8KiB -r "$src/samples/certs" -o "$tmp/j.jffs2" 2>/dev/null &&
    { printf '\x01'; cat "$tmp/j.jffs2"; } >"$out/jffs2/mkfs$(printf %s "$o" | tr -dc a-z)" && cp "$tmp/j.jffs2" "$out/scan/" || true
done
for c in zlib lzma rtime; do
  (cd "$src" && python3 tests/tools/mkjffs2.py "$tmp/h.jffs2" --compr "$c" --erase 4 mkdir:/etc \
    "write:/etc/a.crt=@samples/certs/server.crt" unlink:/etc/a.crt write:/etc/c=one overwrite:/etc/c=two \
    write:/etc/n=x unlink-obsolete:/etc/n symlink:/l=etc/c) 2>/dev/null &&
    { printf '\x01'; cat "$tmp/h.jffs2"; } >"$out/jffs2/history-$c" || true
done
# UBIFS (mkfs.ubifs, each compressor, the smallest geometry: 512-byte pages, 15 KiB LEBs) and UBI images of it and a
# squashfs (ubinize, 16 KiB PEBs), when mtd-utils is there.
if command -v mkfs.ubifs >/dev/null && command -v ubinize >/dev/null; then
  for c in lzo zlib zstd none; do
    mkfs.ubifs -m 512 -e 15360 -c 64 -x "$c" -r "$src/samples/certs" -o "$tmp/certs-$c.ubifs" >/dev/null 2>&1 || true
  done
  if [[ -f $tmp/certs-lzo.ubifs && -f $tmp/webfs.squashfs ]]; then
    printf '[rofs]\nmode=ubi\nimage=%s\nvol_id=0\nvol_type=static\nvol_name=rofs\n[rwfs]\nmode=ubi\nimage=%s\nvol_id=1\nvol_type=dynamic\nvol_name=rwfs\n' \
      "$tmp/webfs.squashfs" "$tmp/certs-lzo.ubifs" >"$tmp/ubi.ini"
    ubinize -o "$tmp/two.ubi" -p 16KiB -m 512 "$tmp/ubi.ini" >/dev/null 2>&1 || true
  fi
  for f in "$tmp"/*.ubifs "$tmp"/*.ubi; do [[ -f $f ]] && cp "$f" "$out/ubi/" && cp "$f" "$out/scan/"; done
fi

# samples/: the images, certificates, keys and configs.
for f in "$src"/samples/*.bin "$src"/samples/*.zip; do seed walker "$f"; seed scan "$f"; done
for f in "$src"/samples/certs/*; do seed certs "$f"; seed scan "$f"; done
i=0
while IFS= read -r -d '' f; do
  for sel in 0 1 2 3 4 5; do  # the first byte picks the config file name (fuzz_roles.cpp)
    { printf "\\x$(printf %02x $sel)"; head -c 65536 "$f"; } >"$out/roles/sample-$i-$sel"
  done
  i=$((i + 1))
done < <(find "$src/samples/rootfs/etc" -type f -name '*.conf' -print0)

# The calendar: a few events with awkward text (the harness cuts fields at NUL bytes).
printf '\x00\x00\x00\x80\x00\x00\x00\x00aa\x00CN=x\x00sub\r\nject\x00iss\x1buer\x00role\x00img\x00loc\x00valid' \
  >"$out/calendar/basic"
printf '\xff\xff\xff\xff\xff\xff\xff\x7f\xe2\x80\xae\x00\xc3\x28\x00=cmd\x00\x7f\x00' >"$out/calendar/hostile"

if [[ -d $corpus ]]; then
  while IFS= read -r -d '' f; do
    case "$f" in
      *.pem | *.crt | *.der | *.key | *.pk8 | *.p12 | *.pfx | *.jks | *.jceks | *.bksv1 | *.bksv2 | *.uber | *.cer)
        seed certs "$f" ;;
      *.conf | *.cnf | *.jnlp)
        for sel in 0 1 2 3 4 5; do { printf "\\x$(printf %02x $sel)"; head -c 65536 "$f"; } \
          >"$out/roles/$(basename "$f")-$sel"; done ;;
    esac
    case "$f" in
      *.sqfs2 | *.sqfs3 | *squashfs_v2*) seed squashfs3 "$f" ;;
      *.sqfs* | *.squashfs) seed squashfs "$f" ;;
      *.itb | *.dtb | *uboot* | *uImage* | *.img) seed uimage_fit "$f" ;;
    esac
    if magic_at0 "$f" 453dcd28 || magic_at0 "$f" 28cd3d45; then seed cramfs "$f"; fi
    if magic_at0 "$f" 27051956 || magic_at0 "$f" d00dfeed; then seed uimage_fit "$f"; fi
    case "$f" in
      *.json | *.info | *.txt | *.md | *.tsv | *.err | *.stdout) ;;  # metadata, not inputs
      *) seed walker "$f"; seed scan "$f" ;;
    esac
  done < <(find "$corpus" -type f -size -1025k -print0)
else
  echo "make-seeds.sh: $corpus absent: seeds from samples/ only" >&2
fi
for t in "${targets[@]}"; do printf '%-11s %5d seeds\n' "$t" "$(find "$out/$t" -type f | wc -l)"; done
