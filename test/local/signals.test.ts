import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { canRunSandboxes, mountsWith } from './helpers.js';

function describeProc(pid: number): string {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').slice(0, 7).join(' ');
    return `${status} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8')}`;
  } catch {
    return `${pid} gone`;
  }
}

function groupPids(dirs: string[]): number[] {
  const pids = new Set<number>();
  for (const d of dirs) {
    if (!existsSync(d)) continue;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      for (const l of readFileSync(path.join(d, e.name, 'cgroup.procs'), 'utf8').split('\n'))
        if (l.trim()) pids.add(Number(l));
    }
  }
  return [...pids];
}

describe.skipIf(!canRunSandboxes)('local runtime: SIGTERM of the embedding process', () => {
  it('kills every sandbox (running and frozen), unmounts and removes the cgroups', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(import.meta.dirname, 'fixtures/embedded-runtime.ts')],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`fixture exited early (${code})`)));
      });
      const info = JSON.parse(line) as { dataDir: string; cgroupDirs: string[] };
      const pids = groupPids(info.cgroupDirs);
      expect(pids.length).toBeGreaterThan(4);
      expect(mountsWith(info.dataDir).length).toBe(2);
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(143);
      expect(mountsWith(info.dataDir)).toEqual([]);
      for (const d of info.cgroupDirs) expect(existsSync(d)).toBe(false);
      // Left: at most zombies waiting for the host init to reap them.
      const alive = pids.filter((p) => {
        try {
          return !/^State:\s+Z/m.test(readFileSync(`/proc/${p}/status`, 'utf8'));
        } catch {
          return false;
        }
      });
      expect(alive.map(describeProc)).toEqual([]);
      expect(existsSync(info.dataDir)).toBe(false);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
