#!/usr/bin/env node
// Memory load latency: a chase of dependent loads (each address comes from the previous load)
// through one random cycle over every 64-byte line of --bytes of memory. Dependent loads cannot
// overlap, so each costs the full load-to-use latency; with a working set far larger than the
// last-level cache almost every load misses it (and the TLB: 4 KiB pages unless the kernel backs
// the buffer with huge pages). One untimed pass over the whole cycle first (page faults, JIT,
// and the check that the cycle really visits every line), then timed chunks of loads for
// --seconds; one JSON line on stdout with the nanoseconds per load of every chunk and their median.
// Chunks are timed in the process's CPU time: on a busy machine a chunk's wall time also holds
// the time other processes ran, which says nothing about memory (wall times are printed too).
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const LINE_BYTES = 64;
const SLOTS_PER_LINE = LINE_BYTES / 4;

function main() {
  const { values } = parseArgs({
    options: { bytes: { type: 'string', default: String(256 << 20) }, seconds: { type: 'string', default: '2' } },
  });
  const bytes = Number(values.bytes);
  const seconds = Number(values.seconds);
  // Uint32 slot indices address at most 16 GiB; typed arrays of older Node stop at 4 GiB.
  if (!Number.isInteger(bytes) || bytes < 2 * LINE_BYTES || bytes > 2 ** 32 || !(seconds > 0)) {
    process.stderr.write('usage: memlat.mjs --bytes N (128 .. 2^32) --seconds S (> 0)\n');
    return 2;
  }
  const lines = Math.floor(bytes / LINE_BYTES);
  const next = new Uint32Array(lines);
  for (let i = 0; i < lines; i++) next[i] = i;
  // Sattolo's shuffle: one cycle through all lines, so the chase never settles in a short loop.
  for (let i = lines - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * i);
    const t = next[i];
    next[i] = next[j];
    next[j] = t;
  }
  const buf = new Uint32Array(lines * SLOTS_PER_LINE);
  for (let i = 0; i < lines; i++) buf[i * SLOTS_PER_LINE] = next[i] * SLOTS_PER_LINE;

  const chase = (start, n) => {
    let p = start;
    for (let k = 0; k < n; k++) p = buf[p];
    return p;
  };
  if (chase(0, lines) !== 0) {
    process.stderr.write('wrong result: the chase did not come back to its start after one cycle\n');
    return 1;
  }
  // Chunks of 1 Mi loads go round a small cycle many times: long enough to time, whatever the size.
  const loads = 1 << 20;
  const samples = [];
  let p = 0;
  const until = performance.now() + seconds * 1000;
  const wall = [];
  while (samples.length < 3 || performance.now() < until) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    p = chase(p, loads);
    const c = process.cpuUsage(c0);
    wall.push(((performance.now() - t0) * 1e6) / loads);
    samples.push(((c.user + c.system) * 1e3) / loads);
  }
  const s = [...samples].sort((a, b) => a - b);
  const m = s.length >> 1;
  const med = s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  process.stdout.write(
    JSON.stringify({
      bench: 'memlat',
      bytes: lines * LINE_BYTES,
      line_bytes: LINE_BYTES,
      loads_per_sample: loads,
      runtime_version: process.version,
      clock: 'process_cpu',
      ns_per_load: samples,
      median_ns: med,
      wall_ns_per_load: wall,
      end: p,
    }) + '\n',
  );
  return 0;
}

process.exitCode = main();
