#!/usr/bin/env python3
"""ExaBGP API process: append every message ExaBGP passes on (one JSON per line) to FILE."""
import sys

with open(sys.argv[1], "a", encoding="utf-8") as out:
    for line in sys.stdin:
        out.write(line)
        out.flush()
