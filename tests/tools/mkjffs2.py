#!/usr/bin/env python3
"""Writes a JFFS2 image node by node, as the kernel would after a history of operations, for the tests of the JFFS2
reader: deleted files, overwritten files, NOR-style obsoleted nodes and OpenWrt LZMA nodes, none of which Debian's
mkfs.jffs2 can make.

    mkjffs2.py OUT [-b] [--compr none|zlib|rtime|lzma] [--page N] [--erase N] OP...

OPs, applied in order:
    mkdir:/etc/ssl                     a directory (the parents must exist)
    write:/etc/ssl/a.crt=@FILE         a new file with FILE's bytes (=TEXT for literal text)
    overwrite:/etc/ssl/a.crt=@FILE     the same inode rewritten: a truncation node, then the new data
    symlink:/bin/link=TARGET
    unlink:/etc/ssl/a.crt              a deletion dirent (ino 0), as on NAND
    unlink-obsolete:/etc/ssl/a.crt     no deletion dirent: the file's dirent and inode nodes are marked obsolete in
                                       place (JFFS2_NODE_ACCURATE cleared), as on NOR flash

Structures: Linux include/uapi/linux/jffs2.h (jffs2_raw_inode, jffs2_raw_dirent); CRCs are the kernel's
crc32(0, p, len) = ~zlib.crc32(p, 0xFFFFFFFF); the header CRC is computed with the ACCURATE bit set (fs/jffs2/scan.c).
LZMA: raw LZMA1, lc=0 lp=0 pb=0, 8 KiB dictionary (OpenWrt's fs/jffs2/compr_lzma.c), compressor id 8.
"""
import argparse
import lzma
import struct
import sys
import zlib

MAGIC = 0x1985
DIRENT, INODE = 0xE001, 0xE002
COMPR = {"none": 0, "zero": 1, "rtime": 2, "zlib": 6, "lzo": 7, "lzma": 8}
DT_DIR, DT_REG, DT_LNK = 4, 8, 10


def kcrc(data):
    return ~zlib.crc32(data, 0xFFFFFFFF) & 0xFFFFFFFF


def rtime_compress(data):
    # fs/jffs2/compr_rtime.c jffs2_rtime_compress, without the output limit.
    positions = [0] * 256
    out = bytearray()
    pos = 0
    while pos < len(data):
        value = data[pos]
        out.append(value)
        pos += 1
        backpos = positions[value]
        positions[value] = pos
        run = 0
        while backpos < pos and pos < len(data) and data[pos] == data[backpos] and run < 255:
            pos += 1
            backpos += 1
            run += 1
        out.append(run)
    return bytes(out)


class Image:
    def __init__(self, be, compr, page):
        self.e = ">" if be else "<"
        self.compr = compr
        self.page = page
        self.out = bytearray()
        self.next_ino = 2
        self.version = {1: 0}
        self.paths = {"/": 1}
        self.dirents = {}  # path -> [offsets of its dirent nodes]
        self.inodes = {}  # ino -> [offsets of its inode nodes]

    def header(self, ntype, totlen):
        head = struct.pack(self.e + "HHI", MAGIC, ntype, totlen)
        return head + struct.pack(self.e + "I", kcrc(head))

    def add(self, node):
        at = len(self.out)
        self.out += node
        while len(self.out) % 4:
            self.out.append(0xFF)
        return at

    def bump(self, ino):
        self.version[ino] = self.version.get(ino, 0) + 1
        return self.version[ino]

    def compress(self, chunk):
        if self.compr == "none" or not chunk:
            return 0, chunk
        if self.compr == "zlib":
            return COMPR["zlib"], zlib.compress(chunk, 9)
        if self.compr == "rtime":
            return COMPR["rtime"], rtime_compress(chunk)
        if self.compr == "lzma":
            f = [{"id": lzma.FILTER_LZMA1, "lc": 0, "lp": 0, "pb": 0, "dict_size": 0x2000}]
            return COMPR["lzma"], lzma.compress(chunk, format=lzma.FORMAT_RAW, filters=f)
        raise SystemExit("unknown compressor " + self.compr)

    def inode(self, ino, mode, isize, offset, chunk, raw=False):
        compr, data = (0, chunk) if raw else self.compress(chunk)
        totlen = 68 + len(data)
        body = struct.pack(self.e + "IIIHHIIIIIIIBBH", ino, self.bump(ino), mode, 0, 0, isize, 1700000000,
                           1700000000, 1700000000, offset, len(data), len(chunk), compr, 0, 0)
        head = self.header(INODE, totlen) + body
        node = head + struct.pack(self.e + "I", kcrc(data)) + struct.pack(self.e + "I", kcrc(head))
        self.inodes.setdefault(ino, []).append(self.add(node + data))

    def dirent(self, path, ino, dtype):
        parent, name = path.rsplit("/", 1)
        pino = self.paths[parent or "/"]
        name = name.encode()
        head = self.header(DIRENT, 40 + len(name)) + struct.pack(self.e + "IIIIBBH", pino, self.bump(pino), ino,
                                                                  1700000000, len(name), dtype, 0)
        node = head + struct.pack(self.e + "I", kcrc(head)) + struct.pack(self.e + "I", kcrc(name)) + name
        self.dirents.setdefault(path, []).append(self.add(node))

    def data(self, ino, mode, content):
        if not content:
            self.inode(ino, mode, 0, 0, b"")
        for off in range(0, len(content), self.page):
            self.inode(ino, mode, len(content), off, content[off:off + self.page])

    def new_ino(self, path):
        ino = self.next_ino
        self.next_ino += 1
        self.paths[path] = ino
        return ino

    def obsolete(self, at):
        # Clear JFFS2_NODE_ACCURATE (0x2000) in the node type: the other bits stay, so every CRC still checks.
        i = at + (2 if self.e == ">" else 3)
        self.out[i] &= ~0x20

    def op(self, text):
        verb, _, arg = text.partition(":")
        path, _, value = arg.partition("=")
        content = open(value[1:], "rb").read() if value.startswith("@") else value.encode()
        if verb == "mkdir":
            ino = self.new_ino(path)
            self.inode(ino, 0o40755, 0, 0, b"")
            self.dirent(path, ino, DT_DIR)
        elif verb == "write":
            ino = self.new_ino(path)
            self.data(ino, 0o100644, content)
            self.dirent(path, ino, DT_REG)
        elif verb == "overwrite":
            ino = self.paths[path]
            self.inode(ino, 0o100644, 0, 0, b"", raw=True)  # truncation to 0 (jffs2_do_setattr)
            self.data(ino, 0o100644, content)
        elif verb == "symlink":
            ino = self.new_ino(path)
            self.inode(ino, 0o120777, len(content), 0, content, raw=True)
            self.dirent(path, ino, DT_LNK)
        elif verb == "unlink":
            self.dirent(path, 0, DT_REG)
            del self.paths[path]
        elif verb == "unlink-obsolete":
            ino = self.paths.pop(path)
            for at in self.dirents[path] + self.inodes.get(ino, []):
                self.obsolete(at)
        else:
            raise SystemExit("unknown operation " + text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("ops", nargs="+")
    ap.add_argument("-b", "--big-endian", action="store_true")
    ap.add_argument("--compr", default="zlib")
    ap.add_argument("--page", type=int, default=4096)
    ap.add_argument("--erase", type=int, default=65536)
    a = ap.parse_args()
    img = Image(a.big_endian, a.compr, a.page)
    img.inode(1, 0o40755, 0, 0, b"")  # the root directory
    for op in a.ops:
        img.op(op)
    while len(img.out) % a.erase:
        img.out.append(0xFF)
    with open(a.out, "wb") as f:
        f.write(img.out)


if __name__ == "__main__":
    sys.exit(main())
