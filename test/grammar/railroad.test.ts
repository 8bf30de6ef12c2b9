// grammar/railroad.html (scripts/railroad.mjs): self-contained, and drawn from the parser as it is.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parser } from '../../src/compiler/parser.js';

const html = readFileSync(new URL('../../grammar/railroad.html', import.meta.url), 'utf8');

describe('railroad diagrams', () => {
  it('load nothing from the network (scripts and styles are inlined)', () => {
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link /);
    expect(html).not.toContain('unpkg');
    expect(html).toContain('drawDiagramsFromSerializedGrammar');
  });

  it('show every rule of the parser, in its order (rerun `npm run railroad` after changing the grammar)', () => {
    const embedded = /window\.serializedGrammar = (\[[\s\S]*?\n\]);/.exec(html);
    expect(embedded).not.toBeNull();
    const rules = (JSON.parse(embedded![1]) as { name: string }[]).map((r) => r.name);
    expect(rules).toEqual(parser.getSerializedGastProductions().map((r) => (r as unknown as { name: string }).name));
  });

  it('draw the grammar the parser records, alternative by alternative (labels aside)', () => {
    // Also guards the parser's cached alternatives and bodies (parser.ts): a cache key used at
    // two places would record one place's alternatives at the other.
    const withoutLabels = (value: unknown): unknown =>
      JSON.parse(JSON.stringify(value), (key, v: unknown) => (key === 'label' ? undefined : v));
    const embedded = /window\.serializedGrammar = (\[[\s\S]*?\n\]);/.exec(html);
    expect(withoutLabels(JSON.parse(embedded![1]))).toEqual(withoutLabels(parser.getSerializedGastProductions()));
  });

  it('label tokens as they are written', () => {
    expect(html).toContain('"label": "allow | deny"');
    expect(html).toContain('"label": "IDENT"');
    expect(html).toContain('"label": "neverallow"');
  });
});
