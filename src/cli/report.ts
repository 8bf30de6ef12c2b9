// What `check` and `compile` say about a compilation: diagnostics (text to stderr or JSON to
// stdout) and a one-line summary.
import type { Diagnostic } from '../compiler/diagnostics.js';
import type { CompileResult } from '../compiler/compile.js';
import type { CliIo } from './io.js';
import { countBySeverity, formatDiagnostics, plural } from './print.js';

/** Prints the diagnostics as text on stderr. */
export function reportDiagnosticsText(io: CliIo, result: CompileResult): void {
  io.stderr.write(formatDiagnostics(result.diagnostics, result.sources));
}

/** `{ "ok": …, "diagnostics": […] }` (plus any extra fields) on stdout. */
export function reportDiagnosticsJson(io: CliIo, ok: boolean, diagnostics: readonly Diagnostic[], extra: Record<string, unknown> = {}, compact = false): void {
  io.stdout.write(JSON.stringify({ ok, diagnostics, ...extra }, null, compact ? undefined : 2) + '\n');
}

export function summary(file: string, result: CompileResult): string {
  const { errors, warnings } = countBySeverity(result.diagnostics);
  if (errors > 0) return `${file}: ${plural(errors, 'error')}, ${plural(warnings, 'warning')}`;
  const rules = result.program?.rules.length;
  const parts = [rules === undefined ? undefined : plural(rules, 'rule'), plural(warnings, 'warning')].filter(Boolean);
  return `${file}: ok (${parts.join(', ')})`;
}
