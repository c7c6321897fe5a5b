import type { DriverSandbox, SandboxDriver } from '../driver/types.js';
import type { ProcessTable } from '../envd/processes.js';
import type { EnvdSandbox } from '../envd/types.js';
import type { WatcherTable } from '../envd/watchers.js';
import type { MetricHistory } from './metric-history.js';
import type { ResolvedTemplate } from './templates.js';

export type SandboxState = 'running' | 'paused';
export type RuntimeStartType = 'cold' | 'warm' | 'cached' | 'restore';

/** Everything the control plane knows about one sandbox. */
export interface SandboxRecord extends EnvdSandbox {
  readonly sandboxId: string;
  /** Template name or snapshot id the sandbox was created from. */
  readonly templateId: string;
  /** Base template (rootfs) underneath any snapshot layers. */
  readonly baseTemplate: string;
  readonly accessToken: string;
  state: SandboxState;
  readonly startedAt: Date;
  endAt: Date;
  readonly cpuCount: number;
  readonly memoryMb: number;
  readonly metadata: Record<string, string>;
  readonly envVars: Record<string, string>;
  readonly defaultUser: string;
  readonly driver: SandboxDriver;
  /** Replaced when a filesystem-only pause is resumed (the sandbox boots again). */
  driverSandbox: DriverSandbox;
  processes: ProcessTable;
  readonly watchers: WatcherTable;
  readonly gone: AbortSignal;
  /** Aborts `gone`. */
  readonly markGone: () => void;
  /** Snapshot layers under the sandbox's own writes, topmost first. */
  snapshotLayers: string[];
  /** The template under the sandbox (kept to boot it again after a filesystem-only pause). */
  readonly template: ResolvedTemplate;
  /** Set while paused without memory: the filesystem layer the sandbox boots from on resume. */
  fsPause?: SnapshotRecord;
  /** Filesystem-only pause layers this sandbox holds (released when it is killed). */
  readonly heldSnapshots: SnapshotRecord[];
  readonly startType: RuntimeStartType;
  readonly autoPause: boolean;
  /** `autoPauseMemory`: false makes the timeout's pause filesystem-only. */
  readonly autoPauseMemory: boolean;
  timer?: NodeJS.Timeout;
  /** Last CPU sample for the metrics endpoint. */
  lastCpu?: { atMs: number; usageUsec: number };
  readonly metricHistory: MetricHistory;
  sampler?: NodeJS.Timeout;
  releaseTemplate?: () => void;
}

export interface SnapshotRecord {
  snapshotId: string;
  names: string[];
  sandboxId: string;
  baseTemplate: string;
  /** Layers topmost first (this snapshot's, then its parents'). */
  layers: string[];
  checkpointDir?: string;
  cpuCount: number;
  memoryMb: number;
  defaultUser: string;
  createdAt: Date;
  bytes: number;
  dir: string;
}
