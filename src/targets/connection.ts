import type { ConnectionOpts } from 'e2b';
import type { TargetConfig } from '../config/schema.js';

/** The SDK connection options of a target: API key plus domain, or explicit API and sandbox URLs. */
export function connectionOf(t: TargetConfig): ConnectionOpts {
  const e = t.e2b;
  if (!e) return {};
  return {
    apiKey: e.api_key,
    domain: e.domain,
    apiUrl: e.api_url,
    sandboxUrl: e.sandbox_url,
    requestTimeoutMs: e.request_timeout,
  };
}

export function hasSandboxService(t: TargetConfig): boolean {
  return !!t.e2b && (!!t.e2b.domain || !!t.e2b.api_url);
}

/** The control-plane base URL (for the few calls the SDK does not expose, e.g. node ids). */
export function apiUrlOf(t: TargetConfig): string | undefined {
  return t.e2b?.api_url ?? (t.e2b?.domain ? `https://api.${t.e2b.domain}` : undefined);
}
