/** Metadata keys that mark a sandbox as created by e2b-bench (the reaper lists by them). */
export const OWNER_KEY = 'e2bbench_owner';
export const OWNER_VALUE = 'e2b-bench';
export const INSTANCE_KEY = 'e2bbench_instance';
/** The configured target the sandbox was created for (targets may share one deployment). */
export const TARGET_KEY = 'e2bbench_target';
export const PROBE_KEY = 'e2bbench_probe';
export const RUN_KEY = 'e2bbench_run';
/** Unix ms after which the sandbox is certainly a leftover (its run's timeout has passed). */
export const DEADLINE_KEY = 'e2bbench_deadline';

export interface Ownership {
  instance: string;
  target: string;
  probe: string;
  runId: string;
  deadlineMs: number;
}

export function ownershipMetadata(o: Ownership): Record<string, string> {
  return {
    [OWNER_KEY]: OWNER_VALUE,
    [INSTANCE_KEY]: o.instance,
    [TARGET_KEY]: o.target,
    [PROBE_KEY]: o.probe,
    [RUN_KEY]: o.runId,
    [DEADLINE_KEY]: String(Math.ceil(o.deadlineMs)),
  };
}
