// FormulaBuilder's junctions: literals on one dimension are merged into one literal. Past a
// size, the merges are deferred and done in pairs at the end (an `or` of 100,000 uids was
// quadratic); the result must be the plain left-to-right fold.
import { describe, expect, it } from 'vitest';
import { FormulaBuilder, type Formula } from '../../src/compiler/analysis/formula.js';
import { fullSet, has, intersect, regionSet, union, type RegionSet } from '../../src/compiler/analysis/regionset.js';
import type { RegionSpace } from '../../src/compiler/analysis/space.js';

const N = 2_000;
const space = { dims: [{ initial: fullSet(N) }, { initial: fullSet(N) }] } as unknown as RegionSpace;

/** A seeded xorshift, so that a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/**
 * About ten random regions (or, `dense`, all but about ten), written as the members or, one
 * time in three, as the non-members.
 */
function randomSet(next: () => number, dense: boolean): RegionSet {
  const few = new Set(Array.from({ length: 10 }, () => Math.floor(next() * N)));
  const inside = (r: number) => few.has(r) !== dense;
  const asNonMembers = next() < 1 / 3;
  const ids: number[] = [];
  for (let r = 0; r < N; r++) if (inside(r) !== asNonMembers) ids.push(r);
  return regionSet(N, ids, asNonMembers);
}

/** The members of a literal's set on `dim`, or everything / nothing for a constant, as a string to compare. */
function membersOn(f: Formula, dim: number): string {
  if (f.kind === 'const') return f.value ? 'all' : 'none';
  const lit = f.kind === 'lit' ? f : f.items.find((g) => g.kind === 'lit' && g.dim === dim);
  if (lit === undefined || lit.kind !== 'lit') return 'all-or-none';
  const inside: number[] = [];
  for (let r = 0; r < N; r++) if (has(lit.set, r)) inside.push(r);
  return inside.length === N ? 'all' : inside.join(',');
}

describe('junctions of many literals on one dimension', () => {
  for (const kind of ['or', 'and'] as const) {
    it(`${kind}: deferred, paired merges give the left-to-right fold`, () => {
      const next = random(kind === 'or' ? 0x1234 : 0x5678);
      let compared = 0;
      for (let round = 0; round < 20; round++) {
        const b = new FormulaBuilder(space);
        // Big sets (so merges are deferred) on dimension 0, interleaved with dimension 1's.
        // An `or` of 150 sets of about 10 regions covers about half of the 2,000, and an `and` of
        // 150 sets missing about 10 each keeps about half: neither reaches its absorbing constant.
        const sets0 = Array.from({ length: 150 }, () => randomSet(next, kind === 'and'));
        const sets1 = Array.from({ length: 150 }, () => randomSet(next, kind === 'and'));
        const items: Formula[] = [];
        sets0.forEach((set, i) => items.push(b.lit(0, set), b.lit(1, sets1[i])));
        const got = kind === 'or' ? b.or(items) : b.and(items);
        const fold = (sets: RegionSet[]) => sets.reduce((acc, set) => (kind === 'or' ? union(acc, set) : intersect(acc, set)));
        const want0 = b.lit(0, fold(sets0));
        const want1 = b.lit(1, fold(sets1));
        const absorbing = kind === 'or' ? 'all' : 'none';
        if (membersOn(want0, 0) === absorbing || membersOn(want1, 1) === absorbing) {
          expect(got).toEqual({ kind: 'const', value: kind === 'or' });
          continue;
        }
        expect(membersOn(got, 0)).toBe(membersOn(want0, 0));
        expect(membersOn(got, 1)).toBe(membersOn(want1, 1));
        compared++;
      }
      expect(compared).toBe(20);
    });
  }

  it('an or of 100,000 single uids is one literal of 100,000 regions', () => {
    const b = new FormulaBuilder({ dims: [{ initial: fullSet(200_000) }] } as unknown as RegionSpace);
    const got = b.or(Array.from({ length: 100_000 }, (_, i) => b.lit(0, regionSet(200_000, [2 * i]))));
    expect(got.kind).toBe('lit');
    if (got.kind === 'lit') expect([got.set.neg, got.set.ids.length, got.set.ids[99_999]]).toEqual([false, 100_000, 199_998]);
  });
});
