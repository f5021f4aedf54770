#!/usr/bin/env bash
# shellcheck disable=SC2002  # 'cat FILE | tool -' below is meant: piped input, not a redirected (mappable) file
# The command-line contract of fwwalk, fwextract and fwcert, table-driven (issue 13):
# - every option of every binary and subcommand runs before, between and after several file arguments; every file
#   must be named in the output (none was taken as an option's value) and the option must take effect. The options
#   each --help lists are compared with the table, so an option added without a row fails here;
# - --version exits 0 printing "NAME VERSION"; no arguments, an unknown option, a bad or missing value and a single-
#   value option given twice exit 2 (never CLI11's own 105, 106, 109...), with the message on stderr;
# - '-' is standard input for fwwalk, fwextract and fwcert scan (piped or redirected); an empty pipe is refused.
# Usage: cli_contract.sh FWWALK FWEXTRACT FWCERT SOURCE_DIR VERSION
set -uo pipefail
FWWALK=$1
FWEXTRACT=$2
FWCERT=$3
SRC=$4
VERSION=$5
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
# Every row names its catalog; should one forget, nothing lands in the user's home.
export FWCERT_DB="$W/default/catalog.sqlite"
cd "$W" || exit 1
cp "$SRC/samples/bmc-sample.bin" A.bin
cp "$SRC/samples/bmc-sample.bin" B.bin
cp "$SRC/samples/certs/server.crt" A.crt  # ikvm.bmc.example
cp "$SRC/samples/certs/client.crt" B.crt  # IPMI
SIGS="$SRC/signatures"
# D.bin: A.bin without its [img] index and with the root CramFS's superblock and root inode overwritten, so that only
# --cramfs-at 0x80000 finds its stunnel certificates.
python3 - <<'PY'
b = bytearray(open("A.bin", "rb").read())
b[0x3F8000:0x3F9000] = bytes(0x1000)
b[0x80000:0x8004C] = b"\xa5" * 0x4C
open("D.bin", "wb").write(b)
PY

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# run WANT_RC CMD...: runs CMD, leaving its stdout in $out, stderr in $err and exit status in $rc.
run() {
  local want=$1
  shift
  out=$("$@" 2>"$W/stderr")
  rc=$?
  err=$(<"$W/stderr")
  if [ "$rc" != "$want" ]; then
    fail "exit $rc, expected $want: $*"
    printf '%s\n' "$err" | head -5 >&2
    return 1
  fi
}

declare -A covered  # "COMMAND|--option" for every option a row ran
n=0

# row WANT_RC "OPTIONS" "MUST" "MUST_NOT"
# Runs "${P[@]}" with OPTIONS placed before, between (with two files or more) and after "${FILES[@]}". Each run must
# exit WANT_RC, name every one of "${NAMES[@]}" in its output (stdout, plus the output of $AFTER, a command run
# afterwards), match the extended regex MUST and not match MUST_NOT. In OPTIONS and AFTER, @DB@ and @OUT@ are a
# fresh path for each run, and @FULL@ a fresh non-empty folder. With @FILES@ in OPTIONS, the files go there instead
# (options on both sides: `fwextract --cramfs-at 0x80000 IMAGE -o out` once took IMAGE as an offset).
row() {
  local want=$1 opts=$2 must=$3 mustnot=$4 place
  local -a places=(before)
  [ "${#FILES[@]}" -gt 0 ] && places+=(after)
  [ "${#FILES[@]}" -gt 1 ] && places+=(between)
  [[ $opts == *@FILES@* ]] && places=(marked)
  for place in "${places[@]}"; do
    n=$((n + 1))
    local db="$W/db$n.sqlite" o="$W/out$n" full="$W/full$n"
    local line=${opts//@DB@/$db}
    line=${line//@OUT@/$o}
    if [[ $line == *@FULL@* ]]; then
      mkdir -p "$full" && : >"$full/already-here"
      line=${line//@FULL@/$full}
    fi
    local -a O=() args=()
    read -ra O <<<"$line"
    local tok
    for tok in "${O[@]}"; do [[ $tok == -?* ]] && covered["${P[*]}|${tok%%=*}"]=1; done
    if [ "$place" = marked ]; then
      for tok in "${O[@]}"; do
        if [ "$tok" = @FILES@ ]; then args+=("${FILES[@]}"); else args+=("$tok"); fi
      done
    fi
    case $place in
      before) args=("${O[@]}" "${FILES[@]}") ;;
      after) args=("${FILES[@]}" "${O[@]}") ;;
      between) args=("${FILES[0]}" "${O[@]}" "${FILES[@]:1}") ;;
    esac
    local what="${P[*]} ${args[*]}"
    run "$want" "${P[@]}" "${args[@]}" || continue
    local all=$out
    if [ -n "$AFTER" ]; then
      local a=${AFTER//@DB@/$db}
      a=${a//@OUT@/$o}
      a=${a//@FULL@/$full}
      local -a A=()
      read -ra A <<<"$a"
      all+=$'\n'$("${A[@]}" 2>&1)
    fi
    local name
    for name in "${NAMES[@]}"; do
      grep -qF -- "$name" <<<"$all" || fail "$what: $name is not in the output"
    done
    if [ -n "$must" ] && ! grep -qE -- "$must" <<<"$all"; then fail "$what: the output lacks /$must/"; fi
    if [ -n "$mustnot" ] && grep -qE -- "$mustnot" <<<"$all"; then fail "$what: the output has /$mustnot/"; fi
  done
}

# ----------------------------------------------------------------------------------------------------------------
# fwwalk
P=("$FWWALK")
FILES=(A.bin B.bin)
NAMES=("${FILES[@]}")
AFTER=""
row 0 "" "CramFS filesystem" ""
row 0 "--json" '"type": "cramfs"' ""
row 0 "-a" "" ""
row 0 "--all" "" ""
row 0 "--min-confidence low" "" ""
row 0 "--min-confidence high" "CramFS" ""
row 0 "-t cramfs" "CramFS" "uImage"
row 0 "--type cramfs" "CramFS" "uImage"
row 0 "--type=cramfs" "CramFS" "uImage"
row 0 "-t cramfs -t uimage" "uImage header" "CRC32 polynomial"
row 0 "-t cramfs,uimage" "uImage header" "CRC32 polynomial"
row 0 "--signatures $SIGS" "CramFS" ""
row 0 "-t cramfs @FILES@ --json" '"type": "cramfs"' '"type": "uimage"'
FILES=()  # the files among the options themselves
row 0 "-t cramfs A.bin -t uimage B.bin -a" "uImage header" "CRC32 polynomial"
NAMES=()
row 0 "--list-signatures" "cramfs" ""
row 0 "--list-validators" "cramfs" ""

# ----------------------------------------------------------------------------------------------------------------
# fwextract: one IMAGE; a second one is a usage error, never dropped.
P=("$FWEXTRACT")
FILES=(A.bin)
NAMES=("A.bin!cramfs@0x80000:/etc/stunnel/server.crt")
AFTER=""
row 0 "--list" "" ""
row 0 "--list --json" '"location"' ""
row 0 "--list --max-depth 0" "depth limit 0 reached" ""
row 0 "--list --max-total-mb 100" "" ""
row 0 "--list --max-file-mb 50" "" ""
row 0 "--list --max-entries 10000" "" ""
row 0 "--list --max-ratio 500" "" ""
row 0 "--list --max-seconds 3600" "" ""
row 0 "--list" "web.pem!pem@0x6A8" ""
row 0 "--list --no-recurse" "" "web.pem!pem@0x6A8"
row 0 "--list --include-deleted" "web.pem!pem@0x6A8" ""
row 0 "--list --cramfs-at 0x80000" "" ""
row 0 "--list --cramfs-at 0x80000 --cramfs-at 0x2E0000" "" ""
row 0 "--list --cramfs-at 0x80000,0x2E0000" "" ""
row 0 "--list --signatures $SIGS" "" ""
row 0 "--cramfs-at 0x80000 @FILES@ --list" "" ""
row 0 "--cramfs-at 0x80000,0x2E0000 --max-depth 8 @FILES@ --list --json" '"location"' ""
NAMES=('"input": "A.bin"' "server.crt")
AFTER="cat @OUT@/manifest.json"
row 0 "-o @OUT@" "" ""
row 0 "--output @OUT@" "" ""
AFTER="cat @FULL@/manifest.json"
row 0 "-o @FULL@ --force" "" ""
AFTER=""
NAMES=()
row 2 "-o @FULL@" "" ""
run 2 "$FWEXTRACT" --list A.bin B.bin && { grep -q "B.bin" <<<"$err" || fail "fwextract A.bin B.bin: B.bin not named"; }

# ----------------------------------------------------------------------------------------------------------------
# fwcert scan
P=("$FWCERT" scan)
FILES=(A.bin B.bin A.crt B.crt)
NAMES=("${FILES[@]}")
AFTER=""
row 0 "--now 2026-01-01" "not-yet-valid" ""
row 0 "--now=2026-01-01" "not-yet-valid" ""
row 0 "--now 2026-01-01 --warn-days 200" "expiring" ""
row 0 "--now 2026-01-01 --format table" "STATUS" ""
row 0 "--now 2026-01-01 --format json" '"format_version"' ""
row 0 "--now 2026-01-01 --format csv" "^input,status," ""
row 0 "--now 2026-01-01 --format sarif" '"2.1.0"' ""
row 0 "--now 2026-01-01 --fail-on expired" "" ""
row 1 "--now 2026-06-01 --fail-on expired" "" ""
row 1 "--now 2026-01-01 --fail-on expired,not-yet-valid" "" ""
row 1 "--now 2026-01-01 --fail-on expired --fail-on not-yet-valid" "" ""
row 0 "--now 2026-01-01 --pkcs12-password foo" "" ""
row 0 "--now 2026-01-01 --pkcs12-password foo --pkcs12-password bar" "" ""
row 0 "--now 2026-01-01 --signatures $SIGS" "" ""
row 0 "--now 2026-01-01 --wide" "STATUS" ""
row 0 "--now 2026-01-01 --each" "STATUS" ""
row 0 "--now 2026-01-01 --include-deleted" "STATUS" ""
row 0 "--pkcs12-password foo @FILES@ --now 2026-01-01 --pkcs12-password bar --format json" '"format_version"' ""
row 1 "--fail-on not-yet-valid @FILES@ --now 2026-01-01" "" ""
row 0 "--now 2026-01-01 --pkcs12-password= @FILES@" "" ""  # an empty password, not A.bin
row 0 "--now 2026-01-01 --format prometheus" "^fwcert_cert_not_after_seconds[{]" ""
row 0 "--now 2026-01-01 --fail-on compromised" "" "private key is public"
# --cramfs-at: the stunnel certificates of D.bin at cramfs@0x80000, found only with it.
FILES=(D.bin A.bin)
NAMES=("D.bin!cramfs@0x80000:/etc/stunnel/client.crt" A.bin)
row 0 "--now 2026-01-01 --cramfs-at 0x80000 --format json" '"recovered_locations": \[$' ""
row 0 "--now 2026-01-01 --cramfs-at 0x1000 --cramfs-at 0x80000 --format json" "" ""
row 0 "--now 2026-01-01 --cramfs-at 0x1000,524288 --format json" "" ""
row 0 "--cramfs-at 0x80000 @FILES@ --now 2026-01-01 --format json" "" ""
FILES=(A.bin B.bin A.crt B.crt)
NAMES=("${FILES[@]}")
row 0 "--now 2026-01-01 --max-depth 8" "" ""
row 0 "--now 2026-01-01 --max-total-mb 100" "" ""
row 0 "--now 2026-01-01 --max-file-mb 50" "" ""
row 0 "--now 2026-01-01 --max-entries 10000" "" ""
row 0 "--now 2026-01-01 --max-ratio 500" "" ""
row 0 "--now 2026-01-01 --max-seconds 3600" "" ""
# A list naming the sample's private key: every input is flagged and fails.
spki=$("$FWCERT" scan --format json A.bin | python3 -c 'import json, sys; print(json.load(sys.stdin)["inputs"][0]["keys"][0]["spki_sha256"])')
[ ${#spki} = 64 ] || fail "no SPKI SHA-256 for the sample's key: '$spki'"
printf '%s\tcontract test\thttps://example.invalid\tthe sample key\n' "$spki" >extra-keys.tsv
row 1 "--now 2026-01-01 --compromised-keys $W/extra-keys.tsv --fail-on compromised" "private key is public .contract test." ""

# ----------------------------------------------------------------------------------------------------------------
# fwcert catalog add: the images land in the catalog named by --db.
P=("$FWCERT" catalog add)
FILES=(A.bin B.bin)
NAMES=("$W/A.bin" "$W/B.bin")
AFTER="$FWCERT catalog list --db @DB@ --format csv"
FILES=("$W/A.bin" "$W/B.bin")
printf 'path,vendor,board,version\n%s,Acme,X1,1.0\n' "$W/A.bin" >manifest.csv
row 0 "--db @DB@" "" ""
row 0 "--db @DB@ --jobs 1" "" ""
row 0 "--db @DB@ -j 2" "" ""
row 0 "--db @DB@ --shard 1/1" "" ""
row 0 "--db @DB@ --manifest $W/manifest.csv" "Acme" ""
row 0 "--db @DB@ --now 2026-01-01" "" ""
row 0 "--db @DB@ --now 2026-01-01 --warn-days 30" "" ""
row 0 "--db @DB@ --rescan" "" ""
row 0 "--db @DB@ --rescan --include-deleted" "" ""
row 0 "--db @DB@ --max-depth 8" "" ""
row 0 "--db @DB@ --max-total-mb 100" "" ""
row 0 "--db @DB@ --max-file-mb 50" "" ""
row 0 "--db @DB@ --max-entries 10000" "" ""
row 0 "--db @DB@ --max-ratio 500" "" ""
row 0 "--db @DB@ --max-seconds 3600" "" ""
row 0 "--manifest $W/manifest.csv @FILES@ --db @DB@ -j 1" "Acme" ""
ipmi=$("$FWCERT" scan --format json A.bin |
  python3 -c 'import json, sys; print(*[c["sha256"] for c in json.load(sys.stdin)["inputs"][0]["certificates"] if c["common_name"] == "IPMI"])')
FILES=("$W/D.bin" "$W/A.bin")
NAMES=("D.bin!cramfs@0x80000:/etc/stunnel/client.crt" "A.bin!cramfs@0x80000:/etc/stunnel/client.crt")
AFTER="$FWCERT catalog where --db @DB@ --format csv $ipmi"
row 0 "--db @DB@ --cramfs-at 0x80000" "" ""
row 0 "--db @DB@ --cramfs-at 0x1000 --cramfs-at 0x80000" "" ""
row 0 "--db @DB@ --cramfs-at 0x1000,0x80000" "" ""
row 0 "--cramfs-at 0x80000 @FILES@ --db @DB@" "" ""
FILES=("$W/A.bin" "$W/B.bin")
NAMES=("$W/A.bin" "$W/B.bin")
AFTER="$FWCERT catalog list --db @DB@ --format csv"

# The catalog the queries read, and two shards for merge.
cat="$W/catalog.sqlite"
run 0 "$FWCERT" catalog add --db "$cat" --now 2026-01-01 A.bin B.bin
run 0 "$FWCERT" catalog add --db "$W/s1.sqlite" --now 2026-01-01 A.bin
run 0 "$FWCERT" catalog add --db "$W/s2.sqlite" --now 2026-01-01 B.bin
sha=$("$FWCERT" catalog certs --db "$cat" --now 2026-01-01 --format csv |
  python3 -c 'import csv, sys; print(*[r["sha256"] for r in csv.DictReader(sys.stdin) if r["common_name"] == "IPMI"])')
[ ${#sha} = 64 ] || fail "no SHA-256 for the IPMI certificate: '$sha'"

P=("$FWCERT" catalog list)
FILES=()
NAMES=(A.bin B.bin)
AFTER=""
row 0 "--db $cat" "" ""
row 0 "--db $cat --format table" "^PATH" ""
row 0 "--db $cat --format json" '"path"' ""
row 0 "--db $cat --format csv" "^path," ""

P=("$FWCERT" catalog certs)
NAMES=()
row 0 "--db $cat --now 2026-01-01" "IPMI" ""
row 0 "--db $cat --now 2026-01-01 --format json" '"common_name"' ""
row 0 "--db $cat --now 2026-01-01 --format csv" "^status," ""
row 0 "--db $cat --now 2026-01-01 --format table" "^STATUS" ""
row 0 "--db $cat --now 2026-01-01 --status not-yet-valid" "redfish" "IPMI"
row 0 "--db $cat --now 2026-06-01 --status expired" "IPMI" "redfish"
row 0 "--db $cat --now 2026-01-01 --status valid,not-yet-valid" "redfish" ""
row 0 "--db $cat --now 2026-01-01 --status expired --status not-yet-valid" "redfish" "IPMI"
row 0 "--db $cat --now 2026-01-01 --expiring-before 2027-01-01" "IPMI" "redfish"
row 0 "--db $cat --now 2026-01-01 --warn-days 200 --status expiring" "IPMI" "redfish"

P=("$FWCERT" catalog where)
FILES=("$sha")
NAMES=(A.bin B.bin)
row 0 "--db $cat" "client.crt" ""
row 0 "--db $cat --format json" '"location"' ""
row 0 "--db $cat --format csv" "^image," ""
row 0 "--db $cat --format table" "^IMAGE" ""

P=("$FWCERT" catalog keys)
FILES=()
row 0 "--db $cat" "" ""
row 0 "--db $cat --shared" "RSA" ""
row 0 "--db $cat --format json" '"public_key_sha256"' ""
row 0 "--db $cat --format csv" "^public_key_sha256," ""
row 0 "--db $cat --format table" "^PUBLIC_KEY_SHA256" ""
NAMES=()
row 0 "--db $cat --compromised --format csv" "^public_key_sha256," "RSA"  # the sample's key is not on the list
NAMES=(A.bin B.bin)
row 0 "--db $cat --compromised --compromised-keys $W/extra-keys.tsv" "private key is public .contract test." ""

P=("$FWCERT" catalog export)
row 0 "--db $cat --now 2026-01-01" "^fwcert_cert_not_after_seconds[{]" ""
row 0 "--db $cat --now 2026-01-01 --format prometheus" "^fwcert_cert_expired[{]" ""
row 0 "--db $cat --now 2026-06-01 --warn-days 10" 'fwcert_cert_expired[{].*subject_cn="IPMI".*[}] 1$' ""
row 0 "--db $cat --now 2026-01-01 --compromised-keys $W/extra-keys.tsv" 'source="contract test"[}] 1$' ""
row 0 "--db $cat --now 2026-01-01 -o -" "^fwcert_cert_expired[{]" ""
AFTER="cat @OUT@.prom"
row 0 "--db $cat --now 2026-01-01 -o @OUT@.prom" "^fwcert_cert_expired[{]" ""
row 0 "--db $cat --now 2026-01-01 --output @OUT@.prom" "^fwcert_cert_expired[{]" ""
AFTER=""

P=("$FWCERT" catalog merge)
FILES=("$W/merged.sqlite" "$W/s1.sqlite" "$W/s2.sqlite")
NAMES=(A.bin B.bin)
AFTER="$FWCERT catalog list --db $W/merged.sqlite --format csv"
row 0 "" "" ""
AFTER=""

P=("$FWCERT" calendar)
FILES=()
NAMES=(A.bin B.bin)
row 0 "--db $cat --now 2026-01-01 -o -" "BEGIN:VCALENDAR" ""
row 0 "--db $cat --now 2026-01-01 --output -" "BEGIN:VCALENDAR" ""
row 0 "--db $cat --now 2026-01-01 --format ics -o -" "BEGIN:VCALENDAR" ""
row 0 "--db $cat --now 2026-01-01 --format csv -o -" "" ""
row 0 "--db $cat --now 2026-01-01 --format json -o -" "" ""
row 0 "--db $cat --now 2026-01-01 --until 2027-01-01 -o -" "IPMI" "redfish"
row 0 "--db $cat --now 2026-06-01 -o -" "" "SUMMARY:IPMI"
row 0 "--db $cat --now 2026-06-01 --all -o -" "SUMMARY:IPMI" ""
row 0 "--db $cat --now 2026-01-01 --warn-days 200 --format json -o -" '"expiring"' ""
row 0 "--db $cat --now 2026-01-01 --alarm 14 -o -" "TRIGGER:-P14D" "TRIGGER:-P30D"
row 0 "--db $cat --now 2026-01-01 --alarm 14,3 -o -" "TRIGGER:-P3D" "TRIGGER:-P30D"
row 0 "--db $cat --now 2026-01-01 --alarm 14 --alarm 3 -o -" "TRIGGER:-P3D" "TRIGGER:-P30D"
AFTER="cat @OUT@.ics"
row 0 "--db $cat --now 2026-01-01 -o @OUT@.ics" "BEGIN:VCALENDAR" ""
AFTER=""

P=("$FWCERT" report)
FILES=(A.bin B.bin A.crt B.crt)
NAMES=("${FILES[@]}")
AFTER="cat @OUT@.html"
row 0 "--now 2026-01-01 --html @OUT@.html" "<g class=\"bar s-not-yet-valid\"" ""
row 0 "--now=2026-01-01 --html=@OUT@.html" "Content-Security-Policy" ""
row 0 "--now 2026-01-01 --html @OUT@.html --signatures $SIGS" "<svg" ""
FILES=()
NAMES=(A.bin B.bin)
row 0 "--db $cat --now 2026-01-01 --html @OUT@.html" "IPMI" ""
AFTER=""

# Every option each --help lists has a row above (--help and --version are checked below).
help_options() {  # the option names in the Options section of a --help
  "$@" --help | awk '/^Options:/ { on = 1; next } /^[^ ]/ { on = 0 } on && /^  -/ { print $1 }' | tr ',' '\n' |
    sed 's/{.*}$//'
}
for cmd in "$FWWALK" "$FWEXTRACT" "$FWCERT scan" "$FWCERT catalog add" "$FWCERT catalog list" \
  "$FWCERT catalog certs" "$FWCERT catalog where" "$FWCERT catalog keys" "$FWCERT catalog export" \
  "$FWCERT catalog merge" "$FWCERT calendar" "$FWCERT report"; do
  read -ra C <<<"$cmd"
  listed=$(help_options "${C[@]}")
  [ -n "$listed" ] || fail "${C[*]} --help lists no option"
  for opt in $listed; do
    case $opt in -h | --help | --version) continue ;; esac
    [ -n "${covered["${C[*]}|$opt"]:-}" ] || fail "${C[*]} $opt: no row runs this option"
  done
done

# ----------------------------------------------------------------------------------------------------------------
# One exit contract for every binary.
for tool in "fwwalk:$FWWALK" "fwextract:$FWEXTRACT" "fwcert:$FWCERT"; do
  name=${tool%%:*}
  exe=${tool#*:}
  run 0 "$exe" --version && { [ "$out" = "$name $VERSION" ] || fail "$name --version printed '$out'"; }
  run 0 "$exe" --help && { grep -q "Usage" <<<"$out" || fail "$name --help: no usage on stdout"; }
  if run 2 "$exe" && ! { grep -q "Usage" <<<"$err" && [ -z "$out" ]; }; then
    fail "$name with no arguments: usage not on stderr"
  fi
  run 2 "$exe" --no-such-option A.bin
  [ "$name" = fwcert ] || grep -q -- "--no-such-option" <<<"$err" || fail "$name: unknown option not named"
done
for sub in "scan" "catalog" "catalog add" "catalog list" "catalog certs" "catalog where" "catalog keys" \
  "catalog export" "catalog merge" "calendar" "report"; do
  read -ra S <<<"$sub"
  run 0 "$FWCERT" "${S[@]}" --help
  run 2 "$FWCERT" "${S[@]}" --no-such-option A.bin
done
# Bad, missing and repeated values: exit 2 with CLI11's message on stderr.
bad() {
  run 2 "$@" && { [ -n "$err" ] || fail "$*: no message on stderr"; }
}
bad "$FWWALK" --min-confidence bogus A.bin
bad "$FWWALK" A.bin --min-confidence
bad "$FWEXTRACT" --list --max-depth deep A.bin
bad "$FWEXTRACT" --list --max-seconds -1 A.bin
bad "$FWCERT" scan --max-seconds soon A.bin
bad "$FWEXTRACT" --list --cramfs-at nowhere A.bin
bad "$FWCERT" scan --format xml A.bin
bad "$FWCERT" scan --warn-days many A.bin
bad "$FWCERT" scan --warn-days -5 A.bin
bad "$FWCERT" scan --fail-on nothing A.bin
bad "$FWCERT" scan --cramfs-at nowhere A.bin
bad "$FWCERT" scan --cramfs-at -1 A.bin
bad "$FWCERT" scan --cramfs-at 0x80000x A.bin
bad "$FWCERT" scan --cramfs-at 0x10000000000000000 A.bin
bad "$FWCERT" catalog add --db "$W/bad.sqlite" --cramfs-at ' 12' A.bin
bad "$FWCERT" scan A.bin --now
bad "$FWCERT" scan --now 2026-01-01 --now 2027-01-01 A.bin  # one clock: the second is not silently preferred
bad "$FWCERT" scan --now yesterday A.bin
bad "$FWCERT" scan
bad "$FWCERT" catalog
bad "$FWCERT" catalog add --jobs all --db "$W/bad.sqlite" A.bin
bad "$FWCERT" catalog certs --db "$cat" --status sleepy
bad "$FWCERT" catalog list --db "$cat" --format xml
bad "$FWCERT" catalog where --db "$cat"
bad "$FWCERT" catalog merge "$W/m.sqlite"
bad "$FWCERT" calendar --db "$cat" --format pdf -o -
bad "$FWCERT" calendar --db "$cat" --alarm soon -o -
bad "$FWCERT" calendar --db "$cat"
bad "$FWCERT" report --now 2026-01-01 A.bin  # no --html
bad "$FWCERT" report --now 2026-01-01 --html "$W/r.html"  # neither PATH nor --db
bad "$FWCERT" report --now 2026-01-01 --html "$W/r.html" --db "$cat" A.bin  # both

# ----------------------------------------------------------------------------------------------------------------
# '-' is standard input. (cat: a pipe, which cannot be mapped, not a redirected file, which can.)
certs_of_sample() {  # every certificate of the sample, by its common name
  local cn
  for cn in '"IPMI"' '"ikvm.bmc.example"' '"redfish.bmc.example"' '"bmc.example"'; do
    grep -qF -- "$cn" <<<"$out" || fail "$1: certificate $cn not found"
  done
}
out=$(cat A.bin | "$FWCERT" scan --now 2026-01-01 --format json -) || fail "cat A.bin | fwcert scan - exited $?"
certs_of_sample "piped scan"
grep -qF '"-!cramfs@0x80000:/etc/stunnel/client.crt' <<<"$out" || fail "piped scan: locations do not start with '-'"
out=$("$FWCERT" scan --now 2026-01-01 --format json - <A.bin) || fail "fwcert scan - <A.bin exited $?"
certs_of_sample "redirected scan"
out=$(cat A.crt | "$FWCERT" scan --now 2026-01-01 --format json - B.bin) || fail "fwcert scan - B.bin exited $?"
grep -qF '"ikvm.bmc.example"' <<<"$out" || fail "fwcert scan - B.bin: the piped certificate is missing"
grep -qF 'B.bin!cramfs' <<<"$out" || fail "fwcert scan - B.bin: B.bin is missing"
out=$(cat A.bin | "$FWWALK" -) || fail "cat A.bin | fwwalk - exited $?"
grep -q "CramFS filesystem" <<<"$out" || fail "piped fwwalk found no CramFS"
out=$(cat A.bin | "$FWEXTRACT" - --list) || fail "cat A.bin | fwextract - --list exited $?"
grep -qxF -- "-!cramfs@0x80000:/etc/stunnel/server.crt" <<<"$out" || fail "piped fwextract: no server.crt"
# A catalog records images by path: standard input is refused, and no catalog is created for it.
if run 2 "$FWCERT" catalog add --db "$W/stdin.sqlite" - <A.bin && ! grep -q "standard input" <<<"$err"; then
  fail "catalog add -: $err"
fi
[ ! -e "$W/stdin.sqlite" ] || fail "catalog add - created a catalog"
for tool in "$FWWALK" "$FWEXTRACT --list" "$FWCERT scan"; do
  read -ra T <<<"$tool"
  err=$(true | "${T[@]}" - 2>&1 >/dev/null)
  rc=$?
  if [ "$rc" != 2 ] || ! grep -q "nothing on standard input" <<<"$err"; then
    fail "${T[*]} - on an empty pipe: exit $rc, '$err'"
  fi
done

if [ "$failures" -gt 0 ]; then
  echo "$failures failures" >&2
  exit 1
fi
echo "cli contract: $n runs of the option table, every check passed"
