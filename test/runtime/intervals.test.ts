// Simple directory entries keep each ISVPRODID / ISVSVN interval as `lo | (hi - lo) << 16` and
// test a value with one unsigned comparison (src/runtime/table.ts, evaluator.ts `entryAllows`).
// These tests hold that encoding to the reference interpreter at the edges of the 16-bit range.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSource } from '../../src/compiler/compile.js';
import { Evaluator } from '../../src/runtime/evaluator.js';
import { referenceDecide } from '../../src/reference/interpreter.js';

const A = 'a'.repeat(64);
const subject = { exe: '/s', uid: 1, gid: 1 };
const EDGES = [0, 1, 2, 29999, 30000, 30001, 32767, 32768, 32769, 39999, 40000, 40001, 65533, 65534, 65535];

function agree(source: string, values: readonly (readonly [number, number])[]): void {
  const result = compileSource(source, { filename: 'iv.sgxpol' });
  expect(result.ok, JSON.stringify(result.diagnostics)).toBe(true);
  const evaluator = Evaluator.fromTable(result.table!);
  const handle = evaluator.resolveSubject(subject);
  for (const [isvprodid, isvsvn] of values) {
    const enclave = { mrenclave: 'b'.repeat(64), mrsigner: A, isvprodid, isvsvn };
    const expected = referenceDecide(result.program!, { subject, enclave });
    for (const got of [evaluator.decide({ subject, enclave }), evaluator.decide({ subject: handle, enclave })]) {
      expect([isvprodid, isvsvn, got.decision, got.rule]).toEqual([isvprodid, isvsvn, expected.decision, expected.rule]);
    }
  }
}

describe('interval entries at the edges of the 16-bit range', () => {
  it('agree with the reference on hand-picked intervals', () => {
    const source = `subject s = exe "/s";
signer v = "${A}";
deny s einit signer v where isvprodid in 30000..30001 and isvsvn == 0;
allow s einit signer v where isvprodid in 0..40000 and isvsvn >= 65535;
allow s einit signer v where isvprodid == 65535;
allow s einit signer v where isvsvn in 32768..65535 and isvprodid <= 1;
allow s einit signer v where isvprodid > 40000 and isvprodid < 65535 and isvsvn < 32768;
deny s einit signer v where isvsvn in 65534..65535;
allow s einit signer v where isvprodid in 29999..32768;
`;
    agree(source, EDGES.flatMap((p) => EDGES.map((s) => [p, s] as const)));
  });

  it('agree with the reference on random intervals', () => {
    const bound = fc.oneof(fc.constantFrom(...EDGES), fc.integer({ min: 0, max: 65535 }));
    const interval = fc.tuple(bound, bound).map(([x, y]) => (x <= y ? [x, y] : [y, x]));
    const rule = fc.record({ deny: fc.boolean(), prod: interval, svn: interval });
    fc.assert(
      fc.property(fc.array(rule, { minLength: 1, maxLength: 6 }), fc.array(fc.tuple(bound, bound), { minLength: 1, maxLength: 30 }), (rules, values) => {
        const lines = rules.map(
          (r) => `${r.deny ? 'deny' : 'allow'} s einit signer v where isvprodid in ${r.prod[0]}..${r.prod[1]} and isvsvn in ${r.svn[0]}..${r.svn[1]};`,
        );
        // The edges of every interval, and one past them, as requests too.
        const edges = rules.flatMap((r) => [r.prod[0], r.prod[1], Math.max(0, r.prod[0] - 1), Math.min(65535, r.prod[1] + 1)]);
        agree(`subject s = exe "/s";\nsigner v = "${A}";\n${lines.join('\n')}\n`, [...values, ...edges.map((p, i) => [p, edges[(i + 1) % edges.length]] as const)]);
      }),
      { numRuns: 150 },
    );
  });
});
