import { maskSecrets } from '../config/secrets.js';
import { ProbeError, type FailureReason } from '../probe/reasons.js';

const BY_NAME: Record<string, FailureReason> = {
  AuthenticationError: 'auth',
  RateLimitError: 'rate_limited',
  TimeoutError: 'timeout',
  AbortError: 'timeout',
  CommandExitError: 'command_failed',
  NotEnoughSpaceError: 'capacity',
  ServiceBusyError: 'capacity',
  SandboxNotFoundError: 'sandbox_error',
  NotFoundError: 'sandbox_error',
  SandboxError: 'sandbox_error',
  InvalidArgumentError: 'api_error',
  TemplateError: 'api_error',
  BuildError: 'api_error',
  FileUploadError: 'api_error',
};

/**
 * Maps anything a probe can throw to the bounded reason enum. E2B SDK errors are recognised by
 * class name (the SDK's classes may come from a nested copy, so instanceof is unreliable); HTTP
 * status codes in messages cover plain API failures.
 */
export function classifyError(err: unknown): FailureReason {
  if (err instanceof ProbeError) return err.reason;
  const e = err as { name?: string; message?: string; code?: string; status?: number };
  if (e?.code === 'ENOENT') return 'tool_missing';
  for (let c: unknown = err; c; c = (c as { cause?: unknown }).cause) {
    const { name, message = '', statusCode } = c as { name?: string; message?: string; statusCode?: number };
    // The SDK raises a plain SandboxError for control-plane HTTP errors, with the status attached.
    if (name === 'SandboxError' && typeof statusCode === 'number')
      return statusCode === 404
        ? 'sandbox_error'
        : statusCode >= 500 || statusCode >= 400
          ? 'api_error'
          : 'sandbox_error';
    // The SDK reports an unreachable or vanished sandbox as a TimeoutError; only request and
    // command deadlines are real timeouts.
    if (name === 'TimeoutError' && /sandbox timeout|killed or reached its end of life/.test(message))
      return 'sandbox_error';
    if (name && BY_NAME[name]) return BY_NAME[name];
  }
  const msg = e?.message ?? String(err);
  const status = e?.status ?? Number(/\b(4\d\d|5\d\d)\b/.exec(msg)?.[1]);
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'rate_limited';
  if (status === 503 || /capacity|not enough/i.test(msg)) return 'capacity';
  if (status >= 500) return 'api_error';
  if (/timed? ?out|deadline/i.test(msg)) return 'timeout';
  if (/ECONNREFUSED|ECONNRESET|fetch failed|socket hang up/i.test(msg)) return 'api_error';
  return 'internal';
}

/** A short, single-line message safe to store and show: known secrets and secret-looking tokens are masked. */
export function safeMessage(err: unknown): string {
  const raw = err instanceof Error ? err.message : String(err);
  return maskSecrets(raw)
    .replace(/(e2b_|sk-|Bearer\s+)[A-Za-z0-9._-]{6,}/g, '$1***')
    .replace(/\s+/g, ' ')
    .slice(0, 500);
}
