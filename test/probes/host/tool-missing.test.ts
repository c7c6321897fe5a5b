import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  hostCpu,
  hostDisk,
  hostHugepages,
  hostInfo,
  hostInternet,
  hostMemory,
  hostNetwork,
} from '../../../probes/host/index.js';
import { ProbeError } from '../../../src/probe/reasons.js';
import { pathWith, runProbe, valueOf, withPath } from './helpers.js';

// Only the coreutils the probes read /proc with; none of the benchmark tools.
const path = pathWith(['cat', 'uname', 'nproc', 'rm']);
afterAll(() => rmSync(path, { recursive: true, force: true }));

describe('a missing tool', () => {
  it.each([
    [hostCpu, {}, 'sysbench'],
    [hostMemory, {}, 'sysbench'],
    [hostDisk, {}, 'fio'],
    [hostNetwork, { server: '127.0.0.1:9' }, 'iperf3'],
    [hostInternet, { url: 'http://127.0.0.1:9/object' }, 'curl'],
    [hostHugepages, {}, 'stress-ng'],
  ] as const)('%s fails with tool_missing naming the package', async (probe, options, pkg) => {
    const err = await withPath(path, () => runProbe(probe as never, options)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProbeError);
    expect((err as ProbeError).reason).toBe('tool_missing');
    expect((err as ProbeError).message).toBe(`${pkg} not found: install the Debian package ${pkg}`);
  });

  it('host.info still reports, with the version "not_installed"', async () => {
    const ctx = await withPath(path, () => runProbe(hostInfo));
    expect(
      valueOf(ctx, 'e2bbench_host_info', { sysbench_version: 'not_installed', fio_version: 'not_installed' }),
    ).toBe(1);
  });
});
