// Region sets (the solver's sets of regions of one dimension) against plain JS sets.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as R from '../../src/compiler/analysis/regionset.js';

const N = 12;
const arbSet = fc.tuple(fc.uniqueArray(fc.nat(N - 1), { maxLength: N }), fc.boolean()).map(([ids, neg]) => R.regionSet(N, ids, neg));
const model = (s: R.RegionSet) => new Set([...Array(N).keys()].filter((i) => R.has(s, i)));
const same = (a: Set<number>, b: Set<number>) => a.size === b.size && [...a].every((x) => b.has(x));

describe('region sets (sorted members, or sorted non-members)', () => {
  it('agree with plain sets on every operation', () => {
    fc.assert(
      fc.property(arbSet, arbSet, (a, b) => {
        const ma = model(a);
        const mb = model(b);
        expect([...model(R.intersect(a, b))].sort()).toEqual([...ma].filter((x) => mb.has(x)).sort());
        expect(same(model(R.union(a, b)), new Set([...ma, ...mb]))).toBe(true);
        expect(same(model(R.complement(a)), new Set([...Array(N).keys()].filter((x) => !ma.has(x))))).toBe(true);
        expect(R.intersects(a, b)).toBe([...ma].some((x) => mb.has(x)));
        expect(R.isSubset(a, b)).toBe([...ma].every((x) => mb.has(x)));
        expect(R.size(a)).toBe(ma.size);
        expect(R.isEmpty(a)).toBe(ma.size === 0);
        expect(R.first(a)).toBe(ma.size === 0 ? -1 : Math.min(...ma));
        expect([...R.members(a)]).toEqual([...ma].sort((x, y) => x - y));
      }),
      { numRuns: 500 },
    );
  });
});
