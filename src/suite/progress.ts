/** Human progress of a suite on stderr: one line per run; on a terminal also a live status line. */
export class Progress {
  private readonly started = Date.now();
  private done = 0;
  private spent = 0;
  private current?: { label: string; since: number };
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly total: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly tty = Boolean(process.stderr.isTTY),
  ) {}

  start(probe: string, target: string): void {
    this.current = { label: `${probe} @ ${target}`, since: Date.now() };
    if (this.tty) {
      this.draw();
      this.timer ??= setInterval(() => this.draw(), 1000);
      this.timer.unref();
    } else this.out.write(`[${this.done + 1}/${this.total}] ${this.current.label} ... (${this.times()})\n`);
  }

  finish(outcome: string, seconds: number): void {
    this.done++;
    this.spent += seconds;
    const line = `[${this.done}/${this.total}] ${this.current?.label ?? ''}: ${outcome} in ${seconds.toFixed(1)} s (${this.times()})`;
    this.current = undefined;
    this.out.write(this.tty ? `\r\x1b[K${line}\n` : `${line}\n`);
  }

  end(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private draw(): void {
    if (!this.current) return;
    const running = ((Date.now() - this.current.since) / 1000).toFixed(0);
    this.out.write(
      `\r\x1b[K[${this.done + 1}/${this.total}] ${this.current.label} running ${running} s (${this.times()})`,
    );
  }

  /** Elapsed, and an ETA from the mean duration of the runs done so far. */
  private times(): string {
    const elapsed = (Date.now() - this.started) / 1000;
    const eta = this.done ? (this.spent / this.done) * (this.total - this.done) : undefined;
    return `elapsed ${clock(elapsed)}${eta === undefined ? '' : `, ETA ~${clock(eta)}`}`;
  }
}

export function clock(seconds: number): string {
  const s = Math.round(seconds);
  const m = Math.floor(s / 60);
  return m ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
