import { createCipheriv, createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';

const CHUNK = 1024 * 1024;
const ZEROS = Buffer.alloc(CHUNK);

/** AES-128-CTR keystream: incompressible (no storage-side compression flatters the numbers) and fast. */
function keystream(seed: string) {
  const key = createHash('sha256').update(seed).digest().subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
}

/** `size` pseudo-random bytes determined by `seed`. */
export function patternBuffer(size: number, seed: string): Buffer {
  const c = keystream(seed);
  const parts: Buffer[] = [];
  for (let left = size; left > 0; left -= CHUNK) parts.push(c.update(left >= CHUNK ? ZEROS : ZEROS.subarray(0, left)));
  return Buffer.concat(parts, size);
}

/** The same bytes as patternBuffer, streamed (for objects too large to hold), hashed as they go out. */
export class PatternStream extends Readable {
  private left: number;
  private readonly cipher;
  private readonly hash: Hash = createHash('sha256');

  constructor(size: number, seed: string) {
    super({ highWaterMark: CHUNK });
    this.left = size;
    this.cipher = keystream(seed);
  }

  override _read(): void {
    if (this.left <= 0) {
      this.push(null);
      return;
    }
    const n = Math.min(CHUNK, this.left);
    this.left -= n;
    const chunk = this.cipher.update(n === CHUNK ? ZEROS : ZEROS.subarray(0, n));
    this.hash.update(chunk);
    this.push(chunk);
  }

  /** sha256 hex of what was emitted; call once the stream has ended. */
  digest(): string {
    return this.hash.digest('hex');
  }
}

export function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

export interface Drained {
  bytes: number;
  sha256: string;
  /** ms from the call until the first chunk arrived (undefined for an empty body). */
  firstByteMs?: number;
  buffer?: Buffer;
}

/** Reads a body to its end, hashing it; keeps the bytes only when asked (ranged reads). */
export async function drain(body: Readable, opts: { keep?: boolean; startedAt?: number } = {}): Promise<Drained> {
  const h = createHash('sha256');
  const kept: Buffer[] = [];
  let bytes = 0;
  let firstByteMs: number | undefined;
  for await (const chunk of body as AsyncIterable<Buffer | string>) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (firstByteMs === undefined && opts.startedAt !== undefined) firstByteMs = performance.now() - opts.startedAt;
    h.update(b);
    bytes += b.length;
    if (opts.keep) kept.push(b);
  }
  return { bytes, sha256: h.digest('hex'), firstByteMs, buffer: opts.keep ? Buffer.concat(kept, bytes) : undefined };
}

/** "1MiB", "64KiB", "1GiB" when exact, else bytes: a bounded label from configured sizes. */
export function sizeClass(bytes: number): string {
  for (const [unit, n] of [
    ['GiB', 2 ** 30],
    ['MiB', 2 ** 20],
    ['KiB', 2 ** 10],
  ] as const) {
    if (bytes >= n && bytes % n === 0) return `${bytes / n}${unit}`;
  }
  return `${bytes}B`;
}
