#!/usr/bin/env bash
# fwwalk, fwextract and fwcert scan as a user runs them on one image per BMC flash layout (samples/make-layout-samples.sh):
# the layout is reported with its partitions, the partitions are extracted under their names, and every certificate
# and key is found once, at a location that names its partition. Exits 77 (skipped) when the sample tools are missing.
set -euo pipefail
W=$1
X=$2
F=$3
SRC=$4
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
rc=0
bash "$SRC/samples/make-layout-samples.sh" "$T" 2>"$T/make.log" || rc=$?
if [[ $rc -eq 77 ]]; then
  echo "SKIP: $(cat "$T/make.log")"
  exit 77
fi
[[ $rc -eq 0 ]] || fail "make-layout-samples.sh: $(cat "$T/make.log")"
cd "$T"

"$W" megarac-sample.bin >walk.txt
grep -q "AMI MegaRAC firmware module table, FW_VERSION 1.2.3, 5 modules: boot 0x0+0x8000 (boot loader, CRC ok)" walk.txt ||
  fail "fwwalk: no MegaRAC table: $(cat walk.txt)"
"$W" openbmc-static.bin | grep -q "OpenBMC static flash layout, 32 MiB: u-boot 0x0+0x60000" || fail "fwwalk: no static layout"
"$W" openbmc-ubi.bin | grep -q "OpenBMC UBI flash layout, 32 MiB: .*obmc-ubi 0x80000+0x1F80000" || fail "fwwalk: no UBI layout"

"$X" megarac-badcrc.bin -o out >/dev/null 2>&1 || true
[[ -s out/megarac-badcrc.bin!megarac/root ]] || [[ -n $(find out -path '*megarac*' -name root -type f) ]] ||
  fail "fwextract: the root module was not written: $(find out | head -20)"

# Each certificate or key once, at its partition.
"$F" scan --format json megarac-sample.bin openbmc-static.bin openbmc-ubi.bin >scan.json || true
for loc in 'megarac-sample.bin!megarac:root!squashfs:/etc/stunnel/server.crt' \
           'megarac-sample.bin!megarac:root!squashfs:/etc/stunnel/server.key' \
           'megarac-sample.bin!megarac:www!cramfs:/certs/client.crt' \
           'openbmc-static.bin!openbmc-static:rofs!squashfs:/etc/ssl/certs/https/server.pem'; do
  grep -qF "$loc" scan.json || fail "fwcert scan: nothing at $loc"
done
grep -qF 'megarac-sample.bin!squashfs@' scan.json && fail "fwcert scan: the root squashfs was read outside its module"
grep -qF 'openbmc-static.bin!squashfs@' scan.json && fail "fwcert scan: the rofs squashfs was read outside its partition"
echo ok
