import { describe, expect, it } from 'vitest';
import { Budget } from '../../src/targets/budget.js';

describe('sandbox budget', () => {
  it('caps concurrent sandboxes globally and per target', () => {
    const b = new Budget(
      { max_concurrent_sandboxes: 2, max_sandbox_minutes_per_hour: 1000 },
      new Map([['a', { max_concurrent_sandboxes: 1 }]]),
    );
    expect(b.refusal('a')).toBeUndefined();
    b.start('a', 's1');
    expect(b.refusal('a')).toMatch(/target cap of 1/);
    expect(b.refusal('b')).toBeUndefined();
    b.start('b', 's2');
    expect(b.refusal('b')).toMatch(/global cap of 2/);
    b.end('a', 's1');
    expect(b.refusal('b')).toBeUndefined();
  });

  it('counts sandbox-minutes over a rolling hour, live sandboxes included', () => {
    let now = 0;
    const b = new Budget({ max_concurrent_sandboxes: 10, max_sandbox_minutes_per_hour: 5 }, new Map(), () => now);
    b.start('a', 'x');
    now = 4 * 60_000;
    expect(b.minutesUsed()).toBeCloseTo(4);
    expect(b.refusal('a')).toBeUndefined();
    now = 5 * 60_000;
    expect(b.refusal('a')).toMatch(/sandbox-minutes per hour/);
    expect(b.end('a', 'x')).toBeCloseTo(300);
    now += 61 * 60_000;
    expect(b.minutesUsed()).toBe(0);
    expect(b.refusal('a')).toBeUndefined();
  });

  it('drops each ended sandbox from the hour when its end is an hour old, not before', () => {
    let now = 0;
    const b = new Budget({ max_concurrent_sandboxes: 10, max_sandbox_minutes_per_hour: 1000 }, new Map(), () => now);
    // Three sandboxes of 1, 2 and 3 minutes, ending at minutes 1, 13 and 25.
    for (const [i, mins] of [1, 2, 3].entries()) {
      now = i * 11 * 60_000;
      b.start('a', `s${i}`);
      now += mins * 60_000;
      b.end('a', `s${i}`);
    }
    expect(b.minutesUsed('a')).toBeCloseTo(6);
    now = 61 * 60_000; // the first ended at minute 1: an hour old now
    expect(b.minutesUsed('a')).toBeCloseTo(5);
    expect(b.minutesUsed()).toBeCloseTo(5);
    now = 73 * 60_000 - 1;
    expect(b.minutesUsed('a')).toBeCloseTo(5);
    now = 73 * 60_000;
    expect(b.minutesUsed('a')).toBeCloseTo(3);
    now = 85 * 60_000;
    expect(b.minutesUsed('a')).toBe(0);
  });

  it('re-keys a pending reservation to the sandbox id', () => {
    let now = 0;
    const b = new Budget({ max_concurrent_sandboxes: 1, max_sandbox_minutes_per_hour: 100 }, new Map(), () => now);
    b.start('a', 'pending-1');
    b.rename('a', 'pending-1', 'sbx');
    now = 60_000;
    expect(b.end('a', 'pending-1')).toBe(0);
    expect(b.end('a', 'sbx')).toBeCloseTo(60);
    expect(b.refusal('a')).toBeUndefined();
  });
});
