import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

// The e2b-template/ directory: templates.json and the bench scripts every template ships. Shared
// by the local runtime's build, which reads the whole recipe, and the sandbox probes, which
// upload the bench scripts to templates that lack them.

const TEMPLATE_NAME = /^[a-z0-9][a-z0-9._-]*$/;

const UserSchema = z
  .object({
    name: z.string().regex(/^[a-z_][a-z0-9_-]*$/),
    uid: z.number().int().positive(),
    gid: z.number().int().positive(),
    home: z.string().startsWith('/'),
    shell: z.string().startsWith('/'),
  })
  .strict();

const TemplateSchema = z
  .object({
    description: z.string().optional(),
    /** CPUs of CFS quota. Fractions (0.5) are a local-runtime extension; E2B itself takes whole vCPUs. */
    cpu_count: z.number().min(0.01).max(256),
    memory_mb: z.number().int().positive(),
  })
  .strict();

export const TemplatesFileSchema = z
  .object({
    recipe: z
      .object({
        suite: z.string().regex(/^[a-z]+$/),
        variant: z.string().regex(/^[a-z]+$/),
        packages: z.string().min(1),
        setup: z.string().min(1),
        user: UserSchema,
        bench: z.object({ source: z.string().min(1), path: z.string().startsWith('/') }).strict(),
      })
      .strict(),
    default: z.string(),
    templates: z.record(z.string().regex(TEMPLATE_NAME), TemplateSchema),
  })
  .strict()
  .refine((f) => f.templates[f.default] !== undefined, { message: 'default must name one of templates' });

export type TemplatesFile = z.output<typeof TemplatesFileSchema>;
export type TemplateUser = z.output<typeof UserSchema>;

export function parseTemplatesFile(json: unknown): TemplatesFile {
  return TemplatesFileSchema.parse(json);
}

/** A file under the recipe's bench/ directory, as it goes into the rootfs. */
export interface BenchFile {
  path: string;
  mode: number;
  sha256: string;
}

const BENCH_IGNORE = new Set(['__pycache__', 'node_modules', '.pytest_cache']);

/** Regular files under `dir` (relative paths, `/`-separated); an absent directory has none. */
export async function listBenchFiles(dir: string): Promise<BenchFile[]> {
  if (!existsSync(dir)) return [];
  const out: BenchFile[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      if (BENCH_IGNORE.has(entry.name) || entry.name.endsWith('.pyc')) continue;
      const full = join(d, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) {
        const [content, st] = await Promise.all([readFile(full), stat(full)]);
        out.push({
          path: relative(dir, full).split(sep).join('/'),
          mode: st.mode & 0o777,
          sha256: createHash('sha256').update(content).digest('hex'),
        });
      }
    }
  };
  await walk(dir);
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/**
 * The e2b-template/ directory: `$E2BBENCH_TEMPLATE_DIR`, else the first ancestor of this module
 * (source or compiled) that holds e2b-template/templates.json.
 */
export function findRecipeDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.E2BBENCH_TEMPLATE_DIR) return resolve(env.E2BBENCH_TEMPLATE_DIR);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'e2b-template');
    if (existsSync(join(candidate, 'templates.json'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('e2b-template/templates.json not found; set E2BBENCH_TEMPLATE_DIR');
    dir = parent;
  }
}
