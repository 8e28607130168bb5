// Classic V8-benchmark-style compute kernels, compact versions written for this repo: a
// Richards-style task scheduler, DeltaBlue-style one-way constraint propagation, RSA-style big
// integer modular exponentiation (Octane's "crypto"), and a small ray tracer. Plain JavaScript:
// the same file runs on plain Node and on a node (through its own module loader).

// --- richards: tasks exchanging packets through a scheduler (work/handler/device/idle tasks)
function richards(iterations) {
  let checksum = 0;
  for (let it = 0; it < iterations; it++) {
    const queues = [[], [], [], []];
    const tasks = [
      { id: 0, prio: 0, count: 0, run(p) { this.count++; if (p) queues[1].push(p); else if (this.count < 1000) queues[2].push({ kind: 'work', n: this.count }); } },
      { id: 1, prio: 2, acc: 0, run(p) { if (p) { this.acc = (this.acc + p.n * 31) % 65521; queues[3].push(p); } } },
      { id: 2, prio: 1, run(p) { if (p) { p.n = (p.n * 7 + 3) & 0xffff; queues[1].push(p); } } },
      { id: 3, prio: 3, done: 0, run(p) { if (p) { this.done++; if (this.done % 3 === 0) queues[0].push(null); } } },
    ];
    queues[0].push(null);
    let steps = 0;
    while (steps < 20000) {
      let ran = false;
      for (let q = 3; q >= 0; q--) {
        if (queues[q].length > 0) {
          const p = queues[q].shift();
          tasks[q].run(p === undefined ? null : p);
          ran = true;
          break;
        }
      }
      if (!ran) tasks[0].run(null);
      steps++;
    }
    checksum = (checksum + tasks[1].acc + tasks[3].done) % 1000003;
  }
  return checksum;
}

// --- deltablue: a chain of equality constraints and scale constraints, re-solved on each edit
function deltablue(n) {
  class Variable {
    constructor(value) { this.value = value; this.constraints = []; this.determinedBy = null; this.stay = true; }
  }
  class Equality {
    constructor(a, b) { this.a = a; this.b = b; a.constraints.push(this); b.constraints.push(this); }
    execute() { this.b.value = this.a.value; }
    output() { return this.b; }
  }
  class Scale {
    constructor(src, scale, offset, dst) { this.src = src; this.scale = scale; this.offset = offset; this.dst = dst; src.constraints.push(this); dst.constraints.push(this); }
    execute() { this.dst.value = this.src.value * this.scale.value + this.offset.value; }
    output() { return this.dst; }
  }
  const chain = Array.from({ length: n }, (_, i) => new Variable(i));
  for (let i = 0; i + 1 < n; i++) new Equality(chain[i], chain[i + 1]);
  const scale = new Variable(10);
  const offset = new Variable(1000);
  const src = Array.from({ length: n }, (_, i) => new Variable(i));
  const dst = Array.from({ length: n }, () => new Variable(0));
  for (let i = 0; i < n; i++) new Scale(src[i], scale, offset, dst[i]);
  const propagate = (start) => {
    const todo = [start];
    const seen = new Set([start]);
    while (todo.length > 0) {
      const v = todo.pop();
      for (const c of v.constraints) {
        const out = c.output();
        if (out === v || seen.has(out)) continue;
        c.execute();
        seen.add(out);
        todo.push(out);
      }
    }
  };
  let check = 0;
  for (let k = 0; k < 100; k++) {
    chain[0].value = k;
    propagate(chain[0]);
    check += chain[n - 1].value;
    for (let i = 0; i < n; i += 1) {
      src[i].value = i + k;
      propagate(src[i]);
    }
    check = (check + dst[n - 1].value) % 1000003;
  }
  return check;
}

// --- crypto: RSA-style modular exponentiation on 512-bit numbers
function crypto(rounds) {
  const mod = (1n << 511n) - 187n;
  const e = mod - 2n;
  let x = 0x123456789abcdef0123456789abcdefn;
  let check = 0n;
  for (let r = 0; r < rounds; r++) {
    let result = 1n;
    let base = x % mod;
    let k = e + BigInt(r);
    while (k > 0n) {
      if (k & 1n) result = (result * base) % mod;
      base = (base * base) % mod;
      k >>= 1n;
    }
    x = result ^ BigInt(r);
    check ^= result & 0xffffffffn;
  }
  return Number(check);
}

// --- raytrace: spheres and a plane, one light, shadows and one reflection
function raytrace(size) {
  const spheres = [
    { c: [0, 1, 3], r: 1, col: [1, 0.2, 0.2], refl: 0.3 },
    { c: [-2, 0.6, 4], r: 0.6, col: [0.2, 1, 0.2], refl: 0.1 },
    { c: [2, 0.8, 4], r: 0.8, col: [0.2, 0.2, 1], refl: 0.5 },
  ];
  const light = [5, 5, -3];
  const sub = (a, b) => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
  const dot = (a, b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  const scale = (a, s) => [a[0] * s, a[1] * s, a[2] * s];
  const norm = (a) => scale(a, 1 / Math.sqrt(dot(a, a)));
  const hit = (o, d) => {
    let best = Infinity;
    let obj = null;
    for (const s of spheres) {
      const oc = sub(o, s.c);
      const b = dot(oc, d);
      const disc = b * b - (dot(oc, oc) - s.r * s.r);
      if (disc > 0) {
        const t = -b - Math.sqrt(disc);
        if (t > 1e-4 && t < best) { best = t; obj = s; }
      }
    }
    if (d[1] < 0) {
      const t = -o[1] / d[1];
      if (t > 1e-4 && t < best) { best = t; obj = 'plane'; }
    }
    return { t: best, obj };
  };
  const trace = (o, d, depth) => {
    const h = hit(o, d);
    if (h.obj === null) return [0.2, 0.3, 0.5];
    const p = [o[0] + d[0] * h.t, o[1] + d[1] * h.t, o[2] + d[2] * h.t];
    const n = h.obj === 'plane' ? [0, 1, 0] : norm(sub(p, h.obj.c));
    const base = h.obj === 'plane' ? ((Math.floor(p[0]) + Math.floor(p[2])) & 1 ? [0.9, 0.9, 0.9] : [0.1, 0.1, 0.1]) : h.obj.col;
    const l = norm(sub(light, p));
    const shadow = hit(p, l).obj !== null;
    const diff = shadow ? 0.1 : Math.max(0.1, dot(n, l));
    let c = scale(base, diff);
    const refl = h.obj === 'plane' ? 0.2 : h.obj.refl;
    if (depth < 2 && refl > 0) {
      const r = sub(d, scale(n, 2 * dot(d, n)));
      const rc = trace(p, norm(r), depth + 1);
      c = [c[0] * (1 - refl) + rc[0] * refl, c[1] * (1 - refl) + rc[1] * refl, c[2] * (1 - refl) + rc[2] * refl];
    }
    return c;
  };
  let check = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const d = norm([(x - size / 2) / size, (size / 2 - y) / size + 0.3, 1]);
      const c = trace([0, 1, -2], d, 0);
      check = (check + Math.round(c[0] * 255) * 3 + Math.round(c[1] * 255) * 5 + Math.round(c[2] * 255) * 7) % 1000003;
    }
  }
  return check;
}

module.exports = {
  richards: () => richards(600),
  deltablue: () => deltablue(4000),
  crypto: () => crypto(200),
  raytrace: () => raytrace(400),
};
