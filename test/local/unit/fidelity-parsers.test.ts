import { describe, expect, it } from 'vitest';
import { MetricHistory, type MetricSample } from '../../../src/local/core/metric-history.js';
import { parseListQuery } from '../../../src/local/core/list-query.js';
import { parseGetfattr, metadataFromHeaders } from '../../../src/local/envd/xattr.js';

describe('getfattr output', () => {
  it('reads user.* attributes per file, hex-decoded, with escaped file names', () => {
    const text = [
      '# file: /r/a b\\012c',
      'user.owner=0x62656e6368',
      'user.empty=0x',
      'trusted.other=0x41',
      '',
      '# file: /r/plain',
      'user.k=0x76',
      '',
    ].join('\n');
    const m = parseGetfattr(text);
    expect(m.get('/r/a b\nc')).toEqual({ owner: 'bench', empty: '' });
    expect(m.get('/r/plain')).toEqual({ k: 'v' });
  });

  it('takes metadata from X-Metadata-* headers only, keys as sent', () => {
    expect(
      metadataFromHeaders(['X-Metadata-Owner', 'me', 'x-metadata-k', 'v', 'X-Other', 'no', 'x-metadata-', 'e']),
    ).toEqual({
      Owner: 'me',
      k: 'v',
    });
  });
});

describe('metric history', () => {
  const sample = (t: number): MetricSample => ({
    timestamp: new Date(t * 1000).toISOString(),
    timestampUnix: t,
    cpuCount: 1,
    cpuUsedPct: 0,
    memUsed: 0,
    memTotal: 0,
    memCache: 0,
    diskUsed: 0,
    diskTotal: 0,
  });

  it('selects by inclusive range and drops the oldest past its size', () => {
    const h = new MetricHistory(3);
    for (const t of [10, 20, 30, 40]) h.push(sample(t));
    expect(h.between().map((s) => s.timestampUnix)).toEqual([20, 30, 40]);
    expect(h.between(20, 30).map((s) => s.timestampUnix)).toEqual([20, 30]);
    expect(h.between(0, 15)).toEqual([]);
    expect(h.between(35).map((s) => s.timestampUnix)).toEqual([40]);
  });
});

describe('list query', () => {
  it('defaults to newest first and parses startedAfter', () => {
    expect(parseListQuery(new URLSearchParams('')).order).toBe('desc');
    expect(parseListQuery(new URLSearchParams('order=asc')).order).toBe('asc');
    expect(parseListQuery(new URLSearchParams('startedAfter=2026-01-02T03:04:05.678Z')).startedAfter?.getTime()).toBe(
      Date.parse('2026-01-02T03:04:05.678Z'),
    );
    expect(() => parseListQuery(new URLSearchParams('startedAfter=yesterday'))).toThrow(/RFC 3339/);
  });
});
