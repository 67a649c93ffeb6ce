#!/usr/bin/env python3
"""UDP reachability probe for the gr-restart case (no `ping` needed).

  probe.py echo ADDR PORT             answer every datagram with itself
  probe.py send ADDR PORT [INTERVAL]  send a numbered datagram every INTERVAL s (0.05);
                                      on SIGINT/SIGTERM print
                                      "N packets transmitted, M received" and exit
"""
import signal
import socket
import sys
import time


def echo(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    print(f"echo on {addr}:{port}", flush=True)
    while True:
        data, peer = s.recvfrom(64)
        s.sendto(data, peer)


def send(addr, port, interval):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(interval)
    sent, got = 0, set()
    stop = []
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    print(f"probing {addr}:{port}", flush=True)
    while not stop:
        try:
            s.sendto(str(sent).encode(), (addr, port))
            sent += 1
        except OSError:
            sent += 1  # e.g. no route: a loss
        end = time.monotonic() + interval
        while time.monotonic() < end:
            try:
                data, _ = s.recvfrom(64)
                got.add(int(data))
            except (socket.timeout, OSError, ValueError):
                break
            s.settimeout(max(0.001, end - time.monotonic()))
        s.settimeout(interval)
    s.settimeout(0.5)
    try:
        while True:
            data, _ = s.recvfrom(64)
            got.add(int(data))
    except (socket.timeout, OSError, ValueError):
        pass
    print(f"{sent} packets transmitted, {len(got)} received", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "echo":
        echo(sys.argv[2], int(sys.argv[3]))
    else:
        send(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]) if len(sys.argv) > 4 else 0.05)
