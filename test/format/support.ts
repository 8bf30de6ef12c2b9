// Helpers for the formatter tests: format with the plugin, make a policy messy (comments and
// odd whitespace between every pair of tokens), and compare the decisions of two policies.
import * as prettier from 'prettier';
import { compileSource, type CompileResult } from '../../src/compiler/compile.js';
import { tokenize } from '../../src/compiler/lexer.js';
import plugin from '../../src/format/plugin.js';
import { Evaluator } from '../../src/runtime/evaluator.js';
import { Prng } from '../support/generators.js';

/** Prettier with the plugin and its defaults only (no configuration files). */
export function format(text: string, options: prettier.Options = {}): Promise<string> {
  return prettier.format(text, { parser: 'sgxpol', plugins: [plugin], ...options });
}

/** The comments of a text, in order, without trailing blanks. */
export function commentsOf(text: string): string[] {
  return tokenize(text, 'x').comments.map((c) => c.text.trimEnd());
}

const SEPARATORS = [' ', '  ', '\n', '\n\n\n', '\t', ' \n  ', '\r\n'];

/**
 * Rewrites `text` token by token: every gap between two tokens (or comments) gets random
 * whitespace, and often a new comment, on its own line or at the end of a line. The tokens
 * and the old comments stay, in order, so the meaning is unchanged.
 */
export function makeMessy(text: string, seed: number, tag = 'c'): string {
  const prng = new Prng(seed);
  const lexed = tokenize(text, 'x');
  const pieces = [
    ...lexed.tokens.map((t) => ({ offset: t.startOffset, text: t.image, comment: false })),
    ...lexed.comments.map((c) => ({ offset: c.span.offset, text: c.text, comment: true })),
  ].sort((a, b) => a.offset - b.offset);
  let out = prng.chance(0.3) ? `# ${tag} head\n\n` : '';
  let n = 0;
  for (const piece of pieces) {
    const r = prng.next();
    if (r < 0.2) out += ` # ${tag}${n++} end of line ; allow * einit *\n`;
    else if (r < 0.35) out += `\n# ${tag}${n++} own line\n`;
    else if (r < 0.4) out += `\n\n\n   # ${tag}${n++} after blank lines\n\n`;
    out += prng.pick(SEPARATORS) + piece.text;
    if (piece.comment) out += '\n';
  }
  return out + (prng.chance(0.5) ? `\n# ${tag} tail\n` : '\n');
}

/** A compact view of one decision; rule ids become program-order indexes, since formatting moves lines. */
export type DecisionView = { decision: string; audit: boolean; rule: string | number | null };

export function evaluatorOf(result: CompileResult): { decide(request: unknown): DecisionView } {
  if (!result.ok || !result.table || !result.program) throw new Error(`does not compile: ${result.diagnostics.map((d) => d.message).join('; ')}`);
  const evaluator = Evaluator.fromTable(result.table);
  const index = new Map(result.program.rules.map((r) => [r.id, r.index]));
  return {
    decide(request: unknown): DecisionView {
      const d = evaluator.decide(request as never);
      const rule = d.rule === null ? null : (index.get(d.rule) ?? d.rule);
      return { decision: d.decision, audit: d.audit, rule };
    },
  };
}

export function compileText(text: string, filename: string): CompileResult {
  return compileSource(text, { filename });
}
