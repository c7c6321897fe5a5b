import { ApiError } from './errors.js';

/** Fault injection settings (admin API). Rates are probabilities in [0, 1]. */
export interface FaultConfig {
  /** Added to every create before anything else happens. */
  createLatencyMs: number;
  /** Share of creates answered 500. */
  createErrorRate: number;
  /** Share of creates answered 429. */
  createRateLimitRate: number;
  /** Share of process streams cut right after their start event. */
  dropStreamRate: number;
}

export const NO_FAULTS: FaultConfig = {
  createLatencyMs: 0,
  createErrorRate: 0,
  createRateLimitRate: 0,
  dropStreamRate: 0,
};

export function parseFaultConfig(body: unknown, base: FaultConfig): FaultConfig {
  if (typeof body !== 'object' || body === null) throw new ApiError(400, 'expected a JSON object');
  const b = body as Record<string, unknown>;
  const out = { ...base };
  const rate = (key: keyof FaultConfig, names: string[]) => {
    for (const n of names) {
      if (b[n] === undefined) continue;
      const v = Number(b[n]);
      if (!Number.isFinite(v) || v < 0 || (key !== 'createLatencyMs' && v > 1)) throw new ApiError(400, `invalid ${n}`);
      out[key] = v;
    }
  };
  rate('createLatencyMs', ['create_latency_ms', 'createLatencyMs']);
  rate('createErrorRate', ['create_error_rate', 'createErrorRate']);
  rate('createRateLimitRate', ['create_429_rate', 'create_rate_limit_rate', 'createRateLimitRate']);
  rate('dropStreamRate', ['drop_stream_rate', 'dropStreamRate']);
  return out;
}

export class Faults {
  config: FaultConfig = { ...NO_FAULTS };
  constructor(
    private readonly onInjected: (fault: string) => void = () => undefined,
    private readonly random: () => number = Math.random,
  ) {}

  /** Apply create faults: delay, then maybe throw a 429 or 500. */
  async beforeCreate(): Promise<void> {
    const c = this.config;
    if (c.createLatencyMs > 0) {
      this.onInjected('create_latency');
      await new Promise((r) => setTimeout(r, c.createLatencyMs));
    }
    if (c.createRateLimitRate > 0 && this.random() < c.createRateLimitRate) {
      this.onInjected('create_429');
      throw new ApiError(429, 'rate limit exceeded (fault injection)');
    }
    if (c.createErrorRate > 0 && this.random() < c.createErrorRate) {
      this.onInjected('create_5xx');
      throw new ApiError(500, 'internal error (fault injection)');
    }
  }

  dropStream(): boolean {
    const hit = this.config.dropStreamRate > 0 && this.random() < this.config.dropStreamRate;
    if (hit) this.onInjected('drop_stream');
    return hit;
  }
}
