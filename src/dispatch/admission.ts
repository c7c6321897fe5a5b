import type { SkipReason } from '../probe/reasons.js';
import type { Trigger } from '../probe/types.js';
import type { RunRecord } from '../results/run-record.js';

/**
 * What asking for a run gives back. Callers act on `kind`, never on message text: HTTP answers
 * `busy` with 429, the scheduler has nothing to do for `busy` or `skipped`.
 */
export type Admission =
  | { kind: 'started'; done: Promise<RunRecord> }
  | { kind: 'busy'; reason: 'overlap' | 'concurrency' | 'machine'; message: string; retryAfterSeconds: number }
  | { kind: 'skipped'; reason: SkipReason; message: string };

export interface AdmissionPolicy {
  /** Wait for a free slot (true) or answer `busy` at once (false). */
  wait: boolean;
  /** A run of the same pair already going: `skip` counts a skipped run, `busy` asks the caller to retry. */
  overlap: 'skip' | 'busy';
}

/**
 * How each trigger is admitted. A scheduled run due while its previous one goes on is a counted
 * skip (the next one comes anyway); a person asking over HTTP gets an answer at once; a CLI run
 * waits its turn.
 */
export const ADMISSION: Record<Trigger, AdmissionPolicy> = {
  schedule: { wait: true, overlap: 'skip' },
  on_demand: { wait: false, overlap: 'busy' },
  cli: { wait: true, overlap: 'busy' },
};
