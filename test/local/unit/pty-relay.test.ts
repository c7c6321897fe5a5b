import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { relayAvailable } from '../../../src/local/driver/pty.js';

describe('pty relay: is python3 in the sandbox', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pty-relay-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const put = (p: string) => {
    mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
    writeFileSync(path.join(dir, p), '');
  };

  it('looks in the root filesystem, and through bind mounts to their sources', () => {
    put('root/usr/bin/sh');
    put('hostusr/bin/python3');
    const root = path.join(dir, 'root');
    expect(relayAvailable(root)).toBe(false);
    expect(relayAvailable(root, [{ source: path.join(dir, 'hostusr'), target: '/usr', readOnly: true }])).toBe(true);
    put('root/usr/local/bin/python3');
    expect(relayAvailable(root)).toBe(true);
  });
});
