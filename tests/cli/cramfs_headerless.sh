#!/usr/bin/env bash
# Issue 15 item 6: "An X10-layout image without an [img] index whose root CramFS superblock (first 64 bytes) is
# overwritten still gives its stunnel certificates in fwcert scan, marked recovered."
# The images are made here from samples/bmc-sample.bin and its big-endian twin: the [img] index is zeroed and the first
# 64 bytes of the root CramFS are overwritten (both found with fwwalk --json on the intact sample). Then:
# - the walk finds the CramFS by its root directory (a medium hit) and fwcert scan gives the stunnel certificates at
#   NAME!cramfs@0x80000:/etc/stunnel/..., listed in recovered_locations, and the stunnel key marked recovered;
# - with the root inode gone too (the finder has nothing to go by), only --cramfs-at 0x80000 gives them, in fwcert
#   scan and in fwcert catalog add;
# - a file block that no longer inflates leaves only a low-confidence candidate (fwwalk --all), extracted by nothing;
#   a truncated root directory gives no candidate, and --cramfs-at there gives a diagnostic, not a crash;
# - no false finds: random bytes, the intact samples and the Supermicro corpus images (skipped when absent) give no
#   "without superblock" hit, even with --all.
# Usage: cramfs_headerless.sh FWWALK FWEXTRACT FWCERT SOURCE_DIR
set -uo pipefail
FWWALK=$1
FWEXTRACT=$2
FWCERT=$3
SRC=$4
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
export FWCERT_DB="$W/default.sqlite"
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
cd "$W" || exit 1

# damage SAMPLE PREFIX: writes PREFIX.bin (no index, superblock's first 64 bytes overwritten), PREFIX-noroot.bin (the
# root inode too), PREFIX-block.bin (and a file's first compressed block garbled), PREFIX-trunc.bin (cut inside the
# root directory).
damage() {
  local sample=$1 prefix=$2
  "$FWWALK" --json "$sample" >"$prefix.walk.json" || fail "fwwalk $sample"
  python3 - "$sample" "$prefix" "$prefix.walk.json" <<'PY' || fail "cannot make the damaged images of $1"
import json, sys
sample, prefix, walk = sys.argv[1:]
hits = json.load(open(walk))
index = [h for h in hits if h["type"] == "aspeed-index"]
cramfs = sorted(h["offset"] for h in hits if h["type"] == "cramfs")
assert len(index) == 1 and cramfs, (index, cramfs)
img = bytearray(open(sample, "rb").read())
at = index[0]["offset"]
img[at:at + 4096] = bytes(4096)        # the [img] index, [end] included
root = cramfs[0]                       # the root file system (index image 2)
assert root == 0x80000, hex(root)
img[root:root + 64] = b"\xa5" * 64     # magic, size, flags, signature, CRC, name: gone
open(prefix + ".bin", "wb").write(img)
noroot = bytearray(img)
noroot[root + 64:root + 76] = b"\xa5" * 12
open(prefix + "-noroot.bin", "wb").write(noroot)
# The first zlib block after the root directory: its deflate data garbled (the Adler-32 no longer matches).
block = bytearray(img)
starts = [i for i in range(root + 76, root + 0x3000) if block[i] == 0x78 and block[i + 1] in (0x9c, 0xda)]
assert starts
for i in range(starts[0] + 2, starts[0] + 10):
    block[i] ^= 0x5a
open(prefix + "-block.bin", "wb").write(block)
open(prefix + "-trunc.bin", "wb").write(img[:root + 0x60])
PY
}
damage "$SRC/samples/bmc-sample.bin" le
damage "$SRC/samples/bmc-sample-be.bin" be

# stunnel IMAGE [OPTIONS...]: fwcert scan JSON must give the stunnel certificates and key inside the root CramFS at
# 0x80000, each location listed as recovered.
stunnel() {
  local img=$1
  shift
  local out
  "$FWCERT" scan --now 2026-01-01 --format json "$@" "$img" >scan.json || { fail "fwcert scan $* $img exited $?"; return; }
  python3 - "$img" "$*" scan.json <<'PY' || fail "fwcert scan $* $img"
import json, sys
img, opts, path = sys.argv[1:]
doc = json.load(open(path))["inputs"][0]
ok = True
for f in ("client.crt", "server.crt"):
    loc = f"{img}!cramfs@0x80000:/etc/stunnel/{f}"
    certs = [c for c in doc["certificates"] if loc in c["locations"]]
    if not certs:
        print(f"{opts} {img}: no certificate at {loc}", file=sys.stderr); ok = False
    elif loc not in certs[0]["recovered_locations"]:
        print(f"{opts} {img}: {loc} not marked recovered", file=sys.stderr); ok = False
    # The copies in the intact web fs are not recovered.
    for c in certs:
        for other in c["locations"]:
            if "cramfs@0x2E0000" in other and other in c["recovered_locations"]:
                print(f"{opts} {img}: {other} marked recovered", file=sys.stderr); ok = False
key = [k for k in doc["keys"] if k["location"] == f"{img}!cramfs@0x80000:/etc/stunnel/server.key"]
if not key or not key[0]["recovered"]:
    print(f"{opts} {img}: stunnel server.key missing or not marked recovered", file=sys.stderr); ok = False
if not any(p["location"] == f"{img}!cramfs@0x80000" and "recovered" in p["message"] for p in doc["problems"]):
    print(f"{opts} {img}: no problem says how the CramFS was recovered", file=sys.stderr); ok = False
sys.exit(0 if ok else 1)
PY
}

# no_stunnel IMAGE: the stunnel certificates of the root CramFS are not found (what the options above change).
no_stunnel() {
  local out
  out=$("$FWCERT" scan --now 2026-01-01 --format json "$1") || fail "fwcert scan $1 exited $?"
  if grep -qF "cramfs@0x80000:/etc/stunnel/" <<<"$out"; then fail "$1: stunnel found without --cramfs-at"; fi
}

for p in le be; do
  order=little
  [ $p = be ] && order=big
  walk=$("$FWWALK" "$p.bin") || fail "fwwalk $p.bin exited $?"
  grep -qE "^524288 +0x80000 +CramFS filesystem without superblock .*$order endian.*tree reads back: recovered" \
    <<<"$walk" || fail "fwwalk $p.bin: no medium CramFS hit at 0x80000: $walk"
  grep -q "ASPEED image index" <<<"$walk" && fail "fwwalk $p.bin: the index is still there"
  stunnel "$p.bin"
  stunnel "$p.bin" --cramfs-at 0x80000
  # fwextract takes the same hit: the tree lands under cramfs@0x80000, marked recovered in the manifest.
  "$FWEXTRACT" "$p.bin" --list --json >"$p.manifest.json" || fail "fwextract $p.bin exited $?"
  python3 - "$p" "$p.manifest.json" <<'PY' || fail "fwextract $p.bin: cramfs@0x80000 not recovered"
import json, sys
p, path = sys.argv[1:]
nodes = {n["location"]: n for n in json.load(open(path))["nodes"]}
assert nodes[f"{p}.bin!cramfs@0x80000"]["recovered"]
assert f"{p}.bin!cramfs@0x80000:/etc/stunnel/stunnel.conf" in nodes
assert not nodes[f"{p}.bin!cramfs@0x2E0000"]["recovered"]
PY

  # Root inode gone as well: nothing to find by structure; --cramfs-at still recovers the tree by scanning for the
  # root directory.
  "$FWWALK" --all "$p-noroot.bin" | grep -q "without superblock" && fail "fwwalk --all $p-noroot.bin: a candidate"
  no_stunnel "$p-noroot.bin"
  stunnel "$p-noroot.bin" --cramfs-at 0x80000
  stunnel "$p-noroot.bin" --cramfs-at 0x1000,0x80000
  db=$W/$p.sqlite
  "$FWCERT" catalog add --db "$db" --now 2026-01-01 --cramfs-at 0x80000 "$p-noroot.bin" 2>/dev/null ||
    fail "catalog add --cramfs-at $p-noroot.bin exited $?"
  sha=$("$FWCERT" scan --format json --cramfs-at 0x80000 "$p-noroot.bin" | python3 -c '
import json, sys
print(*[c["sha256"] for c in json.load(sys.stdin)["inputs"][0]["certificates"] if c["common_name"] == "IPMI"])')
  where=$("$FWCERT" catalog where --db "$db" --format csv "$sha") || fail "catalog where $sha exited $?"
  grep -qF "$p-noroot.bin!cramfs@0x80000:/etc/stunnel/client.crt" <<<"$where" ||
    fail "catalog add --cramfs-at: client.crt not recorded at cramfs@0x80000: $where"
  db2=$W/$p-plain.sqlite
  "$FWCERT" catalog add --db "$db2" --now 2026-01-01 "$p-noroot.bin" 2>/dev/null || fail "catalog add $p-noroot.bin"
  grep -qF "cramfs@0x80000" <<<"$("$FWCERT" catalog where --db "$db2" --format csv "$sha")" &&
    fail "catalog add without --cramfs-at recorded cramfs@0x80000"

  # A garbled file block: the tree no longer reads back, so the candidate stays low and nothing is extracted from it.
  walk=$("$FWWALK" --all "$p-block.bin") || fail "fwwalk --all $p-block.bin exited $?"
  grep -qE "^524288 +0x80000 +CramFS filesystem without superblock .*tree does not read back" <<<"$walk" ||
    fail "fwwalk --all $p-block.bin: no low candidate at 0x80000: $walk"
  grep -q "not recovered: .* does not inflate" <<<"$walk" || fail "fwwalk --all $p-block.bin: no reason given"
  "$FWWALK" "$p-block.bin" | grep -q "without superblock" && fail "fwwalk $p-block.bin: a low candidate by default"
  no_stunnel "$p-block.bin"

  # A truncated root directory: no candidate; --cramfs-at there is a diagnostic, not a crash.
  "$FWWALK" --all "$p-trunc.bin" | grep -q "without superblock" && fail "fwwalk --all $p-trunc.bin: a candidate"
  out=$("$FWCERT" scan --now 2026-01-01 --format json --cramfs-at 0x80000 "$p-trunc.bin")
  rc=$?
  [ $rc = 0 ] || fail "fwcert scan --cramfs-at 0x80000 $p-trunc.bin exited $rc"
  python3 -c '
import json, sys
doc = json.load(sys.stdin)["inputs"][0]
assert not doc["certificates"], doc["certificates"]
assert any(p["severity"] == "error" and "root directory" in p["message"] for p in doc["problems"]), doc["problems"]
' <<<"$out" || fail "fwcert scan --cramfs-at 0x80000 $p-trunc.bin: no diagnostic: $out"
  "$FWEXTRACT" --list --cramfs-at 0x80000 "$p-trunc.bin" >/dev/null 2>&1 || fail "fwextract $p-trunc.bin exited $?"
done

# No false finds.
python3 -c '
import random
r = random.Random(15)
open("random.bin", "wb").write(bytes(r.getrandbits(8) for _ in range(1 << 20)))
# Random bytes with the root-inode anchors planted every 4 KiB (little and big endian): candidates, never hits.
b = bytearray(open("random.bin", "rb").read())
for i in range(0, len(b) - 4096, 4096):
    b[i + 72:i + 76] = bytes.fromhex("c0040000") if i % 8192 else bytes.fromhex("00000013")
open("anchors.bin", "wb").write(b)
'
checked=0
for f in random.bin anchors.bin "$SRC"/samples/*.bin "$SRC"/../shared/corpus/Supermicro* \
  "$SRC"/../shared/corpus/supermicro_ipmi_firmware; do
  [ -e "$f" ] || continue
  while IFS= read -r -d '' g; do
    checked=$((checked + 1))
    out=$("$FWWALK" --all "$g" 2>&1)
    grep -q "without superblock" <<<"$out" && fail "fwwalk --all $g: $(grep "without superblock" <<<"$out")"
  done < <(find "$f" -type f -size +16k -print0)
done
[ $checked -ge 4 ] || fail "only $checked files checked for false finds"

if [ "$failures" -gt 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "ok: headerless CramFS ($checked files without a false find)"
