#!/usr/bin/env python3
"""Allocate-and-touch latency: time to get --bytes of fresh anonymous memory and write one byte
in every page of it (so the kernel really backs it), median of --repeat runs; the memory is
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
    samples = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        # A private anonymous mapping: pages are only backed when first written.
        m = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        m[::page] = ones
        samples.append(time.perf_counter() - t0)
        touched = m[::page].count(1)
        m.close()
        if touched != pages:
            print(f"wrong result: {touched} of {pages} pages hold the written byte", file=sys.stderr)
            return 1
    s = sorted(samples)
    k = len(s) // 2
    med = s[k] if len(s) % 2 else (s[k - 1] + s[k]) / 2
    print(json.dumps({"bytes": size, "page_bytes": page, "repeat": args.repeat,
                      "seconds": samples, "median_seconds": med}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
