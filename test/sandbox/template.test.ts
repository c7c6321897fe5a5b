import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from 'e2b';
import { describe, expect, it } from 'vitest';
import { SANDBOX_TOOLS } from '../../probes/sandbox/exec.js';
import { TOOL_PACKAGES } from '../../probes/tools/exec.js';
import { parsePackageList } from '../../src/local/template/recipe.js';
import { parseTemplatesFile } from '../../src/template/recipe-file.js';
import { TEMPLATE_DIR } from './bench-dir.js';

// No Docker engine here: the Dockerfile is checked by parsing it the way E2B's own SDK does
// (Template.fromDockerfile), then comparing what it installs with what the probes run and with
// the local template's package list.

/** Packages the template needs that no probe runs directly, and why. */
const SUPPORT_PACKAGES: Record<string, string> = {
  bash: 'commands run as `bash -l -c`',
  passwd: 'the account commands run as',
  'ca-certificates': 'HTTPS endpoints and package indexes',
  'python3-venv': 'ensurepip for Python package installs',
  git: "E2B's base template has it (agents clone repositories)",
  sudo: "E2B's base template lets `user` run sudo without a password",
};

const read = (f: string) => readFileSync(join(TEMPLATE_DIR, f), 'utf8');

interface Step {
  type: string;
  args: string[];
  filesHash?: string;
}

async function dockerfileSteps(): Promise<{ fromImage: string; steps: Step[] }> {
  const t = Template({ fileContextPath: TEMPLATE_DIR }).fromDockerfile(read('e2b.Dockerfile'));
  // computeHashes=true hashes every COPY source: a missing bench/ directory fails here.
  return JSON.parse(await Template.toJSON(t, true)) as { fromImage: string; steps: Step[] };
}

/** Package names of every `apt-get install` in a shell command line. */
function aptInstalled(command: string): string[] {
  const out: string[] = [];
  for (const m of command.matchAll(/apt-get install((?:\s+[^&;|]+?)+)(?=\s*(?:&&|;|\||$))/g)) {
    out.push(
      ...m[1]
        .trim()
        .split(/\s+/)
        .filter((w) => !w.startsWith('-')),
    );
  }
  return out;
}

describe('e2b.Dockerfile', () => {
  it('parses as E2B builds it: one Debian base, only supported steps, bench/ copied', async () => {
    const { fromImage, steps } = await dockerfileSteps();
    const recipe = parseTemplatesFile(JSON.parse(read('templates.json'))).recipe;
    expect(fromImage).toBe(`debian:${recipe.suite}`);
    expect(new Set(steps.map((s) => s.type))).toEqual(new Set(['USER', 'WORKDIR', 'RUN', 'COPY']));
    const copies = steps.filter((s) => s.type === 'COPY');
    expect(copies.map((c) => [c.args[0].replace(/\/$/, ''), c.args[1].replace(/\/$/, '')])).toEqual([
      [recipe.bench.source, recipe.bench.path],
    ]);
    expect(copies[0].filesHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('installs exactly the packages of packages.txt', async () => {
    const { steps } = await dockerfileSteps();
    const installed = steps.filter((s) => s.type === 'RUN').flatMap((s) => aptInstalled(s.args[0]));
    expect(new Set(installed).size).toBe(installed.length);
    const recipe = parseTemplatesFile(JSON.parse(read('templates.json'))).recipe;
    expect([...installed].sort()).toEqual(parsePackageList(read(recipe.packages)).sort());
  });

  it('installs exactly the tools the sandbox probes run, plus the documented support packages', async () => {
    const { steps } = await dockerfileSteps();
    const installed = new Set(steps.filter((s) => s.type === 'RUN').flatMap((s) => aptInstalled(s.args[0])));
    const toolPackages = new Set(SANDBOX_TOOLS.map((t) => TOOL_PACKAGES[t]));
    expect([...toolPackages].filter((p) => !installed.has(p))).toEqual([]);
    expect([...installed].filter((p) => !toolPackages.has(p) && !(p in SUPPORT_PACKAGES))).toEqual([]);
    // Every support package is really there (the list above cannot go stale either).
    expect(Object.keys(SUPPORT_PACKAGES).filter((p) => !installed.has(p))).toEqual([]);
  });

  it('aptInstalled reads package lists out of shell command lines', () => {
    expect(aptInstalled('apt-get update && apt-get install -y --no-install-recommends a b-c && apt-get clean')).toEqual(
      ['a', 'b-c'],
    );
    expect(aptInstalled('X=1 apt-get install -y q; apt-get install r')).toEqual(['q', 'r']);
  });
});

describe('e2b.toml.example', () => {
  it('names the Dockerfile and the default template’s resources', () => {
    const toml = Object.fromEntries(
      [...read('e2b.toml.example').matchAll(/^(\w+)\s*=\s*(.+)$/gm)].map((m) => [m[1], JSON.parse(m[2])]),
    );
    const file = parseTemplatesFile(JSON.parse(read('templates.json')));
    const def = file.templates[file.default];
    expect(toml).toMatchObject({ dockerfile: 'e2b.Dockerfile', cpu_count: def.cpu_count, memory_mb: def.memory_mb });
  });
});
