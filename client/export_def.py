#!/usr/bin/env python3
"""The Windows DLL's export list (a .def file) from skillbox.h.

libskillbox.map exports sb_* on ELF; PE has no version scripts, so the same
rule is applied here: every sb_ function the public header declares (or
names) is exported, nothing else. A name that is no function of the library
fails the link, so the list cannot name what does not exist.
"""
import re
import sys

header, out = sys.argv[1], sys.argv[2]
with open(header, encoding="utf-8") as f:
    text = f.read()
names = sorted(set(re.findall(r"\b(sb_[a-z0-9_]+)\s*\(", text)))
with open(out, "w", encoding="utf-8") as f:
    f.write("EXPORTS\n")
    for n in names:
        f.write("    %s\n" % n)
