import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hostCpu } from '../../../probes/host/cpu.js';
import { sandboxCpu } from '../../../probes/sandbox/cpu.js';
import { sysbenchCpuArgs } from '../../../probes/tools/index.js';

describe("the seed's sysbench cpu setting", () => {
  it('host and sandbox CPU probes default to --cpu-max-prime=10000 (option kept)', () => {
    for (const probe of [hostCpu, sandboxCpu]) {
      expect(probe.options!.parse({}).max_prime, probe.name).toBe(10000);
      expect(probe.options!.parse({ max_prime: 20000 }).max_prime).toBe(20000);
    }
    expect(sysbenchCpuArgs({ threads: 2, seconds: 1 })).toContain('--cpu-max-prime=10000');
  });

  it('docs/probes.md shows 10000 as the default of both', () => {
    const doc = readFileSync(new URL('../../../docs/probes.md', import.meta.url), 'utf8');
    for (const name of ['host.cpu', 'sandbox.cpu']) {
      const section = doc.slice(doc.indexOf(`## ${name}`)).split('\n## ')[0];
      expect(section, name).toMatch(/\| `max_prime` \| number \| `10000` \|/);
    }
  });
});
