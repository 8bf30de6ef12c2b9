import { describe, expect, it } from 'vitest';
import { countTokens, keywords, tokenize } from '../../src/compiler/lexer.js';

const types = (text: string) => tokenize(text, 'f').tokens.map((t) => t.tokenType.name);
const images = (text: string) => tokenize(text, 'f').tokens.map((t) => t.image);
const codes = (text: string) => tokenize(text, 'f').diagnostics.map((d) => d.code);

describe('SPEC 3.1 lexical rules', () => {
  it('reserves every quoted word of the grammar as a keyword', () => {
    expect(keywords).toHaveLength(38);
    for (const word of keywords) expect(types(word)).not.toEqual(['Ident']);
    for (const word of ['policy', 'neverallow', 'einittokenkey', 'aexnotify', 'in', 'any']) expect(keywords).toContain(word);
  });

  it('lexes longer words that begin with a keyword as names', () => {
    expect(types('signers allowed einitx inx importer notable orx')).toEqual(Array(7).fill('Ident'));
    expect(types('einittokenkey einit in import')).toEqual(['Einittokenkey', 'Einit', 'In', 'Import']);
  });

  it('keywords are case-sensitive', () => {
    expect(types('Allow ALLOW allow')).toEqual(['Ident', 'Ident', 'Allow']);
  });

  it('IDENT is [A-Za-z_][A-Za-z0-9_]*', () => {
    expect(images('_a1 B_2 x')).toEqual(['_a1', 'B_2', 'x']);
  });

  it('INT is decimal digits or 0x and hex digits', () => {
    expect(types('0 42 0x1F 0xabc')).toEqual(['IntLit', 'IntLit', 'IntLit', 'IntLit']);
    expect(codes('0 42 0x1F')).toEqual([]);
  });

  it('reports malformed numbers once, as one token', () => {
    const r = tokenize('12ab 0x 0X1F 0xg', 'f');
    expect(r.tokens.map((t) => t.image)).toEqual(['12ab', '0x', '0X1F', '0xg']);
    expect(r.diagnostics.map((d) => d.code)).toEqual(['E002', 'E002', 'E002', 'E002']);
    expect(r.diagnostics[0].message).toContain("malformed number '12ab'");
  });

  it('lexes a..b ranges', () => {
    expect(types('1..5 0x1..0x5')).toEqual(['IntLit', 'DotDot', 'IntLit', 'IntLit', 'DotDot', 'IntLit']);
  });

  it('lexes every operator and punctuation mark', () => {
    expect(images('== != <= >= < > = ; , * { } ( ) ..')).toEqual(['==', '!=', '<=', '>=', '<', '>', '=', ';', ',', '*', '{', '}', '(', ')', '..']);
  });

  it('STRING is one line; escapes stay in the image', () => {
    expect(images('"a\\"b" "c\\\\" "x\\*"')).toEqual(['"a\\"b"', '"c\\\\"', '"x\\*"']);
  });

  it('an unterminated string is reported once and still lexes as a string', () => {
    const r = tokenize('because "oops;\nallow', 'f');
    expect(r.tokens.map((t) => t.tokenType.name)).toEqual(['Because', 'UnterminatedString', 'Allow']);
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({ code: 'E003', line: 1, column: 9 });
  });

  it('collects comments with their spans, and skips them', () => {
    const r = tokenize('allow # why\n# whole line\ndeny', 'f');
    expect(r.tokens.map((t) => t.image)).toEqual(['allow', 'deny']);
    expect(r.comments).toEqual([
      { text: '# why', span: { file: 'f', line: 1, column: 7, offset: 6, endLine: 1, endColumn: 12, endOffset: 11 } },
      { text: '# whole line', span: { file: 'f', line: 2, column: 1, offset: 12, endLine: 2, endColumn: 13, endOffset: 24 } },
    ]);
  });

  it('a # inside a string is not a comment', () => {
    expect(tokenize('"a#b"', 'f').comments).toEqual([]);
  });

  it('reports a run of unexpected characters once, and skips it', () => {
    const r = tokenize('allow @@ deny $', 'f');
    expect(r.tokens.map((t) => t.image)).toEqual(['allow', 'deny']);
    expect(r.diagnostics.map((d) => [d.code, d.column, d.message])).toEqual([
      ['E002', 7, "unexpected characters '@' '@'"],
      ['E002', 15, "unexpected character '$'"],
    ]);
  });

  it('names invisible characters by code point', () => {
    expect(tokenize('a\u00a0b', 'f').diagnostics[0].message).toBe('unexpected character U+00A0 (no-break space)');
    expect(tokenize('a\u0001b', 'f').diagnostics[0].message).toBe('unexpected character U+0001');
  });

  it('a lone . or ! is unexpected', () => {
    expect(codes('1.5')).toEqual(['E002']);
    expect(codes('!x')).toEqual(['E002']);
  });

  it('ignores a byte order mark at the start, keeping offsets', () => {
    const r = tokenize('\ufeffallow', 'f');
    expect(r.diagnostics).toEqual([]);
    expect(r.tokens[0]).toMatchObject({ image: 'allow', startOffset: 1 });
  });

  it('uses 1-based lines and columns and exclusive ends', () => {
    const r = tokenize('\n  allow', 'f');
    expect(r.tokens[0]).toMatchObject({ startLine: 2, startColumn: 3, startOffset: 3 });
  });

  it('countTokens counts what tokenize produces', () => {
    for (const text of ['allow a einit *;', '"a b # c" # d\n x..y == z', '@@@ . !', '12ab 0x1F "unterminated', '']) {
      const r = tokenize(text, 'f');
      const produced = r.tokens.length + r.diagnostics.filter((d) => d.code === 'E002' && d.message.startsWith('unexpected')).length;
      expect(countTokens(text, 1e9)).toBe(produced);
    }
  });
});
