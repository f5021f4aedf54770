#!/usr/bin/env python3
"""A hostile corpus of our own (issue 17 item 4), made at test time, and the checks each case must pass.

usage: make-hostile.py FWCERT FWEXTRACT FWWALK SOURCE_DIR GROUP [--keep DIR]

GROUP is one of the groups below (ctest runs each as hostile.GROUP, label `hostile`), or `all`. Every case is an
input file built here from samples/ and the real tools (python's tarfile/zipfile/gzip, libarchive's writers through
ctypes, mkfs.cramfs, the openssl command); nothing is copied from ../shared. For each case:

  - `fwcert scan --format json` (and `fwextract -o` or `--list` where the case is about extraction) runs in a child
    with RLIMIT_AS = 512 MiB (not under a sanitizer build, which cannot start with it; tests/cli/scan_resources.py
    does the same) and its peak RSS (wait4) must be at most 512 MiB;
  - the exit status is a normal one (0, 1 or 2: never a signal, never 3);
  - the expected diagnostic appears (a regular expression over the JSON problems, stderr or fwwalk's diagnostics);
  - the marker certificate, placed after the hostile part, is still found: the rest of the image is reported;
  - extraction writes nothing outside its output folder.

Time is bounded by a generous per-process timeout here (and ctest's TIMEOUT), never asserted. The figures (cases,
peak RSS, seconds per case) are printed.
"""
import ctypes
import ctypes.util
import gzip
import io
import json
import os
import random
import re
import resource
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
import zlib

MiB = 1 << 20
RSS_LIMIT_KIB = 512 * 1024
AS_LIMIT = 512 * MiB
TIMEOUT = 600  # seconds per process: generous; a hang is caught, a slow machine is not failed

FWCERT = FWEXTRACT = FWWALK = SRC = ""
SANITIZED = False
FIGURES = []  # (case, tool, seconds, peak KiB)
FAILURES = []


def fail(case, msg):
    FAILURES.append("%s: %s" % (case, msg))
    print("FAIL: %s: %s" % (case, msg), file=sys.stderr)


# ---------------------------------------------------------------------------------------------------------------
# Running the tools


def run(case, argv, cwd=None):
    """Runs argv under the address-space limit; returns (rc, stdout bytes, stderr bytes). Records time and peak RSS."""
    def limit():
        if not SANITIZED:
            resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))

    t0 = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen(argv, stdout=out, stderr=err, preexec_fn=limit, cwd=cwd)
        deadline = t0 + TIMEOUT
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid == p.pid:
                break
            if time.monotonic() > deadline:
                p.kill()
                pid, status, ru = os.wait4(p.pid, 0)
                fail(case, "%s did not finish within %d s" % (os.path.basename(argv[0]), TIMEOUT))
                break
            time.sleep(0.01)
        p.returncode = os.waitstatus_to_exitcode(status)
        secs = time.monotonic() - t0
        out.seek(0)
        err.seek(0)
        o, e = out.read(), err.read()
    tool = os.path.basename(argv[0]) + (" " + argv[1] if argv[1:2] == ["scan"] else "")
    FIGURES.append((case, tool, secs, ru.ru_maxrss))
    # Under ASan the peak is ASan's (its quarantine keeps freed buffers, redzones pad every block): not our memory, so
    # the limit is asserted in the normal build only (the CI runs both), as the banner says.
    if not SANITIZED and ru.ru_maxrss > RSS_LIMIT_KIB:
        fail(case, "%s peak RSS %d KiB > 512 MiB" % (tool, ru.ru_maxrss))
    if p.returncode < 0 or p.returncode not in (0, 1, 2):
        fail(case, "%s exit %d: %s" % (tool, p.returncode, e[-2000:].decode("utf-8", "replace")))
    return p.returncode, o, e


def scan(case, path):
    rc, o, e = run(case, [FWCERT, "scan", "--now", "2026-01-01", "--format", "json", path])
    try:
        doc = json.loads(o.decode("utf-8"))
    except ValueError:
        fail(case, "fwcert scan --format json: not JSON (exit %d): %r" % (rc, e[-500:]))
        return None, e.decode("utf-8", "replace")
    return doc["inputs"][0] if doc.get("inputs") else None, e.decode("utf-8", "replace")


def walk_diags(case, path):
    rc, o, e = run(case, [FWWALK, "--json", "--all", path])
    try:
        hits = json.loads(o.decode("utf-8"))
    except ValueError:
        fail(case, "fwwalk --json: not JSON")
        return ""
    return "\n".join(d["message"] for h in hits for d in h.get("diagnostics", []))


def check(case, path, marker_sha, diag=None, walk=False, extract=None, must_find=()):
    """The common checks: the marker is found by fwcert scan; diag (a regex) appears in the scan's problems or its
    stderr (or fwwalk's diagnostics with walk=True, or fwextract's stderr with extract='list'/'out')."""
    inp, err = scan(case, path)
    if inp is None:
        fail(case, "no input in the scan report")
        return
    shas = {c["sha256"] for c in inp["certificates"]}
    if marker_sha not in shas:
        fail(case, "the marker certificate after the hostile part is not reported (%d certificates)" % len(shas))
    for sha in must_find:
        if sha not in shas:
            fail(case, "certificate %s... not reported" % sha[:16])
    texts = [p["message"] for p in inp.get("problems", [])] + [err]
    if walk:
        texts.append(walk_diags(case, path))
    if extract:
        w = tempfile.mkdtemp(prefix="hx-", dir=os.path.dirname(path))
        try:
            out = os.path.join(w, "out")
            argv = [FWEXTRACT, path, "--list"] if extract == "list" else [FWEXTRACT, path, "-o", out]
            rc, o, e = run(case, argv)
            texts.append(e.decode("utf-8", "replace"))
            texts.append(o.decode("utf-8", "replace"))
            check_contained(case, w, out)
        finally:
            shutil.rmtree(w, ignore_errors=True)
    if diag and not any(re.search(diag, t) for t in texts):
        fail(case, "no diagnostic matching /%s/ in: %s" % (diag, " | ".join(t[:300] for t in texts if t)[:1500]))


def check_contained(case, w, out):
    """Extraction into w/out wrote nothing else into w, and every symlink under out resolves inside out."""
    for name in os.listdir(w):
        if name != "out":
            fail(case, "extraction wrote %r beside its output folder" % name)
    for root, dirs, files in os.walk(out):
        for n in dirs + files:
            p = os.path.join(root, n)
            if os.path.islink(p):
                real = os.path.realpath(p)
                if not real.startswith(os.path.realpath(out) + os.sep):
                    # Kept as the firmware has it (a root filesystem's /etc/x -> /var/etc/x); never written through.
                    print("note: %s: symlink kept with a target outside the output: %s -> %s" % (
                        case, os.path.relpath(p, out), os.readlink(p)))


# ---------------------------------------------------------------------------------------------------------------
# Building blocks


def make_marker(w):
    """A certificate made here (openssl), PEM and DER, and its SHA-256: the 'rest of the image'."""
    key, crt = os.path.join(w, "marker.key"), os.path.join(w, "marker.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", key, "-out", crt, "-subj", "/CN=hostile-marker", "-days", "3650"],
                   check=True, capture_output=True)
    der = subprocess.run(["openssl", "x509", "-in", crt, "-outform", "DER"], check=True, capture_output=True).stdout
    import hashlib
    return open(crt, "rb").read(), der, hashlib.sha256(der).hexdigest()


_la = None


def libarchive():
    global _la
    if _la is None:
        name = ctypes.util.find_library("archive") or "libarchive.so.13"
        la = ctypes.CDLL(name)
        vp, cp, i64 = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int64
        for fn, res, args in [
            ("archive_write_new", vp, []), ("archive_write_free", ctypes.c_int, [vp]),
            ("archive_write_open_filename", ctypes.c_int, [vp, cp]), ("archive_write_close", ctypes.c_int, [vp]),
            ("archive_write_header", ctypes.c_int, [vp, vp]),
            ("archive_write_data", ctypes.c_ssize_t, [vp, ctypes.c_char_p, ctypes.c_size_t]),
            ("archive_error_string", cp, [vp]),
            ("archive_entry_new", vp, []), ("archive_entry_free", None, [vp]),
            ("archive_entry_copy_pathname", None, [vp, cp]), ("archive_entry_set_size", None, [vp, i64]),
            ("archive_entry_set_filetype", None, [vp, ctypes.c_uint]), ("archive_entry_set_perm", None, [vp, ctypes.c_uint]),
            ("archive_entry_copy_symlink", None, [vp, cp]), ("archive_entry_copy_hardlink", None, [vp, cp]),
            ("archive_entry_set_mtime", None, [vp, ctypes.c_long, ctypes.c_long]),
            ("archive_read_new", vp, []), ("archive_read_free", ctypes.c_int, [vp]),
            ("archive_read_support_format_all", ctypes.c_int, [vp]), ("archive_read_support_filter_all", ctypes.c_int, [vp]),
            ("archive_read_open_filename", ctypes.c_int, [vp, cp, ctypes.c_size_t]),
            ("archive_read_next_header", ctypes.c_int, [vp, ctypes.POINTER(vp)]),
            ("archive_entry_pathname", cp, [vp]),
        ]:
            f = getattr(la, fn)
            f.restype = res
            f.argtypes = args
        for fmt in ["7zip", "cpio_newc", "iso9660", "zip", "pax", "ar_svr4"]:
            f = getattr(la, "archive_write_set_format_" + fmt)
            f.restype, f.argtypes = ctypes.c_int, [vp]
        _la = la
    return _la


def la_write(path, fmt, members):
    """members: (name bytes, kind 'file'|'symlink'|'hardlink'|'dir', data or link target bytes)."""
    la = libarchive()
    a = la.archive_write_new()
    getattr(la, "archive_write_set_format_" + fmt)(a)
    if la.archive_write_open_filename(a, path.encode()) != 0:
        raise RuntimeError(la.archive_error_string(a))
    for name, kind, data in members:
        e = la.archive_entry_new()
        la.archive_entry_copy_pathname(e, name)
        la.archive_entry_set_mtime(e, 1600000000, 0)
        if kind == "file":
            la.archive_entry_set_filetype(e, 0o100000)
            la.archive_entry_set_perm(e, 0o644)
            la.archive_entry_set_size(e, len(data))
        elif kind == "dir":
            la.archive_entry_set_filetype(e, 0o040000)
            la.archive_entry_set_perm(e, 0o755)
            la.archive_entry_set_size(e, 0)
        elif kind == "symlink":
            la.archive_entry_set_filetype(e, 0o120000)
            la.archive_entry_set_perm(e, 0o777)
            la.archive_entry_copy_symlink(e, data)
            la.archive_entry_set_size(e, 0)
        else:
            la.archive_entry_set_filetype(e, 0o100000)
            la.archive_entry_set_perm(e, 0o644)
            la.archive_entry_copy_hardlink(e, data)
            la.archive_entry_set_size(e, 0)
        la.archive_write_header(a, e)  # a writer that refuses an entry (warning or failure) just leaves it out
        if kind == "file" and data:
            la.archive_write_data(a, data, len(data))
        la.archive_entry_free(e)
    la.archive_write_close(a)
    la.archive_write_free(a)


def la_names(path):
    la = libarchive()
    a = la.archive_read_new()
    la.archive_read_support_format_all(a)
    la.archive_read_support_filter_all(a)
    names = []
    if la.archive_read_open_filename(a, path.encode(), 10240) == 0:
        e = ctypes.c_void_p()
        while la.archive_read_next_header(a, ctypes.byref(e)) in (0, -20):  # ARCHIVE_OK, ARCHIVE_WARN
            names.append(la.archive_entry_pathname(e))
    la.archive_read_free(a)
    return names


def ar_archive(members):
    """A System V / GNU ar archive by hand (libarchive's ar writer keeps only base names): 'name/' headers, the '//'
    long-name table for names of 16 bytes or more."""
    longnames = b""
    idx = {}
    for name, _ in members:
        if len(name) + 1 > 16:
            idx[name] = len(longnames)
            longnames += name + b"/\n"
    out = b"!<arch>\n"

    def header(n, size):
        return n.ljust(16) + b"0".ljust(12) + b"0".ljust(6) + b"0".ljust(6) + b"100644".ljust(8) + \
            str(size).encode().ljust(10) + b"`\n"
    if longnames:
        out += header(b"//", len(longnames)) + longnames + (b"\n" if len(longnames) % 2 else b"")
    for name, data in members:
        n = b"/" + str(idx[name]).encode() if name in idx else name + b"/"
        out += header(n, len(data)) + data + (b"\n" if len(data) % 2 else b"")
    return out


def tar_bytes(members, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, encoding="utf-8", errors="surrogateescape") as t:
        for name, kind, data in members:
            ti = tarfile.TarInfo(name)
            ti.mtime = 1600000000
            if kind == "file":
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
            else:
                ti.type = {"symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE, "dir": tarfile.DIRTYPE}[kind]
                if kind == "dir":
                    ti.mode = 0o755
                else:
                    ti.linkname = data
                t.addfile(ti)
    return buf.getvalue()


def zip_bytes(members, method=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in members:
            z.writestr(zipfile.ZipInfo(name, (2020, 9, 13, 12, 26, 40)), data, compress_type=method)
    return buf.getvalue()


def cpio_newc(members):
    out = b""
    ino = 1
    for name, mode, data in members + [(b"TRAILER!!!", 0, b"")]:
        n = name + b"\0"
        h = b"070701" + b"".join(b"%08X" % v for v in [ino, mode, 0, 0, 1, 1600000000, len(data), 0, 0, 0, 0,
                                                        len(n), 0])
        out += h + n
        out += b"\0" * ((4 - len(out) % 4) % 4)
        out += data
        out += b"\0" * ((4 - len(out) % 4) % 4)
        ino += 1
    return out


def write(w, name, data):
    p = os.path.join(w, name)
    with open(p, "wb") as f:
        f.write(data)
    return p


# ---------------------------------------------------------------------------------------------------------------
# The groups


def g_truncation(w, marker_pem, marker_der, marker_sha):
    """samples/bmc-sample.bin cut at every structure boundary fwwalk --json reports (start, start + 1, middle,
    end - 1, end), the marker appended at the cut. Cuts inside a structure of known size must say 'truncated'."""
    sample = open(os.path.join(SRC, "samples", "bmc-sample.bin"), "rb").read()
    hits = json.loads(subprocess.run([FWWALK, "--json", os.path.join(SRC, "samples", "bmc-sample.bin")],
                                     check=True, capture_output=True).stdout)
    cuts = {}
    for h in hits:
        s, n = h["offset"], h["size"]
        # start + 1 leaves one byte of a magic: nothing to recognise, so no diagnostic is owed there.
        for c, inside in [(s, False), (s + 1, False), (s + n // 2, n > 2), (s + n - 1, n > 1), (s + n, False)]:
            if 0 < c < len(sample):
                cuts[c] = cuts.get(c, False) or (inside and h["type"] in ("cramfs", "uimage", "gzip"))
    for c in sorted(cuts):
        case = "truncation@0x%X" % c
        p = write(w, "cut.bin", sample[:c] + b"\n" + marker_pem)
        # A cut one byte before the end is followed by the marker: the structure is then whole but damaged (CRC).
        check(case, p, marker_sha, diag=r"(?i)truncat|not read to the end|past the end|beyond|ends before|outside|"
              r"crc|mismatch|damaged" if cuts[c] else None, walk=cuts[c])
    return len(cuts)


def g_bitflips(w, marker_pem, marker_der, marker_sha):
    """One bit flipped in each checksummed structure of the sample (the diagnostic names the CRC), then 60 seeded
    random flips anywhere; the marker appended after the image."""
    sample = open(os.path.join(SRC, "samples", "bmc-sample.bin"), "rb").read()
    hits = json.loads(subprocess.run([FWWALK, "--json", os.path.join(SRC, "samples", "bmc-sample.bin")],
                                     check=True, capture_output=True).stdout)
    rng = random.Random(17)
    n = 0
    for h in hits:
        if h["type"] not in ("cramfs", "uimage"):  # the [img] index has padding no CRC covers
            continue
        at = h["offset"] + 64 + rng.randrange(max(1, h["size"] - 64))
        b = bytearray(sample)
        b[at] ^= 1 << rng.randrange(8)
        p = write(w, "flip.bin", bytes(b) + b"\n" + marker_pem)
        check("bitflip %s@0x%X" % (h["type"], at), p, marker_sha, diag=r"(?i)crc|checksum", walk=True)
        n += 1
    for k in range(60):
        b = bytearray(sample)
        for _ in range(1 + k % 4):
            at = rng.randrange(len(b))
            b[at] ^= 1 << rng.randrange(8)
        p = write(w, "flip.bin", bytes(b) + b"\n" + marker_pem)
        check("bitflips seed 17 #%d" % k, p, marker_sha)
        n += 1
    return n


TRAVERSAL = [
    (b"../../escape1.txt", "file", b"ESCAPE1\n"),
    (b"/tmp/fwcert-hostile-abs.txt", "file", b"ABS\n"),
    (b"a/../../escape2.txt", "file", b"ESCAPE2\n"),
    (b"link", "symlink", b"VICTIM"),
    (b"link/through.txt", "file", b"THROUGH-LINK\n"),
    (b"link2", "symlink", b"../../"),
    (b"link2/escape3.txt", "file", b"ESCAPE3\n"),
]


def traversal_members(victim, marker_pem):
    m = [(n, k, d.replace(b"VICTIM", victim.encode())) for n, k, d in TRAVERSAL]
    return m + [(b"zz/marker.crt", "file", marker_pem)]


def g_traversal(w, marker_pem, marker_der, marker_sha):
    """Path traversal in every archive format libarchive reads and can be written here: '../', absolute names,
    a symlink then a write through it, a symlink to '../../' then a write through it. fwextract -o must write
    nothing outside its folder and say which names were unsafe; the marker member after them is found."""
    victim = os.path.join(w, "victim")
    os.mkdir(victim)
    n = 0
    members = traversal_members(victim, marker_pem)
    files = {}
    files["tar (python)"] = write(w, "t.tar", tar_bytes([(x.decode(), k, d if k == "file" else d.decode())
                                                         for x, k, d in members]))
    files["zip (python)"] = write(w, "t.zip", zip_bytes([(x.decode(), d) for x, k, d in members if k == "file"]))
    files["cpio newc"] = write(w, "t.cpio", cpio_newc([(x, 0o100644 if k == "file" else 0o120777, d)
                                                       for x, k, d in members if k in ("file", "symlink")]))
    files["ar"] = write(w, "t.a", ar_archive([(x, d) for x, k, d in members if k == "file"]))
    for fmt, ext in [("7zip", "7z"), ("pax", "pax.tar"), ("zip", "la.zip"), ("iso9660", "iso"),
                     ("cpio_newc", "la.cpio")]:
        p = os.path.join(w, "t." + ext)
        try:
            # libarchive's ISO 9660 writer stops at a file below a symlink: those entries are left out there.
            la_write(p, fmt, [m for m in members if fmt != "iso9660" or not m[0].startswith(b"link/")
                              and not m[0].startswith(b"link2/")])
        except (OSError, RuntimeError) as e:
            print("note: libarchive %s writer: %s" % (fmt, e))
            continue
        files["libarchive " + fmt] = p
    if os.listdir(victim):
        raise RuntimeError("the generators wrote into the victim folder")
    for what, p in sorted(files.items()):
        names = la_names(p) if not what.startswith("ar") else [x for x, k, d in members if k == "file"]
        hostile = [x for x in names if x and (b".." in x or x.startswith(b"/") or x.startswith(b"link"))]
        print("%s: %d members, hostile names kept by the writer: %s" % (what, len(names), hostile))
        if not hostile:
            print("note: %s: the writer kept no hostile name" % what)
        case = "traversal " + what
        # The walk has no ar or ISO 9660 validator: those archives are not unpacked (the marker is carved from the
        # stored bytes), so no name diagnostic is owed there.
        unpacked = hostile and not what.startswith("ar") and "iso9660" not in what
        check(case, p, marker_sha, diag=r"(?i)unsafe|outside|refus|escap|absolute|\.\." if unpacked else None,
              extract="out")
        if os.listdir(victim):
            fail(case, "wrote into the victim folder: %s" % os.listdir(victim))
        if os.path.exists("/tmp/fwcert-hostile-abs.txt"):
            fail(case, "wrote the absolute name /tmp/fwcert-hostile-abs.txt")
            os.unlink("/tmp/fwcert-hostile-abs.txt")
        n += 1
    return n


def g_symlinks(w, marker_pem, marker_der, marker_sha):
    """Symlink loops (a->b->a, self, '.', a chain of 100) and escapes (absolute, ../ chains) in tar and cpio, files
    written through them, and the marker after them."""
    members = [("a", "symlink", "b"), ("b", "symlink", "a"), ("a/x.txt", "file", b"x"),
               ("self", "symlink", "self"), ("self/y.txt", "file", b"y"), ("dot", "symlink", "."),
               ("dot/dot/dot/z.txt", "file", b"z"), ("up", "symlink", "../../../../../../../../etc"),
               ("up/passwd", "file", b"root::0:0::/:/bin/sh\n"), ("abs", "symlink", "/etc"),
               ("abs/shadow", "file", b"x")]
    members += [("c%d" % i, "symlink", "c%d" % (i + 1)) for i in range(100)] + [("c100", "symlink", "c0"),
                                                                                 ("c0/deep.txt", "file", b"d")]
    members += [("zz/marker.crt", "file", marker_pem)]
    p = write(w, "links.tar", tar_bytes(members))
    check("symlink loops tar", p, marker_sha, diag=r"(?i)unsafe|symlink|link|outside|loop", extract="out")
    p = write(w, "links.cpio", cpio_newc([(n.encode(), 0o100644 if k == "file" else 0o120777,
                                           d if k == "file" else d.encode()) for n, k, d in members]))
    check("symlink loops cpio", p, marker_sha, diag=r"(?i)unsafe|symlink|link|outside|loop", extract="out")
    return 2


def cramfs_with_loop(w, marker_pem):
    """mkfs.cramfs of /etc/ssl/marker.crt and /sub/inner/f, then /sub's inode points at the root directory's
    entries (so /sub contains /sub), CRC recomputed. Layout (linux/cramfs_fs.h, struct cramfs_inode): mode:16
    uid:16, size:24 gid:8, namelen:6 offset:26 (offset in 4-byte units), then the name; superblock 64 bytes with the
    root inode at 64; CRC-32 at 32 over the whole image with the field zeroed."""
    mkfs = shutil.which("mkfs.cramfs") or "/sbin/mkfs.cramfs"
    if not os.path.exists(mkfs):
        return None
    root = os.path.join(w, "cramroot")
    os.makedirs(os.path.join(root, "etc", "ssl"))
    os.makedirs(os.path.join(root, "sub", "inner"))
    write(os.path.join(root, "etc", "ssl"), "marker.crt", marker_pem)
    write(os.path.join(root, "sub", "inner"), "f", b"inner\n")
    img = os.path.join(w, "loop.cramfs")
    subprocess.run([mkfs, root, img], check=True, capture_output=True)
    b = bytearray(open(img, "rb").read())

    def inode(at):
        a, s, c = struct.unpack_from("<III", b, at)
        return a & 0xFFFF, s & 0xFFFFFF, (c & 0x3F) * 4, (c >> 6) * 4

    mode, size, _, root_off = inode(64)
    at, end, patched = root_off, root_off + size, False
    while at < end:
        m, s, namelen, off = inode(at)
        name = bytes(b[at + 12:at + 12 + namelen]).rstrip(b"\0")
        if name == b"sub":
            a, s2, c = struct.unpack_from("<III", b, at)
            c = (c & 0x3F) | ((root_off // 4) << 6)
            s2 = (s2 & 0xFF000000) | size
            struct.pack_into("<II", b, at + 4, s2, c)
            patched = True
        at += 12 + namelen
    if not patched:
        raise RuntimeError("no /sub in the cramfs root")
    struct.pack_into("<I", b, 32, 0)
    struct.pack_into("<I", b, 32, zlib.crc32(bytes(b)) & 0xFFFFFFFF)
    return bytes(b)


def g_cramfs_loop(w, marker_pem, marker_der, marker_sha):
    """A CramFS directory that contains itself; the marker inside it (/etc/ssl) and after it in the image."""
    fs = cramfs_with_loop(w, marker_pem)
    if fs is None:
        print("SKIP: mkfs.cramfs not found")
        return 0
    p = write(w, "loop.bin", b"\0" * 4096 + fs + b"\0" * 4096 + marker_pem)
    check("cramfs self-containing directory", p, marker_sha, diag=r"(?i)loop|again|cycle|itself|already|visited|depth",
          extract="list")
    return 1


def g_overlap(w, marker_pem, marker_der, marker_sha):
    """Overlapping extents: a zip whose 2000 central-directory entries all point at one local header of 8 MiB of
    zeros (16 GB if each is inflated; Fifield's overlapping-file bomb), the marker a member of its own."""
    zeros = zlib.compressobj(9, zlib.DEFLATED, -15)
    comp = zeros.compress(b"\0" * (8 * MiB)) + zeros.flush()
    crc = zlib.crc32(b"\0" * (8 * MiB)) & 0xFFFFFFFF
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(comp), 8 * MiB, 4, 0) + b"zero" + comp
    moff = len(local)
    mlocal = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, zlib.crc32(marker_pem) & 0xFFFFFFFF,
                         len(marker_pem), len(marker_pem), 10, 0) + b"marker.crt" + marker_pem
    cd = b""
    count = 2000
    for i in range(count):
        name = b"z%05d" % i
        cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(comp), 8 * MiB, len(name),
                          0, 0, 0, 0, 0, 0) + name
    cd += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0, zlib.crc32(marker_pem) & 0xFFFFFFFF,
                      len(marker_pem), len(marker_pem), 10, 0, 0, 0, 0, 0, moff) + b"marker.crt"
    body = local + mlocal
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count + 1, count + 1, len(cd), len(body), 0)
    p = write(w, "overlap.zip", body + cd + eocd)
    check("zip overlapping extents", p, marker_sha, diag=r"(?i)overlap|budget|cap|limit|exceed|more than|same|already",
          extract="out")
    return 1


def g_sizes(w, marker_pem, marker_der, marker_sha):
    """Size fields that claim gigabytes: a tar member of 8 GiB, a cpio member of 4 GiB, a zip local header and
    central directory saying 4 GiB, a CramFS superblock of 4 GiB, a uImage of 4 GiB (CRC of the header fixed), a
    gzip ISIZE of 4 GiB; the marker after each."""
    n = 0
    t = bytearray(tar_bytes([("big.bin", "file", b"B" * 512)]))
    t[124:136] = b"77777777777\0"
    chk = sum(t[:148]) + 8 * 32 + sum(t[156:512])
    t[148:156] = b"%06o\0 " % chk
    p = write(w, "bigtar.bin", bytes(t[:1024]) + marker_pem)
    check("tar size 8 GiB", p, marker_sha, diag=r"(?i)truncat|past the end|beyond|exceed|size|outside|end", walk=True)
    n += 1
    c = cpio_newc([(b"big.bin", 0o100644, b"B" * 64)])
    c = c[:54] + b"FFFFFFFF" + c[62:]
    p = write(w, "bigcpio.bin", c + marker_pem)
    check("cpio size 4 GiB", p, marker_sha, diag=r"(?i)truncat|past the end|beyond|exceed|size|outside|end", walk=True)
    n += 1
    z = bytearray(zip_bytes([("big.bin", b"B" * 1000)]))
    struct.pack_into("<I", z, 22, 0xFFFFFFFF)  # local header uncompressed size
    cdo = z.find(b"PK\x01\x02")
    struct.pack_into("<I", z, cdo + 24, 0xFFFFFFFF)
    p = write(w, "bigzip.bin", bytes(z) + marker_pem)
    check("zip size 4 GiB", p, marker_sha, diag=r"(?i)size|crc|truncat|exceed|mismatch|differ|damaged|error")
    n += 1
    sample = open(os.path.join(SRC, "samples", "bmc-sample.bin"), "rb").read()
    fs = bytearray(sample[0x80000:0x80000 + 12288])
    struct.pack_into("<I", fs, 4, 0xFFFFFFF0)
    p = write(w, "bigcramfs.bin", bytes(fs) + b"\0" * 4096 + marker_pem)
    check("cramfs size 4 GiB", p, marker_sha, diag=r"(?i)truncat|size|exceed|remain", walk=True)
    n += 1
    u = bytearray(sample[0x280000:0x280000 + 302574])
    struct.pack_into(">I", u, 4, 0)
    struct.pack_into(">I", u, 12, 0xFFFFFFC0)
    struct.pack_into(">I", u, 4, zlib.crc32(bytes(u[:64])) & 0xFFFFFFFF)
    p = write(w, "biguimage.bin", bytes(u) + b"\0" * 4096 + marker_pem)
    check("uimage size 4 GiB", p, marker_sha, diag=r"(?i)truncat|size|exceed|remain|beyond|past", walk=True)
    n += 1
    g = bytearray(gzip.compress(b"G" * 100000, mtime=0))
    struct.pack_into("<I", g, len(g) - 4, 0xFFFFFFFF)
    p = write(w, "biggzip.bin", bytes(g) + b"\0" * 512 + marker_pem)
    check("gzip ISIZE 4 GiB", p, marker_sha, diag=r"(?i)isize|size|length|trailer|mismatch", walk=True)
    n += 1
    return n


def g_bombs(w, marker_pem, marker_der, marker_sha):
    """Recursive gzip (a gzip of a gzip ... 30 deep around 64 MiB of zeros) and a nested zip bomb (fan-out 8, three
    levels, 8 MiB zero leaves: 4 GiB nominal), the marker after the bomb inside the same container."""
    data = b"\0" * (64 * MiB)
    blob = gzip.compress(data, compresslevel=9, mtime=0)
    for _ in range(29):
        blob = gzip.compress(blob, compresslevel=9, mtime=0)
    p = write(w, "recursive.tar", tar_bytes([("bomb.gz", "file", blob), ("zz/marker.crt", "file", marker_pem)]))
    check("recursive gzip x30", p, marker_sha, diag=r"(?i)depth|nest|deep|cap|limit|budget|ratio", extract="list")
    leaf = zip_bytes([("zero%d.bin" % i, b"\0" * (8 * MiB)) for i in range(8)])
    level = leaf
    for _ in range(2):
        level = zip_bytes([("z%d.zip" % i, level) for i in range(8)], method=zipfile.ZIP_STORED)
    p = write(w, "nested.zip", zip_bytes([("bomb.zip", level), ("zz/marker.crt", marker_pem)],
                                         method=zipfile.ZIP_STORED))
    check("nested zip bomb 8x8x8x8 MiB", p, marker_sha, diag=r"(?i)budget|cap|limit|ratio|exceed|total|bytes",
          extract="out")
    return 2


def g_depth(w, marker_pem, marker_der, marker_sha):
    """Nesting past the depth cap: a zip in a zip ... 40 deep with a certificate innermost, the marker beside the
    outermost member."""
    inner = zip_bytes([("deep.crt", marker_pem.replace(b"CERTIFICATE", b"CERTIFICATE"))])
    for i in range(40):
        inner = zip_bytes([("level%02d.zip" % i, inner)], method=zipfile.ZIP_STORED)
    p = write(w, "deep.zip", zip_bytes([("nest.zip", inner), ("zz/marker.crt", marker_pem)],
                                       method=zipfile.ZIP_STORED))
    check("zip nested 40 deep", p, marker_sha, diag=r"(?i)depth|nest|deep", extract="list")
    gz = marker_pem
    for _ in range(40):
        gz = gzip.compress(gz, mtime=0)
    p = write(w, "deep.tar", tar_bytes([("deep.gz", "file", gz), ("zz/marker.crt", "file", marker_pem)]))
    check("gzip nested 40 deep", p, marker_sha, diag=r"(?i)depth|nest|deep", extract="list")
    return 2


def g_pem100m(w, marker_pem, marker_der, marker_sha):
    """A PEM block of 100 MB (base64 of nothing useful between the armour lines), then the marker."""
    p = os.path.join(w, "pem100m.pem")
    line = b"QUFB" * 16 + b"\n"
    with open(p, "wb") as f:
        f.write(b"-----BEGIN CERTIFICATE-----\n")
        chunk = line * (MiB // len(line))
        for _ in range(100):
            f.write(chunk)
        f.write(b"-----END CERTIFICATE-----\n")
        f.write(marker_pem)
    check("PEM block of 100 MB", p, marker_sha)
    return 1


def g_extensions(w, marker_pem, marker_der, marker_sha):
    """A certificate with 10,000 extensions (private OIDs, built with the openssl command), inside an image with
    the marker after it: both are reported."""
    conf = os.path.join(w, "ext.cnf")
    with open(conf, "w") as f:
        f.write("[req]\ndistinguished_name = dn\nx509_extensions = many\nprompt = no\n[dn]\nCN = many-extensions\n"
                "[many]\n")
        for i in range(10000):
            f.write("1.3.6.1.4.1.55555.%d = ASN1:UTF8String:e%d\n" % (i, i))
    crt = os.path.join(w, "many.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", os.path.join(w, "many.key"), "-out", crt, "-config", conf, "-days", "30"],
                   check=True, capture_output=True)
    der = subprocess.run(["openssl", "x509", "-in", crt, "-outform", "DER"], check=True, capture_output=True).stdout
    count = subprocess.run(["openssl", "asn1parse", "-inform", "DER", "-in", "/dev/stdin"], input=der,
                           capture_output=True).stdout.count(b"1.3.6.1.4.1.55555.")
    if count != 10000:
        fail("10,000 extensions", "openssl made %d extensions" % count)
    import hashlib
    sha = hashlib.sha256(der).hexdigest()
    p = write(w, "many.bin", b"\0" * 1024 + der + b"\0" * 1024 + open(crt, "rb").read() + b"\n" + marker_pem)
    check("certificate with 10,000 extensions (%d bytes)" % len(der), p, marker_sha, must_find=[sha])
    return 1


def g_stunnel(w, marker_pem, marker_der, marker_sha):
    """stunnel.conf with include loops (a file including its own directory, two directories including each other),
    the marker the certificate the configuration names."""
    conf = b"include = /etc/stunnel\n[ikvm]\naccept = 5900\ncert = /etc/stunnel/marker.crt\ninclude = /etc/stunnel/conf.d\n"
    loop = b"include = /etc/stunnel\ninclude = /etc/stunnel/conf.d\n[again]\ncert = /etc/stunnel/marker.crt\n"
    p = write(w, "stunnel.tar", tar_bytes([
        ("etc/stunnel/stunnel.conf", "file", conf), ("etc/stunnel/conf.d/loop.conf", "file", loop),
        ("etc/stunnel/conf.d/self", "symlink", "."), ("etc/stunnel/conf.d/up", "symlink", ".."),
        ("etc/stunnel/marker.crt", "file", marker_pem)]))
    check("stunnel include loops", p, marker_sha)
    inp, _ = scan("stunnel include loops (roles)", p)
    roles = [r for c in (inp or {}).get("certificates", []) if c["sha256"] == marker_sha for r in c["roles"]]
    if not any("stunnel" in r for r in roles):
        fail("stunnel include loops", "the certificate the configuration names has no stunnel role: %s" % roles)
    return 1


GROUPS = {
    "truncation": g_truncation, "bitflips": g_bitflips, "traversal": g_traversal, "symlinks": g_symlinks,
    "cramfs_loop": g_cramfs_loop, "overlap": g_overlap, "sizes": g_sizes, "bombs": g_bombs, "depth": g_depth,
    "pem100m": g_pem100m, "extensions": g_extensions, "stunnel": g_stunnel,
}


def main():
    global FWCERT, FWEXTRACT, FWWALK, SRC, SANITIZED
    args = sys.argv[1:]
    keep = None
    if "--keep" in args:
        i = args.index("--keep")
        keep = args[i + 1]
        del args[i:i + 2]
    if len(args) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    FWCERT, FWEXTRACT, FWWALK, SRC, group = args
    SANITIZED = "libasan" in subprocess.run(["ldd", FWCERT], capture_output=True, text=True).stdout
    if SANITIZED:
        print("sanitizer build: RLIMIT_AS not set (ASan cannot start under it); peak RSS still measured, limit not "
              "asserted")
    if shutil.which("openssl") is None:
        print("SKIP: the openssl command is needed")
        return 77
    groups = list(GROUPS) if group == "all" else [group]
    w = keep or tempfile.mkdtemp(prefix="fwcert-hostile-")
    os.makedirs(w, exist_ok=True)
    try:
        marker_pem, marker_der, marker_sha = make_marker(w)
        for g in groups:
            t0 = time.monotonic()
            n = GROUPS[g](w, marker_pem, marker_der, marker_sha)
            print("group %s: %d cases in %.1f s" % (g, n, time.monotonic() - t0))
    finally:
        if not keep:
            shutil.rmtree(w, ignore_errors=True)
    if FIGURES:
        worst = max(FIGURES, key=lambda f: f[3])
        slow = max(FIGURES, key=lambda f: f[2])
        print("%d tool runs; peak RSS max %d KiB (%s, %s); slowest %.2f s (%s, %s); mean %.2f s" % (
            len(FIGURES), worst[3], worst[0], worst[1], slow[2], slow[0], slow[1],
            sum(f[2] for f in FIGURES) / len(FIGURES)))
        for case in dict.fromkeys(f[0] for f in FIGURES):
            runs = [f for f in FIGURES if f[0] == case]
            print("  %-50s %6.2f s  peak %7d KiB" % (case[:50], sum(f[2] for f in runs), max(f[3] for f in runs)))
    if FAILURES:
        print("%d failures" % len(FAILURES), file=sys.stderr)
        return 1
    print("hostile %s: every case passed" % group)
    return 0


if __name__ == "__main__":
    sys.exit(main())
