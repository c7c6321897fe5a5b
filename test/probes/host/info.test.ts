import { release } from 'node:os';
import { describe, expect, it } from 'vitest';
import { hostInfo } from '../../../probes/host/index.js';
import { runProbe, samplesOf } from './helpers.js';

describe('host.info', () => {
  it('records CPU, kernel and tool versions as an _info metric', async () => {
    const ctx = await runProbe(hostInfo);
    const [info] = samplesOf(ctx, 'e2bbench_host_info');
    expect(info.value).toBe(1);
    const l = info.labels;
    expect(l.cpu_model.length).toBeGreaterThan(0);
    expect(l.cpu_vendor.length).toBeGreaterThan(0);
    expect(Number(l.cores)).toBeGreaterThanOrEqual(1);
    expect(Number(l.cores)).toBeLessThanOrEqual(Number(l.threads));
    expect(l.kernel).toBe(release());
    expect(l.sysbench_version).toMatch(/^\d+\.\d+/);
    expect(l.fio_version).toMatch(/^\d+\.\d+/);
    const tools = samplesOf(ctx, 'e2bbench_tool_info').map((s) => s.labels);
    expect(tools).toEqual(
      expect.arrayContaining([
        { probe: 'host.info', tool: 'sysbench', version: l.sysbench_version },
        { probe: 'host.info', tool: 'fio', version: l.fio_version },
      ]),
    );
    expect(ctx.details.versions).toEqual({ sysbench: l.sysbench_version, fio: l.fio_version });
  });

  it('rejects unknown options', () => {
    expect(() => hostInfo.options!.parse({ nope: 1 })).toThrow();
  });
});
