import { Code, ConnectError, createContextKey, type HandlerContext } from '@connectrpc/connect';
import type { EnvdFaults, EnvdSandbox } from './types.js';
import { resolveUser, UserError } from './session.js';
import { userFromAuthorization, type SandboxUser } from './users.js';

/** The sandbox a request was routed to (set by the envd server before the RPC runs). */
export const kSandbox = createContextKey<EnvdSandbox | undefined>(undefined);
export const kFaults = createContextKey<EnvdFaults | undefined>(undefined);

export function sandboxOf(ctx: HandlerContext): EnvdSandbox {
  const sb = ctx.values.get(kSandbox);
  if (!sb) throw new ConnectError('sandbox not found', Code.Unavailable);
  return sb;
}

export async function userOf(ctx: HandlerContext, sb: EnvdSandbox): Promise<SandboxUser> {
  try {
    return await resolveUser(sb, userFromAuthorization(ctx.requestHeader.get('authorization')));
  } catch (err) {
    if (err instanceof UserError) throw new ConnectError(err.message, Code.InvalidArgument);
    throw err;
  }
}

/**
 * The reason of a Node fs error without the host path it names (`ENOENT: no such file or
 * directory, lstat '/proc/PID/root/…'` → `no such file or directory`): clients see sandbox paths only.
 */
export function fsReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (typeof e.syscall === 'string') {
    const m = /^[A-Z0-9]+: ([^,]+)/.exec(e.message);
    return m ? m[1]! : (e.code ?? 'error');
  }
  return e.message;
}

/** Map a Node fs error to the Connect code the SDK understands. */
export function fsError(err: unknown, what: string): ConnectError {
  if (err instanceof ConnectError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const msg = `${what}: ${fsReason(err)}`;
  switch (code) {
    case 'ENOENT':
      return new ConnectError(msg, Code.NotFound);
    case 'EEXIST':
      return new ConnectError(msg, Code.AlreadyExists);
    case 'EACCES':
    case 'EPERM':
      return new ConnectError(msg, Code.PermissionDenied);
    case 'ENOTDIR':
    case 'EISDIR':
    case 'EINVAL':
    case 'ELOOP':
      return new ConnectError(msg, Code.InvalidArgument);
    case 'ENOSPC':
      return new ConnectError(msg, Code.ResourceExhausted);
    default:
      return new ConnectError(msg, Code.Internal);
  }
}
