// Globs for `exe` and `label` predicates (SPEC 3.4), matched in time linear in the subject.
//
// Syntax, in both modes:
//   `\*`, `\?`, `\\`  a literal `*`, `?`, `\`;
//   `\` before any other character, or at the very end, is itself a literal `\`
//     (the next character is then read normally, so `\a` matches the two characters `\a`);
//   anything else that is not `*` or `?` is a literal.
// exe mode:   `*` = any run of characters except `/`; `**` = any run of characters;
//             `?` = one character except `/`. A run of three or more stars is the same as `**`.
// label mode: `*`, `**` (any run of stars) = any run of characters; `?` = one character.
// The whole subject must match. "Character" means one Unicode code point (text.ts): a character
// outside the BMP is one character to `?`, as it is to the length limits.
//
// How: the glob compiles to a token list, and a subject is run through the token list's NFA as a
// bitset of states (shift-and, one bit per token boundary), so the cost is O(n * ceil(m / 32))
// for n subject characters and m tokens, with no backtracking. Common shapes (a literal, a
// literal prefix and/or suffix around one "any run") take a string-compare fast path.

import { hasLoneSurrogate } from './text.js';

export type GlobMode = 'exe' | 'label';

export interface GlobMatcher {
  readonly pattern: string;
  readonly mode: GlobMode;
  matches(subject: string): boolean;
}

/** Kinds of glob token (the compiler's analysis builds automata from the same tokens). */
export const Tok = {
  /** One literal character. */
  Literal: 0,
  /** One character other than `/` (exe `?`). */
  OneNoSlash: 1,
  /** One character (label `?`). */
  One: 2,
  /** Any run of characters without `/` (exe `*`). */
  RunNoSlash: 3,
  /** Any run of characters (exe `**`, label `*`). */
  Run: 4,
} as const;
export type Tok = (typeof Tok)[keyof typeof Tok];

const SLASH = 0x2f;
const BACKSLASH = 0x5c;
const STAR = 0x2a;
const QUESTION = 0x3f;

/** Parallel arrays: kind of each token, and its code point for literals (else -1). */
export interface GlobTokens {
  kinds: Tok[];
  points: number[];
}

/** A glob's tokens (SPEC 3.4 syntax): escapes resolved, each run of stars one token. */
export function tokenizeGlob(pattern: string, mode: GlobMode): GlobTokens {
  const kinds: Tok[] = [];
  const points: number[] = [];
  const n = pattern.length;
  let i = 0;
  while (i < n) {
    const c = pattern.codePointAt(i)!;
    if (c === BACKSLASH) {
      const next = i + 1 < n ? pattern.charCodeAt(i + 1) : -1;
      if (next === STAR || next === QUESTION || next === BACKSLASH) {
        kinds.push(Tok.Literal);
        points.push(next);
        i += 2;
      } else {
        kinds.push(Tok.Literal);
        points.push(BACKSLASH);
        i += 1;
      }
    } else if (c === STAR) {
      let j = i + 1;
      while (j < n && pattern.charCodeAt(j) === STAR) j++;
      const run = mode === 'exe' && j - i === 1 ? Tok.RunNoSlash : Tok.Run;
      // A star run is always followed by a non-star token or the end, so two run tokens are
      // never adjacent; the NFA's one-step epsilon closure below relies on that.
      kinds.push(run);
      points.push(-1);
      i = j;
    } else if (c === QUESTION) {
      kinds.push(mode === 'exe' ? Tok.OneNoSlash : Tok.One);
      points.push(-1);
      i += 1;
    } else {
      kinds.push(Tok.Literal);
      points.push(c);
      i += c > 0xffff ? 2 : 1;
    }
  }
  return { kinds, points };
}

function literalOf(tokens: GlobTokens, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += String.fromCodePoint(tokens.points[i]);
  return s;
}

/** True when the glob has no wildcard, only literal characters (escaped or not). */
export function isGlobLiteral(pattern: string, mode: GlobMode): boolean {
  const { kinds } = tokenizeGlob(pattern, mode);
  for (const k of kinds) if (k !== Tok.Literal) return false;
  return true;
}

/**
 * The string a literal glob matches, with its escapes removed (`/a\*b` → `/a*b`). The wildcard
 * characters are the same in both modes, so no mode is needed. Precondition: the glob is literal
 * (`isGlobLiteral`); calling it on a glob with wildcards is a bug and throws.
 */
export function globLiteralValue(pattern: string): string {
  const tokens = tokenizeGlob(pattern, 'exe');
  for (const k of tokens.kinds) {
    if (k !== Tok.Literal) throw new RangeError(`glob ${JSON.stringify(pattern)} is not a literal`);
  }
  return literalOf(tokens, 0, tokens.kinds.length);
}

export function compileGlob(pattern: string, mode: GlobMode): GlobMatcher {
  const tokens = tokenizeGlob(pattern, mode);
  // A lone surrogate in the pattern could meet its other half in a subject, where the two are
  // one character and must not match it; only the general matcher reads characters as such.
  const matches = (hasLoneSurrogate(pattern) ? undefined : fastPath(tokens)) ?? nfaMatcher(tokens);
  return { pattern, mode, matches };
}

/**
 * Shapes whose meaning is a plain string comparison: LIT, LIT** , **LIT, LIT**LIT, LIT* (exe).
 * Returns undefined for anything else. Comparing UTF-16 units is comparing characters here: a
 * literal without lone surrogates begins and ends on whole characters, so where it matches in
 * a subject, the subject's characters there are the literal's.
 */
function fastPath(tokens: GlobTokens): ((subject: string) => boolean) | undefined {
  const { kinds } = tokens;
  const m = kinds.length;
  let wild = -1;
  for (let i = 0; i < m; i++) {
    if (kinds[i] === Tok.Literal) continue;
    if (wild !== -1) return undefined; // two wildcards: general path
    wild = i;
  }
  if (wild === -1) {
    const literal = literalOf(tokens, 0, m);
    return (subject) => subject === literal;
  }
  const prefix = literalOf(tokens, 0, wild);
  const suffix = literalOf(tokens, wild + 1, m);
  const kind = kinds[wild];
  if (kind === Tok.Run) {
    const minLength = prefix.length + suffix.length;
    return (subject) =>
      subject.length >= minLength && subject.startsWith(prefix) && subject.endsWith(suffix);
  }
  if (kind === Tok.RunNoSlash && suffix === '') {
    return (subject) => subject.startsWith(prefix) && subject.indexOf('/', prefix.length) === -1;
  }
  return undefined;
}

/**
 * The general matcher. States are token boundaries 0..m (bit i: tokens 0..i-1 have matched).
 * Per subject character c of class k:
 *   next = ((states & advance[k]) << 1) | (states & stay[c is '/']);  next |= (next & runs) << 1
 * where advance[k] marks the one-character tokens that accept c, stay[…] the run tokens that
 * accept c, and runs all run tokens (the second step: a run may match nothing).
 */
function nfaMatcher(tokens: GlobTokens): (subject: string) => boolean {
  const { kinds, points } = tokens;
  const m = kinds.length;

  // Character classes: 0 = any character that no literal names and that is not `/`;
  // 1 = `/`; then one class per distinct literal character (other than `/`).
  const asciiClass = new Int32Array(128);
  asciiClass[SLASH] = 1;
  const otherClass = new Map<number, number>();
  let classCount = 2;
  for (let i = 0; i < m; i++) {
    const u = points[i];
    if (kinds[i] !== Tok.Literal || u === SLASH) continue;
    if (u < 128) {
      if (asciiClass[u] === 0) asciiClass[u] = classCount++;
    } else if (!otherClass.has(u)) {
      otherClass.set(u, classCount++);
    }
  }

  const words = (m >>> 5) + 1; // bits 0..m
  const advance = new Int32Array(classCount * words);
  const stay = new Int32Array(2 * words); // run tokens care only whether the character is `/`
  const runs = new Int32Array(words);
  // `?` tokens accept every class (exe: but `/`); they are gathered into two masks and added to
  // every class's row at the end, so that building the table costs tokens + classes × words,
  // not tokens × classes (a 4096-character glob of distinct characters has 4096 classes).
  const anyMask = new Int32Array(words);
  const notSlashMask = new Int32Array(words);
  const classIndex = (u: number): number => (u === SLASH ? 1 : u < 128 ? asciiClass[u] : otherClass.get(u)!);
  for (let i = 0; i < m; i++) {
    const w = i >>> 5;
    const bit = 1 << (i & 31);
    const kind = kinds[i];
    if (kind === Tok.RunNoSlash || kind === Tok.Run) runs[w] |= bit;
    if (kind === Tok.Literal) advance[classIndex(points[i]) * words + w] |= bit;
    else if (kind === Tok.One) anyMask[w] |= bit;
    else if (kind === Tok.OneNoSlash) notSlashMask[w] |= bit;
    if (kind === Tok.RunNoSlash) stay[w] |= bit;
    if (kind === Tok.Run) {
      stay[w] |= bit;
      stay[words + w] |= bit;
    }
  }
  for (let k = 0; k < classCount; k++) {
    for (let w = 0; w < words; w++) advance[k * words + w] |= anyMask[w] | (k === 1 ? 0 : notSlashMask[w]);
  }
  const classOf = (c: number): number => (c < 128 ? asciiClass[c] : (otherClass.get(c) ?? 0));
  const finalWord = m >>> 5;
  const finalBit = 1 << (m & 31);

  // Minimum subject length: one character per one-character token (and a character is at least
  // one UTF-16 unit, so a subject with fewer units has fewer characters).
  let minLength = 0;
  for (const k of kinds) if (k !== Tok.Run && k !== Tok.RunNoSlash) minLength++;

  if (words === 1) {
    const runMask = runs[0];
    const start = 1 | ((1 & runMask) << 1);
    return (subject) => {
      const n = subject.length;
      if (n < minLength) return false;
      let states = start;
      for (let i = 0; i < n && states !== 0; i++) {
        const c = subject.codePointAt(i)!;
        if (c > 0xffff) i++;
        const k = classOf(c);
        let next = ((states & advance[k]) << 1) | (states & stay[k === 1 ? 1 : 0]);
        next |= (next & runMask) << 1;
        states = next;
      }
      return (states & finalBit) !== 0;
    };
  }

  if (words === 2) {
    // The same step as below, unrolled for globs of 32 to 63 tokens (most long globs).
    const run0 = runs[0];
    const run1 = runs[1];
    const start0 = 1 | ((1 & run0) << 1);
    return (subject) => {
      const n = subject.length;
      if (n < minLength) return false;
      let s0 = start0;
      let s1 = 0;
      for (let i = 0; i < n; i++) {
        const c = subject.codePointAt(i)!;
        if (c > 0xffff) i++;
        const k = classOf(c);
        const stayBase = k === 1 ? 2 : 0;
        const moved0 = s0 & advance[2 * k];
        const moved1 = s1 & advance[2 * k + 1];
        let v0 = (moved0 << 1) | (s0 & stay[stayBase]);
        let v1 = (moved1 << 1) | (moved0 >>> 31) | (s1 & stay[stayBase + 1]);
        const r0 = v0 & run0;
        v0 |= r0 << 1;
        v1 |= ((v1 & run1) << 1) | (r0 >>> 31);
        s0 = v0;
        s1 = v1;
        if ((s0 | s1) === 0) return false;
      }
      return ((finalWord === 0 ? s0 : s1) & finalBit) !== 0;
    };
  }

  // Two state vectors in one scratch buffer, reused: matching is synchronous and never
  // re-entered. `from` and `to` are the offsets of the current and the next vector.
  const scratch = new Int32Array(2 * words);
  return (subject) => {
    const n = subject.length;
    if (n < minLength) return false;
    const buffer = scratch;
    buffer.fill(0);
    buffer[0] = 1 | ((1 & runs[0]) << 1);
    let from = 0;
    let to = words;
    for (let i = 0; i < n; i++) {
      const c = subject.codePointAt(i)!;
      if (c > 0xffff) i++;
      const k = classOf(c);
      const base = k * words;
      const stayBase = k === 1 ? words : 0;
      let carry = 0; // the bit shifted out of the previous word by the character step
      let runCarry = 0; // the same for the epsilon step
      let any = 0;
      for (let w = 0; w < words; w++) {
        const s = buffer[from + w];
        const moved = s & advance[base + w];
        let v = (moved << 1) | carry | (s & stay[stayBase + w]);
        carry = moved >>> 31;
        const r = v & runs[w];
        v |= (r << 1) | runCarry;
        runCarry = r >>> 31;
        buffer[to + w] = v;
        any |= v;
      }
      if (any === 0) return false;
      to = from;
      from = words - to;
    }
    return (buffer[from + finalWord] & finalBit) !== 0;
  };
}
