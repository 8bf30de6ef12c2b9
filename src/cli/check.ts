// `sgxpol check FILE [--json] [--werror]`: compile, report, write nothing.
import type { CommandSpec } from './args.js';
import { compilePolicy } from './load.js';
import { countBySeverity, plural } from './print.js';
import { reportDiagnosticsJson, reportDiagnosticsText, summary } from './report.js';

export const checkCommand: CommandSpec = {
  name: 'check',
  summary: 'Check a policy; write nothing.',
  usage: ['check FILE [--json] [--werror]'],
  help: `FILE is the root .sgxpol file; its imports are followed.

options:
  --json      print { "ok": bool, "diagnostics": [...] } on standard output
  --werror    treat warnings as errors (exit 1 when there is any)
  -h, --help  show this help

Diagnostics go to standard error as FILE:LINE:COL: error[CODE]: message, with the
source line and a caret. A one-line summary follows on standard output.

exit status: 0 no errors, 1 errors (or warnings with --werror) or a usage error`,
  options: { json: { type: 'boolean' }, werror: { type: 'boolean' } },
  positionals: [1, 1],
  async run(args, io) {
    const file = args.positionals[0];
    const result = await compilePolicy(io, file);
    const { errors, warnings } = countBySeverity(result.diagnostics);
    const ok = result.ok && errors === 0 && !(args.values.werror === true && warnings > 0);
    if (args.values.json === true) {
      reportDiagnosticsJson(io, ok, result.diagnostics);
    } else {
      reportDiagnosticsText(io, result);
      if (ok) io.stdout.write(summary(file, result) + '\n');
      else if (errors > 0) io.stderr.write(summary(file, result) + '\n');
      else io.stderr.write(`${file}: ${plural(warnings, 'warning')}, treated as errors (--werror)\n`);
    }
    return ok ? 0 : 1;
  },
};
