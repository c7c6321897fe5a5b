import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { hostProbes } from '../../../probes/host/index.js';
import { parseDuration } from '../../../src/config/duration.js';
import { ProbeBaseSchema } from '../../../src/config/schema.js';

describe('host probe declarations', () => {
  it('are the seven host probes, each with defaults that parse', () => {
    expect(hostProbes.map((p) => p.name).sort()).toEqual(
      ['host.cpu', 'host.disk', 'host.hugepages', 'host.info', 'host.internet', 'host.memory', 'host.network'].sort(),
    );
    for (const p of hostProbes) {
      expect(p.family).toBe('host');
      const interval = parseDuration(p.defaults.interval)!;
      const timeout = parseDuration(p.defaults.timeout)!;
      expect(timeout).toBeGreaterThan(0);
      expect(timeout).toBeLessThan(interval);
    }
  });

  it.each(hostProbes.map((p) => [p.name, p] as const))(
    '%s options merge with the common probe settings, strictly',
    (_, p) => {
      // As the config loader does: common settings + the probe's own options, unknown keys rejected.
      const schema = ProbeBaseSchema.merge(p.options as z.AnyZodObject).strict();
      expect(schema.safeParse({ interval: '5m' }).success).toBe(true);
      const bad = schema.safeParse({ no_such_option: 1 });
      expect(bad.success).toBe(false);
    },
  );
});
