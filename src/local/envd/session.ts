import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { SANDBOX_PATH } from '../driver/namespace.js';
import type { EnvdSandbox } from './types.js';
import { findUser, idNames, type SandboxUser } from './users.js';

export class UserError extends Error {}

/** The sandbox user a request acts as: named by the request, or the template's default. */
export async function resolveUser(sb: EnvdSandbox, requested: string | undefined): Promise<SandboxUser> {
  return resolveUserIn(sb.driver.rootPath(sb.driverSandbox), requested || sb.defaultUser);
}

/** The user `name` of the sandbox whose filesystem is visible at `root` (host path). */
export async function resolveUserIn(root: string, name: string): Promise<SandboxUser> {
  let passwd = '';
  try {
    passwd = await readFile(path.join(root, 'etc/passwd'), 'utf8');
  } catch {
    // no passwd: only root is known
  }
  const user = findUser(passwd, name);
  if (user) return user;
  if (name === 'root') return { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/sh' };
  throw new UserError(`user '${name}' does not exist in the sandbox`);
}

/** Environment of a command: login basics, then the sandbox's, then the request's variables. */
export function commandEnv(
  user: SandboxUser,
  sandboxEnv: Record<string, string>,
  requestEnv: Record<string, string>,
): Record<string, string> {
  return {
    PATH: SANDBOX_PATH,
    HOME: user.home,
    USER: user.name,
    LOGNAME: user.name,
    SHELL: user.shell,
    LANG: 'C.UTF-8',
    ...sandboxEnv,
    ...requestEnv,
  };
}

export interface NameMaps {
  users: Map<number, string>;
  groups: Map<number, string>;
}

export async function nameMaps(sb: EnvdSandbox): Promise<NameMaps> {
  const root = sb.driver.rootPath(sb.driverSandbox);
  const read = (f: string) => readFile(path.join(root, f), 'utf8').catch(() => '');
  const [p, g] = await Promise.all([read('etc/passwd'), read('etc/group')]);
  return { users: idNames(p), groups: idNames(g) };
}
