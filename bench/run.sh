#!/usr/bin/env bash
# run.sh — time fwwalk against Debian's binwalk (v2.3.x, plain signature scan) in one run.
#
#   bench/run.sh                  # RUNS=10 by default
#   RUNS=5 FWWALK=/path/to/fwwalk bench/run.sh
#
# Builds bench/work/{x10-bench.bin,random.bin} if missing (bench/make-bench-image.sh), then with
# hyperfine (--warmup 1 --runs $RUNS, JSON in bench/work/hyperfine.json) times:
#   fwwalk  x10-bench.bin   |   binwalk x10-bench.bin   |   fwwalk random.bin
# and prints the medians, binwalk/fwwalk, and fwwalk's throughput on random.bin (MB/s,
# MB = 10^6 bytes). Appends one row to bench/results.md.
# Extra fwwalk options can be passed in $FWWALK_ARGS (e.g. "--signatures signatures").
set -euo pipefail

bench=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$bench/.." && pwd)
work="$bench/work"
FWWALK=${FWWALK:-$root/build/tools/fwwalk}
FWWALK_ARGS=${FWWALK_ARGS:-}
RUNS=${RUNS:-10}

say() { echo "run.sh: $*"; }
die() { echo "run.sh: ERROR: $*" >&2; exit 1; }

[[ "$RUNS" =~ ^[0-9]+$ && "$RUNS" -ge 1 ]] || die "RUNS must be a positive integer (got '$RUNS')"

# ---- tools ----
install_pkg() {  # install_pkg COMMAND PACKAGE
    command -v "$1" >/dev/null && return 0
    say "$1 not found; installing Debian package $2"
    local sudo=""
    [[ $EUID -ne 0 ]] && sudo=sudo
    $sudo apt-get install -y "$2" >/dev/null || { $sudo apt-get update >/dev/null && $sudo apt-get install -y "$2" >/dev/null; } \
        || die "could not install $2 (apt-get install $2)"
}
install_pkg hyperfine hyperfine
install_pkg binwalk binwalk
command -v python3 >/dev/null || die "python3 is needed to read hyperfine's JSON"

if [[ ! -x "$FWWALK" ]]; then
    die "fwwalk not found at $FWWALK: build it (cmake -S $root -B $root/build -DCMAKE_BUILD_TYPE=Release && cmake --build $root/build --target fwwalk) or set FWWALK=/path/to/fwwalk"
fi
FWWALK=$(cd "$(dirname "$FWWALK")" && pwd)/$(basename "$FWWALK")

# ---- inputs ----
if [[ ! -f "$work/x10-bench.bin" || ! -f "$work/random.bin" ]]; then
    say "benchmark images missing; building them"
    "$bench/make-bench-image.sh"
fi
x10="$work/x10-bench.bin"
rnd="$work/random.bin"
rnd_bytes=$(stat -c %s "$rnd")

# ---- one untimed pass: does each tool work, and what does it find? ----
fw_ok=yes
for input in x10-bench random; do
    rc=0
    # shellcheck disable=SC2086
    "$FWWALK" $FWWALK_ARGS "$work/$input.bin" >"$work/fwwalk-$input.txt" 2>"$work/fwwalk-$input.err" || rc=$?
    if [[ $rc -ne 0 ]]; then
        fw_ok=no
        say "WARNING: '$FWWALK $FWWALK_ARGS $input.bin' failed (exit code $rc); fwwalk is left out of the timing:"
        sed 's/^/    /' "$work/fwwalk-$input.err" | head -5
        say "(set FWWALK_ARGS, e.g. FWWALK_ARGS='--signatures $root/signatures/firmware.sig', or rebuild fwwalk)"
        break
    fi
done
binwalk "$x10" >"$work/binwalk-x10.txt" 2>"$work/binwalk-x10.err" || die "binwalk failed on $x10 (see $work/binwalk-x10.err)"

count_hits() { grep -cE '^[0-9]+[[:space:]]+0x[0-9A-Fa-f]+' "$1" || true; }   # binwalk-style table rows
bw_hits=$(count_hits "$work/binwalk-x10.txt")
if [[ $fw_ok == yes ]]; then
    fw_hits=$(count_hits "$work/fwwalk-x10-bench.txt")
    fw_rnd_hits=$(count_hits "$work/fwwalk-random.txt")
    say "fwwalk finds $fw_hits rows on x10-bench.bin ($fw_rnd_hits on random.bin); binwalk finds $bw_hits"
    [[ $fw_hits -lt 5 ]] && say "note: fwwalk finds fewer than binwalk's 5 structures (validators still being written?)"
fi

# ---- timing ----
q() { printf '%q' "$1"; }
cmds=()
names=()
if [[ $fw_ok == yes ]]; then
    names+=("fwwalk x10-bench.bin");  cmds+=("$(q "$FWWALK") $FWWALK_ARGS $(q "$x10")")
fi
names+=("binwalk x10-bench.bin");     cmds+=("binwalk $(q "$x10")")
if [[ $fw_ok == yes ]]; then
    names+=("fwwalk random.bin");     cmds+=("$(q "$FWWALK") $FWWALK_ARGS $(q "$rnd")")
fi
args=(--warmup 1 --runs "$RUNS" --export-json "$work/hyperfine.json" --style basic)
for i in "${!cmds[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
say "timing with hyperfine (--warmup 1 --runs $RUNS) ..."
hyperfine "${args[@]}"

# ---- summary ----
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
[[ -n "$cpu" ]] || cpu=$(uname -m)
ncpu=$(nproc)
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo "?")
dirty=""
if [[ -n "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null || true)" ]]; then dirty="+dirty"; fi
bwver=$( (binwalk 2>&1 || true) | sed -n 's/^Binwalk v//p' | head -1)

load=$(cut -d' ' -f1 /proc/loadavg)
python3 - "$work/hyperfine.json" "$rnd_bytes" "$bench/results.md" "$(date -u +%Y-%m-%d)" "$ncpu" "$cpu load $load" \
    "$commit$dirty" "${bwver:-?}" "$RUNS" "${fw_hits:-failed}" "$bw_hits" "${fw_rnd_hits:-failed}" <<'PY'
import json, os, sys
(path, rnd_bytes, results, date, ncpu, cpu, commit, bwver, runs, fw_hits, bw_hits, fw_rnd_hits) = sys.argv[1:]
res = {r["command"]: r for r in json.load(open(path))["results"]}
med = {k: v["median"] for k, v in res.items()}
fw_x10 = med.get("fwwalk x10-bench.bin")
bw_x10 = med["binwalk x10-bench.bin"]
fw_rnd = med.get("fwwalk random.bin")
ms = lambda s: "n/a" if s is None else f"{s * 1000:.1f} ms"
ratio = f"{bw_x10 / fw_x10:.1f}x" if fw_x10 else "n/a"
mbps = f"{int(rnd_bytes) / 1e6 / fw_rnd:.0f} MB/s" if fw_rnd else "n/a"
# CPU time (mean user + system) is less disturbed than wall time when the machine is shared.
cpu_rnd = (res["fwwalk random.bin"]["user"] + res["fwwalk random.bin"]["system"]) if fw_rnd else None
mbps_cpu = f"{int(rnd_bytes) / 1e6 / cpu_rnd:.0f} MB/s" if cpu_rnd else "n/a"
print()
print(f"median  fwwalk  x10-bench.bin : {ms(fw_x10)}   ({fw_hits} rows)")
print(f"median  binwalk x10-bench.bin : {ms(bw_x10)}   ({bw_hits} rows)")
print(f"median  fwwalk  random.bin    : {ms(fw_rnd)}   ({fw_rnd_hits} rows)")
print(f"binwalk / fwwalk on x10-bench : {ratio}")
print(f"fwwalk throughput, random.bin : {mbps} wall-clock, {mbps_cpu} per CPU second ({int(rnd_bytes)} bytes)")
header = ("# fwwalk benchmark results\n\n"
          "Produced by `bench/run.sh` (hyperfine, --warmup 1; medians). Inputs from `bench/make-bench-image.sh`:\n"
          "`x10-bench.bin` = 32 MiB in the Supermicro X10 layout (CRC32 table, 15 MB CramFS, 1.5 MB gzip uImage,\n"
          "7.4 MB CramFS, [img] index, ATENs_FW footer); `random.bin` = 32 MiB pseudo-random bytes.\n"
          "Wall times are noisy on a shared machine (see the load column); CPU time = mean user + system.\n"
          "Rows = table rows printed (fwwalk default: medium+high confidence; binwalk 2.3 signature scan).\n\n"
          "| date (UTC) | commit | machine (nproc x CPU, 1-min load) | runs | fwwalk x10 | binwalk x10 | binwalk/fwwalk | fwwalk random | fwwalk MB/s (random, wall / CPU time) | rows fwwalk/binwalk (x10) | rows fwwalk (random) |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|\n")
row = (f"| {date} | {commit} | {ncpu} x {cpu} | {runs} | {ms(fw_x10)} | {ms(bw_x10)} (binwalk {bwver}) | {ratio} | "
       f"{ms(fw_rnd)} | {mbps} / {mbps_cpu} | {fw_hits}/{bw_hits} | {fw_rnd_hits} |\n")
if not os.path.exists(results):
    open(results, "w").write(header)
with open(results, "a") as f:
    f.write(row)
print(f"\nrun.sh: appended to {results}")
PY
