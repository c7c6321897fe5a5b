import { execFile } from 'node:child_process';

/**
 * File metadata as envd keeps it: one `user.<key>` extended attribute per key, so it lives with
 * the file (moves, copies with xattrs, snapshots of the layer). Read and written with attr's
 * getfattr / setfattr, since Node has no xattr API.
 */
export const METADATA_XATTR_PREFIX = 'user.';

function tool(cmd: string, args: string[]): Promise<{ stdout: string; ok: boolean; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { maxBuffer: 16 * 1024 * 1024, timeout: 10_000 }, (err, stdout, stderr) =>
      resolve({ stdout: String(stdout), stderr: String(stderr), ok: !err }),
    );
  });
}

/** Undo getfattr's octal escapes in file names (`\012` for a newline, `\\` for a backslash). */
function unescapeName(s: string): string {
  return s.replace(/\\([0-7]{3}|\\)/g, (_, c: string) => (c === '\\' ? '\\' : String.fromCharCode(parseInt(c, 8))));
}

/** Parse `getfattr -d -e hex` output into host path → metadata (pure). */
export function parseGetfattr(text: string): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  let current: Record<string, string> | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('# file: ')) {
      current = {};
      out.set(unescapeName(line.slice(8)), current);
      continue;
    }
    const m = /^([^=]+)=0x([0-9a-fA-F]*)$/.exec(line);
    if (!m || !current || !m[1]!.startsWith(METADATA_XATTR_PREFIX)) continue;
    current[m[1]!.slice(METADATA_XATTR_PREFIX.length)] = Buffer.from(m[2]!, 'hex').toString('latin1');
  }
  return out;
}

/** Metadata of each path (paths without any are absent); never follows the last symlink. */
export async function readMetadata(hostPaths: string[]): Promise<Map<string, Record<string, string>>> {
  if (hostPaths.length === 0) return new Map();
  // Exit status is non-zero when some path vanished meanwhile; what was read is still good.
  const r = await tool('getfattr', ['--absolute-names', '-h', '-d', '-m', '^user\\.', '-e', 'hex', '--', ...hostPaths]);
  return parseGetfattr(r.stdout);
}

/** Replace the file's metadata keys given (others are kept, as envd's write does). */
export async function writeMetadata(hostPath: string, metadata: Record<string, string>): Promise<void> {
  for (const [k, v] of Object.entries(metadata)) {
    // Hex, so that values such as `0x…` or `"…"` are stored as they were given.
    const value = v === '' ? [] : ['-v', '0x' + Buffer.from(v, 'latin1').toString('hex')];
    const r = await tool('setfattr', ['-n', METADATA_XATTR_PREFIX + k, ...value, '--', hostPath]);
    if (!r.ok) throw Object.assign(new Error(`cannot store file metadata '${k}'`), { code: 'EIO' });
  }
}

/** Metadata from `X-Metadata-<key>` request headers (how the SDK sends it), keys as the client spelled them. */
export function metadataFromHeaders(rawHeaders: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.toLowerCase().startsWith('x-metadata-') && name.length > 11) out[name.slice(11)] = rawHeaders[i + 1]!;
  }
  return out;
}
