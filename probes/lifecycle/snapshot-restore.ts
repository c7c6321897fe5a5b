import { randomBytes } from 'node:crypto';
import { Sandbox } from 'e2b';
import { ProbeError } from '../../src/probe/reasons.js';
import { defineProbe, type ProbeContext } from '../../src/probe/types.js';
import { sleep } from '../../src/probe/sleep.js';
import { collectSamples, reportStarts, timedKill, timedStart, startOptions } from './sample.js';
import { median } from '../../src/stats/summary.js';

const STATE_FILE = '/tmp/e2bbench-state';
const COUNTER_FILE = '/tmp/e2bbench-counter';
// A process whose state lives only in its memory: a counter that a restart would reset.
const COUNTER_CMD = `i=0; while :; do i=$((i+1)); echo $i > ${COUNTER_FILE}; sleep 0.1; done`;

async function readCounter(sbx: Sandbox): Promise<number> {
  const r = await sbx.commands.run(`cat ${COUNTER_FILE} 2>/dev/null || echo 0`);
  return Number(r.stdout.trim()) || 0;
}

async function waitCounter(sbx: Sandbox, atLeast: number, signal: AbortSignal): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const v = await readCounter(sbx);
    if (v >= atLeast) return v;
    await sleep(100, signal);
  }
  throw new ProbeError('sandbox_error', `state process did not count to ${atLeast}`);
}

/** Checks that the file and the counting process survived pause + resume with their state. */
async function verifyState(
  ctx: ProbeContext<unknown>,
  sbx: Sandbox,
  token: string,
  pid: number,
  before: number,
): Promise<void> {
  const content = (await sbx.files.read(STATE_FILE)).trim();
  if (content !== token) throw new ProbeError('sandbox_error', 'file written before pause did not survive the resume');
  // The counter must move on past its value at pause time: a dead process would leave it still.
  const after = await waitCounter(sbx, before + 1, ctx.signal).catch(() => {
    throw new ProbeError('sandbox_error', `process started before pause (pid ${pid}) did not survive the resume`);
  });
  // A restarted process would count from 1 again; a restored one continues from where it was.
  if (after < before)
    throw new ProbeError('sandbox_error', `process memory lost: counter ${before} before pause, ${after} after`);
}

export const snapshotRestore = defineProbe({
  name: 'lifecycle.snapshot_restore',
  family: 'lifecycle',
  description: 'Pause (snapshot) a sandbox holding file and process state, resume it, verify the state',
  defaults: { interval: '15m', timeout: '10m', samples: 10 },
  options: startOptions.strict(),
  requires: ['sandbox'],
  async run(ctx) {
    const o = ctx.settings.options;
    const template = ctx.target.template;
    const pause_kind = (await ctx.services.admin?.pauseKind(ctx.signal)) ?? 'snapshot';
    ctx.detail('pause_kind', pause_kind);
    const series = { template, start_type: 'restore', pause_kind } as const;
    const pauseSeconds: number[] = [];
    let memoryGiB = 0;
    const outcomes = await collectSamples(ctx, ctx.settings.samples, o.pause_between * 1000, async () => {
      const sbx = await ctx.phase('sandbox.create', () => ctx.sandboxes.create({ template })).then((t) => t.value);
      const token = randomBytes(16).toString('hex');
      const { value: pid } = await ctx.phase('sandbox.write_state', async () => {
        await sbx.files.write(STATE_FILE, token);
        const h = await sbx.commands.run(COUNTER_CMD, { background: true });
        return h.pid;
      });
      const before = await waitCounter(sbx, 3, ctx.signal);
      if (!memoryGiB) memoryGiB = (await sbx.getInfo()).memoryMB / 1024;
      const paused = await ctx.phase('sandbox.pause', () => sbx.pause());
      pauseSeconds.push(paused.seconds);
      ctx.observe(
        'e2bbench_sandbox_phase_seconds',
        { template, start_type: 'restore', pause_kind, phase: 'pause' },
        paused.seconds,
      );
      const s = await timedStart(ctx, series, {
        phase: 'connect',
        span: 'sandbox.resume',
        fn: () => Sandbox.connect(sbx.sandboxId, { ...ctx.sandboxes.connection, timeoutMs: ctx.settings.timeoutMs }),
      });
      await ctx.phase('sandbox.verify_state', () => verifyState(ctx, s.sandbox, token, pid, before));
      await timedKill(ctx, s.sandbox, series);
      return s.seconds;
    });
    if (pauseSeconds.length && memoryGiB > 0) {
      ctx.gauge('e2bbench_sandbox_pause_seconds_per_gib', { template, pause_kind }, median(pauseSeconds) / memoryGiB);
    }
    ctx.detail('pause_seconds', pauseSeconds);
    reportStarts(ctx, series, outcomes, o.min_success_ratio);
  },
});
