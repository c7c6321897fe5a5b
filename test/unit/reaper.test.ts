import type { SandboxInfo } from 'e2b';
import { describe, expect, it } from 'vitest';
import { leftovers } from '../../src/targets/reaper.js';
import { ownershipMetadata } from '../../src/targets/ownership.js';

const info = (id: string, metadata: Record<string, string>) => ({ sandboxId: id, metadata }) as unknown as SandboxInfo;

describe('reaper selection', () => {
  const now = 1_000_000;
  const live = info('live', ownershipMetadata('me', 'p', 'r1', now + 10_000));
  const expired = info('expired', ownershipMetadata('other', 'p', 'r2', now - 1));
  const otherLive = info('other-live', ownershipMetadata('other', 'p', 'r3', now + 10_000));

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
