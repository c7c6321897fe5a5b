import { ApiError } from './errors.js';

/** Pure parsing and paging for `GET /v2/sandboxes` and `GET /snapshots`. */

export interface ListQuery {
  metadata: Record<string, string>;
  states?: string[];
  limit: number;
  /** Key of the last item of the previous page (from the opaque next token). */
  after?: string;
  order: 'asc' | 'desc';
  template?: string;
  /** Only items started at or after this time (`startedAfter`, RFC 3339). */
  startedAfter?: Date;
}

/**
 * The SDK sends `metadata` as one URL-encoded `k=v&k2=v2` string whose keys and values were
 * themselves URL-encoded first; decode both levels.
 */
export function parseMetadataFilter(raw: string | null): Record<string, string> {
  if (!raw) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(raw)) out[safeDecode(k)] = safeDecode(v);
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Paging is by key (not offset), so creates and kills between pages neither skip nor repeat items. */
export function encodeNextToken(key: string): string {
  return Buffer.from(`k:${key}`).toString('base64url');
}

export function decodeNextToken(token: string | null): string | undefined {
  if (!token) return undefined;
  const raw = Buffer.from(token, 'base64url').toString('utf8');
  if (!raw.startsWith('k:')) throw new ApiError(400, 'invalid nextToken');
  return raw.slice(2);
}

function parseTime(raw: string | null, what: string): Date | undefined {
  if (raw === null || raw === '') return undefined;
  const d = new Date(raw);
  if (Number.isNaN(d.getTime())) throw new ApiError(400, `${what} must be an RFC 3339 time`);
  return d;
}

/** E2B lists newest first unless `order=asc` is asked for. */
export function parseListQuery(params: URLSearchParams, maxLimit = 1000, defaultLimit = 100): ListQuery {
  const limitRaw = params.get('limit');
  const limit = limitRaw === null ? defaultLimit : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit)
    throw new ApiError(400, `limit must be an integer between 1 and ${maxLimit}`);
  const stateRaw = params
    .getAll('state')
    .flatMap((s) => s.split(','))
    .filter(Boolean);
  for (const s of stateRaw) if (s !== 'running' && s !== 'paused') throw new ApiError(400, `invalid state '${s}'`);
  return {
    metadata: parseMetadataFilter(params.get('metadata')),
    states: stateRaw.length > 0 ? stateRaw : undefined,
    limit,
    after: decodeNextToken(params.get('nextToken')),
    order: params.get('order') === 'asc' ? 'asc' : 'desc',
    template: params.get('template') ?? undefined,
    startedAfter: parseTime(params.get('startedAfter'), 'startedAfter'),
  };
}

export function matchesMetadata(metadata: Record<string, string>, filter: Record<string, string>): boolean {
  return Object.entries(filter).every(([k, v]) => metadata[k] === v);
}

/** Sortable key: zero-padded start time, then id. */
export function itemKey(startedAtMs: number, id: string): string {
  return `${String(startedAtMs).padStart(15, '0')}:${id}`;
}

/** One page of `items` (any order) after `after`, and the token for the next one (none on the last page). */
export function page<T>(
  items: T[],
  keyOf: (item: T) => string,
  q: Pick<ListQuery, 'after' | 'limit' | 'order'>,
): { items: T[]; next?: string } {
  const dir = q.order === 'desc' ? -1 : 1;
  const sorted = items
    .map((item) => ({ item, key: keyOf(item) }))
    .sort((a, b) => (a.key < b.key ? -dir : a.key > b.key ? dir : 0));
  const rest = q.after === undefined ? sorted : sorted.filter((x) => (dir === 1 ? x.key > q.after! : x.key < q.after!));
  const slice = rest.slice(0, q.limit);
  const last = slice[slice.length - 1];
  return {
    items: slice.map((x) => x.item),
    next: rest.length > slice.length && last ? encodeNextToken(last.key) : undefined,
  };
}
