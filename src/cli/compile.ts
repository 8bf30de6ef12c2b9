// `sgxpol compile FILE [-o OUT] [--json]`: compile and write the decision table (SPEC 6).
import { rename, writeFile, unlink } from 'node:fs/promises';
import type { CommandSpec } from './args.js';
import { absolute, systemReason, UserError } from './io.js';
import { compilePolicy } from './load.js';
import { progressPrinter } from './progress.js';
import { reportDiagnosticsJson, reportDiagnosticsText, summary } from './report.js';

export const compileCommand: CommandSpec = {
  name: 'compile',
  summary: 'Check a policy and write its decision table (JSON).',
  usage: ['compile FILE [-o OUT] [--json] [--progress]'],
  help: `FILE is the root .sgxpol file; its imports are followed. The table goes to OUT, or to
standard output without -o (or with -o -). Nothing is written when there are errors; OUT is
replaced atomically, so a failed compile never leaves a partial table behind.

options:
  -o, --output OUT  write the table to OUT
  --json            print { "ok": bool, "diagnostics": [...] } on standard output; without
                    -o the table is included in that object as "table"
  --progress        show progress on standard error (for large policies)
  -h, --help        show this help

exit status: 0 compiled, 1 errors or a usage error`,
  options: { output: { type: 'string', short: 'o' }, json: { type: 'boolean' }, progress: { type: 'boolean' } },
  positionals: [1, 1],
  async run(args, io) {
    const file = args.positionals[0];
    const output = typeof args.values.output === 'string' && args.values.output !== '-' ? args.values.output : undefined;
    const json = args.values.json === true;
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
    const tableText = JSON.stringify(table, null, 2) + '\n';
    if (output !== undefined) await writeAtomically(absolute(io, output), tableText, output);
    if (json) {
      reportDiagnosticsJson(io, true, result.diagnostics, output === undefined ? { table } : {});
    } else {
      reportDiagnosticsText(io, result);
      if (output === undefined) io.stdout.write(tableText);
      io.stderr.write(summary(file, result) + (output === undefined ? '' : `; table written to ${output}`) + '\n');
    }
    return 0;
  },
};

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
