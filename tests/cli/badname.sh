#!/usr/bin/env bash
# Names that are not UTF-8 (issue 13, item 9): a tar and a zip whose member names hold a Latin-1 byte and a raw
# escape sequence, and an input whose own file name is Latin-1. Every JSON output must be written (exit 0, valid
# JSON) and no text output may pass the escape sequence to the terminal. Earlier, fwextract died with exit 3 and
# wrote no manifest, and fwwalk --json died on the file name.
set -euo pipefail
FWCERT=$1
FWWALK=$2
FWEXTRACT=$3
SRC=$4
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# The python3 first on PATH may be a venv; any python3 with the json module does.
PY=python3

"$PY" - "$W" "$SRC/samples/certs/ca.crt" <<'PYEOF'
import io, os, sys, tarfile, zipfile
d, pem = sys.argv[1], open(sys.argv[2], 'rb').read()
with tarfile.open(os.path.join(d, 'bad.tar'), 'w', format=tarfile.GNU_FORMAT, encoding='latin-1') as t:
    for name in ['caf\xe9.crt', 'esc\x1b]0;PWNED\x07\x1b[2J.crt']:
        ti = tarfile.TarInfo(name); ti.size = len(pem); t.addfile(ti, io.BytesIO(pem))
buf = io.BytesIO()
with zipfile.ZipFile(buf, 'w') as z:
    z.writestr(zipfile.ZipInfo('cafX.crt'), pem)
open(os.path.join(d, 'bad.zip'), 'wb').write(buf.getvalue().replace(b'cafX.crt', b'caf\xe9.crt'))
os.rename(os.path.join(d, 'bad.tar'), os.path.join(d.encode(), b'fw\xe9.tar'))
PYEOF
TAR="$W/fw"$'\xe9'".tar"
ZIP="$W/bad.zip"
json_ok() { "$PY" -c 'import json,sys; json.load(sys.stdin)' || fail "$1: not valid JSON"; }
no_esc() { if grep -q $'\x1b' "$2"; then fail "$1: raw escape sequence in the output"; fi; }

for f in "$TAR" "$ZIP"; do
  "$FWWALK" --json "$f" > "$W/out" || fail "fwwalk --json exit $?"
  json_ok "fwwalk --json" < "$W/out"
  "$FWEXTRACT" --list --json "$f" > "$W/out" || fail "fwextract --list --json exit $?"
  json_ok "fwextract --list --json" < "$W/out"
  "$FWEXTRACT" --list "$f" > "$W/out" 2>"$W/err" || fail "fwextract --list exit $?"
  no_esc "fwextract --list" "$W/out"
  rm -rf "$W/x"
  "$FWEXTRACT" "$f" -o "$W/x" > /dev/null 2>"$W/err" || fail "fwextract -o exit $?: $(cat "$W/err")"
  no_esc "fwextract -o (stderr)" "$W/err"
  json_ok "manifest.json" < "$W/x/manifest.json"
  grep -q '"location_bytes"' "$W/x/manifest.json" || fail "manifest.json keeps no exact bytes of the Latin-1 name"
  for fmt in json sarif; do
    "$FWCERT" scan --now 2026-12-07 --format $fmt "$f" > "$W/out" || fail "fwcert scan --format $fmt exit $?"
    json_ok "fwcert scan --format $fmt" < "$W/out"
  done
  "$FWCERT" scan --now 2026-12-07 "$f" > "$W/out" || fail "fwcert scan exit $?"
  no_esc "fwcert scan table" "$W/out"
  grep -q 'caf\\xE9.crt' "$W/out" || fail "the table does not show the Latin-1 name as \\xE9"
done
echo "badname: every output written"
