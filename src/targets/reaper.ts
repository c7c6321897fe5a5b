import { Sandbox, type SandboxInfo } from 'e2b';
import type { MetricsRegistry } from '../../exporters/prometheus/registry.js';
import type { TargetConfig } from '../config/schema.js';
import { targetLabels } from '../dispatch/series.js';
import { connectionOf, hasSandboxService } from './connection.js';
import { DEADLINE_KEY, INSTANCE_KEY, OWNER_KEY, OWNER_VALUE } from './ownership.js';

/** Every sandbox on the target that carries our ownership mark, across all pages. */
export async function listOurSandboxes(target: TargetConfig): Promise<SandboxInfo[]> {
  const pager = Sandbox.list({
    ...connectionOf(target),
    query: { metadata: { [OWNER_KEY]: OWNER_VALUE }, state: ['running', 'paused'] },
    limit: 100,
  });
  const out: SandboxInfo[] = [];
  while (pager.hasNext) out.push(...(await pager.nextItems()));
  return out;
}

/**
 * Which of our sandboxes are leftovers: past the deadline their run wrote on them, or (at
 * start-up) created by an earlier process of this same instance, which can no longer own any.
 */
export function leftovers(sandboxes: SandboxInfo[], instance: string, now: number, startup: boolean): SandboxInfo[] {
  return sandboxes.filter((s) => {
    const deadline = Number(s.metadata[DEADLINE_KEY]);
    if (Number.isFinite(deadline) && now > deadline) return true;
    return startup && s.metadata[INSTANCE_KEY] === instance;
  });
}

export interface ReapResult {
  target: string;
  killed: string[];
  error?: string;
}

export async function reapTarget(
  target: TargetConfig,
  opts: { instance: string; startup: boolean; metrics: MetricsRegistry; log?: (l: string) => void },
): Promise<ReapResult> {
  if (!hasSandboxService(target)) return { target: target.name, killed: [] };
  // Exposed from the start at 0, so an increase alert sees the first leak too.
  opts.metrics.inc('e2bbench_sandboxes_leaked_total', targetLabels(target), 0);
  try {
    const ours = await listOurSandboxes(target);
    const dead = leftovers(ours, opts.instance, Date.now(), opts.startup);
    const killed: string[] = [];
    await Promise.all(
      dead.map(async (s) => {
        try {
          await Sandbox.kill(s.sandboxId, connectionOf(target));
          killed.push(s.sandboxId);
          opts.metrics.inc('e2bbench_sandboxes_leaked_total', targetLabels(target));
        } catch (err) {
          opts.log?.(`reaper: ${target.name}: could not kill ${s.sandboxId}: ${(err as Error).message}`);
        }
      }),
    );
    if (killed.length) opts.log?.(`reaper: ${target.name}: killed ${killed.length} leftover sandbox(es)`);
    return { target: target.name, killed };
  } catch (err) {
    opts.log?.(`reaper: ${target.name}: ${(err as Error).message}`);
    return { target: target.name, killed: [], error: (err as Error).message };
  }
}

/** Runs the reaper at start-up and then periodically over the current targets. */
export class Reaper {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly targets: () => TargetConfig[],
    private readonly opts: {
      instance: string;
      metrics: MetricsRegistry;
      intervalMs: number;
      log?: (l: string) => void;
    },
  ) {}

  async startup(): Promise<ReapResult[]> {
    const r = await Promise.all(this.targets().map((t) => reapTarget(t, { ...this.opts, startup: true })));
    this.timer = setInterval(() => void this.sweep(), this.opts.intervalMs);
    this.timer.unref();
    return r;
  }

  sweep(): Promise<ReapResult[]> {
    return Promise.all(this.targets().map((t) => reapTarget(t, { ...this.opts, startup: false })));
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
