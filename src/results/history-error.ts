/** A history database that cannot be used: the message names the file and what is wrong with it. */
export class HistoryError extends Error {
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(`run history ${path}: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'HistoryError';
  }
}
