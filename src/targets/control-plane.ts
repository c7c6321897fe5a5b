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

  private headers(): Record<string, string> {
    return this.apiKey ? { 'X-API-KEY': this.apiKey } : {};
  }

  /** The id of the template named `name` (`GET /templates/aliases/{name}`), or undefined when there is none. */
  async templateIdByName(name: string, signal?: AbortSignal): Promise<string | undefined> {
    const res = await fetch(`${this.base}/templates/aliases/${encodeURIComponent(name)}`, {
      headers: this.headers(),
      signal,
    });
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`looking up template ${name}: HTTP ${res.status}`);
    return ((await res.json()) as { templateID?: string }).templateID;
  }

  /**
   * Deletes a template (`DELETE /templates/{templateID}`, as E2B's CLI does): true when deleted,
   * false when there was none; throws on any other answer.
   */
  async deleteTemplate(templateId: string, signal?: AbortSignal): Promise<boolean> {
    const res = await fetch(`${this.base}/templates/${encodeURIComponent(templateId)}`, {
      method: 'DELETE',
      headers: this.headers(),
      signal,
    });
    if (res.status === 404) return false;
    if (!res.ok)
      throw new Error(`deleting template ${templateId}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
    return true;
  }

  /** Running sandboxes tagged with this run's id. */
  async sandboxesOfRun(runId: string, signal?: AbortSignal): Promise<ListedSandbox[]> {
    const q = new URLSearchParams({ metadata: `${RUN_KEY}=${runId}`, limit: '1000' });
    const res = await fetch(`${this.base}/v2/sandboxes?${q}`, {
      headers: this.headers(),
      signal,
    });
    if (!res.ok) throw new Error(`listing sandboxes for their nodes: HTTP ${res.status}`);
    return (await res.json()) as ListedSandbox[];
  }
}
