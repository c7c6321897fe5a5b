import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireLock, pidAlive, withLock } from '../../../src/local/template/lock.js';
import { removeDir, tempDir } from './helpers.js';

describe('file lock', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir('lock');
  });
  afterAll(async () => removeDir(dir));

  it('never lets two holders in at once', async () => {
    const path = join(dir, 'a.lock');
    let inside = 0;
    let maxInside = 0;
    const order: number[] = [];
    await Promise.all(
      [1, 2, 3, 4].map((i) =>
        withLock(path, async () => {
          inside++;
          maxInside = Math.max(maxInside, inside);
          await new Promise((r) => setTimeout(r, 20));
          order.push(i);
          inside--;
        }),
      ),
    );
    expect(maxInside).toBe(1);
    expect(order.sort()).toEqual([1, 2, 3, 4]);
    await expect(readFile(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('takes over a lock left by a dead process', async () => {
    const path = join(dir, 'stale.lock');
    const dead = spawnSync('true').pid!;
    expect(pidAlive(dead)).toBe(false);
    await writeFile(path, `${dead} ${hostname()} ${Date.now()}\n`);
    const lock = await acquireLock(path, { pollMs: 10 });
    expect((await readFile(path, 'utf8')).split(' ')[0]).toBe(String(process.pid));
    await lock.release();
  });

  it('waits for a live holder and can be aborted while waiting', async () => {
    const path = join(dir, 'busy.lock');
    // Held by another live process (pid 1 is always alive).
    await writeFile(path, `1 ${hostname()} ${Date.now()}\n`);
    const ac = new AbortController();
    let waitedFor = '';
    const pending = acquireLock(path, { signal: ac.signal, pollMs: 10, onWait: (h) => (waitedFor = h) });
    await new Promise((r) => setTimeout(r, 50));
    ac.abort(new Error('gave up'));
    await expect(pending).rejects.toThrow(/gave up/);
    expect(waitedFor.split(' ')[0]).toBe('1');
    expect((await readFile(path, 'utf8')).split(' ')[0]).toBe('1');
  });
});
