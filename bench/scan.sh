#!/usr/bin/env bash
# scan.sh — a full `fwcert scan` of the 32 MiB X10 bench image (walk, extract every filesystem and archive, parse
# every certificate and key, pair, judge, infer roles) against Debian's binwalk bare signature scan, in one run.
#
#   bench/scan.sh                  # RUNS=10 by default
#   RUNS=5 FWCERT=/path/to/fwcert bench/scan.sh
# Prints medians, the ratio, and fwcert's peak RSS; appends a row to bench/results-scan.md.
set -euo pipefail
bench=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$bench/.." && pwd)
work="$bench/work"
FWCERT=${FWCERT:-$root/build/tools/fwcert}
RUNS=${RUNS:-10}
die() { echo "scan.sh: ERROR: $*" >&2; exit 1; }
sudo=""
[[ $EUID -ne 0 ]] && sudo=sudo
for pair in hyperfine:hyperfine binwalk:binwalk; do
  command -v "${pair%%:*}" >/dev/null || $sudo apt-get install -y "${pair##*:}" >/dev/null || die "cannot install ${pair##*:}"
done
[[ -x /usr/bin/time ]] || $sudo apt-get install -y time >/dev/null || die "cannot install time"
[[ -x "$FWCERT" ]] || die "fwcert not found at $FWCERT (build it, or set FWCERT=)"
[[ -f "$work/x10-bench.bin" ]] || "$bench/make-bench-image.sh"
x10="$work/x10-bench.bin"

"$FWCERT" scan --now 2026-01-01 "$x10" | head -12
rss_kb=$( { /usr/bin/time -f '%M' "$FWCERT" scan --now 2026-01-01 --format json "$x10" >/dev/null; } 2>&1 | tail -1)
hyperfine --warmup 1 --runs "$RUNS" --style basic --export-json "$work/scan.json" \
  -n "fwcert scan x10-bench.bin" "'$FWCERT' scan --now 2026-01-01 --format json '$x10'" \
  -n "binwalk x10-bench.bin" "binwalk '$x10'"

load=$(cut -d' ' -f1 /proc/loadavg)
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "?")
python3 - "$work/scan.json" "$bench/results-scan.md" "$(date -u +%Y-%m-%d)" "$commit" "$(nproc) CPUs, load $load" "$RUNS" "$rss_kb" <<'PY'
import json, os, sys
path, results, date, commit, machine, runs, rss_kb = sys.argv[1:]
res = {r["command"]: r for r in json.load(open(path))["results"]}
fw, bw = res["fwcert scan x10-bench.bin"], res["binwalk x10-bench.bin"]
ratio = bw["median"] / fw["median"]
cpu = fw["user"] + fw["system"]
print(f"\nmedian fwcert scan: {fw['median']*1000:.0f} ms wall ({cpu*1000:.0f} ms CPU), peak RSS {int(rss_kb)/1024:.0f} MiB")
print(f"median binwalk:     {bw['median']*1000:.0f} ms   ratio {ratio:.1f}x")
if not os.path.exists(results):
    open(results, "w").write("# fwcert scan benchmark (bench/scan.sh, hyperfine medians)\n\n"
        "| date | commit | machine | runs | fwcert scan (wall / CPU) | binwalk | binwalk/fwcert | fwcert peak RSS |\n"
        "|---|---|---|---|---|---|---|---|\n")
with open(results, "a") as f:
    f.write(f"| {date} | {commit} | {machine} | {runs} | {fw['median']*1000:.0f} ms / {cpu*1000:.0f} ms | "
            f"{bw['median']*1000:.0f} ms | {ratio:.1f}x | {int(rss_kb)/1024:.0f} MiB |\n")
PY
