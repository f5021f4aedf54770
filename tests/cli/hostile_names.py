#!/usr/bin/env python3
"""Every byte a user sees is safe (issue 17 item 7), and dates TLS stacks refuse (item 9), as a user meets them.

usage: hostile_names.py FWCERT FWEXTRACT FWWALK

1. Names: a tar whose members carry the hostile names of ../shared/repro/mk_tar_evil.py (rebuilt here: ESC, a
   newline, '../', absolute paths, symlinks, long and deep names, duplicates) plus C1, DEL, BEL, CR and bidi names,
   and certificates whose subjects carry mk_hostile_certs.py's texts (ANSI/OSC sequences, C1 CSI, DEL, CR/LF, RLO,
   formulas, 3000 characters, wide CJK), made with the openssl command. Through `fwextract --list` and `-o`,
   `fwcert scan` (table), `catalog add|list|certs|where|keys`, `fwwalk` and every diagnostic: no control byte
   (C0 but the newline that ends a line, DEL, C1, and the bidi controls) reaches stdout or stderr, each member is
   one line of `fwextract --list`, table rows are padded by display width; JSON outputs keep the exact names.
2. Dates: a certificate whose notAfter is UTCTime 161231235960Z (seconds 60, which OpenSSL rejects) is
   `invalid-date` in `fwcert scan` at a pinned clock, with the anomaly saying peers reject the field and the lenient
   reading; `fwwalk` describes the same date the same way.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import io
import unicodedata

FWCERT, FWEXTRACT, FWWALK = sys.argv[1:4]
FAILURES = []

# Raw bytes a terminal acts on: C0 but LF, DEL, C1 (as UTF-8, and as raw bytes in case of invalid UTF-8), bidi.
BAD = re.compile(rb"[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\x8e\x8f\xaa-\xae]|\xe2\x81[\xa6-\xa9]|"
                 rb"\xd8\x9c")
BAD_RAW_C1 = re.compile(rb"(?<![\xc2-\xf4])[\x80-\x9f]")  # a lone C1 byte (8-bit CSI), not a continuation byte


def fail(msg):
    FAILURES.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def run(argv, want=(0,), cwd=None):
    r = subprocess.run(argv, capture_output=True, timeout=600, cwd=cwd)
    if r.returncode not in want:
        fail("%s: exit %d: %r" % (" ".join(map(str, argv[:3])), r.returncode, r.stderr[-600:]))
    return r


def clean(what, data):
    for m in BAD.finditer(data):
        fail("%s: raw control byte %r at %d: %r" % (what, m.group(0), m.start(), data[max(0, m.start() - 40):m.start() + 20]))
        return False
    return True


def strings(j):
    """Every string of a parsed JSON document (values and keys): exact names are compared after parsing."""
    if isinstance(j, str):
        yield j
    elif isinstance(j, list):
        for x in j:
            yield from strings(x)
    elif isinstance(j, dict):
        for k, v in j.items():
            yield k
            yield from strings(v)


def has_text(doc, text):
    return any(text in x for x in strings(doc))


def display_width(s):
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 0 if unicodedata.combining(ch) else 1 for ch in s)


NAMES = ["nl\nname.crt", "esc\x1b[31mred.crt", "osc\x1b]0;PWNED\x07.crt", "cr\rover.crt", "del\x7fete.crt",
         "c1\u009b31mcsi.crt", "bidi\u202etxt.exe.crt", "iso\u2066x\u2069.crt", "lrm\u200e.crt",
         "wide\u65e5\u672c\u8a9e.crt"]
EVIL = [("/abs/etc/passwd", b"ABS\n"), ("../../escape1", b"ESC1\n"), ("a/../../escape2", b"ESC2\n"),
        ("A" * 255, b"long255"), ("B" * 300, b"long300"), ("/".join(["d"] * 2000) + "/deep", b"deep"),
        ("dup", b"one"), ("dup", b"two"), ("manifest.json", b'{"evil": true}\n')]
SUBJECTS = {
    "ansi": "\x1b]0;PWNED\x07\x1b[2J\x1b[31mRED", "c1csi": "\u009b31mC1CSI\u009b0m", "del": "del\x7fete",
    "crlf": "line1\r\nline2,\"quoted\",semi;colon\\back", "formula": "=cmd|' /C calc'!A0", "rlo": "admin\u202etxt.exe",
    "long": "L" * 64, "utf8": "\u00dcn\u00efc\u00f6d\u00e9\u65e5\u672c\u8a9e" * 3,  # openssl req: CN <= 64
}


def make_cert(w, tag, cn, not_after_patch=None):
    """openssl req -x509 with the CN as raw UTF-8 (-utf8; '/' and '+' escaped as -subj wants); PEM bytes."""
    key, crt = os.path.join(w, tag + ".key"), os.path.join(w, tag + ".crt")
    subj = "/O=Org," + tag + "/CN=" + cn.replace("\\", "\\\\").replace("/", "\\/").replace("+", "\\+")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", key, "-out", crt, "-days", "10", "-utf8", "-subj", subj.encode("utf-8")],
                       capture_output=True)
    if r.returncode != 0:
        fail("openssl req for %s: %r" % (tag, r.stderr[-300:]))
        return None
    return open(crt, "rb").read()


def main():
    if shutil.which("openssl") is None:
        print("SKIP: the openssl command is needed")
        return 77
    w = tempfile.mkdtemp(prefix="fwcert-names-")
    try:
        return body(w)
    finally:
        subprocess.run(["rm", "-rf", w])  # the 2000-deep member is deeper than shutil.rmtree's recursion


def body(w):
    # --- Certificates with hostile subjects, and a tar of hostile member names holding them.
    certs = {}
    for tag, cn in SUBJECTS.items():
        pem = make_cert(w, tag, cn)
        if pem:
            certs[tag] = pem
    bundle = b"".join(certs.values())
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        def add(name, data, kind=tarfile.REGTYPE, link=""):
            ti = tarfile.TarInfo(name)
            ti.type = kind
            ti.linkname = link
            ti.size = len(data) if kind == tarfile.REGTYPE else 0
            t.addfile(ti, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
        for name, data in EVIL:
            add(name, data)
        add("link", b"", tarfile.SYMTYPE, "/tmp/fwcert-victim")
        add("link/x", b"THROUGH-LINK\n")
        add("link2", b"", tarfile.SYMTYPE, "../../")
        add("hard", b"", tarfile.LNKTYPE, "/etc/passwd")
        for i, name in enumerate(NAMES):
            add(name, list(certs.values())[i % len(certs)])
        add("etc/ssl/bundle.pem", bundle)
    evil = os.path.join(w, "evil\x1b[2J\u202e.tar")
    open(evil, "wb").write(buf.getvalue())
    member_names = [n for n, _ in EVIL] + ["link", "link/x", "link2", "hard"] + NAMES + ["etc/ssl/bundle.pem"]

    # fwextract --list: one line per member, nothing raw; --list --json keeps the exact names.
    r = run([FWEXTRACT, evil, "--list"])
    clean("fwextract --list stdout", r.stdout)
    clean("fwextract --list stderr", r.stderr)
    lines = r.stdout.decode("utf-8", "replace").split("\n")
    for name in NAMES:
        shown = name.replace("\n", "\\x0A").replace("\x1b", "\\x1B")
        if "\n" in name and not any("nl\\x0Aname.crt" in l for l in lines):
            fail("fwextract --list: the newline name is not one line with \\x0A: %r" % [l for l in lines if "nl" in l])
    if any(l.startswith("name.crt") for l in lines):
        fail("fwextract --list: a member's newline split a line")
    r = run([FWEXTRACT, evil, "--list", "--json"])
    doc = json.loads(r.stdout)
    for name in NAMES:
        if not has_text(doc, name):
            fail("fwextract --list --json lost the exact name %r" % name)
    # fwextract -o: the diagnostics (unsafe names) on stderr are escaped; manifest keeps names.
    out = os.path.join(w, "out")
    r = run([FWEXTRACT, evil, "-o", out])
    clean("fwextract -o stdout", r.stdout)
    clean("fwextract -o stderr", r.stderr)
    if b"unsafe" not in r.stderr:
        fail("fwextract -o: no diagnostic names the unsafe member paths: %r" % r.stderr[:400])
    manifest = json.load(open(os.path.join(out, "manifest.json"), encoding="utf-8"))
    for name in NAMES:
        if not has_text(manifest, name):
            fail("manifest.json lost the exact name %r" % name)

    # fwcert scan: the table is clean and padded by display width; JSON keeps the exact subjects and names.
    env = dict(os.environ, COLUMNS="200")
    r = subprocess.run([FWCERT, "scan", "--now", "2025-01-02", evil], capture_output=True, env=env, timeout=600)
    if r.returncode not in (0, 1):
        fail("fwcert scan: exit %d" % r.returncode)
    clean("fwcert scan table stdout", r.stdout)
    clean("fwcert scan table stderr", r.stderr)
    table = r.stdout.decode("utf-8")
    rows = [l for l in table.split("\n") if re.match(r"^  (valid|expiring|expired|not-yet-valid|invalid-date) ", l)]
    if len(rows) < len(certs):
        fail("fwcert scan table: %d rows for %d certificates" % (len(rows), len(certs)))
    header = [l for l in table.split("\n") if "STATUS" in l and "NOT AFTER" in l]
    if header:
        col = display_width(header[0][:header[0].index("FINDINGS")])
        for row in rows:
            # every cell before FINDINGS is padded by display width, so FINDINGS starts at the same column
            cut = [display_width(row[:i]) for i in range(len(row) + 1)]
            if col not in cut:
                fail("fwcert scan table: row not aligned by display width: %r" % row)
    if "\\x1B" not in table or "\\u{202E}" not in table:
        fail("fwcert scan table: ESC and RLO not shown escaped (\\x1B, \\u{202E})")
    r = run([FWCERT, "scan", "--now", "2025-01-02", "--format", "json", evil], want=(0, 1))
    sdoc = json.loads(r.stdout)
    cns = {c.get("common_name") for c in sdoc["inputs"][0]["certificates"]}
    for tag, cn in SUBJECTS.items():
        if tag in certs and cn not in cns:
            fail("fwcert scan --format json lost the exact subject %s %r" % (tag, cn[:40]))

    # The catalog tables.
    db = os.path.join(w, "h.db")
    r = run([FWCERT, "catalog", "add", "--db", db, "--now", "2025-01-02", evil])
    clean("catalog add stdout", r.stdout)
    clean("catalog add stderr", r.stderr)
    for q in (["list"], ["certs", "--now", "2025-01-02"], ["keys"]):
        r = run([FWCERT, "catalog"] + q + ["--db", db], want=(0, 1))
        clean("catalog %s stdout" % q[0], r.stdout)
        clean("catalog %s stderr" % q[0], r.stderr)
        lines = [l for l in r.stdout.decode("utf-8").split("\n") if l]
        if q[0] == "certs":
            if len(lines) < 1 + len(certs):
                fail("catalog certs: %d lines for %d certificates" % (len(lines), len(certs)))
            for l in lines:
                if display_width(l) > 600:
                    fail("catalog certs: a line of %d columns (cells are cut at 70)" % display_width(l))
            jr = run([FWCERT, "catalog", "certs", "--now", "2025-01-02", "--db", db, "--format", "json"], want=(0, 1))
            jd = json.loads(jr.stdout)
            for tag, cn in SUBJECTS.items():
                if tag in certs and not has_text(jd, cn):
                    fail("catalog certs --format json lost the exact subject %s" % tag)
    for c in sdoc["inputs"][0]["certificates"][:3] + [c for c in sdoc["inputs"][0]["certificates"]
                                                     if c.get("common_name") == SUBJECTS["rlo"]]:
        r = run([FWCERT, "catalog", "where", c["sha256"], "--db", db])
        clean("catalog where stdout", r.stdout)
        clean("catalog where stderr", r.stderr)
        r = run([FWCERT, "catalog", "where", c["sha256"], "--db", db, "--format", "json"])
        wd = json.loads(r.stdout)
        if not any(has_text(wd, n) for n in NAMES + ["etc/ssl/bundle.pem"]):
            fail("catalog where --format json: no exact member name")

    # fwwalk's table of the bundle: descriptions quote subjects through the same sanitiser.
    pem = os.path.join(w, "bundle\x07.pem")
    open(pem, "wb").write(bundle)
    r = run([FWWALK, pem])
    clean("fwwalk stdout", r.stdout)
    clean("fwwalk stderr", r.stderr)
    if b"\\x1B" not in r.stdout:
        fail("fwwalk: the ESC of a subject is not shown as \\x1B")

    # Diagnostics naming an unreadable input with a hostile file name.
    r = run([FWCERT, "scan", os.path.join(w, "missing\x1b[2J\n.bin")], want=(2,))
    clean("fwcert scan (missing input) stderr", r.stderr)
    r = run([FWEXTRACT, os.path.join(w, "missing\x1b[2J\n.bin"), "--list"], want=(2,))
    clean("fwextract (missing input) stderr", r.stderr)
    r = run([FWWALK, os.path.join(w, "missing\x1b[2J\n.bin")], want=(2,))
    clean("fwwalk (missing input) stderr", r.stderr)

    # --- Item 9: a leap-second notAfter.
    leap = make_cert(w, "leap", "leap-second")
    der = subprocess.run(["openssl", "x509", "-outform", "DER"], input=leap, capture_output=True).stdout
    # The second UTCTime (tag 0x17, length 13) is notAfter; its seconds become 60 (the signature no longer matters).
    first = der.find(b"\x17\x0d")
    second = der.find(b"\x17\x0d", first + 15)
    if first < 0 or second < 0:
        fail("no UTCTime notAfter in the openssl certificate")
        return 1
    der = der[:second + 2] + b"161231235960Z" + der[second + 15:]
    leapfile = os.path.join(w, "leap.der")
    open(leapfile, "wb").write(der)
    for now in ("2010-01-01", "2026-01-01"):
        r = run([FWCERT, "scan", "--now", now, "--format", "json", leapfile])
        c = json.loads(r.stdout)["inputs"][0]["certificates"]
        if len(c) != 1:
            fail("leap second: %d certificates" % len(c))
            continue
        c = c[0]
        if c["status"] != "invalid-date":
            fail("leap second at %s: status %s, want invalid-date" % (now, c["status"]))
        if c["not_after_raw"].get("lenient") != "2016-12-31T23:59:59Z":
            fail("leap second: the lenient reading is not kept: %r" % c["not_after_raw"])
        want = "notAfter rejected by TLS peers (OpenSSL): seconds 60; read leniently as 2016-12-31T23:59:59Z"
        if want not in c["anomalies"]:
            fail("leap second: anomaly %r missing: %r" % (want, c["anomalies"]))
    r = run([FWCERT, "scan", "--now", "2026-01-01", leapfile])
    if not re.search(r"^  invalid-date ", r.stdout.decode(), re.M):
        fail("leap second: the table does not say invalid-date: %r" % r.stdout[:600])
    r = run([FWWALK, leapfile])
    walk = r.stdout.decode()
    if "rejected by TLS peers (OpenSSL): seconds 60" not in walk or "2016-12-31 23:59:59" not in walk:
        fail("leap second: fwwalk does not describe the date as fwcert scan does: %r" % walk[-600:])

    if FAILURES:
        print("%d failures" % len(FAILURES), file=sys.stderr)
        return 1
    print("hostile names and dates: every output clean, names exact in JSON, the leap second invalid-date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
