#!/usr/bin/env bash
# fwcert catalog as a user runs it: a folder with a sample, its big-endian twin and a vendor zip catalogs in one
# command; a second run does almost nothing; a run killed with SIGKILL at several moments resumes with nothing lost
# (the final catalog equals one built without interruption); the calendar names all three images.
set -euo pipefail
F=$1
SRC=$2
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir -p "$W/fw"
cp "$SRC/samples/bmc-sample.bin" "$SRC/samples/bmc-sample-be.bin" "$SRC/samples/bmc-sample.zip" "$W/fw/"
out=$("$F" catalog add "$W/fw" --db "$W/c.sqlite" --now 2026-01-01 2>&1)
echo "$out" | grep -q "3 scanned" || fail "first run: $out"
out=$("$F" catalog add "$W/fw" --db "$W/c.sqlite" --now 2026-01-01 2>&1)
echo "$out" | grep -q "0 scanned, 3 unchanged" || fail "second run scanned again: $out"

# The certificate shared by all three images is one calendar event naming all three.
"$F" calendar --db "$W/c.sqlite" --now 2026-01-01 -o "$W/a.ics" 2>/dev/null
"$F" calendar --db "$W/c.sqlite" --now 2026-01-01 -o "$W/b.ics" 2>/dev/null
[ "$(grep -c '^BEGIN:VEVENT' "$W/a.ics")" = 4 ] || fail "expected 4 events"
grep -q '^SUMMARY:IPMI certificate expires (3 firmware images)' "$W/a.ics" || fail "IPMI event does not name 3 images"
diff <(grep '^UID' "$W/a.ics") <(grep '^UID' "$W/b.ics") >/dev/null || fail "UIDs differ across exports"
awk 'length($0) > 76 { exit 1 }' "$W/a.ics" || fail "a line is longer than 75 octets"  # 75 + the CR
[ "$(grep -c $'\r$' "$W/a.ics")" = "$(wc -l < "$W/a.ics")" ] || fail "a line does not end in CRLF"

# Crash safety: 24 images, killed at several moments, then finished.
for i in $(seq -w 1 24); do cp "$SRC/samples/bmc-sample.bin" "$W/fw/img$i.bin"; done
"$F" catalog add "$W/fw" --db "$W/ref.sqlite" --now 2026-01-01 --jobs 2 2>/dev/null
for delay in 0.05 0.15 0.3 0.5; do
  "$F" catalog add "$W/fw" --db "$W/k.sqlite" --now 2026-01-01 --jobs 2 2>/dev/null &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
done
out=$("$F" catalog add "$W/fw" --db "$W/k.sqlite" --now 2026-01-01 --jobs 2 2>&1) || fail "resume failed: $out"
for q in "certs --now 2026-01-01" "keys --shared"; do
  # shellcheck disable=SC2086
  diff <("$F" catalog $q --db "$W/ref.sqlite" --format csv) <("$F" catalog $q --db "$W/k.sqlite" --format csv) \
    || fail "catalog $q differs after the killed runs"
done
diff <("$F" catalog list --db "$W/ref.sqlite" --format csv | cut -d, -f1-8) \
     <("$F" catalog list --db "$W/k.sqlite" --format csv | cut -d, -f1-8) || fail "image list differs after the killed runs"
# A new database is created while the scans start; one that cannot be created stops the run with exit 2, naming it.
expect_db_refused() {  # DB WHAT
  local err rc
  set +e
  err=$("$F" catalog add "$W/fw" --db "$1" --now 2026-01-01 2>&1)
  rc=$?
  set -e
  [ "$rc" = 2 ] || fail "$2 gave exit $rc"
  echo "$err" | grep -qF "$1" || fail "the error about $2 does not name it: $err"
}
mkdir "$W/ro" && chmod 500 "$W/ro"
[ "$(id -u)" = 0 ] || expect_db_refused "$W/ro/x.sqlite" "a database in a read-only folder"
expect_db_refused "$W/c.sqlite/under/a/file.sqlite" "a database under a file"
echo "catalog: OK ($out)"
