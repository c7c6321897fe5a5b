/** What every runner takes besides its own parameters. */
export interface RunOptions {
  signal: AbortSignal;
  /** Backstop for this one command; the runner derives one from the planned run time if absent. */
  timeoutMs?: number;
  cwd?: string;
}

/** Planned seconds of a tool run from a duration option (whole seconds, at least one). */
export function wholeSeconds(ms: number): number {
  return Math.max(1, Math.round(ms / 1000));
}

/** Planned seconds of work → a generous per-command timeout (tools overrun by start-up and layout). */
export function timeoutFor(seconds: number, opts: RunOptions): number {
  return opts.timeoutMs ?? Math.max(seconds * 2000, seconds * 1000 + 30_000);
}
