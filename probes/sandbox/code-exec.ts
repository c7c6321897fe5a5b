import { posix } from 'node:path';
import { z } from 'zod';
import { ProbeError } from '../../src/probe/reasons.js';
import { bench, runOptions, runTool } from '../tools/index.js';
import { ensureBench, measureSandboxes, defineSandboxProbe } from './common.js';
import { parseStartupOutput, parseSuiteOutput } from './parsers/bench.js';
import { RUNTIME_COMMANDS, type Runtime } from './parsers/runtime-version.js';

/** Suite and start-time scripts of each runtime, relative to the bench directory. */
export const RUNTIME_SCRIPTS: Record<Runtime, { suite: string; startup: string }> = {
  python: { suite: 'python/suite.py', startup: 'python/startup.py' },
  node: { suite: 'node/suite.mjs', startup: 'node/startup.mjs' },
};

export const sandboxCodeExec = defineSandboxProbe({
  name: 'sandbox.code_exec',
  description:
    'Pinned self-checking CPU-bound suites (n-body, spectral-norm, fannkuch, richards, JSON round trip, regex) in Python and Node inside a sandbox: seconds per benchmark, geometric-mean score against fixed reference times, and interpreter start time (python3 -c pass, node -e 0).',
  defaults: { interval: '15m', timeout: '5m', samples: 1 },
  options: {
    runtimes: z
      .array(z.enum(['python', 'node']))
      .min(1)
      .default(['python', 'node']),
    /** Repetitions of each benchmark = max(1, round(3 × scale)); the median repetition is reported. */
    scale: z.number().positive().max(100).default(1),
    /** Timed interpreter starts per sample (their median is the sample). */
    startup_runs: z.number().int().min(1).max(100).default(10),
  },
  load: ['cpu'],
  async run(ctx) {
    const opts = ctx.settings.options;
    const o = runOptions(ctx);
    const versions = { runtimes: opts.runtimes, bench: true };
    await measureSandboxes(ctx, { versions, raw: 'suites' }, async (sb, m) => {
      const dir = await ensureBench(ctx, sb);
      for (let i = 0; i < ctx.settings.samples; i++) {
        for (const runtime of opts.runtimes) {
          const cmd = RUNTIME_COMMANDS[runtime];
          const scripts = RUNTIME_SCRIPTS[runtime];
          // A wrong answer exits 1 with "wrong result: …" on stderr: command_failed, no score.
          const suite = await bench(
            ctx,
            `suite.${runtime}`,
            async () => {
              const r = await runTool(sb.exec, cmd, [posix.join(dir, scripts.suite), '--scale', String(opts.scale)], {
                ...o,
                timeoutMs: Math.max(120_000, 60_000 * opts.scale),
              });
              return parseSuiteOutput(r.stdout);
            },
            { runtime, sandbox: sb.index },
          );
          if (suite.runtime !== runtime) {
            throw new ProbeError('parse_error', `${scripts.suite} reported runtime ${suite.runtime}`);
          }
          m.add('e2bbench_code_exec_score', { runtime }, suite.score);
          for (const b of suite.benchmarks) {
            m.add('e2bbench_code_exec_seconds', { runtime, benchmark: b.name }, b.seconds);
          }
          const start = await bench(
            ctx,
            `startup.${runtime}`,
            async () => {
              const r = await runTool(
                sb.exec,
                cmd,
                [posix.join(dir, scripts.startup), '--n', String(opts.startup_runs)],
                { ...o, timeoutMs: 60_000 + opts.startup_runs * 10_000 },
              );
              return parseStartupOutput(r.stdout);
            },
            { runtime, sandbox: sb.index },
          );
          m.add('e2bbench_interpreter_start_seconds', { runtime }, start.medianSeconds);
          m.keep({ suite, startup: start });
        }
      }
    });
  },
});
