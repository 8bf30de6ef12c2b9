// Long posting lists (more rules keyed on one measurement than SPLIT_LIST) are split by subject
// class and filtered by product id (table.ts postingPool). This checks that path against the
// reference interpreter on random policies built to exercise it: few signers, many rules,
// overlapping classes (subjects in 0 to 6 classes), rules for several classes or any subject,
// box and non-box conditions, both effects, and plain requests, handles and cached subjects.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSource } from '../../src/compiler/compile.js';
import { referenceDecide } from '../../src/reference/interpreter.js';
import { Evaluator } from '../../src/runtime/evaluator.js';
import { SPLIT_LIST } from '../../src/runtime/table.js';

const SIGNERS = ['1'.repeat(64), '2'.repeat(64)];
const ENCLAVE = '3'.repeat(64);
const OTHER = '4'.repeat(64);
const CLASSES = 8;
// Product ids around the filter's modulus (31) and its multiples, so filter bits are shared.
const PRODUCT = fc.constantFrom(0, 1, 2, 29, 30, 31, 32, 33, 61, 62, 93);

// Mostly conditions on the product id, so that the rule deciding a request is often one the
// product filter could wrongly pass over.
const arbCond = fc.oneof(
  { arbitrary: PRODUCT.map((p) => `isvprodid == ${p}`), weight: 6 },
  { arbitrary: fc.tuple(PRODUCT, PRODUCT).map(([a, b]) => `isvprodid in ${Math.min(a, b)}..${Math.max(a, b)}`), weight: 3 },
  { arbitrary: fc.tuple(PRODUCT, fc.integer({ min: 0, max: 9 })).map(([p, v]) => `isvprodid == ${p} and isvsvn < ${v}`), weight: 3 },
  { arbitrary: fc.integer({ min: 0, max: 9 }).map((v) => `isvsvn >= ${v}`), weight: 1 },
  { arbitrary: PRODUCT.map((p) => `isvprodid != ${p}`), weight: 1 },
  { arbitrary: fc.tuple(PRODUCT, PRODUCT).map(([a, b]) => `isvprodid == ${a} or isvprodid == ${b}`), weight: 1 },
  { arbitrary: fc.constant('not debug'), weight: 1 },
);

const arbRule = fc.record({
  effect: fc.constantFrom('allow', 'allow', 'allow', 'deny'),
  subjects: fc.oneof(fc.constant('*'), fc.uniqueArray(fc.integer({ min: 0, max: CLASSES - 1 }), { minLength: 1, maxLength: 3 }).map((cs) => (cs.length === 1 ? `k${cs[0]}` : `{${cs.map((c) => `k${c}`).join(', ')}}`))),
  via: fc.constantFrom('', ' via host', ' via kvm'),
  object: fc.constantFrom('signer s0', 'signer s0', 'signer s1', `enclave "${ENCLAVE}"`, '*'),
  cond: fc.option(arbCond, { nil: undefined, freq: 12 }),
});

const arbRequest = fc.record({
  uid: fc.integer({ min: 0, max: 100 }),
  signer: fc.constantFrom(SIGNERS[0], SIGNERS[1], OTHER),
  enclave: fc.constantFrom(ENCLAVE, OTHER),
  isvprodid: PRODUCT,
  isvsvn: fc.integer({ min: 0, max: 10 }),
  debug: fc.boolean(),
  via: fc.constantFrom('host', 'kvm'),
});

type RuleSpec = typeof arbRule extends fc.Arbitrary<infer T> ? T : never;

function policyText(rules: RuleSpec[]): string {
  // Class k covers uids [10k, 10k + 10 + 5k): later classes overlap more of the earlier ones.
  const classes = Array.from({ length: CLASSES }, (_, k) => `subject k${k} = uid ${k * 10}..${k * 10 + 9 + k * 5};`);
  const lines = rules.map((r) => `${r.effect} ${r.subjects} einit${r.via} ${r.object}${r.cond ? ` where ${r.cond}` : ''};`);
  return ['default deny;', ...classes, `signer s0 = "${SIGNERS[0]}";`, `signer s1 = "${SIGNERS[1]}";`, ...lines].join('\n');
}

describe('split posting lists', () => {
  it('decide exactly like the reference interpreter, with plain subjects and handles', () => {
    fc.assert(
      fc.property(fc.array(arbRule, { minLength: 5 * SPLIT_LIST, maxLength: 200 }), fc.array(arbRequest, { minLength: 40, maxLength: 40 }), (rules, requests) => {
        const result = compileSource(policyText(rules), { filename: 'split.sgxpol' });
        expect(result.ok, JSON.stringify(result.diagnostics.filter((d) => d.severity === 'error'))).toBe(true);
        const evaluator = Evaluator.fromTable(result.table);
        for (const q of requests) {
          const subject = { exe: '/bin/x', uid: q.uid, gid: 0 };
          const request = {
            subject,
            via: q.via,
            enclave: { mrenclave: q.enclave, mrsigner: q.signer, isvprodid: q.isvprodid, isvsvn: q.isvsvn, attributes: q.debug ? ['debug'] : [] },
          };
          const expected = referenceDecide(result.program!, request);
          const want = { decision: expected.decision, rule: expected.rule, audit: expected.audit };
          // Plain (the first sight is matched lazily, later ones through the evaluator's cache), then a handle.
          for (let k = 0; k < 3; k++) expect(pick(evaluator.decide({ ...request, subject: { ...subject } })), JSON.stringify(request)).toEqual(want);
          expect(pick(evaluator.decide({ ...request, subject: evaluator.resolveSubject(subject) })), JSON.stringify(request)).toEqual(want);
        }
      }),
      { numRuns: 60, seed: 0x5b117 },
    );
  });
});

function pick(d: { decision: string; rule: string | null; audit: boolean }) {
  return { decision: d.decision, rule: d.rule, audit: d.audit };
}
