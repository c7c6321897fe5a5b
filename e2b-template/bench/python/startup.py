#!/usr/bin/env python3
"""Interpreter start time: runs `python3 -c pass` N times (after one untimed warm-up, so the
files are in the page cache) and prints one JSON line with every sample and the median."""
import argparse
import json
import subprocess
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10, help="timed starts (default 10)")
    args = ap.parse_args()
    if args.n < 1:
        ap.error("--n must be at least 1")
    cmd = [sys.executable, "-c", "pass"]
    subprocess.run(cmd, check=True)
    samples = []
    for _ in range(args.n):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True)
        samples.append(time.perf_counter() - t0)
    s = sorted(samples)
    m = len(s) // 2
    med = s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2
    print(json.dumps({"runtime": "python", "command": "python3 -c pass", "n": args.n,
                      "seconds": samples, "median_seconds": med}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
