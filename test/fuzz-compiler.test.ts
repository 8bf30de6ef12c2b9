// Fuzzing the compiler (SPEC 3.5 and 10): whatever text it is given, compileSource returns a
// result — never throws, never hangs — and every diagnostic carries a code, a severity, a
// file, a line, a column and a message. The inputs are valid generated policies broken by
// small edits, random token soup, and a few deliberately hostile shapes.
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileSource, type CompileResult } from '../src/compiler/compile.js';
import { arbPolicy } from './support/generators.js';

const SEED = Number(process.env.SGXPOL_DIFF_SEED ?? 0x5617_7002);
const RUNS = Number(process.env.SGXPOL_FUZZ_RUNS ?? 400);
/** One compile of a small input taking longer than this counts as a hang. */
const SLOW_MS = 2_000;

// Compile inside an empty folder, so imports a mutation invents resolve to nothing real.
const workDir = mkdtempSync(join(tmpdir(), 'sgxpol-fuzz-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));
const ROOT = join(workDir, 'fuzz.sgxpol');

/** Compiles `text` and checks the result's shape; returns a description of what is wrong, or undefined. */
function compileProblem(text: string, slowMs = SLOW_MS): string | undefined {
  let result: CompileResult;
  const started = performance.now();
  try {
    result = compileSource(text, { filename: ROOT });
  } catch (error) {
    return `compileSource threw: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
  }
  const elapsed = performance.now() - started;
  if (elapsed > slowMs) return `compileSource took ${Math.round(elapsed)} ms`;
  if (typeof result !== 'object' || result === null) return 'compileSource returned no object';
  if (typeof result.ok !== 'boolean') return '`ok` is not a boolean';
  if (!Array.isArray(result.diagnostics)) return '`diagnostics` is not an array';
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (!result.ok && errors.length === 0) return 'ok is false but there is no error diagnostic';
  if (result.ok && errors.length > 0) return 'ok is true but there is an error diagnostic';
  if (result.ok && result.table === undefined) return 'ok is true but there is no table';
  for (const d of result.diagnostics) {
    const where = JSON.stringify(d);
    if (typeof d.code !== 'string' || !/^[EW]\d{3}$/.test(d.code)) return `diagnostic without a stable code: ${where}`;
    if (d.severity !== 'error' && d.severity !== 'warning') return `diagnostic with a bad severity: ${where}`;
    if (typeof d.file !== 'string' || d.file.length === 0) return `diagnostic without a file: ${where}`;
    if (!Number.isInteger(d.line) || d.line < 1) return `diagnostic with a bad line: ${where}`;
    if (!Number.isInteger(d.column) || d.column < 1) return `diagnostic with a bad column: ${where}`;
    if (typeof d.message !== 'string' || d.message.trim().length === 0) return `diagnostic without a message: ${where}`;
  }
  return undefined;
}

function expectWellBehaved(text: string, slowMs = SLOW_MS): void {
  const problem = compileProblem(text, slowMs);
  if (problem !== undefined) {
    const shown = text.length > 2000 ? `${text.slice(0, 1000)}\n…(${text.length} characters)…\n${text.slice(-500)}` : text;
    throw new Error(`${problem}\n--- input ---\n${shown}`);
  }
}

// ---- mutations --------------------------------------------------------------------------

const TOKEN = /"(?:[^"\\\n]|\\.)*"?|0[xX][0-9a-fA-F]*|\d+|[A-Za-z_][A-Za-z0-9_]*|\.\.|==|!=|<=|>=|#[^\n]*|\s+|[^]/gu;

function tokens(text: string): string[] {
  return text.match(TOKEN) ?? [];
}

const KEYWORDS = [
  'policy', 'version', 'import', 'default', 'audit', 'signer', 'enclave', 'subject', 'exe', 'label', 'holds', 'uid', 'gid',
  'allow', 'deny', 'neverallow', 'einit', 'via', 'host', 'kvm', 'any', 'where', 'because', 'isvprodid', 'isvsvn', 'in',
  'debug', 'mode64bit', 'provisionkey', 'einittokenkey', 'kss', 'aexnotify', 'cet', 'true', 'false', 'and', 'or', 'not',
];
const PUNCTUATION = ['{', '}', '(', ')', ',', ';', '=', '*', '..', '==', '!=', '<', '<=', '>', '>=', '"', '#', '\\'];
const HUGE_NUMBERS = ['99999999999999999999999999999', '0xFFFFFFFFFFFFFFFFFFFFFFFF', '4294967296', '65536', '18446744073709551616', '1e5', '-1', '0x', '9007199254740993'];
const ODD_CHARS = ['\u0000', '\r', '\t', '\n', 'é', '😀', '\uD800', '\uFEFF', '\u2028', '"', '\\', '#', '.', '/', '`'];
const ODD_STRINGS = ['"unterminated', '"' + 'a'.repeat(5000) + '"', '"\\"', '""', '"' + 'f'.repeat(64) + '"', '"../x.sgxpol"', '"fuzz.sgxpol"', '"/etc/passwd"'];

type Mutation = (text: string, a: number, b: number) => string;

const pick = <T,>(items: readonly T[], n: number): T => items[n % items.length];
const at = (length: number, n: number) => (length === 0 ? 0 : n % (length + 1));

const MUTATIONS: Mutation[] = [
  // characters
  (t, a) => t.slice(0, at(t.length, a)) + t.slice(at(t.length, a) + 1),
  (t, a, b) => t.slice(0, at(t.length, a)) + pick(ODD_CHARS, b) + t.slice(at(t.length, a)),
  (t, a) => {
    const i = at(t.length - 1, a);
    return t.slice(0, i) + t.charAt(i + 1) + t.charAt(i) + t.slice(i + 2);
  },
  (t, a) => t.slice(0, at(t.length, a)),
  // tokens
  (t, a) => editTokens(t, (list) => list.splice(at(list.length - 1, a), 1)),
  (t, a, b) => editTokens(t, (list) => list.splice(at(list.length, a), 0, ' ', pick(KEYWORDS, b), ' ')),
  (t, a, b) => editTokens(t, (list) => list.splice(at(list.length, a), 0, pick(PUNCTUATION, b))),
  (t, a, b) =>
    editTokens(t, (list) => {
      const i = at(list.length - 1, a);
      const j = at(list.length - 1, b);
      [list[i], list[j]] = [list[j], list[i]];
    }),
  (t, a) =>
    editTokens(t, (list) => {
      const i = at(list.length - 1, a);
      list.splice(i, 0, list[i] ?? '');
    }),
  (t, a, b) =>
    editTokens(t, (list) => {
      const numbers = list.flatMap((token, i) => (/^(\d|0x)/.test(token) ? [i] : []));
      if (numbers.length > 0) list[pick(numbers, a)] = pick(HUGE_NUMBERS, b);
      else list.splice(at(list.length, a), 0, ' uid ', pick(HUGE_NUMBERS, b), ' ');
    }),
  (t, a, b) =>
    editTokens(t, (list) => {
      const strings = list.flatMap((token, i) => (token.startsWith('"') ? [i] : []));
      if (strings.length > 0) list[pick(strings, a)] = pick(ODD_STRINGS, b);
    }),
  // lines
  (t, a) => {
    const lines = t.split('\n');
    const i = at(lines.length - 1, a);
    lines.splice(i, 0, lines[i] ?? '');
    return lines.join('\n');
  },
  (t, a) => {
    const lines = t.split('\n');
    lines.splice(at(lines.length - 1, a), 1);
    return lines.join('\n');
  },
  // nesting
  (t, a, b) => {
    const depth = 50 + (b % 3000);
    const subject = `subject deepC${a} = ${'('.repeat(depth)}uid 1${')'.repeat(depth)};\n`;
    return pick([subject, `allow * einit * where ${'not '.repeat(depth)}debug;\n`, `allow * einit * where ${'('.repeat(depth)}true${')'.repeat(depth)};\n`], a) + t;
  },
];

function editTokens(text: string, edit: (list: string[]) => void): string {
  const list = tokens(text);
  edit(list);
  return list.join('');
}

const arbMutatedPolicy: fc.Arbitrary<string> = fc
  .tuple(
    arbPolicy({ maxRules: 8 }),
    fc.array(fc.tuple(fc.nat(MUTATIONS.length - 1), fc.nat(), fc.nat()), { minLength: 1, maxLength: 5 }),
  )
  .map(([info, edits]) => edits.reduce((text, [which, a, b]) => MUTATIONS[which](text, a, b), info.source));

const arbTokenSoup: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...KEYWORDS) },
      { weight: 3, arbitrary: fc.constantFrom(...PUNCTUATION) },
      { weight: 1, arbitrary: fc.constantFrom(...HUGE_NUMBERS, '0', '7', '0x10', '65535') },
      { weight: 1, arbitrary: fc.constantFrom(...ODD_STRINGS.slice(2), '"/usr/bin/*"', '"**"') },
      { weight: 2, arbitrary: fc.constantFrom('a', 'b', 'x_1', 'intel', 'intle') },
      { weight: 3, arbitrary: fc.constantFrom(' ', '\n', ' ', ' # c\n') },
    ),
    { maxLength: 60 },
  )
  .map((list) => list.join(''));

describe('SPEC 3.5 and 10: compileSource on any text returns diagnostics, never throws or hangs', () => {
  it(`handles ${RUNS} mutated valid policies`, () => {
    fc.assert(
      fc.property(arbMutatedPolicy, (text) => expectWellBehaved(text)),
      { seed: SEED, numRuns: RUNS },
    );
  }, 120_000);

  it(`handles ${RUNS} random token sequences`, () => {
    fc.assert(
      fc.property(arbTokenSoup, (text) => expectWellBehaved(text)),
      { seed: SEED + 1, numRuns: RUNS },
    );
  }, 120_000);

  it('handles arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => expectWellBehaved(text)),
      { seed: SEED + 2, numRuns: Math.ceil(RUNS / 2) },
    );
  }, 120_000);

  it('reports, rather than crashes on, very deep nesting', () => {
    for (const depth of [1_000, 20_000, 200_000]) {
      expectWellBehaved(`subject a = ${'('.repeat(depth)}uid 1${')'.repeat(depth)};\nallow a einit *;\n`, 10_000);
      expectWellBehaved(`allow * einit * where ${'not '.repeat(depth)}debug;\n`, 10_000);
      expectWellBehaved(`allow * einit * where ${'('.repeat(depth)}true${')'.repeat(depth)};\n`, 10_000);
      expectWellBehaved(`allow * einit * where ${'('.repeat(depth)}`, 10_000);
    }
  }, 120_000);

  it('reports huge numbers, huge strings and long chains', () => {
    expectWellBehaved(`allow * einit * where isvsvn >= ${'9'.repeat(10_000)};`);
    expectWellBehaved(`subject a = uid 0x${'f'.repeat(10_000)};`);
    expectWellBehaved(`subject a = exe "${'*'.repeat(5_000)}";`);
    expectWellBehaved(`subject a = exe "/${'a/'.repeat(3_000)}";`);
    expectWellBehaved(`signer s = ${Array.from({ length: 5_000 }, (_, i) => `s${i}`).join(', ')};`);
    expectWellBehaved(`subject c = ${Array.from({ length: 20_000 }, (_, i) => `uid ${i}`).join(' or ')};\nallow c einit *;`, 10_000);
    expectWellBehaved(Array.from({ length: 2_000 }, (_, i) => `subject c${i} = c${i + 1};`).join('\n') + '\nsubject c2000 = uid 1;\nallow c0 einit *;', 10_000);
  }, 120_000);

  it('reports a source over 16 MiB', () => {
    expectWellBehaved('#'.repeat(16 * 1024 * 1024 + 1), 10_000);
  }, 60_000);
});
