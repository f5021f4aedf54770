#!/usr/bin/env bash
# fwextract and fwcert scan as a user runs them on JFFS2 images made by mkfs.jffs2 (both byte orders, zlib, rtime and
# LZO nodes, 64 KiB to 256 KiB erase blocks), embedded in a bigger image: the extracted tree equals the source tree
# file by file, and fwcert finds the certificate at its full location and pairs the private key with it. Then a JFFS2
# with a history (tests/tools/mkjffs2.py): a deleted certificate is reported with --include-deleted, marked
# ";deleted", and not without it.
# Exits 77 (skipped) without mkfs.jffs2 (Debian package mtd-utils).
set -euo pipefail
X=$1
F=$2
SRC=$3
if ! command -v mkfs.jffs2 >/dev/null; then
  echo "SKIP: mkfs.jffs2 not found (Debian package mtd-utils)"
  exit 77
fi
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

t=$W/t
mkdir -p "$t/etc/ssl/certs" "$t/etc/ssl/private" "$t/usr/lib" "$t/var/empty"
cp "$SRC/samples/certs/server.crt" "$t/etc/ssl/certs/"
cp "$SRC/samples/certs/server.key" "$t/etc/ssl/private/"
seq 1 40000 >"$t/usr/lib/numbers.txt"
head -c 70000 /dev/urandom >"$t/usr/lib/random.bin"
ln -s ../ssl/certs/server.crt "$t/usr/lib/cert-link"
: >"$t/etc/empty"

n=0
for opts in "-l -e 64KiB" "-b -e 128KiB" "-l -e 128KiB -x zlib" "-b -e 256KiB -x zlib -x rtime -X lzo" \
            "-l -e 256KiB -x zlib -x rtime -X lzo" "-b -e 64KiB -x zlib"; do
  n=$((n + 1))
  fs=$W/fs$n.jffs2
  mkfs.jffs2 $opts -p -r "$t" -o "$fs" 2>/dev/null
  # Embedded at 1 MiB in an image of erased flash and random bytes.
  img=$W/img$n.bin
  { head -c 524288 /dev/urandom; head -c 524288 /dev/zero | tr '\0' '\377'; cat "$fs"; head -c 4096 /dev/urandom; } >"$img"
  out=$W/out$n
  "$X" "$img" -o "$out" >/dev/null 2>"$W/err" || fail "$opts: fwextract failed: $(cat "$W/err")"
  grep -qiE "warning|error|limit" "$W/err" && fail "$opts: fwextract complained: $(cat "$W/err")"
  [ -d "$out/jffs2@0x100000" ] || fail "$opts: no jffs2@0x100000 in $(ls "$out")"
  diff -r --no-dereference -x '*.extracted' "$t" "$out/jffs2@0x100000" >"$W/diff" ||
    fail "$opts: the extracted tree differs from the source: $(cat "$W/diff")"

  "$F" scan "$img" --now 2026-01-01 --format json >"$W/scan.json"
  python3 - "$img" "$opts" "$W/scan.json" <<'PY' || fail "$opts: fwcert scan: see above"
import json, sys
img, opts = sys.argv[1], sys.argv[2]
i = json.load(open(sys.argv[3]))["inputs"][0]
want_cert = img + "!jffs2@0x100000:/etc/ssl/certs/server.crt"
want_key = img + "!jffs2@0x100000:/etc/ssl/private/server.key"
certs = [c for c in i["certificates"] if want_cert in c["locations"]]
assert certs, (opts, "no certificate at", want_cert, [c["locations"] for c in i["certificates"]])
keys = [k for k in i["keys"] if k["location"] == want_key]
assert keys, (opts, "no key at", want_key)
assert certs[0]["private_keys"], (opts, "the key is not paired with the certificate")
assert i["problems"] == [], (opts, i["problems"])
PY
  echo "$opts: tree equal to the source, certificate and paired key found"
done

# Erase block summaries (sumtool, as CONFIG_JFFS2_SUMMARY kernels write them): the summary nodes are checked and
# skipped, the tree is the same.
if command -v sumtool >/dev/null; then
  for o in "-l -e 64KiB" "-b -e 128KiB"; do
    mkfs.jffs2 $o -r "$t" -o "$W/s.jffs2" 2>/dev/null
    sumtool $o -i "$W/s.jffs2" -o "$W/sum.jffs2"
    rm -rf "$W/sout"
    "$X" "$W/sum.jffs2" -o "$W/sout" >/dev/null 2>"$W/err"
    grep -qiE "warning|error" "$W/err" && fail "summary $o: fwextract complained: $(cat "$W/err")"
    diff -r --no-dereference -x '*.extracted' "$t" "$W"/sout/jffs2* >"$W/diff" || fail "summary $o: $(cat "$W/diff")"
    "$X" "$W/sum.jffs2" --list | grep -q '(warning' && fail "summary $o: a member has a warning"
    echo "summary $o: tree equal to the source"
  done
fi

# A certificate written, then deleted (a deletion dirent), and an overwritten config that held one.
if command -v python3 >/dev/null; then
  d=$W/deleted.jffs2
  (cd "$SRC" && python3 tests/tools/mkjffs2.py "$d" mkdir:/etc mkdir:/etc/ssl \
    "write:/etc/ssl/old.crt=@samples/certs/client.crt" unlink:/etc/ssl/old.crt \
    "write:/etc/app.conf=@samples/certs/ca.crt" "overwrite:/etc/app.conf=port=443")
  plain=$("$F" scan "$d" --now 2026-01-01 --format json)
  grep -q 'old.crt' <<<"$plain" && fail "a deleted certificate is reported without --include-deleted"
  all=$("$F" scan "$d" --now 2026-01-01 --format json --include-deleted)
  grep -qF "\"$d!jffs2@0x0:/etc/ssl/old.crt;deleted\"" <<<"$all" || fail "no deleted certificate: $all"
  grep -qF "\"$d!jffs2@0x0:/etc/app.conf;v" <<<"$all" || fail "no older version of app.conf: $all"
  "$X" "$d" --include-deleted -o "$W/dout" >/dev/null
  cmp "$W"/dout/jffs2*/etc/ssl/old.crt\;deleted "$SRC/samples/certs/client.crt" || fail "deleted file content differs"
  echo "deleted: reported only with --include-deleted"
fi
