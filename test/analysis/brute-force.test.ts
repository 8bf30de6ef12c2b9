// The analyses against brute force (SPEC 3.5, and the diff and who-can/what-can queries): random
// small policies over a fixed vocabulary, and every request of a finite set that is complete for
// that vocabulary (small-policies.ts), decided one by one by the reference interpreter. Every
// verdict must agree, and every witness must replay.
//
// Reproduce or widen a run with SGXPOL_ANALYSIS_SEED and SGXPOL_ANALYSIS_RUNS.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSource, type CompileResult } from '../../src/compiler/compile.js';
import { Codes, type Diagnostic } from '../../src/compiler/diagnostics.js';
import type { Program, Rule } from '../../src/compiler/ir.js';
import { setUpAnalysis } from '../../src/compiler/analysis/context.js';
import { checkNeverallows } from '../../src/compiler/analysis/neverallow.js';
import { diffPrograms, whatCan, whoCan } from '../../src/compiler/analysis/queries.js';
import { DEFAULT_SPACE_LIMITS } from '../../src/compiler/analysis/space.js';
import { patternMatches, referenceDecide } from '../../src/reference/interpreter.js';
import { normalizeRequest } from '../../src/runtime/request.js';
import type { NormalizedRequest } from '../../src/runtime/types.js';
import { arbFeatures, arbMutation, arbSmallPolicy, enclaveKey, measurementValues, requestDomain, subjectKey, type SmallPolicy } from './small-policies.js';

const SEED = Number(process.env.SGXPOL_ANALYSIS_SEED ?? 0x5617_a4a1);
const RUNS = Number(process.env.SGXPOL_ANALYSIS_RUNS ?? 150);

interface Row {
  json: Record<string, unknown>;
  request: NormalizedRequest;
  /** Per rule: does it match. */
  matches: boolean[];
  decision: 'allow' | 'deny';
  /** SPEC 5's deciding rule (or default, or builtin). */
  rule: string;
  /** The deciding rule before the built-in invariant (steps 2–4 only). */
  decider: string;
}

function compile(policy: SmallPolicy): CompileResult & { program: Program } {
  const result = compileSource(policy.text, { filename: '/analysis/policy.sgxpol' });
  if (result.program === undefined || result.diagnostics.some((d) => d.severity === 'error' && !d.code.startsWith('E4'))) {
    throw new Error(`a generated policy did not compile:\n${result.diagnostics.map((d) => `${d.line}: ${d.code} ${d.message}`).join('\n')}\n${policy.text}`);
  }
  return result as CompileResult & { program: Program };
}

function table(program: Program, policy: SmallPolicy): Row[] {
  return requestDomain(policy.features).map((json) => {
    const check = normalizeRequest(json);
    if (!check.ok) throw new Error(`a domain request is invalid: ${check.reason}`);
    const matches = program.rules.map((rule) => patternMatches(program, rule.decl, check.request));
    const decision = referenceDecide(program, json);
    const firstDeny = program.rules.findIndex((r, i) => matches[i] && r.effect === 'deny');
    const firstAllow = program.rules.findIndex((r, i) => matches[i] && r.effect === 'allow');
    const decider = firstDeny >= 0 ? program.rules[firstDeny].id : firstAllow >= 0 ? program.rules[firstAllow].id : 'default';
    return { json, request: check.request, matches, decision: decision.decision, rule: decision.rule!, decider };
  });
}

function context(policy: SmallPolicy, extra = ''): string {
  return `features: ${[...policy.features].join(', ')}\n${policy.text}${extra}`;
}

function ruleAt(program: Program, d: Diagnostic): Rule | undefined {
  return program.rules.find((r) => r.decl.span.line === d.line);
}

describe('SPEC 3.5: neverallow, exactly', () => {
  it(`agrees with brute force on ${RUNS} policies, and every witness replays`, () => {
    const arb = arbFeatures().chain((features) => arbSmallPolicy(features, { neverallows: 2 }));
    fc.assert(
      fc.property(arb, (policy) => {
        const result = compile(policy);
        const program = result.program;
        const rows = table(program, policy);
        program.neverallows.forEach((neverallow) => {
          const violated = rows.some((row) => row.decision === 'allow' && patternMatches(program, neverallow.decl, row.request));
          const reported = result.diagnostics.filter((d) => d.line === neverallow.decl.span.line && d.severity === 'error');
          expect(
            reported.map((d) => d.code),
            context(policy, `neverallow ${neverallow.id}: brute force says ${violated ? 'violated' : 'kept'}`),
          ).toEqual(violated ? reported.map(() => Codes.NEVERALLOW_VIOLATED) : []);
          expect(reported.length > 0, context(policy, `neverallow ${neverallow.id}`)).toBe(violated);
          for (const d of reported) {
            const check = normalizeRequest(d.witness);
            expect(check.ok, context(policy)).toBe(true);
            if (!check.ok) continue;
            const decision = referenceDecide(program, d.witness);
            expect(decision.decision, context(policy, JSON.stringify(d.witness))).toBe('allow');
            expect(patternMatches(program, neverallow.decl, check.request), context(policy, JSON.stringify(d.witness))).toBe(true);
            expect(d.message).toContain(decision.rule === 'default' ? '`default allow`' : `rule ${decision.rule} allows`);
          }
        });
      }),
      { seed: SEED, numRuns: RUNS },
    );
  }, 60_000);
});

describe('SPEC 3.5: neverallow in the coarse space (each glob on its own), the fallback when globs are too many', () => {
  it(`proves only neverallows that brute force keeps, on ${RUNS} policies`, () => {
    const arb = arbFeatures().chain((features) => arbSmallPolicy(features, { neverallows: 2 }));
    let proved = 0;
    let kept = 0;
    fc.assert(
      fc.property(arb, (policy) => {
        const program = compile(policy).program;
        const rows = table(program, policy);
        const coarse = setUpAnalysis([program], { ...DEFAULT_SPACE_LIMITS, coarseGlobs: true });
        if (!coarse.ok) throw new Error(coarse.reason);
        for (const { neverallow, outcome } of checkNeverallows(coarse.analysis)) {
          const violated = rows.some((row) => row.decision === 'allow' && patternMatches(program, neverallow.decl, row.request));
          expect(outcome.status, context(policy, `neverallow ${neverallow.id}`)).not.toBe('violated'); // it gives no witnesses
          if (outcome.status === 'holds') {
            expect(violated, context(policy, `neverallow ${neverallow.id}: coarse proof of a broken neverallow`)).toBe(false);
            proved++;
          }
          if (!violated) kept++;
        }
      }),
      { seed: SEED + 1, numRuns: RUNS },
    );
    // Not vacuous: the coarse space proves most of the neverallows that hold.
    console.log(`coarse space: proved ${proved} of ${kept} neverallows that hold`);
    expect(proved).toBeGreaterThan(kept / 2);
  }, 60_000);
});

describe('SPEC 3.5: lints, exactly', () => {
  it(`agree with brute force on ${RUNS} policies`, () => {
    const arb = arbFeatures().chain((features) => arbSmallPolicy(features, { maxRules: 7 }));
    fc.assert(
      fc.property(arb, (policy) => {
        const result = compile(policy);
        const program = result.program;
        const rows = table(program, policy);
        const warnings = result.diagnostics.filter((d) => d.severity === 'warning');
        const withCode = (code: string) => new Set(warnings.filter((d) => d.code === code).map((d) => ruleAt(program, d)?.id));

        // W001: no request matches the rule.
        const neverMatches = new Set(program.rules.filter((_, i) => rows.every((row) => !row.matches[i])).map((r) => r.id));
        expect(withCode(Codes.RULE_NEVER_MATCHES), context(policy, 'W001')).toEqual(neverMatches);

        // W005 / W002: the rule matches some request but decides none.
        const shadowed = new Set(program.rules.filter((r, i) => !neverMatches.has(r.id) && rows.every((row) => row.decider !== r.id)).map((r) => r.id));
        const reported = new Set([...withCode(Codes.RULE_SHADOWED), ...withCode(Codes.DUPLICATE_RULE)].filter((id) => id !== undefined && !neverMatches.has(id)));
        expect(reported, context(policy, 'W005/W002')).toEqual(shadowed);
        for (const d of warnings.filter((w) => w.code === Codes.RULE_SHADOWED)) {
          const rule = ruleAt(program, d)!;
          // Every rule it names decides some request this rule matches.
          for (const related of d.related ?? []) {
            const other = program.rules.find((r) => r.decl.span.line === related.line)!;
            expect(rows.some((row) => row.matches[rule.index] && row.decider === other.id), context(policy, `${rule.id} named ${other.id}`)).toBe(true);
          }
        }
        for (const d of warnings.filter((w) => w.code === Codes.DUPLICATE_RULE && w.message.includes('matches exactly'))) {
          const rule = ruleAt(program, d)!;
          const other = program.rules.find((r) => r.decl.span.line === d.related![0].line)!;
          expect(other.effect).toBe(rule.effect);
          expect(rows.every((row) => row.matches[rule.index] === row.matches[other.index]), context(policy, `${rule.id} ≡ ${other.id}`)).toBe(true);
        }

        // W003: `default allow` decides some request.
        const defaultAllows = program.default.decl !== undefined && program.default.effect === 'allow' && rows.some((row) => row.decider === 'default');
        const w003 = warnings.filter((d) => d.code === Codes.DEFAULT_ALLOW);
        expect(w003.length === 1, context(policy, 'W003')).toBe(defaultAllows);
        for (const d of w003) expect(['default', 'builtin:provisionkey']).toContain(referenceDecide(program, d.witness).rule);

        // W004: for some enclave, every subject holding /dev/kvm is admitted via kvm, and not every subject.
        const kvmOnly = new Set(
          program.rules
            .filter((r) => r.effect === 'allow' && r.via !== 'host' && !neverMatches.has(r.id))
            .filter((r) => kvmHoldsOnly(rows, r.index))
            .map((r) => r.id),
        );
        expect(withCode(Codes.KVM_HOLDS_ONLY), context(policy, 'W004')).toEqual(kvmOnly);
        for (const d of warnings.filter((w) => w.code === Codes.KVM_HOLDS_ONLY)) {
          const check = normalizeRequest(d.witness);
          expect(check.ok && check.request.subject.holds.includes('/dev/kvm') && patternMatches(program, ruleAt(program, d)!.decl, check.request)).toBe(true);
        }
      }),
      { seed: SEED + 1, numRuns: RUNS },
    );
  }, 60_000);
});

/** ∃ enclave: (∀ subject holding /dev/kvm: matches via kvm) ∧ (∃ subject: does not). */
function kvmHoldsOnly(rows: Row[], ruleIndex: number): boolean {
  const byEnclave = new Map<string, Row[]>();
  for (const row of rows) {
    if (row.request.via !== 'kvm') continue;
    const key = enclaveKey(row.json);
    const list = byEnclave.get(key);
    if (list === undefined) byEnclave.set(key, [row]);
    else list.push(row);
  }
  for (const list of byEnclave.values()) {
    const allKvmHolders = list.filter((row) => row.request.subject.holds.includes('/dev/kvm')).every((row) => row.matches[ruleIndex]);
    const someoneOut = list.some((row) => !row.matches[ruleIndex]);
    if (allKvmHolders && someoneOut) return true;
  }
  return false;
}

describe('sgxpol diff, exactly', () => {
  it(`finds exactly the requests that change decision, grouped by deciding rules, on ${RUNS} pairs`, () => {
    const arb = arbFeatures()
      .chain((features) => arbSmallPolicy(features))
      .chain((before) => arbMutation(before).map((after) => ({ before, after })));
    fc.assert(
      fc.property(arb, ({ before, after }) => {
        const p0 = compile(before).program;
        const p1 = compile(after).program;
        const rows0 = table(p0, before);
        const rows1 = table(p1, after);
        const expected = new Set<string>();
        rows0.forEach((row, i) => {
          if (row.decision !== rows1[i].decision) expected.add(`${row.rule} → ${rows1[i].rule}`);
        });
        const outcome = diffPrograms(p0, p1);
        const both = `--- old\n${before.text}--- new\n${after.text}`;
        if (outcome.status !== 'ok') throw new Error(`diff gave up: ${outcome.reason}\n${both}`);
        expect(outcome.complete, both).toBe(true);
        expect(new Set(outcome.groups.map((g) => `${g.old.rule} → ${g.new.rule}`)), both).toEqual(expected);
        for (const g of outcome.groups) {
          const d0 = referenceDecide(p0, g.witness);
          const d1 = referenceDecide(p1, g.witness);
          expect([d0.decision, d0.rule, d1.decision, d1.rule], both).toEqual([g.old.decision, g.old.rule, g.new.decision, g.new.rule]);
          // The exact path projection: the group occurs on exactly these paths.
          const vias = new Set(rows0.filter((row, i) => row.rule === g.old.rule && rows1[i].rule === g.new.rule && row.decision !== rows1[i].decision).map((row) => row.request.via));
          expect(new Set(g.shape.via), both).toEqual(vias);
        }
      }),
      { seed: SEED + 2, numRuns: RUNS },
    );
  }, 60_000);
});

describe('sgxpol who-can and what-can, exactly', () => {
  it(`list exactly the allowing rules for a signer, an enclave, and a subject, on ${RUNS} policies`, () => {
    const arb = arbFeatures().chain((features) => arbSmallPolicy(features).chain((policy) => fc.tuple(fc.constant(policy), fc.nat(), fc.nat())));
    fc.assert(
      fc.property(arb, ([policy, which, pick]) => {
        const program = compile(policy).program;
        const signers = measurementValues(policy.features, 'signer');
        const enclaves = measurementValues(policy.features, 'enclave');
        const measurement = signers[which % signers.length];
        const mrenclave = enclaves[which % enclaves.length];
        const rows = table(program, policy);
        const allowedBy = (keep: (row: Row) => boolean) => new Set(rows.filter((row) => row.decision === 'allow' && keep(row)).map((row) => row.rule));

        const bySigner = whoCan(program, { mrsigner: measurement });
        const byEnclave = whoCan(program, { mrenclave, via: 'kvm' });
        if (bySigner.status !== 'ok' || byEnclave.status !== 'ok') throw new Error(`who-can gave up\n${policy.text}`);
        expect(new Set(bySigner.groups.map((g) => g.rule)), context(policy, `who-can --signer ${measurement[0]}`)).toEqual(
          allowedBy((row) => row.request.enclave.mrsigner === measurement),
        );
        expect(new Set(byEnclave.groups.map((g) => g.rule)), context(policy, `who-can --enclave ${mrenclave[0]} --via kvm`)).toEqual(
          allowedBy((row) => row.request.enclave.mrenclave === mrenclave && row.request.via === 'kvm'),
        );
        for (const g of [...bySigner.groups, ...byEnclave.groups]) expect(referenceDecide(program, g.witness)).toMatchObject({ decision: 'allow', rule: g.rule });

        const subjectRow = rows[pick % rows.length];
        const subject = subjectKey(subjectRow.json);
        const can = whatCan(program, subjectRow.request.subject, undefined);
        if (can.status !== 'ok') throw new Error(`what-can gave up\n${policy.text}`);
        expect(new Set(can.groups.map((g) => g.rule)), context(policy, `what-can ${subject}`)).toEqual(allowedBy((row) => subjectKey(row.json) === subject));
        for (const g of can.groups) {
          expect(referenceDecide(program, g.witness)).toMatchObject({ decision: 'allow', rule: g.rule });
          expect(subjectKey(g.witness as unknown as Record<string, unknown>)).toBe(subject);
        }
      }),
      { seed: SEED + 3, numRuns: RUNS },
    );
  }, 60_000);
});
