import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SourceFile, Statement } from '../../src/compiler/ast.js';
import { tokenize } from '../../src/compiler/lexer.js';
import { MAX_NESTING, parseSource } from '../../src/compiler/parse.js';
import { arbPolicy } from '../support/generators.js';

const A = 'a'.repeat(64);
const B = 'B'.repeat(64);

const parse = (text: string) => parseSource(text, 'p.sgxpol');
const errors = (text: string) => parse(text).diagnostics.filter((d) => d.severity === 'error');
const messages = (text: string) => errors(text).map((d) => d.message);

/** No field of a kept statement is missing, null or NaN (only `via`, `where` and `because` are optional). */
function expectComplete(node: unknown, path = 'statement'): void {
  expect(node, path).not.toBeNull();
  expect(Number.isNaN(node), path).toBe(false);
  if (typeof node !== 'object' || node === null) return;
  for (const [key, value] of Object.entries(node)) {
    if (value === undefined && ['via', 'where', 'because'].includes(key)) continue;
    expect(value, `${path}.${key}`).not.toBeUndefined();
    expectComplete(value, `${path}.${key}`);
  }
}

/** Removes spans (and the file name inside them) so trees compare by shape. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (k !== 'span') out[k] = shape(v);
    return out;
  }
  return value;
}

function one(text: string): Statement {
  const r = parse(text);
  expect(r.diagnostics).toEqual([]);
  expect(r.file.statements).toHaveLength(1);
  return r.file.statements[0];
}

const int = (value: number, text = String(value)) => ({ value, text });
const str = (value: string) => ({ value });
const name = (text: string) => ({ text });

describe('SPEC 3.2 grammar', () => {
  it('parses an empty file and a file of comments', () => {
    expect(parse('')).toEqual({ file: { file: 'p.sgxpol', text: '', statements: [], comments: [] }, diagnostics: [] });
    expect(parse('# only\n# comments\n').file.comments.map((c) => c.text)).toEqual(['# only', '# comments']);
  });

  it('policy_decl', () => {
    expect(shape(one('policy "host" version 3;'))).toEqual({ kind: 'policy', name: str('host'), version: int(3) });
  });

  it('import_decl', () => {
    expect(shape(one('import "lib/common.sgxpol";'))).toEqual({ kind: 'import', path: str('lib/common.sgxpol') });
  });

  it('default_decl, with and without audit', () => {
    expect(shape(one('default deny;'))).toEqual({ kind: 'default', effect: 'deny', audit: false });
    expect(shape(one('default allow audit;'))).toEqual({ kind: 'default', effect: 'allow', audit: true });
  });

  it('signer_decl and enclave_decl: literals are lower-cased, IDENT items are references', () => {
    expect(shape(one(`signer intel = "${B}", other, "${A}";`))).toEqual({
      kind: 'set',
      setKind: 'signer',
      name: name('intel'),
      items: [{ kind: 'literal', value: 'b'.repeat(64) }, { kind: 'ref', name: name('other') }, { kind: 'literal', value: A }],
    });
    expect(shape(one(`enclave qe = "${A}";`))).toMatchObject({ kind: 'set', setKind: 'enclave', name: name('qe') });
  });

  it('subject_decl: or binds looser than and, not binds tightest', () => {
    const s = one('subject s = exe "/a" or not holds "/dev/kvm" and uid 5;');
    expect(shape(s)).toEqual({
      kind: 'subject',
      name: name('s'),
      expr: {
        kind: 'or',
        operands: [
          { kind: 'pred', pred: { kind: 'exe', glob: str('/a') } },
          {
            kind: 'and',
            operands: [
              { kind: 'not', operand: { kind: 'pred', pred: { kind: 'holds', path: str('/dev/kvm') } } },
              { kind: 'pred', pred: { kind: 'uid', lo: int(5), hi: int(5), range: false } },
            ],
          },
        ],
      },
    });
  });

  it('subj_atom: class references, parentheses, label, gid ranges', () => {
    const s = one('subject s = (other or label "system_u:*") and gid 100..0x200;');
    expect(shape(s)).toEqual({
      kind: 'subject',
      name: name('s'),
      expr: {
        kind: 'and',
        operands: [
          {
            kind: 'or',
            operands: [
              { kind: 'ref', name: name('other') },
              { kind: 'pred', pred: { kind: 'label', glob: str('system_u:*') } },
            ],
          },
          { kind: 'pred', pred: { kind: 'gid', lo: int(100), hi: int(512, '0x200'), range: true } },
        ],
      },
    });
  });

  it('and/or chains are flat, not nested', () => {
    const s = one('subject s = uid 1 and uid 2 and uid 3 or uid 4 or uid 5;');
    expect(s.kind === 'subject' && s.expr.kind === 'or' && s.expr.operands.length).toBe(3);
    expect(s.kind === 'subject' && s.expr.kind === 'or' && s.expr.operands[0].kind === 'and' && s.expr.operands[0].operands.length).toBe(3);
  });

  it('rule: the minimal form', () => {
    expect(shape(one('allow * einit *;'))).toEqual({
      kind: 'rule',
      effect: 'allow',
      audit: false,
      subjects: { kind: 'any' },
      via: undefined,
      objects: { kind: 'any' },
      where: undefined,
      because: undefined,
    });
  });

  it('rule: every part', () => {
    const r = one(`deny audit {a, b} einit via kvm {signer intel, enclave "${A}"} where isvsvn < 3 because "old \\"QE\\"";`);
    expect(shape(r)).toEqual({
      kind: 'rule',
      effect: 'deny',
      audit: true,
      subjects: { kind: 'list', names: [name('a'), name('b')], braced: true },
      via: { path: 'kvm' },
      objects: {
        kind: 'list',
        braced: true,
        items: [
          { objKind: 'signer', target: { kind: 'ref', name: name('intel') } },
          { objKind: 'enclave', target: { kind: 'literal', value: A } },
        ],
      },
      where: { kind: 'cmp', field: 'isvsvn', op: '<', value: int(3) },
      because: str('old "QE"'),
    });
  });

  it('rule: a bare IDENT subject and a bare object are one-element, unbraced lists', () => {
    const r = one('allow aesmd einit via host signer intel;');
    expect(shape(r)).toMatchObject({
      subjects: { kind: 'list', names: [name('aesmd')], braced: false },
      via: { path: 'host' },
      objects: { kind: 'list', braced: false, items: [{ objKind: 'signer', target: { kind: 'ref', name: name('intel') } }] },
    });
    expect(shape(one('allow {aesmd} einit via any {signer intel};'))).toMatchObject({
      subjects: { braced: true },
      via: { path: 'any' },
      objects: { braced: true },
    });
  });

  it('neverallow', () => {
    expect(shape(one('neverallow * einit via kvm * where provisionkey;'))).toEqual({
      kind: 'neverallow',
      subjects: { kind: 'any' },
      via: { path: 'kvm' },
      objects: { kind: 'any' },
      where: { kind: 'attr', name: 'provisionkey' },
    });
  });

  it('cond atoms: comparisons, in-ranges, attributes, objects, subject predicates, classes, constants', () => {
    const r = one(
      `allow * einit * where isvprodid == 1 or isvsvn != 0x10 or isvsvn <= 2 or isvsvn >= 3 or isvsvn > 4 or isvprodid in 1..2 ` +
        `or debug or mode64bit or provisionkey or einittokenkey or kss or aexnotify or cet ` +
        `or signer x or enclave "${A}" or exe "/x" or label "l" or holds "/dev/kvm" or uid 1..2 or gid 3 ` +
        `or subject s or true or not false or (debug and not (kss));`,
    );
    if (r.kind !== 'rule' || r.where?.kind !== 'or') throw new Error('expected an or');
    expect(r.where.operands.map((o) => shape(o))).toEqual([
      { kind: 'cmp', field: 'isvprodid', op: '==', value: int(1) },
      { kind: 'cmp', field: 'isvsvn', op: '!=', value: int(16, '0x10') },
      { kind: 'cmp', field: 'isvsvn', op: '<=', value: int(2) },
      { kind: 'cmp', field: 'isvsvn', op: '>=', value: int(3) },
      { kind: 'cmp', field: 'isvsvn', op: '>', value: int(4) },
      { kind: 'in', field: 'isvprodid', lo: int(1), hi: int(2) },
      ...['debug', 'mode64bit', 'provisionkey', 'einittokenkey', 'kss', 'aexnotify', 'cet'].map((a) => ({ kind: 'attr', name: a })),
      { kind: 'object', object: { objKind: 'signer', target: { kind: 'ref', name: name('x') } } },
      { kind: 'object', object: { objKind: 'enclave', target: { kind: 'literal', value: A } } },
      { kind: 'subjpred', pred: { kind: 'exe', glob: str('/x') } },
      { kind: 'subjpred', pred: { kind: 'label', glob: str('l') } },
      { kind: 'subjpred', pred: { kind: 'holds', path: str('/dev/kvm') } },
      { kind: 'subjpred', pred: { kind: 'uid', lo: int(1), hi: int(2), range: true } },
      { kind: 'subjpred', pred: { kind: 'gid', lo: int(3), hi: int(3), range: false } },
      { kind: 'subject', name: name('s') },
      { kind: 'const', value: true },
      { kind: 'not', operand: { kind: 'const', value: false } },
      { kind: 'and', operands: [{ kind: 'attr', name: 'debug' }, { kind: 'not', operand: { kind: 'attr', name: 'kss' } }] },
    ]);
  });

  it('not chains nest one node per not', () => {
    const r = one('allow * einit * where not not not debug;');
    expect(shape(r)).toMatchObject({ where: { kind: 'not', operand: { kind: 'not', operand: { kind: 'not', operand: { kind: 'attr' } } } } });
  });

  it('keeps statements in source order, with comments anywhere', () => {
    const r = parse(`# head\nsigner s = "${A}"; # after\nallow # inside\n * einit signer s;\n`);
    expect(r.diagnostics).toEqual([]);
    expect(r.file.statements.map((s) => s.kind)).toEqual(['set', 'rule']);
    expect(r.file.comments.map((c) => [c.text, c.span.line, c.span.column])).toEqual([
      ['# head', 1, 1],
      ['# after', 2, 80],
      ['# inside', 3, 7],
    ]);
  });

  it('keywords cannot be names', () => {
    expect(messages('subject allow = uid 1;')).toEqual([
      "expected a name after 'subject', found 'allow' ('allow' is a keyword, and keywords cannot be used as names)",
    ]);
    expect(one('subject allowed = uid 1;')).toMatchObject({ name: { text: 'allowed' } });
  });
});

describe('SPEC 3.1 strings and numbers, as the AST carries them', () => {
  it('decodes \\" and \\\\ and keeps any other backslash as written', () => {
    const r = one('allow * einit * because "a\\"b\\\\c\\*d\\e";');
    expect(r.kind === 'rule' && r.because?.value).toBe('a"b\\c\\*d\\e');
  });

  it('keeps glob escapes for the matcher', () => {
    const s = one('subject s = exe "/opt/\\*literal\\?\\\\x";');
    expect(s.kind === 'subject' && s.expr.kind === 'pred' && s.expr.pred.kind === 'exe' && s.expr.pred.glob.value).toBe('/opt/\\*literal\\?\\x');
  });

  it('accepts any case in measurement literals and lower-cases them', () => {
    const mixed = 'aB'.repeat(32);
    expect(shape(one(`signer s = "${mixed}";`))).toMatchObject({ items: [{ value: mixed.toLowerCase() }] });
  });

  it('INT may be hex; the text is kept as written', () => {
    expect(shape(one('subject s = uid 0x0;'))).toMatchObject({ expr: { pred: { lo: int(0, '0x0') } } });
  });
});

describe('SPEC 3.5 syntax errors name what was expected and what was found', () => {
  const cases: [string, string, number, number][] = [
    ['allow aesmd einit signer', "expected a signer or enclave name or a measurement string after 'signer', found end of file", 1, 25],
    ['allow aesmd einit signer ;', "expected a signer or enclave name or a measurement string after 'signer', found ';'", 1, 26],
    ['allow a einit *\nallow b einit *;', "expected ';' after '*', found 'allow'", 1, 16],
    ['allow a enit *;', "expected 'einit' after 'a', found the name 'enit' (did you mean 'einit'?)", 1, 9],
    ['alow a einit *;', "expected a statement ('policy', 'import', 'default', 'signer', 'enclave', 'subject', 'allow', 'deny', 'neverallow'), found the name 'alow' (did you mean 'allow'?)", 1, 1],
    ['allow a einit * wher debug;', "expected ';' after '*', found the name 'wher' (did you mean 'where'?)", 1, 17],
    ['allow {a, b einit *;', "expected ',' or '}' after 'b', found 'einit'", 1, 13],
    ['allow a einit via ksm *;', "expected 'host', 'kvm' or 'any' after 'via', found the name 'ksm' (did you mean 'kvm'?)", 1, 19],
    ['allow a einit * where isvsvn => 3;', "expected a comparison ('==', '!=', '<', '<=', '>' or '>=') or 'in' after 'isvsvn', found '='", 1, 30],
    ['allow a einit * where isvsvn in 1 2;', "expected '..' after '1', found the number 2", 1, 35],
    ['allow a einit * where (debug;', "expected ')' after 'debug', found ';'", 1, 29],
    ['allow a einit * where;', "expected a condition ('isvprodid', 'isvsvn', an attribute such as 'debug', 'signer', 'enclave', 'exe', 'label', 'holds', 'uid', 'gid', 'subject', 'true', 'false', 'not' or '(') after 'where', found ';'", 1, 22],
    ['subject s = ;', "expected a subject predicate ('exe', 'label', 'holds', 'uid' or 'gid'), a subject class name, 'not' or '(' after '=', found ';'", 1, 13],
    ['subject s = uid "1";', "expected a number after 'uid', found the string \"1\"", 1, 17],
    ['signer s = ;', "expected a measurement string or the name of a set after '=', found ';'", 1, 12],
    [`signer s "${A}";`, `expected '=' after 's', found the string "${A.slice(0, 37)}…"`, 1, 10],
    ['default permit;', "expected 'allow' or 'deny' after 'default', found the name 'permit'", 1, 9],
    ['policy "p" 3;', "expected 'version' after \"p\", found the number 3", 1, 12],
    ['allow a einit * because reason;', "expected a string after 'because', found the name 'reason'", 1, 25],
    ['allow a einit {};', "expected 'signer' or 'enclave' after '{', found '}'", 1, 16],
    ['allow * einit *;;', "unexpected ';': there is no statement before it", 1, 17],
  ];
  for (const [text, message, line, column] of cases) {
    it(`${JSON.stringify(text)} → exactly one diagnostic`, () => {
      const ds = parse(text).diagnostics;
      expect(ds.map((d) => [d.code, d.message, d.line, d.column])).toEqual([['E001', message, line, column]]);
    });
  }
});

describe('error recovery: one diagnostic per mistake, later statements still parse', () => {
  it('a missing ; before the next line keeps both statements', () => {
    const r = parse('allow a einit *\nallow b einit *;\n');
    expect(r.diagnostics).toHaveLength(1);
    expect(r.file.statements.map((s) => s.kind === 'rule' && s.subjects.kind === 'list' && s.subjects.names[0].text)).toEqual(['a', 'b']);
  });

  it('a missing ; at the end of the file', () => {
    const r = parse(`signer s = "${A}"`);
    expect(r.diagnostics.map((d) => [d.message, d.line, d.column])).toEqual([[`expected ';' after "${A.slice(0, 27)}…", found end of file`, 1, 78]]);
  });

  it('a statement with a syntax error is dropped; the ones around it are kept', () => {
    const r = parse('allow a einit *;\nallow b einit signer;\nallow c einit *;\n');
    expect(r.diagnostics).toHaveLength(1);
    expect(r.file.statements.map((s) => s.kind === 'rule' && s.subjects.kind === 'list' && s.subjects.names[0].text)).toEqual(['a', 'c']);
  });

  it('resynchronises at the next statement line when the ; is missing too', () => {
    const r = parse('allow a einit signer\nsigner x = "' + A + '";\nallow c einit *;\n');
    expect(r.diagnostics).toHaveLength(1);
    expect(r.file.statements.map((s) => s.kind)).toEqual(['set', 'rule']);
  });

  it('a misspelled statement keyword skips to the ; and reports once', () => {
    const r = parse('alow a einit signer intel where subject x;\ndeny b einit *;');
    expect(r.diagnostics).toHaveLength(1);
    expect(r.file.statements.map((s) => s.kind)).toEqual(['rule']);
  });

  it('a statement keyword continuing a broken statement is not taken for a new statement', () => {
    const r = parse('allow aesmd enit\n  signer intel;\nallow b einit *;');
    expect(r.diagnostics).toHaveLength(1);
    expect(r.file.statements).toHaveLength(1);
  });

  it('a typo inside a condition reports once', () => {
    expect(errors('allow a einit * where isvsvn >> 3 and debug;\nallow b einit *;')).toHaveLength(1);
    expect(errors('allow a einit * where (debug or kss;\nallow b einit *;')).toHaveLength(1);
    expect(errors('allow a einit * where debug and;\nallow b einit *;')).toHaveLength(1);
  });

  it('a stray ; in the middle of a statement reports once, not again for the rest of the line', () => {
    expect(errors('allow a einit * where isvsvn >= ; and not debug;\nallow b einit *;')).toHaveLength(1);
    expect(errors(`deny {a, b} einit {signer intel; enclave "${A}"} where kss;`)).toHaveLength(1);
    expect(errors('allow a einit * where ; subject vmm and not holds "/dev/kvm";')).toHaveLength(1);
    expect(errors('x; y; z;\nw;')).toHaveLength(2);
  });

  it('every single-token typo in a realistic policy gives at most one syntax error', () => {
    const policy = [
      'policy "p" version 1;',
      'default deny audit;',
      `signer intel = "${A}", other;`,
      'subject aesmd = exe "/usr/bin/aesm_service" and (uid 0..999 or not label "x:*");',
      'allow aesmd einit via host signer intel where isvsvn >= 2 and not debug because "ok";',
      `deny audit {vmm, aesmd} einit via kvm {signer intel, enclave "${A}"} where provisionkey or isvprodid in 1..3;`,
      'neverallow * einit via kvm * where subject vmm and not holds "/dev/sgx_provision";',
    ].join('\n');
    const tokens = tokenize(policy, 'p').tokens;
    const replacements = [';', ',', '=', '(', ')', '{', '}', '*', 'x', '"s"', '1', '..', 'allow', 'signer', 'not', 'where', 'einit', 'in'];
    for (const t of tokens) {
      const before = policy.slice(0, t.startOffset);
      const after = policy.slice((t.endOffset as number) + 1);
      const variants = [before + after, ...replacements.flatMap((r) => [before + r + after, `${before}${r} ${t.image}${after}`])];
      for (const text of variants) {
        const count = parse(text).diagnostics.filter((d) => d.code === 'E001').length;
        expect(count, text).toBeLessThanOrEqual(1);
      }
    }
  });

  it('an extra token is skipped (single-token deletion) and the statement kept', () => {
    const r = parse('allow a a einit *;');
    expect(r.diagnostics.map((d) => d.message)).toEqual(["expected 'einit' after 'a', found the name 'a'"]);
    expect(r.file.statements).toHaveLength(1);
  });

  it('an unterminated string is one diagnostic, not also a syntax error', () => {
    const r = parse('allow a einit * because "oops;\nallow b einit *;');
    expect(r.diagnostics.map((d) => d.code)).toEqual(['E003']);
    expect(r.file.statements).toHaveLength(1);
  });

  it('a stray character inside a statement is one diagnostic', () => {
    expect(parse('allow a einit * @;').diagnostics.map((d) => d.code)).toEqual(['E002']);
    expect(parse('allow a@b einit *;').diagnostics.map((d) => d.code)).toEqual(['E002']);
  });

  it('every statement that is kept is complete', () => {
    for (const text of ['allow {a einit *;', 'allow a einit { signer x signer y };', 'subject s = (uid 1;', 'allow a einit * where in;', 'signer s = "x" "y";']) {
      const r = parse(text);
      expect(r.diagnostics.length).toBeGreaterThan(0);
      for (const s of r.file.statements) expectComplete(s);
    }
  });

  it('reports at most 100 syntax errors, then says how many more', () => {
    const r = parse('x;\n'.repeat(150));
    expect(r.diagnostics).toHaveLength(101);
    expect(r.diagnostics[100].message).toBe('50 more syntax errors not reported');
  });

  it('stops parsing after 1,000 syntax errors and says where, so a file of broken statements costs seconds, not minutes', () => {
    // Each `allow * einit signer ;` is one error; on one line, all but the first are quiet (same line).
    const broken = 'allow * einit signer ; '.repeat(1500);
    const r = parse(`${broken}\nallow a einit *;\n`);
    const last = r.diagnostics[r.diagnostics.length - 1];
    expect(last.message).toMatch(/^too many syntax errors \(1000\): the rest of the file, from line 1, column \d+, was not parsed; fix the errors above first$/);
    // Each broken statement is two problems to the parser (the error, then its `;` as junk), so
    // parsing stopped at the 501st, and the good rule after them all was never read.
    expect([last.line, last.column]).toEqual([1, 'allow * einit signer ; '.length * 500 + 1]);
    expect(r.file.statements).toHaveLength(0);
    expect(r.diagnostics).toHaveLength(2);
  });

  it('counts stray items (junk) toward the same limit', () => {
    const r = parse(';'.repeat(1200));
    const last = r.diagnostics[r.diagnostics.length - 1];
    expect(last.message).toMatch(/^too many syntax errors \(1000\): .* column 1001, was not parsed/);
  });

  it('a file whose 1,000th problem is its last item was read whole: no "not parsed" error', () => {
    const r = parse('x;\n'.repeat(1000));
    expect(r.diagnostics.filter((d) => d.message.startsWith('too many'))).toEqual([]);
    expect(r.diagnostics[100].message).toBe('900 more syntax errors not reported');
  });

  it('the errors before the stop are reported as they were, and nothing chevrotain adds after it', () => {
    // 999 stray `;` (one junk item, quiet), `x;` (junk) and then the stop at `allow`.
    const r = parse(';'.repeat(999) + '\nx;\nallow a einit *;\n');
    expect(r.diagnostics.map((d) => [d.line, d.column, d.message.slice(0, 40)])).toEqual([
      [1, 1, "unexpected ';': there is no statement be"],
      [2, 1, "expected a statement ('policy', 'import'"],
      [3, 1, 'too many syntax errors (1000): the rest '],
    ]);
  });

  it('reads the whole file below the limit', () => {
    const r = parse('x;\n'.repeat(999) + 'allow a einit *;\n');
    expect(r.diagnostics.map((d) => d.message).filter((m) => m.startsWith('too many'))).toEqual([]);
    expect(r.diagnostics[100].message).toBe('899 more syntax errors not reported');
    expect(r.file.statements).toHaveLength(1);
  });
});

describe('SPEC 4 spans: rule ids come from the first token', () => {
  it('a statement spans from its first token to its ;', () => {
    const s = parseSource('\n\n  allow a einit *  ;  # x\n', 'lib/x.sgxpol').file.statements[0];
    const { file, line, column, offset, endLine, endColumn, endOffset } = s.span;
    expect({ file, line, column, offset, endLine, endColumn, endOffset }).toEqual({ file: 'lib/x.sgxpol', line: 3, column: 3, offset: 4, endLine: 3, endColumn: 21, endOffset: 22 });
    expect(JSON.parse(JSON.stringify(s.span))).toEqual({ file, line, column, offset, endLine, endColumn, endOffset });
  });

  it('a multi-line statement starts on the line of its first token', () => {
    const s = parse('# c\nallow\n  aesmd\n  einit *;').file.statements[0];
    expect([s.span.line, s.span.endLine]).toEqual([2, 4]);
  });

  it('every span carries the display name; names and literals have their own spans', () => {
    const r = parseSource(`allow {a, bb} einit signer "${A}" where not debug;`, 'shown/name.sgxpol');
    const rule = r.file.statements[0];
    if (rule.kind !== 'rule' || rule.subjects.kind !== 'list' || rule.objects.kind !== 'list' || rule.where === undefined) throw new Error();
    expect(rule.subjects.names[1].span).toMatchObject({ file: 'shown/name.sgxpol', column: 11, endColumn: 13, offset: 10, endOffset: 12 });
    expect(rule.subjects.span).toMatchObject({ column: 7, endColumn: 14 });
    const target = rule.objects.items[0].target;
    expect(target.kind === 'literal' && target.span).toMatchObject({ column: 28, endColumn: 94 });
    expect(rule.where.span).toMatchObject({ column: 101, endColumn: 110 });
  });

  it('a parenthesised expression spans its parentheses', () => {
    const s = one('subject s = (uid 1 or uid 2);');
    expect(s.kind === 'subject' && s.expr.span).toMatchObject({ column: 13, endColumn: 29 });
  });

  it('a repaired statement ends at its last real token', () => {
    const s = parse('allow a einit *\nallow b einit *;').file.statements[0];
    expect(s.span).toMatchObject({ line: 1, column: 1, endLine: 1, endColumn: 16 });
  });

  it('diagnostics are sorted by position', () => {
    const ds = parse('allow a einit * where isvsvn > 70000;\nx;\n@').diagnostics;
    expect(ds.map((d) => [d.line, d.code])).toEqual([
      [1, 'E202'],
      [2, 'E001'],
      [3, 'E002'],
    ]);
  });
});

describe('SPEC 10 limits', () => {
  it('a file over 16 MiB is refused before lexing', () => {
    const r = parseSource('#'.repeat(16 * 1024 * 1024 + 1), 'big.sgxpol');
    expect(r.diagnostics.map((d) => [d.code, d.line, d.column, d.file])).toEqual([['E901', 1, 1, 'big.sgxpol']]);
    expect(r.file.statements).toEqual([]);
  });

  it('counts UTF-8 bytes, not characters', () => {
    const r = parseSource(`#${'é'.repeat(8 * 1024 * 1024)}`, 'f');
    expect(r.diagnostics.map((d) => d.code)).toEqual(['E901']);
  });

  it('a file of exactly 16 MiB is accepted', () => {
    const r = parseSource(`#${' '.repeat(16 * 1024 * 1024 - 1)}`, 'f');
    expect(r.diagnostics).toEqual([]);
  });

  it('a file with millions of tokens is refused without building them', () => {
    const r = parseSource('('.repeat(8 * 1024 * 1024), 'f');
    expect(r.diagnostics.map((d) => d.code)).toEqual(['E901']);
    expect(r.file.statements).toEqual([]);
  });

  it('a string over 4096 characters', () => {
    const ds = parse(`allow * einit * because "${'x'.repeat(4097)}";`).diagnostics;
    expect(ds.map((d) => [d.code, d.message])).toEqual([['E904', 'string is too long: 4097 characters (the limit is 4096)']]);
    expect(parse(`allow * einit * because "${'x'.repeat(4096)}";`).diagnostics).toEqual([]);
  });

  it('counts characters, not UTF-16 units', () => {
    expect(parse(`allow * einit * because "${'😀'.repeat(4096)}";`).diagnostics).toEqual([]);
  });

  it('a glob over 4096 characters', () => {
    const ds = parse(`subject s = exe "/${'x'.repeat(4096)}" or label "${'y'.repeat(5000)}";`).diagnostics;
    expect(ds.map((d) => [d.code, d.message])).toEqual([
      ['E905', 'exe glob is too long: 4097 characters (the limit is 4096)'],
      ['E905', 'label glob is too long: 5000 characters (the limit is 4096)'],
    ]);
  });

  it(`nesting up to ${MAX_NESTING} parses; deeper is one error and the next statement still parses`, () => {
    const ok = parse(`allow * einit * where ${'('.repeat(MAX_NESTING)}debug${')'.repeat(MAX_NESTING)};`);
    expect(ok.diagnostics).toEqual([]);
    const deep = parse(`allow * einit * where ${'('.repeat(MAX_NESTING + 1)}debug${')'.repeat(MAX_NESTING + 1)};\nallow b einit *;`);
    expect(deep.diagnostics.map((d) => [d.code, d.line, d.column])).toEqual([['E906', 1, 23 + MAX_NESTING]]);
    expect(deep.file.statements).toHaveLength(1);
  });

  it('10,000 nested parentheses, nots or both neither throw nor overflow', () => {
    const n = 10_000;
    for (const text of [
      `allow * einit * where ${'('.repeat(n)}debug${')'.repeat(n)};`,
      `subject s = ${'('.repeat(n)}uid 1${')'.repeat(n)};`,
      `allow * einit * where ${'not '.repeat(n)}debug;`,
      `subject s = ${'not ('.repeat(n)}uid 1${')'.repeat(n)};`,
      '('.repeat(n),
      `allow * einit * where ${'('.repeat(n)}`,
    ]) {
      const r = parse(text);
      expect(r.diagnostics.map((d) => d.code)).toEqual(['E906']);
      expect(r.file.statements).toEqual([]);
    }
  });
});

describe('performance', () => {
  it('parses a 100,000-rule file in a few seconds', () => {
    const lines = [`signer intel = "${A}";`, 'subject aesmd = exe "/usr/bin/aesm_service" and uid 0..999;'];
    for (let i = 0; i < 100_000; i++) lines.push(`allow aesmd einit signer intel where isvsvn >= ${i % 65536} and not debug because "r${i}";`);
    const text = lines.join('\n');
    const t0 = performance.now();
    const r = parse(text);
    // Typically 2–4 s. Printed, not asserted (tests assert no wall-clock time); a regression to
    // something super-linear shows here and runs into the test's timeout.
    console.log(`100,000-rule file parsed in ${(performance.now() - t0).toFixed(0)} ms`);
    expect(r.diagnostics).toEqual([]);
    expect(r.file.statements).toHaveLength(100_002);
  }, 60_000);

  it('a file full of errors stays linear, and any number of diagnostics is returned', () => {
    const t0 = performance.now();
    // 100 reported, one saying how many more, one saying where parsing stopped (after 1,000).
    expect(parse('allow a einit signer\n'.repeat(20_000)).diagnostics).toHaveLength(102);
    const sets = parse(`signer s = ${'"abc", '.repeat(200_000)}"${A}";`);
    expect(sets.diagnostics).toHaveLength(200_000);
    console.log(`files full of errors parsed in ${(performance.now() - t0).toFixed(0)} ms`);
  }, 60_000);
});

describe('robustness: parseSource never throws and always explains a dropped statement', () => {
  // SGXPOL_FUZZ_RUNS=5000 runs the property tests longer, for a local soak.
  const fuzzTimeout = Math.max(60_000, Number(process.env.SGXPOL_FUZZ_RUNS ?? 0) * 100);

  /** The text outside every statement and comment, without whitespace: empty when nothing was dropped. */
  function uncovered(file: SourceFile): string {
    const covered = new Uint8Array(file.text.length);
    for (const { span } of [...file.statements, ...file.comments]) covered.fill(1, span.offset, span.endOffset);
    let rest = '';
    for (let i = 0; i < file.text.length; i++) if (!covered[i]) rest += file.text[i];
    return rest.replace(/[\s\ufeff]/g, '');
  }

  function checkResult(text: string) {
    const r = parseSource(text, 'fuzz.sgxpol');
    expect(r.file.file).toBe('fuzz.sgxpol');
    expect(r.file.text).toBe(text);
    for (const d of r.diagnostics) {
      expect(d.file).toBe('fuzz.sgxpol');
      expect(d.line).toBeGreaterThanOrEqual(1);
      expect(d.column).toBeGreaterThanOrEqual(1);
      expect(d.message).not.toMatch(/internal error|could not be parsed|undefined|NaN|-->|<--/);
    }
    for (const s of r.file.statements) {
      expect(s.span.offset).toBeGreaterThanOrEqual(0);
      expect(s.span.endOffset).toBeLessThanOrEqual(text.length);
      expectComplete(s);
    }
    return r;
  }

  it('random text', () => {
    fc.assert(fc.property(fc.string({ unit: 'grapheme-composite', maxLength: 300 }), (text) => void checkResult(text)), { numRuns: 300 });
  });

  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => void checkResult(Buffer.from(bytes).toString('utf8'))), { numRuns: 300 });
  });

  const vocabulary = [
    'policy', 'version', 'import', 'default', 'audit', 'signer', 'enclave', 'subject', 'exe', 'label', 'holds', 'uid', 'gid',
    'or', 'and', 'not', 'allow', 'deny', 'neverallow', 'einit', 'via', 'host', 'kvm', 'any', 'where', 'because', 'isvprodid',
    'isvsvn', 'in', 'true', 'false', 'debug', 'kss', 'x', 'aesmd', '"/usr/bin/*"', `"${A}"`, '"ab"', '1', '0x10', '70000', '9',
    '..', '==', '<', '>=', '=', ';', ';', ';', ',', '*', '{', '}', '(', ')', '#c\n', '\n', '"open', '@',
  ];

  it('random token soup: when there is no error, nothing was dropped', () => {
    const soup = fc.array(fc.constantFrom(...vocabulary), { maxLength: 80 }).map((words) => words.join(' '));
    fc.assert(
      fc.property(soup, (text) => {
        const r = checkResult(text);
        if (!r.diagnostics.some((d) => d.severity === 'error')) expect(uncovered(r.file)).toBe('');
      }),
      { numRuns: Number(process.env.SGXPOL_FUZZ_RUNS ?? 500) },
    );
  });

  it('valid generated policies parse without errors', () => {
    fc.assert(
      fc.property(arbPolicy(), (info) => {
        const r = checkResult(info.source);
        expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
        expect(uncovered(r.file)).toBe('');
      }),
      { numRuns: 100 },
    );
  }, 60_000);

  it('mutated valid policies: no throw, and every dropped statement is explained', () => {
    const mutation = fc.record({
      at: fc.nat(),
      remove: fc.nat(6),
      insert: fc.oneof(fc.constant(''), fc.constantFrom(...vocabulary), fc.string({ maxLength: 3 })),
    });
    fc.assert(
      fc.property(arbPolicy(), fc.array(mutation, { minLength: 1, maxLength: 4 }), (info, mutations) => {
        let text = info.source;
        for (const m of mutations) {
          const at = text.length === 0 ? 0 : m.at % text.length;
          text = text.slice(0, at) + m.insert + text.slice(at + m.remove);
        }
        const r = checkResult(text);
        if (!r.diagnostics.some((d) => d.severity === 'error')) expect(uncovered(r.file)).toBe('');
      }),
      { numRuns: Number(process.env.SGXPOL_FUZZ_RUNS ?? 200) },
    );
  }, fuzzTimeout);

  it('a non-string argument is a diagnostic, not an exception', () => {
    expect(() => parseSource(undefined as unknown as string, 'f')).not.toThrow();
    const hostile = { toString: () => { throw new Error('no'); } };
    expect(parseSource(hostile as unknown as string, hostile as unknown as string).diagnostics).toHaveLength(1);
  });
});
