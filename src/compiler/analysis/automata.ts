// Which combinations of glob matches can one string have? (SPEC 3.4 globs, SPEC 2 strings.)
//
// Every glob is a small NFA over its tokens; the product of all of them (a subset construction
// that runs every glob side by side) is explored breadth first over an alphabet of character
// classes. For `exe` the product also runs the automaton of SPEC 2's canonical absolute paths
// (starts with `/`, no empty, `.` or `..` segment, no trailing `/`, no NUL), and the search
// stops at the length limit of 4096 characters. Each product state reached says which globs
// accept the string that reached it; the distinct answers are the dimension's regions, and the
// first string found for each (breadth first: a shortest one) is its witness.
//
// Exact because: (1) characters in one class are indistinguishable to every glob and to the
// path automaton, so one representative per class loses nothing; (2) the subset construction
// reaches a state iff some string of that length leads there; (3) breadth-first order finds the
// shortest string per state, so a combination is realisable within the length limit iff it is
// seen before the search passes that depth.

import { Tok, tokenizeGlob, type GlobMode, type GlobTokens } from '../../runtime/glob.js';

export type { GlobMode };

const SLASH = 0x2f;
const DOT = 0x2e;
const NUL = 0;

/** SPEC 2: exe and label strings are at most this long. */
export const MAX_STRING_LENGTH = 4096;
/**
 * Most work one exploration may do before it gives up like one with too many states (a second
 * or two): per transition tried, the length of the state it leaves, since the successor reads
 * every live glob and is hashed and compared as long. The states it keeps may hold at most
 * MAX_EXPLORE_KEPT numbers together (128 MB).
 */
export const MAX_EXPLORE_WORK = 100_000_000;
export const MAX_EXPLORE_KEPT = 32_000_000;

// ---- the canonical-path automaton (exe only) ----------------------------------------------------

const enum Path {
  Start, // nothing read
  SegmentStart, // just read a `/`
  Dot, // the segment so far is `.`
  DotDot, // the segment so far is `..`
  InSegment, // a segment that is not `.` or `..`
  Dead,
}

function pathStep(state: Path, point: number): Path {
  if (state === Path.Dead || point === NUL) return Path.Dead;
  if (state === Path.Start) return point === SLASH ? Path.SegmentStart : Path.Dead;
  if (point === SLASH) return state === Path.InSegment ? Path.SegmentStart : Path.Dead;
  if (point === DOT) {
    if (state === Path.SegmentStart) return Path.Dot;
    if (state === Path.Dot) return Path.DotDot;
    return Path.InSegment;
  }
  return Path.InSegment;
}

// ---- the product -------------------------------------------------------------------------------

export interface GlobRegions {
  /** Per region: the indices of the globs that match its strings, ascending. */
  vectors: Int32Array[];
  /** Per region: a shortest string of the region. */
  witnesses: string[];
}

export type GlobRegionsOutcome = { ok: true; regions: GlobRegions } | { ok: false; reason: string };

export interface GlobLimits {
  /** Most product states explored before giving up. */
  maxStates: number;
}

/** Characters tried before anything else when a class needs a representative. */
const PREFERRED = 'xabcdefghijklmnopqrstuvwyz0123456789_-';

/**
 * The realisable match combinations of `globs` (each a SPEC 3.4 pattern in `mode`) over every
 * string allowed in that field: exe → canonical absolute paths, label → any string; both at most
 * 4096 characters. Region 0 is "matches none of them" when some string does.
 *
 * Globs that share no string cannot both match one, so the product is only built within each
 * group of globs linked by pairwise overlaps: a string that matches some glob of a group matches
 * no glob outside it. Whether some string matches no glob at all is one more search over all of
 * them, which stops at the first such string.
 */
export function globRegions(globs: readonly string[], mode: GlobMode, limits: GlobLimits): GlobRegionsOutcome {
  const tokens = globs.map((g) => tokenizeGlob(g, mode));
  const alphabet = classesOf(tokens, mode);
  const dfas: GlobDfa[] = [];
  // Each DFA has a row of transitions per state over every character class of every glob, so
  // long globs of many distinct characters (4,000 different CJK characters each, say) would
  // need gigabytes: the tables are capped, and a glob set past the cap is refused like one
  // whose product is too large (E402 / W007, never a crash).
  let cells = 0;
  for (const t of tokens) {
    const dfa = globDfa(t, mode, alphabet, MAX_DFA_CELLS - cells);
    if (dfa === undefined) {
      return {
        ok: false,
        reason: `the ${mode} globs (${globs.length}) need automata of more than ${MAX_GLOB_DFA_STATES} states, or more than ${MAX_DFA_CELLS} transitions together (${alphabet.length} distinct characters)`,
      };
    }
    cells += dfa.accepting.length * alphabet.length;
    dfas.push(dfa);
  }
  const vectors: Int32Array[] = [];
  const witnesses: string[] = [];
  let states = 0;
  const run = (members: number[], stopWhen?: (accepted: number[]) => boolean): GlobRegions | string => {
    const outcome = explore(
      members.map((g) => dfas[g]),
      mode,
      alphabet,
      limits.maxStates - states,
      stopWhen,
    );
    if (typeof outcome === 'string') {
      if (outcome === 'too much work') return `the ${mode} globs (${globs.length}) combine into an automaton too costly to explore (more than ${MAX_EXPLORE_WORK} steps)`;
      if (outcome === 'too large') return `the ${mode} globs (${globs.length}) combine into automaton states too large to keep (more than ${MAX_EXPLORE_KEPT} numbers together)`;
      return `the ${mode} globs (${globs.length}) combine into more than ${limits.maxStates} automaton states`;
    }
    states += outcome.states;
    return outcome.regions;
  };

  // Does some string match none of the globs? Not if one glob alone matches everything.
  let universal = false;
  for (let g = 0; g < tokens.length && !universal; g++) {
    if (!tokens[g].kinds.includes(Tok.Run)) continue;
    const alone = run([g], (accepted) => accepted.length === 0);
    if (typeof alone === 'string') return { ok: false, reason: alone };
    universal = alone.vectors.every((v) => v.length > 0);
  }
  if (!universal) {
    const found = run(
      tokens.map((_, g) => g),
      (accepted) => accepted.length === 0,
    );
    if (typeof found === 'string') return { ok: false, reason: found };
    const at = found.vectors.findIndex((v) => v.length === 0);
    if (at >= 0) {
      vectors.push(new Int32Array(0));
      witnesses.push(found.witnesses[at]);
    }
  }

  for (const group of overlapGroups(tokens, run)) {
    if (typeof group === 'string') return { ok: false, reason: group };
    const found = run(group);
    if (typeof found === 'string') return { ok: false, reason: found };
    found.vectors.forEach((local, i) => {
      if (local.length === 0) return;
      vectors.push(Int32Array.from(local, (j) => group[j]));
      witnesses.push(found.witnesses[i]);
    });
  }
  return { ok: true, regions: { vectors, witnesses } };
}

/** Groups of globs linked by "some string matches both" (union-find over candidate pairs). */
function* overlapGroups(tokens: GlobTokens[], run: (members: number[], stopWhen?: (accepted: number[]) => boolean) => GlobRegions | string): Generator<number[] | string> {
  const parent = tokens.map((_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]];
    return i;
  };
  const prefixes = tokens.map((t) => literalEnd(t, false));
  const suffixes = tokens.map((t) => literalEnd(t, true));
  // Two globs can share a string only if one's literal prefix starts the other's, and likewise
  // for literal suffixes. Sorting by prefix puts the globs whose prefix extends g's right after g.
  const order = tokens.map((_, i) => i).sort((a, b) => (prefixes[a] < prefixes[b] ? -1 : prefixes[a] > prefixes[b] ? 1 : a - b));
  for (let x = 0; x < order.length; x++) {
    const a = order[x];
    for (let y = x + 1; y < order.length; y++) {
      const b = order[y];
      if (!prefixes[b].startsWith(prefixes[a])) break;
      if (find(a) === find(b)) continue;
      if (!suffixes[a].endsWith(suffixes[b]) && !suffixes[b].endsWith(suffixes[a])) continue;
      const both = run([a, b], (accepted) => accepted.length === 2);
      if (typeof both === 'string') {
        yield both;
        return;
      }
      if (both.vectors.some((v) => v.length === 2)) parent[find(a)] = find(b);
    }
  }
  const groups = new Map<number, number[]>();
  tokens.forEach((_, i) => {
    const root = find(i);
    const group = groups.get(root);
    if (group === undefined) groups.set(root, [i]);
    else group.push(i);
  });
  yield* groups.values();
}

/** The literal text before the first wildcard (or after the last one, when `fromEnd`). */
function literalEnd(t: GlobTokens, fromEnd: boolean): string {
  const points: number[] = [];
  const n = t.kinds.length;
  for (let k = 0; k < n; k++) {
    const i = fromEnd ? n - 1 - k : k;
    if (t.kinds[i] !== Tok.Literal) break;
    points.push(t.points[i]);
  }
  if (fromEnd) points.reverse();
  return String.fromCodePoint(...points.slice(0, 4096));
}

/**
 * Character classes: each literal character (code point) of the globs is its own class; in exe
 * mode `/`, `.` and NUL are classes too (the path automaton tells them apart); everything else is
 * one class, the last, represented by a character no glob names.
 */
function classesOf(tokens: GlobTokens[], mode: GlobMode): number[] {
  const literalPoints = new Set<number>();
  for (const t of tokens) for (let i = 0; i < t.kinds.length; i++) if (t.kinds[i] === Tok.Literal) literalPoints.add(t.points[i]);
  if (mode === 'exe') for (const u of [SLASH, DOT, NUL]) literalPoints.add(u);
  const classPoints = [...literalPoints].sort((a, b) => a - b);
  let other = -1;
  for (const ch of PREFERRED) {
    const u = ch.charCodeAt(0);
    if (!literalPoints.has(u)) {
      other = u;
      break;
    }
  }
  for (let u = 0x100; other === -1; u++) if (!literalPoints.has(u) && (u < 0xd800 || u > 0xdfff)) other = u;
  classPoints.push(other);
  return classPoints;
}

/**
 * Explores the product of `tokens`' automata (and, for exe, the canonical-path automaton)
 * breadth first. Returns the realisable match vectors (indices into `tokens`) with a shortest
 * witness each, or a string when more than `maxStates` states are needed. `stopWhen` ends the
 * search early when it accepts a newly found vector.
 */
function explore(
  dfas: GlobDfa[],
  mode: GlobMode,
  classPoints: number[],
  maxStates: number,
  stopWhen?: (accepted: number[]) => boolean,
): { regions: GlobRegions; states: number } | string {
  const classCount = classPoints.length;
  const otherClass = classCount - 1;
  const alwaysTried = mode === 'exe' ? [SLASH, DOT, NUL].map((u) => classPoints.indexOf(u)) : [];

  // A product state lists only the globs that can still match, as (glob, DFA state) pairs in
  // glob order, after the path automaton's state: [path, g, s, g, s, …]. Near the root of many
  // literal paths all of them are alive, but a few characters in most are not, so states stay
  // short where there are many of them.
  const states: Int32Array[] = [];
  const parents: number[] = [];
  const points: number[] = [];
  const depths: number[] = [];
  // States by a hash of their numbers: a number, or a list of them when hashes collide.
  const index = new Map<number, number | number[]>();
  const hashOf = (tuple: ArrayLike<number>): number => {
    let h = 0x811c9dc5;
    for (let i = 0; i < tuple.length; i++) h = Math.imul(h ^ tuple[i], 0x01000193);
    return h;
  };
  const same = (known: Int32Array, tuple: ArrayLike<number>): boolean => {
    if (known.length !== tuple.length) return false;
    for (let i = 0; i < known.length; i++) if (known[i] !== tuple[i]) return false;
    return true;
  };
  const known = (hash: number, tuple: ArrayLike<number>): boolean => {
    const found = index.get(hash);
    if (found === undefined) return false;
    if (typeof found === 'number') return same(states[found], tuple);
    return found.some((s) => same(states[s], tuple));
  };
  const remember = (hash: number, s: number): void => {
    const found = index.get(hash);
    if (found === undefined) index.set(hash, s);
    else if (typeof found === 'number') index.set(hash, [found, s]);
    else found.push(s);
  };
  const regionByVector = new Map<string, number>();
  const vectors: Int32Array[] = [];
  const witnessState: number[] = [];
  // Work: each transition computes its successor glob by glob, then hashes and compares it, so a
  // product of many live globs can cost far more than its state count says (1,000 globs `/**X`
  // made one check take a minute at a few thousand states).
  let work = 0;
  // Numbers held in the states found: the memory the search takes.
  let kept = 0;
  const ADDED = 0;
  const STOP = 1;
  const FULL = 2;
  /**
   * Adds a state unless known, in breadth-first order; a new state's match vector is recorded
   * when first met (so the witness is a shortest string), and `stopWhen` may end the search
   * there. FULL when the state or work limit would be passed.
   */
  const add = (numbers: readonly number[], parent: number, point: number, depth: number): number => {
    const hash = hashOf(numbers);
    if (known(hash, numbers)) return ADDED;
    if (states.length >= maxStates) return FULL;
    kept += numbers.length;
    if (kept > MAX_EXPLORE_KEPT) return FULL;
    const s = states.length;
    const tuple = Int32Array.from(numbers);
    remember(hash, s);
    states.push(tuple);
    parents.push(parent);
    points.push(point);
    depths.push(depth);
    // A label may be any string; an exe must be a canonical path.
    if (mode === 'label' || tuple[0] === Path.InSegment) {
      const accepted: number[] = [];
      for (let i = 1; i < tuple.length; i += 2) if (dfas[tuple[i]].accepting[tuple[i + 1]] === 1) accepted.push(tuple[i]);
      const vector = accepted.join(',');
      if (!regionByVector.has(vector)) {
        regionByVector.set(vector, vectors.length);
        vectors.push(Int32Array.from(accepted));
        witnessState.push(s);
        if (stopWhen?.(accepted)) return STOP;
      }
    }
    return ADDED;
  };
  const start: number[] = [mode === 'exe' ? Path.Start : Path.InSegment];
  dfas.forEach((dfa, g) => {
    if (!dfa.dead[0]) start.push(g, 0);
  });
  const tried = new Set<number>();
  const next: number[] = [];
  let outcome = add(start, -1, -1, 0);
  search: for (let s = 0; s < states.length && outcome === ADDED; s++) {
    const state = states[s];
    const path = state[0] as Path;
    if (depths[s] === MAX_STRING_LENGTH) continue;
    // Only classes that some glob treats unlike the "other" class can lead elsewhere.
    tried.clear();
    for (const c of alwaysTried) tried.add(c);
    for (let i = 1; i < state.length; i += 2) for (const c of dfas[state[i]].distinct[state[i + 1]]) tried.add(c);
    tried.add(otherClass);
    for (const c of tried) {
      // Computing the successor reads every live glob, and its hash and comparison as many numbers.
      work += state.length;
      if (work > MAX_EXPLORE_WORK) {
        outcome = FULL;
        break search;
      }
      const point = classPoints[c];
      const nextPath = mode === 'exe' ? pathStep(path, point) : Path.InSegment;
      if (nextPath === Path.Dead) continue;
      next.length = 0;
      next.push(nextPath);
      for (let i = 1; i < state.length; i += 2) {
        const dfa = dfas[state[i]];
        const to = dfa.next[state[i + 1] * classCount + c];
        if (!dfa.dead[to]) next.push(state[i], to);
      }
      outcome = add(next, s, point, depths[s] + 1);
      if (outcome !== ADDED) break search;
    }
  }
  if (outcome === FULL) return work > MAX_EXPLORE_WORK ? 'too much work' : kept > MAX_EXPLORE_KEPT ? 'too large' : 'too many states';

  const witnesses = witnessState.map((s) => {
    const text: number[] = [];
    for (let at = s; parents[at] !== -1; at = parents[at]) text.push(points[at]);
    text.reverse();
    let out = '';
    for (let i = 0; i < text.length; i += 4096) out += String.fromCodePoint(...text.slice(i, i + 4096));
    return out;
  });
  return { regions: { vectors, witnesses }, states: states.length };
}

/** One glob as a DFA over the character classes. State 0 is the start. */
interface GlobDfa {
  /** next[state * classes + class] */
  next: Int32Array;
  accepting: Uint8Array;
  /** Per state: the classes whose successor differs from the "other" class's. */
  distinct: number[][];
  /** Per state: 1 when no accepting state can be reached from it. */
  dead: Uint8Array;
}

const MAX_GLOB_DFA_STATES = 20_000;
/** Most transitions (states × character classes) of all the globs' DFAs together. */
const MAX_DFA_CELLS = 16_000_000;

/** The DFA of one glob over `classPoints`, or undefined when it needs more than `maxCells` transitions or MAX_GLOB_DFA_STATES states. */
function globDfa(t: GlobTokens, mode: GlobMode, classPoints: number[], maxCells: number): GlobDfa | undefined {
  const m = t.kinds.length;
  const slashMatters = mode === 'exe';
  const runs = t.kinds.filter((k) => k === Tok.Run || k === Tok.RunNoSlash).length;
  if (runs === 0) return (m + 2) * classPoints.length > maxCells ? undefined : chainDfa(t, slashMatters, classPoints);
  const isRun = (p: number) => p < m && (t.kinds[p] === Tok.Run || t.kinds[p] === Tok.RunNoSlash);
  const close = (set: Set<number>, p: number) => {
    set.add(p);
    if (isRun(p)) set.add(p + 1);
  };
  const classCount = classPoints.length;
  const sets: number[][] = [];
  const index = new Map<string, number>();
  const next: number[] = [];
  const intern = (set: Set<number>): number => {
    const sorted = [...set].sort((a, b) => a - b);
    const key = sorted.join(',');
    let id = index.get(key);
    if (id === undefined) {
      id = sets.length;
      index.set(key, id);
      sets.push(sorted);
    }
    return id;
  };
  const start = new Set<number>();
  close(start, 0);
  intern(start);
  for (let s = 0; s < sets.length; s++) {
    if (sets.length > MAX_GLOB_DFA_STATES || sets.length * classCount > maxCells) return undefined;
    for (let c = 0; c < classCount; c++) {
      const point = classPoints[c];
      const slash = slashMatters && point === SLASH;
      const out = new Set<number>();
      for (const p of sets[s]) {
        if (p === m) continue;
        switch (t.kinds[p]) {
          case Tok.Literal:
            if (t.points[p] === point) close(out, p + 1);
            break;
          case Tok.One:
            close(out, p + 1);
            break;
          case Tok.OneNoSlash:
            if (!slash) close(out, p + 1);
            break;
          case Tok.Run:
            out.add(p);
            close(out, p + 1);
            break;
          case Tok.RunNoSlash:
            if (!slash) {
              out.add(p);
              close(out, p + 1);
            }
            break;
        }
      }
      next[s * classCount + c] = intern(out);
    }
  }
  // With a single run the subset construction is minimal already (up to dead states), and
  // Moore's method would take a round per state of a long literal chain.
  if (runs < 2 || sets.length > 256) return withDistinct(Int32Array.from(next), Uint8Array.from(sets, (set) => (set.includes(m) ? 1 : 0)), classCount);
  return minimize(
    Int32Array.from(next),
    Uint8Array.from(sets, (set) => (set.includes(m) ? 1 : 0)),
    classCount,
  );
}

/** A glob without runs: one state per position, then a dead state; already minimal. */
function chainDfa(t: GlobTokens, slashMatters: boolean, classPoints: number[]): GlobDfa {
  const m = t.kinds.length;
  const classCount = classPoints.length;
  const dead = m + 1;
  const next = new Int32Array((m + 2) * classCount).fill(dead);
  for (let p = 0; p < m; p++) {
    for (let c = 0; c < classCount; c++) {
      const point = classPoints[c];
      const kind = t.kinds[p];
      const ok = kind === Tok.Literal ? t.points[p] === point : kind === Tok.One || !(slashMatters && point === SLASH);
      if (ok) next[p * classCount + c] = p + 1;
    }
  }
  const accepting = new Uint8Array(m + 2);
  accepting[m] = 1;
  return withDistinct(next, accepting, classCount);
}

/**
 * Moore's minimization: states that accept the same suffixes are merged, so the product (which
 * multiplies state counts) only tells apart what some glob really can. State 0 stays the start.
 */
function minimize(next: Int32Array, accepting: Uint8Array, classCount: number): GlobDfa {
  const n = accepting.length;
  let block = Int32Array.from(accepting);
  let blocks = 2;
  for (;;) {
    const index = new Map<string, number>();
    const refined = new Int32Array(n);
    for (let s = 0; s < n; s++) {
      let key = String(block[s]);
      for (let c = 0; c < classCount; c++) key += ',' + block[next[s * classCount + c]];
      let b = index.get(key);
      if (b === undefined) {
        b = index.size;
        index.set(key, b);
      }
      refined[s] = b;
    }
    const stable = index.size === blocks;
    block = refined;
    blocks = index.size;
    if (stable) break;
  }
  // Renumber so that the start state's block is 0.
  const order = new Int32Array(blocks).fill(-1);
  let count = 0;
  order[block[0]] = count++;
  for (let s = 0; s < n; s++) if (order[block[s]] === -1) order[block[s]] = count++;
  const minNext = new Int32Array(blocks * classCount);
  const minAccepting = new Uint8Array(blocks);
  for (let s = 0; s < n; s++) {
    const b = order[block[s]];
    minAccepting[b] = accepting[s];
    for (let c = 0; c < classCount; c++) minNext[b * classCount + c] = order[block[next[s * classCount + c]]];
  }
  return withDistinct(minNext, minAccepting, classCount);
}

/** Adds, per state, the classes whose successor differs from the "other" class's, and whether it is dead. */
function withDistinct(next: Int32Array, accepting: Uint8Array, classCount: number): GlobDfa {
  const n = accepting.length;
  const distinct: number[][] = [];
  for (let b = 0; b < n; b++) {
    const otherNext = next[b * classCount + classCount - 1];
    const out: number[] = [];
    for (let c = 0; c < classCount - 1; c++) if (next[b * classCount + c] !== otherNext) out.push(c);
    distinct.push(out);
  }
  // Live states reach an accepting one: search backwards from the accepting states.
  const predecessors: number[][] = Array.from({ length: n }, () => []);
  for (let b = 0; b < n; b++) for (let c = 0; c < classCount; c++) predecessors[next[b * classCount + c]].push(b);
  const dead = new Uint8Array(n).fill(1);
  const stack: number[] = [];
  for (let b = 0; b < n; b++) if (accepting[b] === 1) {
    dead[b] = 0;
    stack.push(b);
  }
  while (stack.length > 0) {
    const b = stack.pop()!;
    for (const p of predecessors[b]) if (dead[p] === 1) {
      dead[p] = 0;
      stack.push(p);
    }
  }
  return { next, accepting, distinct, dead };
}
