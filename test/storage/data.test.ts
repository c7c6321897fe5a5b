import { describe, expect, it } from 'vitest';
import { PatternStream, drain, patternBuffer, sha256, sizeClass } from '../../probes/storage/data.js';

describe('object data', () => {
  it('streams the same bytes as the buffer form and hashes them on the way out', async () => {
    const size = 3 * 1024 * 1024 + 17;
    const buf = patternBuffer(size, 'seed');
    const stream = new PatternStream(size, 'seed');
    const got = await drain(stream);
    expect(got.bytes).toBe(size);
    expect(got.sha256).toBe(sha256(buf));
    expect(stream.digest()).toBe(sha256(buf));
  });

  it('differs by seed and does not compress', () => {
    const a = patternBuffer(4096, 'a');
    expect(a.equals(patternBuffer(4096, 'b'))).toBe(false);
    expect(new Set(a).size).toBeGreaterThan(200); // close to uniform bytes
  });

  it.each([
    [1024 * 1024, '1MiB'],
    [10 * 1024 * 1024, '10MiB'],
    [2 ** 30, '1GiB'],
    [64 * 1024, '64KiB'],
    [1536 * 1024, '1536KiB'],
    [700_000, '700000B'],
  ])('size class of %i is %s', (bytes, label) => {
    expect(sizeClass(bytes)).toBe(label);
  });
});
