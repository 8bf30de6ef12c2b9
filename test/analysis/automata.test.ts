// SPEC 3.4 globs as automata: the realisable combinations of glob matches (the regions of the
// exe and label dimensions) against brute force over all short strings, matched by the
// reference glob matcher.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { globRegions } from '../../src/compiler/analysis/automata.js';
import { referenceGlobMatch } from '../../src/reference/glob.js';
import { canonicalPathFlaw } from '../../src/runtime/request.js';
import { allStrings, canonicalPaths, EXE_GLOBS, EXE_REPRESENTATIVES, LABEL_GLOBS, LABEL_REPRESENTATIVES, representatives } from './small-policies.js';

const SEED = Number(process.env.SGXPOL_ANALYSIS_SEED ?? 0x5617_a4a1);
const RUNS = Number(process.env.SGXPOL_ANALYSIS_RUNS ?? 150);
const LIMITS = { maxStates: 200_000 };

function regionsOf(globs: string[], mode: 'exe' | 'label') {
  const outcome = globRegions(globs, mode, LIMITS);
  if (!outcome.ok) throw new Error(outcome.reason);
  return outcome.regions;
}

/** Every region's witness really has that region's matches (and, for exe, is a canonical path within 4096 characters). */
function expectWitnessesReal(globs: string[], mode: 'exe' | 'label'): Set<string> {
  const regions = regionsOf(globs, mode);
  const keys = new Set<string>();
  regions.vectors.forEach((vector, i) => {
    const witness = regions.witnesses[i];
    const matched = globs.map((g, j) => (referenceGlobMatch(g, mode, witness) ? j : -1)).filter((j) => j >= 0);
    expect(matched, `${mode} witness ${JSON.stringify(witness)} for ${JSON.stringify(globs)}`).toEqual([...vector]);
    if (mode === 'exe') expect(canonicalPathFlaw(witness), witness).toBeUndefined();
    expect(Array.from(witness).length).toBeLessThanOrEqual(4096);
    keys.add([...vector].join(','));
  });
  expect(keys.size, 'regions are distinct').toBe(regions.vectors.length);
  return keys;
}

describe('SPEC 3.4: which glob combinations a string can have', () => {
  it('the vocabulary of the brute-force tests: exactly the combinations short strings show', () => {
    expect(expectWitnessesReal(EXE_GLOBS, 'exe')).toEqual(new Set(EXE_REPRESENTATIVES.keys()));
    expect(expectWitnessesReal(LABEL_GLOBS, 'label')).toEqual(new Set(LABEL_REPRESENTATIVES.keys()));
  });

  const pieces = ['a', 'b', '/', '.', '*', '**', '?', '\\*', 'ab', '/a'];
  const arbGlob = (prefix: string) => fc.array(fc.constantFrom(...pieces), { minLength: 1, maxLength: 4 }).map((p) => prefix + p.join(''));
  const exeStrings = canonicalPaths('ab.x*', 6);
  const labelStrings = allStrings('ab/.x*', 4);

  it(`random exe globs: the combinations are exactly those of canonical paths up to 6 characters (${RUNS} sets)`, () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.oneof(arbGlob('/'), arbGlob('**')), { minLength: 1, maxLength: 4 }), (globs) => {
        const regions = regionsOf(globs, 'exe');
        const found = expectWitnessesReal(globs, 'exe');
        const brute = new Set(representatives(globs, 'exe', exeStrings).keys());
        // Brute force sees only short strings: it finds no combination the automata miss, and
        // misses only combinations whose shortest string is longer than it tries.
        for (const key of brute) expect(found, JSON.stringify(globs)).toContain(key);
        regions.vectors.forEach((v, i) => {
          if (regions.witnesses[i].length <= 6) expect(brute, JSON.stringify(globs)).toContain([...v].join(','));
        });
      }),
      { seed: SEED + 10, numRuns: RUNS },
    );
  });

  it(`random label globs: the same over all strings up to 4 characters (${RUNS} sets)`, () => {
    fc.assert(
      fc.property(fc.uniqueArray(arbGlob(''), { minLength: 1, maxLength: 4 }), (globs) => {
        const regions = regionsOf(globs, 'label');
        const found = expectWitnessesReal(globs, 'label');
        const brute = new Set(representatives(globs, 'label', labelStrings).keys());
        for (const key of brute) expect(found, JSON.stringify(globs)).toContain(key);
        regions.vectors.forEach((v, i) => {
          if (regions.witnesses[i].length <= 4) expect(brute, JSON.stringify(globs)).toContain([...v].join(','));
        });
      }),
      { seed: SEED + 11, numRuns: RUNS },
    );
  });

  it('respects the 4096-character limit: a combination that needs a longer string is not realisable', () => {
    const a = '/' + 'a'.repeat(2500) + '**';
    const b = '**' + 'b'.repeat(2500);
    const both = regionsOf([a, b], 'exe').vectors.map((v) => [...v].join(','));
    expect(both).toContain('0');
    expect(both).toContain('1');
    expect(both).not.toContain('0,1'); // would need 1 + 2500 + 2500 characters
    const fits = regionsOf(['/' + 'a'.repeat(2000) + '**', '**' + 'b'.repeat(2000)], 'exe').vectors.map((v) => [...v].join(','));
    expect(fits).toContain('0,1');
  });

  it('knows canonical paths: no `.` or `..` segment, no `//`, no trailing `/`', () => {
    const keys = (globs: string[]) => regionsOf(globs, 'exe').vectors.map((v) => [...v].join(','));
    expect(keys(['/a/?'])).toContain('0'); // "/a/x"
    expect(keys(['/.'])).not.toContain('0');
    expect(keys(['/..'])).not.toContain('0');
    expect(keys(['/a/'])).not.toContain('0');
    expect(keys(['/a//b'])).not.toContain('0');
    expect(keys(['/?', '/.'])).not.toContain('0,1');
    expect(keys(['**'])).toEqual(['0']); // every path: there is no region of paths it misses
    expect(keys(['/*', '/*/**'])).not.toContain(''); // together they cover every path
  });

  it('counts characters as code points: `?` takes a character outside the BMP whole', () => {
    const keys = (globs: string[], mode: 'exe' | 'label') => {
      expectWitnessesReal(globs, mode);
      return regionsOf(globs, mode).vectors.map((v) => [...v].join(','));
    };
    const exe = keys(['/a/?', '/a/😀', '/a/??'], 'exe');
    expect(exe).toContain('0,1'); // "/a/😀" is one character
    expect(exe).not.toContain('1,2');
    expect(exe).toContain('2');
    const label = keys(['😀*', '\ud83d*', '?'], 'label');
    expect(label).toContain('0,2'); // "😀"
    expect(label).toContain('1,2'); // a lone "\ud83d"
    expect(label).not.toContain('0,1'); // the lone surrogate is never half of the pair
    // 4096 characters outside the BMP are 8192 UTF-16 units, and still within the limit.
    const long = (glob: string) => regionsOf([glob], 'exe').vectors.map((v) => [...v].join(','));
    expect(long('/' + '😀'.repeat(4095))).toContain('0');
    expect(long('/' + '😀'.repeat(4096))).not.toContain('0');
  });
});
