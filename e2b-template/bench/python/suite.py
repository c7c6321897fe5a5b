#!/usr/bin/env python3
"""Pinned CPU-bound suite for the Python runtime (standard library only).

Each benchmark is a fixed-size kernel that checks its own result: a wrong answer ends the run with
exit status 1 and no score. `--scale` sets how many times each kernel runs (at least once); the
reported seconds are the median repetition, so the scale changes robustness, not the result.
Score per benchmark = reference seconds / measured seconds (higher is faster); the suite score is
their geometric mean. Output: one JSON line on stdout.

The kernels, their sizes and the reference times are part of the suite version: change any of
them and bump SUITE_VERSION, or scores stop being comparable.
"""
import argparse
import json
import math
import platform
import re
import sys
import time

SUITE_VERSION = 1
BASE_REPETITIONS = 3

# Kernel calls per repetition, so that one repetition takes tens of milliseconds.
ROUNDS = {"nbody": 5, "spectral_norm": 1, "fannkuch": 3, "richards": 1, "json_roundtrip": 2, "regex": 1}

# Reference seconds per repetition (median of a reference run, rounded); fixed for SUITE_VERSION.
REFERENCE_SECONDS = {
    "nbody": 0.06,
    "spectral_norm": 0.07,
    "fannkuch": 0.035,
    "richards": 0.1,
    "json_roundtrip": 0.08,
    "regex": 0.1,
}


class WrongResult(Exception):
    pass


def expect(name, got, want):
    if got != want:
        raise WrongResult(f"{name}: got {got!r}, expected {want!r}")


# ---------- n-body (1000 steps of the Jovian planets) ----------

NBODY_DT = 0.01
NBODY_STEPS = 1000


def nbody_system():
    pi = math.pi
    solar_mass = 4 * pi * pi
    dpy = 365.24
    bodies = [
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, solar_mass],
        [4.84143144246472090e00, -1.16032004402742839e00, -1.03622044471123109e-01,
         1.66007664274403694e-03 * dpy, 7.69901118419740425e-03 * dpy, -6.90460016972063023e-05 * dpy,
         9.54791938424326609e-04 * solar_mass],
        [8.34336671824457987e00, 4.12479856412430479e00, -4.03523417114321381e-01,
         -2.76742510726862411e-03 * dpy, 4.99852801234917238e-03 * dpy, 2.30417297573763929e-05 * dpy,
         2.85885980666130812e-04 * solar_mass],
        [1.28943695621391310e01, -1.51111514016986312e01, -2.23307578892655734e-01,
         2.96460137564761618e-03 * dpy, 2.37847173959480950e-03 * dpy, -2.96589568540237556e-05 * dpy,
         4.36624404335156298e-05 * solar_mass],
        [1.53796971148509165e01, -2.59193146099879641e01, 1.79258772950371181e-01,
         2.68067772490389322e-03 * dpy, 1.62824170038242295e-03 * dpy, -9.51592254519715870e-05 * dpy,
         5.15138902046611451e-05 * solar_mass],
    ]
    px = py = pz = 0.0
    for b in bodies:
        px += b[3] * b[6]
        py += b[4] * b[6]
        pz += b[5] * b[6]
    sun = bodies[0]
    sun[3], sun[4], sun[5] = -px / solar_mass, -py / solar_mass, -pz / solar_mass
    return bodies


def nbody_energy(bodies):
    e = 0.0
    for i, a in enumerate(bodies):
        e += 0.5 * a[6] * (a[3] * a[3] + a[4] * a[4] + a[5] * a[5])
        for b in bodies[i + 1:]:
            dx, dy, dz = a[0] - b[0], a[1] - b[1], a[2] - b[2]
            e -= a[6] * b[6] / math.sqrt(dx * dx + dy * dy + dz * dz)
    return e


def nbody():
    bodies = nbody_system()
    before = nbody_energy(bodies)
    pairs = [(bodies[i], bodies[j]) for i in range(len(bodies)) for j in range(i + 1, len(bodies))]
    dt = NBODY_DT
    for _ in range(NBODY_STEPS):
        for a, b in pairs:
            dx, dy, dz = a[0] - b[0], a[1] - b[1], a[2] - b[2]
            d2 = dx * dx + dy * dy + dz * dz
            mag = dt / (d2 * math.sqrt(d2))
            bm, am = b[6] * mag, a[6] * mag
            a[3] -= dx * bm
            a[4] -= dy * bm
            a[5] -= dz * bm
            b[3] += dx * am
            b[4] += dy * am
            b[5] += dz * am
        for b in bodies:
            b[0] += dt * b[3]
            b[1] += dt * b[4]
            b[2] += dt * b[5]
    after = nbody_energy(bodies)
    expect("nbody", (f"{before:.9f}", f"{after:.9f}"), ("-0.169075164", "-0.169087605"))


# ---------- spectral norm (n = 100) ----------


def spectral_a(i, j):
    return 1.0 / ((i + j) * (i + j + 1) // 2 + i + 1)


def spectral_norm():
    n = 100
    a = [[spectral_a(i, j) for j in range(n)] for i in range(n)]

    def times(u):
        return [sum(row[j] * u[j] for j in range(n)) for row in a]

    def times_t(u):
        return [sum(a[j][i] * u[j] for j in range(n)) for i in range(n)]

    u = [1.0] * n
    v = u
    for _ in range(10):
        v = times_t(times(u))
        u = times_t(times(v))
    vbv = sum(x * y for x, y in zip(u, v))
    vv = sum(y * y for y in v)
    expect("spectral_norm", f"{math.sqrt(vbv / vv):.9f}", "1.274219991")


# ---------- fannkuch-redux (n = 7) ----------


def fannkuch():
    n = 7
    perm1 = list(range(n))
    count = [0] * n
    max_flips = checksum = perm_count = 0
    r = n
    while True:
        while r != 1:
            count[r - 1] = r
            r -= 1
        perm = perm1[:]
        flips = 0
        k = perm[0]
        while k:
            perm[: k + 1] = perm[k::-1]
            flips += 1
            k = perm[0]
        max_flips = max(max_flips, flips)
        checksum += -flips if perm_count % 2 else flips
        while True:
            if r == n:
                expect("fannkuch", (checksum, max_flips), (228, 16))
                return
            first = perm1[0]
            perm1[:r] = perm1[1 : r + 1]
            perm1[r] = first
            count[r] -= 1
            if count[r] > 0:
                break
            r += 1
        perm_count += 1


# ---------- richards (Martin Richards' OS simulation, one pass) ----------

I_IDLE, I_WORK, I_HANDLERA, I_HANDLERB, I_DEVA, I_DEVB = 1, 2, 3, 4, 5, 6
K_DEV, K_WORK = 1000, 1001
BUFSIZE = 4


class Packet:
    def __init__(self, link, ident, kind):
        self.link = link
        self.ident = ident
        self.kind = kind
        self.datum = 0
        self.data = [0] * BUFSIZE

    def append_to(self, queue):
        self.link = None
        if queue is None:
            return self
        p = queue
        while p.link is not None:
            p = p.link
        p.link = self
        return queue


class Scheduler:
    def __init__(self):
        self.tasks = [None] * 10
        self.task_list = None
        self.hold_count = 0
        self.qpkt_count = 0

    def find(self, ident):
        t = self.tasks[ident]
        if t is None:
            raise WrongResult(f"richards: bad task id {ident}")
        return t

    def run(self):
        t = self.task_list
        while t is not None:
            if t.holding or (not t.pending and t.waiting):
                t = t.link
            else:
                t = t.run_task()


class Task:
    # state = (packet pending, waiting, holding)
    def __init__(self, sched, ident, priority, queue, state, rec):
        self.sched = sched
        self.link = sched.task_list
        self.ident = ident
        self.priority = priority
        self.input = queue
        self.pending, self.waiting, self.holding = state
        self.rec = rec
        sched.task_list = self
        sched.tasks[ident] = self

    def add_packet(self, p, old):
        if self.input is None:
            self.input = p
            self.pending = True
            if self.priority > old.priority:
                return self
        else:
            p.append_to(self.input)
        return old

    def run_task(self):
        if self.pending and self.waiting and not self.holding:
            msg = self.input
            self.input = msg.link
            self.pending, self.waiting, self.holding = (self.input is not None, False, False)
        else:
            msg = None
        return self.fn(msg)

    def wait_task(self):
        self.waiting = True
        return self

    def hold(self):
        self.sched.hold_count += 1
        self.holding = True
        return self.link

    def release(self, ident):
        t = self.sched.find(ident)
        t.holding = False
        return t if t.priority > self.priority else self

    def qpkt(self, pkt):
        t = self.sched.find(pkt.ident)
        self.sched.qpkt_count += 1
        pkt.link = None
        pkt.ident = self.ident
        return t.add_packet(pkt, self)


class DeviceTask(Task):
    def fn(self, pkt):
        if pkt is None:
            pkt = self.rec["pending"]
            if pkt is None:
                return self.wait_task()
            self.rec["pending"] = None
            return self.qpkt(pkt)
        self.rec["pending"] = pkt
        return self.hold()


class HandlerTask(Task):
    def fn(self, pkt):
        h = self.rec
        if pkt is not None:
            key = "work" if pkt.kind == K_WORK else "device"
            h[key] = pkt.append_to(h[key])
        work = h["work"]
        if work is None:
            return self.wait_task()
        count = work.datum
        if count >= BUFSIZE:
            h["work"] = work.link
            return self.qpkt(work)
        dev = h["device"]
        if dev is None:
            return self.wait_task()
        h["device"] = dev.link
        dev.datum = work.data[count]
        work.datum = count + 1
        return self.qpkt(dev)


class IdleTask(Task):
    def fn(self, pkt):
        r = self.rec
        r["count"] -= 1
        if r["count"] == 0:
            return self.hold()
        if r["control"] & 1 == 0:
            r["control"] //= 2
            return self.release(I_DEVA)
        r["control"] = (r["control"] // 2) ^ 0xD008
        return self.release(I_DEVB)


class WorkTask(Task):
    def fn(self, pkt):
        w = self.rec
        if pkt is None:
            return self.wait_task()
        dest = I_HANDLERB if w["destination"] == I_HANDLERA else I_HANDLERA
        w["destination"] = dest
        pkt.ident = dest
        pkt.datum = 0
        for i in range(BUFSIZE):
            w["count"] += 1
            if w["count"] > 26:
                w["count"] = 1
            pkt.data[i] = ord("A") + w["count"] - 1
        return self.qpkt(pkt)


RUNNING = (False, False, False)
WAITING = (False, True, False)
WAITING_WITH_PACKET = (True, True, False)


def richards():
    s = Scheduler()
    IdleTask(s, I_IDLE, 1, None, RUNNING, {"control": 1, "count": 10000})
    wkq = Packet(Packet(None, 0, K_WORK), 0, K_WORK)
    WorkTask(s, I_WORK, 1000, wkq, WAITING_WITH_PACKET, {"destination": I_HANDLERA, "count": 0})
    wkq = Packet(Packet(Packet(None, I_DEVA, K_DEV), I_DEVA, K_DEV), I_DEVA, K_DEV)
    HandlerTask(s, I_HANDLERA, 2000, wkq, WAITING_WITH_PACKET, {"work": None, "device": None})
    wkq = Packet(Packet(Packet(None, I_DEVB, K_DEV), I_DEVB, K_DEV), I_DEVB, K_DEV)
    HandlerTask(s, I_HANDLERB, 3000, wkq, WAITING_WITH_PACKET, {"work": None, "device": None})
    DeviceTask(s, I_DEVA, 4000, None, WAITING, {"pending": None})
    DeviceTask(s, I_DEVB, 5000, None, WAITING, {"pending": None})
    s.run()
    expect("richards", (s.qpkt_count, s.hold_count), (23246, 9297))


# ---------- shared deterministic text (MINSTD generator, identical in the Node suite) ----------


class Minstd:
    def __init__(self, seed):
        self.state = seed

    def next(self, n):
        self.state = self.state * 48271 % 2147483647
        return self.state % n


LETTERS = "abcdefghijklmnopqrstuvwxyz"


def word(rng, lo, hi):
    return "".join(LETTERS[rng.next(26)] for _ in range(lo + rng.next(hi - lo + 1)))


def tokens(rng, n):
    out = []
    for _ in range(n):
        kind = rng.next(10)
        if kind < 5:
            out.append(word(rng, 2, 8))
        elif kind < 7:
            out.append(word(rng, 2, 6) + "ing")
        elif kind == 7:
            out.append(word(rng, 3, 6) + "@" + word(rng, 3, 6) + (".com" if rng.next(2) else ".org"))
        elif kind == 8:
            out.append(f"{100 + rng.next(900)}-{1000 + rng.next(9000)}")
        else:
            out.append(str(rng.next(100000)))
    return out


# ---------- JSON round trip ----------


def json_document():
    rng = Minstd(7)
    return [
        {
            "id": i,
            "name": word(rng, 4, 10),
            "tags": [word(rng, 3, 6) for _ in range(rng.next(4))],
            "score": rng.next(1000000),
            "active": rng.next(2) == 1,
            "nested": {"a": i % 7, "b": [i, i * 2, None]},
        }
        for i in range(800)
    ]


def json_roundtrip():
    doc = json_document()
    text = json.dumps(doc, separators=(",", ":"))
    for _ in range(4):
        back = json.loads(text)
        again = json.dumps(back, separators=(",", ":"))
        if back != doc or again != text:
            raise WrongResult("json_roundtrip: document changed in a round trip")
    expect("json_roundtrip", (len(text), sum(r["id"] for r in back), sum(map(ord, text)) % 1000003),
           JSON_EXPECTED)


JSON_EXPECTED = (90753, 319600, 12896)


# ---------- regex ----------


def regex():
    text = " ".join(tokens(Minstd(11), 20000))
    counts = (
        len(re.findall(r"\b\w+ing\b", text)),
        len(re.findall(r"[a-z]+@[a-z]+\.(?:com|org)", text)),
        len(re.findall(r"\b\d{3}-\d{4}\b", text)),
        len(re.sub(r"([a-z]+)@([a-z]+)", r"\2 at \1", text)),
    )
    expect("regex", counts, REGEX_EXPECTED)


REGEX_EXPECTED = (4031, 2017, 2018, 158223)

BENCHMARKS = [
    ("nbody", nbody),
    ("spectral_norm", spectral_norm),
    ("fannkuch", fannkuch),
    ("richards", richards),
    ("json_roundtrip", json_roundtrip),
    ("regex", regex),
]


def median(xs):
    s = sorted(xs)
    m = len(s) // 2
    return s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=1.0, help="repetitions = max(1, round(3 * scale))")
    ap.add_argument("--only", action="append", help="run only this benchmark (repeatable)")
    args = ap.parse_args()
    if not args.scale > 0:
        ap.error("--scale must be positive")
    reps = max(1, round(BASE_REPETITIONS * args.scale))
    selected = [b for b in BENCHMARKS if not args.only or b[0] in args.only]
    if not selected:
        ap.error("no benchmark selected")
    results = []
    try:
        for name, fn in selected:
            times = []
            for _ in range(reps):
                t0 = time.perf_counter()
                for _ in range(ROUNDS[name]):
                    fn()
                times.append(time.perf_counter() - t0)
            seconds = median(times)
            ref = REFERENCE_SECONDS[name]
            results.append({"name": name, "repetitions": reps, "rounds": ROUNDS[name], "seconds": seconds,
                            "reference_seconds": ref, "score": ref / seconds})
    except WrongResult as e:
        print(f"wrong result: {e}", file=sys.stderr)
        return 1
    score = math.exp(sum(math.log(r["score"]) for r in results) / len(results))
    print(json.dumps({
        "suite": "e2b-bench",
        "suite_version": SUITE_VERSION,
        "runtime": "python",
        "runtime_version": platform.python_version(),
        "scale": args.scale,
        "benchmarks": results,
        "score": score,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
