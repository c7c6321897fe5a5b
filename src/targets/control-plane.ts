import { RUN_KEY } from './ownership.js';

export interface ListedSandbox {
  sandboxID?: string;
  /** The node the sandbox runs on (the SDK does not expose it). */
  clientID?: string;
}

/** The E2B control plane's REST API, for the few calls the SDK does not expose. */
export class ControlPlaneClient {
  private readonly base: string;

  constructor(
    apiUrl: string,
    private readonly apiKey?: string,
  ) {
    this.base = apiUrl.replace(/\/$/, '');
  }

  /** Running sandboxes tagged with this run's id. */
  async sandboxesOfRun(runId: string, signal?: AbortSignal): Promise<ListedSandbox[]> {
    const q = new URLSearchParams({ metadata: `${RUN_KEY}=${runId}`, limit: '1000' });
    const res = await fetch(`${this.base}/v2/sandboxes?${q}`, {
      headers: this.apiKey ? { 'X-API-KEY': this.apiKey } : {},
      signal,
    });
    if (!res.ok) throw new Error(`listing sandboxes for their nodes: HTTP ${res.status}`);
    return (await res.json()) as ListedSandbox[];
  }
}
