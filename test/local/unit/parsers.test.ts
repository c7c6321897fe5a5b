import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { completeLine } from '../../../src/local/driver/gvisor.js';
import { Router } from '../../../src/local/api/router.js';
import { ApiError } from '../../../src/local/core/errors.js';
import { Faults, NO_FAULTS, parseFaultConfig } from '../../../src/local/core/faults.js';
import {
  decodeNextToken,
  itemKey,
  matchesMetadata,
  page,
  parseListQuery,
  parseMetadataFilter,
} from '../../../src/local/core/list-query.js';
import {
  cpuMax,
  parseCgroupMounts,
  parseKeyValues,
  parseLimit,
  parsePids,
  parseProcCgroup,
} from '../../../src/local/driver/cgroup-parse.js';
import { overlayOptions } from '../../../src/local/driver/overlay.js';
import { permissionString } from '../../../src/local/envd/entry.js';
import { boundaryOf, parseMultipart } from '../../../src/local/envd/multipart.js';
import { resolveInRoot, sandboxPath } from '../../../src/local/envd/paths.js';
import { endInfo } from '../../../src/local/envd/processes.js';
import { checkSignature, fileSignature, signatureExpired } from '../../../src/local/envd/signature.js';
import { findUser, idNames, userFromAuthorization } from '../../../src/local/envd/users.js';
import { parseListen } from '../../../src/local/options.js';

describe('cgroup parsing', () => {
  const hybrid = [
    'tmpfs /sys/fs/cgroup tmpfs rw 0 0',
    'cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0',
    'cgroup /sys/fs/cgroup/cpuacct cgroup rw,relatime,cpuacct 0 0',
    'cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0',
    'cgroup /sys/fs/cgroup/freezer cgroup rw,relatime,freezer 0 0',
    'cgroup /sys/fs/cgroup/pids cgroup rw,relatime,pids 0 0',
    'cgroup2 /sys/fs/cgroup/unified cgroup2 rw,nsdelegate 0 0',
  ].join('\n');

  it('uses v1 controllers on a hybrid host and v2 on a unified one', () => {
    const v1 = parseCgroupMounts(hybrid);
    expect(v1.v2).toBeUndefined();
    expect(v1.v1).toEqual({
      cpu: '/sys/fs/cgroup/cpu',
      cpuacct: '/sys/fs/cgroup/cpuacct',
      memory: '/sys/fs/cgroup/memory',
      freezer: '/sys/fs/cgroup/freezer',
      pids: '/sys/fs/cgroup/pids',
    });
    const v2 = parseCgroupMounts('cgroup2 /sys/fs/cgroup cgroup2 rw,nsdelegate 0 0\nproc /proc proc rw 0 0');
    expect(v2).toEqual({ v2: '/sys/fs/cgroup', v1: {} });
    const comounted = parseCgroupMounts(
      'cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,cpu,cpuacct 0 0\ncgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0',
    );
    expect(comounted.v1.cpu).toBe('/sys/fs/cgroup/cpu,cpuacct');
    expect(comounted.v1.cpuacct).toBe('/sys/fs/cgroup/cpu,cpuacct');
  });

  it('parses counters, pids, limits and /proc/PID/cgroup', () => {
    expect(parseKeyValues('usage_usec 1234\nuser_usec 1000\nbad line x\n')).toEqual({
      usage_usec: 1234,
      user_usec: 1000,
    });
    expect(parsePids('12\n\n7\nx\n')).toEqual([12, 7]);
    expect(parseLimit('max\n')).toBeUndefined();
    expect(parseLimit('9223372036854771712\n')).toBeUndefined();
    expect(parseLimit('268435456\n')).toBe(268435456);
    expect(cpuMax(2)).toBe('200000 100000');
    expect(cpuMax(0.5)).toBe('50000 100000');
    expect(parseProcCgroup('4:memory:/a/b\n2:cpu,cpuacct:/c\n0::/d\n')).toEqual({
      memory: '/a/b',
      cpu: '/c',
      cpuacct: '/c',
      '': '/d',
    });
  });

  it('takes a gVisor command pid or exit code only once its line is complete', () => {
    expect(completeLine('')).toBeUndefined();
    // One echo can be seen half-written from the host: "12" of "123\n" must not pass as 12.
    expect(completeLine('12')).toBeUndefined();
    expect(completeLine('123\n')).toBe(123);
    expect(completeLine('0\n')).toBe(0);
    expect(completeLine('x\n')).toBeUndefined();
  });

  it('builds overlay options and refuses separator characters', () => {
    expect(overlayOptions(['/s', '/t'], '/u', '/w')).toBe('lowerdir=/s:/t,upperdir=/u,workdir=/w');
    expect(() => overlayOptions(['/a:b'], '/u', '/w')).toThrow(/may not contain/);
  });
});

describe('list queries', () => {
  it('decodes the SDK metadata filter (double URL-encoded)', () => {
    const inner = new URLSearchParams({
      [encodeURIComponent('key with space')]: encodeURIComponent('a/b&c'),
      k: 'v',
    }).toString();
    expect(parseMetadataFilter(inner)).toEqual({ 'key with space': 'a/b&c', k: 'v' });
    expect(matchesMetadata({ a: '1', b: '2' }, { a: '1' })).toBe(true);
    expect(matchesMetadata({ a: '1' }, { a: '2' })).toBe(false);
  });

  it('parses limit and states, and rejects bad ones', () => {
    const q = parseListQuery(new URLSearchParams('limit=5&state=running,paused'));
    expect(q.limit).toBe(5);
    expect(q.states).toEqual(['running', 'paused']);
    expect(() => parseListQuery(new URLSearchParams('limit=0'))).toThrow(ApiError);
    expect(() => parseListQuery(new URLSearchParams('state=dead'))).toThrow(/invalid state/);
    expect(() => decodeNextToken('garbage')).toThrow(/nextToken/);
  });

  it('pages by key so items created or removed between pages are neither skipped nor repeated', () => {
    const items = [5, 1, 4, 2, 3].map((n) => ({ id: `s${n}`, at: n }));
    const key = (i: { id: string; at: number }) => itemKey(i.at, i.id);
    const p1 = page(items, key, { limit: 2, order: 'asc' });
    expect(p1.items.map((i) => i.id)).toEqual(['s1', 's2']);
    // s1 is killed and s6 created before the next page is fetched.
    const later = [...items.filter((i) => i.id !== 's1'), { id: 's6', at: 6 }];
    const p2 = page(later, key, { limit: 2, order: 'asc', after: decodeNextToken(p1.next!) });
    expect(p2.items.map((i) => i.id)).toEqual(['s3', 's4']);
    const p3 = page(later, key, { limit: 2, order: 'asc', after: decodeNextToken(p2.next!) });
    expect(p3.items.map((i) => i.id)).toEqual(['s5', 's6']);
    expect(p3.next).toBeUndefined();
    expect(page(items, key, { limit: 10, order: 'desc' }).items.map((i) => i.id)).toEqual([
      's5',
      's4',
      's3',
      's2',
      's1',
    ]);
  });
});

describe('envd helpers', () => {
  it('parses passwd, group and the SDK user header', () => {
    const passwd = 'root:x:0:0:root:/root:/bin/bash\nuser:x:1000:1001::/home/user:/bin/bash\n#c\nbroken\n';
    expect(findUser(passwd, 'user')).toEqual({
      name: 'user',
      uid: 1000,
      gid: 1001,
      home: '/home/user',
      shell: '/bin/bash',
    });
    expect(findUser(passwd, 'nobody')).toBeUndefined();
    expect(idNames('root:x:0:\nuser:x:1001:\n').get(1001)).toBe('user');
    expect(userFromAuthorization(`Basic ${Buffer.from('root:').toString('base64')}`)).toBe('root');
    expect(userFromAuthorization('Bearer x')).toBeUndefined();
    expect(userFromAuthorization(undefined)).toBeUndefined();
  });

  it('reports exits the way envd does', () => {
    expect(endInfo(0, null)).toEqual({ exitCode: 0, exited: true, status: 'exit status 0' });
    expect(endInfo(3, null)).toEqual({ exitCode: 3, exited: true, status: 'exit status 3', error: 'exit status 3' });
    expect(endInfo(null, 'SIGKILL')).toEqual({
      exitCode: -1,
      exited: false,
      status: 'signal: killed',
      error: 'signal: killed',
    });
  });

  it('renders permission strings', () => {
    const st = (mode: number, dir = false) => ({ mode, isDirectory: () => dir, isSymbolicLink: () => false });
    expect(permissionString(st(0o100644))).toBe('-rw-r--r--');
    expect(permissionString(st(0o40755, true))).toBe('drwxr-xr-x');
  });

  it('parses multipart bodies', () => {
    const b = 'XyZ';
    const body = Buffer.from(
      `--${b}\r\nContent-Disposition: form-data; name="file"; filename="/tmp/a.txt"\r\nContent-Type: application/octet-stream\r\n\r\nhello\r\n` +
        `--${b}\r\nContent-Disposition: form-data; name="file"; filename="b \\"q\\".bin"\r\n\r\n\r\n--x\r\n--${b}--\r\n`,
    );
    const parts = parseMultipart(body, b);
    expect(parts).toHaveLength(2);
    expect(parts[0]).toMatchObject({ name: 'file', filename: '/tmp/a.txt', contentType: 'application/octet-stream' });
    expect(parts[0]!.data.toString()).toBe('hello');
    expect(parts[1]!.filename).toBe('b "q".bin');
    expect(parts[1]!.data.toString()).toBe('\r\n--x');
    expect(boundaryOf('multipart/form-data; boundary="a b"')).toBe('a b');
    expect(boundaryOf('application/octet-stream')).toBeUndefined();
    expect(() => parseMultipart(Buffer.from('nothing'), b)).toThrow();
  });

  it('signs file URLs like the SDK and checks expiry', () => {
    const sig = fileSignature('/tmp/a', 'read', '', 'tok');
    expect(sig).toMatch(/^v1_[A-Za-z0-9+/]+$/);
    expect(checkSignature(sig, '/tmp/a', 'read', '', 'tok', null)).toBe(true);
    expect(checkSignature(sig, '/tmp/a', 'write', '', 'tok', null)).toBe(false);
    const exp = 2_000_000_000;
    const timed = fileSignature('/tmp/a', 'write', 'user', 'tok', exp);
    expect(checkSignature(timed, '/tmp/a', 'write', 'user', 'tok', String(exp))).toBe(true);
    expect(checkSignature(timed, '/tmp/a', 'write', 'user', 'tok', String(exp + 1))).toBe(false);
    expect(signatureExpired(String(exp), exp - 10)).toBe(false);
    expect(signatureExpired(String(exp), exp + 10)).toBe(true);
    expect(signatureExpired(null, exp + 10)).toBe(false);
  });
});

describe('path resolution inside a sandbox root', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'e2blocal-paths-'));
  mkdirSync(path.join(root, 'home/user'), { recursive: true });
  mkdirSync(path.join(root, 'etc'));
  writeFileSync(path.join(root, 'etc/passwd'), 'sandbox');
  symlinkSync('/etc', path.join(root, 'home/user/abs'));
  symlinkSync('../../../../../../etc', path.join(root, 'home/user/rel'));
  symlinkSync('loop2', path.join(root, 'home/user/loop1'));
  symlinkSync('loop1', path.join(root, 'home/user/loop2'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('resolves relative paths against the home directory', () => {
    expect(sandboxPath('a/b', '/home/user')).toBe('/home/user/a/b');
    expect(sandboxPath('/x/../y', '/home/user')).toBe('/y');
  });

  it('keeps absolute and climbing symlinks inside the root', async () => {
    expect(await resolveInRoot(root, '/home/user/abs/passwd')).toBe(path.join(root, 'etc/passwd'));
    expect(await resolveInRoot(root, '/home/user/rel/passwd')).toBe(path.join(root, 'etc/passwd'));
    expect(await resolveInRoot(root, '/../../etc/passwd')).toBe(path.join(root, 'etc/passwd'));
    expect(await resolveInRoot(root, '/home/user/abs', false)).toBe(path.join(root, 'home/user/abs'));
    expect(await resolveInRoot(root, '/home/user/new/file')).toBe(path.join(root, 'home/user/new/file'));
    await expect(resolveInRoot(root, '/home/user/loop1/x')).rejects.toThrow(/symbolic links/);
  });
});

describe('router, faults, listen addresses', () => {
  it('matches params and tells a method mismatch from a missing route', () => {
    const r = new Router<string>()
      .add('GET', '/sandboxes/:id', 'get')
      .add('DELETE', '/sandboxes/:id', 'del')
      .add('POST', '/v2/sandboxes', 'create');
    const m = r.match('DELETE', '/sandboxes/ab%20c');
    expect('route' in m && m.route.handler).toBe('del');
    expect('route' in m && m.params.id).toBe('ab c');
    expect(r.match('PUT', '/sandboxes/x')).toEqual({ methodMismatch: true });
    expect(r.match('GET', '/nothing')).toEqual({ methodMismatch: false });
  });

  it('validates fault settings and injects by rate', async () => {
    const cfg = parseFaultConfig({ create_429_rate: 1, drop_stream_rate: 0.5 }, NO_FAULTS);
    expect(cfg).toMatchObject({ createRateLimitRate: 1, dropStreamRate: 0.5, createErrorRate: 0 });
    expect(() => parseFaultConfig({ create_error_rate: 2 }, NO_FAULTS)).toThrow(ApiError);
    expect(() => parseFaultConfig('x', NO_FAULTS)).toThrow(ApiError);
    const injected: string[] = [];
    const f = new Faults(
      (k) => injected.push(k),
      () => 0.4,
    );
    f.config = cfg;
    await expect(f.beforeCreate()).rejects.toMatchObject({ status: 429 });
    expect(f.dropStream()).toBe(true);
    f.config = { ...cfg, dropStreamRate: 0.3, createRateLimitRate: 0 };
    expect(f.dropStream()).toBe(false);
    await f.beforeCreate();
    expect(injected).toEqual(['create_429', 'drop_stream']);
  });

  it('parses HOST:PORT', () => {
    expect(parseListen('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseListen('[::1]:8080')).toEqual({ host: '::1', port: 8080 });
    expect(parseListen(':49983')).toEqual({ host: '127.0.0.1', port: 49983 });
    expect(() => parseListen('nohost')).toThrow();
  });
});
