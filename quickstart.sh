#!/usr/bin/env bash
# fwcert quick start for Debian 12: installs what is missing, builds, then runs the main job on the bundled sample
# (default) or the whole test suite (--test). Works as root and as a user with sudo.
#
#   ./quickstart.sh          install + build + fwcert scan samples/bmc-sample.bin
#   ./quickstart.sh --test   install + build + every test (ctest)
set -euo pipefail
cd "$(dirname "$0")"

mode=run
case "${1:-}" in
  "" | --run) mode=run ;;
  --test) mode=test ;;
  -h | --help) sed -n '2,7p' "$0"; exit 0 ;;
  *) echo "quickstart.sh: unknown option '$1' (use --test or nothing)" >&2; exit 2 ;;
esac

# Build dependencies (Debian package names). The tests also make images with mksquashfs (squashfs-tools),
# mkfs.ubifs and ubinize (mtd-utils) and mkfs.cramfs (util-linux, always present) and compare with fsck.cramfs.
packages=(g++ cmake make pkg-config libarchive-dev libssl-dev zlib1g-dev liblzma-dev libzstd-dev libbz2-dev
          libcli11-dev catch2 nlohmann-json3-dev libsquashfs-dev libisal-dev libsqlite3-dev liblzo2-dev
          nettle-dev liblz4-dev libxml2-dev  # these three: what the static libarchive.a needs (xml2: tests)
          libext2fs-dev  # ext2/3/4 read in-process (libext2fs.a, libcom_err.a from comerr-dev)
          libcurl4-openssl-dev libfreeipmi-dev  # fwcert probe --redfish, --ipmi
          help2man)  # the man pages are generated from each tool's --help
# The tests also validate SARIF against the official schema and parse the calendar back, with Debian's python3 modules,
# render the man pages with man (man-db) and the HTML report in headless Chromium. The live tests start openssl
# s_server, a python3 Redfish responder and OpenIPMI's ipmi_sim; promtool (package prometheus) checks the metrics.
if [ "$mode" = test ]; then
  packages+=(squashfs-tools e2fsprogs mtd-utils lzop openssl python3 python3-jsonschema python3-icalendar man-db
            openipmi ipmitool
            prometheus  # promtool checks the metrics
            chromium)   # renders the HTML report
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "quickstart: installing ${missing[*]}" >&2
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "quickstart: need root or sudo to install: ${missing[*]}" >&2; exit 2; }
    sudo=(sudo)
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"

if [ "$mode" = test ]; then
  ctest --test-dir build --output-on-failure -j"$jobs"
else
  ./build/tools/fwcert scan samples/bmc-sample.bin
fi
