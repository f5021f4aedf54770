#!/usr/bin/env bash
# The Debian package as a user gets it (issue 19), as root on Debian 12 (CI runs it after the test suite):
# - cpack -G DEB builds fwcert_VERSION_ARCH.deb; lintian reports no error;
# - apt-get install ./fwcert_*.deb installs it and its Depends (computed by dpkg-shlibdeps);
# - from outside the build tree: fwcert scan runs, its JSON equals the build tree's, fwwalk --list-signatures lists
#   the signatures in /usr/share/fwcert, man finds the three pages, and a new login shell completes the three tools;
# - apt-get remove leaves nothing of it behind (no file, no directory of its own, no configuration files).
# Usage: tests/package/check-deb.sh [BUILD_DIR]   (default: build, already built by quickstart.sh or cmake --build)
set -euo pipefail
cd "$(dirname "$0")/../.."
SRC=$PWD
BUILD=$(cd "${1:-build}" && pwd)
start=$SECONDS
say() { echo "check-deb: $*" >&2; }
die() {
  say "FAIL: $*"
  exit 1
}
[ "$(id -u)" -eq 0 ] || die "run as root (it installs and removes the package): sudo $0 $*"
export DEBIAN_FRONTEND=noninteractive

# What building and checking the package needs: dpkg-shlibdeps (dpkg-dev) for CPack's Depends, lintian, man-db for
# man -w, and bash-completion, whose /etc/profile.d script loads the completions in login shells.
missing=()
for p in dpkg-dev lintian man-db bash-completion; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

# Build it.
cmake --build "$BUILD" -j"$(nproc)" >/dev/null
rm -f "$BUILD"/fwcert_*.deb
(cd "$BUILD" && cpack -G DEB >"$W/cpack.log") || { cat "$W/cpack.log" >&2; die "cpack failed"; }
debs=("$BUILD"/fwcert_*.deb)
if [ ${#debs[@]} -ne 1 ] || [ ! -f "${debs[0]}" ]; then die "cpack made no single fwcert_*.deb: ${debs[*]}"; fi
deb=${debs[0]}
version=$(dpkg-deb -f "$deb" Version)
arch=$(dpkg --print-architecture)
[ "$(basename "$deb")" = "fwcert_${version}_${arch}.deb" ] ||
  die "$(basename "$deb") is not named fwcert_${version}_${arch}.deb"
upstream=${version%-*}
say "built $(basename "$deb"): $(dpkg-deb -f "$deb" Depends | sed 's/^/Depends: /')"
lintian_rc=0
lintian --fail-on error "$deb" >"$W/lintian.txt" 2>&1 || lintian_rc=$?
grep -v 'running with root privileges' "$W/lintian.txt" >&2 || true
[ "$lintian_rc" -eq 0 ] || die "lintian reports errors (exit $lintian_rc)"
say "lintian: no errors ($(grep -c '^W:' "$W/lintian.txt" || true) warnings)"

# Install it as a user would, from a clean state.
if dpkg-query -W -f='${db:Status-Abbrev}' fwcert 2>/dev/null | grep -q '^[ir]'; then
  say "removing the fwcert installed before"
  apt-get purge -y -qq fwcert >/dev/null
fi
apt-get install -y -qq "$deb" 2>&1 | grep -v '^N: Download is performed unsandboxed' >&2 || true
dpkg-query -W -f='${db:Status-Abbrev}' fwcert | grep -q '^ii' || die "apt-get install did not install fwcert"
for dep in $(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -E 's/^ *([^ ]+).*/\1/'); do
  dpkg-query -W -f='${db:Status-Abbrev}' "$dep" 2>/dev/null | grep -q '^ii' || die "dependency $dep is not installed"
done
dpkg -L fwcert | sort >"$W/files"

# Use it from outside the build tree, as found on PATH.
cd "$W"
hash -r
[ "$(command -v fwcert)" = /usr/bin/fwcert ] || die "fwcert on PATH is $(command -v fwcert), not /usr/bin/fwcert"
for tool in fwcert fwwalk fwextract; do
  [ "$($tool --version)" = "$tool $upstream" ] || die "$tool --version says '$($tool --version)', not '$tool $upstream'"
done
fwcert scan "$SRC/samples/bmc-sample.bin" >"$W/scan.txt" || die "fwcert scan samples/bmc-sample.bin failed"
head -n 3 "$W/scan.txt" >&2
fwcert scan --format json --now 2026-12-07 "$SRC/samples/bmc-sample.bin" >"$W/installed.json"
"$BUILD/tools/fwcert" scan --format json --now 2026-12-07 "$SRC/samples/bmc-sample.bin" >"$W/build.json"
cmp -s "$W/installed.json" "$W/build.json" || die "the installed fwcert scan JSON differs from the build tree's"
say "fwcert scan --format json: same as the build tree's ($(grep -c '"not_after"' "$W/installed.json") certificates)"
fwwalk --list-signatures >"$W/sigs.txt"
"$BUILD/tools/fwwalk" --list-signatures | sed "s|$SRC/signatures/|/usr/share/fwcert/signatures/|" >"$W/sigs.build"
cmp -s "$W/sigs.txt" "$W/sigs.build" || die "fwwalk --list-signatures does not list /usr/share/fwcert/signatures"
say "fwwalk --list-signatures: $(wc -l <"$W/sigs.txt") definitions from /usr/share/fwcert/signatures"

# Man pages. A minimal Docker image may tell dpkg not to unpack /usr/share/man (path-exclude in
# /etc/dpkg/dpkg.cfg.d/); there, the package is checked to carry them instead.
if grep -rqs '^path-exclude=/usr/share/man' /etc/dpkg/dpkg.cfg.d/; then
  say "this system excludes /usr/share/man from packages (/etc/dpkg/dpkg.cfg.d): checking the package lists them"
  for tool in fwcert fwwalk fwextract; do
    grep -qx "/usr/share/man/man1/$tool.1.gz" "$W/files" || die "the package has no $tool.1.gz"
  done
else
  for tool in fwcert fwwalk fwextract; do
    [ "$(man -w "$tool")" = "/usr/share/man/man1/$tool.1.gz" ] || die "man -w $tool says '$(man -w "$tool" 2>&1)'"
  done
  MANPAGER=cat MANWIDTH=80 man fwcert 2>/dev/null | grep -q '^FWCERT SCAN' ||
    die "man fwcert has no FWCERT SCAN section"
  say "man -w fwcert: $(man -w fwcert)"
fi

# Completion in a new login shell. bash-completion loads /usr/share/bash-completion/completions/NAME when NAME is
# first completed (its loader runs on the first Tab); __load_completion is what that loader calls.
for tool in fwcert fwwalk fwextract; do
  spec=$(bash -lic "__load_completion $tool && complete -p $tool" 2>/dev/null) || true
  [ "$spec" = "complete -F _fwcert $tool" ] || die "a login shell does not complete $tool (got '$spec')"
done
offered=$(bash -lic '__load_completion fwcert; COMP_WORDS=(fwcert scan --format ""); COMP_CWORD=3; _fwcert
                     echo "${COMPREPLY[*]}"' 2>/dev/null)
[ "$offered" = "table json csv sarif" ] || die "fwcert scan --format <Tab> offers '$offered'"
say "bash completion in a login shell: complete -F _fwcert fwcert; --format <Tab>: $offered"

# Remove it: nothing of it may be left.
cd /
apt-get remove -y -qq fwcert >/dev/null
status=$(dpkg-query -W -f='${db:Status-Abbrev}' fwcert 2>/dev/null || true)
[[ -z $status || $status == un* || $status == pn* ]] || die "after apt-get remove, fwcert is in state '$status'"
left=()
while IFS= read -r path; do
  [ -e "$path" ] || continue
  # Only directories other packages also own may stay (/usr/bin, /usr/share/man/man1, ...).
  [ -d "$path" ] && dpkg -S "$path" >/dev/null 2>&1 && continue
  left+=("$path")
done <"$W/files"
((${#left[@]} == 0)) || die "left after apt-get remove: ${left[*]}"
say "apt-get remove: none of its $(wc -l <"$W/files") paths left"
say "ok ($((SECONDS - start)) s)"
