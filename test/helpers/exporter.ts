import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Exporter } from '../../src/app/exporter.js';
import { defaultPlugins } from '../../src/app/plugins.js';

/** Writes a YAML config to a temporary file; returns its path and a remover. */
export function tempConfig(yaml: string): { file: string; dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'e2bbench-test-'));
  const file = join(dir, 'config.yml');
  writeFileSync(file, yaml);
  return { file, dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** An in-process exporter with the production plugins (embedded runtime, broker, reaper), no scheduler. */
export async function startExporter(yaml: string, opts: { schedule?: boolean; logs?: string[] } = {}) {
  const cfg = tempConfig(yaml);
  const exp = await Exporter.start(
    { configFile: cfg.file, schedule: opts.schedule ?? false, log: (l) => opts.logs?.push(l) },
    defaultPlugins((l) => opts.logs?.push(l)),
  );
  // Runs started through run(): settle() aborts them and waits until their sandboxes are gone.
  const inFlight = new Map<Promise<unknown>, AbortController>();
  const settle = async () => {
    for (const ac of inFlight.values()) ac.abort(new Error('the test ended before the run'));
    await Promise.allSettled([...inFlight.keys()]);
  };
  return {
    exp,
    cfg,
    url: `http://${exp.address}`,
    run(probe: string, target = exp.targets[0].name) {
      const pc = exp.config.probes.get(probe);
      if (!pc) throw new Error(`no probe ${probe}`);
      // Host probes measure this machine, as the dispatcher runs them.
      const t = pc.probe.family === 'host' ? exp.machine : exp.targets.find((x) => x.name === target)!;
      const ac = new AbortController();
      const running = exp.runner.run({ ...pc, enabled: true }, t, { trigger: 'cli', signal: ac.signal });
      inFlight.set(running, ac);
      void running.finally(() => inFlight.delete(running)).catch(() => undefined);
      return running;
    },
    /**
     * Aborts runs still going (their test timed out) and waits for them to end; the runner kills
     * their sandboxes before a run ends. Call it first in afterEach, so the next test starts clean.
     */
    settle,
    async stop() {
      await settle();
      await exp.stop();
      cfg.remove();
    },
  };
}
