#!/usr/bin/env python3
"""ExaBGP API process: follow FILE and print each new complete line (an API command)
to ExaBGP, which reads commands from our stdout.

The test appends commands to FILE (lib.sh `exabgp_send`).
"""
import sys
import time

with open(sys.argv[1], encoding="utf-8") as cmds:
    pending = ""
    while True:
        chunk = cmds.readline()
        if not chunk:
            time.sleep(0.1)
            continue
        pending += chunk
        if pending.endswith("\n"):
            sys.stdout.write(pending)
            sys.stdout.flush()
            pending = ""
