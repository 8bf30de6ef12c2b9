// Held-out benchmark: one process, public API only.
// usage: node --expose-gc bench.mjs [seed] [nReq] [rounds]
import { compileSource, Evaluator } from '../../dist/index.js';
import { generate } from './gen.mjs';
import { makeRequests } from './reqs.mjs';
import { prepare, decideRef, membership, prepareFast, decideFast } from './ref.mjs';

const seed = +(process.argv[2] ?? 20261127);
const NREQ = +(process.argv[3] ?? 8000);
const ROUNDS = +(process.argv[4] ?? 15);
const SIZES = [1000, 100000];
const gc = globalThis.gc ?? (() => {});
const now = () => Number(process.hrtime.bigint());
const median = (a) => { const b = [...a].sort((x, y) => x - y); const m = b.length >> 1; return b.length % 2 ? b[m] : (b[m - 1] + b[m]) / 2; };
const out = { seed, NREQ, ROUNDS, node: process.version, sizes: {} };

/** The requests with `ev`'s subject handles, and with its subject and enclave handles: one handle per distinct text. */
function handleRequests(ev, parsed) {
  // subject handles: one per distinct subject text (as a hook caching per process)
  const sh = new Map();
  let tRes = now();
  const subjReqs = parsed.map((q) => {
    const key = JSON.stringify(q.subject);
    let h = sh.get(key);
    if (!h) { h = ev.resolveSubject(JSON.parse(key)); sh.set(key, h); }
    // a hook builds handle requests in one fixed shape (defaults filled in: same meaning)
    const o = { action: q.action ?? 'einit', via: q.via ?? 'host', subject: h, enclave: q.enclave };
    if ('foo' in q) o.foo = q.foo; // the (invalid) unknown-field requests keep their extra field
    return o;
  });
  const resolveSubjMs = (now() - tRes) / 1e6;
  let encThrows = 0;
  tRes = now();
  const eh = new Map();
  const bothReqs = subjReqs.map((q) => {
    const key = JSON.stringify(q.enclave);
    let h = eh.get(key);
    if (!h) { try { h = ev.resolveEnclave(JSON.parse(key)); } catch { encThrows++; h = JSON.parse(key); } eh.set(key, h); }
    return { ...q, enclave: h };
  });
  const resolveEncMs = (now() - tRes) / 1e6;
  return { subjReqs, bothReqs, resolveSubjMs, resolveEncMs, encThrows, subjects: sh.size, enclaves: eh.size };
}

const S = {};
for (const n of SIZES) {
  const g = generate(seed + n, n);
  const file = `heldout${n}.sgxpol`;
  gc();
  const t0 = now();
  const res = compileSource(g.text, { filename: file });
  const compileMs = (now() - t0) / 1e6;
  if (!res.ok) { console.error(res.diagnostics.filter((d) => d.severity === 'error').slice(0, 5)); process.exit(1); }
  const t1 = now();
  const ev = Evaluator.fromTable(res.table);
  const loadMs = (now() - t1) / 1e6;
  const P = prepare(g.model);
  const F = prepareFast(P);
  const rq = makeRequests(g, NREQ, seed * 7 + n);
  const parsed = rq.texts.map((t) => JSON.parse(t)); // each request from its own JSON text
  const { subjReqs, bothReqs, resolveSubjMs, resolveEncMs, encThrows, subjects, enclaves } = handleRequests(ev, parsed);
  // reference decisions
  const refs = parsed.map((q) => decideRef(P, q, file));
  let fastAgree = 0;
  for (let i = 0; i < parsed.length; i++) { const d = decideFast(F, parsed[i], file); if (d.decision === refs[i].decision && d.rule === refs[i].rule && d.audit === refs[i].audit) fastAgree++; }
  if (fastAgree !== parsed.length) throw new Error('fast scan disagrees with simple scan: ' + fastAgree);
  const counts = { allow: 0, denyRule: 0, default: 0, builtin: 0, invalid: 0 };
  for (const d of refs) {
    if (d.decision === 'allow') counts.allow++;
    else if (d.rule === null) counts.invalid++;
    else if (d.rule === 'default') counts.default++;
    else if (d.rule === 'builtin:provisionkey') counts.builtin++;
    else counts.denyRule++;
  }
  // agreement: decide() on fresh parses, subject-handle, both-handle; compare decision, and also rule+audit
  const agree = {};
  const mism = [];
  for (const [name, arr] of [['plain', rq.texts.map((t) => JSON.parse(t))], ['subjHandle', subjReqs], ['bothHandles', bothReqs]]) {
    let dec = 0, full = 0;
    for (let i = 0; i < arr.length; i++) {
      const d = ev.decide(arr[i]);
      const e = refs[i];
      if (d.decision === e.decision) dec++;
      else if (mism.length < 20) mism.push({ variant: name, i, got: d, exp: e, req: rq.texts[i] });
      if (d.decision === e.decision && d.rule === e.rule && d.audit === e.audit) full++;
      else if (d.decision === e.decision && mism.length < 20) mism.push({ variant: name, kind: 'rule/audit', i, got: d, exp: e, req: rq.texts[i] });
    }
    agree[name] = { decision: dec, decisionRuleAudit: full, of: arr.length };
  }
  // The same table on an evaluator without a decision cache (added in the ninth session: the
  // timed requests repeat, so the default evaluator answers them from its cache after the first
  // rounds), with its own handles; every decision checked against the scan as above.
  const evCold = Evaluator.fromTable(res.table, { decisionCache: 0 });
  const { subjReqs: subjReqsCold, bothReqs: bothReqsCold } = handleRequests(evCold, parsed);
  for (const [name, arr] of [['subjHandleCold', subjReqsCold], ['bothHandlesCold', bothReqsCold]]) {
    let dec = 0, full = 0;
    for (let i = 0; i < arr.length; i++) {
      const d = evCold.decide(arr[i]), e = refs[i];
      if (d.decision === e.decision) dec++;
      if (d.decision === e.decision && d.rule === e.rule && d.audit === e.audit) full++;
    }
    agree[name] = { decision: dec, decisionRuleAudit: full, of: arr.length };
  }
  S[n] = { g, ev, evCold, P, F, parsed, subjReqs, bothReqs, subjReqsCold, bothReqsCold, refs, file };
  out.sizes[n] = { rulesInModel: g.model.rules.length, classes: g.model.classes.length, signers: g.model.signers.length, textBytes: g.text.length,
    compileMs: +compileMs.toFixed(0), loadMs: +loadMs.toFixed(0), warnings: res.diagnostics.length,
    distinctSubjects: subjects, distinctEnclaves: enclaves, resolveEnclaveThrows: encThrows, resolveSubjMs: +resolveSubjMs.toFixed(1), resolveEncMs: +resolveEncMs.toFixed(1),
    reqMix: rq.stats, refOutcomes: counts, agree, mismatches: mism };
  console.error(`size ${n}: compile ${compileMs.toFixed(0)} ms, load ${loadMs.toFixed(0)} ms, agree ${JSON.stringify(agree)}, outcomes ${JSON.stringify(counts)}`);
  for (const m of mism.slice(0, 5)) console.error('MISMATCH', JSON.stringify(m));
}

// ---- timing: interleaved rounds ----
function timeDecide(ev, reqs, minNs = 100e6) {
  let ops = 0, sink = 0;
  const t0 = now();
  let t;
  do {
    for (let i = 0; i < reqs.length; i++) { const d = ev.decide(reqs[i]); if (d.decision === 'allow') sink++; }
    ops += reqs.length;
    t = now() - t0;
  } while (t < minNs);
  if (sink < 0) console.log(sink);
  return t / ops;
}
const variants = [...(process.env.PLAIN ? ['plain'] : []), 'subjHandle', 'bothHandles', 'subjHandleCold', 'bothHandlesCold'];
const workload = (n, v) => ({ plain: [S[n].ev, S[n].parsed], subjHandle: [S[n].ev, S[n].subjReqs], bothHandles: [S[n].ev, S[n].bothReqs], subjHandleCold: [S[n].evCold, S[n].subjReqsCold], bothHandlesCold: [S[n].evCold, S[n].bothReqsCold] })[v];
const samples = {};
for (const n of SIZES) for (const v of variants) samples[`${n}/${v}`] = [];
for (const n of SIZES) { // warm-up
  for (const v of variants) timeDecide(...workload(n, v), 50e6);
}
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 ? [...SIZES].reverse() : SIZES;
  for (const n of order) for (const v of variants) {
    gc();
    samples[`${n}/${v}`].push(timeDecide(...workload(n, v)));
  }
}
const med = {};
for (const k in samples) med[k] = { median: +median(samples[k]).toFixed(1), min: +Math.min(...samples[k]).toFixed(1), max: +Math.max(...samples[k]).toFixed(1) };

// ---- linear scan timing ----
function timeRef(n, count, preMembership, fast) {
  const { P, F, parsed, file } = S[n];
  const step = Math.max(1, Math.floor(parsed.length / count));
  const idx = []; for (let i = 0; i < parsed.length && idx.length < count; i += step) idx.push(i);
  let mem = null;
  if (preMembership) mem = idx.map((i) => { try { return membership(P, parsed[i].subject); } catch { return null; } });
  gc();
  const t0 = now();
  let sink = 0;
  for (let j = 0; j < idx.length; j++) { const d = fast ? decideFast(F, parsed[idx[j]], file, mem ? mem[j] ?? undefined : undefined) : decideRef(P, parsed[idx[j]], file, mem ? mem[j] ?? undefined : undefined); if (d.decision === 'allow') sink++; }
  return { nsPerReq: (now() - t0) / idx.length, sample: idx.length, sink };
}
timeRef(100000, 50, false); timeRef(100000, 200, false, true); // warm
const lin = {
  '1000': timeRef(1000, 8000, false, true),
  '100000': timeRef(100000, 1000, false, true),
  '100000_preResolvedSubject': timeRef(100000, 1000, true, true),
  '100000_simpleScan': timeRef(100000, 400, false, false),
};
const big = med['100000/subjHandle'].median, small = med['1000/subjHandle'].median;
const bigB = med['100000/bothHandles'].median, smallB = med['1000/bothHandles'].median;
out.decideNs = med;
out.linearScanNs = Object.fromEntries(Object.entries(lin).map(([k, v]) => [k, { nsPerReq: +v.nsPerReq.toFixed(0), sample: v.sample }]));
out.summary = {
  growth_subjHandle: +(big / small).toFixed(2),
  growth_bothHandles: +(bigB / smallB).toFixed(2),
  growth_subjHandleCold: +(med['100000/subjHandleCold'].median / med['1000/subjHandleCold'].median).toFixed(2),
  growth_bothHandlesCold: +(med['100000/bothHandlesCold'].median / med['1000/bothHandlesCold'].median).toFixed(2),
  speedup_subjHandleCold_vs_scan: +(lin['100000'].nsPerReq / med['100000/subjHandleCold'].median).toFixed(0),
  growth_plain: med['1000/plain'] ? +(med['100000/plain'].median / med['1000/plain'].median).toFixed(2) : null,
  speedup_subjHandle_vs_scan: +(lin['100000'].nsPerReq / big).toFixed(0),
  speedup_bothHandles_vs_scan: +(lin['100000'].nsPerReq / bigB).toFixed(0),
  speedup_subjHandle_vs_preResolvedScan: +(lin['100000_preResolvedSubject'].nsPerReq / big).toFixed(0),
  speedup_subjHandle_vs_simpleScan: +(lin['100000_simpleScan'].nsPerReq / big).toFixed(0),
  speedup_plain_vs_scan: med['100000/plain'] ? +(lin['100000'].nsPerReq / med['100000/plain'].median).toFixed(0) : null,
  compileMs_100k: out.sizes[100000].compileMs,
};
const s = out.summary, a = out.sizes[100000].agree;
out.floor = {
  agreeEveryRequest_100k: ['plain', 'subjHandle', 'bothHandles', 'subjHandleCold', 'bothHandlesCold'].every((k) => a[k].decision === a[k].of),
  speedup_ge_500: s.speedup_subjHandle_vs_scan >= 500,
  growth_le_2: s.growth_subjHandle <= 2,
  compile_lt_10s: s.compileMs_100k < 10000,
};
for (const n of SIZES) for (const m of out.sizes[n].mismatches) delete m.req_unused;
console.log(JSON.stringify(out, null, 1));
