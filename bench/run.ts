// npm run bench [-- section...]: long measurements, reported as ratios within one run.
// Sections: runtime, network, overhead (alias exporter), metrics, memory, limits, interference (default: all).
// BENCH_N sets samples (default 20); BENCH_N_SOLO the solo host.cpu runs of interference (default 6).
// soak runs only when named (30 minutes, BENCH_SOAK_MINUTES).
import { benchMemory, benchMetrics, benchOverhead, benchOverheadPieces } from './exporter.js';
import { benchInterference } from './interference.js';
import { benchLimits } from './limits.js';
import { benchNetwork } from './network.js';
import { benchRuntime } from './runtime.js';
import { benchSoak } from './soak.js';

const n = Number(process.env.BENCH_N ?? 20);
const want = new Set(
  process.argv.slice(2).length
    ? process.argv.slice(2)
    : ['runtime', 'network', 'overhead', 'metrics', 'memory', 'limits', 'interference'],
);
if (want.has('exporter')) want.add('overhead');
console.log(`# e2b-bench benchmarks (n=${n}, ${new Date().toISOString()})`);
if (want.has('runtime')) await benchRuntime(n);
if (want.has('network')) await benchNetwork(n);
if (want.has('overhead')) {
  await benchOverhead(n);
  await benchOverheadPieces(n);
}
if (want.has('metrics')) await benchMetrics(Math.max(n, 20));
if (want.has('memory')) await benchMemory(1000);
// Each sample is a few probe runs of 10-30 s: at most 10 unless BENCH_N_LIMITS says otherwise.
if (want.has('limits')) await benchLimits(Number(process.env.BENCH_N_LIMITS ?? Math.min(n, 10)));
if (want.has('interference')) await benchInterference(Number(process.env.BENCH_N_SOLO ?? 6));
if (want.has('soak')) await benchSoak();
