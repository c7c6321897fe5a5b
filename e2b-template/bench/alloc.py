#!/usr/bin/env python3
"""Allocate-and-write latency: time to get --bytes of fresh anonymous memory and write every byte
of it (the kernel backs each page on its first write), median of --repeat runs; the memory is
freed between runs. Checks that every page holds what was written. One JSON line on stdout."""
import argparse
import json
import mmap
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bytes", type=int, default=1 << 30, help="bytes to allocate (default 1 GiB)")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs (default 3)")
    args = ap.parse_args()
    if args.bytes < mmap.PAGESIZE or args.repeat < 1:
        ap.error("--bytes must be at least one page and --repeat at least 1")
    page = mmap.PAGESIZE
    pages = args.bytes // page
    size = pages * page
    ones = b"\x01" * pages
    # Written in 1 MiB copies of a ready buffer: the loop costs ~1,000 iterations per GiB, the
    # copies are memcpy, so the time is the kernel's page faults and the memory's write speed.
    chunk = min(size, 1 << 20)
    buf = b"\x01" * chunk
    samples = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        # A private anonymous mapping: pages are only backed when first written.
        m = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        for off in range(0, size - chunk + 1, chunk):
            m[off:off + chunk] = buf
        tail = size % chunk
        if tail:
            m[size - tail:] = buf[:tail]
        samples.append(time.perf_counter() - t0)
        touched = min(m[::page].count(1), m[page - 1::page].count(1))
        m.close()
        if touched != pages:
            print(f"wrong result: {touched} of {pages} pages hold the written byte", file=sys.stderr)
            return 1
    s = sorted(samples)
    k = len(s) // 2
    med = s[k] if len(s) % 2 else (s[k - 1] + s[k]) / 2
    print(json.dumps({"bytes": size, "page_bytes": page, "repeat": args.repeat, "written": "every_byte",
                      "seconds": samples, "median_seconds": med}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
