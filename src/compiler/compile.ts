// The compiler's entry points (SPEC 7): source text or a file in, a table and diagnostics out.
import * as path from 'node:path';
import { checkProgram, type CheckOptions } from './check.js';
import { hasErrors, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import type { Program } from './ir.js';
import { lowerProgram } from './lower.js';
import { resolveProgram, type RootInput } from './resolve.js';
import type { TableJson } from '../runtime/table.js';

/** A stage of compilation, reported to `onProgress` as it starts (and, for long stages, as it goes). */
export type CompileStage = 'parse' | 'resolve' | 'check' | 'lower';

/** Called as compilation goes: `done` of `total` units of the stage (files for parse, statements for resolve, rules otherwise). */
export type ProgressListener = (stage: CompileStage, done: number, total: number) => void;

export interface CompileOptions {
  /** The root file's name, used in diagnostics and rule ids, and as the base for relative imports. Default `policy.sgxpol` in the current directory. */
  filename?: string;
  /** Progress of a long compile, for a progress bar. */
  onProgress?: ProgressListener;
  /** Text to use instead of a file on disk (e.g. a language server's open documents), by absolute path; undefined: read the disk. */
  overlay?: (absPath: string) => string | undefined;
  /** Options of the checks (the lints' work limit, say); the defaults are `sgxpol check`'s. */
  check?: CheckOptions;
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
  return compile({ path: path.resolve(options.filename ?? 'policy.sgxpol'), text, overlay: options.overlay }, options.onProgress, options.check);
}

export function compileFile(file: string, options: Omit<CompileOptions, 'filename'> = {}): CompileResult {
  return compile({ path: path.resolve(file), overlay: options.overlay }, options.onProgress, options.check);
}

function compile(root: RootInput, onProgress: ProgressListener = () => {}, check: CheckOptions = {}): CompileResult {
  const { program, diagnostics, sources } = resolveProgram(root, onProgress);
  if (!program || hasErrors(diagnostics)) {
    return { ok: false, diagnostics: sortDiagnostics(diagnostics), program, sources };
  }
  onProgress('check', 0, program.rules.length);
  // A loop, not push(...): a policy can have more warnings than a call may have arguments.
  for (const diagnostic of checkProgram(program, check)) diagnostics.push(diagnostic);
  if (hasErrors(diagnostics)) return { ok: false, diagnostics: sortDiagnostics(diagnostics), program, sources };
  onProgress('lower', 0, program.rules.length);
  const table = lowerProgram(program);
  onProgress('lower', program.rules.length, program.rules.length);
  return { ok: true, table, diagnostics: sortDiagnostics(diagnostics), program, sources };
}
