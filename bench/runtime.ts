import { execa } from 'execa';
import { Sandbox } from 'e2b';
import { startLocalRuntime } from '../src/local/index.js';
import { NodeTemplateCache } from '../src/local/template/index.js';
import { printRows, row, timeMs, type Row } from './stats.js';

/**
 * Raw bubblewrap spawn of the same first command over the same template rootfs: the floor any
 * namespace sandbox sits on.
 */
async function rawBwrap(n: number): Promise<number[]> {
  const provider = new NodeTemplateCache();
  const t = await provider.ensure('base');
  try {
    const args = ['--ro-bind', t.rootfs, '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp'];
    args.push('--unshare-pid', '--unshare-ipc', '--unshare-uts', '--die-with-parent', 'bash', '-l', '-c', 'true');
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(await timeMs(() => execa('bwrap', args, { timeout: 30_000 })));
    return out;
  } finally {
    await t.release();
  }
}

const progress = (m: string) => process.stderr.write(`${new Date().toISOString()} ${m}\n`);

async function driverRows(driver: 'namespace' | 'gvisor', n: number): Promise<Row[]> {
  const rt = await startLocalRuntime({ driver, poolSize: 1 });
  const conn = { apiKey: rt.apiKey, apiUrl: rt.apiUrl, sandboxUrl: rt.sandboxUrl };
  const admin = (path: string, method = 'POST') =>
    fetch(`${rt.apiUrl}${path}`, { method, headers: { authorization: `Bearer ${rt.adminToken}` } });
  /** Until the pool holds a sandbox again (the refill a warm start set off has ended). */
  const poolFull = async () => {
    for (let i = 0; i < 200; i++) {
      const status = (await (await admin('/admin/status', 'GET')).json()) as { pool: Record<string, number> };
      if ((status.pool.base ?? 0) >= 1) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    // Measuring on would label a contended restore as a quiet one.
    throw new Error('the warm pool did not refill within 10 s');
  };
  const start = async () => {
    const t = performance.now();
    const s = await Sandbox.create('base', conn);
    await s.commands.run('true');
    return { s, ms: performance.now() - t };
  };
  const cold: number[] = [];
  const warm: number[] = [];
  const restore: number[] = [];
  const restoreQuiet: number[] = [];
  const pause: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      progress(`${driver}: cold ${i + 1}/${n}`);
      await admin('/admin/templates/base/evict');
      const c = await start();
      cold.push(c.ms);
      await c.s.kill();
    }
    await admin('/admin/pool/refill');
    for (let i = 0; i < n; i++) {
      progress(`${driver}: warm + pause + restore ${i + 1}/${n}`);
      await new Promise((r) => setTimeout(r, 300)); // let the pool refill between claims
      const w = await start();
      warm.push(w.ms);
      pause.push(await timeMs(() => w.s.pause()));
      const t = performance.now();
      const r = await Sandbox.connect(w.s.sandboxId, conn);
      await r.commands.run('true');
      restore.push(performance.now() - t);
      await r.kill();
      progress(`${driver}: sample ${i + 1} done`);
    }
    // The same restore once the pool refill set off by the warm start has ended: the runtime's
    // own background work no longer competes with it (what a probe sees with starts spread out).
    for (let i = 0; i < n; i++) {
      progress(`${driver}: restore on a quiet runtime ${i + 1}/${n}`);
      await poolFull();
      const w = await start();
      await poolFull();
      await w.s.pause();
      const t = performance.now();
      const r = await Sandbox.connect(w.s.sandboxId, conn);
      await r.commands.run('true');
      restoreQuiet.push(performance.now() - t);
      await r.kill();
    }
  } finally {
    progress(`${driver}: stopping the runtime`);
    await rt.stop();
  }
  return [
    row(`${driver} cold (evict → create → true)`, cold),
    row(`${driver} warm (pool → create → true)`, warm),
    row(`${driver} pause (${rt.pauseKind})`, pause),
    row(`${driver} restore (connect → true)`, restore),
    row(`${driver} restore, pool refill ended first`, restoreQuiet),
  ];
}

export async function benchRuntime(n: number): Promise<void> {
  const raw = row('raw bwrap over the template rootfs, bash -l -c true', await rawBwrap(n));
  const rows: Row[] = [raw];
  for (const driver of ['namespace', 'gvisor'] as const) {
    try {
      const r = await driverRows(driver, n);
      for (const x of r) x.note = `${(x.p50 / raw.p50).toFixed(1)}× raw bwrap at p50`;
      rows.push(...r);
    } catch (err) {
      rows.push({
        name: `${driver}: not measured`,
        n: 0,
        p50: NaN,
        p95: NaN,
        unit: 'ms',
        note: (err as Error).message.slice(0, 120),
      });
    }
  }
  printRows('Local runtime start times', rows);
}
