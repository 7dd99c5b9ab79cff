#!/usr/bin/python3
"""ipamctl's address arithmetic checked against Python's ipaddress module.

Random prefixes and ranges (a fixed seed: failures reproduce) go through
ipamctl validate and show-desired; an independent implementation says
what must come out:

- a prefix's canonical text (RFC 5952; Python 3.11 writes IPv4-mapped
  addresses in hex, so those are compared in their dotted form), and
  whether its host bits are set, with the prefix meant;
- which ranges lie outside every block, and how many ranges overlap one
  before them in address order (each reported pair must really overlap).

Usage: check_ipaddress.py IPAMCTL
"""
import ipaddress
import json
import os
import random
import re
import subprocess
import sys
import tempfile

HEAD = ("version: 1\nipamServer: ipam1.corp.example.test\n"
        "provisioning: {method: gpo, gpoPrefix: IPAM1}\naddressSpace:\n")
FAILED = []
SEEN = {"clean prefixes": 0, "host bits": 0, "ranges outside": 0,
        "overlaps": 0, "valid layouts": 0}


def fail(msg):
    FAILED.append(msg)
    print("FAIL: " + msg)


def canonical(addr):
    if addr.version == 6 and addr.ipv4_mapped:
        return "::ffff:%s" % addr.ipv4_mapped
    return str(addr)


def rand_v6(rng):
    words = [0 if rng.random() < 0.45 else
             rng.choice([rng.randrange(0x10000), rng.randrange(16)])
             for _ in range(8)]
    if rng.random() < 0.05:
        words[:6] = [0, 0, 0, 0, 0, 0xffff]
    return ipaddress.IPv6Address(
        b"".join(w.to_bytes(2, "big") for w in words))


def rand_v4(rng):
    return ipaddress.IPv4Address(rng.randrange(1 << 32))


def spelled(rng, addr):
    """The address as a person might write it."""
    if addr.version == 4:
        return str(addr)
    return rng.choice([addr.exploded, addr.exploded.upper(),
                       addr.compressed, addr.compressed.upper()])


def run(ipamctl, text, *args):
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        f.write(text)
        f.flush()
        r = subprocess.run([ipamctl] + list(args) + ["-c", f.name],
                           capture_output=True, text=True)
        return r.returncode, r.stdout.replace(f.name, "F")


def check_prefixes(ipamctl, rng, n):
    for _ in range(n):
        addr = rand_v6(rng) if rng.random() < 0.6 else rand_v4(rng)
        bits = addr.max_prefixlen
        length = rng.choice([0, 1, bits - 1, bits, rng.randrange(bits + 1)])
        if rng.random() < 0.5:  # make it a clean prefix half the time
            addr = ipaddress.ip_network("%s/%d" % (addr, length),
                                        strict=False).network_address
        text = "%s/%d" % (spelled(rng, addr), length)
        doc = HEAD + "  blocks:\n    - cidr: %s\n" % text
        try:
            net = ipaddress.ip_network(text, strict=True)
        except ValueError:
            net = None
        SEEN["clean prefixes" if net else "host bits"] += 1
        if net is not None:
            rc, out = run(ipamctl, doc, "show-desired", "-o", "json")
            got = rc == 0 and json.loads(out)["addressSpace"]["blocks"][0][
                "cidr"]
            want = "%s/%d" % (canonical(net.network_address), length)
            if got != want:
                fail("%s: show-desired says %r, ipaddress %r" %
                     (text, got, want))
            continue
        rc, out = run(ipamctl, doc, "validate")
        meant = ipaddress.ip_network(text, strict=False)
        want = "'cidr' %s has host bits set: the prefix is %s/%d" % (
            text, canonical(meant.network_address), length)
        if rc != 1 or want not in out:
            fail("%s: want %r, got %r" % (text, want, out))


def rand_range(rng, base, span):
    """A range near base: a prefix or start-end, as (yaml, first, last).
    Quoted: in a flow mapping "2001:db8::," would end the plain scalar at
    the colon."""
    if rng.random() < 0.5:
        length = base.max_prefixlen - rng.randrange(span.bit_length())
        start = base + rng.randrange(span * 2)
        net = ipaddress.ip_network("%s/%d" % (start, length), strict=False)
        return ('cidr: "%s"' % net, net.network_address,
                net.broadcast_address)
    a = base + rng.randrange(span * 2)
    b = a + rng.randrange(span // 2 + 1)
    try:
        return ('start: "%s", end: "%s"' % (a, b), a, b)
    except ValueError:
        return None


def tidy_range(rng, slot):
    """A range inside the 32 addresses from slot."""
    if rng.random() < 0.5:
        length = slot.max_prefixlen - rng.randrange(6)
        net = ipaddress.ip_network("%s/%d" % (slot + rng.randrange(32),
                                              length), strict=False)
        return ('cidr: "%s"' % net, net.network_address,
                net.broadcast_address)
    a = slot + rng.randrange(32)
    b = a + rng.randrange(int(slot + 31) - int(a) + 1)
    return ('start: "%s", end: "%s"' % (a, b), a, b)


def check_layout(ipamctl, rng, trials):
    for _ in range(trials):
        six = rng.random() < 0.5
        base = (ipaddress.IPv6Address("2001:db8::") + (rng.randrange(1 << 60)
                                                       << 64)
                if six else ipaddress.IPv4Address("10.0.0.0") +
                (rng.randrange(1 << 8) << 16))
        span = 256
        bits = base.max_prefixlen
        blocks = [ipaddress.ip_network("%s/%d" % (base, bits - 8)),
                  ipaddress.ip_network("%s/%d" % (base + 512, bits - 7))]
        ranges = []
        while len(ranges) < 8:
            r = rand_range(rng, base, span)
            if r:
                ranges.append(r)
        if rng.random() < 0.6:  # tidy: one range per 32-address slot
            ranges = [tidy_range(rng, base + 32 * k) for k in range(8)]
            if rng.random() < 0.5:  # and one stretched past its slot
                k = rng.randrange(8)
                last = ranges[k][1] + rng.randrange(1, 600)
                ranges[k] = ('start: "%s", end: "%s"' % (ranges[k][1], last),
                             ranges[k][1], last)
        lines = [HEAD, "  blocks:\n"]
        lines += ["    - cidr: %s\n" % b for b in blocks]
        lines.append("  ranges:\n")
        first_line = len("".join(lines).splitlines()) + 1
        lines += ["    - {%s, assignment: static}\n" % r[0] for r in ranges]
        rc, out = run(ipamctl, "".join(lines), "validate")
        if "YAML" in out:
            fail("not read: %s" % out)
        outside = set()
        overlaps = []
        for line in out.splitlines():
            m = re.match(r"F:(\d+):\d+: (.*)", line)
            if not m:
                continue
            idx = int(m.group(1)) - first_line
            if "outside every block" in m.group(2):
                outside.add(idx)
            m2 = re.search(r"overlaps range \S+ \(at F:(\d+):", m.group(2))
            if m2:
                overlaps.append((idx, int(m2.group(1)) - first_line))
        want_out = {i for i, r in enumerate(ranges)
                    if not any(b.network_address <= r[1] and
                               r[2] <= b.broadcast_address for b in blocks)}
        if outside != want_out:
            fail("outside: ipamctl %s, ipaddress %s in\n%s" %
                 (sorted(outside), sorted(want_out), "".join(lines)))

        def over(i, j):
            return ranges[i][1] <= ranges[j][2] and ranges[j][1] <= ranges[i][2]

        order = sorted(range(8), key=lambda i: (ranges[i][1], -int(ranges[i][2])))
        want_n = sum(1 for k in range(1, 8)
                     if any(over(order[k], order[j]) for j in range(k)))
        if len(overlaps) != want_n or not all(over(i, j) for i, j in overlaps):
            fail("overlaps: ipamctl %s, ipaddress expects %d in\n%s" %
                 (overlaps, want_n, "".join(lines)))
        SEEN["ranges outside"] += len(want_out)
        SEEN["overlaps"] += want_n
        SEEN["valid layouts"] += not want_out and not want_n
        if (rc == 0) != (not want_out and not want_n):
            fail("exit %d with %s" % (rc, out))


def main():
    ipamctl = sys.argv[1]
    rng = random.Random(15)
    check_prefixes(ipamctl, rng, 200)
    check_layout(ipamctl, rng, 100)
    print(", ".join("%d %s" % (v, k) for k, v in SEEN.items()))
    print("%d failed" % len(FAILED))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
