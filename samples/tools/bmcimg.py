#!/usr/bin/env python3
"""bmcimg.py — deterministic building blocks for the sample BMC firmware images.

Used by samples/make-samples.sh and bench/make-bench-image.sh. Only the standard library.
Every output depends only on the arguments (fixed seeds, random.Random with an int seed,
getrandbits only, whose sequence is stable across CPython 3 releases).

Subcommands
  uboot     fake boot loader: ARM vector table, code-like words, version strings, and the
            standard CRC-32 table (256 u32, polynomial 0xEDB88320) at a chosen offset, in the
            image's byte order (binwalk: "CRC32 polynomial table, little/big endian").
  kernel    fake uncompressed ARM kernel ("linux.bin") with a "Linux version ..." banner;
            --random-percent sets how much of it is incompressible.
  classfile minimal valid Java class file (no methods) for the iKVM-style jar.
  randtree  add deterministic incompressible files to a directory tree (bench images).
  assemble  lay parts out at fixed offsets in a filled image, then write the ASPEED
            "[img]: base length crc32 name" index (ended by "[end]") and the ATENs_FW v3
            footer right after the last image (FORMATS.md section 4.1).
"""
import argparse
import os
import random
import struct
import sys
import zlib


def die(msg):
    print(f"bmcimg.py: {msg}", file=sys.stderr)
    sys.exit(1)


def intval(text):
    return int(text, 0)


def crc32_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        table.append(c)
    return table


_CODE_DICT_RNG = random.Random(0x41524D)
# 256 frequent "instructions" (condition field 0xE = always, as most ARM code).
CODE_DICT = [0xE0000000 | _CODE_DICT_RNG.getrandbits(28) for _ in range(256)]


def code_words(rng, count):
    """ARM-looking 32-bit words: mostly drawn (skewed) from a small dictionary, some random.
    gzip -9 shrinks this to about 53 %, close to real kernel code, and it has no long runs."""
    words = []
    for _ in range(count):
        r = rng.getrandbits(8)
        if r < 200:
            words.append(CODE_DICT[(r * rng.getrandbits(8)) >> 8])
        else:
            words.append(0xE0000000 | rng.getrandbits(28))
    return words


def cmd_uboot(a):
    fmt = "<" if a.endian == "le" else ">"
    rng = random.Random(a.seed)
    size, table_at = a.size, a.table_at
    if table_at + 1024 > size:
        die("CRC-32 table does not fit in the boot loader blob")
    blob = bytearray(size)
    # ARM exception vectors: "b <handler>" (0xEA000000 | word offset), like every U-Boot start.S.
    vectors = [0xEA000000 | (0x0E + i) for i in range(8)]
    blob[0:32] = struct.pack(fmt + "8I", *vectors)
    code_end = min(table_at, size) - 0x1000
    n = (code_end - 0x40) // 4
    blob[0x40:0x40 + 4 * n] = struct.pack(f"{fmt}{n}I", *code_words(rng, n))
    strings = (
        b"\0U-Boot 2013.07 (Jul 17 2020 - 08:50:00) ASPEED AST2400 sample\0"
        b"bootcmd=bootm 21400000\0"
        b"bootargs=console=ttyS4,115200n8 root=/dev/mtdblock2 rootfstype=cramfs\0"
        b"### ERROR ### Please RESET the board ###\0"
        b"Hit any key to stop autoboot: %2d \0"
        b"Wrong Image Format for bootm command\0"
    )
    s_at = code_end + 0x100
    blob[s_at:s_at + len(strings)] = strings
    blob[table_at:table_at + 1024] = struct.pack(f"{fmt}256I", *crc32_table())
    with open(a.output, "wb") as f:
        f.write(blob)


def cmd_kernel(a):
    rng = random.Random(a.seed)
    out = bytearray()
    # zImage-style NOP sled and branch, then the banner early (as in a real Image's .rodata,
    # "Linux version" is what `strings | grep` finds first).
    out += struct.pack("<8I", *([0xE1A00000] * 8)) + struct.pack("<I", 0xEA000002)
    out += b"\0" * 12
    banner = (b"Linux version 3.14.17-ast2400-sample (builder@fwcert-samples) "
              b"(gcc version 4.9.4 (Sample toolchain)) #1 Fri Jul 17 08:56:00 UTC 2020\n\0")
    chunk = 4096
    symbols = [f"sample_func_{i:04d}\0".encode() for i in range(512)]
    have_banner = False
    while len(out) < a.size:
        kind = rng.getrandbits(7) % 100
        if len(out) > 0x2000 and not have_banner:
            out += banner
            have_banner = True
        if kind < a.random_percent:
            out += rng.getrandbits(8 * chunk).to_bytes(chunk, "little")      # incompressible
        elif kind < a.random_percent + 10:
            for _ in range(chunk // 16):                                     # symbol-table-ish text
                out += symbols[rng.getrandbits(9)]
        else:
            out += struct.pack(f"<{chunk // 4}I", *code_words(rng, chunk // 4))
    del out[a.size:]
    if b"Linux version" not in out[:a.size]:
        die("kernel too small for the banner")
    with open(a.output, "wb") as f:
        f.write(out)


def cmd_classfile(a):
    """A minimal class file: public class <name> extends java.lang.Object, no members.
    JVM spec 4.1: magic, minor, major, constant pool, access, this, super, counts."""
    name = a.name.encode()
    pool = [
        struct.pack(">BH", 7, 2),                                    # 1: Class -> #2
        struct.pack(">BH", 1, len(name)) + name,                     # 2: Utf8 this name
        struct.pack(">BH", 7, 4),                                    # 3: Class -> #4
        struct.pack(">BH", 1, 16) + b"java/lang/Object",             # 4: Utf8
        struct.pack(">BH", 1, 10) + b"SourceFile",                   # 5: Utf8
        struct.pack(">BH", 1, len(name.split(b"/")[-1]) + 5) + name.split(b"/")[-1] + b".java",  # 6
    ]
    body = struct.pack(">IHHH", 0xCAFEBABE, 0, 52, len(pool) + 1) + b"".join(pool)
    body += struct.pack(">HHHHHH", 0x0021, 1, 3, 0, 0, 0)           # access, this, super, ifaces, fields, methods
    body += struct.pack(">HHIH", 1, 5, 2, 6)                        # SourceFile attribute
    with open(a.output, "wb") as f:
        f.write(body)


def cmd_randtree(a):
    """Add `count` files of random (incompressible) bytes totalling about `total` bytes under
    `dir`, spread over a few directories; sizes are skewed like a real root fs (many small
    files, a few large libraries)."""
    rng = random.Random(a.seed)
    dirs = a.dirs.split(",")
    weights = [rng.getrandbits(16) + 1 for _ in range(a.count)]
    # Square the weights for a long tail, then scale to the total.
    weights = [w * w for w in weights]
    scale = a.total / sum(weights)
    written = 0
    for i, w in enumerate(weights):
        size = max(1, int(w * scale))
        d = os.path.join(a.dir, dirs[i % len(dirs)])
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, f"{a.prefix}{i:04d}{a.suffix}")
        with open(path, "wb") as f:
            f.write(rng.getrandbits(8 * size).to_bytes(size, "little"))
        written += size
    print(f"randtree: {a.count} files, {written} bytes under {a.dir}")


def hex4(v):
    """ATENs_FW field: first 4 chars of the unpadded lowercase hex, "%4s"-padded."""
    return format(v, "x")[:4].rjust(4).encode()


def cmd_assemble(a):
    img = bytearray(a.size)
    for spec in a.fill:
        start, end, byte = (intval(x) for x in spec.split(":"))
        if not (0 <= start <= end <= a.size):
            die(f"fill range {spec} outside the image")
        img[start:end] = bytes([byte]) * (end - start)
    images = []
    for spec in a.image:
        name, off, path = spec.split(":", 2)
        off = intval(off)
        with open(path, "rb") as f:
            data = f.read()
        images.append([name, off, len(data), data])
    images.sort(key=lambda x: x[1])
    footer_len = 28 if a.footer else 0
    for i, (name, off, length, data) in enumerate(images):
        end = off + length + (footer_len if i == len(images) - 1 else 0)
        limit = images[i + 1][1] if i + 1 < len(images) else a.index_at
        if end > limit:
            die(f"{name} at {off:#x} is {length:#x} bytes and runs into {limit:#x}")
        img[off:off + length] = data
    if a.footer:
        major, minor = (intval(x) for x in a.footer.split("."))
        last = images[-1]
        foot_at = last[1] + last[2]
        # The last image's indexed length already includes the footer's first 10 bytes
        # ("ATENs_FW" + major + minor), so its CRC covers them; compute that first.
        img[foot_at:foot_at + 10] = b"ATENs_FW" + bytes([major, minor])
        last[2] += 10
    records = []
    for name, off, length, _ in images:
        crc = zlib.crc32(img[off:off + length]) & 0xFFFFFFFF
        records.append((name, off, length, crc))
    if a.footer:
        # Images 2 and 4 (record order) are root_fs and web_fs for the footer.
        if len(records) < 4:
            die("the ATENs_FW footer needs at least 4 images")
        r2, r4 = records[1], records[3]
        rest = hex4(r2[3]) + hex4(r2[2]) + b"\x71" + hex4(r4[3]) + hex4(r4[2]) + b"\x17"
        img[foot_at + 10:foot_at + 28] = rest
    index = b"".join(b"[img]: %x %x %x %s" % (off, length, crc, name.encode())
                     for name, off, length, crc in records) + b"[end]"
    if a.index_at + len(index) > a.size:
        die("index does not fit")
    img[a.index_at:a.index_at + len(index)] = index
    with open(a.output, "wb") as f:
        f.write(img)
    for n, (name, off, length, crc) in enumerate(records, 1):
        print(f"image {n}: {name:20s} base {off:#09x} length {length:#09x} crc32 {crc:08x}")
    if a.footer:
        print(f"footer: ATENs_FW at {foot_at:#x}: {bytes(img[foot_at:foot_at + 28])!r}")
    print(f"index at {a.index_at:#x}: {index.decode()}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("uboot")
    s.add_argument("--endian", choices=["le", "be"], required=True)
    s.add_argument("--size", type=intval, required=True)
    s.add_argument("--table-at", type=intval, required=True)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("-o", "--output", required=True)
    s = sub.add_parser("kernel")
    s.add_argument("--size", type=intval, required=True)
    s.add_argument("--random-percent", type=int, default=10)
    s.add_argument("--seed", type=int, default=2)
    s.add_argument("-o", "--output", required=True)
    s = sub.add_parser("classfile")
    s.add_argument("--name", required=True, help="internal name, e.g. tw/com/aten/ikvm/KVMMain")
    s.add_argument("-o", "--output", required=True)
    s = sub.add_parser("randtree")
    s.add_argument("--dir", required=True)
    s.add_argument("--dirs", default="data")
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--total", type=intval, required=True)
    s.add_argument("--prefix", default="blob")
    s.add_argument("--suffix", default=".bin")
    s.add_argument("--seed", type=int, default=3)
    s = sub.add_parser("assemble")
    s.add_argument("--size", type=intval, required=True)
    s.add_argument("--fill", action="append", default=[], help="START:END:BYTE")
    s.add_argument("--image", action="append", required=True, help="NAME:OFFSET:FILE (index order = offset order)")
    s.add_argument("--index-at", type=intval, required=True)
    s.add_argument("--footer", help="MAJOR.MINOR for an ATENs_FW v3 footer after the last image")
    s.add_argument("-o", "--output", required=True)
    a = p.parse_args()
    {"uboot": cmd_uboot, "kernel": cmd_kernel, "classfile": cmd_classfile,
     "randtree": cmd_randtree, "assemble": cmd_assemble}[a.cmd](a)


if __name__ == "__main__":
    main()
