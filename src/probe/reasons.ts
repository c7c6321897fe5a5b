/** Bounded failure reasons. Anything else would explode label cardinality. */
export const FAILURE_REASONS = [
  'timeout',
  'auth',
  'rate_limited',
  'capacity',
  'api_error',
  'sandbox_error',
  'command_failed',
  'tool_missing',
  'parse_error',
  'storage_error',
  'budget',
  'internal',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export const SKIP_REASONS = ['overlap', 'concurrency', 'budget', 'not_configured', 'unsupported'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** A failure a probe (or the runner) classifies itself. */
export class ProbeError extends Error {
  constructor(
    readonly reason: FailureReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ProbeError';
  }
}

/** A probe that cannot run in this configuration (e.g. no iperf3 server configured). Not a failure. */
export class ProbeSkip extends Error {
  constructor(
    readonly reason: SkipReason,
    message: string,
  ) {
    super(message);
    this.name = 'ProbeSkip';
  }
}
