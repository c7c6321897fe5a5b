#!/usr/bin/env node
// Pinned CPU-bound suite for the Node.js runtime (no dependencies). The same kernels, sizes,
// generators and self-checks as python/suite.py: a wrong answer ends the run with exit status 1
// and no score. `--scale` sets how many times each kernel runs (at least once); the reported
// seconds are the median repetition. Score per benchmark = reference seconds / measured seconds
// (higher is faster); the suite score is their geometric mean. Output: one JSON line on stdout.
//
// Changing a kernel, a size or a reference time changes the suite: bump SUITE_VERSION.

import { performance } from 'node:perf_hooks';

const SUITE_VERSION = 1;
const BASE_REPETITIONS = 3;

// Kernel calls per repetition, so that one repetition takes tens of milliseconds.
const ROUNDS = { nbody: 200, spectral_norm: 10, fannkuch: 50, richards: 20, json_roundtrip: 2, regex: 4 };

// Reference seconds per repetition (median of a reference run, rounded); fixed for SUITE_VERSION.
const REFERENCE_SECONDS = {
  nbody: 0.05,
  spectral_norm: 0.05,
  fannkuch: 0.05,
  richards: 0.1,
  json_roundtrip: 0.08,
  regex: 0.1,
};

class WrongResult extends Error {}

function expect(name, got, want) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  if (g !== w) throw new WrongResult(`${name}: got ${g}, expected ${w}`);
}

// ---------- n-body (1000 steps of the Jovian planets) ----------

const NBODY_DT = 0.01;
const NBODY_STEPS = 1000;

function nbodySystem() {
  const pi = Math.PI;
  const solarMass = 4 * pi * pi;
  const dpy = 365.24;
  const bodies = [
    [0, 0, 0, 0, 0, 0, solarMass],
    [
      4.8414314424647209,
      -1.16032004402742839,
      -1.03622044471123109e-1,
      1.66007664274403694e-3 * dpy,
      7.69901118419740425e-3 * dpy,
      -6.90460016972063023e-5 * dpy,
      9.54791938424326609e-4 * solarMass,
    ],
    [
      8.34336671824457987,
      4.12479856412430479,
      -4.03523417114321381e-1,
      -2.76742510726862411e-3 * dpy,
      4.99852801234917238e-3 * dpy,
      2.30417297573763929e-5 * dpy,
      2.85885980666130812e-4 * solarMass,
    ],
    [
      1.2894369562139131e1,
      -1.51111514016986312e1,
      -2.23307578892655734e-1,
      2.96460137564761618e-3 * dpy,
      2.3784717395948095e-3 * dpy,
      -2.96589568540237556e-5 * dpy,
      4.36624404335156298e-5 * solarMass,
    ],
    [
      1.53796971148509165e1,
      -2.59193146099879641e1,
      1.79258772950371181e-1,
      2.68067772490389322e-3 * dpy,
      1.62824170038242295e-3 * dpy,
      -9.5159225451971587e-5 * dpy,
      5.15138902046611451e-5 * solarMass,
    ],
  ];
  let px = 0;
  let py = 0;
  let pz = 0;
  for (const b of bodies) {
    px += b[3] * b[6];
    py += b[4] * b[6];
    pz += b[5] * b[6];
  }
  bodies[0][3] = -px / solarMass;
  bodies[0][4] = -py / solarMass;
  bodies[0][5] = -pz / solarMass;
  return bodies;
}

function nbodyEnergy(bodies) {
  let e = 0;
  for (let i = 0; i < bodies.length; i++) {
    const a = bodies[i];
    e += 0.5 * a[6] * (a[3] * a[3] + a[4] * a[4] + a[5] * a[5]);
    for (let j = i + 1; j < bodies.length; j++) {
      const b = bodies[j];
      const dx = a[0] - b[0];
      const dy = a[1] - b[1];
      const dz = a[2] - b[2];
      e -= (a[6] * b[6]) / Math.sqrt(dx * dx + dy * dy + dz * dz);
    }
  }
  return e;
}

function nbody() {
  const bodies = nbodySystem();
  const before = nbodyEnergy(bodies);
  const dt = NBODY_DT;
  const n = bodies.length;
  for (let step = 0; step < NBODY_STEPS; step++) {
    for (let i = 0; i < n; i++) {
      const a = bodies[i];
      for (let j = i + 1; j < n; j++) {
        const b = bodies[j];
        const dx = a[0] - b[0];
        const dy = a[1] - b[1];
        const dz = a[2] - b[2];
        const d2 = dx * dx + dy * dy + dz * dz;
        const mag = dt / (d2 * Math.sqrt(d2));
        const bm = b[6] * mag;
        const am = a[6] * mag;
        a[3] -= dx * bm;
        a[4] -= dy * bm;
        a[5] -= dz * bm;
        b[3] += dx * am;
        b[4] += dy * am;
        b[5] += dz * am;
      }
    }
    for (const b of bodies) {
      b[0] += dt * b[3];
      b[1] += dt * b[4];
      b[2] += dt * b[5];
    }
  }
  const after = nbodyEnergy(bodies);
  expect('nbody', [before.toFixed(9), after.toFixed(9)], ['-0.169075164', '-0.169087605']);
}

// ---------- spectral norm (n = 100) ----------

function spectralNorm() {
  const n = 100;
  const a = [];
  for (let i = 0; i < n; i++) {
    const row = new Float64Array(n);
    for (let j = 0; j < n; j++) row[j] = 1 / ((((i + j) * (i + j + 1)) >> 1) + i + 1);
    a.push(row);
  }
  const times = (u) => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += a[i][j] * u[j];
      out[i] = s;
    }
    return out;
  };
  const timesT = (u) => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += a[j][i] * u[j];
      out[i] = s;
    }
    return out;
  };
  let u = new Float64Array(n).fill(1);
  let v = u;
  for (let k = 0; k < 10; k++) {
    v = timesT(times(u));
    u = timesT(times(v));
  }
  let vbv = 0;
  let vv = 0;
  for (let i = 0; i < n; i++) {
    vbv += u[i] * v[i];
    vv += v[i] * v[i];
  }
  expect('spectral_norm', Math.sqrt(vbv / vv).toFixed(9), '1.274219991');
}

// ---------- fannkuch-redux (n = 7) ----------

function fannkuch() {
  const n = 7;
  const perm1 = Array.from({ length: n }, (_, i) => i);
  const count = new Array(n).fill(0);
  let maxFlips = 0;
  let checksum = 0;
  let permCount = 0;
  let r = n;
  for (;;) {
    while (r !== 1) {
      count[r - 1] = r;
      r--;
    }
    const perm = perm1.slice();
    let flips = 0;
    let k = perm[0];
    while (k) {
      for (let i = 0, j = k; i < j; i++, j--) {
        const t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
      }
      flips++;
      k = perm[0];
    }
    maxFlips = Math.max(maxFlips, flips);
    checksum += permCount % 2 ? -flips : flips;
    for (;;) {
      if (r === n) {
        expect('fannkuch', [checksum, maxFlips], [228, 16]);
        return;
      }
      const first = perm1[0];
      for (let i = 0; i < r; i++) perm1[i] = perm1[i + 1];
      perm1[r] = first;
      count[r]--;
      if (count[r] > 0) break;
      r++;
    }
    permCount++;
  }
}

// ---------- richards (Martin Richards' OS simulation, one pass) ----------

const I_IDLE = 1;
const I_WORK = 2;
const I_HANDLERA = 3;
const I_HANDLERB = 4;
const I_DEVA = 5;
const I_DEVB = 6;
const K_DEV = 1000;
const K_WORK = 1001;
const BUFSIZE = 4;

class Packet {
  constructor(link, ident, kind) {
    this.link = link;
    this.ident = ident;
    this.kind = kind;
    this.datum = 0;
    this.data = new Array(BUFSIZE).fill(0);
  }
  appendTo(queue) {
    this.link = null;
    if (queue === null) return this;
    let p = queue;
    while (p.link !== null) p = p.link;
    p.link = this;
    return queue;
  }
}

class Scheduler {
  constructor() {
    this.tasks = new Array(10).fill(null);
    this.taskList = null;
    this.holdCount = 0;
    this.qpktCount = 0;
  }
  find(ident) {
    const t = this.tasks[ident];
    if (t === null) throw new WrongResult(`richards: bad task id ${ident}`);
    return t;
  }
  run() {
    let t = this.taskList;
    while (t !== null) {
      if (t.holding || (!t.pending && t.waiting)) t = t.link;
      else t = t.runTask();
    }
  }
}

class Task {
  // state = [packet pending, waiting, holding]
  constructor(sched, ident, priority, queue, state, rec) {
    this.sched = sched;
    this.link = sched.taskList;
    this.ident = ident;
    this.priority = priority;
    this.input = queue;
    [this.pending, this.waiting, this.holding] = state;
    this.rec = rec;
    sched.taskList = this;
    sched.tasks[ident] = this;
  }
  addPacket(p, old) {
    if (this.input === null) {
      this.input = p;
      this.pending = true;
      if (this.priority > old.priority) return this;
    } else {
      p.appendTo(this.input);
    }
    return old;
  }
  runTask() {
    let msg = null;
    if (this.pending && this.waiting && !this.holding) {
      msg = this.input;
      this.input = msg.link;
      this.pending = this.input !== null;
      this.waiting = false;
      this.holding = false;
    }
    return this.fn(msg);
  }
  waitTask() {
    this.waiting = true;
    return this;
  }
  hold() {
    this.sched.holdCount++;
    this.holding = true;
    return this.link;
  }
  release(ident) {
    const t = this.sched.find(ident);
    t.holding = false;
    return t.priority > this.priority ? t : this;
  }
  qpkt(pkt) {
    const t = this.sched.find(pkt.ident);
    this.sched.qpktCount++;
    pkt.link = null;
    pkt.ident = this.ident;
    return t.addPacket(pkt, this);
  }
}

class DeviceTask extends Task {
  fn(pkt) {
    if (pkt === null) {
      pkt = this.rec.pending;
      if (pkt === null) return this.waitTask();
      this.rec.pending = null;
      return this.qpkt(pkt);
    }
    this.rec.pending = pkt;
    return this.hold();
  }
}

class HandlerTask extends Task {
  fn(pkt) {
    const h = this.rec;
    if (pkt !== null) {
      if (pkt.kind === K_WORK) h.work = pkt.appendTo(h.work);
      else h.device = pkt.appendTo(h.device);
    }
    const work = h.work;
    if (work === null) return this.waitTask();
    const count = work.datum;
    if (count >= BUFSIZE) {
      h.work = work.link;
      return this.qpkt(work);
    }
    const dev = h.device;
    if (dev === null) return this.waitTask();
    h.device = dev.link;
    dev.datum = work.data[count];
    work.datum = count + 1;
    return this.qpkt(dev);
  }
}

class IdleTask extends Task {
  fn() {
    const r = this.rec;
    r.count--;
    if (r.count === 0) return this.hold();
    if ((r.control & 1) === 0) {
      r.control = Math.floor(r.control / 2);
      return this.release(I_DEVA);
    }
    r.control = Math.floor(r.control / 2) ^ 0xd008;
    return this.release(I_DEVB);
  }
}

class WorkTask extends Task {
  fn(pkt) {
    const w = this.rec;
    if (pkt === null) return this.waitTask();
    const dest = w.destination === I_HANDLERA ? I_HANDLERB : I_HANDLERA;
    w.destination = dest;
    pkt.ident = dest;
    pkt.datum = 0;
    for (let i = 0; i < BUFSIZE; i++) {
      w.count++;
      if (w.count > 26) w.count = 1;
      pkt.data[i] = 65 + w.count - 1;
    }
    return this.qpkt(pkt);
  }
}

const RUNNING = [false, false, false];
const WAITING = [false, true, false];
const WAITING_WITH_PACKET = [true, true, false];

function richards() {
  const s = new Scheduler();
  new IdleTask(s, I_IDLE, 1, null, RUNNING, { control: 1, count: 10000 });
  let wkq = new Packet(new Packet(null, 0, K_WORK), 0, K_WORK);
  new WorkTask(s, I_WORK, 1000, wkq, WAITING_WITH_PACKET, { destination: I_HANDLERA, count: 0 });
  wkq = new Packet(new Packet(new Packet(null, I_DEVA, K_DEV), I_DEVA, K_DEV), I_DEVA, K_DEV);
  new HandlerTask(s, I_HANDLERA, 2000, wkq, WAITING_WITH_PACKET, { work: null, device: null });
  wkq = new Packet(new Packet(new Packet(null, I_DEVB, K_DEV), I_DEVB, K_DEV), I_DEVB, K_DEV);
  new HandlerTask(s, I_HANDLERB, 3000, wkq, WAITING_WITH_PACKET, { work: null, device: null });
  new DeviceTask(s, I_DEVA, 4000, null, WAITING, { pending: null });
  new DeviceTask(s, I_DEVB, 5000, null, WAITING, { pending: null });
  s.run();
  expect('richards', [s.qpktCount, s.holdCount], [23246, 9297]);
}

// ---------- shared deterministic text (MINSTD generator, identical in the Python suite) ----------

class Minstd {
  constructor(seed) {
    this.state = seed;
  }
  next(n) {
    // 48271 * (2^31 - 1) < 2^53: exact in doubles.
    this.state = (this.state * 48271) % 2147483647;
    return this.state % n;
  }
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

function word(rng, lo, hi) {
  const len = lo + rng.next(hi - lo + 1);
  let s = '';
  for (let i = 0; i < len; i++) s += LETTERS[rng.next(26)];
  return s;
}

function tokens(rng, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const kind = rng.next(10);
    if (kind < 5) out.push(word(rng, 2, 8));
    else if (kind < 7) out.push(word(rng, 2, 6) + 'ing');
    else if (kind === 7) {
      const user = word(rng, 3, 6);
      const host = word(rng, 3, 6);
      out.push(`${user}@${host}${rng.next(2) ? '.com' : '.org'}`);
    } else if (kind === 8) {
      const a = 100 + rng.next(900);
      const b = 1000 + rng.next(9000);
      out.push(`${a}-${b}`);
    } else out.push(String(rng.next(100000)));
  }
  return out;
}

// ---------- JSON round trip ----------

function jsonDocument() {
  const rng = new Minstd(7);
  const doc = [];
  for (let i = 0; i < 800; i++) {
    const name = word(rng, 4, 10);
    const nTags = rng.next(4);
    const tags = [];
    for (let t = 0; t < nTags; t++) tags.push(word(rng, 3, 6));
    const score = rng.next(1000000);
    const active = rng.next(2) === 1;
    doc.push({ id: i, name, tags, score, active, nested: { a: i % 7, b: [i, i * 2, null] } });
  }
  return doc;
}

function deepEqual(a, b) {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && deepEqual(a[k], b[k]));
}

const JSON_EXPECTED = [90753, 319600, 12896];

function jsonRoundtrip() {
  const doc = jsonDocument();
  const text = JSON.stringify(doc);
  let back;
  for (let i = 0; i < 4; i++) {
    back = JSON.parse(text);
    if (!deepEqual(back, doc) || JSON.stringify(back) !== text)
      throw new WrongResult('json_roundtrip: document changed in a round trip');
  }
  let ids = 0;
  for (const r of back) ids += r.id;
  let codes = 0;
  for (let i = 0; i < text.length; i++) codes += text.charCodeAt(i);
  expect('json_roundtrip', [text.length, ids, codes % 1000003], JSON_EXPECTED);
}

// ---------- regex ----------

const REGEX_EXPECTED = [4031, 2017, 2018, 158223];

function regex() {
  const text = tokens(new Minstd(11), 20000).join(' ');
  const count = (re) => {
    let n = 0;
    for (const _ of text.matchAll(re)) n++;
    return n;
  };
  const counts = [
    count(/\b\w+ing\b/g),
    count(/[a-z]+@[a-z]+\.(?:com|org)/g),
    count(/\b\d{3}-\d{4}\b/g),
    text.replace(/([a-z]+)@([a-z]+)/g, '$2 at $1').length,
  ];
  expect('regex', counts, REGEX_EXPECTED);
}

const BENCHMARKS = [
  ['nbody', nbody],
  ['spectral_norm', spectralNorm],
  ['fannkuch', fannkuch],
  ['richards', richards],
  ['json_roundtrip', jsonRoundtrip],
  ['regex', regex],
];

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function usage(message) {
  process.stderr.write(`${message}\nusage: node suite.mjs [--scale N] [--only NAME]...\n`);
  return 2;
}

function main(argv) {
  let scale = 1;
  const only = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    try {
      if (a === '--scale') scale = Number(value());
      else if (a.startsWith('--scale=')) scale = Number(a.slice(8));
      else if (a === '--only') only.push(value());
      else if (a.startsWith('--only=')) only.push(a.slice(7));
      else return usage(`unknown argument: ${a}`);
    } catch (err) {
      return usage(err.message);
    }
  }
  if (!(scale > 0)) return usage('--scale must be positive');
  const reps = Math.max(1, Math.round(BASE_REPETITIONS * scale));
  const selected = BENCHMARKS.filter(([name]) => only.length === 0 || only.includes(name));
  if (selected.length === 0) return usage('no benchmark selected');
  const results = [];
  try {
    for (const [name, fn] of selected) {
      const times = [];
      for (let r = 0; r < reps; r++) {
        const t0 = performance.now();
        for (let k = 0; k < ROUNDS[name]; k++) fn();
        times.push((performance.now() - t0) / 1000);
      }
      const seconds = median(times);
      const ref = REFERENCE_SECONDS[name];
      results.push({
        name,
        repetitions: reps,
        rounds: ROUNDS[name],
        seconds,
        reference_seconds: ref,
        score: ref / seconds,
      });
    }
  } catch (err) {
    if (!(err instanceof WrongResult)) throw err;
    process.stderr.write(`wrong result: ${err.message}\n`);
    return 1;
  }
  const score = Math.exp(results.reduce((a, r) => a + Math.log(r.score), 0) / results.length);
  process.stdout.write(
    JSON.stringify({
      suite: 'e2b-bench',
      suite_version: SUITE_VERSION,
      runtime: 'node',
      runtime_version: process.versions.node,
      scale,
      benchmarks: results,
      score,
    }) + '\n',
  );
  return 0;
}

process.exitCode = main(process.argv.slice(2));
