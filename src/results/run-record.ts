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
  phases: PhaseRecord[];
  logs: string[];
  details: Record<string, unknown>;
  /** Every gauge value and histogram observation the run recorded, with the target labels. */
  metrics: RecordedSample[];
  /** Effective probe settings (no secrets: probe options never hold credentials). */
  settings: { intervalSeconds: number; timeoutSeconds: number; samples: number; options: Record<string, unknown> };
}
