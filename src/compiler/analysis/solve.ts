// Finding a request that satisfies a formula (formula.ts), or proving there is none.
//
// The search works on boxes: one set of regions per dimension, every combination of which is a
// valid request (space.ts). At each step it
//   1. simplifies the formula under the box (a literal whose set holds the whole box domain is
//      true, one disjoint from it is false) and moves top-level literals into the box;
//   2. stops when the formula is true (any request in the box is a witness) or false;
//   3. otherwise branches, either
//      - on a disjunction whose disjuncts are rule-like (each pins some dimension to a narrow
//        set), trying each disjunct — "some allow rule matches" becomes one small problem per
//        rule; or
//      - on one dimension, cut into the classes of regions that every literal on it in the
//        formula treats alike — a finite, exhaustive case split.
// Both branchings cover every solution of the formula in the box, and simplification only
// replaces a formula by one with the same solutions in the box, so the search is exact: it
// returns a box iff a solution exists. Work is counted; past the budget the search gives up
// with BudgetExceeded, which callers report (never as a pass).
import { BIG_JUNCTION, FALSE, TRUE, type Formula, type FormulaBuilder, type Junction, type Literal } from './formula.js';
import { chargeSetWork, intersect, intersects, isEmpty, isSubset, setWorkDone, size, union, type RegionSet } from './regionset.js';
import type { Box, RegionSpace } from './space.js';

export class BudgetExceeded extends Error {
  constructor() {
    super('the analysis exceeded its work budget');
  }
}

/** Region numbers the set operations read (regionset.ts) per unit of a Budget that counts them. */
export const SET_WORK_PER_UNIT = 64;

/**
 * A work counter shared by the searches of one question (or one run of lints). With
 * `countSetWork`, the set operations' work since the budget was made is charged too (see
 * regionset.ts `setWorkDone`): the lints' budget must bound their time whatever the sets' sizes.
 * A neverallow's does not, so that no proof that used to finish is now given up (E402).
 */
export class Budget {
  used = 0;
  private setWorkSeen: number;
  constructor(
    public limit: number,
    private readonly countSetWork = false,
  ) {
    this.setWorkSeen = setWorkDone();
  }
  spend(units: number): void {
    this.used += units;
    if (this.countSetWork) {
      const now = setWorkDone();
      this.used += (now - this.setWorkSeen) / SET_WORK_PER_UNIT;
      this.setWorkSeen = now;
    }
    if (this.used > this.limit) throw new BudgetExceeded();
  }
  get remaining(): number {
    return Math.max(0, this.limit - this.used);
  }
}

export class Solver {
  private memo: Map<Formula, Formula> | undefined;

  constructor(
    readonly builder: FormulaBuilder,
    readonly budget: Budget,
  ) {}

  get space(): RegionSpace {
    return this.builder.space;
  }

  /** A box all of whose requests satisfy `f` (within `box`), or undefined when there is none. */
  solve(f: Formula, box: Box = this.space.initialBox()): Box | undefined {
    interface Frame {
      count: number;
      next: number;
      make: (i: number) => [Formula, Box];
    }
    const stack: Frame[] = [{ count: 1, next: 0, make: () => [f, box] }];
    while (stack.length > 0) {
      const frame = stack[stack.length - 1];
      if (frame.next >= frame.count) {
        stack.pop();
        continue;
      }
      const [formula, at] = frame.make(frame.next++);
      const step = this.propagate(formula, at);
      if (step === undefined) continue;
      if (step.f === TRUE) return step.box;
      stack.push(this.branches(step.f, step.box));
    }
    return undefined;
  }

  /**
   * Visits solution boxes of `f` one after another in a single search. For each, `visit` returns
   * a formula that every later solution must also satisfy (it is conjoined to all the search
   * still has to do, including the rest of the box just found), or `stop`.
   */
  enumerate(f: Formula, box: Box, visit: (solution: Box) => Formula | 'stop'): void {
    interface Frame {
      count: number;
      next: number;
      make: (i: number) => [Formula, Box];
      /** How many constraints had been added when the frame was made (its formulas include them). */
      known: number;
    }
    const added: Formula[] = [];
    const stack: Frame[] = [{ count: 1, next: 0, make: () => [f, box], known: 0 }];
    while (stack.length > 0) {
      const frame = stack[stack.length - 1];
      if (frame.next >= frame.count) {
        stack.pop();
        continue;
      }
      let [formula, at] = frame.make(frame.next++);
      if (frame.known < added.length) formula = this.builder.and([formula, ...added.slice(frame.known)]);
      const step = this.propagate(formula, at);
      if (step === undefined) continue;
      if (step.f === TRUE) {
        const constraint = visit(step.box);
        if (constraint === 'stop') return;
        added.push(constraint);
        // The rest of this box may hold other solutions: search it again under the new constraint.
        stack.push({ count: 1, next: 0, make: () => [formula, step.box], known: added.length - 1 });
        continue;
      }
      const branches = this.branches(step.f, step.box);
      stack.push({ ...branches, known: added.length });
    }
  }

  /** Whether some request in `box` satisfies `f`. */
  satisfiable(f: Formula, box?: Box): boolean {
    return this.solve(f, box) !== undefined;
  }

  /**
   * The box after the first step of the search (simplify, move top-level literals into the box):
   * it holds every solution of `f`. Undefined when that step already shows there is none.
   */
  roughBox(f: Formula, box: Box = this.space.initialBox()): Box | undefined {
    return this.propagate(f, box)?.box;
  }

  /** The classes `dim` is cut into for `f` in `box` (see dimensionSplit). */
  classesOf(f: Formula, box: Box, dim: number): RegionSet[] {
    const sets = new Set<Int32Array>();
    const stack: Formula[] = [f];
    while (stack.length > 0) {
      const g = stack.pop()!;
      if (g.kind === 'lit') {
        if (g.dim === dim) sets.add(g.set.ids);
      } else if (g.kind !== 'const') for (const item of g.items) stack.push(item);
    }
    return partition(box[dim], [...sets], this.budget);
  }

  // ---- simplification ----------------------------------------------------------------------------

  /** `f` with everything the box decides folded away. */
  simplify(f: Formula, box: Box): Formula {
    this.memo = undefined;
    return this.simplifyIn(f, box);
  }

  private simplifyIn(f: Formula, box: Box): Formula {
    this.budget.spend(1);
    if (f.kind === 'const') return f;
    if (f.kind === 'lit') {
      const domain = box[f.dim];
      if (!intersects(domain, f.set)) return FALSE;
      if (isSubset(domain, f.set)) return TRUE;
      return f;
    }
    if (f.shared) {
      this.memo ??= new Map();
      const known = this.memo.get(f);
      if (known !== undefined) return known;
      const result = this.simplifyJunction(f, box);
      this.memo.set(f, result);
      return result;
    }
    return this.simplifyJunction(f, box);
  }

  private simplifyJunction(f: Junction, box: Box): Formula {
    const isAnd = f.kind === 'and';
    const items = f.items.length >= BIG_JUNCTION ? this.candidates(f, box) : f.items;
    let changed = items !== f.items;
    const out: Formula[] = [];
    for (const item of items) {
      const s = this.simplifyIn(item, box);
      if (s !== item) changed = true;
      if (s.kind === 'const') {
        if (s.value === isAnd) continue;
        return s;
      }
      out.push(s);
    }
    if (!changed) return f;
    return isAnd ? this.builder.and(out) : this.builder.or(out);
  }

  /** Simplify, then move top-level literals into the box, until nothing moves. */
  private propagate(f: Formula, box: Box): { f: Formula; box: Box } | undefined {
    for (;;) {
      f = this.simplify(f, box);
      if (f === FALSE) return undefined;
      const literals: Literal[] = f.kind === 'lit' ? [f] : f.kind === 'and' ? (f.items.filter((x) => x.kind === 'lit') as Literal[]) : [];
      if (literals.length === 0) return { f, box };
      const next = box.slice();
      for (const l of literals) {
        next[l.dim] = intersect(next[l.dim], l.set);
        if (isEmpty(next[l.dim])) return undefined;
      }
      box = next;
    }
  }

  // ---- indexes for large junctions ----------------------------------------------------------------
  //
  // In a conjunction, an item that is true whenever dimension d avoids a (small) key set K can be
  // skipped while the box's d-domain avoids K; in a disjunction, the same for items that are then
  // false. Each item is filed under one dimension's key (the narrowest), so when a branch pins
  // the signer, only the items filed under that signer (and the unfiled ones) are looked at.
  // An item with keys on other dimensions too is filed under them as well, within its group, the
  // first time a box needs it: a branch that pins one of those instead (rules `signer gN where
  // isvprodid == N`, filed under the product id, in a branch on the signer) still looks at a few
  // items, not the whole group.

  private candidates(f: Junction, box: Box): readonly Formula[] {
    const index = (f.index ??= this.buildIndex(f)) as JunctionIndex;
    if (index.groups.length === 0) return f.items;
    const stamp = ++index.stamp;
    const picked: number[] = [...index.always];
    const pick = (items: readonly number[]) => {
      for (const i of items) {
        if (index.marks[i] === stamp) continue;
        index.marks[i] = stamp;
        picked.push(i);
      }
    };
    for (const group of index.groups) {
      const domain = box[group.dim];
      if (probeable(domain)) {
        for (const region of domain.ids) pick(group.buckets.get(region) ?? NO_ITEMS);
        continue;
      }
      // The group's own key does not help in this box: the other filing that picks fewest, if any.
      let best: Filing | undefined;
      let bestDomain: RegionSet | undefined;
      let fewest = group.members.length;
      for (const dim of group.otherDims) {
        const other = box[dim];
        if (!probeable(other)) continue;
        const filing = group.others.get(dim) ?? this.fileAgain(f, group, dim);
        let count = filing.unkeyed.length;
        for (const region of other.ids) count += filing.buckets.get(region)?.length ?? 0;
        if (count < fewest) {
          fewest = count;
          best = filing;
          bestDomain = other;
        }
      }
      if (best === undefined) {
        pick(group.members);
        continue;
      }
      pick(best.unkeyed);
      for (const region of bestDomain!.ids) pick(best.buckets.get(region) ?? NO_ITEMS);
    }
    this.budget.spend(picked.length >>> 2);
    if (picked.length === f.items.length) return f.items;
    picked.sort((a, b) => a - b);
    return picked.map((i) => f.items[i]);
  }

  private buildIndex(f: Junction): JunctionIndex {
    this.budget.spend(f.items.length);
    const wantFalse = f.kind === 'or'; // the identity of the junction: items that are it can be skipped
    const groups = new Map<number, IndexGroup>();
    const always: number[] = [];
    f.items.forEach((item, i) => {
      const dims = keyDimensions(item);
      let best: { dim: number; key: RegionSet } | undefined;
      for (const dim of dims) {
        const key = identityKey(item, dim, wantFalse);
        if (!this.usableKey(key, dim)) continue;
        if (best === undefined || size(key) * this.space.dims[best.dim].n < size(best.key) * this.space.dims[dim].n) best = { dim, key };
      }
      if (best === undefined) {
        always.push(i);
        return;
      }
      let group = groups.get(best.dim);
      if (group === undefined) {
        group = { dim: best.dim, buckets: new Map(), members: [], otherDims: [], others: new Map() };
        groups.set(best.dim, group);
      }
      group.members.push(i);
      file(group.buckets, best.key, i);
      for (const dim of dims) if (dim !== best.dim && !group.otherDims.includes(dim)) group.otherDims.push(dim);
    });
    return { groups: [...groups.values()], always, marks: new Int32Array(f.items.length), stamp: 0 };
  }

  /** Whether an item can be filed under `key` on `dim`: a key of at most half the dimension's regions. */
  private usableKey(key: RegionSet | undefined, dim: number): key is RegionSet {
    return key !== undefined && !key.neg && size(key) * 2 <= this.space.dims[dim].n;
  }

  /**
   * Files a group's members again under their keys on `dim` (see candidates), the first time a
   * box needs it: most junctions are never searched where their own key does not help.
   */
  private fileAgain(f: Junction, group: IndexGroup, dim: number): Filing {
    this.budget.spend(group.members.length);
    const wantFalse = f.kind === 'or';
    const filing: Filing = { buckets: new Map(), unkeyed: [] };
    for (const i of group.members) {
      const key = identityKey(f.items[i], dim, wantFalse);
      if (!this.usableKey(key, dim)) filing.unkeyed.push(i);
      else file(filing.buckets, key, i);
    }
    group.others.set(dim, filing);
    return filing;
  }

  // ---- branching ------------------------------------------------------------------------------------

  private branches(f: Formula, box: Box): { count: number; next: number; make: (i: number) => [Formula, Box] } {
    const disjunction = this.ruleLikeDisjunction(f, box);
    if (disjunction !== undefined) {
      const rest = f === disjunction ? [] : (f as Junction).items.filter((x) => x !== disjunction);
      return {
        count: disjunction.items.length,
        next: 0,
        make: (i) => {
          const chosen = disjunction.items[i];
          // The disjunct's own literals narrow the box before anything is simplified, so large
          // indexed junctions in `rest` are only looked at where the disjunct can hold.
          const narrowed = narrow(box, chosen);
          if (narrowed === undefined) return [FALSE, box];
          return [rest.length === 0 ? chosen : this.builder.and([...rest, chosen]), narrowed];
        },
      };
    }
    const { dim, classes } = this.dimensionSplit(f, box);
    return {
      count: classes.length,
      next: 0,
      make: (i) => {
        const next = box.slice();
        next[dim] = classes[i];
        return [f, next];
      },
    };
  }

  /** The smallest disjunction (at the top, or a conjunct of the top) whose disjuncts mostly pin a dimension narrowly. */
  private ruleLikeDisjunction(f: Formula, box: Box): Junction | undefined {
    const options = f.kind === 'or' ? [f] : f.kind === 'and' ? (f.items.filter((x) => x.kind === 'or') as Junction[]) : [];
    let best: Junction | undefined;
    for (const o of options) {
      if (best !== undefined && o.items.length >= best.items.length) continue;
      let narrow = 0;
      for (const item of o.items) if (pinsNarrowly(item, box, this.space)) narrow++;
      if (narrow * 2 >= o.items.length) best = o;
    }
    return best;
  }

  /**
   * The dimension the formula mentions most (ties: the one with fewer classes), cut into classes:
   * regions of the box's domain that are in exactly the same literal sets of the formula.
   */
  private dimensionSplit(f: Formula, box: Box): { dim: number; classes: RegionSet[] } {
    const counts = new Map<number, number>();
    const sets = new Map<number, Set<Int32Array>>();
    const seen = new Set<Formula>();
    const stack: Formula[] = [f];
    while (stack.length > 0) {
      const g = stack.pop()!;
      this.budget.spend(1);
      if (g.kind === 'lit') {
        counts.set(g.dim, (counts.get(g.dim) ?? 0) + 1);
        let s = sets.get(g.dim);
        if (s === undefined) sets.set(g.dim, (s = new Set()));
        s.add(g.set.ids);
      } else if (g.kind !== 'const') {
        if (g.shared) {
          if (seen.has(g)) continue;
          seen.add(g);
        }
        for (const item of g.items) stack.push(item);
      }
    }
    let bestDim = -1;
    let bestClasses: RegionSet[] = [];
    let bestCount = -1;
    for (const [dim, count] of [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])) {
      if (count < bestCount) break;
      const classes = partition(box[dim], [...sets.get(dim)!], this.budget);
      if (classes.length < 2) continue;
      if (bestDim === -1 || classes.length < bestClasses.length) {
        bestDim = dim;
        bestClasses = classes;
        bestCount = count;
      }
    }
    if (bestDim === -1) {
      // Every literal's dimension is already decided by the box, so simplification would have
      // removed it: only a bug gets here.
      throw new Error('analysis: nothing left to split on an undecided formula');
    }
    return { dim: bestDim, classes: bestClasses };
  }
}

const PROBE_LIMIT = 64;

/** `box` restricted by the top-level literals of `f` (undefined when that empties a dimension). */
function narrow(box: Box, f: Formula): Box | undefined {
  const literals = f.kind === 'lit' ? [f] : f.kind === 'and' ? f.items.filter((x): x is Literal => x.kind === 'lit') : [];
  if (literals.length === 0) return box;
  const out = box.slice();
  for (const l of literals) {
    out[l.dim] = intersect(out[l.dim], l.set);
    if (isEmpty(out[l.dim])) return undefined;
  }
  return out;
}

interface IndexGroup {
  dim: number;
  /** Per region of `dim`: the members whose key on `dim` holds it. */
  buckets: Map<number, number[]>;
  members: number[];
  /** Other dimensions some member has a literal on (where it may have a key). */
  otherDims: number[];
  /** The members filed again under their keys on another dimension, per dimension, once needed (Solver.fileAgain). */
  others: Map<number, Filing>;
}

interface Filing {
  buckets: Map<number, number[]>;
  /** The group's members with no key on this dimension (they cannot be skipped by it). */
  unkeyed: number[];
}

const NO_ITEMS: readonly number[] = [];

/** Whether a box's domain is small enough to look its regions up one by one. */
function probeable(domain: RegionSet): boolean {
  return !domain.neg && domain.ids.length <= PROBE_LIMIT;
}

/** Files item `i` under every region of `key`. */
function file(buckets: Map<number, number[]>, key: RegionSet, i: number): void {
  chargeSetWork(key.ids.length);
  for (const region of key.ids) {
    const bucket = buckets.get(region);
    if (bucket === undefined) buckets.set(region, [i]);
    else bucket.push(i);
  }
}

interface JunctionIndex {
  groups: IndexGroup[];
  always: number[];
  /** marks[i] === stamp: item i is already picked in the current pass (the index is shared by every solver). */
  marks: Int32Array;
  stamp: number;
}

/** Dimensions of the literals directly inside an item (where a key can come from). */
function keyDimensions(item: Formula): number[] {
  if (item.kind === 'lit') return [item.dim];
  if (item.kind === 'const') return [];
  const dims: number[] = [];
  for (const x of item.items) if (x.kind === 'lit') dims.push(x.dim);
  if (dims.length === 0 && item.items.length > 0) {
    const firstItem = item.items[0];
    if (firstItem.kind === 'and' || firstItem.kind === 'or') for (const x of firstItem.items) if (x.kind === 'lit') dims.push(x.dim);
  }
  return dims;
}

/**
 * A set K such that `item` equals the constant `value` whenever the box's `dim` domain avoids
 * K (value false: the item is then false; value true: true), or undefined.
 */
function identityKey(item: Formula, dim: number, wantFalse: boolean, depth = 0): RegionSet | undefined {
  if (item.kind === 'const') return undefined;
  if (item.kind === 'lit') {
    if (item.dim !== dim) return undefined;
    // Avoiding S makes (d ∈ S) false; avoiding ¬S makes it true.
    return wantFalse ? item.set : { n: item.set.n, neg: !item.set.neg, ids: item.set.ids };
  }
  // A conjunction is false when one conjunct is; a disjunction is true when one disjunct is.
  const oneSuffices = (item.kind === 'and') === wantFalse;
  if (oneSuffices) {
    for (const x of item.items) if (x.kind === 'lit' && x.dim === dim) return identityKey(x, dim, wantFalse, depth + 1);
    return undefined;
  }
  // Otherwise every item must be the constant: the union of their keys.
  if (depth >= 2) return undefined;
  let key: RegionSet | undefined;
  for (const x of item.items) {
    const k = identityKey(x, dim, wantFalse, depth + 1);
    if (k === undefined) return undefined;
    key = key === undefined ? k : union(key, k);
  }
  return key;
}

/** Whether choosing this disjunct pins some dimension to at most half of its current domain. */
function pinsNarrowly(item: Formula, box: Box, space: RegionSpace): boolean {
  const narrow = (l: Literal) => {
    const domain = box[l.dim];
    return size(intersect(domain, l.set)) * 2 <= size(domain) && space.dims[l.dim].n > 2;
  };
  if (item.kind === 'lit') return narrow(item);
  if (item.kind === 'and') for (const x of item.items) if (x.kind === 'lit' && narrow(x)) return true;
  return false;
}

/**
 * Cuts `domain` into classes of regions that are in exactly the same of the given sets (each
 * given by its `ids` list; a set and its complement share one, and cut the same way).
 */
export function partition(domain: RegionSet, idLists: Int32Array[], budget: Budget): RegionSet[] {
  const n = domain.n;
  // Signature of a region: which lists mention it. Regions no list mentions share one class.
  const signature = new Map<number, number[]>();
  const inDomain = (r: number) => domainHas(domain, r);
  idLists.forEach((ids, j) => {
    budget.spend(1 + (ids.length >>> 3));
    for (const r of ids) {
      if (!inDomain(r)) continue;
      const s = signature.get(r);
      if (s === undefined) signature.set(r, [j]);
      else s.push(j);
    }
  });
  const byKey = new Map<string, number[]>();
  for (const [r, s] of signature) {
    const key = s.join(',');
    const group = byKey.get(key);
    if (group === undefined) byKey.set(key, [r]);
    else group.push(r);
  }
  const classes: RegionSet[] = [];
  const mentioned = Int32Array.from(signature.keys()).sort();
  const rest = intersect(domain, { n, neg: true, ids: mentioned });
  if (!isEmpty(rest)) classes.push(rest);
  const groups = [...byKey.values()].map((g) => Int32Array.from(g).sort());
  groups.sort((a, b) => a[0] - b[0]);
  for (const ids of groups) classes.push({ n, neg: false, ids });
  return classes;
}

function domainHas(domain: RegionSet, r: number): boolean {
  // Binary search in the sorted ids.
  const ids = domain.ids;
  let lo = 0;
  let hi = ids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid] === r) return !domain.neg;
    if (ids[mid] < r) lo = mid + 1;
    else hi = mid - 1;
  }
  return domain.neg;
}
