import type { DriverSandbox, SandboxDriver } from '../driver/types.js';
import type { ProcessTable } from './processes.js';

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
}

export interface EnvdDirectory {
  lookup(sandboxId: string): EnvdSandbox | undefined;
}

/** Fault hooks envd consults (set through the admin API). */
export interface EnvdFaults {
  /** True when this process stream should be cut after its start event. */
  dropStream(): boolean;
}

export const ENVD_VERSION = '0.6.1';
