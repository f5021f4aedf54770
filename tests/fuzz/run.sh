#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, -DFWCERT_FUZZ=ON, in build-fuzz) if needed, makes the seed corpora if absent,
# and runs each target for SECONDS, then prints runs, coverage, features and crashes per target.
#
#   tests/fuzz/run.sh SECONDS [TARGET...]      (default: every target, one after the other)
#
# Environment: BUILD_DIR (default build-fuzz), JOBS (build parallelism, default 2), MAX_LEN (default 1048576),
# RSS_LIMIT_MB (default 2048). The growing corpus is kept in BUILD_DIR/corpus/<target> between runs; crashing inputs
# go to BUILD_DIR/crashes/<target>/ (turn each into a regression test: tests/fuzz/README.md).
set -euo pipefail
src="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$src"
seconds="${1:?usage: tests/fuzz/run.sh SECONDS [TARGET...]}"
shift
all=(walker cramfs uimage_fit squashfs ext scan certs roles calendar layouts squashfs3 jffs2 ubi)
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${all[@]}")
build="${BUILD_DIR:-build-fuzz}"
jobs="${JOBS:-2}"

launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
if [[ ! -f $build/CMakeCache.txt ]]; then
  # The dependencies are GCC-built static archives (C libraries), which link with clang++ as they are.
  CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFWCERT_FUZZ=ON \
    -DFWCERT_BUILD_TESTS=OFF "${launcher[@]}" >/dev/null
fi
cmake --build "$build" -j"$jobs" --target $(printf 'fuzz_%s ' "${targets[@]}")
[[ -d $build/seeds ]] || bash tests/fuzz/make-seeds.sh "$build/seeds"

# allocator_may_return_null: hostile size fields make libsquashfs ask for tens of GiB, which the plain build survives
# (NULL, an error reported) and so must the fuzzed one; -rss_limit_mb still catches real memory growth.
export ASAN_OPTIONS="allocator_may_return_null=1:detect_leaks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
summary=()
for t in "${targets[@]}"; do
  mkdir -p "$build/corpus/$t" "$build/crashes/$t"
  log="$build/fuzz_$t.log"
  echo "== fuzz_$t for $seconds s (log: $log)"
  # libsquashfs callocs a symlink's target size (a u32 from the image) before reading it: up to 4 GiB of untouched
  # virtual memory from a 485-byte image, which libFuzzer's single-malloc limit (= rss_limit_mb) calls out-of-memory.
  # That is libsquashfs's code, not ours: the targets that reach it allow one allocation of 4 GiB and more, while the
  # RSS limit still catches memory that is really used. (tests/fuzz/README.md, "Findings".)
  malloc_limit=()
  case "$t" in squashfs | scan | walker) malloc_limit=(-malloc_limit_mb="${MALLOC_LIMIT_MB:-4300}") ;; esac
  set +e
  "$build/tests/fuzz/fuzz_$t" "${malloc_limit[@]}" "$build/corpus/$t" "$build/seeds/$t" -max_total_time="$seconds" \
    -max_len="${MAX_LEN:-1048576}" -rss_limit_mb="${RSS_LIMIT_MB:-2048}" -timeout=25 -print_final_stats=1 \
    -artifact_prefix="$build/crashes/$t/" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  last=$(grep -E '^#[0-9]+' "$log" | tail -n1)
  cov=$(grep -o 'cov: [0-9]*' <<<"$last" | grep -o '[0-9]*' || true)
  ft=$(grep -o 'ft: [0-9]*' <<<"$last" | grep -o '[0-9]*' || true)
  crashes=$(find "$build/crashes/$t" -type f | wc -l)
  summary+=("$(printf '%-11s runs %-9s cov %-6s ft %-7s crashes %-3s exit %s' "$t" "${runs:-?}" "${cov:-?}" \
    "${ft:-?}" "$crashes" "$rc")")
done
echo "== summary ($seconds s per target)"
printf '%s\n' "${summary[@]}"
