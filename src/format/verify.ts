// The formatter's safety net: formatted text must say exactly what the original said. Checked
// on every `sgxpol fmt` and language-server format, so a printer bug refuses to write a file
// instead of changing a policy.
import type { SourceFile } from '../compiler/ast.js';
import { parseSource } from '../compiler/parse.js';
import { tokenize, LParen, RParen } from '../compiler/lexer.js';

/** The syntax tree without places, with nested `and`s (and `or`s) merged: equal trees mean the same policy. */
export function canonicalTree(file: SourceFile): string {
  return JSON.stringify(file.statements, (key, value: unknown) => {
    if (key === 'span' || key === 'file') return undefined;
    if (value !== null && typeof value === 'object' && 'operands' in value && 'kind' in value) {
      const node = value as { kind: string; operands: { kind: string; operands?: unknown[] }[] };
      const operands = node.operands.flatMap((o) => (o.kind === node.kind && o.operands ? flattened(o as typeof node) : [o]));
      return { kind: node.kind, operands };
    }
    return value;
  });
}

function flattened(node: { kind: string; operands: { kind: string; operands?: unknown[] }[] }): unknown[] {
  return node.operands.flatMap((o) => (o.kind === node.kind && o.operands ? flattened(o as typeof node) : [o]));
}

/** The tokens without parentheses, measurement literals lower-cased. */
function tokenImages(text: string): string[] {
  return tokenize(text, 'x').tokens
    .filter((t) => t.tokenType !== LParen && t.tokenType !== RParen)
    .map((t) => (/^"[0-9a-fA-F]{64}"$/.test(t.image) ? t.image.toLowerCase() : t.image));
}

/** Comment texts in order, without trailing blanks (the printer trims line ends). */
export function commentTexts(text: string): string[] {
  return tokenize(text, 'x').comments.map((c) => c.text.trimEnd());
}

/** Why `formatted` is not a faithful rewrite of `original`, or undefined when it is. */
export function formattingProblem(original: string, formatted: string): string | undefined {
  const before = parseSource(original, 'original.sgxpol');
  const after = parseSource(formatted, 'formatted.sgxpol');
  if (after.diagnostics.some((d) => d.severity === 'error')) return `the formatted text does not parse: ${after.diagnostics[0].message}`;
  if (canonicalTree(before.file) !== canonicalTree(after.file)) return 'the formatted policy has a different syntax tree';
  const a = tokenImages(original);
  const b = tokenImages(formatted);
  if (a.length !== b.length || a.some((t, i) => t !== b[i])) return 'the formatted policy has different tokens';
  const ca = commentTexts(original);
  const cb = commentTexts(formatted);
  if (ca.length !== cb.length || ca.some((c, i) => c !== cb[i])) return 'the formatted policy lost, added or reordered a comment';
  return undefined;
}
