import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (p: string) => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');

// The Node the tests run on, the one set-up provides and the one the image ships must be one major.
describe('the tested Node.js runtime', () => {
  const pin = /^NODE_PIN=(\d+)\.\d+\.\d+$/m.exec(read('scripts/setup.sh'))?.[1];
  const image = /^ARG NODE_VERSION=(\d+)/m.exec(read('Dockerfile'))?.[1];
  const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;

  it('set-up pins the same major as the Docker image', () => {
    expect(pin).toBeDefined();
    expect(image).toBe(pin);
  });

  it('the tests themselves run on that major, within package.json engines', () => {
    const major = process.versions.node.split('.')[0];
    expect(major).toBe(pin);
    const floor = /^>=(\d+)$/.exec(engines)?.[1];
    expect(Number(major)).toBeGreaterThanOrEqual(Number(floor));
  });
});
