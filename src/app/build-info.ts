import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function versionOf(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Our manifest: two levels up from src/app, three from dist/src/app. */
function ownVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const m = require(rel) as { name?: string; version: string };
      if (m.name === 'e2b-bench') return m.version;
    } catch {
      /* try the next layout */
    }
  }
  return 'unknown';
}

export const BUILD_INFO = {
  version: ownVersion(),
  e2bSdkVersion: versionOf('e2b'),
  nodeVersion: process.version,
};
