import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configKeyPaths } from '../../scripts/config-keys.js';
import { metricsDoc, probesDoc } from '../../scripts/gen-docs.js';

const read = (p: string) => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');

describe('documentation kept in step with the code', () => {
  it('docs/metrics.md is generated from the current catalog (npm run docs)', () => {
    expect(read('docs/metrics.md')).toBe(metricsDoc());
  });

  it('docs/probes.md is generated from the current probes (npm run docs)', () => {
    expect(read('docs/probes.md')).toBe(probesDoc());
  });

  it('docs/configuration.md documents every configuration key', () => {
    const doc = read('docs/configuration.md');
    const missing = configKeyPaths().filter((p) => !doc.includes(`\`${p}\``));
    expect(missing).toEqual([]);
  });

  it('README gives the two set-up commands', () => {
    const readme = read('README.md');
    expect(readme).toContain('make start');
    expect(readme).toContain('make test');
  });
});
