import { describe, expect, it } from 'vitest';
import { tokenize } from '../../src/compiler/lexer.js';
import { parser, SgxpolParser } from '../../src/compiler/parser.js';

describe('SPEC 3.2 grammar, as chevrotain sees it', () => {
  it('exports one reusable parser whose grammar can be serialized for railroad diagrams', () => {
    expect(parser).toBeInstanceOf(SgxpolParser);
    const rules = parser.getSerializedGastProductions().map((p) => (p as unknown as { name: string }).name);
    for (const rule of [
      'file', 'statement', 'policyDecl', 'importDecl', 'defaultDecl', 'setDecl', 'measItem', 'subjectDecl', 'subjExpr', 'subjAnd',
      'subjUnary', 'subjAtom', 'subjPred', 'ruleDecl', 'neverallowDecl', 'subjects', 'objects', 'object', 'cond', 'condAnd',
      'condUnary', 'condAtom',
    ]) {
      expect(rules).toContain(rule);
    }
  });

  it('parses token vectors repeatedly with no state carried over', () => {
    const bad = parser.parseTokens(tokenize('allow a einit signer', 'f').tokens);
    expect(bad.recoveredNode).toBe(true);
    expect(parser.errors).toHaveLength(1);
    const good = parser.parseTokens(tokenize('allow a einit *;', 'f').tokens);
    expect(parser.errors).toEqual([]);
    expect(good.children.topLevel).toHaveLength(1);
  });

  it('records comments nowhere in the CST (they go to SourceFile.comments)', () => {
    const cst = parser.parseTokens(tokenize('# c\nallow a einit *; # d', 'f').tokens);
    expect(JSON.stringify(cst)).not.toContain('# c');
  });

  it('never lets one statement consume the next line that starts a statement', () => {
    const cst = parser.parseTokens(tokenize('allow a einit\nallow b einit *;', 'f').tokens);
    const items = cst.children.topLevel ?? [];
    expect(items).toHaveLength(2);
  });
});
