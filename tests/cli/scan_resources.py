#!/usr/bin/env python3
"""fwcert scan under memory pressure, as an attacker's zip causes it.

1. A zip of zero-filled members followed by a certificate: memory follows what the scan keeps, not what it
   decompresses. Peak RSS (getrusage of the child) stays far under the decompressed total (it was that total plus
   overhead: 2.5 GB for 2500 members).
2. When memory does run out (an address-space limit smaller than one member), the input was not read to its end:
   exit 2 and a message, even with --fail-on, never "no certificates found" with exit 0. fwextract likewise.

usage: scan_resources.py FWCERT FWEXTRACT SOURCE_DIR
"""
import json
import os
import resource
import subprocess
import sys
import tempfile
import zipfile

MiB = 1 << 20


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    fwcert, fwextract, src = sys.argv[1], sys.argv[2], sys.argv[3]
    pem = open(os.path.join(src, "samples", "certs", "server.crt"), "rb").read()
    with tempfile.TemporaryDirectory() as w:
        # 1. 600 members of 1 MiB zeros (600 MiB decompressed from ~0.6 MB), then the certificate.
        zeros = os.path.join(w, "zeros.zip")
        with zipfile.ZipFile(zeros, "w", zipfile.ZIP_DEFLATED) as z:
            blob = b"\0" * MiB
            for i in range(600):
                z.writestr("f%05d.bin" % i, blob)
            z.writestr("zz/server.crt", pem)
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        r = subprocess.run([fwcert, "scan", zeros, "--now", "2026-01-01", "--format", "json"],
                           capture_output=True, text=True, timeout=600)
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if r.returncode != 0:
            fail("zip of zero members: exit %d: %s" % (r.returncode, r.stderr))
        if "zz/server.crt" not in r.stdout:
            fail("zip of zero members: the certificate after them is not reported")
        if peak_kib <= before:
            fail("no peak RSS measured")  # getrusage gives the largest child so far: this is the first child
        print("zip of 600 x 1 MiB zero members: peak RSS %d KiB" % peak_kib)
        if peak_kib > 256 * 1024:
            fail("peak RSS %d KiB for 600 MiB of zero members: memory follows what is decompressed" % peak_kib)

        # 1b. catalog add --jobs 2 of two such zips: each worker streams its members, memory does not double.
        lib2 = os.path.join(w, "zeros2")
        os.mkdir(lib2)
        for n in ("a.zip", "b.zip"):
            with open(zeros, "rb") as src_f, open(os.path.join(lib2, n), "wb") as dst:
                dst.write(src_f.read())
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        r = subprocess.run([fwcert, "catalog", "add", lib2, "--db", os.path.join(w, "z.sqlite"), "--jobs", "2",
                            "--now", "2026-01-01"], capture_output=True, text=True, timeout=600)
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if r.returncode != 0 or "2 scanned" not in r.stderr:
            fail("catalog add --jobs 2 of two zero zips: exit %d: %s" % (r.returncode, r.stderr))
        print("catalog add --jobs 2, two zips of 600 x 1 MiB zero members: peak RSS %d KiB" % peak_kib)
        if peak_kib > 256 * 1024:
            fail("catalog add --jobs 2: peak RSS %d KiB: memory follows what is decompressed" % peak_kib)

        # 1c. --max-seconds: a tiny limit on the 600 MiB zip stops the scan early: a diagnostic naming the input and
        # saying the result is partial, exit 2 (whatever --fail-on says). No timing is asserted.
        for args in ([fwcert, "scan", zeros, "--now", "2026-01-01", "--max-seconds", "0.001", "--fail-on", "expired"],
                     [fwextract, zeros, "--list", "--max-seconds", "0.001"],
                     [fwcert, "catalog", "add", zeros, "--db", os.path.join(w, "t.sqlite"), "--max-seconds", "0.001"]):
            r = subprocess.run(args, capture_output=True, text=True, timeout=600)
            if r.returncode != 2 or "time limit of 0.001 s reached" not in r.stderr or zeros not in r.stderr \
                    or "partial" not in r.stderr:
                fail("%s --max-seconds 0.001: exit %d, stderr %r" % (args[:2], r.returncode, r.stderr))
            print("%s --max-seconds 0.001: exit 2, %s" % (os.path.basename(args[0]) + " " + args[1],
                                                          r.stderr.strip().splitlines()[-1]))
        r = subprocess.run([fwcert, "scan", zeros, "--now", "2026-01-01", "--max-seconds", "3600"],
                           capture_output=True, text=True, timeout=600)
        if r.returncode != 0 or "zz/server.crt" not in r.stdout:
            fail("--max-seconds 3600: exit %d, stderr %r" % (r.returncode, r.stderr))

        # 2. One member of 1000 MiB: its content is held while it is walked, so a 1.2 GB address space cannot hold
        # it (the buffer grows to 1 GiB while the 512 MiB one is still there). AddressSanitizer reserves terabytes of
        # address space for its shadow memory, so a sanitizer build cannot start under such a limit: skipped there.
        ldd = subprocess.run(["ldd", fwcert], capture_output=True, text=True)
        if "libasan" in ldd.stdout:
            print("address-space limit cases skipped: a sanitizer build cannot run under RLIMIT_AS")
            return
        big = os.path.join(w, "big.zip")
        with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as z:
            with z.open("big.bin", "w", force_zip64=True) as f:
                for _ in range(1000):
                    f.write(blob)
            z.writestr("zz/server.crt", pem)

        def limit():
            resource.setrlimit(resource.RLIMIT_AS, (1200 * 1000 * 1024, 1200 * 1000 * 1024))

        r = subprocess.run([fwcert, "scan", big, "--now", "2026-01-01", "--fail-on", "expired"],
                           capture_output=True, text=True, timeout=600, preexec_fn=limit)
        if r.returncode != 2:
            fail("out of memory: exit %d, want 2 (stdout %r, stderr %r)" % (r.returncode, r.stdout[-400:], r.stderr))
        if "not read to the end" not in r.stderr:
            fail("out of memory: stderr does not say the input was not read to the end: %r" % r.stderr)
        if "no certificates found\n" in r.stdout:
            fail("out of memory: the table says plainly \"no certificates found\"")
        print("1000 MiB member under a 1.2 GB address-space limit: exit 2, " + r.stderr.strip().splitlines()[-1])
        r = subprocess.run([fwcert, "scan", big, "--now", "2026-01-01", "--format", "sarif"],
                           capture_output=True, text=True, timeout=600, preexec_fn=limit)
        sarif = json.loads(r.stdout)
        if r.returncode != 2 or sarif["runs"][0]["invocations"][0]["executionSuccessful"] is not False:
            fail("out of memory, SARIF: exit %d, invocation %r" % (r.returncode, sarif["runs"][0]["invocations"]))

        # 3. fwextract keeps every member: the same limit stops it, and it says so with exit 2.
        r = subprocess.run([fwextract, big, "-o", os.path.join(w, "out")], capture_output=True, text=True,
                           timeout=600, preexec_fn=limit)
        if r.returncode != 2 or "not read to the end" not in r.stderr:
            fail("fwextract out of memory: exit %d, stderr %r" % (r.returncode, r.stderr))
        print("fwextract, same limit: exit 2")

        # 4. A catalog run records the partial result and every other image, and exits 2 naming the partial one.
        lib = os.path.join(w, "fw")
        os.mkdir(lib)
        os.rename(big, os.path.join(lib, "big.zip"))
        open(os.path.join(lib, "server.crt"), "wb").write(pem)
        r = subprocess.run([fwcert, "catalog", "add", lib, "--db", os.path.join(w, "c.sqlite"), "--now", "2026-01-01"],
                           capture_output=True, text=True, timeout=600, preexec_fn=limit)
        if r.returncode != 2 or "big.zip: not read to the end" not in r.stderr or "2 scanned" not in r.stderr:
            fail("catalog add out of memory: exit %d, stderr %r" % (r.returncode, r.stderr))
        print("catalog add, same limit: exit 2, both files recorded")


if __name__ == "__main__":
    main()
