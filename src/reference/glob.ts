// The reference glob matcher (SPEC 3.4), for tests only. Obvious over fast: it reads the pattern
// text directly and tries every way a star can end, remembering (pattern position, subject
// position) pairs already answered so the search stays polynomial. Recursion depth is at most
// the number of pattern characters. A character is a code point: both strings are read as the
// arrays of characters their iterators yield (a surrogate pair is one element).
import type { GlobMode } from '../runtime/glob.js';

export function referenceGlobMatch(patternText: string, mode: GlobMode, subjectText: string): boolean {
  const pattern = Array.from(patternText);
  const subject = Array.from(subjectText);
  const p = pattern.length;
  const n = subject.length;
  // memo[pi * (n + 1) + si]: 0 unknown, 1 match, 2 no match
  const memo = new Uint8Array((p + 1) * (n + 1));

  const matchFrom = (pi: number, si: number): boolean => {
    const key = pi * (n + 1) + si;
    if (memo[key] !== 0) return memo[key] === 1;
    const result = step(pi, si);
    memo[key] = result ? 1 : 2;
    return result;
  };

  const step = (pi: number, si: number): boolean => {
    if (pi === p) return si === n;
    const ch = pattern[pi];

    if (ch === '*') {
      let end = pi;
      while (end < p && pattern[end] === '*') end++;
      const stars = end - pi;
      const crossesSlash = mode === 'label' || stars >= 2;
      // The star run takes subject[si..j) for some j; try each.
      for (let j = si; ; j++) {
        if (matchFrom(end, j)) return true;
        if (j === n) return false;
        if (!crossesSlash && subject[j] === '/') return false;
      }
    }

    if (ch === '?') {
      if (si === n) return false;
      if (mode === 'exe' && subject[si] === '/') return false;
      return matchFrom(pi + 1, si + 1);
    }

    let literal = ch;
    let width = 1;
    if (ch === '\\') {
      const next = pattern[pi + 1]; // undefined past the end
      if (next === '*' || next === '?' || next === '\\') {
        literal = next;
        width = 2;
      }
    }
    if (si === n || subject[si] !== literal) return false;
    return matchFrom(pi + width, si + 1);
  };

  return matchFrom(0, 0);
}
