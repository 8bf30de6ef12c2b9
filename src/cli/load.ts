// Turning a POLICY argument into an Evaluator: either compile a `.sgxpol` root file or load a
// compiled decision table. Shared by `eval` and `test`.
import { dirname, extname, isAbsolute, relative, resolve, sep } from 'node:path';
import { compileFile, type CompileResult, type ProgressListener } from '../compiler/compile.js';
import { Evaluator } from '../runtime/evaluator.js';
import { absolute, assertReadableFile, MAX_TABLE_BYTES, parseUserJson, readUserFile, UserError, type CliIo } from './io.js';
import { formatDiagnostics } from './print.js';

/**
 * How a POLICY argument is told apart: `.json` is a compiled table, `.sgxpol` a policy source;
 * any other name is a table when its first non-blank character is `{` (no policy statement can
 * start with one), and a policy source otherwise.
 */
export function isTableFile(path: string, text: string): boolean {
  const ext = extname(path).toLowerCase();
  if (ext === '.json') return true;
  if (ext === '.sgxpol') return false;
  return /^\uFEFF?\s*\{/.test(text);
}

/**
 * Compiles a root policy file. A missing or unreadable root file is a UserError (one line),
 * not a diagnostic dump; everything after that is the compiler's diagnostics.
 */
export async function compilePolicy(io: CliIo, file: string, onProgress?: ProgressListener): Promise<CompileResult> {
  await assertReadableFile(io, file, 'policy');
  if (extname(file).toLowerCase() === '.json') {
    throw new UserError(`${file} looks like a compiled table; this command needs the policy source (a .sgxpol file)`);
  }
  return compileRoot(io, file, onProgress);
}

/**
 * compileFile, with diagnostics and sources renamed for the person at the terminal: the
 * compiler names files relative to the root file's folder (as rule ids do); the CLI names
 * them as paths that open from where the command ran — relative to the working directory,
 * or absolute when FILE was given as an absolute path.
 */
function compileRoot(io: CliIo, file: string, onProgress?: ProgressListener): CompileResult {
  const rootPath = absolute(io, file);
  const result = compileFile(rootPath, { onProgress });
  const rootDir = dirname(rootPath);
  const shown = (name: string): string => {
    const full = resolve(rootDir, name);
    return isAbsolute(file) ? full : relative(io.cwd, full).split(sep).join('/') || name;
  };
  return {
    ...result,
    diagnostics: result.diagnostics.map((d) => ({
      ...d,
      file: shown(d.file),
      ...(d.related ? { related: d.related.map((r) => ({ ...r, file: shown(r.file) })) } : {}),
    })),
    sources: new Map([...result.sources].map(([name, text]) => [shown(name), text])),
  };
}

/**
 * An Evaluator for POLICY, or undefined when the policy does not compile (its errors have then
 * been printed to stderr). A table that the evaluator refuses is a UserError that says why.
 */
export async function loadEvaluator(io: CliIo, file: string): Promise<Evaluator | undefined> {
  if (extname(file).toLowerCase() !== '.sgxpol') {
    const text = (await readUserFile(io, file, 'policy', MAX_TABLE_BYTES)).toString('utf8');
    if (isTableFile(file, text)) return loadTable(file, text);
  }
  const result = await compilePolicy(io, file);
  if (!result.ok || !result.table) {
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    io.stderr.write(formatDiagnostics(errors, result.sources));
    if (errors.length === 0) io.stderr.write(`sgxpol: ${file}: the compiler produced no table\n`);
    return undefined;
  }
  return Evaluator.fromTable(result.table);
}

function loadTable(file: string, text: string): Evaluator {
  const table = parseUserJson(text, `table ${file}`);
  try {
    return Evaluator.fromTable(table);
  } catch (e) {
    throw new UserError(`refused table ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
