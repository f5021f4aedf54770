#!/usr/bin/env bash
# fwcert's read-only catalog commands as a user meets them (issue 13): a missing path, a folder or somebody else's
# SQLite file is refused with exit 2 and one line, creating nothing; a read-only catalog can still be listed; a
# foreign database is never switched to WAL; `merge OUT good bad good` merges both good shards and exits 2 naming the
# bad one; one image however its path is spelled; `where` takes openssl's fingerprint line and prefixes and exits 1
# when nothing matches; JSON answers are versioned and typed; CSV never guards a negative number.
set -euo pipefail
F=$1
SRC=$2
W=$(mktemp -d)
trap 'chmod -R u+w "$W" 2>/dev/null; rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$W"

# run EXPECTED_RC ARGS...: runs fwcert, keeps stdout in $out and stderr in $err, checks the exit code.
run() {
  local want=$1 rc
  shift
  set +e
  "$F" "$@" >"$W/.out" 2>"$W/.err"
  rc=$?
  set -e
  out=$(cat "$W/.out")
  err=$(cat "$W/.err")
  [ "$rc" = "$want" ] || fail "fwcert $* gave exit $rc, expected $want (stderr: $err)"
}

# 1. Refusals that create nothing.
mkdir adir
sqlite3 foreign.db "CREATE TABLE people(name TEXT)" 2>/dev/null ||
  python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("CREATE TABLE people(name TEXT)"); c.commit()' foreign.db
foreign_sum=$(sha256sum foreign.db)
: > .out; : > .err
before=$(find . | sort)
for db in missing.sqlite "$W/nonexistent/dir/x.sqlite" adir foreign.db; do
  for q in list certs "where 0123456789abcdef" keys; do
    # shellcheck disable=SC2086
    run 2 catalog $q --db "$db"
    [ "$(printf '%s\n' "$err" | wc -l)" = 1 ] || fail "catalog $q --db $db: not one line: $err"
    echo "$err" | grep -qF "$db" || fail "catalog $q --db $db: the error does not name it: $err"
    [ -z "$out" ] || fail "catalog $q --db $db printed: $out"
  done
  run 2 calendar --db "$db" -o m.ics
  echo "$err" | grep -qF "$db" || fail "calendar --db $db: the error does not name it: $err"
done
[ "$(find . | sort)" = "$before" ] || fail "a refused command created something: $(find . | sort)"
[ "$(sha256sum foreign.db)" = "$foreign_sum" ] || fail "the foreign database was changed"
run 2 catalog add "$SRC/samples/bmc-sample.bin" --db foreign.db --now 2026-01-01
[ "$(sha256sum foreign.db)" = "$foreign_sum" ] || fail "catalog add changed the foreign database (switched to WAL?)"
[ ! -e foreign.db-wal ] || fail "catalog add left a -wal beside the foreign database"

# 2. One image however its path is spelled.
mkdir imgs
cp "$SRC/samples/bmc-sample.bin" imgs/x.bin
run 0 catalog add imgs/x.bin ./imgs/x.bin "$W/imgs/x.bin" --db c.sqlite --now 2026-01-01
run 0 catalog add ./imgs//x.bin --db c.sqlite --now 2026-01-01
echo "$err" | grep -q "0 scanned, 1 unchanged" || fail "another spelling was scanned again: $err"
run 0 catalog list --db c.sqlite --format csv
[ "$(printf '%s\n' "$out" | wc -l)" = 2 ] || fail "one image, three spellings: $out"
echo "$out" | grep -q "^$W/imgs/x.bin," || fail "the image is not keyed by its absolute path: $out"
[ ! -e c.sqlite-wal ] && [ ! -e c.sqlite-shm ] || fail "a query left -wal/-shm files behind"

# 3. Lookups.
fp=$(openssl x509 -in "$SRC/samples/certs/server.crt" -noout -fingerprint -sha256)
hex=$(echo "${fp#*=}" | tr -d ':' | tr 'A-F' 'a-f')
run 0 catalog where "$fp" --db c.sqlite --format csv
echo "$out" | grep -q "imgs/x.bin" || fail "where with openssl's fingerprint line found nothing: $out"
run 0 catalog where "${fp#*=}" --db c.sqlite --format csv
run 0 catalog where "${hex:0:8}" --db c.sqlite --format json
echo "$out" | grep -q "\"sha256\": \"$hex\"" || fail "where by prefix did not resolve to $hex: $out"
run 1 catalog where ffffffffffffffff --db c.sqlite
echo "$err" | grep -q "no certificate" || fail "a lookup that finds nothing does not say so: $err"
run 2 catalog where abc --db c.sqlite
run 2 catalog where not-a-hash-at-all --db c.sqlite

# 4. Typed machine output.
run 0 catalog certs --db c.sqlite --now 2060-01-01 --format json
python3 - "$W/.out" <<'PY' || fail "catalog certs JSON is not typed as documented"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["format_version"] == 1 and d["query"] == "certs", d
c = d["certificates"]
assert c and all(isinstance(x["days_left"], int) for x in c), c
assert all(isinstance(x["roles"], list) and isinstance(x["images"], int) for x in c), c
PY
run 0 catalog certs --db c.sqlite --now 2060-01-01 --format csv
echo "$out" | grep -q "'-" && fail "CSV guards a negative number: $out"
echo "$out" | grep -q ",-[0-9][0-9]*," || fail "CSV lacks negative day counts: $out"

# 5. A read-only catalog (file and folder) can still be queried, by a user who cannot write to it.
mkdir ro && cp c.sqlite ro/ && chmod 444 ro/c.sqlite && chmod 555 ro
as_user=()
if [ "$(id -u)" = 0 ]; then
  chmod 755 "$W"
  # As nobody, when nobody may run the binary where it was built.
  if command -v setpriv >/dev/null &&
    setpriv --reuid=nobody --regid=nogroup --clear-groups "$F" --help >/dev/null 2>&1; then
    as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
  fi
fi
if [ "$(id -u)" != 0 ] || [ ${#as_user[@]} -gt 0 ]; then
  out=$("${as_user[@]}" "$F" catalog list --db "$W/ro/c.sqlite" --format csv 2>&1) ||
    fail "a read-only catalog cannot be listed: $out"
  echo "$out" | grep -q "imgs/x.bin" || fail "read-only listing: $out"
  [ "$(ls -A ro)" = c.sqlite ] || fail "a read-only query created files: $(ls -A ro)"
else
  echo "note: read-only check skipped (root, and nobody cannot run $F)"
fi

# 6. merge OUT good bad good: both good shards merged, the bad one named, exit 2.
cp "$SRC/samples/bmc-sample-be.bin" imgs/y.bin
run 0 catalog add imgs/y.bin --db s3.sqlite --now 2026-01-01
head -c 8192 /dev/urandom > bad.sqlite
run 2 catalog merge m.sqlite c.sqlite bad.sqlite s3.sqlite
echo "$err" | grep -q "bad.sqlite" || fail "merge does not name the bad shard: $err"
run 0 catalog list --db m.sqlite --format csv
echo "$out" | grep -q "imgs/y.bin" || fail "the shard after the bad one was not merged: $out"
echo "$out" | grep -q "imgs/x.bin" || fail "the shard before the bad one was not merged: $out"
echo "catalog queries: OK"
