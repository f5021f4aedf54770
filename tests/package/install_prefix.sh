#!/usr/bin/env bash
# `cmake --install build --prefix P` (issue 19): every file where Debian expects it, and an installed copy moved to
# another prefix still finds its own data (P/share/fwcert/signatures, relative to the binary) and behaves as the build
# tree does.
# Usage: install_prefix.sh BUILD_DIR SOURCE_DIR VERSION
set -uo pipefail
BUILD=$1
SRC=$2
VERSION=$3
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
unset FWCERT_SIGNATURES FWCERT_DB
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

cmake --install "$BUILD" --prefix "$W/prefix" >"$W/install.log" || { cat "$W/install.log" >&2; exit 1; }
P=$W/prefix
expected=()
for tool in fwcert fwwalk fwextract; do
  expected+=("bin/$tool" "share/man/man1/$tool.1.gz" "share/bash-completion/completions/$tool")
done
for sig in "$SRC"/signatures/*.sig; do expected+=("share/fwcert/signatures/$(basename "$sig")"); done
for doc in "$SRC"/docs/*.md; do expected+=("share/doc/fwcert/$(basename "$doc")"); done
expected+=(share/doc/fwcert/README.md share/doc/fwcert/copyright share/doc/fwcert/changelog.Debian.gz)
for f in "${expected[@]}"; do [ -f "$P/$f" ] || fail "cmake --install put no $f"; done
(cd "$P" && find . -type f | sed 's|^\./||' | sort) >"$W/installed"
printf '%s\n' "${expected[@]}" | sort >"$W/expected"
extra=$(comm -23 "$W/installed" "$W/expected")
[ -z "$extra" ] || fail "cmake --install put files nobody expects: $extra"
for tool in fwcert fwwalk fwextract; do
  [ -x "$P/bin/$tool" ] || fail "bin/$tool is not executable"
  gzip -t "$P/share/man/man1/$tool.1.gz" || fail "$tool.1.gz is not gzip"
  v=$("$P/bin/$tool" --version)
  [ "$v" = "$tool $VERSION" ] || fail "installed $tool --version says '$v', not '$tool $VERSION'"
done

# Moved elsewhere, run from elsewhere: the same scan as the build tree's binary.
mv "$P" "$W/moved"
P=$W/moved
cd / || exit 1
"$BUILD/tools/fwcert" scan --format json --now 2026-12-07 "$SRC/samples/bmc-sample.bin" >"$W/build.json"
"$P/bin/fwcert" scan --format json --now 2026-12-07 "$SRC/samples/bmc-sample.bin" >"$W/installed.json"
cmp -s "$W/build.json" "$W/installed.json" || fail "the installed fwcert scan differs from the build tree's"
grep -q '"not_after"' "$W/installed.json" || fail "the installed fwcert scan found no certificate"
"$BUILD/tools/fwwalk" "$SRC/samples/bmc-sample.bin" >"$W/build.walk"
"$P/bin/fwwalk" "$SRC/samples/bmc-sample.bin" >"$W/installed.walk"
cmp -s "$W/build.walk" "$W/installed.walk" || fail "the installed fwwalk differs from the build tree's"

from=$("$P/bin/fwwalk" --list-signatures | awk -F'\t' '{sub(/:[0-9]+$/, "", $NF); print $NF}' | sort -u)
[ -n "$from" ] || fail "the installed fwwalk --list-signatures lists nothing"
stray=$(grep -v "^$P/share/fwcert/signatures/" <<<"$from")
[ -z "$stray" ] || fail "the installed fwwalk reads signatures from elsewhere: $stray"
# The signatures it loads are the relocated prefix's own (not the source tree's, not the compiled-in set): a
# definition added there shows up.
printf 'fwcert-install-test  cramfs  0  "FWCERT-INSTALL-TEST"\n' >"$P/share/fwcert/signatures/zz-install-test.sig"
"$P/bin/fwwalk" --list-signatures | grep -q fwcert-install-test ||
  fail "the installed fwwalk does not read $P/share/fwcert/signatures"
"$BUILD/tools/fwwalk" --list-signatures | grep -q fwcert-install-test &&
  fail "the build tree's fwwalk reads the installed signatures"

if [ "$failures" -gt 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "ok: cmake --install to a prefix, moved: ${#expected[@]} files, same scan as the build tree"
