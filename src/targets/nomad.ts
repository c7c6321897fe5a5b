import { sleep } from '../probe/sleep.js';

/**
 * The few Nomad HTTP API calls the exporter needs: restart the orchestrator job's allocations
 * (cold-start cache reset), wait until they are healthy again, and list nodes
 * (to name the nodes sandboxes land on).
 */
export interface NomadOptions {
  addr: string;
  token?: string;
  namespace?: string;
  region?: string;
  fetchImpl?: typeof fetch;
}

export interface NomadAllocation {
  ID: string;
  NodeID: string;
  NodeName?: string;
  ClientStatus: string;
  DesiredStatus: string;
  TaskStates?: Record<
    string,
    { State: string; Restarts?: number; LastRestart?: string | null; StartedAt?: string | null }
  >;
}

export interface NomadNode {
  ID: string;
  Name: string;
  Status: string;
}

export class NomadError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'NomadError';
  }
}

export class NomadClient {
  private readonly f: typeof fetch;

  constructor(private readonly opts: NomadOptions) {
    this.f = opts.fetchImpl ?? fetch;
  }

  private async call<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const url = new URL(path, this.opts.addr.replace(/\/?$/, '/'));
    if (this.opts.namespace) url.searchParams.set('namespace', this.opts.namespace);
    if (this.opts.region) url.searchParams.set('region', this.opts.region);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.opts.token) headers['X-Nomad-Token'] = this.opts.token;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.f(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
    const text = await res.text();
    if (!res.ok)
      throw new NomadError(`nomad ${method} ${url.pathname}: HTTP ${res.status}: ${text.slice(0, 200)}`, res.status);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  allocations(job: string, signal?: AbortSignal): Promise<NomadAllocation[]> {
    return this.call('GET', `v1/job/${encodeURIComponent(job)}/allocations`, undefined, signal);
  }

  nodes(signal?: AbortSignal): Promise<NomadNode[]> {
    return this.call('GET', 'v1/nodes', undefined, signal);
  }

  restartAllocation(id: string, signal?: AbortSignal): Promise<unknown> {
    return this.call('POST', `v1/client/allocation/${encodeURIComponent(id)}/restart`, { AllTasks: true }, signal);
  }

  /**
   * Restarts every running allocation of `job`, then waits until each is running again with a
   * task start after the restart was requested. Returns the allocations restarted.
   */
  async restartJob(job: string, opts: { timeoutMs: number; pollMs?: number; signal?: AbortSignal }): Promise<string[]> {
    const before = (await this.allocations(job, opts.signal)).filter(
      (a) => a.DesiredStatus === 'run' && a.ClientStatus === 'running',
    );
    if (!before.length) throw new NomadError(`nomad job ${job} has no running allocations`);
    const requestedAt = Date.now();
    await Promise.all(before.map((a) => this.restartAllocation(a.ID, opts.signal)));
    const deadline = requestedAt + opts.timeoutMs;
    const ids = new Set(before.map((a) => a.ID));
    for (;;) {
      const now = await this.allocations(job, opts.signal);
      const healthy = now.filter((a) => ids.has(a.ID) && restartedSince(a, requestedAt));
      if (healthy.length === ids.size) return [...ids];
      if (Date.now() > deadline)
        throw new NomadError(
          `nomad job ${job}: ${ids.size - healthy.length} allocation(s) not healthy after ${opts.timeoutMs / 1000}s`,
        );
      await sleep(opts.pollMs ?? 1000, opts.signal);
    }
  }
}

/** Running, and every task (re)started after `since` (ms). */
export function restartedSince(a: NomadAllocation, since: number): boolean {
  if (a.ClientStatus !== 'running' || !a.TaskStates) return false;
  return Object.values(a.TaskStates).every((t) => {
    if (t.State !== 'running') return false;
    const last = Date.parse(t.LastRestart ?? '') || Date.parse(t.StartedAt ?? '') || 0;
    return last >= since - 1000;
  });
}
