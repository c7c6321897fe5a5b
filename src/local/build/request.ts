import { z } from 'zod';
import { ApiError } from '../core/errors.js';

/*
 * E2B's template build requests as the SDK sends them (`POST /v3/templates`, then
 * `POST /v2/templates/{templateID}/builds/{buildID}` with the serialized steps), parsed into what
 * the local runtime executes. Pure: no I/O.
 */

/** Template names: lowercase, as E2B's; an optional `:tag` is kept apart. */
const NAME = /^[a-z0-9][a-z0-9._-]{0,127}$/;

export interface BuildRequest {
  name: string;
  tags: string[];
  cpuCount?: number;
  memoryMb?: number;
}

export type BuildStep =
  | { type: 'RUN'; command: string; user?: string }
  | { type: 'COPY'; src: string; dest: string; user?: string; mode?: number; filesHash: string }
  | { type: 'ENV'; vars: [string, string][] }
  | { type: 'WORKDIR'; path: string }
  | { type: 'USER'; user: string };

export interface BuildPlan {
  fromTemplate: string;
  steps: BuildStep[];
}

const RequestSchema = z.object({
  name: z.string().optional(),
  alias: z.string().optional(),
  tags: z.array(z.string()).optional(),
  cpuCount: z.number().int().positive().max(64).optional(),
  memoryMB: z.number().int().min(128).max(65_536).optional(),
});

const StepSchema = z.object({
  type: z.string(),
  args: z.array(z.string()).default([]),
  filesHash: z.string().optional(),
});

const StartSchema = z.object({
  fromTemplate: z.string().optional(),
  fromImage: z.string().optional(),
  fromImageRegistry: z.unknown().optional(),
  startCmd: z.string().optional(),
  readyCmd: z.string().optional(),
  steps: z.array(StepSchema).default([]),
});

function bad(message: string): ApiError {
  return new ApiError(400, message);
}

function parse<T extends z.ZodTypeAny>(schema: T, body: unknown): z.output<T> {
  const r = schema.safeParse(body);
  if (r.success) return r.data as z.output<T>;
  const i = r.error.issues[0]!;
  throw bad(`${i.path.join('.') || 'body'}: ${i.message}`);
}

/** `POST /v3/templates`: the name (tag split off), tags and resources of the template to build. */
export function parseBuildRequest(body: unknown): BuildRequest {
  const b = parse(RequestSchema, body);
  const full = b.name ?? b.alias;
  if (!full) throw bad('name is required');
  const [name, tag] = full.split(':', 2) as [string, string | undefined];
  if (!NAME.test(name))
    throw bad(`name '${name}' must be lowercase letters, digits, '.', '_' or '-' (at most 128, starting alphanumeric)`);
  const tags = [...(tag ? [tag] : []), ...(b.tags ?? [])];
  return {
    name,
    tags: tags.length ? tags : ['default'],
    ...(b.cpuCount === undefined ? {} : { cpuCount: b.cpuCount }),
    ...(b.memoryMB === undefined ? {} : { memoryMb: b.memoryMB }),
  };
}

function octal(mode: string, step: number): number | undefined {
  if (mode === '') return undefined;
  if (!/^[0-7]{3,4}$/.test(mode)) throw bad(`steps[${step}]: mode '${mode}' is not an octal file mode`);
  return parseInt(mode, 8);
}

function step(raw: z.output<typeof StepSchema>, i: number): BuildStep {
  const a = raw.args;
  const need = (n: number) => {
    if (a.length < n) throw bad(`steps[${i}]: ${raw.type} needs ${n} argument(s), got ${a.length}`);
  };
  switch (raw.type) {
    case 'RUN':
      need(1);
      return { type: 'RUN', command: a[0]!, ...(a[1] ? { user: a[1] } : {}) };
    case 'COPY': {
      need(2);
      if (!raw.filesHash) throw bad(`steps[${i}]: COPY needs filesHash (upload the files first)`);
      const mode = octal(a[3] ?? '', i);
      return {
        type: 'COPY',
        src: a[0]!,
        dest: a[1]!,
        filesHash: raw.filesHash,
        ...(a[2] ? { user: a[2] } : {}),
        ...(mode === undefined ? {} : { mode }),
      };
    }
    case 'ENV': {
      if (a.length === 0 || a.length % 2 !== 0) throw bad(`steps[${i}]: ENV needs key/value pairs`);
      const vars: [string, string][] = [];
      for (let k = 0; k < a.length; k += 2) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(a[k]!)) throw bad(`steps[${i}]: '${a[k]}' is not a variable name`);
        vars.push([a[k]!, a[k + 1]!]);
      }
      return { type: 'ENV', vars };
    }
    case 'WORKDIR':
      need(1);
      return { type: 'WORKDIR', path: a[0]! };
    case 'USER':
      need(1);
      return { type: 'USER', user: a[0]! };
    default:
      throw bad(`steps[${i}]: step type '${raw.type}' is not supported (RUN, COPY, ENV, WORKDIR, USER are)`);
  }
}

/**
 * `POST /v2/templates/{templateID}/builds/{buildID}`. The local runtime builds on a template it
 * has (no image pulls: nothing at build time may download), and has no start or ready commands.
 */
export function parseBuildStart(body: unknown): BuildPlan {
  const b = parse(StartSchema, body);
  if (b.fromImage || b.fromImageRegistry)
    throw bad(
      `fromImage '${b.fromImage ?? ''}': the local runtime builds from its own templates only (no image pulls); use fromTemplate`,
    );
  if (!b.fromTemplate) throw bad('fromTemplate is required');
  if (b.startCmd || b.readyCmd) throw bad('startCmd / readyCmd are not supported by the local runtime');
  return { fromTemplate: b.fromTemplate, steps: b.steps.map(step) };
}
