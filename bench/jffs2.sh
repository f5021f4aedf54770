#!/usr/bin/env bash
# jffs2.sh — `fwcert scan` of a ~64 MiB JFFS2 (zlib, little endian, 128 KiB erase blocks) against the time it takes
# only to inflate its data nodes (bench/jffs2_decode.c: the node walk and ISA-L inflate of every zlib node, nothing
# else). Acceptance: the scan takes at most 2x the inflation alone. Appends to bench/results-jffs2.md.
#   bench/jffs2.sh            (RUNS=10 by default)
# The image is made at run time from what this machine has: the shared libraries of /usr/lib (programs: compress
# about 3:1), text from /usr/share (documentation, compresses well), random bytes (do not compress; mkfs.jffs2 stores
# them as is) and the sample certificates and keys, until about 64 MiB of JFFS2 is reached.
set -euo pipefail
bench=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$bench/.." && pwd)
work="$bench/work/jffs2"
FWCERT=${FWCERT:-$root/build/tools/fwcert}
RUNS=${RUNS:-10}
[[ -x "$FWCERT" ]] || { echo "jffs2.sh: fwcert not found at $FWCERT" >&2; exit 1; }
command -v mkfs.jffs2 >/dev/null || { echo "jffs2.sh: mkfs.jffs2 not found (Debian package mtd-utils)" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "jffs2.sh: hyperfine not found" >&2; exit 1; }
mkdir -p "$work"
cc -O2 -o "$work/jffs2_decode" "$bench/jffs2_decode.c" -lisal
img="$work/bench.jffs2"
if [[ ! -f $img ]]; then
  tree="$work/tree"
  rm -rf "$tree" && mkdir -p "$tree/usr/lib" "$tree/usr/share/doc" "$tree/var/data" "$tree/etc/ssl/certs" "$tree/etc/ssl/private"
  cp "$root"/samples/certs/*.crt "$tree/etc/ssl/certs/"
  cp "$root"/samples/certs/*.key "$tree/etc/ssl/private/"
  # About 80 MiB of programs, 30 MiB of text and 16 MiB of random bytes: a ~64 MiB image.
  total=0
  while IFS= read -r f; do
    s=$(stat -c %s "$f")
    cp "$f" "$tree/usr/lib/$(basename "$f")"
    total=$((total + s))
    [[ $total -gt $((80 << 20)) ]] && break
  done < <(find /usr/lib/x86_64-linux-gnu -maxdepth 1 -type f -name '*.so*' -size +64k -size -8M | sort)
  total=0
  while IFS= read -r f; do
    s=$(stat -c %s "$f")
    cp "$f" "$tree/usr/share/doc/$(echo "$f" | tr / _)" 2>/dev/null || continue
    total=$((total + s))
    [[ $total -gt $((30 << 20)) ]] && break
  done < <(find /usr/share -type f \( -name '*.txt' -o -name '*.html' -o -name '*.py' -o -name '*.h' -o -name copyright \) -size +4k | sort)
  for i in $(seq 1 16); do head -c $((1 << 20)) /dev/urandom >"$tree/var/data/blob$i"; done
  mkfs.jffs2 -l -e 128KiB -r "$tree" -o "$img"
  rm -rf "$tree"
fi
echo "jffs2.sh: $(stat -c %s "$img") bytes; $("$work/jffs2_decode" "$img")"
"$FWCERT" scan --now 2026-01-01 "$img" | tail -3
hyperfine -N -w 2 -r "$RUNS" --export-json "$work/jffs2.json" \
  -n "inflate every zlib node (jffs2_decode)" "$work/jffs2_decode $img" \
  -n "fwcert scan" "$FWCERT scan --now 2026-01-01 $img"
python3 - "$work/jffs2.json" "$(stat -c %s "$img")" >>"$bench/results-jffs2.md" <<'PY'
import json, sys, datetime
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
d, s = r["inflate every zlib node (jffs2_decode)"], r["fwcert scan"]
ratio = s["median"] / d["median"]
print(f"| {datetime.date.today()} | {int(sys.argv[2]) >> 20} MiB | {d['median']*1000:.0f} ms | {s['median']*1000:.0f} ms "
      f"| {ratio:.2f}x | {'met' if ratio <= 2 else 'NOT met'} |")
PY
tail -1 "$bench/results-jffs2.md"
