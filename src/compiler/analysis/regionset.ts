// Sets of regions of one request dimension (see space.ts). A dimension has `n` regions,
// numbered 0..n-1; a set is a sorted list of region numbers, either the members (`neg: false`)
// or the non-members (`neg: true`). Measurement dimensions can have a region per signer in a
// 100,000-rule policy, and most sets there are one region or "all but a few", so both stay
// small in this form where a bitset would not.

export interface RegionSet {
  /** How many regions the dimension has. */
  readonly n: number;
  /** True: `ids` lists the regions *not* in the set. */
  readonly neg: boolean;
  /** Sorted, unique, each in 0..n-1. */
  readonly ids: Int32Array;
}

const NONE = new Int32Array(0);

/**
 * Region numbers read by the set operations below since the process started. Sets of a dimension
 * with many regions can be long (thousands of overlapping uid ranges), and then the operations,
 * not the solver's steps, are the work; a Budget that is asked to (the lints') charges it.
 */
let setWork = 0;

/** The set operations' work so far (see `setWork`); only differences between two readings mean anything. */
export function setWorkDone(): number {
  return setWork;
}

/** Counts work done elsewhere over a set's region numbers (indexing them, say) as set work. */
export function chargeSetWork(numbers: number): void {
  setWork += numbers;
}

export function regionSet(n: number, ids: Iterable<number>, neg = false): RegionSet {
  const sorted = Int32Array.from(new Set(ids)).sort();
  return { n, neg, ids: sorted };
}

export function emptySet(n: number): RegionSet {
  return { n, neg: false, ids: NONE };
}

export function fullSet(n: number): RegionSet {
  return { n, neg: true, ids: NONE };
}

/** The regions lo..hi (inclusive). */
export function rangeSet(n: number, lo: number, hi: number): RegionSet {
  if (hi < lo) return emptySet(n);
  const ids = new Int32Array(hi - lo + 1);
  for (let i = 0; i < ids.length; i++) ids[i] = lo + i;
  return { n, neg: false, ids };
}

export function size(a: RegionSet): number {
  return a.neg ? a.n - a.ids.length : a.ids.length;
}

export function isEmpty(a: RegionSet): boolean {
  return size(a) === 0;
}

export function isFull(a: RegionSet): boolean {
  return size(a) === a.n;
}

export function complement(a: RegionSet): RegionSet {
  return { n: a.n, neg: !a.neg, ids: a.ids };
}

export function has(a: RegionSet, id: number): boolean {
  return contains(a.ids, id) !== a.neg;
}

/** The smallest member, or -1. */
export function first(a: RegionSet): number {
  if (!a.neg) return a.ids.length > 0 ? a.ids[0] : -1;
  for (let i = 0; i < a.ids.length; i++) if (a.ids[i] !== i) return i;
  return a.ids.length < a.n ? a.ids.length : -1;
}

/** Every member, in order. For a `neg` set this walks the whole dimension. */
export function* members(a: RegionSet): Generator<number> {
  if (!a.neg) {
    yield* a.ids;
    return;
  }
  let j = 0;
  for (let i = 0; i < a.n; i++) {
    if (j < a.ids.length && a.ids[j] === i) j++;
    else yield i;
  }
}

export function intersect(a: RegionSet, b: RegionSet): RegionSet {
  if (!a.neg && !b.neg) return { n: a.n, neg: false, ids: both(a.ids, b.ids) };
  if (!a.neg) return { n: a.n, neg: false, ids: minus(a.ids, b.ids) };
  if (!b.neg) return { n: a.n, neg: false, ids: minus(b.ids, a.ids) };
  return normalize({ n: a.n, neg: true, ids: either(a.ids, b.ids) });
}

export function union(a: RegionSet, b: RegionSet): RegionSet {
  return complement(intersect(complement(a), complement(b)));
}

export function subtract(a: RegionSet, b: RegionSet): RegionSet {
  return intersect(a, complement(b));
}

/** a ∩ b ≠ ∅, without building the intersection. */
export function intersects(a: RegionSet, b: RegionSet): boolean {
  // The common cases first: the whole dimension, or one region against one region.
  if (a.neg && a.ids.length === 0) return !isEmpty(b);
  if (b.neg && b.ids.length === 0) return !isEmpty(a);
  if (!a.neg && !b.neg) return a.ids.length === 1 && b.ids.length === 1 ? a.ids[0] === b.ids[0] : shareOne(a.ids, b.ids);
  if (!a.neg) return notAllIn(a.ids, b.ids);
  if (!b.neg) return notAllIn(b.ids, a.ids);
  // Both co-sets: they meet unless their excluded lists together cover the dimension.
  return a.ids.length + b.ids.length < a.n || unionSize(a.ids, b.ids) < a.n;
}

/** a ⊆ b. */
export function isSubset(a: RegionSet, b: RegionSet): boolean {
  return !intersects(a, complement(b));
}

export function equal(a: RegionSet, b: RegionSet): boolean {
  return isSubset(a, b) && isSubset(b, a);
}

/** A `neg` set that excludes everything is written as the empty positive set (and the reverse never matters). */
function normalize(a: RegionSet): RegionSet {
  return a.neg && a.ids.length === a.n ? emptySet(a.n) : a;
}

// ---- sorted Int32Array helpers ----------------------------------------------------------------

function contains(ids: Int32Array, id: number): boolean {
  let lo = 0;
  let hi = ids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = ids[mid];
    if (v === id) return true;
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** Whether one list is much longer than the other, so probing it by binary search is cheaper than a merge. */
function lopsided(small: Int32Array, large: Int32Array): boolean {
  return small.length * 16 < large.length;
}

function both(a: Int32Array, b: Int32Array): Int32Array {
  if (a.length > b.length) [a, b] = [b, a];
  if (a.length === 0) return NONE;
  const probe = lopsided(a, b);
  setWork += probe ? a.length : a.length + b.length;
  const out: number[] = [];
  if (probe) {
    for (const v of a) if (contains(b, v)) out.push(v);
  } else {
    let i = 0;
    let j = 0;
    while (i < a.length && j < b.length) {
      if (a[i] === b[j]) {
        out.push(a[i]);
        i++;
        j++;
      } else if (a[i] < b[j]) i++;
      else j++;
    }
  }
  return out.length === a.length ? a : Int32Array.from(out);
}

function minus(a: Int32Array, b: Int32Array): Int32Array {
  if (a.length === 0 || b.length === 0) return a;
  const probe = lopsided(a, b);
  setWork += probe ? a.length : a.length + b.length;
  const out: number[] = [];
  if (probe) {
    for (const v of a) if (!contains(b, v)) out.push(v);
  } else {
    let j = 0;
    for (let i = 0; i < a.length; i++) {
      while (j < b.length && b[j] < a[i]) j++;
      if (j >= b.length || b[j] !== a[i]) out.push(a[i]);
    }
  }
  return out.length === a.length ? a : Int32Array.from(out);
}

function either(a: Int32Array, b: Int32Array): Int32Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  setWork += a.length + b.length;
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i] < b[j])) out.push(a[i++]);
    else if (i >= a.length || b[j] < a[i]) out.push(b[j++]);
    else {
      out.push(a[i]);
      i++;
      j++;
    }
  }
  return Int32Array.from(out);
}

function shareOne(a: Int32Array, b: Int32Array): boolean {
  if (a.length > b.length) [a, b] = [b, a];
  if (a.length === 0) return false;
  const probe = lopsided(a, b);
  setWork += probe ? a.length : a.length + b.length;
  if (probe) {
    for (const v of a) if (contains(b, v)) return true;
    return false;
  }
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) return true;
    if (a[i] < b[j]) i++;
    else j++;
  }
  return false;
}

/** Some member of `a` is not in `b`. */
function notAllIn(a: Int32Array, b: Int32Array): boolean {
  if (a.length > b.length) return true;
  const probe = lopsided(a, b);
  setWork += probe ? a.length : a.length + b.length;
  if (probe) {
    for (const v of a) if (!contains(b, v)) return true;
    return false;
  }
  let j = 0;
  for (let i = 0; i < a.length; i++) {
    while (j < b.length && b[j] < a[i]) j++;
    if (j >= b.length || b[j] !== a[i]) return true;
  }
  return false;
}

function unionSize(a: Int32Array, b: Int32Array): number {
  setWork += a.length + b.length;
  let i = 0;
  let j = 0;
  let count = 0;
  while (i < a.length || j < b.length) {
    count++;
    if (j >= b.length || (i < a.length && a[i] < b[j])) i++;
    else if (i >= a.length || b[j] < a[i]) j++;
    else {
      i++;
      j++;
    }
  }
  return count;
}
