import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { hostExec, minimalOciConfig, parseContainerRuns, runContainerStarts } from '../../../probes/tools/index.js';
import { expectProbeError } from './expect-error.js';

// The measurement path of sandbox.container runs here against the host's runc (Debian `runc`,
// installed by set-up): no sandbox of this machine's runtime can start a container (its /proc
// cannot be mounted again in a nested namespace), and the template has no OCI runtime.
const hasRunc = spawnSync('runc', ['--version'], { stdio: 'ignore' }).status === 0;
const canRun = hasRunc && process.getuid?.() === 0;

describe('parseContainerRuns', () => {
  it('reads one duration per run and insists on the count', () => {
    const text = 'e2bbench-container 100.250000 100.500000\ne2bbench-container 101.000000 101.125000\n';
    expect(parseContainerRuns(text, 2)).toEqual([0.25, 0.125]);
    expectProbeError(() => parseContainerRuns(text, 3), 'parse_error', /2 runs for 3/);
    expectProbeError(() => parseContainerRuns('e2bbench-container 5.0 4.0\n', 1), 'parse_error', /end not after/);
  });
});

describe('minimalOciConfig', () => {
  it('maps a caller other than root to root in a user namespace, and only then', () => {
    const rootless = minimalOciConfig({ uid: 1000, gid: 1000 }) as { linux: Record<string, unknown> };
    expect(rootless.linux.namespaces).toContainEqual({ type: 'user' });
    expect(rootless.linux.uidMappings).toEqual([{ containerID: 0, hostID: 1000, size: 1 }]);
    const root = minimalOciConfig({ uid: 0, gid: 0 }) as { linux: Record<string, unknown> };
    expect(root.linux.namespaces).not.toContainEqual({ type: 'user' });
    expect(root.linux.uidMappings).toBeUndefined();
  });
});

describe.runIf(canRun)('runContainerStarts against the host’s runc', () => {
  it('times each run of a real container', async () => {
    const seconds = await runContainerStarts(
      hostExec,
      { runtime: 'runc', samples: 2 },
      { signal: AbortSignal.timeout(120_000) },
    );
    expect(seconds).toHaveLength(2);
    // A container start is more than a fork (namespaces, mounts, pivot_root) and less than a minute.
    for (const s of seconds) {
      expect(s).toBeGreaterThan(0.001);
      expect(s).toBeLessThan(60);
    }
  });

  it('a runtime that fails fails the run as command_failed, with no figure', async () => {
    // A runtime the script runs that is not an OCI runtime at all: `false` stands in for a broken one.
    await expect(
      runContainerStarts(hostExec, { runtime: 'false' as 'runc', samples: 1 }, { signal: AbortSignal.timeout(60_000) }),
    ).rejects.toMatchObject({ reason: 'command_failed' });
  });
});
