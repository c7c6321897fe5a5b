import { parseError } from '../../tools/index.js';

export type Runtime = 'python' | 'node';

/** Interpreter command of each runtime, as the sandbox template installs it. */
export const RUNTIME_COMMANDS: Record<Runtime, string> = { python: 'python3', node: 'node' };

/** `python3 --version` ("Python 3.11.2") or `node --version` ("v18.19.0") → "3.11.2" / "18.19.0". */
export function parseRuntimeVersion(runtime: Runtime, text: string): string {
  const re = runtime === 'python' ? /^Python (\d+\.\d+[\w.+-]*)/m : /^v(\d+\.\d+[\w.+-]*)/m;
  const m = re.exec(text.trim());
  if (!m) throw parseError(RUNTIME_COMMANDS[runtime], 'no version', text);
  return m[1];
}
