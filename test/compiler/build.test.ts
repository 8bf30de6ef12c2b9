import { describe, expect, it } from 'vitest';
import { decodeString, measurementProblem } from '../../src/compiler/build.js';
import { compileSource } from '../../src/compiler/compile.js';
import { parseSource } from '../../src/compiler/parse.js';

const A = 'a'.repeat(64);
const parse = (text: string) => parseSource(text, 'p.sgxpol');
const diags = (text: string) => parse(text).diagnostics.map((d) => [d.code, d.message]);
const kinds = (text: string) => parse(text).file.statements.map((s) => s.kind);

describe('SPEC 3.1 STRING decoding', () => {
  it('\\" is a quote and \\\\ a backslash', () => {
    expect(decodeString('"a\\"b"')).toBe('a"b');
    expect(decodeString('"a\\\\b"')).toBe('a\\b');
    expect(decodeString('"\\\\\\""')).toBe('\\"');
  });

  it('a backslash before any other character stays as written', () => {
    expect(decodeString('"\\*\\?\\n\\x"')).toBe('\\*\\?\\n\\x');
  });

  it('an unterminated string decodes to the end of its line', () => {
    expect(decodeString('"abc')).toBe('abc');
    expect(decodeString('"a\\"')).toBe('a"');
    expect(decodeString('"')).toBe('');
  });
});

describe('SPEC 3.1 measurement literals', () => {
  it('64 hex digits in any case are accepted', () => {
    expect(measurementProblem('0123456789abcdefABCDEF'.padEnd(64, 'f'))).toBeUndefined();
  });

  it('says how many digits there are', () => {
    expect(diags(`signer s = "${'a'.repeat(63)}";`)).toEqual([
      ['E201', `bad MRSIGNER literal "${'a'.repeat(19)}…": it has 63 hex digits; a measurement is exactly 64`],
    ]);
    expect(diags(`enclave e = "${'a'.repeat(65)}";`)[0][1]).toContain('MRENCLAVE literal');
    expect(diags('signer s = "";')[0][1]).toContain('it has 0 hex digits');
  });

  it('names the first bad character and where it is', () => {
    expect(diags(`signer s = "${'a'.repeat(10)}g${'a'.repeat(53)}";`)).toEqual([
      ['E201', `bad MRSIGNER literal "${'a'.repeat(10)}g${'a'.repeat(8)}…": 'g' at position 11 is not a hex digit; a measurement is exactly 64 hex digits`],
    ]);
    expect(diags(`signer s = "${'a'.repeat(63)} ";`)[0][1]).toContain('U+0020 at position 64');
  });

  it('hints at a 0x prefix', () => {
    expect(diags(`signer s = "0x${'a'.repeat(64)}";`)[0][1]).toContain("without a '0x' prefix");
  });

  it('checks literals in rule objects and in where conditions; such a rule is dropped', () => {
    expect(diags('allow * einit signer "abc";').map((d) => d[0])).toEqual(['E201']);
    expect(diags('allow * einit * where enclave "abc";').map((d) => d[0])).toEqual(['E201']);
    expect(kinds('allow * einit signer "abc";')).toEqual([]);
  });

  it('a set keeps its name and good items when an item is bad, so later stages see the name', () => {
    const r = parse(`signer s = "abc", "${A}", t;`);
    expect(r.diagnostics.map((d) => d.code)).toEqual(['E201']);
    expect(r.file.statements[0]).toMatchObject({ kind: 'set', name: { text: 's' }, items: [{ kind: 'literal', value: A }, { kind: 'ref' }] });
  });

  it('reports every bad literal, each at its place', () => {
    const ds = parse('signer s = "a",\n  "b";').diagnostics;
    expect(ds.map((d) => [d.code, d.line, d.column])).toEqual([
      ['E201', 1, 12],
      ['E201', 2, 3],
    ]);
  });
});

describe('SPEC 3.5 numbers out of range', () => {
  it('isvprodid and isvsvn are 0 … 65535', () => {
    expect(diags('allow * einit * where isvsvn >= 70000;')).toEqual([['E202', 'isvsvn 70000 is out of range: it must be 0 … 65535']]);
    expect(diags('allow * einit * where isvprodid == 65536;').map((d) => d[0])).toEqual(['E202']);
    expect(diags('allow * einit * where isvsvn in 0..0x10000;').map((d) => d[0])).toEqual(['E202']);
    expect(diags('allow * einit * where isvsvn <= 65535 and isvprodid == 0xffff;')).toEqual([]);
  });

  it('isvsvn < 0 is not an error: 0 is in range', () => {
    expect(diags('allow * einit * where isvsvn < 0;')).toEqual([]);
  });

  it('uid and gid are 0 … 4294967295', () => {
    expect(diags('subject s = uid 4294967295 or gid 0xffffffff;')).toEqual([]);
    expect(diags('subject s = uid 4294967296;')).toEqual([['E202', 'uid 4294967296 is out of range: it must be 0 … 4294967295']]);
    expect(diags('allow * einit * where gid 0x100000000;').map((d) => d[0])).toEqual(['E202']);
  });

  it('version is 0 … 4294967295', () => {
    expect(diags('policy "p" version 4294967295;')).toEqual([]);
    expect(diags('policy "p" version 4294967296;').map((d) => d[0])).toEqual(['E202']);
    expect(kinds('policy "p" version 4294967296;')).toEqual([]);
  });

  it('huge literals are not rounded into range', () => {
    expect(diags('subject s = uid 99999999999999999999999999999999;').map((d) => d[0])).toEqual(['E202']);
    expect(diags('subject s = uid 0x0000000000000000000000001;')).toEqual([]);
    expect(diags('subject s = uid 0000000000000000000000000042;')).toEqual([]);
    expect(diags(`subject s = uid ${'9'.repeat(100_000)};`).map((d) => d[0])).toEqual(['E202']);
  });

  it('a rule with a bad number is dropped; a subject class is kept with the number clamped', () => {
    expect(kinds('allow * einit * where isvsvn >= 70000;')).toEqual([]);
    expect(parse('subject s = uid 4294967296;').file.statements[0]).toMatchObject({
      kind: 'subject',
      expr: { pred: { lo: { value: 4294967295, text: '4294967296' } } },
    });
  });

  it('a malformed number is reported once, by the lexer', () => {
    expect(diags('subject s = uid 12ab;').map((d) => d[0])).toEqual(['E002']);
    expect(diags('allow * einit * where isvsvn > 0x;').map((d) => d[0])).toEqual(['E002']);
  });
});

describe('SPEC 3.5 empty ranges', () => {
  it('uid 9..3', () => {
    expect(diags('subject s = uid 9..3;')).toEqual([['E203', 'uid range 9..3 is empty: 9 is greater than 3; write 3..9']]);
  });

  it('isvsvn in 9..3', () => {
    expect(diags('allow * einit * where isvsvn in 9..3;').map((d) => d[0])).toEqual(['E203']);
    expect(kinds('allow * einit * where isvsvn in 9..3;')).toEqual([]);
  });

  it('a bound out of range is reported once, not also as an empty range', () => {
    expect(diags('subject s = uid 5000000000..3;').map((d) => d[0])).toEqual(['E202']);
    expect(diags('allow * einit * where isvsvn in 70000..3;').map((d) => d[0])).toEqual(['E202']);
    expect(diags('subject s = uid 9..0x;').map((d) => d[0])).toEqual(['E002']);
  });

  it('a one-value range is not empty', () => {
    expect(diags('subject s = gid 3..3; allow * einit * where isvprodid in 0x3..3;')).toEqual([]);
  });

  it('the range is placed at both bounds', () => {
    const [d] = parse('subject s = uid 9..3;').diagnostics;
    expect([d.line, d.column, d.endColumn]).toEqual([1, 17, 21]);
  });
});

describe('exe globs and holds paths that can never match', () => {
  it('an exe glob must start with / or **', () => {
    expect(diags('subject s = exe "/usr/bin/*" or exe "**/qemu" or exe "**";')).toEqual([]);
    expect(diags('subject s = exe "qemu";')).toEqual([
      ['W008', 'exe glob "qemu" can never match: exe paths are absolute, so an exe glob must start with \'/\' (or \'**\')'],
    ]);
    expect(diags('subject s = exe "*/qemu";').map((d) => d[0])).toEqual(['W008']);
  });

  it('is a warning: the statement is kept and the policy compiles', () => {
    expect(kinds('subject s = exe "qemu";')).toEqual(['subject']);
    expect(parse('subject s = exe "qemu";').diagnostics.map((d) => d.severity)).toEqual(['warning']);
  });

  it('a holds path must start with /', () => {
    expect(diags('allow * einit * where holds "dev/kvm";').map((d) => d[0])).toEqual(['W008']);
  });

  it('label globs may be anything', () => {
    expect(diags('subject s = label "*" or label "";')).toEqual([]);
  });

  it('a glob long in UTF-16 units but within 4096 characters is still checked', () => {
    const glob = '😀'.repeat(2049); // 4098 units, 2049 characters
    expect(diags(`subject s = exe "${glob}";`).map((d) => d[0])).toEqual(['W008']);
  });
});

describe('characters outside the BMP in the checks (a character is a code point)', () => {
  const codes = (source: string) => compileSource(source, { filename: 'p.sgxpol' }).diagnostics.map((d) => d.code);

  it('a holds path of 2,100 such characters (4,200 units) can be held, so its rule can match', () => {
    const device = '/dev/' + '😀'.repeat(2100);
    expect(codes(`subject a = exe "/usr/bin/x" and holds "${device}";\nallow a einit *;\n`)).not.toContain('W001');
  });

  it('`?` takes one such character in the analysis too', () => {
    // "/a/😀" matches both globs of the first rule's class, so the rule can match.
    expect(codes('subject a = exe "/a/?" and exe "/a/😀";\nallow a einit *;\n')).not.toContain('W001');
    expect(codes('subject a = exe "/a/??" and exe "/a/😀";\nallow a einit *;\n')).toContain('W001');
  });

  it('policy text given as a JS string with a lone surrogate is refused, with where it is', () => {
    const result = compileSource('subject a = label "x\ud83d*";\nallow a einit *;\n', { filename: 'p.sgxpol' });
    expect(result.ok).toBe(false);
    expect(result.diagnostics.map((d) => [d.code, d.line, d.column, d.message])).toEqual([
      ['E304', 1, 21, 'text is not valid Unicode: a lone surrogate (U+D83D) at line 1, column 21; policy text is UTF-8'],
    ]);
    expect(compileSource('subject a = label "x😀*";\nallow a einit *;\n', { filename: 'p.sgxpol' }).ok).toBe(true);
  });
});
