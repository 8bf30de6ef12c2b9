// The compiler's entry points (SPEC 7): source text or a file in, a table and diagnostics out.
import type { Diagnostic } from './diagnostics.js';
import type { Program } from './ir.js';
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
  void text;
  void options;
  throw new Error('TODO: compileSource');
}

export function compileFile(path: string): CompileResult {
  void path;
  throw new Error('TODO: compileFile');
}
