import { create } from '@bufbuild/protobuf';
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from '@connectrpc/connect';
import { stat } from 'node:fs/promises';
import {
  ConnectResponseSchema,
  ListResponseSchema,
  ProcessInfoSchema,
  Signal,
  StartResponseSchema,
  type Process,
  type ProcessEvent,
  type ProcessSelector,
} from './gen/process/process_pb.js';
import { AsyncQueue } from './queue.js';
import { fsError, kFaults, sandboxOf, userOf } from './context.js';
import { commandEnv } from './session.js';
import { resolveInRoot, sandboxPath } from './paths.js';
import type { ManagedProcess, ProcessEventItem } from './processes.js';
import { ptyEnv, relayAvailable } from '../driver/pty.js';
import type { PtySize } from '../driver/types.js';

type EventInit = NonNullable<Parameters<typeof create<typeof StartResponseSchema>>[1]>['event'];

function toEvent(ev: ProcessEventItem): EventInit {
  if (ev.kind === 'end') return { event: { case: 'end', value: ev.end } };
  return { event: { case: 'data', value: { output: { case: ev.kind, value: ev.data } } } };
}

/** A terminal needs a size (the SDKs always send one); the kernel keeps rows and cols as u16. */
function ptySize(size: { rows: number; cols: number } | undefined): PtySize {
  const ok = (n: number | undefined) => n !== undefined && Number.isInteger(n) && n > 0 && n <= 0xffff;
  if (!size || !ok(size.rows) || !ok(size.cols))
    throw new ConnectError('pty.size needs rows and cols between 1 and 65535', Code.InvalidArgument);
  return { rows: size.rows, cols: size.cols };
}

function selectorOf(sel: ProcessSelector | undefined): { pid?: number; tag?: string } {
  if (sel?.selector.case === 'pid') return { pid: sel.selector.value };
  if (sel?.selector.case === 'tag') return { tag: sel.selector.value };
  throw new ConnectError('process selector is required', Code.InvalidArgument);
}

function findProcess(ctx: HandlerContext, sel: ProcessSelector | undefined): ManagedProcess {
  const s = selectorOf(sel);
  const proc = sandboxOf(ctx).processes.find(s);
  if (!proc) throw new ConnectError(`process ${s.pid ?? s.tag} not found`, Code.NotFound);
  return proc;
}

/** Interval of keepalive events the client asked for (`Keepalive-Ping-Interval`, seconds). */
function keepaliveMs(ctx: HandlerContext): number | undefined {
  const v = Number(ctx.requestHeader.get('keepalive-ping-interval'));
  return Number.isFinite(v) && v > 0 ? v * 1000 : undefined;
}

/**
 * Stream a process's events: start first, then output, then end; keepalives in between. The
 * stream ends at the process's end, or when the client goes away (the process keeps running).
 */
async function* streamEvents(
  ctx: HandlerContext,
  proc: ManagedProcess,
  opts: { dropAfterStart: boolean },
): AsyncGenerator<{ event: EventInit }> {
  const q = new AsyncQueue<EventInit>();
  const unsubscribe = proc.subscribe((ev) => {
    q.push(toEvent(ev));
    if (ev.kind === 'end') q.close();
  });
  const every = keepaliveMs(ctx);
  const timer = every ? setInterval(() => q.push({ event: { case: 'keepalive', value: {} } }), every) : undefined;
  const onAbort = () => q.fail(ctx.signal.reason);
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    yield { event: { event: { case: 'start', value: { pid: proc.pid } } } };
    if (opts.dropAfterStart) throw new ConnectError('stream dropped (fault injection)', Code.Unavailable);
    if (proc.end) {
      yield { event: toEvent({ kind: 'end', end: proc.end }) };
      return;
    }
    for await (const event of q) yield { event };
  } finally {
    unsubscribe();
    if (timer) clearInterval(timer);
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

export const processService: Partial<ServiceImpl<typeof Process>> = {
  async list(_req, ctx) {
    const sb = sandboxOf(ctx);
    return create(ListResponseSchema, {
      processes: sb.processes.running().map((p) =>
        create(ProcessInfoSchema, {
          pid: p.pid,
          tag: p.tag,
          config: { cmd: p.config.cmd, args: p.config.args, envs: p.config.envs, cwd: p.config.cwd },
        }),
      ),
    });
  },

  async *start(req, ctx) {
    const sb = sandboxOf(ctx);
    const cfg = req.process;
    if (!cfg?.cmd) throw new ConnectError('process.cmd is required', Code.InvalidArgument);
    const size = req.pty ? ptySize(req.pty.size) : undefined;
    const user = await userOf(ctx, sb);
    const cwd = sandboxPath(cfg.cwd || user.home, user.home);
    const root = sb.driver.rootPath(sb.driverSandbox);
    try {
      const st = await stat(await resolveInRoot(root, cwd));
      if (!st.isDirectory()) throw new ConnectError(`cwd '${cwd}' is not a directory`, Code.InvalidArgument);
    } catch (err) {
      if (err instanceof ConnectError) throw err;
      throw fsError(err, `cwd '${cwd}'`).code === Code.NotFound
        ? new ConnectError(`cwd '${cwd}' does not exist`, Code.InvalidArgument)
        : fsError(err, 'cwd');
    }
    if (size && !relayAvailable(root, sb.driverSandbox.spec.binds))
      throw new ConnectError('PTY needs python3 in the sandbox (this template has none)', Code.FailedPrecondition);
    let proc: ManagedProcess;
    try {
      proc = await sb.processes.start({
        config: { cmd: cfg.cmd, args: cfg.args, envs: cfg.envs, cwd: cfg.cwd },
        tag: req.tag,
        exec: {
          argv: [cfg.cmd, ...cfg.args],
          env: size ? ptyEnv(commandEnv(user, sb.envVars, cfg.envs)) : commandEnv(user, sb.envVars, cfg.envs),
          cwd,
          uid: user.uid,
          gid: user.gid,
          stdin: req.stdin === true || size !== undefined,
          pty: size,
        },
      });
    } catch (err) {
      throw new ConnectError(`failed to start process: ${(err as Error).message}`, Code.Internal);
    }
    // Connect-Timeout-Ms bounds the process's life, not only this stream (as envd does).
    const remaining = ctx.timeoutMs();
    const deadline =
      remaining !== undefined ? setTimeout(() => proc.signal('SIGKILL'), Math.max(0, remaining)) : undefined;
    proc.subscribe((ev) => ev.kind === 'end' && deadline && clearTimeout(deadline));
    const drop = ctx.values.get(kFaults)?.dropStream() ?? false;
    for await (const ev of streamEvents(ctx, proc, { dropAfterStart: drop })) yield create(StartResponseSchema, ev);
  },

  async *connect(req, ctx) {
    const proc = findProcess(ctx, req.process);
    for await (const ev of streamEvents(ctx, proc, { dropAfterStart: false })) yield create(ConnectResponseSchema, ev);
  },

  async sendInput(req, ctx) {
    const proc = findProcess(ctx, req.process);
    if (!proc.running) throw new ConnectError(`process ${proc.pid} has exited`, Code.NotFound);
    const input = req.input?.input;
    if (input?.case === 'pty' && !proc.resize)
      throw new ConnectError('tty not assigned to process', Code.FailedPrecondition);
    if (input?.case !== 'stdin' && input?.case !== 'pty')
      throw new ConnectError('input (stdin or pty) is required', Code.InvalidArgument);
    if (!proc.stdin || proc.stdin.writableEnded)
      throw new ConnectError('stdin is not open for this process', Code.FailedPrecondition);
    await new Promise<void>((resolve, reject) =>
      proc.stdin!.write(input.value, (err) => (err ? reject(err) : resolve())),
    );
    return {};
  },

  async update(req, ctx) {
    const proc = findProcess(ctx, req.process);
    if (!proc.running) throw new ConnectError(`process ${proc.pid} has exited`, Code.NotFound);
    if (!req.pty) return {};
    if (!proc.resize) throw new ConnectError('tty not assigned to process', Code.FailedPrecondition);
    await proc.resize(ptySize(req.pty.size));
    return {};
  },

  async closeStdin(req, ctx) {
    const proc = findProcess(ctx, req.process);
    if (!proc.stdin) throw new ConnectError('stdin is not open for this process', Code.FailedPrecondition);
    proc.stdin.end();
    return {};
  },

  async sendSignal(req, ctx) {
    const proc = findProcess(ctx, req.process);
    if (!proc.running) throw new ConnectError(`process ${proc.pid} has exited`, Code.NotFound);
    if (req.signal === Signal.SIGKILL) proc.signal('SIGKILL');
    else if (req.signal === Signal.SIGTERM) proc.signal('SIGTERM');
    else throw new ConnectError('unsupported signal', Code.InvalidArgument);
    return {};
  },
};

export type { ProcessEvent };
