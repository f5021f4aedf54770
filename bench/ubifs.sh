#!/usr/bin/env bash
# ubifs.sh — `fwcert scan` of a UBI image holding a ~64 MiB UBIFS volume, against the decompression of that UBIFS
# alone, in one run.
#
#   bench/ubifs.sh                     # RUNS=10, compressors lzo and zstd
#   RUNS=5 COMPRESSORS=lzo bench/ubifs.sh
#
# The image is made at run time: 64 MiB of files from this machine's /usr/lib (shared libraries, data files: a mix
# that compresses about 2:1, like a BMC root filesystem) plus a certificate and its key under /etc/ssl, put into a
# UBIFS with mkfs.ubifs (128 KiB PEBs, 2 KiB pages) and into a dynamic UBI volume "rwfs" with ubinize.
#
# The yardstick ("decompression alone") is bench/ubifs-decode.cpp, built here against the library: every data node
# of the same UBIFS, found by a linear scan of the mkfs.ubifs output, decoded by core/codec decode_block into one
# 4 KiB buffer; best of 10 rounds, in-process (no start-up, no file reading, no CRC, no index, no tree, no walk).
# It is the least any reader of the image must do. The scan does all the rest on top: the UBI walk and volume
# rebuild, the index walk with every node's CRC, the files rebuilt, each file walked for certificates and keys,
# the input's SHA-256, parsing and pairing. Acceptance (issue 15): scan wall time <= 2x decompression alone.
# Prints both, the ratio and fwcert's peak RSS; appends rows to bench/results-ubifs.md.
set -euo pipefail
bench=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$bench/.." && pwd)
work="$bench/work/ubifs"
FWCERT=${FWCERT:-$root/build/tools/fwcert}
LIB=${LIB:-$root/build/lib/libfwcert_lib.a}
RUNS=${RUNS:-10}
COMPRESSORS=${COMPRESSORS:-lzo zstd}
die() { echo "ubifs.sh: ERROR: $*" >&2; exit 1; }
for t in hyperfine mkfs.ubifs ubinize g++; do command -v "$t" >/dev/null || die "$t not found (apt-get install hyperfine mtd-utils g++)"; done
[[ -x /usr/bin/time ]] || die "/usr/bin/time not found (apt-get install time)"
[[ -x "$FWCERT" && -f "$LIB" ]] || die "build fwcert first (cmake --build build): $FWCERT, $LIB"
mkdir -p "$work"

# The tree: the first 64 MiB of /usr/lib's regular files below 4 MiB, in name order, and the sample certificate.
tree="$work/tree"
if [[ ! -d $tree ]]; then
  mkdir -p "$tree/etc/ssl/private" "$tree/usr/lib"
  cp "$root/samples/certs/server.crt" "$tree/etc/ssl/" 2>/dev/null || openssl req -x509 -newkey rsa:2048 -nodes \
    -keyout "$tree/etc/ssl/private/server.key" -out "$tree/etc/ssl/server.crt" -subj /CN=bench -days 3650 2>/dev/null
  [[ -f $root/samples/certs/server.key ]] && cp "$root/samples/certs/server.key" "$tree/etc/ssl/private/"
  find /usr/lib -type f -size -4M -readable -printf '%s %p\n' 2>/dev/null | LC_ALL=C sort -k2 |
    awk '{ t += $1; if (t > 64 * 1024 * 1024) exit; sub(/^[0-9]+ /, ""); print }' >"$work/files.txt" || true
  tar -cf - -T "$work/files.txt" 2>/dev/null | tar -xf - -C "$tree" || true  # a file that vanished is no matter
fi
echo "tree: $(du -sb "$tree" | cut -f1) bytes in $(find "$tree" -type f | wc -l) files"

g++ -O2 -std=c++20 -I "$root/lib/include" "$bench/ubifs-decode.cpp" "$LIB" \
  $(pkg-config --libs libisal lzo2 libzstd liblzma liblz4) -lbz2 -lz -o "$work/ubifs-decode"

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "?")
results="$bench/results-ubifs.md"
[[ -f $results ]] || printf '%s\n\n%s\n%s\n' "# fwcert scan of UBIFS in UBI vs decompression alone (bench/ubifs.sh)" \
  "| date | commit | machine | compressor | image | files decoded | decompression alone | fwcert scan (wall / CPU) | scan/decompression | peak RSS |" \
  "|---|---|---|---|---|---|---|---|---|---|" >"$results"
for c in $COMPRESSORS; do
  fs="$work/fs-$c.ubifs" img="$work/ubi-$c.img"
  mkfs.ubifs -m 2048 -e 126976 -c 4000 -x "$c" -r "$tree" -o "$fs"
  printf '[rwfs]\nmode=ubi\nimage=%s\nvol_id=0\nvol_type=dynamic\nvol_name=rwfs\nvol_flags=autoresize\n' "$fs" >"$work/ubi.ini"
  ubinize -o "$img" -p 128KiB -m 2048 -s 2048 "$work/ubi.ini"
  "$FWCERT" scan --now 2026-01-01 "$img" | sed -n '5,7p'
  read -r dec_ms nodes produced < <("$work/ubifs-decode" "$fs" 10)
  rss_kb=$( { /usr/bin/time -f '%M' "$FWCERT" scan --now 2026-01-01 --format json "$img" >/dev/null; } 2>&1 | tail -1)
  hyperfine --warmup 2 --runs "$RUNS" --style basic --export-json "$work/scan-$c.json" \
    -n "fwcert scan ($c)" "'$FWCERT' scan --now 2026-01-01 --format json '$img'" >/dev/null
  python3 - "$work/scan-$c.json" "$results" "$(date -u +%Y-%m-%d)" "$commit" "$(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)" \
    "$c" "$(stat -c %s "$img")" "$dec_ms" "$nodes" "$produced" "$rss_kb" <<'PY'
import json, sys
path, results, date, commit, machine, c, size, dec_ms, nodes, produced, rss_kb = sys.argv[1:]
r = json.load(open(path))["results"][0]
wall, cpu, dec = r["median"] * 1000, (r["user"] + r["system"]) * 1000, float(dec_ms)
print(f"{c}: image {int(size)/2**20:.1f} MiB, {nodes} data nodes -> {int(produced)/2**20:.1f} MiB")
print(f"{c}: decompression alone {dec:.1f} ms; fwcert scan {wall:.1f} ms wall ({cpu:.1f} ms CPU); "
      f"ratio {wall/dec:.2f}x (target <= 2x); peak RSS {int(rss_kb)/1024:.0f} MiB")
with open(results, "a") as f:
    f.write(f"| {date} | {commit} | {machine} | {c} | {int(size)/2**20:.1f} MiB | {int(produced)/2**20:.1f} MiB in {nodes} nodes "
            f"| {dec:.1f} ms | {wall:.1f} ms / {cpu:.1f} ms | {wall/dec:.2f}x | {int(rss_kb)/1024:.0f} MiB |\n")
PY
done
