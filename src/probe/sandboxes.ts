import type { ConnectionOpts, Sandbox } from 'e2b';

export interface CreateSandboxOptions {
  template?: string;
  timeoutMs?: number;
  metadata?: Record<string, string>;
  envs?: Record<string, string>;
  /** Per-call connection overrides (e.g. `retries: 0` for burst runs, which must never retry). */
  connection?: ConnectionOpts;
}

/**
 * How probes get sandboxes. Every sandbox created here carries our ownership metadata, is counted
 * (in flight, created, lifetime) and is killed when the run ends, whatever the path.
 */
export interface SandboxBroker {
  /** Connection options of the target for direct SDK calls (list, snapshots, connect). */
  readonly connection: ConnectionOpts;
  /** Ownership metadata every sandbox of this run carries. */
  readonly metadata: Record<string, string>;
  create(opts?: CreateSandboxOptions): Promise<Sandbox>;
  /** Adopt a sandbox created elsewhere (e.g. resumed by connect) so the run kills it. */
  track(sandbox: Sandbox): void;
  kill(sandbox: Sandbox | string): Promise<void>;
  /** Sandboxes this run still owns. */
  live(): string[];
}

/** For runs on targets without a sandbox service (host probes, storage probes). */
export const NO_SANDBOXES: SandboxBroker = {
  connection: {},
  metadata: {},
  async create() {
    throw new Error('this target has no E2B connection');
  },
  track() {},
  async kill() {},
  live: () => [],
};
