#!/usr/bin/env python3
"""embed.py INPUT OUTPUT SYMBOL — write OUTPUT, a C file defining
`const char SYMBOL[]` with INPUT's bytes, so the example config file is the
daemon's built-in configuration byte for byte."""
import sys

src, dst, sym = sys.argv[1:4]
data = open(src, "rb").read()
if b"\0" in data:
    sys.exit(f"{src}: NUL byte")
lines = [f"/* Generated from {src.rsplit('/', 1)[-1]} by embed.py; do not edit. */",
         '#include "config/conf.h"', "", f"const char {sym}[] = {{"]
for i in range(0, len(data), 16):
    lines.append("        " + " ".join(f"0x{b:02x}," for b in data[i:i + 16]))
lines += ["        0x00,", "};", ""]
with open(dst, "w") as f:
    f.write("\n".join(lines))
