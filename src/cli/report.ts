// What `check` and `compile` say about a compilation: diagnostics (text to stderr or JSON to
// stdout), the "neverallow not yet verified" note, and a one-line summary.
import { Codes, type Diagnostic } from '../compiler/diagnostics.js';
import type { CompileResult } from '../compiler/compile.js';
import type { CliIo } from './io.js';
import { countBySeverity, formatDiagnostics, plural } from './print.js';

/** Prints the diagnostics as text on stderr, plus the neverallow note when the compiler gave none. */
export function reportDiagnosticsText(io: CliIo, result: CompileResult): void {
  io.stderr.write(formatDiagnostics(result.diagnostics, result.sources));
  const note = neverallowNote(result);
  if (note) io.stderr.write(note);
}

/** `{ "ok": …, "diagnostics": […] }` (plus any extra fields) on stdout. */
export function reportDiagnosticsJson(io: CliIo, ok: boolean, diagnostics: readonly Diagnostic[], extra: Record<string, unknown> = {}): void {
  io.stdout.write(JSON.stringify({ ok, diagnostics, ...extra }, null, 2) + '\n');
}

/**
 * The exact `neverallow` check is not implemented yet (issue 2 defers it). When the compiler
 * does not say so itself (warning W006), the CLI does, so nobody mistakes silence for proof.
 */
export function neverallowNote(result: CompileResult): string {
  const count = result.program?.neverallows.length ?? 0;
  if (count === 0) return '';
  if (result.diagnostics.some((d) => d.code === Codes.NEVERALLOW_NOT_VERIFIED)) return '';
  return `note: ${plural(count, 'neverallow statement')} parsed but not yet verified; the exact check comes in a later release\n`;
}

export function summary(file: string, result: CompileResult): string {
  const { errors, warnings } = countBySeverity(result.diagnostics);
  if (errors > 0) return `${file}: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}`;
  const rules = result.program?.rules.length;
  const parts = [rules === undefined ? undefined : plural(rules, 'rule'), plural(warnings, 'warning')].filter(Boolean);
  return `${file}: ok (${parts.join(', ')})`;
}
