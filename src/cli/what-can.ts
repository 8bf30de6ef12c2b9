// `sgxpol what-can POLICY --subject JSON [--via host|kvm]`: which enclaves a process may
// launch, by which rule, under which conditions.
import { measurementWords, whatCan } from '../compiler/analysis/queries.js';
import { normalizeSubject } from '../runtime/request.js';
import { UsageError, type CommandSpec } from './args.js';
import { parseUserJson, readStdin, readUserFile, UserError, type CliIo } from './io.js';
import { conditionsCell, formatTable, groupJson, programOf, viaOption } from './who-can.js';

export const whatCanCommand: CommandSpec = {
  name: 'what-can',
  summary: 'List the enclaves a process may launch, and by which rule.',
  usage: ['what-can POLICY --subject JSON [--via host|kvm] [--json]'],
  help: `POLICY is the root .sgxpol file. The subject is the "subject" object of a request
(SPEC 2: exe, uid, gid, optional label and holds), given inline ('{"exe": …}'), as a file
name, or '-' for standard input. Every valid request from that subject is considered, not
a sample; the allowed ones are grouped by the rule that allows them. Each row gives the
rule, the paths, the signers and enclaves, and the conditions on ISVPRODID, ISVSVN and the
attributes.

options:
  --subject JSON  the subject: inline JSON, a file, or '-'
  --via P         only launches on path P (host or kvm)
  --json          print { "subject", "complete", "groups": [...] }
  -h, --help      show this help

exit status: 0 answered (even when nothing may be launched), 1 error`,
  options: { subject: { type: 'string' }, via: { type: 'string' }, json: { type: 'boolean' } },
  positionals: [1, 1],
  async run(args, io) {
    const subjectArg = args.values.subject;
    if (typeof subjectArg !== 'string') throw new UsageError('--subject is required (JSON, a file, or -)');
    const via = viaOption(args.values.via);
    const raw = await readSubject(io, subjectArg);
    const check = normalizeSubject(raw);
    if (!check.ok) throw new UserError(`the subject is not valid (every request from it is denied): ${check.reason}`);
    const program = await programOf(io, args.positionals[0]);
    if (program === undefined) return 1;

    const outcome = whatCan(program, check.subject, via);
    if (outcome.status === 'unknown') throw new UserError(`could not answer: ${outcome.reason}`);
    if (args.values.json === true) {
      io.stdout.write(JSON.stringify({ subject: raw, via: via ?? null, complete: outcome.complete, groups: outcome.groups.map(groupJson) }, null, 2) + '\n');
      return 0;
    }
    const s = check.subject;
    const classes = outcome.groups[0]?.subjectsAlways ?? [];
    let out = `what ${s.exe} (uid ${s.uid}, gid ${s.gid}${s.label !== undefined ? `, label ${JSON.stringify(s.label)}` : ''}${s.holds.length > 0 ? `, holds ${s.holds.join(' ')}` : ''}) may launch${via ? ` via ${via}` : ''}:\n`;
    if (classes.length > 0) out += `  (subject classes: ${classes.join(', ')})\n`;
    if (outcome.groups.length === 0) out += '  nothing: every launch by this subject is denied\n';
    else {
      const rows = outcome.groups.map((g) => [
        g.rule,
        g.shape.via.join(', '),
        measurementWords(g.shape.mrsigner, 'signer'),
        measurementWords(g.shape.mrenclave, 'enclave'),
        conditionsCell(g.shape, { mrsigner: '', mrenclave: '' }),
      ]);
      out += formatTable(['RULE', 'VIA', 'SIGNERS', 'ENCLAVES', 'CONDITIONS'], rows);
    }
    if (!outcome.complete) out += `(the listing stops after ${outcome.groups.length} rules; there may be more)\n`;
    io.stdout.write(out);
    return 0;
  },
};

async function readSubject(io: CliIo, value: string): Promise<unknown> {
  if (value === '-') return parseUserJson((await readStdin(io)).toString('utf8'), 'the subject on standard input');
  if (value.trimStart().startsWith('{')) return parseUserJson(value, 'the --subject value');
  return parseUserJson((await readUserFile(io, value, 'subject file')).toString('utf8'), `subject file ${value}`);
}
