#!/usr/bin/env bash
# Metrics (issue 16): `fwcert scan --format prometheus` and `fwcert catalog export` pass `promtool check metrics`
# (Debian package prometheus; skipped with a message when absent), and give one series per certificate placement:
# as many fwcert_cert_expired samples as `fwcert scan --format csv` has rows (one per certificate and location) and as
# the catalog has placements. With the corpus: the House of Keys certificates, each flagged as having a public key.
# Usage: metrics.sh FWCERT SOURCE_DIR
set -uo pipefail
FWCERT=$1
SRC=$2
if ! command -v promtool >/dev/null; then
  echo "SKIP: promtool not installed (Debian: apt-get install prometheus; quickstart.sh --test installs it)"
  exit 77
fi
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
check() {  # check NAME FILE: promtool accepts it, without a lint problem
  local out
  if ! out=$(promtool check metrics <"$2" 2>&1) || [ -n "$out" ]; then
    fail "$1: promtool check metrics: $out"
  fi
}
samples() { grep -c "^$1{" "$2"; }  # samples FAMILY FILE

IMAGES=("$SRC/samples/bmc-sample.bin" "$SRC/samples/bmc-sample-be.bin" "$SRC/samples/bmc-sample.zip")
NOW=2026-01-01

# scan: valid, and one series per placement.
"$FWCERT" scan --now $NOW --format prometheus "${IMAGES[@]}" "$W/missing.bin" >"$W/scan.prom" 2>/dev/null
[ $? = 2 ] || fail "scan with a missing input: exit $?, expected 2"
check scan "$W/scan.prom"
"$FWCERT" scan --now $NOW --format csv "${IMAGES[@]}" >"$W/scan.csv"
rows=$(python3 -c 'import csv, sys; print(sum(1 for _ in csv.DictReader(open(sys.argv[1], newline=""))))' "$W/scan.csv")
for f in fwcert_cert_expired fwcert_cert_not_yet_valid fwcert_cert_private_key_shipped fwcert_cert_key_compromised; do
  n=$(samples $f "$W/scan.prom")
  [ "$n" = "$rows" ] || fail "scan: $n $f samples for $rows certificate placements"
done
[ "$rows" -gt 10 ] || fail "scan: only $rows placements in the samples"
grep -q '^fwcert_input_readable{image=".*missing.bin"} 0$' "$W/scan.prom" || fail "scan: the missing input has no 0"
grep -q '^# TYPE fwcert_cert_not_after_seconds gauge$' "$W/scan.prom" || fail "scan: no TYPE line"
echo "scan: $rows placements, $(grep -c '^fwcert_' "$W/scan.prom") samples"

# catalog export: valid, one series per placement (placements counted with catalog where), written atomically.
cat="$W/catalog.sqlite"
"$FWCERT" catalog add --db "$cat" --now $NOW "${IMAGES[@]}" 2>/dev/null || fail "catalog add"
"$FWCERT" catalog export --db "$cat" --now $NOW -o "$W/fwcert.prom" || fail "catalog export -o"
check export "$W/fwcert.prom"
[ -z "$(find "$W" -name '.fwcert.prom.*')" ] || fail "export: a temporary file was left"
placements=0
for sha in $("$FWCERT" catalog certs --db "$cat" --now $NOW --format csv |
  python3 -c 'import csv, sys; print(*[r["sha256"] for r in csv.DictReader(sys.stdin)])'); do
  n=$("$FWCERT" catalog where --db "$cat" --format csv "$sha" | python3 -c 'import csv, sys; print(sum(1 for _ in csv.DictReader(sys.stdin)))')
  placements=$((placements + n))
done
for f in fwcert_cert_expired fwcert_cert_private_key_shipped; do
  n=$(samples $f "$W/fwcert.prom")
  [ "$n" = "$placements" ] || fail "export: $n $f samples for $placements placements"
done
[ "$(samples fwcert_input_readable "$W/fwcert.prom")" = 3 ] || fail "export: not one fwcert_input_readable per image"
echo "export: $placements placements"

# The House of Keys certificates: every one whose key is listed says so.
HOK="$SRC/../shared/corpus/houseofkeys/certificates"
if [ -d "$HOK" ]; then
  "$FWCERT" scan --now $NOW --format prometheus "$HOK" >"$W/hok.prom"
  check "House of Keys" "$W/hok.prom"
  total=$(samples fwcert_cert_key_compromised "$W/hok.prom")
  flagged=$(grep -c '^fwcert_cert_key_compromised{.*source="House of Keys"} 1$' "$W/hok.prom")
  keys=$(grep -c '^fwcert_key_compromised{.*source="House of Keys"} 1$' "$W/hok.prom")
  echo "House of Keys: $flagged of $total certificate placements and $keys private keys flagged"
  [ "$flagged" -gt 300 ] || fail "House of Keys: only $flagged certificates flagged"
else
  echo "House of Keys corpus absent: that part skipped"
fi

[ "$failures" = 0 ] || { echo "$failures failures" >&2; exit 1; }
echo "metrics: all checks passed"
