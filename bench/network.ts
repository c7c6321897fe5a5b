import { Sandbox } from 'e2b';
import { randomId } from '../src/local/core/ids.js';
import { SandboxNetwork } from '../src/local/driver/netns.js';
import type { NetworkMode } from '../src/local/driver/types.js';
import { startLocalRuntime, type LocalRuntime } from '../src/local/index.js';
import { printRows, row, timeMs, type Row } from './stats.js';

const progress = (m: string) => process.stderr.write(`${new Date().toISOString()} ${m}\n`);

/** create → first command through the SDK, then kill (not timed). */
async function startOnce(rt: LocalRuntime): Promise<number> {
  const conn = { apiKey: rt.apiKey, apiUrl: rt.apiUrl, sandboxUrl: rt.sandboxUrl };
  let s: Sandbox | undefined;
  const ms = await timeMs(async () => {
    s = await Sandbox.create('base', conn);
    await s.commands.run('true');
  });
  await s!.kill();
  return ms;
}

/**
 * What the isolated network costs a start, in one run: warm (pool) and cached (no pool) starts of
 * runtimes with `isolated` and `host` networks, alternated sample by sample so load hits both
 * alike; plus the set-up of one namespace (netns, veth on the bridge, address, route), which the
 * runtime does ahead of starts.
 */
export async function benchNetwork(n: number): Promise<void> {
  const modes: NetworkMode[] = ['isolated', 'host'];
  const runtimes: { mode: NetworkMode; pool: number; rt: LocalRuntime; ms: number[] }[] = [];
  const rows: Row[] = [];
  try {
    for (const mode of modes)
      for (const pool of [1, 0])
        runtimes.push({ mode, pool, rt: await startLocalRuntime({ network: mode, poolSize: pool }), ms: [] });
    await Promise.all(
      runtimes.map((r) =>
        fetch(`${r.rt.apiUrl}/admin/pool/refill`, {
          method: 'POST',
          headers: { authorization: `Bearer ${r.rt.adminToken}` },
        }),
      ),
    );
    for (let i = 0; i < n; i++) {
      progress(`network: sample ${i + 1}/${n}`);
      const order = i % 2 === 0 ? runtimes : [...runtimes].reverse();
      for (const r of order) {
        await new Promise((res) => setTimeout(res, 300)); // pool and prepared namespaces refill between claims
        r.ms.push(await startOnce(r.rt));
      }
    }
  } finally {
    await Promise.all(runtimes.map((r) => r.rt.stop()));
  }
  for (const pool of [1, 0]) {
    const host = runtimes.find((r) => r.mode === 'host' && r.pool === pool)!;
    const hostRow = row(`namespace ${pool ? 'warm (pool)' : 'cached (no pool)'} start, network host`, host.ms);
    const iso = runtimes.find((r) => r.mode === 'isolated' && r.pool === pool)!;
    const isoRow = row(`namespace ${pool ? 'warm (pool)' : 'cached (no pool)'} start, network isolated`, iso.ms);
    isoRow.note = `${(isoRow.p50 - hostRow.p50).toFixed(1)} ms over host at p50`;
    rows.push(isoRow, hostRow);
  }
  // Set-up of one namespace as the runtime does it ahead of time (nothing prepared: each take makes one).
  const net = await SandboxNetwork.start({ runtimeId: randomId(8), prepared: 0 });
  try {
    const setup: number[] = [];
    for (let i = 0; i < n; i++) {
      let slot: Awaited<ReturnType<SandboxNetwork['take']>> | undefined;
      setup.push(await timeMs(async () => (slot = await net.take())));
      await net.release(slot!);
    }
    rows.push(row('one sandbox namespace set-up (netns, veth, address, route), done ahead of starts', setup));
  } finally {
    await net.stop();
  }
  printRows('Sandbox network isolation: start cost', rows);
}
