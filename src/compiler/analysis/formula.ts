// Policy conditions as formulas over the region space (space.ts): and/or trees whose leaves are
// literals "dimension d is in region set S". Negation is pushed to the leaves (the complement of
// a region set is a region set), so a formula never contains `not`.
//
// The constructors simplify as they build: constants fold, nested small conjunctions flatten,
// and literals on the same dimension merge (so a junction has at most one literal per
// dimension). Large junctions (the "no deny rule matches" of a big policy) stay nested as one
// child, so the solver can index them once and reuse the index in every branch.
import { complement, intersect, isEmpty, isSubset, union, type RegionSet } from './regionset.js';
import type { RegionSpace } from './space.js';

export type Formula = Const | Literal | Junction;

export interface Const {
  readonly kind: 'const';
  readonly value: boolean;
}

export interface Literal {
  readonly kind: 'lit';
  readonly dim: number;
  readonly set: RegionSet;
}

export interface Junction {
  readonly kind: 'and' | 'or';
  readonly items: readonly Formula[];
  /** Nesting depth (a literal is 0). */
  readonly depth: number;
  /** Set when the node is reachable from several places (a subject class): the solver memoizes it. */
  shared: boolean;
  /** Built by the solver on first use when the junction is large. */
  index?: unknown;
}

export const TRUE: Const = { kind: 'const', value: true };
export const FALSE: Const = { kind: 'const', value: false };

/** Junctions with at least this many items are kept whole when nested, and indexed by the solver. */
export const BIG_JUNCTION = 48;

/** Formulas deeper than this are refused (the solver recurses once per level). */
export const MAX_FORMULA_DEPTH = 1500;

export class FormulaTooDeep extends Error {}

export class FormulaBuilder {
  private readonly negations = new WeakMap<Formula, Formula>();

  constructor(readonly space: RegionSpace) {}

  lit(dim: number, set: RegionSet): Formula {
    const initial = this.space.dims[dim].initial;
    if (isSubset(initial, set)) return TRUE;
    if (!intersectsInitial(initial, set)) return FALSE;
    return { kind: 'lit', dim, set };
  }

  and(items: readonly Formula[]): Formula {
    return this.junction('and', items);
  }

  or(items: readonly Formula[]): Formula {
    return this.junction('or', items);
  }

  not(f: Formula): Formula {
    const known = this.negations.get(f);
    if (known !== undefined) return known;
    let result: Formula;
    switch (f.kind) {
      case 'const':
        result = f.value ? FALSE : TRUE;
        break;
      case 'lit':
        result = this.lit(f.dim, complement(f.set));
        break;
      default: {
        const items = f.items.map((item) => this.not(item));
        result = f.kind === 'and' ? this.or(items) : this.and(items);
        if (result.kind !== 'const' && result.kind !== 'lit' && f.shared) result.shared = true;
      }
    }
    this.negations.set(f, result);
    if (result.kind !== 'const') this.negations.set(result, f);
    return result;
  }

  // Called millions of times in a search, mostly with two or three items: no closures, and a
  // set for duplicates only when the junction is large.
  private junction(kind: 'and' | 'or', items: readonly Formula[]): Formula {
    const isAnd = kind === 'and';
    const out: Formula[] = [];
    let seen: Set<Formula> | undefined;
    let depth = 0;
    // Literals met on a dimension whose merged literal has grown long: merged at the end, in
    // pairs, so that `uid 0 or uid 1 or …` of n terms costs n log n, not n² (100,000 terms
    // took 100 s). Keyed by the merged literal's place in `out`.
    let deferred: Map<number, RegionSet[]> | undefined;
    /** Whether some place in `out` holds the identity constant of a dropped literal. */
    let dropped = false;
    // Items to add; small junctions of the same kind are spread in place.
    const work: Formula[] = [];
    for (let i = items.length - 1; i >= 0; i--) work.push(items[i]);
    while (work.length > 0) {
      const item = work.pop()!;
      if (item.kind === 'const') {
        if (item.value === isAnd) continue;
        return isAnd ? FALSE : TRUE;
      }
      if (item.kind === 'lit') {
        let at = -1;
        for (let j = 0; j < out.length; j++) {
          const o = out[j];
          if (o.kind === 'lit' && o.dim === item.dim) {
            at = j;
            break;
          }
        }
        if (at < 0) {
          out.push(item);
          continue;
        }
        const previous = out[at] as Literal;
        if (previous.set.ids.length > DEFER_MERGE_AT) {
          deferred ??= new Map();
          const sets = deferred.get(at);
          if (sets === undefined) deferred.set(at, [item.set]);
          else sets.push(item.set);
          continue;
        }
        const merged = this.lit(item.dim, isAnd ? intersect(previous.set, item.set) : union(previous.set, item.set));
        if (merged.kind === 'const') {
          if (merged.value !== isAnd) return merged;
          // The identity: the literal goes. Its place keeps the constant until the end, so that
          // the places `deferred` refers to stay where they are.
          out[at] = merged;
          dropped = true;
          continue;
        }
        out[at] = merged;
        continue;
      }
      if (item.kind === kind && item.items.length < BIG_JUNCTION) {
        for (let j = item.items.length - 1; j >= 0; j--) work.push(item.items[j]);
        continue;
      }
      if (out.length >= 16 && seen === undefined) seen = new Set(out);
      if (seen !== undefined ? seen.has(item) : out.includes(item)) continue;
      seen?.add(item);
      out.push(item);
      if (item.depth > depth) depth = item.depth;
    }
    if (deferred !== undefined) {
      for (const [at, sets] of deferred) {
        const previous = out[at] as Literal;
        const merged = this.lit(previous.dim, mergeAll([previous.set, ...sets], isAnd));
        if (merged.kind === 'const' && merged.value !== isAnd) return merged;
        out[at] = merged;
        if (merged.kind === 'const') dropped = true;
      }
    }
    if (dropped) {
      const kept = out.filter((f) => f.kind !== 'const');
      out.length = 0;
      for (const f of kept) out.push(f);
    }
    if (out.length === 0) return isAnd ? TRUE : FALSE;
    if (out.length === 1) return out[0];
    if (depth + 1 > MAX_FORMULA_DEPTH) throw new FormulaTooDeep(`conditions nest more than ${MAX_FORMULA_DEPTH} levels deep`);
    return { kind, items: out, depth: depth + 1, shared: false };
  }
}

/** A literal whose set lists more regions than this has its further merges in a junction deferred (see `junction`). */
const DEFER_MERGE_AT = 64;

/** The intersection (`isAnd`) or union of `sets`, merged in pairs: each region number is copied about log(sets) times. */
function mergeAll(sets: RegionSet[], isAnd: boolean): RegionSet {
  let level = sets;
  while (level.length > 1) {
    const next: RegionSet[] = [];
    for (let i = 0; i < level.length; i += 2) {
      next.push(i + 1 < level.length ? (isAnd ? intersect(level[i], level[i + 1]) : union(level[i], level[i + 1])) : level[i]);
    }
    level = next;
  }
  return level[0];
}

function intersectsInitial(initial: RegionSet, set: RegionSet): boolean {
  return !isEmpty(intersect(initial, set));
}
