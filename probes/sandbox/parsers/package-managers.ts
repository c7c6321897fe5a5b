import { parseError } from '../../tools/index.js';

export type PackageManager = 'pip' | 'npm';

/**
 * `python3 -m pip install` into a fresh --target directory (no virtualenv needed, and exempt from
 * Debian's externally-managed-environment refusal), with no cache so every run downloads.
 */
export function pipInstallArgs(p: { indexUrl: string; target: string; packages: string[] }): string[] {
  const url = new URL(p.indexUrl);
  return [
    '-m',
    'pip',
    'install',
    '--no-cache-dir',
    '--disable-pip-version-check',
    '--no-input',
    '--quiet',
    '--target',
    p.target,
    '--index-url',
    p.indexUrl,
    // pip refuses plain-HTTP indexes unless the host is trusted explicitly.
    ...(url.protocol === 'http:' ? ['--trusted-host', url.host] : []),
    ...p.packages,
  ];
}

/** `npm install` into a fresh prefix with its own empty cache, so every run downloads. */
export function npmInstallArgs(p: { registry: string; prefix: string; cache: string; packages: string[] }): string[] {
  return [
    'install',
    '--prefix',
    p.prefix,
    '--registry',
    p.registry,
    '--cache',
    p.cache,
    '--no-audit',
    '--no-fund',
    '--no-package-lock',
    '--no-update-notifier',
    '--loglevel=error',
    ...p.packages,
  ];
}

/** `python3 -m pip --version` ("pip 23.0.1 from … (python 3.11)") → "23.0.1". */
export function parsePipVersion(text: string): string {
  const m = /^pip (\d+\.\d+[\w.-]*)/m.exec(text);
  if (!m) throw parseError('pip', 'no version', text);
  return m[1];
}

/** `npm --version` ("9.2.0") → "9.2.0". */
export function parseNpmVersion(text: string): string {
  const m = /^(\d+\.\d+\.\d+[\w.-]*)\s*$/m.exec(text);
  if (!m) throw parseError('npm', 'no version', text);
  return m[1];
}
