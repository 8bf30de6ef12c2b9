// The reference glob matcher (SPEC 3.4), for tests, the compiler's witness checks and
// `eval --explain`. Obvious over fast: it reads the pattern text directly and fills the table
// of "pattern from position pi matches subject from position si" for every pair, last
// positions first, so that each entry needs only entries already filled. No recursion: a
// 4096-character glob against a 4096-character subject is one loop over their 16.8 million
// pairs, never a deep call stack. A character is a code point: both strings are read as the
// arrays of characters their iterators yield (a surrogate pair is one element).
import type { GlobMode } from '../runtime/glob.js';

export function referenceGlobMatch(patternText: string, mode: GlobMode, subjectText: string): boolean {
  const pattern = Array.from(patternText);
  const subject = Array.from(subjectText);
  const p = pattern.length;
  const n = subject.length;
  const width = n + 1;
  // matches[pi * width + si] === 1: pattern[pi..] matches subject[si..] exactly.
  const matches = new Uint8Array((p + 1) * width);
  const at = (pi: number, si: number): boolean => matches[pi * width + si] === 1;
  matches[p * width + n] = 1; // the empty pattern matches only the empty rest

  for (let pi = p - 1; pi >= 0; pi--) {
    const ch = pattern[pi];
    // Where the token starting at pi ends, and what it is. (Positions inside a star run or
    // after a backslash get an entry too; only token starts are ever read.)
    let end = pi + 1;
    let kind: 'run' | 'one' | 'literal' = 'literal';
    let literal = ch;
    if (ch === '*') {
      while (end < p && pattern[end] === '*') end++;
      kind = 'run';
    } else if (ch === '?') {
      kind = 'one';
    } else if (ch === '\\') {
      const next = pattern[pi + 1]; // undefined past the end
      if (next === '*' || next === '?' || next === '\\') {
        literal = next;
        end = pi + 2;
      }
    }
    const crossesSlash = mode === 'label' || end - pi >= 2;
    for (let si = n; si >= 0; si--) {
      let ok: boolean;
      if (kind === 'run') {
        // The run takes nothing, or takes subject[si] and goes on from si + 1.
        ok = at(end, si) || (si < n && (crossesSlash || subject[si] !== '/') && at(pi, si + 1));
      } else if (kind === 'one') {
        ok = si < n && !(mode === 'exe' && subject[si] === '/') && at(end, si + 1);
      } else {
        ok = si < n && subject[si] === literal && at(end, si + 1);
      }
      if (ok) matches[pi * width + si] = 1;
    }
  }
  return at(0, 0);
}
