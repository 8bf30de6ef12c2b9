// Lean spans (src/compiler/span.ts) against the spans made from chevrotain's own token positions.
import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Span } from '../../src/compiler/ast.js';
import { spanAfter, spanBetween, tokenize } from '../../src/compiler/lexer.js';
import { SourceLines, SourceSpan } from '../../src/compiler/span.js';

const fields = (span: Span): Span => ({
  file: span.file,
  line: span.line,
  column: span.column,
  offset: span.offset,
  endLine: span.endLine,
  endColumn: span.endColumn,
  endOffset: span.endOffset,
});

const words = ['allow', 'deny', 'a', 'einit', '*', ';', '"/x y"', '12', '..', '{', '}', ',', '==', 'é', '#c', '"ab\\"c"'];
const gaps = [' ', '  ', '\t', '\n', '\r\n', '\r', '\n\n', ' \r\n\t', '\r\r'];

describe('lean spans', () => {
  it('give every field exactly as the lexer positions do, whatever the line breaks', () => {
    const text = fc
      .array(fc.tuple(fc.constantFrom(...gaps), fc.constantFrom(...words)), { minLength: 1, maxLength: 60 })
      .map((parts) => parts.map(([gap, word]) => gap + word).join(''));
    fc.assert(
      fc.property(text, (source) => {
        const { tokens } = tokenize(source, 'f.sgxpol');
        const lines = new SourceLines('f.sgxpol', source);
        for (let i = 0; i < tokens.length; i++) {
          const first = tokens[i];
          const last = tokens[Math.min(tokens.length - 1, i + 3)];
          const lean = new SourceSpan(lines, first.startLine!, first.startOffset, last.endOffset! + 1);
          expect(fields(lean)).toEqual(spanBetween(first, last, 'f.sgxpol'));
          const single = new SourceSpan(lines, first.startLine!, first.startOffset, first.endOffset! + 1);
          expect(fields(single)).toEqual(spanBetween(first, first, 'f.sgxpol'));
          const after = new SourceSpan(lines, first.endLine!, first.endOffset! + 1, first.endOffset! + 1);
          expect(fields(after)).toEqual(spanAfter(first, 'f.sgxpol'));
          expect(fields(single.to(lean))).toEqual(fields(lean));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('print and serialize as the seven plain fields, never with the file text', () => {
    const source = 'subject a = uid 1;\r\nallow a\n  einit *;\n';
    const lines = new SourceLines('p.sgxpol', source);
    const span = new SourceSpan(lines, 2, source.indexOf('allow'), source.length - 1);
    const plain = { file: 'p.sgxpol', line: 2, column: 1, offset: 20, endLine: 3, endColumn: 11, endOffset: 38 };
    expect(fields(span)).toEqual(plain);
    expect(JSON.parse(JSON.stringify({ span }))).toEqual({ span: plain });
    expect(Object.keys(span)).toEqual(['line', 'offset', 'endOffset']);
    expect(inspect(span)).not.toContain('subject');
    expect(inspect(span)).toContain('endColumn: 11');
  });
});
