import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Real output captured from the Debian tools, stored in test/fixtures/tools/. */
export function fixture(name: string): string {
  return readFileSync(fileURLToPath(new URL(`../../fixtures/tools/${name}`, import.meta.url)), 'utf8');
}
