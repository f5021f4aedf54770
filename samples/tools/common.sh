# shellcheck shell=bash
# samples/tools/common.sh — staging shared by samples/make-samples.sh and bench/make-bench-image.sh.
# Source it (bash); needs $here = the samples/ directory, and TZ=UTC, umask 022, run as (fake)root.
# All outputs are deterministic: fixed mtimes, explicit modes, fixed seeds.

: "${here:?common.sh needs \$here = the samples/ directory}"
bmcimg="python3 $here/tools/bmcimg.py"
FIXED_MTIME="2020-07-17 09:00:00 UTC"
KERNEL_MTIME="2020-07-17 08:56:49 UTC"   # gzip "last modified" of linux.bin, as in the X10 image

# stage_trees WORK: WORK/rootfs and WORK/webfs (endian-independent), WORK/iKVM__V1.69.38.0x0.jar.
stage_trees() {
    local w=$1 r=$1/rootfs j=$1/jar wf=$1/webfs
    # root fs: committed text files + certificates + the usual empty mount points
    mkdir -p "$r" "$j" "$wf"
    cp -R "$here/rootfs/." "$r/"
    mkdir -p "$r"/{dev,proc,sys,tmp,mnt,var/run,var/log,root,sbin,lib,web,nv}
    cp "$here/certs/server.crt" "$here/certs/server.key" "$here/certs/client.crt" "$r/etc/stunnel/"
    cp "$here/certs/web.pem" "$r/etc/lighttpd/"
    cp "$here/certs/redfish.crt" "$here/certs/redfish.key" "$r/etc/redfish/"
    ln -s busybox "$r/bin/sh"
    ln -s ../bin/busybox "$r/sbin/init"
    ln -s bin/busybox "$r/linuxrc"
    find "$r" -type d -exec chmod 755 {} +
    find "$r" -type f -exec chmod 644 {} +
    chmod 755 "$r/bin/busybox" "$r/usr/local/bin/stunnel" "$r/etc/init.d/rcS"
    chmod 600 "$r/etc/stunnel/server.key" "$r/etc/redfish/redfish.key" "$r/etc/lighttpd/web.pem"
    chmod 1777 "$r/tmp"

    # iKVM-style jar: MANIFEST first (jar convention), then the other entries sorted.
    mkdir -p "$j/META-INF" "$j/res" "$j/tw/com/aten/ikvm"
    cp "$here/jar/META-INF/MANIFEST.MF" "$j/META-INF/"
    cp "$here/certs/client.crt" "$here/certs/client.key" "$here/certs/server.crt" "$j/res/"
    $bmcimg classfile --name tw/com/aten/ikvm/KVMMain -o "$j/tw/com/aten/ikvm/KVMMain.class"
    find "$j" -type f -exec chmod 644 {} + -exec touch -d "$FIXED_MTIME" {} +
    (cd "$j" && { echo META-INF/MANIFEST.MF; find . -type f ! -path ./META-INF/MANIFEST.MF | sed 's|^\./||' | sort; } |
        zip -q -X -D -9 "$w/iKVM__V1.69.38.0x0.jar" -@)

    # web fs: committed pages + the jar + its pass-through pack.gz (= gzip(jar), FORMATS.md 5.2)
    cp -R "$here/webfs/." "$wf/"
    cp "$w/iKVM__V1.69.38.0x0.jar" "$wf/"
    gzip -9 -n -c "$w/iKVM__V1.69.38.0x0.jar" >"$wf/iKVM__V1.69.38.0x0.jar.pack.gz"
    find "$wf" -type d -exec chmod 755 {} +
    find "$wf" -type f -exec chmod 644 {} +

}

# make_uimage WORK RAW_SIZE RANDOM_PERCENT: WORK/linux.bin (fake kernel) -> WORK/uImage.
# gzip -9 keeps the original name "linux.bin" and its (fixed) mtime; mkimage takes its time
# stamp from SOURCE_DATE_EPOCH.
make_uimage() {
    local w=$1
    $bmcimg kernel --size "$2" --random-percent "$3" --seed 2 -o "$w/linux.bin"
    touch -d "$KERNEL_MTIME" "$w/linux.bin"
    (cd "$w" && gzip -9 -c linux.bin >linux.bin.gz)
    mkimage -A arm -O linux -T kernel -C gzip -a 0x40008000 -e 0x40008000 -n 21400000 \
        -d "$w/linux.bin.gz" "$w/uImage" >/dev/null
}

