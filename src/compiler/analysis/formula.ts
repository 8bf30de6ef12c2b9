// Policy conditions as formulas over the region space (space.ts): and/or trees whose leaves are
// literals "dimension d is in region set S". Negation is pushed to the leaves (the complement of
// a region set is a region set), so a formula never contains `not`.
//
// The constructors simplify as they build: constants fold, nested small conjunctions flatten,
// and literals on the same dimension merge (so a junction has at most one literal per
// dimension). Large junctions (the "no deny rule matches" of a big policy) stay nested as one
// child, so the solver can index them once and reuse the index in every branch.
import { complement, emptySet, intersect, isEmpty, isSubset, union, type RegionSet } from './regionset.js';
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

  private junction(kind: 'and' | 'or', items: readonly Formula[]): Formula {
    const isAnd = kind === 'and';
    const out: Formula[] = [];
    const litAt = new Map<number, number>(); // dim → position in `out`
    const seen = new Set<Formula>();
    const push = (item: Formula): boolean => {
      // Returns false when the whole junction is decided (an absorbing constant).
      if (item.kind === 'const') return item.value === isAnd;
      if (item.kind === 'lit') {
        const at = litAt.get(item.dim);
        if (at === undefined) {
          litAt.set(item.dim, out.length);
          out.push(item);
          return true;
        }
        const previous = out[at] as Literal;
        const merged = this.lit(item.dim, isAnd ? intersect(previous.set, item.set) : union(previous.set, item.set));
        if (merged.kind === 'const') {
          if (merged.value !== isAnd) return false;
          out[at] = TRUE; // identity: removed below
          litAt.delete(item.dim);
          return true;
        }
        out[at] = merged;
        return true;
      }
      if (seen.has(item)) return true;
      seen.add(item);
      if (item.kind === kind && item.items.length < BIG_JUNCTION) {
        for (const inner of item.items) if (!push(inner)) return false;
        return true;
      }
      out.push(item);
      return true;
    };
    for (const item of items) if (!push(item)) return isAnd ? FALSE : TRUE;
    const kept = out.filter((item) => item.kind !== 'const');
    if (kept.length === 0) return isAnd ? TRUE : FALSE;
    if (kept.length === 1) return kept[0];
    let depth = 0;
    for (const item of kept) if (item.kind === 'and' || item.kind === 'or') depth = Math.max(depth, item.depth);
    if (depth + 1 > MAX_FORMULA_DEPTH) throw new FormulaTooDeep(`conditions nest more than ${MAX_FORMULA_DEPTH} levels deep`);
    return { kind, items: kept, depth: depth + 1, shared: false };
  }
}

function intersectsInitial(initial: RegionSet, set: RegionSet): boolean {
  return !isEmpty(intersect(initial, set));
}

/** For tests and messages: an empty set of the right size. */
export function noRegions(space: RegionSpace, dim: number): RegionSet {
  return emptySet(space.dims[dim].n);
}
