#!/usr/bin/env bash
# extract.sh — time full extraction of the 32 MiB X10 bench image, side by side in one run:
#   fwextract x10-bench.bin -o DIR            (everything, recursively, in-process)
#   fsck.cramfs --extract on both CramFS      (util-linux; the two filesystems only, carved first with dd)
#   binwalk -Me x10-bench.bin                 (Debian's binwalk 2.3, recursive, external extractors)
#
#   bench/extract.sh                 # RUNS=5 by default
#   RUNS=3 FWEXTRACT=/path/to/fwextract bench/extract.sh
# Prints medians and ratios and appends a row to bench/results-extract.md.
set -euo pipefail

bench=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$bench/.." && pwd)
work="$bench/work"
FWEXTRACT=${FWEXTRACT:-$root/build/tools/fwextract}
RUNS=${RUNS:-5}
say() { echo "extract.sh: $*"; }
die() { echo "extract.sh: ERROR: $*" >&2; exit 1; }

sudo=""
[[ $EUID -ne 0 ]] && sudo=sudo
for pair in hyperfine:hyperfine binwalk:binwalk fsck.cramfs:util-linux; do
  cmd=${pair%%:*}
  pkg=${pair##*:}
  command -v "$cmd" >/dev/null || PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null || {
    say "installing $pkg"
    $sudo apt-get install -y "$pkg" >/dev/null || die "cannot install $pkg"
  }
done
export PATH="$PATH:/usr/sbin:/sbin"
[[ -x "$FWEXTRACT" ]] || die "fwextract not found at $FWEXTRACT (build it, or set FWEXTRACT=)"
[[ -f "$work/x10-bench.bin" ]] || "$bench/make-bench-image.sh"
x10="$work/x10-bench.bin"

# The two CramFS regions, carved once (not timed), for fsck.cramfs.
dd if="$x10" of="$work/rootfs.cramfs" bs=4096 skip=$((0x400000 / 4096)) count=$((15253504 / 4096)) status=none
dd if="$x10" of="$work/webfs.cramfs" bs=4096 skip=$((0x1700000 / 4096)) count=$((7446528 / 4096)) status=none

runas=""
[[ $EUID -eq 0 ]] && runas="--run-as=root"  # binwalk refuses to run its extractors as root without it
out="$work/extract-out"
rm -rf "$out"
mkdir -p "$out"
hyperfine --warmup 1 --runs "$RUNS" --style basic --export-json "$work/extract.json" \
  --prepare "rm -rf '$out/fw' '$out/fsck1' '$out/fsck2' '$out/bw'" \
  -n "fwextract x10-bench.bin" "'$FWEXTRACT' '$x10' -o '$out/fw' 2>/dev/null" \
  -n "fsck.cramfs --extract (both)" "fsck.cramfs --extract='$out/fsck1' '$work/rootfs.cramfs' && fsck.cramfs --extract='$out/fsck2' '$work/webfs.cramfs'" \
  -n "binwalk -Me x10-bench.bin" "cd '$out' && binwalk -q -Me $runas -C '$out/bw' '$x10' >/dev/null 2>&1"

load=$(cut -d' ' -f1 /proc/loadavg)
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "?")
python3 - "$work/extract.json" "$bench/results-extract.md" "$(date -u +%Y-%m-%d)" "$commit" "$(nproc) CPUs, load $load" "$RUNS" <<'PY'
import json, os, sys
path, results, date, commit, machine, runs = sys.argv[1:]
med = {r["command"]: r["median"] for r in json.load(open(path))["results"]}
fw, fs, bw = med["fwextract x10-bench.bin"], med["fsck.cramfs --extract (both)"], med["binwalk -Me x10-bench.bin"]
print(f"\nmedian fwextract (whole image, recursive): {fw*1000:.0f} ms")
print(f"median fsck.cramfs --extract (2 CramFS): {fs*1000:.0f} ms   ratio {fs/fw:.1f}x")
print(f"median binwalk -Me:                       {bw*1000:.0f} ms   ratio {bw/fw:.1f}x")
if not os.path.exists(results):
    open(results, "w").write("# Extraction benchmark (bench/extract.sh, hyperfine medians)\n\n"
        "| date | commit | machine | runs | fwextract | fsck.cramfs x2 | binwalk -Me | fsck/fwextract | binwalk/fwextract |\n"
        "|---|---|---|---|---|---|---|---|---|\n")
with open(results, "a") as f:
    f.write(f"| {date} | {commit} | {machine} | {runs} | {fw*1000:.0f} ms | {fs*1000:.0f} ms | {bw*1000:.0f} ms | {fs/fw:.1f}x | {bw/fw:.1f}x |\n")
PY
