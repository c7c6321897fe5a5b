import { ProbeError, type FailureReason } from '../probe/reasons.js';
import type { StorageProvider } from './types.js';

/** Socket-level failures: the endpoint did not answer. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Error codes / names the providers use for rejected credentials. */
const AUTH_CODES = new Set([
  // S3
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'CredentialsProviderError',
  'InvalidClientTokenId',
  // Azure
  'AuthenticationFailed',
  'AuthorizationFailure',
  'AuthorizationPermissionMismatch',
  'InvalidAuthenticationInfo',
  'CredentialUnavailableError',
]);

/** Class names that say nothing about what went wrong. */
const GENERIC_NAMES = new Set(['Error', 'RestError', 'ApiError', 'GaxiosError', 'TypeError', 'S3ServiceException']);

const MISSING_BUCKET_CODES = new Set(['NoSuchBucket', 'ContainerNotFound']);
const RATE_CODES = new Set(['SlowDown', 'ServerBusy', 'TooManyRequests', 'RequestLimitExceeded']);

export interface StorageErrorClass {
  reason: FailureReason;
  /** Short description without the server's own text. */
  what: string;
  code?: string;
  status?: number;
}

interface ErrLike {
  name?: string;
  code?: string | number;
  message?: string;
  type?: string;
  statusCode?: number;
  status?: number;
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
  errors?: unknown[];
}

function chain(err: unknown): ErrLike[] {
  const out: ErrLike[] = [];
  const seen = new Set<unknown>();
  const visit = (e: unknown) => {
    if (!e || typeof e !== 'object' || seen.has(e) || out.length > 10) return;
    seen.add(e);
    out.push(e as ErrLike);
    visit((e as ErrLike).cause);
    for (const sub of (e as ErrLike).errors ?? []) visit(sub); // AggregateError from happy-eyeballs connects
  };
  visit(err);
  return out;
}

/** Pure classification of an error thrown by the AWS, Google or Azure SDK. */
export function classifyStorageError(err: unknown): StorageErrorClass {
  const errs = chain(err);
  const codes = errs
    .flatMap((e) => [typeof e.code === 'string' ? e.code : undefined, e.name])
    .filter((c): c is string => Boolean(c) && !GENERIC_NAMES.has(c!));
  const status =
    errs
      .map(
        (e) =>
          e.$metadata?.httpStatusCode ?? e.statusCode ?? e.status ?? (typeof e.code === 'number' ? e.code : undefined),
      )
      .find((s) => typeof s === 'number' && s >= 100) ?? undefined;
  const code = codes.find(
    (c) => AUTH_CODES.has(c) || MISSING_BUCKET_CODES.has(c) || RATE_CODES.has(c) || UNREACHABLE.has(c),
  );
  const net = codes.find((c) => UNREACHABLE.has(c));
  if (net) return { reason: 'timeout', what: `endpoint unreachable (${net})`, code: net };
  // AbortError here is a per-request timeout: the run's own abort never reaches classification.
  const timedOut = errs.some((e) => e.type === 'request-timeout' || /network timeout at/.test(e.message ?? '')); // node-fetch (GCS)
  if (timedOut || codes.includes('TimeoutError') || codes.includes('RequestTimeout') || codes.includes('AbortError')) {
    return { reason: 'timeout', what: 'request timed out', code: 'TimeoutError' };
  }
  if ((code && AUTH_CODES.has(code)) || status === 401 || status === 403) {
    return { reason: 'auth', what: 'credentials rejected', code: code ?? codes[0], status };
  }
  const text = errs.map((e) => e.message ?? '').join(' ');
  if (/could not load the default credentials|no credentials|unable to detect a project id/i.test(text)) {
    return { reason: 'auth', what: 'no credentials found', code: codes[0] };
  }
  if (code && MISSING_BUCKET_CODES.has(code))
    return { reason: 'storage_error', what: 'bucket does not exist', code, status };
  if ((code && RATE_CODES.has(code)) || status === 429) {
    return { reason: 'rate_limited', what: 'throttled', code: code ?? codes[0], status };
  }
  if (status === 404) return { reason: 'storage_error', what: 'not found', code: codes[0], status };
  return { reason: 'storage_error', what: 'request failed', code: codes[0], status };
}

/** Replaces every configured secret (and secret-looking connection-string parts) in text. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('***');
  return out
    .replace(/(AccountKey|SharedAccessSignature|sig|X-Amz-Signature|X-Amz-Credential|Signature)=([^;&\s]+)/gi, '$1=***')
    .replace(/(Authorization:\s*)\S+(\s+\S+)?/gi, '$1***');
}

export interface ErrorScope {
  target: string;
  provider: StorageProvider;
  bucket: string;
  secrets: readonly (string | undefined)[];
}

/**
 * Wraps an SDK error as a ProbeError whose message names the target and bucket, says what failed and
 * why, and contains no secret. Aborts pass through untouched so the runner sees its own abort.
 */
export function toProbeError(scope: ErrorScope, op: string, err: unknown, signal?: AbortSignal): unknown {
  if (err instanceof ProbeError) return err;
  if (signal?.aborted) return err;
  const c = classifyStorageError(err);
  const first = chain(err)[0];
  const serverText = (first?.message ?? '').split('\n')[0].trim().slice(0, 200);
  const code = [c.code, c.status ? `HTTP ${c.status}` : undefined].filter(Boolean).join(', ');
  const message =
    `target "${scope.target}": ${scope.provider} bucket "${scope.bucket}": ${op} failed: ${c.what}` +
    (code ? ` (${code})` : '') +
    (serverText && !serverText.includes(c.what) ? `: ${serverText}` : '');
  // No `cause`: SDK errors carry requests and headers that must not reach logs or run records.
  return new ProbeError(c.reason, redact(message, scope.secrets));
}

/** Runs one storage operation; a failure leaves as the ProbeError `toProbeError` makes of it. */
export async function storageCall<T>(
  scope: ErrorScope,
  op: string,
  signal: AbortSignal | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toProbeError(scope, op, err, signal);
  }
}
