#!/usr/bin/env python3
"""Outputs are written whole or not at all (issue 17 item 8).

1. `calendar -o`, `catalog export -o` and `report --html` on a "full disk" (RLIMIT_FSIZE in the child, SIGXFSZ ignored:
   a write past the limit fails with EFBIG): exit 2, a message naming the file, and the previous file intact, with
   no temporary file left beside it.
2. `fwextract -o DIR --force` a second time replaces manifest.json (no manifest.json~1) and its message names the
   file it wrote.

usage: outputs_whole.py FWCERT FWEXTRACT SOURCE_DIR   (exit 77: openssl absent)
"""
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    fwcert, fwextract, src = sys.argv[1], sys.argv[2], sys.argv[3]
    if not shutil.which("openssl"):
        print("SKIP: openssl is not installed")
        sys.exit(77)
    with tempfile.TemporaryDirectory() as w:
        # A catalog whose outputs are larger than SQLite's shared-memory file (32 KiB), so that a 40 KB file size
        # limit lets the catalog be opened but not the output be written: 60 certificates with long subjects.
        bundle = os.path.join(w, "bundle.pem")
        with open(bundle, "wb") as out:
            for i in range(60):
                key = os.path.join(w, "k.pem")
                crt = os.path.join(w, "c.pem")
                subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                                "-nodes", "-keyout", key, "-out", crt, "-days", str(100 + i),
                                "-subj", "/O=%s/CN=host-%03d.example" % ("Example Vendor " * 4, i)],
                               check=True, capture_output=True)
                out.write(open(crt, "rb").read())
        db = os.path.join(w, "c.sqlite")
        subprocess.run([fwcert, "catalog", "add", bundle, "--db", db], check=True, capture_output=True)

        def full_disk():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (40000, 40000))

        cases = [("calendar", ["calendar", "--db", db, "--all", "-o"], "x.ics"),
                 ("catalog export", ["catalog", "export", "--db", db, "-o"], "x.prom"),
                 ("report --html", ["report", "--db", db, "--html"], "x.html")]
        for what, args, name in cases:
            target = os.path.join(w, name)
            r = subprocess.run([fwcert] + args + [target], capture_output=True, text=True)
            if r.returncode != 0 or os.path.getsize(target) <= 40000:
                fail("%s: exit %d, %s bytes (want a file over 40000 bytes): %s" %
                     (what, r.returncode, os.path.getsize(target) if os.path.exists(target) else "no", r.stderr))
            with open(target, "w") as f:
                f.write("previous\n")
            before = sorted(os.listdir(w))
            r = subprocess.run([fwcert] + args + [target], capture_output=True, text=True, preexec_fn=full_disk)
            if r.returncode != 2 or target not in r.stderr:
                fail("%s on a full disk: exit %d, stderr %r" % (what, r.returncode, r.stderr))
            if open(target).read() != "previous\n":
                fail("%s on a full disk: the previous file was changed" % what)
            if sorted(os.listdir(w)) != before:
                fail("%s on a full disk: left %r" % (what, sorted(set(os.listdir(w)) - set(before))))
            print("%s on a full disk: exit 2, previous file intact: %s" % (what, r.stderr.strip()))

        # 2. fwextract --force twice.
        out = os.path.join(w, "out")
        sample = os.path.join(src, "samples", "bmc-sample.bin")
        for run in (1, 2):
            r = subprocess.run([fwextract, sample, "-o", out] + (["--force"] if run == 2 else []),
                               capture_output=True, text=True)
            if r.returncode != 0:
                fail("fwextract run %d: exit %d: %s" % (run, r.returncode, r.stderr))
        if "-> " + os.path.join(out, "manifest.json") + "\n" not in r.stderr:
            fail("fwextract --force: the message does not name %s/manifest.json: %r" % (out, r.stderr))
        left = [n for n in os.listdir(out) if n.startswith("manifest") or n.startswith(".")]
        if left != ["manifest.json"]:
            fail("fwextract --force: beside the manifest: %r" % left)
        print("fwextract --force twice: one manifest.json, named in the message")


if __name__ == "__main__":
    main()
