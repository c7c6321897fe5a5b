import { describe, expect, it } from 'vitest';
import { WarmPool, type PooledSandbox } from '../../../src/local/core/pool.js';
import type { ResolvedTemplate } from '../../../src/local/core/templates.js';
import type { DriverSandbox } from '../../../src/local/driver/types.js';

function fakePool(size: number) {
  let started = 0;
  const destroyed: string[] = [];
  const deaths = new Map<string, () => void>();
  const pool = new WarmPool({
    sizeFor: () => size,
    async start(template) {
      const id = `${template}-${++started}`;
      let die!: () => void;
      const exited = new Promise<void>((r) => (die = r));
      deaths.set(id, die);
      await new Promise((r) => setTimeout(r, 1));
      return {
        template: { name: template } as ResolvedTemplate,
        sandbox: { id, spec: {}, exited } as unknown as DriverSandbox,
        dead: false,
      } satisfies PooledSandbox;
    },
    async destroy(p) {
      destroyed.push(p.sandbox.id);
    },
  });
  return { pool, destroyed, deaths, started: () => started };
}

describe('warm pool', () => {
  it('refills after claims, also when a refill found it already full', async () => {
    const { pool, started } = fakePool(1);
    await pool.refill('base');
    await pool.refill('base'); // nothing to do: must not leave a stale fill behind
    expect(pool.count('base')).toBe(1);
    for (let i = 0; i < 3; i++) {
      expect(pool.claim('base')).toBeDefined();
      expect(pool.count('base')).toBe(0);
      await pool.refill('base');
      expect(pool.count('base')).toBe(1);
    }
    expect(started()).toBe(4);
  });

  it('deduplicates concurrent refills and skips dead sandboxes on claim', async () => {
    const { pool, deaths, destroyed, started } = fakePool(2);
    await Promise.all([pool.refill('base'), pool.refill('base'), pool.refill('base')]);
    expect(started()).toBe(2);
    deaths.get('base-1')!();
    await new Promise((r) => setTimeout(r, 0));
    const p = pool.claim('base');
    expect(p?.sandbox.id).toBe('base-2');
    expect(destroyed).toEqual(['base-1']);
    expect(pool.claim('base')).toBeUndefined();
  });

  it('drains idle and in-flight sandboxes', async () => {
    const { pool, destroyed } = fakePool(2);
    await pool.refill('base');
    const inflight = pool.refill('small');
    expect(await pool.drain()).toBe(2);
    await inflight;
    expect(pool.count()).toBe(0);
    expect(destroyed.sort()).toEqual(['base-1', 'base-2', 'small-3']);
  });
});
