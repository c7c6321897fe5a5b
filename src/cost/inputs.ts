import type { RecordedSample } from '../probe/types.js';
import type { CostInputs } from './derive.js';

/**
 * Picks the cost model's inputs out of one target's recorded samples, with the same selectors and
 * `max` de-duplication as the recording rules: capacity peak and whether our cap stopped it,
 * sandbox and host multi-thread CPU scores, start p50 of the last run, measured template / snapshot bytes.
 */
export function costInputsFromSamples(samples: readonly RecordedSample[]): CostInputs {
  const inputs: CostInputs = {};
  const maxInto = (rec: Record<string, number>, key: string, v: number) => {
    rec[key] = rec[key] === undefined ? v : Math.max(rec[key], v);
  };
  const cpu: Record<string, number> = {};
  const hostCpu: Record<string, number> = {};
  const start: Record<string, number> = {};
  for (const s of samples) {
    switch (s.name) {
      case 'e2bbench_capacity_max_sandboxes':
        inputs.maxSandboxes = Math.max(inputs.maxSandboxes ?? s.value, s.value);
        break;
      case 'e2bbench_cpu_events_per_second':
        if (s.labels.threads === '1') break;
        if (s.labels.scope === 'sandbox') maxInto(cpu, s.labels.threads, s.value);
        if (s.labels.scope === 'host') maxInto(hostCpu, s.labels.threads, s.value);
        break;
      case 'e2bbench_capacity_limit_reached':
        // 1: the platform refused more sandboxes; 0: our own cap or budget stopped the run.
        inputs.capacityCapped = s.value === 0;
        break;
      case 'e2bbench_sandbox_start_last_seconds':
        if (s.labels.statistic === 'p50') maxInto(start, s.labels.start_type, s.value);
        break;
      case 'e2bbench_cost_template_bytes':
        inputs.templateBytes = Math.max(inputs.templateBytes ?? s.value, s.value);
        break;
      case 'e2bbench_cost_snapshot_bytes':
        inputs.snapshotBytes = Math.max(inputs.snapshotBytes ?? s.value, s.value);
        break;
    }
  }
  if (Object.keys(cpu).length) inputs.cpuEventsPerSecond = cpu;
  if (Object.keys(hostCpu).length) inputs.hostCpuEventsPerSecond = hostCpu;
  if (Object.keys(start).length) inputs.startSeconds = start;
  return inputs;
}
