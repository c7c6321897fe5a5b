import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../exporters/prometheus/registry.js';
import { TargetSchema } from '../../src/config/schema.js';
import { Budget } from '../../src/targets/budget.js';
import { RunSandboxBroker } from '../../src/targets/broker.js';

// No sandbox service is needed: both paths end before the SDK is called.
describe('sandbox broker accounting', () => {
  const target = TargetSchema.parse({
    name: 't',
    cloud_provider: 'local',
    e2b: { api_url: 'http://127.0.0.1:9', sandbox_url: 'http://127.0.0.1:9', api_key: 'k' },
  });
  const setup = (limits = { max_concurrent_sandboxes: 1, max_sandbox_minutes_per_hour: 60 }) => {
    const metrics = new MetricsRegistry();
    const budget = new Budget(limits);
    const broker = new RunSandboxBroker(
      { runId: 'r', probe: 'lifecycle.ops', target, timeoutMs: 1000 },
      { metrics, budget, instance: 'unit' },
    );
    return { metrics, budget, broker };
  };
  const inFlight = async (metrics: MetricsRegistry) =>
    (await metrics.render(false)).body.match(/^e2bbench_sandboxes_in_flight\{.*\} (\S+)$/m)?.[1];

  it('a create after close reserves neither budget nor an in-flight slot', async () => {
    const { metrics, budget, broker } = setup();
    await broker.close();
    await expect(broker.create()).rejects.toThrow(/run is over/);
    // The only slot is still free, and nothing was counted in flight.
    expect(budget.refusal('t')).toBeUndefined();
    expect(budget.minutesUsed('t')).toBe(0);
    expect(await inFlight(metrics)).toBeUndefined();
  });

  it('a create over budget is skipped with reason budget and counts nothing', async () => {
    const { metrics, budget, broker } = setup({ max_concurrent_sandboxes: 1, max_sandbox_minutes_per_hour: 0 });
    await expect(broker.create()).rejects.toMatchObject({ reason: 'budget' });
    expect(budget.minutesUsed('t')).toBe(0);
    expect(await inFlight(metrics)).toBeUndefined();
  });
});
