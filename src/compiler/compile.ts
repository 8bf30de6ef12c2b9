// The compiler's entry points (SPEC 7): source text or a file in, a table and diagnostics out.
import * as path from 'node:path';
import { checkProgram } from './check.js';
import { hasErrors, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import type { Program } from './ir.js';
import { lowerProgram } from './lower.js';
import { resolveProgram, type RootInput } from './resolve.js';
import type { TableJson } from '../runtime/table.js';

export interface CompileOptions {
  /** The root file's name, used in diagnostics and rule ids, and as the base for relative imports. Default `policy.sgxpol` in the current directory. */
  filename?: string;
}

export interface CompileResult {
  /** True when there is no error (warnings allowed). */
  ok: boolean;
  /** The decision table, when ok. */
  table?: TableJson;
  /** Sorted by file, line, column. */
  diagnostics: Diagnostic[];
  /** The resolved program, when resolution got that far (used by tests, the CLI and analyses). */
  program?: Program;
  /** Every source file read, by the name diagnostics use: for printing source lines under a diagnostic. */
  sources: Map<string, string>;
}

export function compileSource(text: string, options: CompileOptions = {}): CompileResult {
  return compile({ path: path.resolve(options.filename ?? 'policy.sgxpol'), text });
}

export function compileFile(file: string): CompileResult {
  return compile({ path: path.resolve(file) });
}

function compile(root: RootInput): CompileResult {
  const { program, diagnostics, sources } = resolveProgram(root);
  if (!program || hasErrors(diagnostics)) {
    return { ok: false, diagnostics: sortDiagnostics(diagnostics), program, sources };
  }
  diagnostics.push(...checkProgram(program));
  if (hasErrors(diagnostics)) return { ok: false, diagnostics: sortDiagnostics(diagnostics), program, sources };
  return { ok: true, table: lowerProgram(program), diagnostics: sortDiagnostics(diagnostics), program, sources };
}
