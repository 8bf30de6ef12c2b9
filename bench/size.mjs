// One benchmark size, in its own process: `node bench/size.mjs RULES [--quick] [--progress]`.
// Prints one JSON line of results on stdout (progress goes to stderr). Run through bench/run.mjs.
import { performance } from 'node:perf_hooks';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { scenario, toSgxpol, toSgxpolFiles, requests } from './scenario.mjs';
import { compileFile, compileSource, Evaluator } from '../dist/index.js';
import { referenceDecide } from '../dist/reference/interpreter.js';
import { linearEngine } from './peers/linear.mjs';
import { progressBar } from './progress.mjs';

const ruleCount = Number(process.argv[2]);
const quick = process.argv.includes('--quick');
const progress = progressBar(process.argv.includes('--progress'));
const result = { rules: ruleCount, node: process.version, engines: {} };

const gc = () => globalThis.gc?.();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Median nanoseconds per call of `fn(item)` over `items`, in `rounds` rounds, each round at
 * least `minMs` long (or `maxCalls` calls). A sink keeps the optimizer from dropping the calls.
 */
function time(items, fn, { rounds = 7, minMs = quick ? 40 : 200, maxCalls = Infinity } = {}) {
  return timeTogether([[items, fn]], { rounds, minMs, maxCalls })[0];
}

/**
 * `time` for several workloads (`[items, fn]` each) at once: round after round, each workload in
 * turn, so that a slow spell of a shared machine (this VM's can last seconds) falls on all of
 * them alike instead of on whichever was being timed. By default, medians of 15 rounds of at
 * least 100 ms (or `maxCalls` calls) each.
 */
function timeTogether(workloads, { rounds = quick ? 7 : 15, minMs = quick ? 40 : 100, maxCalls = Infinity } = {}) {
  // A full collection first, so that no garbage collection left over from compiling or checking
  // (a concurrent marker on the other core, sweeping) runs during the rounds of any engine.
  gc();
  let sink = 0;
  const perRound = workloads.map(() => []);
  for (let round = 0; round < rounds; round++) {
    for (let w = 0; w < workloads.length; w++) {
      const [items, fn] = workloads[w];
      let calls = 0;
      const start = performance.now();
      let elapsed = 0;
      do {
        for (let i = 0; i < items.length && calls < maxCalls; i++, calls++) sink ^= fn(items[i]) === 'allow' ? 1 : 0;
        elapsed = performance.now() - start;
      } while (elapsed < minMs && calls < maxCalls);
      perRound[w].push((elapsed * 1e6) / calls);
    }
  }
  if (sink === 42) console.error('');
  return perRound.map(median);
}

function measure(name, fn) {
  const t0 = performance.now();
  const value = fn();
  return { value, ms: performance.now() - t0 };
}

// ---- the policy ----
progress.step(`${ruleCount} rules: generating`);
const s = scenario(ruleCount, 1);
// One file while it fits the 16 MiB source limit; beyond that, a root importing parts.
const split = ruleCount > 100000;
let source;
let dir;
if (split) {
  dir = mkdtempSync(path.join(tmpdir(), 'sgxpol-bench-'));
  const files = toSgxpolFiles(s);
  result.sourceBytes = 0;
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
    result.sourceBytes += Buffer.byteLength(text);
  }
  result.sourceFiles = Object.keys(files).length;
} else {
  source = toSgxpol(s);
  result.sourceBytes = Buffer.byteLength(source);
  result.sourceFiles = 1;
}

gc();
const heapBefore = process.memoryUsage().heapUsed;
progress.step(`${ruleCount} rules: compiling`);
const compiled = measure('compile', () =>
  split ? compileFile(path.join(dir, 'bench.sgxpol')) : compileSource(source, { filename: 'bench.sgxpol' }),
);
if (dir) rmSync(dir, { recursive: true, force: true });
if (!compiled.value.ok) throw new Error('bench policy does not compile: ' + JSON.stringify(compiled.value.diagnostics.slice(0, 3)));
result.compileMs = compiled.ms;
result.compileHeapMB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
const tableText = JSON.stringify(compiled.value.table);
result.tableBytes = Buffer.byteLength(tableText);
const program = compiled.value.program;
compiled.value = undefined;

progress.step(`${ruleCount} rules: loading the table`);
// The load is timed in a fresh process (what a hook pays at start-up), not in this one, whose
// heap holds the compiler's syntax tree for the reference interpreter.
const tableDir = mkdtempSync(path.join(tmpdir(), 'sgxpol-table-'));
const tableFile = path.join(tableDir, 'table.json');
writeFileSync(tableFile, tableText);
const loadRun = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=20000', new URL('./load.mjs', import.meta.url).pathname, tableFile, ruleCount >= 1e6 ? '1' : '5'], {
  encoding: 'utf8',
});
if (loadRun.status !== 0) throw new Error(`loading the table failed: ${loadRun.stderr}`);
result.loadMs = JSON.parse(loadRun.stdout).ms;
rmSync(tableDir, { recursive: true, force: true });
const evaluator = Evaluator.fromTable(tableText);
// The same table without a decision cache: every decision made from the table, as for a request
// the evaluator has not seen before. (The timed requests repeat, round after round, so the
// evaluator above answers them from its cache after the first round.)
const cold = Evaluator.fromTable(tableText, { decisionCache: 0 });

// ---- requests and agreement ----
const count = quick ? 2000 : 10000;
/**
 * The requests as a hook receives them: each parsed from its own JSON text, so that its strings
 * are its own and lie next to its objects. (The generator's objects share each signer's MRSIGNER
 * string with the scenario's signer list, scattered over the heap; at 100,000 rules that alone
 * cost sgxpol ~50–170 ns a decision in an A/B, and no engine is given the shared objects.)
 */
const asParsed = (list) => list.map((r) => JSON.parse(JSON.stringify(r)));
const reqs = asParsed(requests(s, count, 2));
/**
 * `requests` with one part (`subject` or `enclave`) replaced by a handle from `resolve`, one
 * handle per distinct value, as a hook that has seen the process or enclave before would pass it.
 */
function withHandlesFor(requests, part, resolve) {
  const handles = new Map();
  return requests.map((r) => {
    const key = JSON.stringify(r[part]);
    if (!handles.has(key)) handles.set(key, resolve(r[part]));
    return { ...r, [part]: handles.get(key) };
  });
}
const withHandles = withHandlesFor(reqs, 'subject', (subject) => evaluator.resolveSubject(subject));
// Both parts resolved once: what a hook pays when it has seen the process and the enclave before.
const withBoth = withHandlesFor(withHandles, 'enclave', (enclave) => evaluator.resolveEnclave(enclave));
// The cold evaluator's own handles (a handle is matched for one table at a time).
const coldWithHandles = withHandlesFor(reqs, 'subject', (subject) => cold.resolveSubject(subject));
const coldWithBoth = withHandlesFor(coldWithHandles, 'enclave', (enclave) => cold.resolveEnclave(enclave));

progress.step(`${ruleCount} rules: checking agreement with the reference interpreter`);
// The reference interpreter is a linear scan over the syntax tree; at a million rules it is
// checked on a sample, and the sample size is reported. Each way of asking sgxpol is held to it
// (decision, rule and audit flag): a plain request, a subject handle, both handles, the subject
// handle again (now from the decision cache), and the first three on the evaluator without a
// cache; `disagreements` counts every answer that differs.
const checkCount = ruleCount >= 1e6 ? 200 : ruleCount >= 1e5 ? 1000 : count;
/** Whether two decisions differ in what the reference is held to: decision, rule, audit flag. */
const differs = (got, expected) => got.decision !== expected.decision || got.rule !== expected.rule || got.audit !== expected.audit;
let disagreements = 0;
const tally = { allow: 0, deny: 0, default: 0 };
for (let i = 0; i < checkCount; i++) {
  const expected = referenceDecide(program, reqs[i]);
  const answers = [evaluator.decide(reqs[i]), evaluator.decide(withHandles[i]), evaluator.decide(withBoth[i])];
  answers.push(evaluator.decide(withHandles[i]), cold.decide(reqs[i]), cold.decide(coldWithHandles[i]), cold.decide(coldWithBoth[i]));
  for (const got of answers) {
    if (differs(got, expected)) disagreements++;
  }
  tally[expected.rule === 'default' ? 'default' : expected.decision]++;
}
result.agreement = { checked: checkCount, disagreements, tally };

// ---- timing ----

// A policy where the rules per signer grow with the policy (100 signers): the posting lists
// of one signer get long and are split by subject class (src/runtime/table.ts). Timed with the
// rows above, so it is set up (and checked against the reference) first.
let fewRow;
if (ruleCount >= 1000 && ruleCount <= 100000) {
  progress.step(`${ruleCount} rules: 100 signers`);
  const few = scenario(ruleCount, 1, { signerCount: 100 });
  let fewCompiled = compileSource(toSgxpol(few), { filename: 'bench.sgxpol' });
  if (!fewCompiled.ok) throw new Error('the 100-signer policy does not compile');
  const fewEvaluator = Evaluator.fromTable(fewCompiled.table);
  const fewRequests = asParsed(requests(few, count, 2));
  const fewWithHandles = withHandlesFor(fewRequests, 'subject', (subject) => fewEvaluator.resolveSubject(subject));
  let fewDisagreements = 0;
  const fewChecked = Math.min(checkCount, 1000);
  for (let i = 0; i < fewChecked; i++) {
    const expected = referenceDecide(fewCompiled.program, fewRequests[i]);
    const got = fewEvaluator.decide(fewWithHandles[i]);
    if (differs(got, expected)) fewDisagreements++;
  }
  fewCompiled = undefined;
  fewRow = { workload: [fewWithHandles, (r) => fewEvaluator.decide(r).decision], disagreements: fewDisagreements, checked: fewChecked };
}

progress.step(`${ruleCount} rules: timing sgxpol`);
// The four ways of asking this evaluator, the three on the evaluator without a decision cache,
// and the 100-signer policy, their rounds interleaved. The fourth cycles 1,000 requests instead
// of 10,000: how much of the figures is the memory the requests and the table's reached parts
// spread over.
const decideOf = (r) => evaluator.decide(r).decision;
const decideCold = (r) => cold.decide(r).decision;
const [handleNs, jsonNs, bothNs, fewRequestsNs, coldHandleNs, coldJsonNs, coldBothNs, fewSignersNs] = timeTogether([
  [withHandles, decideOf],
  [reqs, decideOf],
  [withBoth, decideOf],
  [withHandles.slice(0, 1000), decideOf],
  [coldWithHandles, decideCold],
  [reqs, decideCold],
  [coldWithBoth, decideCold],
  ...(fewRow ? [fewRow.workload] : []),
]);
result.engines['sgxpol (handle)'] = { ns: handleNs };
result.engines['sgxpol (JSON request)'] = { ns: jsonNs };
result.engines['sgxpol (subject + enclave handles)'] = { ns: bothNs };
result.engines['sgxpol (handle, no decision cache)'] = { ns: coldHandleNs };
result.engines['sgxpol (JSON request, no decision cache)'] = { ns: coldJsonNs };
result.engines['sgxpol (subject + enclave handles, no decision cache)'] = { ns: coldBothNs };
result.engines['sgxpol (handle), 1,000 distinct requests'] = { ns: fewRequestsNs };
if (fewRow) result.engines['sgxpol (handle), 100 signers'] = { ns: fewSignersNs, disagreements: fewRow.disagreements, checked: fewRow.checked };

progress.step(`${ruleCount} rules: timing the reference interpreter`);
const refCalls = Math.max(20, Math.min(count, Math.round(2e8 / Math.max(ruleCount, 1) / 50)));
result.engines['reference interpreter'] = {
  ns: time(reqs, (r) => referenceDecide(program, r).decision, { rounds: 3, minMs: 0, maxCalls: refCalls }),
};

const linear = linearEngine(s);
linear.load();
progress.step(`${ruleCount} rules: timing the linear scan`);
let linearDisagreements = 0;
for (let i = 0; i < checkCount; i++) if (linear.decide(reqs[i]) !== evaluator.decide(reqs[i]).decision) linearDisagreements++;
result.engines['linear scan (JS)'] = {
  ns: time(reqs, (r) => linear.decide(r), { rounds: 3, minMs: 0, maxCalls: Math.max(50, Math.min(count, Math.round(5e8 / Math.max(ruleCount, 1) / 20))) }),
  disagreements: linearDisagreements,
  checked: checkCount,
};

// Cedar and casbin: too slow to load or run beyond some size; skipped with an estimate.
const PEER_LIMIT = { cedar: quick ? 1000 : 10000, casbin: quick ? 1000 : 10000 };
for (const [key, label, modulePath, factory] of [
  ['cedar', 'Cedar 4.13.0 (wasm, stateful)', './peers/cedar.mjs', 'cedarEngine'],
  ['casbin', 'casbin 5.51.1 (enforceSync)', './peers/casbin.mjs', 'casbinEngine'],
]) {
  if (ruleCount > PEER_LIMIT[key]) {
    result.engines[label] = { skipped: `not run above ${PEER_LIMIT[key]} rules (load and per-decision cost grow with the rule count); estimate from the smaller sizes` };
    continue;
  }
  progress.step(`${ruleCount} rules: loading ${key}`);
  const make = (await import(modulePath))[factory];
  const engine = await make(s);
  engine.load();
  const sample = reqs.slice(0, Math.min(reqs.length, ruleCount >= 1000 ? 100 : 500));
  let peerDisagreements = 0;
  progress.step(`${ruleCount} rules: timing ${key}`);
  for (const r of sample) if (engine.decide(r) !== evaluator.decide(r).decision) peerDisagreements++;
  result.engines[label] = {
    ns: time(sample, (r) => engine.decide(r), { rounds: 3, minMs: 0, maxCalls: sample.length }),
    loadMs: engine.loadMs,
    disagreements: peerDisagreements,
    checked: sample.length,
  };
}

// ---- SIGSTRUCT requests (verify once, then the cache) ----
if (ruleCount === 1000 || (quick && ruleCount === 100)) {
  const { sigstructRequests } = await import('./sigstructs.mjs');
  const { fresh, repeated } = sigstructRequests(reqs.slice(0, 50));
  result.sigstruct = {
    firstUs: time(fresh, (r) => evaluator.decide(r).decision, { rounds: 1, minMs: 0, maxCalls: fresh.length }) / 1000,
    cachedNs: time(repeated, (r) => evaluator.decide(r).decision),
  };
}

progress.done();
process.stdout.write(JSON.stringify(result) + '\n');
