/** `ps -eo stat=,comm=` → one {stat, comm} per process. */
export function parsePsStatComm(text: string): { stat: string; comm: string }[] {
  const out: { stat: string; comm: string }[] = [];
  for (const m of text.matchAll(/^\s*(\S+)\s+(.+?)\s*$/gm)) out.push({ stat: m[1], comm: m[2] });
  return out;
}

/** Processes whose name matches `pattern` and that still run (zombies are already dead). */
export function liveMatches(procs: { stat: string; comm: string }[], pattern: RegExp): string[] {
  return procs.filter((p) => !p.stat.startsWith('Z') && pattern.test(p.comm)).map((p) => p.comm);
}
