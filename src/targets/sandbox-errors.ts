import type { Sandbox } from 'e2b';
import { ProbeError } from '../probe/reasons.js';

/**
 * A command or file call failed: when the sandbox itself is gone (crashed, expired), say so —
 * `sandbox_error` — rather than blaming the command. Otherwise the original error stands.
 */
export async function explainSandboxFailure(sandbox: Sandbox, err: unknown, what: string): Promise<unknown> {
  if (err instanceof ProbeError) return err;
  const running = await sandbox.isRunning({ requestTimeoutMs: 5000 }).catch(() => undefined);
  if (running === false)
    return new ProbeError(
      'sandbox_error',
      `sandbox ${sandbox.sandboxId} died during ${what}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  return err;
}

/** Runs `fn`; on failure rethrows `explainSandboxFailure`'s verdict. */
export async function inSandbox<T>(sandbox: Sandbox, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw await explainSandboxFailure(sandbox, err, what);
  }
}
