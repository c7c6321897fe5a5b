import type { DriverSandbox, SandboxDriver } from '../driver/types.js';
import type { ProcessTable } from '../envd/processes.js';
import type { EnvdSandbox } from '../envd/types.js';
import type { WatcherTable } from '../envd/watchers.js';
import type { MetricHistory } from './metric-history.js';

export type SandboxState = 'running' | 'paused';
export type StartType = 'cold' | 'warm' | 'cached' | 'restore';

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
  readonly driverSandbox: DriverSandbox;
  readonly processes: ProcessTable;
  readonly watchers: WatcherTable;
  readonly gone: AbortSignal;
  /** Aborts `gone`. */
  readonly markGone: () => void;
  /** Snapshot layers under the sandbox's own writes, topmost first. */
  readonly snapshotLayers: string[];
  readonly startType: StartType;
  readonly autoPause: boolean;
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
