import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One apt source entry, from either the one-line or the deb822 format. */
export interface AptSource {
  types: string[];
  uris: string[];
  suites: string[];
  components: string[];
  signedBy?: string;
  enabled: boolean;
}

export interface Mirror {
  uri: string;
  /** Keyring file from Signed-By, when it names a file. */
  keyring?: string;
}

/** Parses `/etc/apt/sources.list`-style lines: `deb [opt=val ...] URI SUITE [COMPONENT...]`. */
export function parseOneLineSources(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split('\n')) {
    let line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const type = line.split(/\s+/, 1)[0];
    line = line.slice(type.length).trim();
    let options = '';
    if (line.startsWith('[')) {
      const end = line.indexOf(']');
      if (end < 0) continue;
      options = line.slice(1, end);
      line = line.slice(end + 1).trim();
    }
    const [uri, suite, ...components] = line.split(/\s+/);
    if (!uri || !suite) continue;
    const signedBy = /(?:^|\s)signed-by=(\S+)/.exec(options)?.[1];
    out.push({
      types: [type],
      uris: [uri],
      suites: [suite],
      components,
      ...(signedBy ? { signedBy } : {}),
      enabled: true,
    });
  }
  return out;
}

/** Parses deb822 `.sources` files: blank-line separated stanzas of `Field: value` lines. */
export function parseDeb822Sources(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const stanza of text.split(/\n[ \t]*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of stanza.split('\n')) {
      if (line.startsWith('#')) continue;
      if (/^[ \t]/.test(line)) {
        // continuation line (multi-line values such as an inline Signed-By key)
        if (last) fields.set(last, `${fields.get(last)}\n${line.trim()}`);
        continue;
      }
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
      if (!m) continue;
      last = m[1].toLowerCase();
      fields.set(last, m[2].trim());
    }
    const list = (k: string): string[] => (fields.get(k) ?? '').split(/\s+/).filter(Boolean);
    if (!fields.has('uris') || !fields.has('suites')) continue;
    const signedBy = fields.get('signed-by');
    out.push({
      types: list('types'),
      uris: list('uris'),
      suites: list('suites'),
      components: list('components'),
      ...(signedBy ? { signedBy } : {}),
      enabled: (fields.get('enabled') ?? 'yes').toLowerCase() !== 'no',
    });
  }
  return out;
}

/**
 * The mirror to bootstrap `suite` from: the first enabled binary source that carries exactly that
 * suite with the `main` component (so `bookworm-security` or `bookworm-updates` are never picked).
 */
export function chooseMirror(sources: AptSource[], suite: string): Mirror | undefined {
  for (const s of sources) {
    if (!s.enabled || !s.types.includes('deb') || !s.suites.includes(suite) || !s.components.includes('main')) continue;
    const uri = s.uris.find((u) => /^(https?|file):/.test(u));
    if (!uri) continue;
    const keyring = s.signedBy && s.signedBy.startsWith('/') && !s.signedBy.includes('\n') ? s.signedBy : undefined;
    return { uri, ...(keyring ? { keyring } : {}) };
  }
  return undefined;
}

/** Reads the machine's apt sources in apt's own order (sources.list, then sources.list.d sorted). */
export async function readAptSources(root = '/etc/apt'): Promise<AptSource[]> {
  const out: AptSource[] = [];
  const tryRead = async (path: string): Promise<string | undefined> => {
    try {
      return await readFile(path, 'utf8');
    } catch {
      return undefined;
    }
  };
  const main = await tryRead(join(root, 'sources.list'));
  if (main) out.push(...parseOneLineSources(main));
  let names: string[] = [];
  try {
    names = (await readdir(join(root, 'sources.list.d'))).sort();
  } catch {
    // no sources.list.d
  }
  for (const name of names) {
    const text = await tryRead(join(root, 'sources.list.d', name));
    if (text === undefined) continue;
    if (name.endsWith('.list')) out.push(...parseOneLineSources(text));
    else if (name.endsWith('.sources')) out.push(...parseDeb822Sources(text));
  }
  return out;
}

/** The build's Debian mirror: `$E2BBENCH_DEBIAN_MIRROR`, else the one the machine's apt uses. */
export async function findMirror(
  suite: string,
  env: NodeJS.ProcessEnv = process.env,
  root = '/etc/apt',
): Promise<Mirror> {
  if (env.E2BBENCH_DEBIAN_MIRROR) return { uri: env.E2BBENCH_DEBIAN_MIRROR };
  const mirror = chooseMirror(await readAptSources(root), suite);
  if (!mirror) {
    throw new Error(
      `no apt source for suite ${suite} with component main in ${root}; set E2BBENCH_DEBIAN_MIRROR to a Debian mirror URL`,
    );
  }
  return mirror;
}
