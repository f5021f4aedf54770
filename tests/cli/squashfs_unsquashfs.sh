#!/usr/bin/env bash
# fwextract --list and fwcert scan as a user runs them on squashfs images made by mksquashfs with every compressor it
# offers (issue 13: every directory after an empty one was missing, LZO was refused): the squashfs members fwextract
# lists equal `unsquashfs -l` line for line, and fwcert finds every certificate at every path, with no problem.
# Exits 77 (skipped) without squashfs-tools.
set -euo pipefail
X=$1
F=$2
SRC=$3
if ! command -v mksquashfs >/dev/null || ! command -v unsquashfs >/dev/null; then
  echo "SKIP: mksquashfs/unsquashfs not found (Debian package squashfs-tools)"
  exit 77
fi
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# Empty directories before, between and after the ones holding certificates, at several depths; a hard link; a symlink.
t=$W/t
mkdir -p "$t/a" "$t/b/0" "$t/b/c/empty" "$t/proc" "$t/sys" "$t/etc/ssl/private" "$t/etc/ssl/certs" "$t/usr/bin" "$t/zz"
cp "$SRC/samples/certs/server.crt" "$t/b/"
cp "$SRC/samples/certs/client.crt" "$t/b/c/"
cp "$SRC/samples/certs/ca.crt" "$t/etc/ssl/certs/"
cp "$SRC/samples/certs/redfish.crt" "$t/usr/bin/"
ln "$t/b/c/client.crt" "$t/hard.crt"
ln -s b/server.crt "$t/link.crt"
want=(/b/server.crt /b/c/client.crt /etc/ssl/certs/ca.crt /usr/bin/redfish.crt /hard.crt)

# The indented names after "Compressors available:" (awk reads to the end: an early exit would SIGPIPE mksquashfs).
comps=$(mksquashfs -help 2>&1 |
  awk '/Compressors available/ { on = 1; next } on && /^\t\t\t\t/ { print $1; next } { on = 0 }')
[ -n "$comps" ] || fail "no compressor list in mksquashfs -help"
for c in $comps; do
  img=$W/$c.sqfs
  mksquashfs "$t" "$img" -comp "$c" -noappend -no-progress -quiet >/dev/null
  # Members of the squashfs node only (not what is found inside them: "...!pem@0x0"), without "  [dir]" or " -> x".
  "$X" "$img" --list 2>"$W/err" |
    awk -v p="$c.sqfs!squashfs:" '{ m = substr($1, length(p) + 1) } index($1, p) == 1 && !index(m, "!") { print m }' \
      >"$W/ours"
  unsquashfs -l -d R "$img" | sed -n 's#^R/#/#p' >"$W/theirs"
  [ -s "$W/err" ] && fail "$c: fwextract complained: $(cat "$W/err")"
  diff "$W/ours" "$W/theirs" >"$W/diff" || fail "$c: fwextract --list differs from unsquashfs -l: $(cat "$W/diff")"
  [ "$(wc -l <"$W/ours")" -ge 17 ] || fail "$c: only $(wc -l <"$W/ours") entries"

  json=$("$F" scan "$img" --now 2026-01-01 --format json)
  for p in "${want[@]}"; do
    grep -qF "\"$img!squashfs:$p\"" <<<"$json" || fail "$c: fwcert scan did not find $p"  # locations: the path given
  done
  grep -q '"problems": \[\]' <<<"$json" || fail "$c: fwcert scan reported problems: $json"
  echo "$c: $(wc -l <"$W/ours") entries as unsquashfs, ${#want[@]} certificate locations"
done
