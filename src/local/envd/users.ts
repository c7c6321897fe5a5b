/** Pure lookups in a sandbox's /etc/passwd and /etc/group. */

export interface SandboxUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export function parsePasswd(text: string): SandboxUser[] {
  const users: SandboxUser[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 7 || line.startsWith('#')) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    users.push({ name: f[0]!, uid, gid, home: f[5] || '/', shell: f[6] || '/bin/sh' });
  }
  return users;
}

export function findUser(passwd: string, name: string): SandboxUser | undefined {
  return parsePasswd(passwd).find((u) => u.name === name);
}

/** id → name maps for owner/group columns. */
export function idNames(text: string): Map<number, string> {
  const m = new Map<number, string>();
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 3) continue;
    const id = Number(f[2]);
    if (Number.isInteger(id) && !m.has(id)) m.set(id, f[0]!);
  }
  return m;
}

/** The user named by `Authorization: Basic base64("name:")`, as the SDK sends it. */
export function userFromAuthorization(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Basic\s+(\S+)$/i.exec(header.trim());
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const name = decoded.split(':')[0];
  return name || undefined;
}
