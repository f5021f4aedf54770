#!/usr/bin/env bash
# The sanitizer suite: builds in build-asan with -DFWCERT_SANITIZE=ON (ASan, UBSan, LSan) and runs the whole ctest
# suite with the sanitizers set to stop at the first finding.
#
#   tests/ci/sanitize.sh [--skip-corpus] [--build-type TYPE] [-- extra ctest arguments]
#
#   --skip-corpus   leave out the test cases that read ../shared/corpus (names containing "corpus"): they are the
#                   slowest cases and CI can run them once, in the normal suite. Without the corpus they skip anyway.
#   --build-type    CMAKE_BUILD_TYPE of build-asan (default Debug: -O0 compiles fastest; RelWithDebInfo runs faster)
#
# Cost measured on the shared 2-core machine (load 10-13): Debug build 29 min wall from a cold cache but only 7 CPU
# minutes (6m29 user + 38 s sys), so about 4 min on two idle cores; the suite 280 s at -j2 (367 tests), of which the
# 57 corpus cases are 55 s of test time. The slowest: test_keys "decode_private_key: ... contexts each thread reuses"
# (58 s), cli.contract (51 s), test_walk "the bundled samples ..." (41 s), test_cramfs_reader "truncated and
# bit-flipped webfs" (33 s).
#
# Environment: JOBS (default 2), BUILD_DIR (default build-asan). Exit status: ctest's (0 when all passed).
set -euo pipefail
cd "$(dirname "$0")/../.."

skip_corpus=0
build_type=Debug
extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --skip-corpus) skip_corpus=1 ;;
    --build-type) build_type="$2"; shift ;;
    --) shift; extra=("$@"); break ;;
    *) echo "sanitize.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
jobs="${JOBS:-2}"
build="${BUILD_DIR:-build-asan}"

launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi

start=$(date +%s)
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE="$build_type" -DFWCERT_SANITIZE=ON "${launcher[@]}" >/dev/null
cmake --build "$build" -j"$jobs"
built=$(date +%s)

# allocator_may_return_null=1: hostile sizes make libsquashfs ask calloc for tens of GiB; a plain build gets NULL and
# reports the error, and so must the sanitized one (tests/CMakeLists.txt sets the same for the unit tests).
# detect_leaks=1: LSan at exit of every program. (The unit tests get ASAN_OPTIONS from their ctest ENVIRONMENT
# property, which replaces this value; ASan's defaults there are the same: leaks checked, first error fatal.)
export ASAN_OPTIONS="allocator_may_return_null=1:detect_leaks=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/ci/lsan.supp:print_suppressions=0"

args=(--test-dir "$build" -j"$jobs" --output-on-failure)
if [[ $skip_corpus == 1 ]]; then args+=(-E 'corpus'); fi
status=0
ctest "${args[@]}" "${extra[@]}" || status=$?
end=$(date +%s)
echo "sanitize.sh: build $((built - start)) s, tests $((end - built)) s, exit $status"
exit $status
