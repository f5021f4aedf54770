#!/usr/bin/env bash
# Replays the Redfish-fleet incident (docs/fleet.md) on loopback endpoints: four "BMCs" on 127.0.0.1, one of them
# three days behind, one down, one serving the sample firmware's stunnel certificate; then `fwcert fleet check`,
# `fwcert probe --redfish` on the skewed one, and the fleet again once its clock is fixed. Nothing leaves 127.0.0.1.
#   docs/fleet-replay.sh [build/tools/fwcert]
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
FWCERT=$(realpath "${1:-$SRC/build/tools/fwcert}")
S=$SRC/samples/certs
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"
mkfifo stdin
exec 3<> stdin
start() {  # start OUTFILE COMMAND...: sets PORT from "ACCEPT host:port" (s_server) or "PORT n" (the responder)
  local out=$1
  shift
  : > "$out"
  "$@" <&3 > "$out" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 50); do
    PORT=$(sed -n 's/^ACCEPT 127.0.0.1:\([0-9]*\)$/\1/p; s/^PORT \([0-9]*\)$/\1/p' "$out" | head -1)
    [ -n "$PORT" ] && return 0
    sleep 0.1
  done
  echo "could not start $*" >&2
  exit 1
}
show() {  # prints the command as typed from the source tree, runs it, and its exit status when not 0
  local cmd="$*"
  cmd=${cmd//$FWCERT/fwcert}
  cmd=${cmd//$WORK\//}
  cmd=${cmd//$SRC\//}
  echo "\$ $cmd"
  set +e
  "$@" 2>&1 | sed "s|$WORK/||g; s|$SRC/||g"
  local rc=${PIPESTATUS[0]}
  set -e
  [ "$rc" = 0 ] || echo "(exit status $rc)"
  echo
}

# The firmware library: the sample image in a catalog.
(cd "$SRC" && "$FWCERT" catalog add samples/bmc-sample.bin --db "$WORK/catalog.sqlite" > /dev/null 2>&1)
# The internal CA (the sample CA) issued each BMC's web certificate this morning, for 127.0.0.1.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout bmc.key \
  -subj "/O=Example Corp/CN=bmc-web.example" -out bmc.csr 2> /dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > san.ext
openssl x509 -req -in bmc.csr -CA "$S/ca.crt" -CAkey "$S/ca.key" -set_serial 77 -days 397 -extfile san.ext \
  -out bmc.crt 2> /dev/null
NB=$(date -d "$(openssl x509 -in bmc.crt -noout -startdate | cut -d= -f2)" +%s)
NOW=@$((NB + 3600))  # judge an hour after the certificate was issued

export REDFISH_TEST_USER=monitor REDFISH_TEST_PASSWORD=replay-only-password
export FWCERT_REDFISH_USER=$REDFISH_TEST_USER FWCERT_REDFISH_PASSWORD=$REDFISH_TEST_PASSWORD
R=$SRC/tests/cli/redfish_responder.py
start rf1 python3 "$R" --cert bmc.crt --key bmc.key --skew 0 --lifetime 120; P1=$PORT
start rf2 python3 "$R" --cert bmc.crt --key bmc.key --skew -259200 --lifetime 120; P2=$PORT
P3=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
start s4 openssl s_server -accept 127.0.0.1:0 -cert "$S/server.crt" -key "$S/server.key" -cert_chain "$S/ca.crt"
P4=$PORT
cat > fleet.csv <<EOF
host,port,redfish,ipmi,label
127.0.0.1,$P1,https://127.0.0.1:$P1,,bmc-01
127.0.0.1,$P2,https://127.0.0.1:$P2,,bmc-02
127.0.0.1,$P3,https://127.0.0.1:$P3,,bmc-03
127.0.0.1,$P4,,,bmc-04-ikvm
EOF
show cat fleet.csv
show "$FWCERT" fleet check fleet.csv --db catalog.sqlite --ca-file "$S/ca.crt" --now "$NOW" --timeout 3
show "$FWCERT" probe "127.0.0.1:$P2" --redfish --db catalog.sqlite --ca-file "$S/ca.crt" --now "$NOW"
# Round 1 of the incident: the same BMC's clock over IPMI (Get SEL Time), here OpenIPMI's simulator set 3 days behind.
if command -v ipmi_sim > /dev/null && command -v ipmitool > /dev/null; then
  IP=$(python3 -c 'import socket; s=socket.socket(type=socket.SOCK_DGRAM); s.bind(("127.0.0.1",0))
print(s.getsockname()[1])')
  mkdir -p ipmi_state
  printf 'name "replay"\nset_working_mc 0x20\n startlan 1\n  addr 127.0.0.1 %s\n  priv_limit admin\n' "$IP" > lan.conf
  printf '  allowed_auths_admin none md2 md5 straight\n  guid a123456789abcdefa123456789abcdef\n endlan\n' >> lan.conf
  printf ' user 2 true "monitor" "replay-ipmi-pw" admin 10 none md2 md5 straight\n' >> lan.conf
  printf 'mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\n' > cmds.emu
  printf 'sel_enable 0x20 1000 0x0a\nmc_enable 0x20\n' >> cmds.emu
  timeout 120 ipmi_sim -c lan.conf -f cmds.emu -s "$WORK/ipmi_state" -n > /dev/null 2>&1 &
  PIDS+=($!)
  sleep 0.5
  export FWCERT_IPMI_USER=monitor FWCERT_IPMI_PASSWORD=replay-ipmi-pw
  show "$FWCERT" probe "127.0.0.1:$P2" --ipmi "127.0.0.1:$IP" --ca-file "$S/ca.crt" --now "$NOW" --db catalog.sqlite
  t=$(python3 -c 'import struct, time
print(" ".join("0x%02x" % b for b in struct.pack("<I", int(time.time()) - 259200)))')
  IPMI_PASSWORD=$FWCERT_IPMI_PASSWORD ipmitool -I lanplus -C 3 -H 127.0.0.1 -p "$IP" -U monitor -E raw 0x0a 0x49 $t \
    > /dev/null
  show "$FWCERT" probe "127.0.0.1:$P2" --ipmi "127.0.0.1:$IP" --ca-file "$S/ca.crt" --now "$NOW" --db catalog.sqlite
fi
# The firewall rule is fixed, NTP reaches the BMC VLAN, bmc-02's clock is back in step.
kill "${PIDS[1]}"
start rf2b python3 "$R" --cert bmc.crt --key bmc.key --skew 0 --lifetime 120 --port "$P2"
show "$FWCERT" fleet check fleet.csv --db catalog.sqlite --ca-file "$S/ca.crt" --now "$NOW" --timeout 3
show "$FWCERT" fleet check fleet.csv --db catalog.sqlite --ca-file "$S/ca.crt" --now "$NOW" --timeout 3 \
  --fail-on unreachable --format csv
