import { isRecord, parseEmbeddedJson, parseError } from '../../tools/index.js';
import { median } from '../../../src/stats/summary.js';

// Parsers of the JSON lines the e2b-template/bench/ programs print. Each checks the shape and the
// internal consistency of what it reads, so a truncated or tampered line cannot become a metric.

export interface SuiteBenchmark {
  name: string;
  repetitions: number;
  rounds: number;
  /** Median seconds of one repetition. */
  seconds: number;
  referenceSeconds: number;
  /** referenceSeconds / seconds. */
  score: number;
}

export interface SuiteResult {
  suiteVersion: number;
  runtime: 'python' | 'node';
  runtimeVersion: string;
  scale: number;
  benchmarks: SuiteBenchmark[];
  /** Geometric mean of the benchmark scores. */
  score: number;
}

export interface StartupResult {
  runtime: 'python' | 'node';
  n: number;
  seconds: number[];
  medianSeconds: number;
}

export interface AllocResult {
  bytes: number;
  pageBytes: number;
  seconds: number[];
  medianSeconds: number;
}

const RUNTIMES = ['python', 'node'] as const;

function positive(tool: string, obj: Record<string, unknown>, key: string): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw parseError(tool, `${key} is not a positive number`);
  return v;
}

function positiveInt(tool: string, obj: Record<string, unknown>, key: string): number {
  const v = positive(tool, obj, key);
  if (!Number.isInteger(v)) throw parseError(tool, `${key} is not an integer`);
  return v;
}

function string(tool: string, obj: Record<string, unknown>, key: string): string {
  const v = obj[key];
  if (typeof v !== 'string' || v === '') throw parseError(tool, `${key} is not a string`);
  return v;
}

function runtimeOf(tool: string, obj: Record<string, unknown>): 'python' | 'node' {
  const r = obj.runtime;
  if (!RUNTIMES.includes(r as 'python')) throw parseError(tool, `unknown runtime ${JSON.stringify(r)}`);
  return r as 'python' | 'node';
}

function samples(tool: string, obj: Record<string, unknown>, key: string): number[] {
  const v = obj[key];
  if (!Array.isArray(v) || v.length === 0) throw parseError(tool, `${key} is not a list of samples`);
  return v.map((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0) throw parseError(tool, `${key}[${i}] is not positive`);
    return x;
  });
}

function close(a: number, b: number, rel = 1e-6): boolean {
  return Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));
}

/** Output of python/suite.py or node/suite.mjs. */
export function parseSuiteOutput(text: string): SuiteResult {
  const tool = 'bench suite';
  const doc = parseEmbeddedJson(tool, text);
  if (!isRecord(doc) || doc.suite !== 'e2b-bench') throw parseError(tool, 'not an e2b-bench suite result', text);
  const list = doc.benchmarks;
  if (!Array.isArray(list) || list.length === 0) throw parseError(tool, 'no benchmarks');
  const benchmarks = list.map((b): SuiteBenchmark => {
    if (!isRecord(b)) throw parseError(tool, 'benchmark entry is not an object');
    const r = {
      name: string(tool, b, 'name'),
      repetitions: positiveInt(tool, b, 'repetitions'),
      rounds: positiveInt(tool, b, 'rounds'),
      seconds: positive(tool, b, 'seconds'),
      referenceSeconds: positive(tool, b, 'reference_seconds'),
      score: positive(tool, b, 'score'),
    };
    if (!close(r.score, r.referenceSeconds / r.seconds))
      throw parseError(tool, `${r.name}: score is not reference / seconds`);
    return r;
  });
  if (new Set(benchmarks.map((b) => b.name)).size !== benchmarks.length) throw parseError(tool, 'duplicate benchmark');
  const score = positive(tool, doc, 'score');
  const geomean = Math.exp(benchmarks.reduce((a, b) => a + Math.log(b.score), 0) / benchmarks.length);
  if (!close(score, geomean)) throw parseError(tool, 'score is not the geometric mean of the benchmark scores');
  return {
    suiteVersion: positiveInt(tool, doc, 'suite_version'),
    runtime: runtimeOf(tool, doc),
    runtimeVersion: string(tool, doc, 'runtime_version'),
    scale: positive(tool, doc, 'scale'),
    benchmarks,
    score,
  };
}

/** Output of python/startup.py or node/startup.mjs. */
export function parseStartupOutput(text: string): StartupResult {
  const tool = 'startup bench';
  const doc = parseEmbeddedJson(tool, text);
  if (!isRecord(doc)) throw parseError(tool, 'not an object', text);
  const s = samples(tool, doc, 'seconds');
  const n = positiveInt(tool, doc, 'n');
  if (s.length !== n) throw parseError(tool, `${s.length} samples for n=${n}`);
  const medianSeconds = positive(tool, doc, 'median_seconds');
  if (!close(medianSeconds, median(s))) throw parseError(tool, 'median_seconds is not the median of the samples');
  return { runtime: runtimeOf(tool, doc), n, seconds: s, medianSeconds };
}

/** Output of alloc.py. */
export function parseAllocOutput(text: string): AllocResult {
  const tool = 'alloc bench';
  const doc = parseEmbeddedJson(tool, text);
  if (!isRecord(doc)) throw parseError(tool, 'not an object', text);
  const s = samples(tool, doc, 'seconds');
  const medianSeconds = positive(tool, doc, 'median_seconds');
  if (!close(medianSeconds, median(s))) throw parseError(tool, 'median_seconds is not the median of the samples');
  const bytes = positiveInt(tool, doc, 'bytes');
  const pageBytes = positiveInt(tool, doc, 'page_bytes');
  if (bytes % pageBytes !== 0) throw parseError(tool, 'bytes is not a whole number of pages');
  return { bytes, pageBytes, seconds: s, medianSeconds };
}
