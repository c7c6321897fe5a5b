/** The comparison report: what every output format (HTML, Markdown, JSON) is rendered from. */

export const CATEGORIES = ['start', 'in_sandbox', 'isolation', 'host', 'storage', 'cost'] as const;
export type Category = (typeof CATEGORIES)[number];

/** Default weights of the score (start speed 20 %, in-sandbox 25 %, isolation 15 %, host 15 %, storage 10 %, cost 15 %). */
export const DEFAULT_WEIGHTS: Record<Category, number> = {
  start: 0.2,
  in_sandbox: 0.25,
  isolation: 0.15,
  host: 0.15,
  storage: 0.1,
  cost: 0.15,
};

export const CATEGORY_TITLES: Record<Category, string> = {
  start: 'Start speed',
  in_sandbox: 'In-sandbox performance',
  isolation: 'Isolation',
  host: 'Host performance',
  storage: 'Storage',
  cost: 'Cost',
};

export interface Figure {
  value: number;
  unit: string;
  /** Samples (start times) or runs (benchmark gauges) behind the value. */
  n: number;
  /** 95 % confidence interval, when the samples support one. */
  ci?: { low: number; high: number };
  /** Why there is no CI (too few samples, or not available from the source). */
  ciNote?: string;
}

export interface Change {
  previous: number;
  /** (current - previous) / previous. */
  ratio: number;
  /** The previous value lies outside the current 95 % CI. */
  significant: boolean;
}

export interface ScoreInput {
  /** Mean over the input's series of value / best (or best / value when lower is better). */
  normalised: number;
  /** The target's own values, by series identity (e.g. threads=4). */
  values: Record<string, number>;
}

export interface CategoryScore {
  weight: number;
  /** Mean of the inputs the target has; absent = the target has no data for this category. */
  score?: number;
  missing: boolean;
  inputs: Record<string, ScoreInput>;
}

export interface TargetReport {
  name: string;
  cloud_provider: string;
  cloud_region: string;
  /** Weighted mean over the categories the target has; absent when it has none. */
  score?: number;
  rank?: number;
  /** Share of the total weight the score covers (1 = every category). */
  coverage: number;
  categories: Record<Category, CategoryScore>;
  metrics: Record<string, Figure>;
  /** Against the previous period of the same length, by metric key. */
  change: Record<string, Change>;
  /** Successful start times (seconds) by start type, for the distribution charts. */
  startSamples: Record<string, number[]>;
  runs: { total: number; failed: number };
  /** Machines whose host figures are placed under this target (it declared `host: self`). */
  hosts?: string[];
}

/** A machine host probes measured that no target declared as its own: its host figures alone. */
export interface MachineReport {
  host: string;
  cloud_provider: string;
  cloud_region: string;
  instance_type: string;
  metrics: Record<string, Figure>;
  change: Record<string, Change>;
  runs: { total: number; failed: number };
}

export interface Report {
  generatedAt: string;
  since: string;
  until: string;
  /** history: the persisted run history; prometheus: a Prometheus server (no raw samples). */
  source: 'history' | 'prometheus';
  weights: Record<Category, number>;
  targets: TargetReport[];
  /** Machines under no target, with their host figures (not scored: a machine is not a target). */
  machines: MachineReport[];
}
