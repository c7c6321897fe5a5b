import type { RecordedSample, Trigger } from '../probe/types.js';
import type { FailureReason, SkipReason } from '../probe/reasons.js';

export interface PhaseRecord {
  name: string;
  startOffsetSeconds: number;
  seconds: number;
  error?: string;
}

export interface RunRecord {
  id: string;
  probe: string;
  target: string;
  trigger: Trigger;
  startedAt: string;
  endedAt: string;
  durationSeconds: number;
  success: boolean;
  reason?: FailureReason;
  skipped?: SkipReason;
  message?: string;
  traceId: string;
  /** How the run used this machine (absent: its work happened elsewhere) and how long it waited for that. */
  machine?: { use: 'exclusive' | 'shared'; waitedSeconds: number };
  /**
   * Host probes: the machine they measured, and the target it was placed under (`host: self`), if
   * any. Reports list a machine under no target apart from the targets.
   */
  host?: { name: string; cloud_provider: string; cloud_region: string; instance_type: string; target?: string };
  phases: PhaseRecord[];
  logs: string[];
  details: Record<string, unknown>;
  /** Every gauge value and histogram observation the run recorded, with the target labels. */
  metrics: RecordedSample[];
  /** Effective probe settings (no secrets: probe options never hold credentials). */
  settings: { intervalSeconds: number; timeoutSeconds: number; samples: number; options: Record<string, unknown> };
}

/** What a caller of an on-demand or CLI run gets back; `debug` adds phases, logs, details and settings. */
export function runSummary(run: RunRecord, debug: boolean): Record<string, unknown> {
  const { id, probe, target, success, reason, skipped, message, traceId, durationSeconds, machine, metrics } = run;
  const body: Record<string, unknown> = {
    id,
    probe,
    target,
    success,
    reason,
    skipped,
    message,
    traceId,
    durationSeconds,
    machine,
    metrics,
  };
  if (debug) Object.assign(body, { phases: run.phases, logs: run.logs, details: run.details, config: run.settings });
  return body;
}
