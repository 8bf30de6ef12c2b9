// The differential test (SPEC 5: "the compiled table and the evaluator must give exactly the
// decisions of this section, for every request"): random valid policies are compiled to a
// table, loaded into the evaluator, and every answer is compared with the reference
// interpreter's on decision, rule and audit.
//
// Reproduce or widen a run with SGXPOL_DIFF_SEED and SGXPOL_DIFF_RUNS (policies per run).
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileSource, type CompileResult } from '../src/compiler/compile.js';
import { Codes } from '../src/compiler/diagnostics.js';
import type { Program } from '../src/compiler/ir.js';
import { patternMatches, referenceDecide } from '../src/reference/interpreter.js';
import { Evaluator } from '../src/runtime/evaluator.js';
import { normalizeRequest } from '../src/runtime/request.js';
import type { Decision } from '../src/runtime/types.js';
import { arbPolicy, arbRequests, writePolicyFiles, type PolicyInfo } from './support/generators.js';

const SEED = Number(process.env.SGXPOL_DIFF_SEED ?? 0x5617_7001);
const RUNS = Number(process.env.SGXPOL_DIFF_RUNS ?? 250);
const REQUESTS_PER_POLICY = 50;

const workDir = mkdtempSync(join(tmpdir(), 'sgxpol-diff-'));
let runNumber = 0;
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** Writes the policy's files to a fresh folder and compiles the root with compileSource. */
function compilePolicy(info: PolicyInfo): CompileResult {
  const root = writePolicyFiles(join(workDir, `run${runNumber++}`), info);
  return compileSource(info.source, { filename: root });
}

function describePolicy(info: PolicyInfo): string {
  return info.files.map((file) => `----- ${file.path}\n${file.text}`).join('\n');
}

function describeDiagnostics(result: CompileResult): string {
  return result.diagnostics.map((d) => `${d.file}:${d.line}:${d.column}: ${d.severity}[${d.code}]: ${d.message}`).join('\n');
}

function sameOutcome(fast: Decision, reference: Decision): boolean {
  return fast.decision === reference.decision && fast.rule === reference.rule && fast.audit === reference.audit;
}

/** Everything that must hold of one policy: it compiles, resolves as generated, and decides like the reference. */
function checkPolicy(info: PolicyInfo, requests: unknown[]): void {
  const result = compilePolicy(info);
  if (!result.ok || result.table === undefined || result.program === undefined) {
    throw new Error(`a valid policy did not compile:\n${describeDiagnostics(result)}\n${describePolicy(info)}`);
  }
  const program = result.program;

  // The resolver must see what the generator wrote (SPEC 3.3 sets, SPEC 4 ids and order).
  expect(program.rules.map((rule) => rule.id), `rule ids in program order\n${describePolicy(info)}`).toEqual(info.expectedRuleIds);
  for (const kind of ['signer', 'enclave'] as const) {
    const sets = kind === 'signer' ? program.signers : program.enclaves;
    const actual = Object.fromEntries([...sets].map(([name, set]) => [name, set.values]));
    expect(actual, `${kind} sets\n${describePolicy(info)}`).toEqual(info.expectedSets[kind]);
  }

  expect(result.table.policy, `the table's policy\n${describePolicy(info)}`).toEqual(info.expectedPolicy);
  // SPEC 6: the same sources always give a byte-identical table.
  expect(JSON.stringify(compilePolicy(info).table), `table is not reproducible\n${describePolicy(info)}`).toBe(JSON.stringify(result.table));

  const direct = Evaluator.fromTable(result.table);
  const roundTripped = Evaluator.fromTable(JSON.parse(JSON.stringify(result.table)));

  // Subject handles (SPEC 7), resolved once per subject and reused: fresh ones, and stale ones
  // resolved against another table before a swap, which must be matched again on first use.
  const subjects = new Set<unknown>();
  for (const request of requests) if (hasSubject(request)) subjects.add(request.subject);
  const freshHandles = new Map([...subjects].map((subject) => [subject, roundTripped.resolveSubject(subject)]));
  const swapped = Evaluator.fromTable(baselineTable());
  const staleHandles = new Map([...subjects].map((subject) => [subject, swapped.resolveSubject(subject)]));
  swapped.swapTable(result.table);

  for (const request of requests) {
    const reference = referenceDecide(program, request);
    const answers: [string, Decision][] = [
      ['decide', direct.decide(request)],
      ['decide (table through JSON)', roundTripped.decide(request)],
    ];
    if (hasSubject(request)) {
      answers.push(['decide with a resolveSubject handle', roundTripped.decide({ ...request, subject: freshHandles.get(request.subject) })]);
      // The same twice more, new objects: a valid request's decision is in the evaluator's
      // decision cache by then (stored at its first or second sight), and answered from it.
      for (const time of ['second', 'third']) {
        answers.push([`decide with a handle, a ${time} time (decision cache)`, roundTripped.decide({ ...request, subject: freshHandles.get(request.subject) })]);
      }
      answers.push(['decide with a handle resolved before a table swap', swapped.decide({ ...request, subject: staleHandles.get(request.subject) })]);
    }
    for (const [how, fast] of answers) {
      const because = reference.rule !== null ? info.becauseById[reference.rule] : undefined;
      const reasonOk =
        typeof fast.reason === 'string' && fast.reason.length > 0 && (because === undefined || (fast.reason === because && reference.reason === because));
      if (!sameOutcome(fast, reference) || !reasonOk) {
        throw new Error(
          [
            `${how} disagrees with the reference interpreter`,
            `  evaluator: ${JSON.stringify(fast)}`,
            `  reference: ${JSON.stringify(reference)}`,
            `  request:   ${fc.stringify(request)}`,
            `policy:`,
            describePolicy(info),
          ].join('\n'),
        );
      }
    }
  }
}

function hasSubject(request: unknown): request is { subject: unknown } {
  return typeof request === 'object' && request !== null && !Array.isArray(request) && 'subject' in request;
}

let baseline: unknown;
/** A table with a subject class of its own, for handles to be resolved against before a swap. */
function baselineTable(): unknown {
  if (baseline === undefined) {
    const result = compileSource('subject root = uid 0 or exe "/**";\nallow root einit *;\n', { filename: join(workDir, 'baseline.sgxpol') });
    if (!result.ok) throw new Error(describeDiagnostics(result));
    baseline = result.table;
  }
  return baseline;
}

describe('SPEC 5: the compiled table decides exactly as the reference interpreter', () => {
  it(`agrees on ${RUNS} random policies × ${REQUESTS_PER_POLICY} requests (seed ${SEED})`, () => {
    const arbCase = arbPolicy({ multiFile: true }).chain((info) =>
      arbRequests(info, REQUESTS_PER_POLICY).map((requests) => ({ info, requests })),
    );
    fc.assert(
      fc.property(arbCase, ({ info, requests }) => checkPolicy(info, requests)),
      { seed: SEED, numRuns: RUNS },
    );
  }, 120_000);

  const largeRuns = Math.max(40, Math.floor(RUNS / 2.5));
  it(`agrees on ${largeRuns} larger random policies × 100 requests`, () => {
    const arbCase = arbPolicy({ large: true }).chain((info) => arbRequests(info, 100).map((requests) => ({ info, requests })));
    fc.assert(
      fc.property(arbCase, ({ info, requests }) => checkPolicy(info, requests)),
      { seed: SEED + 1, numRuns: largeRuns },
    );
  }, 120_000);
});

/** Whether the compiler checks neverallow yet (it may report it as not verified). */
function neverallowIsChecked(): boolean {
  const result = compileSource('allow * einit *;\nneverallow * einit *;\n', { filename: join(workDir, 'probe.sgxpol') });
  return result.diagnostics.some((d) => d.code === Codes.NEVERALLOW_VIOLATED);
}

describe('SPEC 3.5: neverallow is checked exactly', () => {
  it.skipIf(!neverallowIsChecked())('never passes a policy that allows a request a neverallow forbids, and its witnesses are real', () => {
    const arbCase = arbPolicy({ neverallow: true, maxRules: 8 }).chain((info) => arbRequests(info, 30).map((requests) => ({ info, requests })));
    fc.assert(
      fc.property(arbCase, ({ info, requests }) => {
        const result = compilePolicy(info);
        const program = result.program;
        if (program === undefined) throw new Error(`a valid policy did not resolve:\n${describeDiagnostics(result)}\n${describePolicy(info)}`);
        const errors = result.diagnostics.filter((d) => d.severity === 'error');
        expect(errors.every((d) => d.code === Codes.NEVERALLOW_VIOLATED), `${describeDiagnostics(result)}\n${describePolicy(info)}`).toBe(true);
        for (const error of errors) {
          if (error.witness !== undefined) checkWitness(program, error.witness, info);
        }
        if (result.ok) {
          for (const request of requests) {
            const check = normalizeRequest(request);
            if (!check.ok) continue;
            const forbidden = program.neverallows.find((n) => patternMatches(program, n.decl, check.request));
            if (forbidden !== undefined && referenceDecide(program, request).decision === 'allow') {
              throw new Error(`neverallow ${forbidden.id} passed, but this request is allowed:\n${fc.stringify(request)}\n${describePolicy(info)}`);
            }
          }
        }
      }),
      { seed: SEED, numRuns: Math.max(50, Math.floor(RUNS / 2)) },
    );
  }, 120_000);
});

/** A neverallow witness must be a valid request that some neverallow matches and the policy allows. */
function checkWitness(program: Program, witness: unknown, info: PolicyInfo): void {
  const request = typeof witness === 'object' && witness !== null && 'request' in witness ? (witness as { request: unknown }).request : witness;
  const check = normalizeRequest(request);
  const context = `witness ${fc.stringify(witness)}\n${describePolicy(info)}`;
  expect(check.ok, `the witness is not a valid request (${check.ok ? '' : check.reason})\n${context}`).toBe(true);
  if (!check.ok) return;
  expect(referenceDecide(program, request).decision, `the policy does not allow the witness\n${context}`).toBe('allow');
  expect(program.neverallows.some((n) => patternMatches(program, n.decl, check.request)), `no neverallow matches the witness\n${context}`).toBe(true);
}
