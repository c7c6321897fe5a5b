import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  chooseMirror,
  findMirror,
  parseDeb822Sources,
  parseOneLineSources,
  readAptSources,
} from '../../../src/local/template/apt-sources.js';
import { removeDir, tempDir } from './helpers.js';

const DEB822 = `Types: deb
# a comment inside the stanza
URIs: http://mirror.example.org/debian
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://security.example.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

describe('apt sources', () => {
  it('parses deb822 stanzas', () => {
    const s = parseDeb822Sources(DEB822);
    expect(s).toHaveLength(2);
    expect(s[0]).toMatchObject({
      types: ['deb'],
      uris: ['http://mirror.example.org/debian'],
      suites: ['bookworm', 'bookworm-updates'],
      components: ['main', 'contrib'],
      signedBy: '/usr/share/keyrings/debian-archive-keyring.gpg',
      enabled: true,
    });
    expect(
      parseDeb822Sources('Types: deb\nURIs: http://x/debian\nSuites: bookworm\nComponents: main\nEnabled: no\n')[0]
        .enabled,
    ).toBe(false);
  });

  it('parses one-line entries with options and comments', () => {
    const s = parseOneLineSources(
      '# deb http://old/debian bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] http://m.example/debian bookworm main\ndeb-src http://m.example/debian bookworm main\n',
    );
    expect(s).toEqual([
      {
        types: ['deb'],
        uris: ['http://m.example/debian'],
        suites: ['bookworm'],
        components: ['main'],
        signedBy: '/k.gpg',
        enabled: true,
      },
      {
        types: ['deb-src'],
        uris: ['http://m.example/debian'],
        suites: ['bookworm'],
        components: ['main'],
        enabled: true,
      },
    ]);
  });

  it('chooses the first enabled binary source of exactly the suite with main', () => {
    const sources = [
      ...parseOneLineSources(
        'deb-src http://src.example/debian bookworm main\ndeb http://other.example/debian bullseye main\n',
      ),
      ...parseDeb822Sources(
        'Types: deb\nURIs: http://off.example/debian\nSuites: bookworm\nComponents: main\nEnabled: no\n',
      ),
      ...parseDeb822Sources(DEB822.split('\n\n').reverse().join('\n\n')),
    ];
    expect(chooseMirror(sources, 'bookworm')).toEqual({
      uri: 'http://mirror.example.org/debian',
      keyring: '/usr/share/keyrings/debian-archive-keyring.gpg',
    });
    expect(chooseMirror(sources, 'trixie')).toBeUndefined();
  });

  describe('reading a sources tree', () => {
    let root: string;
    beforeAll(async () => {
      root = await tempDir('apt');
      await mkdir(join(root, 'sources.list.d'), { recursive: true });
      await writeFile(join(root, 'sources.list.d', 'debian.sources'), DEB822);
      // apt ignores files without .list / .sources; so must we
      await writeFile(
        join(root, 'sources.list.d', 'a.list.disabled'),
        'deb http://disabled.example/debian bookworm main\n',
      );
    });
    afterAll(async () => removeDir(root));

    it('reads sources.list.d in order and ignores other file names', async () => {
      const sources = await readAptSources(root);
      expect(sources.flatMap((s) => s.uris)).toEqual([
        'http://mirror.example.org/debian',
        'http://security.example.org/debian-security',
      ]);
      expect((await findMirror('bookworm', {}, root)).uri).toBe('http://mirror.example.org/debian');
    });

    it('lets E2BBENCH_DEBIAN_MIRROR override, and says what to set when nothing matches', async () => {
      expect(await findMirror('bookworm', { E2BBENCH_DEBIAN_MIRROR: 'http://override.example/debian' }, root)).toEqual({
        uri: 'http://override.example/debian',
      });
      await expect(findMirror('trixie', {}, root)).rejects.toThrow(/E2BBENCH_DEBIAN_MIRROR/);
    });
  });
});
