#!/usr/bin/env bash
# fwcert probe and fleet check against real components started here, on 127.0.0.1 only: openssl s_server (the
# sample's stunnel server certificate; one that requires a client certificate and judges it at a pinned clock), a
# python3 Redfish responder (Basic auth, DateTime three days behind), a port that refuses, one that never answers and
# one that is not TLS. Every wait is bounded (timeout(1) around every command). Usage: live.sh FWCERT SRC
set -euo pipefail
FWCERT=$1
SRC=$2
S=$SRC/samples/certs
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
expect() {  # expect FILE TEXT: the text appears in the file
  grep -qF -- "$2" "$1" || { echo "---- $1:" >&2; cat "$1" >&2; fail "'$2' not in $1"; }
}
cd "$WORK"

# s_server quits at the end of its standard input: it reads a FIFO this script holds open (fd 3) until it exits.
mkfifo "$WORK/stdin"
exec 3<> "$WORK/stdin"
# A TLS server in the background; sets PORT.
start_s_server() {
  local out=$WORK/s_server.$RANDOM
  : > "$out"
  openssl s_server -accept 127.0.0.1:0 "$@" <&3 > "$out" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 50); do
    PORT=$(grep -o 'ACCEPT 127.0.0.1:[0-9]*' "$out" | cut -d: -f2 || true)
    [ -n "$PORT" ] && return 0
    sleep 0.1
  done
  cat "$out" >&2
  fail "openssl s_server did not start"
}
# The python3 servers print "PORT n" when listening; sets PORT.
start_python() {
  local out=$WORK/py.$RANDOM
  : > "$out"
  "$@" > "$out" 2> "$out.err" &
  PIDS+=($!)
  for _ in $(seq 50); do
    PORT=$(awk '/^PORT/{print $2}' "$out")
    [ -n "$PORT" ] && return 0
    sleep 0.1
  done
  cat "$out.err" >&2
  fail "$* did not start"
}

DB=$WORK/catalog.sqlite
timeout 60 "$FWCERT" catalog add "$SRC/samples/bmc-sample.bin" --db "$DB" --now 2026-06-01 > /dev/null 2>&1

echo "== $(date +%T) probe: the sample's stunnel server certificate is found in the catalog, judged at a pinned --now"
start_s_server -cert "$S/server.crt" -key "$S/server.key" -cert_chain "$S/ca.crt"
GOOD_PORT=$PORT
timeout 20 "$FWCERT" probe "127.0.0.1:$PORT" --db "$DB" --now 2026-06-01 --timeout 3 > probe.txt
expect probe.txt "serves the certificate shipped in $SRC/samples/bmc-sample.bin at"
expect probe.txt "!cramfs@0x80000:/etc/stunnel/server.crt"
expect probe.txt "status   valid at 2026-06-01T00:00:00Z (1505 days left)"
expect probe.txt "window   2020-07-17T09:00:00Z .. 2030-07-15T09:00:00Z"
expect probe.txt "verify:   FAILED against system store"
# Verification is reported apart from the chain: with the sample CA and the certificate's name it verifies.
timeout 20 "$FWCERT" probe "127.0.0.1:$PORT" --db "$DB" --now 2026-06-01 --ca-file "$S/ca.crt" \
  --servername ikvm.bmc.example --format json > probe.json
python3 - probe.json <<'EOF'
import json, sys
h = json.load(open(sys.argv[1]))["hosts"][0]
assert h["verification"]["verified"] is True, h["verification"]
assert h["certificates"][0]["sha256"] == "9da63eb723f1a5680598df45f6b5c22b6a9229441ce5779806506f3a6dd35c64"
assert h["certificates"][0]["status"] == "valid" and h["certificates"][0]["days_left"] == 1505
assert any(p["location"].endswith("/etc/stunnel/server.crt") for p in h["certificates"][0]["placements"])
EOF
# The same server at a --now past its notAfter: verification fails with OpenSSL's words, status expired, exit 1.
rc=0
timeout 20 "$FWCERT" probe "127.0.0.1:$PORT" --now 2031-01-01 --ca-file "$S/ca.crt" --servername ikvm.bmc.example \
  > expired.txt || rc=$?
[ "$rc" = 1 ] || fail "expired served certificate: exit $rc, want 1"
expect expired.txt "certificate has expired (10)"
expect expired.txt "is expired (notAfter 2030-07-15T09:00:00Z) at 2031-01-01T00:00:00Z"

echo "== $(date +%T) probe: a server verifies the iKVM client certificate at its own clock (the Supermicro incident)"
for proto in -tls1_3 -tls1_2; do
  start_s_server $proto -cert "$S/server.crt" -key "$S/server.key" -Verify 1 -verify_return_error \
    -CAfile "$S/client.crt" -attime "$(date -d 2015-06-01 +%s)"
  timeout 20 "$FWCERT" probe "127.0.0.1:$PORT" --now 2021-01-01 --client-cert "$S/client.crt" \
    --client-key "$S/client.key" > alert42.txt || true
  expect alert42.txt "TLS alert 42 bad_certificate"
  expect alert42.txt "the BMC clock is before its notBefore"
  start_s_server $proto -cert "$S/server.crt" -key "$S/server.key" -Verify 1 -verify_return_error \
    -CAfile "$S/client.crt" -attime "$(date -d 2026-06-01 +%s)"
  timeout 20 "$FWCERT" probe "127.0.0.1:$PORT" --now 2021-01-01 --client-cert "$S/client.crt" \
    --client-key "$S/client.key" > alert45.txt || true
  expect alert45.txt "TLS alert 45 certificate_expired"
done
# Without a client certificate the server still shows its chain, then refuses (TLS 1.3: 116 certificate_required).
timeout 20 "$FWCERT" probe "127.0.0.1:$PORT" --now 2021-01-01 > noclient.txt || true
expect noclient.txt "asked for a client certificate"
expect noclient.txt "CN=ikvm.bmc.example"

echo "== $(date +%T) probe: one-line errors, each bounded"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
DOWN_PORT=$PORT
rc=0; timeout 20 "$FWCERT" probe "127.0.0.1:$PORT" --now 2026-06-01 --format json > /dev/null 2> refused.err || rc=$?
[ "$rc" = 2 ] || fail "refused: exit $rc, want 2"
expect refused.err "connection to 127.0.0.1:$PORT refused"
[ "$(wc -l < refused.err)" = 1 ] || fail "refused: more than one line"
SILENT='import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(8); print("PORT", s.getsockname()[1], flush=True)
conns=[]
end=time.time()+float(sys.argv[2])
while time.time()<end:
    s.settimeout(max(0.1,end-time.time()))
    try:
        c,_=s.accept(); conns.append(c)
        if sys.argv[1]=="http": c.sendall(b"HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n"); c.close()
    except OSError: pass'
start_python python3 -c "$SILENT" silent 30
start=$(date +%s%N)
rc=0; timeout 20 "$FWCERT" probe "127.0.0.1:$PORT" --now 2026-06-01 --timeout 1 > silent.txt || rc=$?
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$rc" = 2 ] || fail "silent server: exit $rc, want 2"
expect silent.txt "TLS handshake with 127.0.0.1:$PORT timed out after 1000 ms"
[ "$elapsed_ms" -lt 5000 ] || fail "silent server: took $elapsed_ms ms with --timeout 1"
start_python python3 -c "$SILENT" http 30
rc=0; timeout 20 "$FWCERT" probe "127.0.0.1:$PORT" --now 2026-06-01 --timeout 3 > http.txt || rc=$?
[ "$rc" = 2 ] || fail "plain HTTP: exit $rc, want 2"
expect http.txt "127.0.0.1:$PORT does not speak TLS"

echo "== $(date +%T) Redfish: a BMC three days behind, a certificate an internal CA issued today"
# Issued "today" by the sample CA, valid for 127.0.0.1 so that verification stays on.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout today.key \
  -subj "/O=Internal CA/CN=bmc-today.example" -out today.csr 2> /dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > san.ext
openssl x509 -req -in today.csr -CA "$S/ca.crt" -CAkey "$S/ca.key" -set_serial 4242 -days 365 -extfile san.ext \
  -out today.crt 2> /dev/null
NB=$(date -d "$(openssl x509 -in today.crt -noout -startdate | cut -d= -f2)" +%s)
NOW=@$((NB + 3600))  # pinned: an hour after the certificate was issued
SECRET_USER=fwadm$RANDOM  # IPMI user names are at most 16 bytes
SECRET_PW="pw-$RANDOM-$RANDOM-s3cr3t"
export REDFISH_TEST_USER=$SECRET_USER REDFISH_TEST_PASSWORD=$SECRET_PW
start_python python3 "$SRC/tests/cli/redfish_responder.py" --cert today.crt --key today.key --skew -259200 \
  --lifetime 60 --delay 1.5
SLOW_PORT=$PORT
start_python python3 "$SRC/tests/cli/redfish_responder.py" --cert today.crt --key today.key --skew -259200 \
  --lifetime 60
SKEWED_PORT=$PORT
export FWCERT_REDFISH_USER=$SECRET_USER FWCERT_REDFISH_PASSWORD=$SECRET_PW
# While it runs (this responder answers slowly), nothing secret is on fwcert's command line.
timeout 30 "$FWCERT" probe "127.0.0.1:$SLOW_PORT" --redfish --ca-file "$S/ca.crt" --now "$NOW" --db "$DB" \
  --format json > slow.json 2> slow.err &
PROBE_PID=$!
sleep 0.7
tr '\0' ' ' < "/proc/$PROBE_PID/cmdline" > cmdline.txt || true
[ -s cmdline.txt ] || fail "fwcert ended before its command line could be read"
rc=0; wait $PROBE_PID || rc=$?
[ "$rc" = 1 ] || fail "slow skewed BMC: exit $rc, want 1"
rc=0; timeout 30 "$FWCERT" probe "127.0.0.1:$PORT" --redfish --ca-file "$S/ca.crt" --now "$NOW" --db "$DB" \
  --format json > redfish.json 2> redfish.err || rc=$?
[ "$rc" = 1 ] || fail "skewed BMC: exit $rc, want 1"
python3 - redfish.json <<'EOF'
import json, sys
h = json.load(open(sys.argv[1]))["hosts"][0]
skew = h["redfish"]["skew_s"]
assert abs(skew + 259200) <= 2, skew
c = h["certificates"][0]
assert c["status"] == "valid" and c["bmc_status"] == "not-yet-valid", c
assert c["margin_behind_s"] < 0, c
assert any("not yet valid" in f and "BMC's clock" in f for f in h["findings"]), h["findings"]
assert any("above the 60 s limit" in f for f in h["findings"]), h["findings"]
assert c["origin"].startswith("not from any catalogued firmware"), c["origin"]
EOF
timeout 30 "$FWCERT" probe "127.0.0.1:$PORT" --redfish --ca-file "$S/ca.crt" --now "$NOW" > redfish.txt || true
expect redfish.txt "WARNING: above --max-skew 60 s"
expect redfish.txt "not-yet-valid at"
# A Redfish service whose certificate does not verify is not read unless --insecure is given.
rc=0; timeout 30 "$FWCERT" probe "127.0.0.1:$PORT" --redfish --now "$NOW" > noca.txt || rc=$?
expect noca.txt "SSL peer certificate or SSH remote key was not OK"
timeout 30 "$FWCERT" probe "127.0.0.1:$PORT" --redfish --insecure --now "$NOW" > insecure.txt || true
grep -qE "skew -(259199|2592[0-9][0-9]) s" insecure.txt || fail "--insecure: no skew in insecure.txt"
# Wrong password: the error path says so without the credentials.
FWCERT_REDFISH_PASSWORD="$SECRET_PW-wrong" timeout 30 "$FWCERT" probe "127.0.0.1:$PORT" --redfish \
  --ca-file "$S/ca.crt" --now "$NOW" > badpw.txt 2>&1 || true
expect badpw.txt "HTTP 401: authentication refused"
# A URL with credentials in it is refused, and not echoed.
timeout 30 "$FWCERT" probe "127.0.0.1:$PORT" --redfish="https://u:$SECRET_PW-url@127.0.0.1:$PORT" \
  --ca-file "$S/ca.crt" --now "$NOW" > urlpw.txt 2>&1 || true
expect urlpw.txt "credentials in the URL are refused"
grep -F -- "$SECRET_PW-url" urlpw.txt && fail "the password of a URL was echoed"

echo "== $(date +%T) the sample's firmware judged at a BMC clock of 2015-06-01 read over Redfish (analyze_clock)"
start_python python3 "$SRC/tests/cli/redfish_responder.py" --cert today.crt --key today.key --lifetime 60 \
  --skew $(( $(date -d 2015-06-01 +%s) - $(date -d 2026-06-01 +%s) ))
timeout 30 "$FWCERT" probe "127.0.0.1:$GOOD_PORT" --redfish "https://127.0.0.1:$PORT" --ca-file "$S/ca.crt" \
  --db "$DB" --now 2026-06-01 > bmc2015.txt || true
expect bmc2015.txt "at BMC   not-yet-valid at 2015-06-01T"
expect bmc2015.txt "stunnel [ikvm]: safe BMC clock window 2016-05-19T09:46:36Z .. 2026-05-17T09:46:36Z: the BMC"
expect bmc2015.txt "when the iKVM client certificate becomes valid; fix the BMC clock (NTP), not the certificate"
expect bmc2015.txt "(the BMC sends alert 42 bad_certificate)"

echo "== $(date +%T) fleet check: good, skewed, down"
start_python python3 "$SRC/tests/cli/redfish_responder.py" --cert today.crt --key today.key --skew 0 --lifetime 60
GOOD_RF_PORT=$PORT
cat > inventory.csv <<EOF
host,port,redfish,ipmi,label
127.0.0.1,$GOOD_RF_PORT,https://127.0.0.1:$GOOD_RF_PORT,,good
127.0.0.1,$SKEWED_PORT,https://127.0.0.1:$SKEWED_PORT/redfish/v1,,skewed
127.0.0.1,$DOWN_PORT,,,down
127.0.0.1,$GOOD_PORT,,,sample-ikvm
EOF
start=$(date +%s%N)
rc=0; timeout 30 "$FWCERT" fleet check inventory.csv --db "$DB" --ca-file "$S/ca.crt" --now "$NOW" --timeout 3 \
  --jobs 4 --format json > fleet.json 2> fleet.err || rc=$?
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$rc" = 1 ] || { cat fleet.json fleet.err >&2; fail "fleet: exit $rc, want 1"; }
[ "$elapsed_ms" -lt 10000 ] || fail "fleet: took $elapsed_ms ms"
python3 - fleet.json <<'EOF'
import json, sys
rows = {r["label"]: r for r in json.load(open(sys.argv[1]))["hosts"]}
assert rows["good"]["verdict"] == "ok" and abs(int(rows["good"]["skew_s"])) <= 2, rows["good"]
assert rows["skewed"]["verdict"].startswith(("FINDING: skew -2591", "FINDING: skew -2592")), rows["skewed"]
assert abs(int(rows["skewed"]["skew_s"]) + 259200) <= 2 and "not yet valid" in rows["skewed"]["details"], rows["skewed"]
assert rows["skewed"]["bmc_status"] == "not-yet-valid", rows["skewed"]
assert rows["down"]["verdict"] == "unreachable" and rows["down"]["details"].startswith("connection to"), rows["down"]
assert rows["sample-ikvm"]["verdict"] == "ok" and rows["sample-ikvm"]["firmware"].endswith("bmc-sample.bin")
assert rows["good"]["firmware"].startswith("unknown"), rows["good"]
EOF
# The same fleet as metrics for node_exporter's textfile collector: the skew, the verdict and the served certificate.
rc=0; timeout 30 "$FWCERT" fleet check inventory.csv --db "$DB" --ca-file "$S/ca.crt" --now "$NOW" --timeout 3 \
  --format prometheus > fleet.prom 2> /dev/null || rc=$?
[ "$rc" = 1 ] || fail "fleet --format prometheus: exit $rc, want 1"
python3 - fleet.prom <<'EOF'
import sys
lines = [l for l in open(sys.argv[1]) if not l.startswith("#")]
def value(metric, label):
    got = [float(l.rsplit(" ", 1)[1]) for l in lines if l.startswith(metric + "{") and 'label="%s"' % label in l]
    assert len(got) == 1, (metric, label, got)
    return got[0]
assert abs(value("fwcert_bmc_clock_skew_seconds", "skewed") + 259200) <= 2
assert abs(value("fwcert_bmc_clock_skew_seconds", "good")) <= 2
assert value("fwcert_bmc_ok", "skewed") == 0 and value("fwcert_bmc_ok", "good") == 1
assert value("fwcert_bmc_up", "down") == 0 and value("fwcert_bmc_up", "good") == 1
assert value("fwcert_served_cert_not_yet_valid_at_bmc", "skewed") == 1
assert value("fwcert_served_cert_not_yet_valid_at_bmc", "good") == 0
EOF
if command -v promtool > /dev/null; then
  promtool check metrics < fleet.prom || fail "promtool check metrics refuses the fleet metrics"
fi
# Unreachable counts only when asked; an unknown firmware only when asked.
grep -v -e skewed inventory.csv > ok.csv
timeout 30 "$FWCERT" fleet check ok.csv --db "$DB" --ca-file "$S/ca.crt" --now "$NOW" --timeout 3 > fleet-ok.txt \
  || fail "fleet without the skewed host: want exit 0"
rc=0; timeout 30 "$FWCERT" fleet check ok.csv --db "$DB" --ca-file "$S/ca.crt" --now "$NOW" --timeout 3 \
  --fail-on unreachable > /dev/null || rc=$?
[ "$rc" = 1 ] || fail "fleet --fail-on unreachable: exit $rc, want 1"
grep -v -e skewed -e down inventory.csv > known.csv
rc=0; timeout 30 "$FWCERT" fleet check known.csv --db "$DB" --ca-file "$S/ca.crt" --now "$NOW" --timeout 3 \
  --fail-on unknown > /dev/null || rc=$?
[ "$rc" = 1 ] || fail "fleet --fail-on unknown: exit $rc, want 1"
rc=0; timeout 30 "$FWCERT" fleet check known.csv --fail-on bogus > /dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "fleet --fail-on bogus: exit $rc, want 2"
printf 'host,port\n127.0.0.1,99999\n' > bad.csv
rc=0; timeout 30 "$FWCERT" fleet check bad.csv > /dev/null 2> bad.err || rc=$?
[ "$rc" = 2 ] || fail "fleet with a bad port: exit $rc, want 2"
expect bad.err "line 2:"

echo "== $(date +%T) IPMI: OpenIPMI's ipmi_sim, a fresh clock (never set), then three days behind"
if command -v ipmi_sim > /dev/null && command -v ipmitool > /dev/null; then
  IPMI_PORT=$(python3 -c 'import socket; s=socket.socket(type=socket.SOCK_DGRAM); s.bind(("127.0.0.1",0))
print(s.getsockname()[1])')
  IPMI_PW="ipmi-$RANDOM-$RANDOM-pw"
  mkdir -p ipmi_state
  cat > lan.conf <<EOF
name "fwcerttest"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 $IPMI_PORT
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  user 1 true  ""         ""          user  10 none md2 md5 straight
  user 2 true  "$SECRET_USER" "$IPMI_PW" admin 10 none md2 md5 straight
EOF
  printf 'mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\n' > cmds.emu
  printf 'sel_enable 0x20 1000 0x0a\nmc_enable 0x20\n' >> cmds.emu
  timeout 60 ipmi_sim -c lan.conf -f cmds.emu -s "$WORK/ipmi_state" -n > ipmi_sim.log 2>&1 &
  PIDS+=($!)
  sleep 0.5
  export FWCERT_IPMI_USER=$SECRET_USER FWCERT_IPMI_PASSWORD=$IPMI_PW
  rc=0; timeout 30 "$FWCERT" probe "127.0.0.1:$GOOD_PORT" --ipmi "127.0.0.1:$IPMI_PORT" --now 2026-06-01 \
    > ipmi-fresh.txt || rc=$?
  [ "$rc" = 1 ] || fail "ipmi never set: exit $rc, want 1"
  expect ipmi-fresh.txt "BMC clock not set: every certificate is judged at an unknown time"
  # Set SEL Time to three days behind (ipmitool's own "sel time set" cannot parse its date format).
  set_time=$(python3 -c 'import struct, time
print(" ".join("0x%02x" % b for b in struct.pack("<I", int(time.time()) - 259200)))')
  IPMI_PASSWORD=$IPMI_PW timeout 20 ipmitool -I lanplus -C 3 -H 127.0.0.1 -p "$IPMI_PORT" -U "$SECRET_USER" -E \
    raw 0x0a 0x49 $set_time > /dev/null
  timeout 30 "$FWCERT" probe "127.0.0.1:$GOOD_PORT" --ipmi "127.0.0.1:$IPMI_PORT" --now 2026-06-01 --db "$DB" \
    --format json > ipmi.json || true
  python3 - ipmi.json <<'EOF'
import json, sys
h = json.load(open(sys.argv[1]))["hosts"][0]
assert h["ipmi"]["ok"] and not h["ipmi"]["never_set"], h["ipmi"]
assert abs(h["ipmi"]["skew_s"] + 259200) <= 2, h["ipmi"]
assert any("above the 60 s limit" in f for f in h["findings"]), h["findings"]
# 2026-06-01 minus three days is after the iKVM client certificate's notAfter (2026-05-17): the BMC refuses it.
assert any("alert 45 certificate_expired" in f for f in h["findings"]), h["findings"]
EOF
  # The certificate the internal CA issued an hour before the pinned --now is not yet valid at that BMC's clock.
  timeout 30 "$FWCERT" probe "127.0.0.1:$SKEWED_PORT" --ipmi "127.0.0.1:$IPMI_PORT" --ca-file "$S/ca.crt" --now "$NOW" \
    --format json > ipmi-today.json || true
  python3 - ipmi-today.json <<'EOF'
import json, sys
h = json.load(open(sys.argv[1]))["hosts"][0]
assert abs(h["ipmi"]["skew_s"] + 259200) <= 2, h["ipmi"]
c = h["certificates"][0]
assert c["status"] == "valid" and c["bmc_status"] == "not-yet-valid", c
assert any("not yet valid" in f and "BMC's clock" in f for f in h["findings"]), h["findings"]
EOF
  FWCERT_IPMI_PASSWORD="$IPMI_PW-wrong" timeout 30 "$FWCERT" probe "127.0.0.1:$GOOD_PORT" \
    --ipmi "127.0.0.1:$IPMI_PORT" --now 2026-06-01 > ipmi-badpw.txt 2>&1 || true
  expect ipmi-badpw.txt "BMC clock unreadable (ipmi 127.0.0.1:$IPMI_PORT)"
  for f in ipmi*.txt ipmi*.json; do
    if grep -qF -- "$IPMI_PW" "$f"; then fail "the IPMI password appears in $f"; fi
  done
else
  echo "SKIP: ipmi_sim or ipmitool missing (Debian openipmi, ipmitool)"
fi

echo "== $(date +%T) no credential anywhere"
for f in *.txt *.json *.err *.csv; do
  if grep -qF -e "$SECRET_PW" -e "$SECRET_USER" "$f"; then fail "a credential appears in $f"; fi
done
echo "ok"
