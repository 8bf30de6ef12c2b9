// Diagnostics are plain data: a stable code, a severity, a place, a message and related places.
// Every stage returns them; only the CLI turns them into text.
import type { Span } from './ast.js';

export type Severity = 'error' | 'warning';

export interface RelatedLocation {
  message: string;
  file: string;
  line: number;
  column: number;
}

export interface Diagnostic {
  code: DiagnosticCode;
  severity: Severity;
  message: string;
  file: string;
  line: number;
  column: number;
  endLine?: number;
  endColumn?: number;
  related?: RelatedLocation[];
  /** Extra structured data for tools (e.g. a neverallow witness request). */
  witness?: unknown;
}

/**
 * Stable diagnostic codes. Never renumber; add new codes at the end of their group.
 * E0xx: syntax; E1xx: names and structure; E2xx: values; E3xx: files and imports;
 * E4xx: policy analysis; E9xx: limits. W: warnings.
 */
export const Codes = {
  // syntax
  SYNTAX: 'E001',
  LEX: 'E002',
  UNTERMINATED_STRING: 'E003',
  // names and structure
  UNKNOWN_NAME: 'E101',
  DUPLICATE_NAME: 'E102',
  WRONG_KIND: 'E103',
  RECURSIVE_DEFINITION: 'E104',
  POLICY_NOT_ROOT: 'E105',
  POLICY_TWICE: 'E106',
  DEFAULT_NOT_ROOT: 'E107',
  DEFAULT_TWICE: 'E108',
  // values
  BAD_MEASUREMENT: 'E201',
  NUMBER_OUT_OF_RANGE: 'E202',
  EMPTY_RANGE: 'E203',
  BAD_PATH: 'E204', // retired: a path that can never match is warning W008
  // files and imports
  IMPORT_NOT_FOUND: 'E301',
  IMPORT_CYCLE: 'E302',
  IMPORT_NOT_SGXPOL: 'E303',
  FILE_UNREADABLE: 'E304',
  // analysis
  NEVERALLOW_VIOLATED: 'E401',
  ANALYSIS_INCOMPLETE: 'E402',
  // limits
  FILE_TOO_LARGE: 'E901',
  TOO_MANY_RULES: 'E902',
  IMPORT_TOO_DEEP: 'E903',
  STRING_TOO_LONG: 'E904',
  GLOB_TOO_LONG: 'E905',
  NESTING_TOO_DEEP: 'E906',
  // warnings
  RULE_NEVER_MATCHES: 'W001',
  DUPLICATE_RULE: 'W002',
  DEFAULT_ALLOW: 'W003',
  KVM_HOLDS_ONLY: 'W004',
  RULE_SHADOWED: 'W005',
  // W006 was "neverallow not yet verified", retired when the exact check arrived.
  LINTS_INCOMPLETE: 'W007',
  PATH_NEVER_MATCHES: 'W008',
} as const;

export type DiagnosticCode = (typeof Codes)[keyof typeof Codes];

export function diagnostic(
  code: DiagnosticCode,
  severity: Severity,
  span: Span,
  message: string,
  related?: { message: string; span: Span }[],
): Diagnostic {
  const d: Diagnostic = {
    code,
    severity,
    message,
    file: span.file,
    line: span.line,
    column: span.column,
    endLine: span.endLine,
    endColumn: span.endColumn,
  };
  if (related && related.length > 0) {
    d.related = related.map((r) => ({ message: r.message, file: r.span.file, line: r.span.line, column: r.span.column }));
  }
  return d;
}

export const error = (code: DiagnosticCode, span: Span, message: string, related?: { message: string; span: Span }[]) =>
  diagnostic(code, 'error', span, message, related);
export const warning = (code: DiagnosticCode, span: Span, message: string, related?: { message: string; span: Span }[]) =>
  diagnostic(code, 'warning', span, message, related);

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Orders diagnostics by file, line, column, then code, so output is stable. */
export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.sort(
    (a, b) =>
      (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.line - b.line || a.column - b.column || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0),
  );
}

/** Edit distance with adjacent transpositions (optimal string alignment), case-insensitive. */
function editDistance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  let before: number[] = [];
  let prev: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2] + 1);
      cur.push(d);
    }
    before = prev;
    prev = cur;
  }
  return prev[b.length];
}

/** The closest candidate to `name`, when one is close enough to be a likely typo. */
export function suggest(name: string, candidates: Iterable<string>): string | undefined {
  const max = name.length <= 3 ? 1 : name.length <= 6 ? 2 : 3;
  let best: string | undefined;
  let bestDistance = max + 1;
  for (const candidate of candidates) {
    if (Math.abs(candidate.length - name.length) > max) continue;
    const d = editDistance(name, candidate);
    if (d < bestDistance || (d === bestDistance && best !== undefined && candidate < best)) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= max ? best : undefined;
}
