// Diagnostics as text: `FILE:LINE:COL: error[CODE]: message`, the source line, a caret under
// the column, then related places as notes. The compiler returns data; only this file formats it.
import type { Diagnostic } from '../compiler/diagnostics.js';

/** Longest source line shown whole; longer lines are shown as a window around the column. */
const MAX_SHOWN_LINE = 160;
const WINDOW_BEFORE = 70;

export function formatDiagnostic(d: Diagnostic, sources: ReadonlyMap<string, string>): string {
  let out = `${d.file}:${d.line}:${d.column}: ${d.severity}[${d.code}]: ${d.message}\n`;
  const excerpt = sourceExcerpt(sources.get(d.file), d.line, d.column);
  if (excerpt) out += excerpt;
  for (const r of d.related ?? []) out += `  note: ${r.file}:${r.line}:${r.column}: ${r.message}\n`;
  if (d.witness !== undefined) out += `  witness: ${JSON.stringify(d.witness)}\n`;
  return out;
}

export function formatDiagnostics(diagnostics: readonly Diagnostic[], sources: ReadonlyMap<string, string>): string {
  return diagnostics.map((d) => formatDiagnostic(d, sources)).join('');
}

/** The line and a caret under the column, both indented four spaces; '' when the line is unknown. */
function sourceExcerpt(text: string | undefined, line: number, column: number): string {
  if (text === undefined || line < 1) return '';
  const lineText = nthLine(text, line);
  if (lineText === undefined) return '';
  let shown = lineText;
  let caretAt = Math.max(0, Math.min(column - 1, lineText.length));
  if (shown.length > MAX_SHOWN_LINE) {
    const start = Math.max(0, caretAt - WINDOW_BEFORE);
    const end = Math.min(shown.length, start + MAX_SHOWN_LINE);
    shown = (start > 0 ? '…' : '') + shown.slice(start, end) + (end < lineText.length ? '…' : '');
    caretAt = caretAt - start + (start > 0 ? 1 : 0);
  }
  // One visible character per source character, so the caret stays aligned.
  // eslint-disable-next-line no-control-regex
  shown = shown.replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, '\ufffd');
  // Keep tabs in the padding so the caret lines up however the terminal renders them.
  const pad = shown.slice(0, caretAt).replace(/[^\t]/g, ' ');
  return `    ${shown}\n    ${pad}^\n`;
}

/**
 * Where each line of a text starts, for the texts diagnostics were last shown from (a policy
 * with 130,000 warnings took 53 s when each line was found by scanning from the top).
 */
const lineStartsOf = new Map<string, number[]>();
const LINE_STARTS_KEPT = 8;

function lineStarts(text: string): number[] {
  let starts = lineStartsOf.get(text);
  if (starts === undefined) {
    starts = [0];
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', nl + 1)) starts.push(nl + 1);
    if (lineStartsOf.size >= LINE_STARTS_KEPT) lineStartsOf.clear();
    lineStartsOf.set(text, starts);
  }
  return starts;
}

function nthLine(text: string, line: number): string | undefined {
  const starts = lineStarts(text);
  if (line > starts.length) return undefined;
  const start = starts[line - 1];
  const end = line < starts.length ? starts[line] - 1 : text.length;
  const raw = text.slice(start, end);
  return raw.endsWith('\r') ? raw.slice(0, -1) : raw;
}

export function countBySeverity(diagnostics: readonly Diagnostic[]): { errors: number; warnings: number } {
  let errors = 0;
  let warnings = 0;
  for (const d of diagnostics) {
    if (d.severity === 'error') errors++;
    else warnings++;
  }
  return { errors, warnings };
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
