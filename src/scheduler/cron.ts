import cron from 'node-cron';

/** Why a cron expression or time zone is unusable, or undefined when it is fine. */
export function cronProblem(expression: string): string | undefined {
  return cron.validate(expression) ? undefined : `invalid cron expression ${JSON.stringify(expression)}`;
}

export function timezoneProblem(timezone: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
    return undefined;
  } catch {
    return `unknown time zone ${JSON.stringify(timezone)}`;
  }
}

export interface CronJob {
  /** When it fires next. */
  next(): Date | null;
  stop(): void;
}

/** Calls `fire` with the time it was due at each match of `expression` (node-cron's timers). */
export function startCron(expression: string, timezone: string | undefined, fire: (due: Date) => void): CronJob {
  const task = cron.createTask(expression, (ctx) => fire(ctx.date), { timezone });
  void task.start();
  return {
    next: () => task.getNextRun(),
    stop: () => void task.destroy(),
  };
}

/** The next match of `expression` after now, for listings made without a running scheduler. */
export function nextCronRun(expression: string, timezone?: string): Date | null {
  const job = startCron(expression, timezone, () => undefined);
  try {
    return job.next();
  } finally {
    job.stop();
  }
}
