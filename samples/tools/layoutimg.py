#!/usr/bin/env python3
"""layoutimg.py — building blocks for the BMC flash-layout samples (samples/make-layout-samples.sh).

Only the standard library; every output depends only on the arguments.

Subcommands
  uboot    fake boot loader blob (ARM branch words, a U-Boot version string, padding)
  env      U-Boot environment: CRC-32 (LE) of the data area, then name=value pairs, 0x00 padded
  fit      U-Boot FIT image (flattened device tree v17) with kernel (gzip), fdt and ramdisk images, each with a
           crc32 and a sha256 hash node, and one configuration
  megarac  AMI MegaRAC flash: firmware module headers ($MODULE$, FMH 1.6) for boot (through an ALT_FMH at the end
           of the first 64 KiB block), conf (JFFS2, data one block after its header), root, www, and the
           firmware-info module in the last block (its checksum the whole-image CRC-32)
  place    lay files out at offsets in an 0xFF-filled flash (the OpenBMC static and UBI layouts)

Structures: see lib/include/fwcert/formats/megarac.hpp and openbmc.hpp (and their public sources).
"""
import argparse
import gzip
import hashlib
import struct
import sys
import zlib

BLOCK = 0x10000


def die(msg):
    print(f"layoutimg.py: {msg}", file=sys.stderr)
    sys.exit(1)


def intval(text):
    return int(text, 0)


def cmd_uboot(a):
    out = bytearray()
    for i in range(8):  # ARM exception vectors: b <reset>, ...
        out += struct.pack("<I", 0xEA000000 | (0x10 + i))
    out += b"U-Boot 2019.04 (Jul 17 2020 - 09:02:52 +0000) sample boot loader\0"
    seed = 0x12345678
    while len(out) < a.size:
        seed = (seed * 1103515245 + 12345) & 0xFFFFFFFF
        out += struct.pack("<I", 0xE5900000 | (seed & 0xFFFF))  # ldr-like words
    open(a.out, "wb").write(bytes(out[: a.size]))


def cmd_env(a):
    data = b"".join(v.encode() + b"\0" for v in a.var) + b"\0"
    if len(data) > a.size - 4:
        die("environment does not fit")
    data = data.ljust(a.size - 4, b"\0")
    open(a.out, "wb").write(struct.pack("<I", zlib.crc32(data)) + data)


class Fdt:
    """A flattened device tree, version 17, built token by token."""

    def __init__(self):
        self.st = bytearray()
        self.strings = bytearray()
        self.names = {}

    def _u32(self, v):
        self.st += struct.pack(">I", v)

    def _pad(self):
        while len(self.st) % 4:
            self.st.append(0)

    def begin(self, name):
        self._u32(1)
        self.st += name.encode() + b"\0"
        self._pad()

    def end(self):
        self._u32(2)

    def prop(self, name, value):
        if name not in self.names:
            self.names[name] = len(self.strings)
            self.strings += name.encode() + b"\0"
        self._u32(3)
        self._u32(len(value))
        self._u32(self.names[name])
        self.st += value
        self._pad()

    def prop_str(self, name, text):
        self.prop(name, text.encode() + b"\0")

    def prop_u32(self, name, v):
        self.prop(name, struct.pack(">I", v))

    def finish(self):
        self._u32(9)
        off_rsv, off_struct = 0x28, 0x38
        off_strings = off_struct + len(self.st)
        total = off_strings + len(self.strings)
        hdr = struct.pack(">10I", 0xD00DFEED, total, off_struct, off_strings, off_rsv, 17, 16, 0,
                          len(self.strings), len(self.st))
        return hdr + bytes(off_struct - len(hdr)) + bytes(self.st) + bytes(self.strings)


def fit_image(f, unit, typ, comp, data, extra=()):
    f.begin(unit)
    f.prop_str("description", unit)
    f.prop_str("type", typ)
    f.prop_str("arch", "arm")
    f.prop_str("os", "linux")
    f.prop_str("compression", comp)
    f.prop("data", data)
    for k, v in extra:
        f.prop_u32(k, v)
    f.begin("hash-1")
    f.prop_str("algo", "crc32")
    f.prop("value", struct.pack(">I", zlib.crc32(data)))
    f.end()
    f.begin("hash-2")
    f.prop_str("algo", "sha256")
    f.prop("value", hashlib.sha256(data).digest())
    f.end()
    f.end()


def cmd_fit(a):
    banner = b"Linux version 5.15.0-openbmc-sample (oe-user@oe-host) #1 SMP Fri Jul 17 09:02:52 UTC 2020\n"
    kernel = gzip.compress((banner * 64).ljust(65536, b"\0"), 9, mtime=1594976572)
    dtb = Fdt()
    dtb.begin("")
    dtb.prop_str("model", "OpenBMC sample board")
    dtb.prop_str("compatible", "aspeed,ast2500")
    dtb.end()
    dtb = dtb.finish()
    ramdisk = gzip.compress(b"070701" + b"0" * 104 + b"TRAILER!!!\0", 9, mtime=1594976572)
    f = Fdt()
    f.begin("")
    f.prop_str("description", "OpenBMC sample kernel")
    f.prop_u32("timestamp", 1594976572)
    f.prop_u32("#address-cells", 1)
    f.begin("images")
    fit_image(f, "kernel-1", "kernel", "gzip", kernel, [("load", 0x80001000), ("entry", 0x80001000)])
    fit_image(f, "fdt-aspeed-bmc-sample.dtb", "flat_dt", "none", dtb)
    fit_image(f, "ramdisk-1", "ramdisk", "gzip", ramdisk)
    f.end()
    f.begin("configurations")
    f.prop_str("default", "conf-aspeed-bmc-sample.dtb")
    f.begin("conf-aspeed-bmc-sample.dtb")
    f.prop_str("kernel", "kernel-1")
    f.prop_str("fdt", "fdt-aspeed-bmc-sample.dtb")
    f.prop_str("ramdisk", "ramdisk-1")
    f.end()
    f.end()
    f.end()
    open(a.out, "wb").write(f.finish())


def fmh(name, typ, location, size, flags, checksum, allocated, fmh_location, load=0xFFFFFFFF):
    """struct FMH (64 bytes) with MODULE_INFO; the header checksum makes the 64 bytes sum to 0 mod 256."""
    h = bytearray(b"$MODULE$")
    h += struct.pack("<BBHII", 1, 6, 64, allocated, fmh_location)
    h += bytes(4)  # reserved[3], header checksum
    h += name.encode()[:8].ljust(8, b"\0")
    h += struct.pack("<BBHIIHII", 1, 0, typ, location, size, flags, load, checksum)
    h += bytes(8)  # ver_aux[2], reserved[6]
    h += struct.pack("<H", 0x55AA)
    assert len(h) == 64
    h[23] = (-sum(h)) & 0xFF
    return h


def alt_fmh(link):
    a = bytearray(struct.pack("<HBBI", 0x55AA, 0, 0, link) + b"$MODULE$")
    a[2] = (-sum(a)) & 0xFF
    return a


def cmd_megarac(a):
    img = bytearray(b"\xff" * a.size)

    def put(at, data):
        if at + len(data) > len(img):
            die(f"{len(data)} bytes at {at:#x} do not fit")
        img[at:at + len(data)] = data

    def roundup(n):
        return (n + BLOCK - 1) // BLOCK * BLOCK

    check = 0x0100  # MODULE_FLAG_VALID_CHECKSUM
    # boot: the boot loader at flash offset 0; its header inside the block, found through the ALT_FMH.
    boot = open(a.boot, "rb").read()
    fmh_loc = 0xF000
    if len(boot) > fmh_loc:
        die("boot loader larger than 60 KiB")
    put(0, boot)
    put(fmh_loc, fmh("boot", 0x0001, 0, len(boot), check | 0x0001, zlib.crc32(boot), BLOCK, fmh_loc))
    put(BLOCK - 16, alt_fmh(fmh_loc))
    at = BLOCK
    # conf: JFFS2 (format 0x12, configuration 0x30), data one erase block after the header.
    conf = open(a.conf, "rb").read()
    alloc = BLOCK + roundup(len(conf))
    put(at, fmh("conf", 0x1230, BLOCK, len(conf), check, zlib.crc32(conf), alloc, at))
    put(at + BLOCK, conf)
    at += alloc
    # root and www: data right after the header.
    for name, path, typ in (("root", a.root, 0x0009), ("www", a.www, 0x1040)):
        data = open(path, "rb").read()
        crc = zlib.crc32(data)
        if name == a.bad_crc:
            crc ^= 0xFFFFFFFF
        alloc = roundup(64 + len(data))
        put(at, fmh(name, typ, 64, len(data), check, crc, alloc, at))
        put(at + 64, data)
        at += alloc
    # firmware info: the last block; its checksum is the CRC-32 of the flash up to the end of that block, without
    # the header checksum byte (+0x17) and the checksum field (+0x32..+0x35).
    info_at = a.size - BLOCK
    if at > info_at:
        die("modules overlap the firmware-info block")
    text = b"FW_VERSION=1.2.3\nFW_DATE=Jul 17 2020\nFW_BUILDTIME=09:02:52\nFW_DESC=fwcert MegaRAC sample\n"
    put(info_at + 64, text)
    put(info_at, fmh("fwinfo", 0x0202, 64, len(text), 0, 0, BLOCK, info_at))
    c = zlib.crc32(bytes(img[:info_at + 0x17]))
    c = zlib.crc32(bytes(img[info_at + 0x18:info_at + 0x32]), c)
    c = zlib.crc32(bytes(img[info_at + 0x36:info_at + BLOCK]), c)
    img[info_at + 0x32:info_at + 0x36] = struct.pack("<I", c)
    img[info_at + 23] = 0
    img[info_at + 23] = (-sum(img[info_at:info_at + 64])) & 0xFF
    open(a.out, "wb").write(bytes(img))


def cmd_place(a):
    img = bytearray(b"\xff" * a.size)
    for spec in a.part:
        off, path = spec.split(":", 1)
        off = intval(off)
        data = open(path, "rb").read()
        if off + len(data) > a.size:
            die(f"{path} does not fit at {off:#x}")
        img[off:off + len(data)] = data
    open(a.out, "wb").write(bytes(img))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("uboot")
    s.add_argument("out")
    s.add_argument("--size", type=intval, default=0x8000)
    s = sub.add_parser("env")
    s.add_argument("out")
    s.add_argument("--size", type=intval, default=0x10000)
    s.add_argument("--var", action="append", default=[])
    s = sub.add_parser("fit")
    s.add_argument("out")
    s = sub.add_parser("megarac")
    s.add_argument("out")
    s.add_argument("--size", type=intval, default=0x100000)
    s.add_argument("--boot", required=True)
    s.add_argument("--conf", required=True)
    s.add_argument("--root", required=True)
    s.add_argument("--www", required=True)
    s.add_argument("--bad-crc", default="", help="module whose stored CRC-32 is made wrong")
    s = sub.add_parser("place")
    s.add_argument("out")
    s.add_argument("--size", type=intval, required=True)
    s.add_argument("part", nargs="+", help="OFFSET:FILE")
    a = p.parse_args()
    {"uboot": cmd_uboot, "env": cmd_env, "fit": cmd_fit, "megarac": cmd_megarac, "place": cmd_place}[a.cmd](a)


if __name__ == "__main__":
    main()
