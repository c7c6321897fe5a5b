import { Sandbox, type SandboxInfo } from 'e2b';
import type { MetricsRegistry } from '../../exporters/prometheus/registry.js';
import type { TargetConfig } from '../config/schema.js';
import { targetLabels } from '../dispatch/series.js';
import { apiUrlOf, connectionOf, hasSandboxService } from './connection.js';
import { DEADLINE_KEY, INSTANCE_KEY, OWNER_KEY, OWNER_VALUE, TARGET_KEY } from './ownership.js';

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

/**
 * Targets that reach one deployment with one key see the same sandboxes (e.g. one target per
 * template): each such group is listed and reaped once, so no sandbox is killed or counted twice.
 */
export function deployments(targets: TargetConfig[]): TargetConfig[][] {
  const groups = new Map<string, TargetConfig[]>();
  for (const t of targets.filter(hasSandboxService)) {
    const key = JSON.stringify([apiUrlOf(t), t.e2b?.api_key]);
    groups.set(key, [...(groups.get(key) ?? []), t]);
  }
  return [...groups.values()];
}

/**
 * The target a leftover counts under: the one it was created for, else (created by an older
 * version, or for a target since removed from the config) the first of its deployment.
 */
export function ownerOf(s: SandboxInfo, group: TargetConfig[]): TargetConfig {
  return group.find((t) => t.name === s.metadata[TARGET_KEY]) ?? group[0];
}

export interface ReapResult {
  targets: string[];
  killed: string[];
  error?: string;
}

export async function reapDeployment(
  group: TargetConfig[],
  opts: { instance: string; startup: boolean; metrics: MetricsRegistry; log?: (l: string) => void },
): Promise<ReapResult> {
  const names = group.map((t) => t.name);
  const where = names.join(', ');
  // Exposed from the start at 0, so an increase alert sees the first leak too.
  for (const t of group) opts.metrics.inc('e2bbench_sandboxes_leaked_total', targetLabels(t), 0);
  try {
    const ours = await listOurSandboxes(group[0]);
    const dead = leftovers(ours, opts.instance, Date.now(), opts.startup);
    const killed: string[] = [];
    await Promise.all(
      dead.map(async (s) => {
        try {
          // false: it went by itself since the listing (its timeout, another reaper): not ours to count.
          if (!(await Sandbox.kill(s.sandboxId, connectionOf(group[0])))) return;
          killed.push(s.sandboxId);
          opts.metrics.inc('e2bbench_sandboxes_leaked_total', targetLabels(ownerOf(s, group)));
        } catch (err) {
          opts.log?.(`reaper: ${where}: could not kill ${s.sandboxId}: ${(err as Error).message}`);
        }
      }),
    );
    if (killed.length) opts.log?.(`reaper: ${where}: killed ${killed.length} leftover sandbox(es)`);
    return { targets: names, killed };
  } catch (err) {
    opts.log?.(`reaper: ${where}: ${(err as Error).message}`);
    return { targets: names, killed: [], error: (err as Error).message };
  }
}

/** Runs the reaper at start-up and then periodically over the current targets. */
export class Reaper {
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<ReapResult[]>;

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
    const r = await this.reap(true);
    this.timer = setInterval(() => void this.sweep(), this.opts.intervalMs);
    this.timer.unref();
    return r;
  }

  /** One pass over every deployment; a pass still going (a slow service) is joined, not doubled. */
  sweep(): Promise<ReapResult[]> {
    this.sweeping ??= this.reap(false).finally(() => (this.sweeping = undefined));
    return this.sweeping;
  }

  private reap(startup: boolean): Promise<ReapResult[]> {
    return Promise.all(deployments(this.targets()).map((g) => reapDeployment(g, { ...this.opts, startup })));
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
