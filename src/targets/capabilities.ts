import type { TargetConfig } from '../config/schema.js';
import type { Requirement } from '../probe/types.js';
import { hasSandboxService } from './connection.js';

/** Whether a target offers what a probe requires. */
export function targetHas(t: TargetConfig, need: Requirement): boolean {
  switch (need) {
    case 'sandbox':
      return hasSandboxService(t);
    case 'storage':
      return !!t.storage;
  }
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\]|::1)$/i;

/**
 * Whether the target's sandboxes run on the machine this exporter runs on: the embedded local
 * runtime, or any E2B endpoint on a loopback address. Load they take is load on our own cores.
 */
export function sandboxesRunHere(t: TargetConfig): boolean {
  if (!t.e2b) return t.cloud_provider === 'local';
  const urls = [t.e2b.api_url, t.e2b.sandbox_url].filter((u): u is string => !!u);
  if (!urls.length) return false;
  return urls.every((u) => {
    try {
      return LOOPBACK.test(new URL(u).hostname);
    } catch {
      return false;
    }
  });
}
