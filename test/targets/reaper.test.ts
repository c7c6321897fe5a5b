import type { SandboxInfo } from 'e2b';
import { describe, expect, it } from 'vitest';
import { TargetSchema } from '../../src/config/schema.js';
import { deployments, leftovers, ownerOf } from '../../src/targets/reaper.js';
import { ownershipMetadata } from '../../src/targets/ownership.js';

const info = (id: string, metadata: Record<string, string>) => ({ sandboxId: id, metadata }) as unknown as SandboxInfo;
const owned = (instance: string, target: string, runId: string, deadlineMs: number) =>
  ownershipMetadata({ instance, target, probe: 'p', runId, deadlineMs });

describe('reaper selection', () => {
  const now = 1_000_000;
  const live = info('live', owned('me', 't', 'r1', now + 10_000));
  const expired = info('expired', owned('other', 't', 'r2', now - 1));
  const otherLive = info('other-live', owned('other', 't', 'r3', now + 10_000));

  it('kills sandboxes past their deadline, whoever made them', () => {
    expect(leftovers([live, expired, otherLive], 'me', now, false).map((s) => s.sandboxId)).toEqual(['expired']);
  });

  it("at start-up also kills this instance's earlier sandboxes, never another live instance's", () => {
    expect(
      leftovers([live, expired, otherLive], 'me', now, true)
        .map((s) => s.sandboxId)
        .sort(),
    ).toEqual(['expired', 'live']);
  });
});

describe('reaper deployments', () => {
  const target = (name: string, api_url: string, api_key = 'k') =>
    TargetSchema.parse({ name, cloud_provider: 'local', e2b: { api_url, sandbox_url: api_url, api_key } });
  const base = target('base', 'http://127.0.0.1:1');
  const small = target('small', 'http://127.0.0.1:1');
  const otherKey = target('team-b', 'http://127.0.0.1:1', 'other');
  const elsewhere = target('elsewhere', 'http://127.0.0.1:2');
  const embedded = TargetSchema.parse({ name: 'embedded', cloud_provider: 'local' });

  it('lists a deployment once for all targets that reach it with the same key', () => {
    const groups = deployments([base, otherKey, small, elsewhere, embedded]).map((g) => g.map((t) => t.name));
    expect(groups).toEqual([['base', 'small'], ['team-b'], ['elsewhere']]);
  });

  it('counts a leftover under the target it was made for, else the first of its deployment', () => {
    expect(ownerOf(info('x', owned('me', 'small', 'r', 0)), [base, small]).name).toBe('small');
    expect(ownerOf(info('y', owned('me', 'removed', 'r', 0)), [base, small]).name).toBe('base');
  });
});
