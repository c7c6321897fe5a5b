#!/usr/bin/env node
// Interpreter start time: runs `node -e 0` N times (after one untimed warm-up, so the files are
// in the page cache) and prints one JSON line with every sample and the median.
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

function main(argv) {
  let n = 10;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--n') n = Number(argv[++i]);
    else if (argv[i].startsWith('--n=')) n = Number(argv[i].slice(4));
    else {
      process.stderr.write(`unknown argument: ${argv[i]}\nusage: node startup.mjs [--n N]\n`);
      return 2;
    }
  }
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write('--n must be an integer of at least 1\n');
    return 2;
  }
  const start = () => {
    const r = spawnSync(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`node -e 0 exited with ${r.status ?? r.signal}`);
  };
  start();
  const samples = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    start();
    samples.push((performance.now() - t0) / 1000);
  }
  const s = [...samples].sort((a, b) => a - b);
  const m = s.length >> 1;
  const median = s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  process.stdout.write(
    JSON.stringify({ runtime: 'node', command: 'node -e 0', n, seconds: samples, median_seconds: median }) + '\n',
  );
  return 0;
}

process.exitCode = main(process.argv.slice(2));
