/** Metadata keys that mark a sandbox as created by e2b-bench (the reaper lists by them). */
export const OWNER_KEY = 'e2bbench_owner';
export const OWNER_VALUE = 'e2b-bench';
export const INSTANCE_KEY = 'e2bbench_instance';
export const PROBE_KEY = 'e2bbench_probe';
export const RUN_KEY = 'e2bbench_run';
/** Unix ms after which the sandbox is certainly a leftover (its run's timeout has passed). */
export const DEADLINE_KEY = 'e2bbench_deadline';

export function ownershipMetadata(
  instance: string,
  probe: string,
  runId: string,
  deadlineMs: number,
): Record<string, string> {
  return {
    [OWNER_KEY]: OWNER_VALUE,
    [INSTANCE_KEY]: instance,
    [PROBE_KEY]: probe,
    [RUN_KEY]: runId,
    [DEADLINE_KEY]: String(Math.ceil(deadlineMs)),
  };
}
