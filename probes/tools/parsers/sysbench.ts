import { matchNumber, parseError } from './text.js';

export interface SysbenchCpuResult {
  threads: number;
  eventsPerSecond: number;
  totalEvents: number;
  totalSeconds: number;
  latencySeconds: { min: number; avg: number; max: number; percentile: number; percentileRank: number };
}

export interface SysbenchMemoryResult {
  threads: number;
  operation: string;
  blockBytes: number;
  transferredBytes: number;
  bytesPerSecond: number;
  operationsPerSecond: number;
  totalSeconds: number;
}

const MIB = 1024 * 1024;

function checkHeader(text: string): void {
  if (!/^sysbench \d/m.test(text)) throw parseError('sysbench', 'not sysbench output', text);
}

function latency(text: string) {
  const ms = (label: string) =>
    matchNumber('sysbench', text, new RegExp(`^\\s*${label}:\\s+([\\d.]+)\\s*$`, 'm'), `latency ${label}`) / 1000;
  const pct = /^\s*(\d+)th percentile:\s+([\d.]+)\s*$/m.exec(text);
  if (!pct) throw parseError('sysbench', 'no latency percentile', text);
  return {
    min: ms('min'),
    avg: ms('avg'),
    max: ms('max'),
    percentile: Number(pct[2]) / 1000,
    percentileRank: Number(pct[1]),
  };
}

/** `sysbench cpu run` (1.0.x) text report. Latencies in seconds. */
export function parseSysbenchCpu(text: string): SysbenchCpuResult {
  checkHeader(text);
  return {
    threads: matchNumber('sysbench', text, /^Number of threads:\s*(\d+)/m, 'thread count'),
    eventsPerSecond: matchNumber('sysbench', text, /events per second:\s*([\d.]+)/, 'events per second'),
    totalEvents: matchNumber('sysbench', text, /total number of events:\s*(\d+)/, 'total events'),
    totalSeconds: matchNumber('sysbench', text, /total time:\s*([\d.]+)s/, 'total time'),
    latencySeconds: latency(text),
  };
}

const SIZE_UNITS: Record<string, number> = { B: 1, KiB: 1024, MiB: MIB, GiB: 1024 * MIB };

/** `sysbench memory run` (1.0.x) text report. Sizes in bytes. */
export function parseSysbenchMemory(text: string): SysbenchMemoryResult {
  checkHeader(text);
  const block = /block size:\s*(\d+)(B|KiB|MiB|GiB)/.exec(text);
  const op = /operation:\s*(\w+)/.exec(text);
  const xfer = /([\d.]+) MiB transferred \(([\d.]+) MiB\/sec\)/.exec(text);
  if (!block || !op) throw parseError('sysbench', 'no memory test options', text);
  if (!xfer) throw parseError('sysbench', 'no transfer rate', text);
  return {
    threads: matchNumber('sysbench', text, /^Number of threads:\s*(\d+)/m, 'thread count'),
    operation: op[1],
    blockBytes: Number(block[1]) * SIZE_UNITS[block[2]],
    transferredBytes: Number(xfer[1]) * MIB,
    bytesPerSecond: Number(xfer[2]) * MIB,
    operationsPerSecond: matchNumber(
      'sysbench',
      text,
      /Total operations:\s*\d+ \(\s*([\d.]+) per second\)/,
      'operations per second',
    ),
    totalSeconds: matchNumber('sysbench', text, /total time:\s*([\d.]+)s/, 'total time'),
  };
}

/** The "Nth percentile" latency line of any sysbench 1.0 report (cpu, memory), in seconds. */
export function parseSysbenchLatencyPercentile(text: string): { rank: number; seconds: number } {
  const m = /^\s*(\d+)th percentile:\s+([\d.]+)\s*$/m.exec(text);
  if (!m) throw parseError('sysbench', 'no latency percentile', text);
  return { rank: Number(m[1]), seconds: Number(m[2]) / 1000 };
}
