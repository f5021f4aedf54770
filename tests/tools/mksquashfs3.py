#!/usr/bin/env python3
"""Writes a squashfs 3.1 image of a directory tree, little- or big-endian, zlib or one of the vendor LZMA layouts.

Our own test generator (no Debian tool writes squashfs 3.x any more): it exists so that the 3.x reader can be tested
on trees we choose. Real-tool evidence comes from the corpus images (binwalk, FACT) and from Debian's unsquashfs, which
reads 3.x zlib images in both byte orders and is used to check what this script writes.

Layout from squashfs-tools squashfs_compat.h (struct squashfs_super_block_3, *_inode_header_3, squashfs_dir_header_3,
squashfs_dir_entry_3, squashfs_fragment_entry_3; the SQUASHFS_SWAP_* macros give each field's bit position and width)
and the table order of mksquashfs 3.x: superblock, data and fragment blocks, inode table, directory table, fragment
entries and their index, uid table, guid table.

  mksquashfs3.py SOURCE_DIR OUT [--be] [--comp zlib|lzma|lzma-nosize|lzma-raw|lzma-ddwrt|none] [--block-size N] [--time T]

Regular files, directories and symlinks are stored (anything else is skipped); file tails smaller than a block go to
fragment blocks, as mksquashfs does by default.
"""
import argparse
import lzma
import os
import stat
import struct
import sys
import zlib

META = 8192
INVALID_FRAG = 0xFFFFFFFF
DIR_T, FILE_T, SYMLINK_T = 1, 2, 3


def pack(fields, nbytes, be):
    """Packs (bit position, width, value) fields the way a packed C struct lays out bitfields on an LE or BE host."""
    out = bytearray(nbytes)
    for pos, width, value in fields:
        for i in range(width):
            k = pos + i
            if be:
                bit = (value >> (width - 1 - i)) & 1
                out[k // 8] |= bit << (7 - k % 8)
            else:
                bit = (value >> i) & 1
                out[k // 8] |= bit << (k % 8)
    return bytes(out)


class Compressor:
    def __init__(self, kind, block_size):
        self.kind = kind
        self.dict = max(block_size, META)

    def filters(self):
        return [{"id": lzma.FILTER_LZMA1, "lc": 3, "lp": 0, "pb": 2, "dict_size": self.dict}]

    def __call__(self, data):
        if self.kind == "zlib":
            return zlib.compress(data, 9)
        if self.kind == "none":  # not smaller: every block is stored uncompressed (for tests that patch metadata)
            return data
        if self.kind == "lzma":  # sqlzma: the 13-byte header with the real uncompressed size
            c = lzma.compress(data, format=lzma.FORMAT_ALONE, filters=self.filters())
            return c[:5] + struct.pack("<Q", len(data)) + c[13:]
        raw = lzma.compress(data, format=lzma.FORMAT_RAW, filters=self.filters())
        if self.kind == "lzma-nosize":  # properties byte and dictionary size, no size
            return bytes([0x5D]) + struct.pack("<I", self.dict) + raw
        if self.kind == "lzma-raw":  # headerless, lc=3 lp=0 pb=2
            return raw
        if self.kind == "lzma-ddwrt":  # DD-WRT: pb, lc, lp, fast bytes, then the raw stream (here lc=1 lp=0 pb=2)
            f = [{"id": lzma.FILTER_LZMA1, "lc": 1, "lp": 0, "pb": 2, "dict_size": self.dict}]
            return bytes([2, 1, 0, 128]) + lzma.compress(data, format=lzma.FORMAT_RAW, filters=f)
        raise ValueError(self.kind)


class MetaStream:
    """An inode or directory table: bytes appended uncompressed, cut into 8 KiB metadata blocks as they fill."""

    def __init__(self, comp, be):
        self.comp, self.be = comp, be
        self.raw = bytearray()
        self.blocks = []  # compressed blocks with their 2-byte headers
        self.starts = [0]  # start of block k in the table

    def _seal(self, chunk):
        c = self.comp(bytes(chunk))
        if len(c) < len(chunk):
            head = struct.pack(">H" if self.be else "<H", len(c))
        else:
            c = bytes(chunk)
            head = struct.pack(">H" if self.be else "<H", len(c) | 0x8000)
        self.blocks.append(head + c)
        self.starts.append(self.starts[-1] + len(head) + len(c))

    def pos(self):
        """(block start relative to the table, offset in the block) of the next byte."""
        n = len(self.raw)
        while len(self.blocks) < n // META:
            k = len(self.blocks)
            self._seal(self.raw[k * META:(k + 1) * META])
        return self.starts[n // META], n % META

    def add(self, data):
        self.raw += data

    def finish(self):
        n = len(self.raw)
        full = (n + META - 1) // META
        while len(self.blocks) < full:
            k = len(self.blocks)
            self._seal(self.raw[k * META:(k + 1) * META])
        return b"".join(self.blocks)


class Builder:
    def __init__(self, be, comp, block_size, mtime):
        self.be, self.block_size, self.mtime = be, block_size, mtime
        self.block_log = block_size.bit_length() - 1
        self.comp = Compressor(comp, block_size)
        self.data = bytearray(b"\0" * 119)  # superblock written last
        self.inodes = MetaStream(self.comp, be)
        self.dirs = MetaStream(self.comp, be)
        self.frag_buf = bytearray()
        self.frag_entries = []  # (start, size field)
        self.next_inode = 1

    def base(self, itype, mode, number):
        return [(0, 4, itype), (4, 12, mode & 0o7777), (16, 8, 0), (24, 8, 0), (32, 32, self.mtime), (64, 32, number)]

    def block(self, raw):
        c = self.comp(raw)
        if len(c) < len(raw):
            return c, len(c)
        return raw, len(raw) | (1 << 24)

    def flush_fragment(self):
        if not self.frag_buf:
            return
        stored, field = self.block(bytes(self.frag_buf))
        self.frag_entries.append((len(self.data), field))
        self.data += stored
        self.frag_buf = bytearray()

    def add_file(self, path, st):
        with open(path, "rb") as f:
            content = f.read()
        size, bs = len(content), self.block_size
        nfull = size // bs
        tail = content[nfull * bs:]
        start = len(self.data)
        sizes = []
        for i in range(nfull):
            stored, field = self.block(content[i * bs:(i + 1) * bs])
            self.data += stored
            sizes.append(field)
        fragment, frag_off = INVALID_FRAG, 0
        if tail:
            if len(self.frag_buf) + len(tail) > bs:
                self.flush_fragment()
            fragment, frag_off = len(self.frag_entries), len(self.frag_buf)
            self.frag_buf += tail
        number = self.next_inode
        self.next_inode += 1
        ref = self.inodes.pos()
        head = pack(self.base(FILE_T, st.st_mode, number) +
                    [(96, 64, start), (160, 32, fragment), (192, 32, frag_off), (224, 32, size)], 32, self.be)
        self.inodes.add(head + b"".join(struct.pack(">I" if self.be else "<I", s) for s in sizes))
        return FILE_T, number, ref

    def add_symlink(self, path, st):
        target = os.fsencode(os.readlink(path))
        number = self.next_inode
        self.next_inode += 1
        ref = self.inodes.pos()
        self.inodes.add(pack(self.base(SYMLINK_T, st.st_mode, number) + [(96, 32, 1), (128, 16, len(target))], 18,
                             self.be) + target)
        return SYMLINK_T, number, ref

    def add_dir(self, path, st, parent_number):
        names = sorted(os.listdir(path), key=os.fsencode)
        # Children first (their inodes must exist before the listing that names them). The directory's own number is
        # taken after its children's, so the root is the last inode, as mksquashfs numbers them.
        children = []
        for name in names:
            p = os.path.join(path, name)
            cst = os.lstat(p)
            if stat.S_ISDIR(cst.st_mode):
                children.append((name, self.add_dir(p, cst, None)))
            elif stat.S_ISREG(cst.st_mode):
                children.append((name, self.add_file(p, cst)))
            elif stat.S_ISLNK(cst.st_mode):
                children.append((name, self.add_symlink(p, cst)))
        number = self.next_inode
        self.next_inode += 1
        # Listing: one header per run of entries whose inodes lie in the same inode metadata block (at most 256).
        listing_ref = self.dirs.pos()
        listing = bytearray()
        i = 0
        while i < len(children):
            block = children[i][1][2][0]
            run = [children[i]]
            while i + len(run) < len(children) and children[i + len(run)][1][2][0] == block and len(run) < 256:
                run.append(children[i + len(run)])
            base_number = run[0][1][1]
            listing += pack([(0, 8, len(run) - 1), (8, 32, block), (40, 32, base_number)], 9, self.be)
            for name, (itype, num, (blk, off)) in run:
                raw = os.fsencode(name)
                delta = (num - base_number) & 0xFFFF
                listing += pack([(0, 13, off), (13, 3, itype), (16, 8, len(raw) - 1), (24, 16, delta)], 5, self.be)
                listing += raw
            i += len(run)
        self.dirs.add(bytes(listing))
        ref = self.inodes.pos()
        # parent_inode is not needed to read the tree; the number of this directory stands in for the root.
        head = pack(self.base(DIR_T, st.st_mode, number) +
                    [(96, 32, 2 + sum(1 for c in children if c[1][0] == DIR_T)), (128, 19, len(listing) + 3),
                     (147, 13, listing_ref[1]), (160, 32, listing_ref[0]), (192, 32, parent_number or number)],
                    28, self.be)
        self.inodes.add(head)
        return DIR_T, number, ref

    def build(self, source):
        _, root_number, root_ref = self.add_dir(source, os.lstat(source), None)
        self.flush_fragment()
        e = ">" if self.be else "<"
        inode_table = len(self.data)
        self.data += self.inodes.finish()
        directory_table = len(self.data)
        self.data += self.dirs.finish()
        fragments = len(self.frag_entries)
        if fragments:
            entries = MetaStream(self.comp, self.be)
            index = []
            for k, (start, field) in enumerate(self.frag_entries):
                if k % (META // 16) == 0:
                    index.append(len(self.data) + entries.pos()[0])
                entries.add(pack([(0, 64, start), (64, 32, field), (96, 32, 0)], 16, self.be))
            self.data += entries.finish()
            fragment_table = len(self.data)
            self.data += b"".join(struct.pack(e + "Q", p) for p in index)
        uid_table = len(self.data)
        self.data += struct.pack(e + "I", 1000)
        guid_table = len(self.data)
        self.data += struct.pack(e + "I", 100)
        if not fragments:
            fragment_table = uid_table
        bytes_used = len(self.data)
        root = (root_ref[0] << 16) | root_ref[1]
        sb = bytearray(119)
        sb[0:4] = b"sqsh" if self.be else b"hsqs"
        struct.pack_into(e + "IIIIII", sb, 4, self.next_inode - 1, bytes_used & 0xFFFFFFFF, uid_table, guid_table,
                         inode_table, directory_table)
        struct.pack_into(e + "HHHH", sb, 28, 3, 1, self.block_size & 0xFFFF, self.block_log)
        sb[36], sb[37], sb[38] = 0x40, 1, 1  # flags: duplicates; one uid, one guid
        struct.pack_into(e + "I", sb, 39, self.mtime)
        struct.pack_into(e + "Q", sb, 43, root)
        struct.pack_into(e + "III", sb, 51, self.block_size, fragments, fragment_table & 0xFFFFFFFF)
        struct.pack_into(e + "qqqqqqq", sb, 63, bytes_used, uid_table, guid_table, inode_table, directory_table,
                         fragment_table, -1)
        self.data[0:119] = sb
        pad = (-len(self.data)) % 4096
        return bytes(self.data) + b"\0" * pad


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source")
    ap.add_argument("out")
    ap.add_argument("--be", action="store_true", help="big-endian image")
    ap.add_argument("--comp", default="zlib", choices=["zlib", "lzma", "lzma-nosize", "lzma-raw", "lzma-ddwrt", "none"])
    ap.add_argument("--block-size", type=int, default=65536)
    ap.add_argument("--time", type=int, default=1600000000)
    a = ap.parse_args()
    if a.block_size < 4096 or a.block_size > (1 << 20) or a.block_size & (a.block_size - 1):
        sys.exit("block size must be a power of two in [4096, 1 MiB]")
    image = Builder(a.be, a.comp, a.block_size, a.time).build(a.source)
    with open(a.out, "wb") as f:
        f.write(image)


if __name__ == "__main__":
    main()
