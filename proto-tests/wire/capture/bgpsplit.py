#!/usr/bin/env python3
"""Split BGP messages out of a pcap file.

Reads a classic pcap (as written by `tcpdump -w`, link type Ethernet or Linux
cooked), reassembles each TCP direction by sequence number (dropping
retransmitted and overlapping bytes), then cuts the byte stream into BGP
messages using the 16-byte marker and the 2-byte length field.

Usage as a tool:  bgpsplit.py FILE.pcap   -> one JSON object per message.
"""

import json
import struct
import sys

LINKTYPE_ETHERNET = 1
LINKTYPE_LINUX_SLL = 113
MARKER = b"\xff" * 16


def read_pcap(path):
    """Yield (timestamp, linktype, frame bytes) for each record."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise ValueError(f"{path}: not a classic pcap file (pcapng is not supported)")
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack(endian + "IIII", data[off : off + 16])
        off += 16
        frame = data[off : off + incl]
        off += incl
        yield sec + frac / (1e9 if nano else 1e6), linktype, frame


def parse_tcp(linktype, frame):
    """Return (src, sport, dst, dport, seq, flags, payload) or None."""
    if linktype == LINKTYPE_ETHERNET:
        if len(frame) < 14:
            return None
        etype = struct.unpack("!H", frame[12:14])[0]
        l3 = frame[14:]
        if etype == 0x8100 and len(frame) >= 18:
            etype = struct.unpack("!H", frame[16:18])[0]
            l3 = frame[18:]
    elif linktype == LINKTYPE_LINUX_SLL:
        if len(frame) < 16:
            return None
        etype = struct.unpack("!H", frame[14:16])[0]
        l3 = frame[16:]
    else:
        return None
    if etype == 0x0800 and len(l3) >= 20:
        ihl = (l3[0] & 0x0F) * 4
        total = struct.unpack("!H", l3[2:4])[0]
        if l3[9] != 6:
            return None
        src, dst = fmt_ip4(l3[12:16]), fmt_ip4(l3[16:20])
        l4 = l3[ihl:total]
    elif etype == 0x86DD and len(l3) >= 40:
        plen = struct.unpack("!H", l3[4:6])[0]
        if l3[6] != 6:  # no extension headers expected on these links
            return None
        src, dst = fmt_ip6(l3[8:24]), fmt_ip6(l3[24:40])
        l4 = l3[40 : 40 + plen]
    else:
        return None
    if len(l4) < 20:
        return None
    sport, dport, seq = struct.unpack("!HHI", l4[:8])
    doff = (l4[12] >> 4) * 4
    flags = l4[13]
    return src, sport, dst, dport, seq, flags, l4[doff:]


def fmt_ip4(b):
    return ".".join(str(x) for x in b)


def fmt_ip6(b):
    import ipaddress

    return str(ipaddress.IPv6Address(bytes(b)))


class Flow:
    """One direction of a TCP connection."""

    def __init__(self, key):
        self.key = key
        self.isn = None
        self.segments = []  # (relative seq, time, payload)

    def add(self, t, seq, flags, payload):
        if flags & 0x02:  # SYN consumes one sequence number
            self.isn = (seq + 1) & 0xFFFFFFFF
            return
        if not payload:
            return
        if self.isn is None:  # capture started mid-connection
            self.isn = seq
        rel = (seq - self.isn) & 0xFFFFFFFF
        self.segments.append((rel, t, payload))

    def stream(self):
        """Reassembled bytes plus, per byte offset where a segment starts, its time."""
        out = bytearray()
        times = []  # (offset, time)
        for rel, t, payload in sorted(self.segments, key=lambda s: (s[0], s[1])):
            end = rel + len(payload)
            if end <= len(out):
                continue  # retransmission
            if rel > len(out):
                raise ValueError(f"{self.key}: gap in TCP stream at {len(out)} (missed segment)")
            times.append((len(out), t))
            out += payload[len(out) - rel :]
        return bytes(out), times


def split_messages(stream):
    """Cut a BGP byte stream into messages; a trailing partial message is dropped."""
    msgs = []
    off = 0
    while off + 19 <= len(stream):
        if stream[off : off + 16] != MARKER:
            raise ValueError(f"bad marker at offset {off}")
        length = struct.unpack("!H", stream[off + 16 : off + 18])[0]
        if length < 19 or off + length > len(stream):
            break
        msgs.append((off, stream[off : off + length]))
        off += length
    return msgs


def messages(path):
    """All BGP messages in a pcap, in time order, with their connection."""
    flows = {}
    conn_order = {}
    for t, lt, frame in read_pcap(path):
        p = parse_tcp(lt, frame)
        if p is None:
            continue
        src, sport, dst, dport, seq, flags, payload = p
        key = (src, sport, dst, dport)
        conn = tuple(sorted([(src, sport), (dst, dport)]))
        conn_order.setdefault(conn, len(conn_order))
        flows.setdefault(key, Flow(key)).add(t, seq, flags, payload)
    out = []
    for key, flow in flows.items():
        data, times = flow.stream()
        conn = tuple(sorted([(key[0], key[1]), (key[2], key[3])]))
        for idx, (off, msg) in enumerate(split_messages(data)):
            t = max((tt for o, tt in times if o <= off), default=0.0)
            out.append(
                {
                    "conn": conn_order[conn],
                    "src": key[0],
                    "sport": key[1],
                    "dst": key[2],
                    "dport": key[3],
                    "index": idx,
                    "time": t,
                    "hex": msg.hex(),
                }
            )
    out.sort(key=lambda m: (m["time"], m["conn"], m["index"]))
    return out


if __name__ == "__main__":
    for m in messages(sys.argv[1]):
        print(json.dumps(m))
