import { describe, expect, it } from 'vitest';
import { ProbeError } from '../../src/probe/reasons.js';
import { classifyStorageError, redact, toProbeError } from '../../src/storage/errors.js';

const err = (props: Record<string, unknown>, message = 'boom') => Object.assign(new Error(message), props);

describe('classifyStorageError', () => {
  it.each([
    // S3 (AWS SDK v3 service exceptions)
    [err({ name: 'InvalidAccessKeyId', $metadata: { httpStatusCode: 403 } }), 'auth'],
    [err({ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } }), 'auth'],
    [err({ name: 'CredentialsProviderError' }, 'Could not load credentials from any providers'), 'auth'],
    [err({ name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } }), 'storage_error'],
    [err({ name: 'SlowDown', $metadata: { httpStatusCode: 503 } }), 'rate_limited'],
    [err({ name: 'TimeoutError' }), 'timeout'],
    [err({ name: 'InternalError', $metadata: { httpStatusCode: 500 } }), 'storage_error'],
    // Azure (RestError)
    [err({ name: 'RestError', code: 'AuthorizationFailure', statusCode: 403 }), 'auth'],
    [err({ name: 'RestError', code: 'ContainerNotFound', statusCode: 404 }), 'storage_error'],
    [err({ name: 'RestError', code: 'ServerBusy', statusCode: 503 }), 'rate_limited'],
    [err({ name: 'AbortError' }), 'timeout'],
    // GCS (ApiError with a numeric code; node-fetch errors)
    [err({ name: 'Error', code: 401 }), 'auth'],
    [err({ name: 'Error', code: 429 }), 'rate_limited'],
    [err({ name: 'FetchError', type: 'request-timeout' }, 'network timeout at: http://x'), 'timeout'],
    [err({}, 'Could not load the default credentials. Browse to https://cloud.google.com/docs/authentication'), 'auth'],
    // sockets, also when wrapped or aggregated
    [err({ code: 'ECONNREFUSED' }), 'timeout'],
    [err({}, 'outer'), 'storage_error'],
    [Object.assign(new Error('outer'), { cause: err({ code: 'ENOTFOUND' }) }), 'timeout'],
    [new AggregateError([err({ code: 'ECONNREFUSED' }), err({ code: 'ECONNREFUSED' })]), 'timeout'],
  ] as const)('%#: %s → %s', (e, reason) => {
    expect(classifyStorageError(e).reason).toBe(reason);
  });
});

describe('messages', () => {
  const scope = { target: 'aws-1', provider: 's3' as const, bucket: 'tpl', secrets: ['SECRETKEY123', 'AKIDKEYID'] };

  it('name the target, bucket, operation and code, never a secret', () => {
    const e = toProbeError(
      scope,
      'put "p/x"',
      err(
        { name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } },
        'signed with SECRETKEY123 by AKIDKEYID',
      ),
    ) as ProbeError;
    expect(e).toBeInstanceOf(ProbeError);
    expect(e.reason).toBe('auth');
    expect(e.message).toBe(
      'target "aws-1": s3 bucket "tpl": put "p/x" failed: credentials rejected (SignatureDoesNotMatch, HTTP 403): signed with *** by ***',
    );
    expect(e.cause).toBeUndefined(); // SDK errors carry requests and headers: not kept
  });

  it('lets the run’s own abort through untouched', () => {
    const ac = new AbortController();
    ac.abort();
    const original = err({ name: 'AbortError' });
    expect(toProbeError(scope, 'get', original, ac.signal)).toBe(original);
  });

  it('redacts connection-string keys, SAS signatures and Authorization headers', () => {
    const text =
      'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=abc+/=;EndpointSuffix=x ' +
      'https://a.blob.core.windows.net/c?sv=1&sig=SIGVALUE&se=2 Authorization: SharedKey a:SIGB64';
    const out = redact(text, []);
    expect(out).not.toMatch(/abc\+|SIGVALUE|SIGB64/);
    expect(out).toContain('AccountName=a');
    expect(out).toContain('AccountKey=***');
    expect(out).toContain('sig=***');
  });
});
