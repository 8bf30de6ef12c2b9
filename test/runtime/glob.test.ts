// SPEC 3.4: globs for exe and label, matched in linear time.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { referenceGlobMatch } from '../../src/reference/glob.js';
import { compileGlob, globLiteralValue, isGlobLiteral, type GlobMode } from '../../src/runtime/glob.js';

const exe = (pattern: string, subject: string) => compileGlob(pattern, 'exe').matches(subject);
const label = (pattern: string, subject: string) => compileGlob(pattern, 'label').matches(subject);

/** Checks one case against both matchers, so every example also tests the reference. */
function expectMatch(mode: GlobMode, pattern: string, subject: string, expected: boolean): void {
  const what = `${mode} ${JSON.stringify(pattern)} ~ ${JSON.stringify(subject)}`;
  expect(compileGlob(pattern, mode).matches(subject), what).toBe(expected);
  expect(referenceGlobMatch(pattern, mode, subject), `reference: ${what}`).toBe(expected);
}

describe('SPEC 3.4: the examples', () => {
  it('/usr/bin/* matches /usr/bin/qemu but not /usr/bin/x/qemu', () => {
    expectMatch('exe', '/usr/bin/*', '/usr/bin/qemu', true);
    expectMatch('exe', '/usr/bin/*', '/usr/bin/x/qemu', false);
  });

  it('/opt/**/run matches /opt/a/run and /opt/a/b/run but not /opt/run', () => {
    expectMatch('exe', '/opt/**/run', '/opt/a/run', true);
    expectMatch('exe', '/opt/**/run', '/opt/a/b/run', true);
    expectMatch('exe', '/opt/**/run', '/opt/run', false);
  });
});

describe('SPEC 3.4: exe globs', () => {
  it('the whole path must match', () => {
    expectMatch('exe', '/usr/bin/qemu', '/usr/bin/qemu', true);
    expectMatch('exe', '/usr/bin/qemu', '/usr/bin/qemu-x', false);
    expectMatch('exe', '/usr/bin/qemu', 'x/usr/bin/qemu', false);
    expectMatch('exe', '/usr/bin/q', '/usr/bin/qemu', false);
    expectMatch('exe', '', '', true);
    expectMatch('exe', '', '/', false);
  });

  it('* is any run without /, possibly empty', () => {
    expectMatch('exe', '/usr/bin/*', '/usr/bin/', true);
    expectMatch('exe', '/usr/*/qemu', '/usr/bin/qemu', true);
    expectMatch('exe', '/usr/*/qemu', '/usr/bin/x/qemu', false);
    expectMatch('exe', '/usr/bin/qemu-*', '/usr/bin/qemu-system-x86_64', true);
    expectMatch('exe', '*', '/', false);
    expectMatch('exe', '/*', '/anything', true);
    expectMatch('exe', '/*x*y', '/axbxcy', true);
    expectMatch('exe', '/*x*y', '/axbxc/y', false);
  });

  it('** is any run including /, possibly empty', () => {
    expectMatch('exe', '/opt/**', '/opt/', true);
    expectMatch('exe', '/opt/**', '/opt/a/b/c', true);
    expectMatch('exe', '/opt/**', '/op', false);
    expectMatch('exe', '**', '', true);
    expectMatch('exe', '**', '/any/thing', true);
    expectMatch('exe', '/a**b', '/a/x/y/b', true);
    expectMatch('exe', '**/qemu', '/usr/bin/qemu', true);
    expectMatch('exe', '**/qemu', '/usr/bin/xqemu', false);
    expectMatch('exe', '/opt/**/run/**/x', '/opt/1/run/2/run/3/x', true);
  });

  it('a run of three or more stars means the same as **', () => {
    for (const stars of ['***', '****', '*****']) {
      expectMatch('exe', `/opt/${stars}/run`, '/opt/a/b/run', true);
      expectMatch('exe', `/opt/${stars}`, '/opt/a/b', true);
      expectMatch('exe', `/opt/${stars}/run`, '/opt/run', false);
    }
  });

  it('? is one character other than /', () => {
    expectMatch('exe', '/bin/?', '/bin/a', true);
    expectMatch('exe', '/bin/?', '/bin/', false);
    expectMatch('exe', '/bin/?', '/bin/ab', false);
    expectMatch('exe', '/bin?a', '/bin/a', false);
    expectMatch('exe', '/bin/??', '/bin/ab', true);
  });

  it('\\*, \\? and \\\\ are literal', () => {
    expectMatch('exe', '/bin/\\*', '/bin/*', true);
    expectMatch('exe', '/bin/\\*', '/bin/a', false);
    expectMatch('exe', '/bin/\\?', '/bin/?', true);
    expectMatch('exe', '/bin/\\?', '/bin/a', false);
    expectMatch('exe', '/bin/\\\\', '/bin/\\', true);
    expectMatch('exe', '/bin/\\\\*', '/bin/\\abc', true); // `\\` then a real star
    expectMatch('exe', '/bin/\\**', '/bin/*abc', true); // `\*` then a real star
    expectMatch('exe', '/bin/\\**', '/bin/abc', false);
    expectMatch('exe', '/bin/*\\*', '/bin/ab*', true); // a real star, then `\*`: not a `**` run
    expectMatch('exe', '/bin/*\\*', '/bin/a/b*', false);
  });

  it('a backslash before any other character, or at the end, is itself literal', () => {
    expectMatch('exe', '/bin/\\a', '/bin/\\a', true);
    expectMatch('exe', '/bin/\\a', '/bin/a', false);
    expectMatch('exe', '/bin/\\/x', '/bin/\\/x', true);
    expectMatch('exe', '/bin/x\\', '/bin/x\\', true);
    expectMatch('exe', '/bin/x\\', '/bin/x', false);
    expectMatch('exe', '\\', '\\', true);
    expectMatch('exe', '/bin/\\a*', '/bin/\\abc', true);
  });

  it('a character is a code point: `?` takes a whole character outside the BMP', () => {
    expectMatch('exe', '/bin/?', '/bin/é', true);
    expectMatch('exe', '/bin/?', '/bin/😀', true); // one character, two UTF-16 units
    expectMatch('exe', '/bin/??', '/bin/😀', false);
    expectMatch('exe', '/bin/??', '/bin/😀😀', true);
    expectMatch('exe', '/bin/?x', '/bin/😀x', true);
    expectMatch('label', '?:?', '😀:🐧', true);
    expectMatch('label', '???', '😀:🐧', true);
    expectMatch('label', '????', '😀:🐧', false);
    expectMatch('exe', '/bin/😀*', '/bin/😀x', true);
    expectMatch('exe', '/bin/*😀', '/bin/x😀', true);
    expectMatch('exe', '/bin/**?', '/bin/a/😀', true);
    expectMatch('exe', '/bin/é', '/bin/é', true);
  });

  it('a lone surrogate is one character, and never half of a pair', () => {
    // A subject may carry one (a JS string, or a JSON `\ud800` escape).
    expectMatch('exe', '/bin/?', '/bin/\ud800', true);
    expectMatch('exe', '/bin/?', '/bin/\udc00', true);
    expectMatch('exe', '/bin/??', '/bin/\udc00\ud800', true); // low then high: two lone ones
    expectMatch('exe', '/bin/?', '/bin/\udc00\ud800', false);
    // A pattern (from a hand-made table, or the API) may carry one too: it is a literal that
    // matches only the lone surrogate, not the same unit inside a pair. The fast path's shapes
    // (LIT**, **LIT, LIT*) are the ones this could trip.
    expectMatch('label', '\ud83d*', '\ud83dx', true);
    expectMatch('label', '\ud83d*', '😀', false);
    expectMatch('label', '*\ude00', 'x\ude00', true);
    expectMatch('label', '*\ude00', '😀', false);
    expectMatch('exe', '/\ud83d*', '/😀', false);
    expectMatch('exe', '/\ud83d**', '/😀/a', false);
    expectMatch('exe', '/\ud83d', '/\ud83d', true);
  });
});

describe('SPEC 3.4: label globs', () => {
  it('* and ? match / too, and ** is the same as *', () => {
    expectMatch('label', 'system_u:system_r:svirt_t:*', 'system_u:system_r:svirt_t:s0:c1,c2', true);
    expectMatch('label', 'a*b', 'a/x/b', true);
    expectMatch('label', 'a?b', 'a/b', true);
    expectMatch('label', 'a**b', 'a/x/b', true);
    expectMatch('label', '*', '', true);
    expectMatch('label', 'a*', 'b', false);
  });

  it('the whole label must match, and escapes work as in exe globs', () => {
    expectMatch('label', 'system_u:system_r:svirt_t:s0', 'system_u:system_r:svirt_t:s0:c1', false);
    expectMatch('label', 'x\\*', 'x*', true);
    expectMatch('label', 'x\\*', 'xy', false);
    expectMatch('label', 'x\\?', 'x?', true);
    expectMatch('label', 'x\\', 'x\\', true);
  });
});

describe('literal globs', () => {
  it('isGlobLiteral is true exactly when nothing is a wildcard', () => {
    expect(isGlobLiteral('/usr/bin/qemu', 'exe')).toBe(true);
    expect(isGlobLiteral('/usr/bin/a\\*b\\?\\\\c\\d\\', 'exe')).toBe(true);
    expect(isGlobLiteral('/usr/bin/*', 'exe')).toBe(false);
    expect(isGlobLiteral('/usr/bin/?', 'label')).toBe(false);
    expect(isGlobLiteral('/usr/bin/\\\\*', 'exe')).toBe(false);
    expect(isGlobLiteral('', 'exe')).toBe(true);
  });

  it('globLiteralValue removes the escapes', () => {
    expect(globLiteralValue('/usr/bin/qemu')).toBe('/usr/bin/qemu');
    expect(globLiteralValue('/a\\*b\\?\\\\c\\d\\')).toBe('/a*b?\\c\\d\\');
    expect(() => globLiteralValue('/a*')).toThrow(RangeError);
  });

  it('a literal glob matches exactly its value', () => {
    fc.assert(
      fc.property(patternArbitrary, fc.constantFrom<GlobMode>('exe', 'label'), (pattern, mode) => {
        if (!isGlobLiteral(pattern, mode)) return;
        const value = globLiteralValue(pattern);
        expect(compileGlob(pattern, mode).matches(value)).toBe(true);
        expect(referenceGlobMatch(pattern, mode, value)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

// Patterns and subjects from a small alphabet, so that matches are frequent and every
// metacharacter and escape meets every other.
const patternArbitrary = fc
  .array(fc.constantFrom('a', 'b', '/', '*', '**', '***', '?', '\\', '\\*', '\\?', '\\\\', 'é', '😀', '\ud83d', '\ude00'), { maxLength: 12 })
  .map((parts) => parts.join(''));
const subjectArbitrary = fc
  .array(fc.constantFrom('a', 'b', '/', '\\', '*', '?', 'é', '😀', '\ud83d', '\ude00'), { maxLength: 14 })
  .map((parts) => parts.join(''));

describe('SPEC 3.4: compileGlob agrees with the reference matcher', () => {
  for (const mode of ['exe', 'label'] as const) {
    it(`random ${mode} globs and subjects`, () => {
      fc.assert(
        fc.property(patternArbitrary, fc.array(subjectArbitrary, { minLength: 1, maxLength: 8 }), (pattern, subjects) => {
          const matcher = compileGlob(pattern, mode);
          for (const subject of subjects) {
            expect(matcher.matches(subject), `${JSON.stringify(pattern)} ~ ${JSON.stringify(subject)}`).toBe(
              referenceGlobMatch(pattern, mode, subject),
            );
          }
        }),
        { numRuns: 5000 },
      );
    });

    it(`random ${mode} globs against subjects built to match them`, () => {
      // Subjects derived from the pattern (wildcards replaced by random text) hit the
      // matching side far more often than independent random subjects.
      fc.assert(
        fc.property(
          patternArbitrary,
          fc.array(fc.constantFrom('', 'a', 'b', '/', 'ab', 'a/b', '*'), { minLength: 12, maxLength: 12 }),
          (pattern, fills) => {
            let k = 0;
            const subject = pattern.replace(/\\[*?\\]|\*+|\?/g, (m) => (m.startsWith('\\') ? m.slice(1) : fills[k++ % fills.length]));
            expect(compileGlob(pattern, mode).matches(subject)).toBe(referenceGlobMatch(pattern, mode, subject));
          },
        ),
        { numRuns: 5000 },
      );
    });
  }

  it('long globs (several state words) agree with the reference', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', '/', '*', '**', '?', '😀', '\ud83d'), { minLength: 30, maxLength: 90 }),
        fc.array(fc.constantFrom('a', 'b', '/', '😀', '\ud83d', '\ude00'), { minLength: 30, maxLength: 120 }),
        fc.constantFrom<GlobMode>('exe', 'label'),
        (patternParts, subjectParts, mode) => {
          const pattern = patternParts.join('');
          const subject = subjectParts.join('');
          expect(compileGlob(pattern, mode).matches(subject)).toBe(referenceGlobMatch(pattern, mode, subject));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('long globs agree with the reference on subjects that nearly match', () => {
    const parts = ['/opt/', '**', '/x', '*', 'y/', '?', '😀', '**', '/run/', '*', '.so'];
    const pattern = parts.join('').repeat(4); // 4 × 11 tokens' worth, > 32 states
    const subject = '/opt/a/b/xqqy/😀😀/c/run/lib.so'.repeat(4); // `?` takes one 😀 whole
    for (const mode of ['exe', 'label'] as const) {
      for (let cut = 0; cut <= subject.length; cut += 7) {
        const s = subject.slice(0, cut) + subject.slice(cut + 1);
        expect(compileGlob(pattern, mode).matches(s)).toBe(referenceGlobMatch(pattern, mode, s));
      }
      expect(compileGlob(pattern, mode).matches(subject)).toBe(true);
    }
  });
});

describe('SPEC 3.4: matching is linear in the subject (no backtracking)', () => {
  // Prints the median time of one match, after a warm-up. Printed, never asserted: wall-clock
  // time depends on the machine; the assertions are about the answers.
  const time = (label: string, run: () => boolean): boolean => {
    let result = run();
    for (let i = 0; i < 20; i++) run();
    const samples: number[] = [];
    for (let i = 0; i < 31; i++) {
      const start = process.hrtime.bigint();
      result = run();
      samples.push(Number(process.hrtime.bigint() - start) / 1000);
    }
    samples.sort((x, y) => x - y);
    console.log(`glob timing: ${label}: ${samples[15].toFixed(1)} µs (median)`);
    return result;
  };

  const longExe = '/' + 'a/'.repeat(2047) + 'b'; // 4,096 characters
  it('a 4,096-character exe against a glob with a dozen **', () => {
    expect(longExe.length).toBe(4096);
    const pattern = '/' + '**a'.repeat(12) + '**c'; // needs a final "c": never matches
    const matcher = compileGlob(pattern, 'exe');
    expect(time('12 × ** vs 4,096 chars (no match)', () => matcher.matches(longExe))).toBe(false);
    const matching = compileGlob('/' + '**a'.repeat(12) + '**b', 'exe');
    expect(time('12 × ** vs 4,096 chars (match)', () => matching.matches(longExe))).toBe(true);
  });

  it('a 4,096-character subject against *a*a*a*…', () => {
    const subject = 'a'.repeat(4095) + 'b';
    const pattern = '*a'.repeat(40) + '*c'; // 82 tokens: several state words
    for (const mode of ['exe', 'label'] as const) {
      const matcher = compileGlob(pattern, mode);
      expect(time(`${mode} (*a)×40*c vs a…ab (no match)`, () => matcher.matches(subject))).toBe(false);
      const matching = compileGlob('*a'.repeat(40) + '*b', mode);
      expect(time(`${mode} (*a)×40*b vs a…ab (match)`, () => matching.matches(subject))).toBe(true);
    }
    const short = compileGlob('*a'.repeat(15) + '*c', 'exe'); // one state word
    expect(time('exe (*a)×15*c vs a…ab (no match)', () => short.matches(subject))).toBe(false);
  });

  it('a 4,096-character glob of ** against a 4,096-character exe', () => {
    const pattern = '/' + '**/'.repeat(1364) + 'c'; // 4,094 characters, 2,730 tokens
    expect(pattern.length).toBe(4094);
    const matcher = compileGlob(pattern, 'exe');
    expect(time('1,364 × **/ then c vs 4,096 chars (no match)', () => matcher.matches(longExe))).toBe(false);
    const matching = compileGlob('/' + '**/'.repeat(1364) + 'b', 'exe');
    expect(time('1,364 × **/ then b vs 4,096 chars (match)', () => matching.matches(longExe))).toBe(true);
    const tooMany = compileGlob('/' + '*/'.repeat(2048) + 'b', 'exe'); // one more segment than there is
    expect(time('2,048 × */ vs 4,096 chars (no match)', () => tooMany.matches(longExe))).toBe(false);
    expect(compileGlob('/' + '*/'.repeat(2047) + 'b', 'exe').matches(longExe)).toBe(true);
  });

  it('the reference agrees on shorter versions of the pathological cases', () => {
    const subject = 'a'.repeat(300) + 'b';
    for (const pattern of ['*a'.repeat(20) + '*c', '*a'.repeat(20) + '*b', '**a'.repeat(12) + '**b']) {
      for (const mode of ['exe', 'label'] as const) {
        expect(compileGlob(pattern, mode).matches(subject)).toBe(referenceGlobMatch(pattern, mode, subject));
      }
    }
  });
});
