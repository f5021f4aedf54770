#!/usr/bin/env bash
# The bash completion (completions/fwcert.bash, issue 19), driven the way bash drives it (COMP_WORDS, COMP_CWORD):
# subcommands, every option of every --help, the values of --format, --fail-on, --status and --min-confidence,
# --opt=value, comma lists, file and directory arguments, nothing for numbers and clocks.
# Usage: completion.sh SOURCE_DIR FWWALK FWEXTRACT FWCERT
set -uo pipefail
SRC=$1
FWWALK=$2
FWEXTRACT=$3
FWCERT=$4
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
# shellcheck source=completions/fwcert.bash
source "$SRC/completions/fwcert.bash"
complete -p fwcert fwwalk fwextract >/dev/null || fail "the script registers no completion for the three tools"

W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
mkdir -p "$W/dir.d/sub" && touch "$W/image.bin" "$W/imprint.txt"
cd "$W" || exit 1

# What Tab offers after the words given (the last one is the word being completed), sorted, one line.
offers() {
  COMP_WORDS=("$@")
  COMP_CWORD=$(($# - 1))
  COMPREPLY=()
  _fwcert
  printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}
expect() {  # expect "WANT" WORDS...
  local want=$1 got
  shift
  got=$(offers "$@")
  [ "$got" = "$want" ] || fail "[${*:2}]: offered '$got', expected '$want'"
}
sorted() { tr ' ' '\n' | grep -v '^$' | sort | tr '\n' ' ' | sed 's/ $//'; }
help_options() {
  "$@" --help | sed -nE 's/^ +(-[[:alnum:]])?,?(--[[:alnum:]][[:alnum:]-]*)?([ {=:].*)?$/\1 \2/p' | sorted
}

help_subcommands() {
  "$@" --help | awk '/^Subcommands:/ {on = 1; next} on && /^[^ ]/ {on = 0} on && /^  [a-z][a-z0-9-]*( |$)/ {print $1}' |
    sorted
}
# Every subcommand --help lists (other branches add some), among them at least these.
subs=$(help_subcommands "$FWCERT")
for s in scan catalog calendar; do
  [[ " $subs " == *" $s "* ]] || fail "fwcert --help lists no '$s' (parser broken?)"
done
expect "$subs" "$FWCERT" ""
expect "scan" "$FWCERT" sc
catalog_subs=$(help_subcommands "$FWCERT" catalog)
for s in add certs merge; do
  [[ " $catalog_subs " == *" $s "* ]] || fail "fwcert catalog --help lists no '$s' (parser broken?)"
done
expect "$catalog_subs" "$FWCERT" catalog ""
# Every option of every --help, and only those.
expect "$(help_options "$FWCERT")" "$FWCERT" -
for sub in $subs; do
  expect "$(help_options "$FWCERT" "$sub")" "$FWCERT" "$sub" -
  for sub2 in $(help_subcommands "$FWCERT" "$sub"); do
    expect "$(help_options "$FWCERT" "$sub" "$sub2")" "$FWCERT" "$sub" "$sub2" -
  done
done
expect "$(help_options "$FWWALK")" "$FWWALK" -
expect "$(help_options "$FWEXTRACT")" "$FWEXTRACT" -
expect "--fail-on --format" "$FWCERT" scan --f
# --include-deleted (JFFS2 deleted files and older contents) on each command that reads filesystems.
expect "--include-deleted" "$FWCERT" scan --incl
expect "--include-deleted" "$FWCERT" catalog add --incl
expect "--include-deleted" "$FWEXTRACT" --incl
# Values.
expect "csv json prometheus sarif table" "$FWCERT" scan --format ""
expect "json" "$FWCERT" scan --format = j
expect "csv ics json" "$FWCERT" calendar --format ""
expect "high low medium" "$FWWALK" --min-confidence ""
expect "compromised expired expiring invalid-date not-yet-valid private-key weak" "$FWCERT" scan --fail-on ""
expect "expired,expired expired,expiring" "$FWCERT" scan --fail-on expired,ex
expect "expired expiring invalid-date not-yet-valid valid" "$FWCERT" catalog certs --status ""
# Files and directories; nothing for numbers, clocks and passwords.
expect "image.bin imprint.txt" "$FWCERT" scan im
expect "dir.d" "$FWCERT" scan --format json d
expect "dir.d image.bin imprint.txt" "$FWWALK" --json ""
expect "dir.d" "$FWEXTRACT" -o ""
expect "image.bin imprint.txt" "$FWCERT" calendar -o im
expect "image.bin imprint.txt" "$FWCERT" catalog add --db im
expect "" "$FWCERT" scan --warn-days ""
expect "" "$FWCERT" scan --now ""
expect "" "$FWEXTRACT" --max-depth ""
# --cramfs-at takes an offset, not a file name, wherever it is (fwextract, scan, catalog add).
expect "--cramfs-at" "$FWCERT" scan --cr
expect "--cramfs-at" "$FWCERT" catalog add --cr
expect "" "$FWCERT" scan --cramfs-at ""
expect "" "$FWCERT" catalog add --cramfs-at ""
expect "" "$FWEXTRACT" --cramfs-at ""

if [ "$failures" -gt 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "ok: completion"
