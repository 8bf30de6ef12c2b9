// grammar/sgxpol.tmLanguage.json, run by the same TextMate engine VS Code uses
// (vscode-textmate on Oniguruma), on lines of real policy.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as oniguruma from 'vscode-oniguruma';
import * as textmate from 'vscode-textmate';
import { keywords } from '../../src/compiler/lexer.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const grammarPath = `${root}grammar/sgxpol.tmLanguage.json`;
let grammar: textmate.IGrammar;

beforeAll(async () => {
  const require = createRequire(import.meta.url);
  const wasm = readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) as ArrayBuffer);
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s: string) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName: string) =>
      scopeName === 'source.sgxpol' ? textmate.parseRawGrammar(readFileSync(grammarPath, 'utf8'), grammarPath) : null,
  });
  const loaded = await registry.loadGrammar('source.sgxpol');
  if (!loaded) throw new Error('grammar did not load');
  grammar = loaded;
});

/** Each token's text with its innermost scope. */
function scopes(line: string): [string, string][] {
  const { tokens } = grammar.tokenizeLine(line, textmate.INITIAL);
  return tokens
    .map((t): [string, string] => [line.slice(t.startIndex, t.endIndex).trim(), t.scopes[t.scopes.length - 1]])
    .filter(([text]) => text !== '');
}

function scopeOf(line: string, text: string): string | undefined {
  return scopes(line).find(([t]) => t === text)?.[1];
}

describe('TextMate grammar', () => {
  it('colours every keyword of the language', () => {
    for (const keyword of keywords) {
      const scope = scopeOf(`${keyword} x`, keyword);
      expect(scope, keyword).toMatch(/^(keyword|storage|constant|support|variable)\./);
    }
  });

  it('comments, and a # inside a string is not one', () => {
    expect(scopeOf('allow * einit *; # why', 'why')).toBe('comment.line.number-sign.sgxpol');
    expect(scopeOf('allow * einit *; # why', '#')).toBe('punctuation.definition.comment.sgxpol');
    expect(scopes('subject s = exe "/opt/#x";').some(([, s]) => s.startsWith('comment'))).toBe(false);
  });

  it('measurements: a string of exactly 64 hex digits', () => {
    const m = 'acb77012053e05a63d413b8bbae8fb6c5d73b3f2996d91c43bbbf90959c0f8d4';
    expect(scopeOf(`signer intel = "${m}";`, m)).toBe('constant.other.measurement.sgxpol');
    expect(scopeOf(`allow * einit enclave "${m.toUpperCase()}";`, m.toUpperCase())).toBe('constant.other.measurement.sgxpol');
    expect(scopeOf(`signer bad = "${m.slice(1)}";`, m.slice(1))).toBe('string.quoted.double.sgxpol');
  });

  it('globs after exe and label, with their wildcards and escapes', () => {
    const line = 'subject s = exe "/opt/**/bin/*\\*" or label "svirt_t:?";';
    expect(scopeOf(line, '**')).toBe('keyword.operator.wildcard.glob.sgxpol');
    expect(scopeOf(line, '\\*')).toBe('constant.character.escape.sgxpol');
    expect(scopeOf(line, '/opt/')).toBe('string.quoted.double.glob.sgxpol');
    expect(scopeOf(line, '?')).toBe('keyword.operator.wildcard.glob.sgxpol');
    expect(scopeOf('subject s = holds "/dev/kvm";', '/dev/kvm')).toBe('string.quoted.double.sgxpol');
  });

  it('strings, numbers, names and the name a declaration defines', () => {
    const rule = 'allow audit aesmd einit via host signer intel where isvsvn in 1..0x10 because "r \\" q";';
    expect(scopeOf(rule, 'aesmd')).toBe('variable.other.name.sgxpol');
    expect(scopeOf(rule, '1')).toBe('constant.numeric.decimal.sgxpol');
    expect(scopeOf(rule, '0x10')).toBe('constant.numeric.hex.sgxpol');
    expect(scopeOf(rule, '\\"')).toBe('constant.character.escape.sgxpol');
    expect(scopeOf('subject aesmd = uid 988;', 'aesmd')).toBe('entity.name.type.subject.sgxpol');
    expect(scopeOf('enclave payments = x;', 'payments')).toBe('entity.name.type.enclave.sgxpol');
    expect(scopeOf('allow signers einit *;', 'signers')).toBe('variable.other.name.sgxpol');
  });
});
