// parse.ts reads a long file a piece at a time when nothing in it is wrong, and the whole file
// otherwise. Either way the result must be exactly what reading the whole file gives.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseInPieces, parseSource, PIECE_CHARS } from '../../src/compiler/parse.js';
import { arbPolicy, Prng } from '../support/generators.js';

const FILE = 'p.sgxpol';
const whole = (text: string) => parseSource(text, FILE, Infinity);

const A = 'a'.repeat(64);

/** Valid statements whose strings and comments hold `;`, `#` and quotes, some over several lines. */
const TRICKY = [
  'policy "a;b # c" version 1; # trailing; comment "x',
  'default deny audit;',
  `signer s1 = "${A}", # ; "\n  "${A.toUpperCase()}";`,
  'subject c1 = exe "/bin/a;b" or label "#x;\\"y" and not (uid 1..2 or gid 0x10);',
  '# only a comment; allow * einit *;',
  'allow c1 einit via kvm\n  signer s1\n  where isvsvn >= 2 and (debug or not isvprodid in 1..3)\n  because "why; # not";',
  'deny {c1} einit {signer s1, enclave "' + A + '"};',
  'neverallow * einit * where exe "/x" and true;',
  'allow * einit *;allow * einit *; deny * einit * because ";";',
  'subject c2 = holds "/dev/kvm" and uid 5 ;',
  'allow c2 einit enclave "' + A + '" where label "a#b";',
];

function trickyPolicy(seed: number, statements: number): string {
  const prng = new Prng(seed);
  const breaks = ['\n', '\r\n', '\n\n', '\r', '\n# comment ; "\n', ' '];
  let text = '';
  for (let i = 0; i < statements; i++) {
    const statement = TRICKY[i % TRICKY.length];
    const next = prng.pick(breaks);
    // A statement that ends in a comment needs a line break before the next one.
    text += statement + (next === ' ' && statement.includes('# ') ? '\n' : next);
  }
  return text;
}

/** Breaks a text here and there: the kinds of mistakes that make the whole-file path report. */
function damage(text: string, seed: number): string {
  const prng = new Prng(seed);
  const edits = ['', ';', '#', '"', '(', ')', '@', 'not ', '\n', '\r', '{', '0x', ' allow', '\uFEFF', 'é'];
  let out = text;
  for (let n = 1 + prng.int(3); n > 0; n--) {
    const at = prng.int(out.length + 1);
    const cut = prng.chance(0.4) ? 1 + prng.int(4) : 0;
    out = out.slice(0, at) + prng.pick(edits) + out.slice(at + cut);
  }
  return out;
}

describe('reading a long file in pieces', () => {
  it('gives the same statements, comments and diagnostics as the whole file, whatever the piece size', () => {
    fc.assert(
      fc.property(arbPolicy({ large: true, neverallow: true }), fc.integer({ min: 1, max: 400 }), (policy, pieceChars) => {
        for (const { text } of policy.files) {
          const pieces = parseInPieces(text, FILE, pieceChars);
          expect(pieces).toBeDefined();
          expect(pieces).toEqual(whole(text));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('cuts nothing apart: strings and comments holding `;` and `#`, statements over several lines, CRLF and CR line ends', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const text = trickyPolicy(seed, 5 + seed * 3);
      for (const pieceChars of [1, 2, 7, 30, 64, 200, 10_000]) {
        const pieces = parseInPieces(text, FILE, pieceChars);
        expect(pieces, `seed ${seed}, pieces of ${pieceChars}`).toBeDefined();
        expect(pieces).toEqual(whole(text));
      }
    }
  });

  it('keeps value diagnostics and warnings (they belong to one statement), in the same order', () => {
    const text = `subject c = exe "rel" and uid 9..3;\nallow c einit signer "xyz";\nsigner s = "${A}", "0x12";\nallow * einit * where isvsvn > 70000;\n`;
    const pieces = parseInPieces(text, FILE, 5);
    expect(pieces).toBeDefined();
    expect(pieces!.diagnostics.length).toBeGreaterThan(3);
    expect(pieces).toEqual(whole(text));
  });

  it('leaves a file with a lexical or syntax error to the whole-file path, which reports exactly as before', () => {
    const cases = [
      'allow * einit *;\nallow * einit',
      'allow * einit *;\nallow * einit * because "open;\nallow * einit *;',
      'allow * einit *;\n@@\nallow * einit *;',
      'allow * einit *;\nallow * einit * where isvsvn >= 1x;\n',
      'allow * einit *;\nallow * einit * where ' + '('.repeat(300) + 'true' + ')'.repeat(300) + ';\nallow * einit *;',
      'allow * einit *\nallow * einit *;',
      'allow * einit *; ;\nfoo bar;\n',
      'allow * einit *;\n\uFEFFallow * einit *;',
    ];
    for (const text of cases) {
      expect(parseInPieces(text, FILE, 3), text).toBeUndefined();
      expect(parseSource(text, FILE, 3)).toEqual(whole(text));
    }
  });

  it('gives the same result for damaged policies, pieces or not', () => {
    for (let seed = 1; seed <= 150; seed++) {
      const text = damage(trickyPolicy(seed, 12), seed);
      for (const pieceChars of [1, 17, 90]) expect(parseSource(text, FILE, pieceChars), `seed ${seed}`).toEqual(whole(text));
    }
    fc.assert(
      fc.property(arbPolicy({ large: true }), fc.integer(), fc.integer({ min: 1, max: 300 }), (policy, seed, pieceChars) => {
        const text = damage(policy.source, seed);
        expect(parseSource(text, FILE, pieceChars)).toEqual(whole(text));
      }),
      { numRuns: 60 },
    );
  });

  it('is used by default for files longer than PIECE_CHARS, with the same result', () => {
    const text = trickyPolicy(7, Math.ceil((2 * PIECE_CHARS) / 40));
    expect(text.length).toBeGreaterThan(PIECE_CHARS);
    expect(parseSource(text, FILE)).toEqual(whole(text));
    const broken = `${text}allow * einit * where;\n${text}`;
    const result = parseSource(broken, FILE);
    expect(result).toEqual(whole(broken));
    expect(result.diagnostics.map((d) => d.code)).toContain('E001');
  });
});
