import { parseError } from './text.js';

/** Lines `e2bbench-container <start> <end>` (bash $EPOCHREALTIME) → seconds per container run. */
export function parseContainerRuns(text: string, expected: number): number[] {
  const out: number[] = [];
  for (const m of text.matchAll(/^e2bbench-container (\d+\.\d+) (\d+\.\d+)$/gm)) {
    const seconds = Number(m[2]) - Number(m[1]);
    if (!(seconds > 0)) throw parseError('container start', 'end not after start', m[0]);
    out.push(seconds);
  }
  if (out.length !== expected) throw parseError('container start', `${out.length} runs for ${expected}`, text);
  return out;
}
