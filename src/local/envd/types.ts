import type { DriverSandbox, SandboxDriver } from '../driver/types.js';
import type { ProcessTable } from './processes.js';
import type { WatcherTable } from './watchers.js';

/** What envd needs to know about one sandbox (provided by the sandbox manager). */
export interface EnvdSandbox {
  readonly sandboxId: string;
  readonly accessToken: string;
  /** Only `running` sandboxes are served; others answer 502 as E2B's proxy does. */
  readonly state: string;
  /** The template's user, used when a request names none. */
  readonly defaultUser: string;
  /** Environment variables given at create time, applied to every command. */
  readonly envVars: Record<string, string>;
  readonly driver: SandboxDriver;
  readonly driverSandbox: DriverSandbox;
  readonly processes: ProcessTable;
  /** Non-streaming directory watchers (closed when the sandbox goes). */
  readonly watchers: WatcherTable;
  /**
   * Aborted when the sandbox is killed: envd then drops the connections of its open requests, as
   * the VM going away does on E2B (the SDK tells a killed sandbox by the broken stream + 502 health).
   */
  readonly gone: AbortSignal;
}

export interface EnvdDirectory {
  lookup(sandboxId: string): EnvdSandbox | undefined;
  /** Every sandbox (a signed /files URL without a sandbox id is matched against their tokens). */
  all(): EnvdSandbox[];
}

/** Fault hooks envd consults (set through the admin API). */
export interface EnvdFaults {
  /** True when this process stream should be cut after its start event. */
  dropStream(): boolean;
}

/**
 * The envd version implemented: 0.6.2 file metadata, 0.6.3 `includeEntry` in watch events, 0.6.4
 * `allowNetworkMounts` (the SDKs check it before using each).
 */
export const ENVD_VERSION = '0.6.4';
