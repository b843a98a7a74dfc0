#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes the version lists vercmp.sh compares gpuprov's orders on, for review in git.

versions-deb.txt: every version in the fake machines' apt lists and dpkg status, and a sample
of Debian's (the Packages lists under /var/lib/apt/lists, after apt-get update): all kinds
taken in turn through the byte-sorted list, so that versions with an epoch, a '~' or a '+'
are frequent and versions that share a prefix sit next to each other.

versions-rpm.txt: every version in the fake machines' repo.json, and EVRs laid out the way
RHEL, openEuler, Fedora and NVIDIA's CUDA repositories name them: kernels of each release
and update, drivers with and without NVIDIA's epoch 3, Fedora's '~' pre-releases and '^'
snapshots.

Run from the source tree: tests/vercmp/make-versions.py [APT_LISTS_DIR]
"""
import glob
import json
import os
import re
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
machines = os.path.join(here, "..", "machines")
lists = sys.argv[1] if len(sys.argv) > 1 else "/var/lib/apt/lists"


def stanza_versions(text):
    return {m.group(1) for m in re.finditer(r"^Version: (\S+)$", text, re.M)}


def deb_versions():
    mine = set()
    for f in glob.glob(os.path.join(machines, "*/root/var/lib/apt/lists/*_Packages")) + glob.glob(
            os.path.join(machines, "*/root/var/lib/dpkg/status")):
        with open(f, encoding="utf-8") as fh:
            mine |= stanza_versions(fh.read())
    debian = set()
    for f in sorted(glob.glob(os.path.join(lists, "*_Packages*"))):
        # apt-helper reads the lists whatever apt compressed them with.
        out = subprocess.run(["/usr/lib/apt/apt-helper", "cat-file", f], check=True, capture_output=True,
                             text=True).stdout
        debian |= stanza_versions(out)
    debian = sorted(debian - mine)
    # Every 2nd with an epoch, every 3rd with a '~', every 10th with a '+', every 25th other.
    strides = [(lambda v: ":" in v, 2), (lambda v: "~" in v, 3), (lambda v: "+" in v, 10), (lambda v: True, 25)]
    seen = [0] * len(strides)
    picked = set()
    for v in debian:
        for i, (kind, stride) in enumerate(strides):
            if kind(v):
                if seen[i] % stride == 0:
                    picked.add(v)
                seen[i] += 1
                break
    return sorted(mine | picked)


def rpm_versions():
    out = set()
    for f in glob.glob(os.path.join(machines, "*/root/var/lib/gpuprov/repo.json")):
        with open(f, encoding="utf-8") as fh:
            doc = json.load(fh)
        for key in ("packages", "installed", "runfiles"):
            out |= {e["version"] for e in doc.get(key, []) if "version" in e}
    # Kernels: RHEL 8, 9 and 10 with their z-stream releases, openEuler's, Fedora's.
    for base, dist, builds in (("4.18.0", "el8", (305, 372, 425, 477, 513, 553)),
                               ("5.14.0", "el9", (70, 162, 284, 362, 427, 503, 570, 611)),
                               ("6.12.0", "el10", (55, 80))):
        for b in builds:
            minor = {"el8": (553 - b) // 40 + 4, "el9": b // 60, "el10": 0}[dist]
            for z in ("", ".3.1", ".13.1", ".14.1", ".27.1", ".30.1", ".2"):
                for tag in (dist, "%s_%d" % (dist, minor), "%s_%d" % (dist, minor + 1)):
                    out.add("%s-%d%s.%s" % (base, b, z, tag))
    for b in ("136.12.0.86", "182.0.0.95", "216.0.0.115", "60.18.0.50"):
        for sp in ("oe2203", "oe2203sp1", "oe2203sp3", "oe2203sp4"):
            out.add("5.10.0-%s.%s" % (b, sp))
    for b in ("28.0.0.34", "44.0.0.50", "67.0.0.72"):
        out.add("6.6.0-%s.oe2403" % b)
        out.add("6.6.0-%s.oe2403sp1" % b)
    for v in ("6.8.5", "6.10.12", "6.11.0", "6.11.0~rc7", "6.12.0~rc1^20240920git1a2b3c4"):
        for r in ("100.fc40", "200.fc41", "0.rc7.20240913git5be63fc19fca.62.fc42", "1.fc41"):
            out.add("%s-%s" % (v, r))
    # NVIDIA's CUDA repositories: epoch 3 on the driver packages, none on the toolkit's.
    for d in ("470.256.02", "535.129.03", "535.216.03", "545.23.08", "550.54.15", "550.90.07", "550.127.08",
              "555.42.06", "560.35.03", "565.57.01", "570.86.15", "570.124.06", "575.51.03", "580.65.06"):
        for e in ("", "3:", "0:"):
            for r in ("-1", "-1.el8", "-1.el9", "-1.el9_4", "-2.el9", "-1.oe2203sp3", "-1~el9", ""):
                out.add("%s%s%s" % (e, d, r))
    for t in ("11.8.0", "12.2.2", "12.4.1", "12.6.3", "12.8.1", "12.9.0", "13.0.2"):
        for r in ("-1", "-2", "~rc1-1", ""):
            out.add(t + r)
    # Fedora's versioning: '~' before a release, '^' after it, with snapshots of both.
    for base in ("1.0", "1.0.1", "2.3", "2.3.0", "0", "10.2"):
        for suffix in ("", "~rc1", "~rc2", "~beta1", "~~", "^", "^20240101git1a2b3c4", "^20240215git9f8e7d6",
                       "~rc1^20231201gitabcdef0", "a", "b", "_1", ".post1", "+git1"):
            for r in ("-1.fc40", "-0.1.fc40", "-1", ""):
                out.add(base + suffix + r)
    for e in ("1:", "2:", "10:", "01:"):
        for v in ("1.0-1.fc40", "0.9-3", "2.3^20240101git1a2b3c4-1"):
            out.add(e + v)
    return sorted(out)


for name, versions in (("versions-deb.txt", deb_versions()), ("versions-rpm.txt", rpm_versions())):
    with open(os.path.join(here, name), "w", encoding="utf-8") as fh:
        fh.write("".join(v + "\n" for v in versions))
    print("%s: %d versions" % (name, len(versions)))
