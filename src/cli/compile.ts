// `sgxpol compile FILE [-o OUT] [--json]`: compile and write the decision table (SPEC 6).
import { rename, writeFile, unlink } from 'node:fs/promises';
import type { TableJson } from '../runtime/table.js';
import type { CommandSpec } from './args.js';
import { absolute, MAX_TABLE_BYTES, systemReason, UserError } from './io.js';
import { compilePolicy } from './load.js';
import { progressPrinter } from './progress.js';
import { reportDiagnosticsJson, reportDiagnosticsText, summary } from './report.js';

export const compileCommand: CommandSpec = {
  name: 'compile',
  summary: 'Check a policy and write its decision table (JSON).',
  usage: ['compile FILE [-o OUT] [--compact] [--json] [--progress]'],
  help: `FILE is the root .sgxpol file; its imports are followed. The table goes to OUT, or to
standard output without -o (or with -o -). Nothing is written when there are errors; OUT is
replaced atomically, so a failed compile never leaves a partial table behind. A table is
written indented, two spaces a level, unless --compact; one larger than sgxpol reads back
(256 MiB) is an error, and nothing is written.

options:
  -o, --output OUT  write the table to OUT
  --compact         write the table on one line, without indentation (about 3.5 times
                    smaller; the same JSON value)
  --json            print { "ok": bool, "diagnostics": [...] } on standard output; without
                    -o the table is included in that object as "table"
  --progress        show progress on standard error (for large policies)
  -h, --help        show this help

exit status: 0 compiled, 1 errors or a usage error`,
  options: { output: { type: 'string', short: 'o' }, compact: { type: 'boolean' }, json: { type: 'boolean' }, progress: { type: 'boolean' } },
  positionals: [1, 1],
  async run(args, io) {
    const file = args.positionals[0];
    const output = typeof args.values.output === 'string' && args.values.output !== '-' ? args.values.output : undefined;
    const json = args.values.json === true;
    const compact = args.values.compact === true;
    const progress = args.values.progress === true ? progressPrinter(io) : undefined;
    const result = await compilePolicy(io, file, progress?.listener);
    progress?.finish();
    const table = result.ok ? result.table : undefined;
    if (table === undefined) {
      if (json) reportDiagnosticsJson(io, false, result.diagnostics);
      else {
        reportDiagnosticsText(io, result);
        io.stderr.write(summary(file, result) + '\n');
      }
      return 1;
    }
    const tableText = tableJsonText(table, compact);
    if (output !== undefined) await writeAtomically(absolute(io, output), tableText, output);
    if (json) {
      reportDiagnosticsJson(io, true, result.diagnostics, output === undefined ? { table } : {}, compact);
    } else {
      reportDiagnosticsText(io, result);
      if (output === undefined) io.stdout.write(tableText);
      io.stderr.write(summary(file, result) + (output === undefined ? '' : `; table written to ${output}`) + '\n');
    }
    return 0;
  },
};

/**
 * The table as the JSON text `compile` writes, with a newline; a UserError when that text is
 * larger than `limit` bytes (what sgxpol reads back as a table) or than the longest string
 * Node can hold, so that compile never writes a table its own commands would refuse.
 */
export function tableJsonText(table: TableJson, compact: boolean, limit = MAX_TABLE_BYTES): string {
  const hint = compact
    ? 'shorten the `because` texts, or split the policy into several tables'
    : 'try --compact (about 3.5 times smaller)';
  let text: string;
  try {
    text = JSON.stringify(table, null, compact ? undefined : 2) + '\n';
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new UserError(`the table is too large to write: its JSON text is longer than Node can hold (about 512 MiB); ${hint}`);
  }
  const bytes = Buffer.byteLength(text);
  if (bytes > limit) {
    throw new UserError(`the table is too large to write: ${bytes} bytes, over the ${limit} bytes sgxpol reads back as a table; ${hint}`);
  }
  return text;
}

async function writeAtomically(path: string, text: string, shown: string): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, text);
    await rename(temporary, path);
  } catch (e) {
    await unlink(temporary).catch(() => undefined);
    throw new UserError(`cannot write ${shown}: ${systemReason(e)}`);
  }
}
