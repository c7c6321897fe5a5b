import { existsSync } from 'node:fs';
import path from 'node:path';
import type { BindMount, PtySize } from './types.js';

/**
 * A pseudo-terminal allocated inside the sandbox: Node has none, so a small python3 program
 * (started in the sandbox like any command, so the terminal comes from the sandbox's own devpts)
 * forks the command on a new pty and relays between the pty's master and the host.
 *
 * argv: INPUT CONTROL ROWS COLS WINCH CMD... INPUT and CONTROL are a file descriptor number (a
 * pipe: select, EOF closes it) or a path (a file the host appends to: polled). Terminal output
 * goes to stdout. CONTROL carries "ROWS COLS\n" lines: a resize, after which the kernel sends
 * SIGWINCH, or the relay when WINCH is 1. The relay exits as the command did (same code, or killed
 * by the same signal). Killing it closes the master: the terminal is hung up (SIGHUP to its
 * session), as when envd's pty closes.
 */
const PTY_RELAY = `
import os, sys, select, signal, struct, fcntl, termios
def winsize(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
def source(spec):
    return [int(spec), True] if spec.isdigit() else [os.open(spec, os.O_RDONLY), False]
inp, ctl = source(sys.argv[1]), source(sys.argv[2])
rows, cols, winch, argv = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == '1', sys.argv[6:]
wake_r, wake_w = os.pipe()
os.set_blocking(wake_w, False)
signal.set_wakeup_fd(wake_w)
signal.signal(signal.SIGCHLD, lambda *_: None)
master, slave = os.openpty()
winsize(master, rows, cols)
pid = os.fork()
if pid == 0:
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    os.closerange(3, 1024)
    # A hangup where closing the master sends none (gVisor here): SIGHUP when the relay dies.
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, int(signal.SIGHUP))  # PR_SET_PDEATHSIG
    except Exception:
        pass
    try:
        os.execvp(argv[0], argv)
    except OSError as e:
        os.write(2, ('%s: %s\\r\\n' % (argv[0], e.strerror)).encode())
        os._exit(127)
os.close(slave)
def write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]
pending = b''
def control(data):
    global pending
    pending += data
    while b'\\n' in pending:
        line, pending = pending.split(b'\\n', 1)
        r, c = line.split()
        winsize(master, int(r), int(c))
        if winch:
            # gVisor reports no foreground group (tpgid): signal every group of the command's session.
            groups = set()
            for entry in os.listdir('/proc'):
                try:
                    with open('/proc/%s/stat' % entry) as f:
                        fields = f.read().rsplit(')', 1)[1].split()
                    if int(fields[3]) == pid:
                        groups.add(int(fields[2]))
                except (OSError, ValueError, IndexError):
                    pass
            for group in groups:
                try:
                    os.killpg(group, signal.SIGWINCH)
                except OSError:
                    pass
status = None
while True:
    pipes = [s[0] for s in (inp, ctl) if s[1] and s[0] >= 0]
    polled = any(not s[1] for s in (inp, ctl))
    timeout = 0.05 if status is not None else (0.01 if polled else None)
    ready = select.select([master, wake_r] + pipes, [], [], timeout)[0]
    if wake_r in ready:
        os.read(wake_r, 512)
    if status is None:
        p, st = os.waitpid(pid, os.WNOHANG)
        if p:
            status = st
    for s, handle in ((inp, lambda d: write_all(master, d)), (ctl, control)):
        if s[0] < 0 or (s[1] and s[0] not in ready):
            continue
        d = os.read(s[0], 65536)
        if d:
            handle(d)
        elif s[1]:
            s[0] = -1
    out = b''
    if master in ready:
        try:
            out = os.read(master, 65536)
        except OSError:
            out = b''
        if out:
            write_all(1, out)
        else:
            if status is None:
                status = os.waitpid(pid, 0)[1]
            break
    if status is not None and not out:
        break
if os.WIFSIGNALED(status):
    signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
    os.kill(os.getpid(), os.WTERMSIG(status))
os._exit(os.WEXITSTATUS(status))
`;

/** The argv that runs `argv` on a new pty of `size` inside the sandbox (needs python3 there). */
export function ptyArgv(argv: string[], size: PtySize, io: PtyIo): string[] {
  const { input, control, signalResize } = io;
  const sizeArgs = [String(size.rows), String(size.cols), signalResize ? '1' : '0'];
  return ['python3', '-I', '-S', '-c', PTY_RELAY, input, control, ...sizeArgs, ...argv];
}

export interface PtyIo {
  input: string;
  control: string;
  /** Send SIGWINCH on a resize (where the kernel does not: gVisor's pty does not signal). */
  signalResize: boolean;
}

/**
 * Whether the sandbox has the relay's python3 where the relay looks. `root` is the host path of its
 * filesystem; bind mounts are followed to their sources (under gVisor they are not in `root`).
 */
export function relayAvailable(root: string, binds: BindMount[] = []): boolean {
  const onHost = (p: string) => {
    const b = binds.find((m) => p.startsWith(`${m.target}/`));
    return b ? path.join(b.source, p.slice(b.target.length)) : path.join(root, p);
  };
  return ['/usr/local/bin', '/usr/bin', '/bin'].some((d) => existsSync(onHost(`${d}/python3`)));
}

/** One control line: the new size. */
export function resizeLine(size: PtySize): string {
  return `${size.rows} ${size.cols}\n`;
}

/** envd gives a terminal a TERM when the caller sets none (the SDKs set xterm-256color). */
export function ptyEnv(env: Record<string, string>): Record<string, string> {
  return { TERM: 'xterm-256color', ...env };
}
