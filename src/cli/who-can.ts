// `sgxpol who-can POLICY (--signer HEX | --enclave HEX | --sigstruct FILE) [--via host|kvm]`:
// which subjects may launch that enclave, by which rule, under which conditions.
import type { Program } from '../compiler/ir.js';
import { measurementWords, whoCan, type AccessGroup, type EnclaveQuery, type GroupShape } from '../compiler/analysis/queries.js';
import { normalizeEnclave } from '../runtime/request.js';
import type { RequestJson } from '../runtime/types.js';
import { UsageError, type CommandSpec } from './args.js';
import { readUserFile, UserError, type CliIo } from './io.js';
import { compilePolicy } from './load.js';
import { formatDiagnostics } from './print.js';

export const whoCanCommand: CommandSpec = {
  name: 'who-can',
  summary: 'List the subjects that may launch an enclave, and by which rule.',
  usage: ['who-can POLICY (--signer HEX | --enclave HEX | --sigstruct FILE) [--via host|kvm] [--json]'],
  help: `POLICY is the root .sgxpol file. The enclave is given by its MRSIGNER (--signer), its
MRENCLAVE (--enclave), or a SIGSTRUCT file (--sigstruct: every identity field is then
fixed: both measurements, ISVPRODID, ISVSVN and the attributes). Every valid request for
that enclave is considered, not a sample; the allowed ones are grouped by the rule that
allows them. Each row gives the rule, the paths, the subject classes every allowed
subject is in (and those only some are in), the conditions on whatever the enclave
option leaves open (ISVPRODID, ISVSVN, attributes, the other measurement), and one
example subject.

options:
  --signer HEX      the enclave's MRSIGNER (64 hex digits)
  --enclave HEX     the enclave's MRENCLAVE (64 hex digits)
  --sigstruct FILE  the enclave's SIGSTRUCT (1808 bytes)
  --via P           only launches on path P (host or kvm)
  --json            print { "query", "complete", "groups": [...] }
  -h, --help        show this help

exit status: 0 answered (even when nobody may launch it), 1 error`,
  options: { signer: { type: 'string' }, enclave: { type: 'string' }, sigstruct: { type: 'string' }, via: { type: 'string' }, json: { type: 'boolean' } },
  positionals: [1, 1],
  async run(args, io) {
    const given = (['signer', 'enclave', 'sigstruct'] as const).filter((k) => typeof args.values[k] === 'string');
    if (given.length !== 1) throw new UsageError('give exactly one of --signer, --enclave, --sigstruct');
    const via = viaOption(args.values.via);
    const query: EnclaveQuery = { via };
    let what: string;
    if (typeof args.values.signer === 'string') {
      query.mrsigner = measurementOption('--signer', args.values.signer);
      what = `enclaves with MRSIGNER ${query.mrsigner}`;
    } else if (typeof args.values.enclave === 'string') {
      query.mrenclave = measurementOption('--enclave', args.values.enclave);
      what = `the enclave with MRENCLAVE ${query.mrenclave}`;
    } else {
      const file = args.values.sigstruct as string;
      const bytes = await readUserFile(io, file, 'SIGSTRUCT file');
      const check = normalizeEnclave({ sigstruct: bytes.toString('base64') });
      if (!check.ok) throw new UserError(`${file} cannot be launched by anyone: ${check.reason}`);
      const e = check.enclave;
      Object.assign(query, { mrsigner: e.mrsigner, mrenclave: e.mrenclave, isvprodid: e.isvprodid, isvsvn: e.isvsvn, attributeBits: e.attributeBits });
      what = `the enclave of ${file} (MRENCLAVE ${e.mrenclave}, MRSIGNER ${e.mrsigner}, ISVPRODID ${e.isvprodid}, ISVSVN ${e.isvsvn})`;
    }
    const program = await programOf(io, args.positionals[0]);
    if (program === undefined) return 1;

    const outcome = whoCan(program, query);
    if (outcome.status === 'unknown') throw new UserError(`could not answer: ${outcome.reason}`);
    if (args.values.json === true) {
      io.stdout.write(JSON.stringify({ query, complete: outcome.complete, groups: outcome.groups.map(groupJson) }, null, 2) + '\n');
      return 0;
    }
    const sets = namedSets(program, query);
    let out = `who may launch ${what}${sets ? ` (${sets})` : ''}${via ? ` via ${via}` : ''}:\n`;
    if (outcome.groups.length === 0) out += '  nobody: every such request is denied\n';
    else {
      const rows = outcome.groups.map((g) => [g.rule, g.shape.via.join(', '), subjectsCell(g), conditionsCell(g.shape, query), exampleSubject(g.witness)]);
      out += formatTable(['RULE', 'VIA', 'SUBJECTS', 'CONDITIONS', 'EXAMPLE SUBJECT'], rows);
    }
    if (!outcome.complete) out += `(the listing stops after ${outcome.groups.length} rules; there may be more)\n`;
    io.stdout.write(out);
    return 0;
  },
};

export function groupJson(g: AccessGroup): Record<string, unknown> {
  return {
    rule: g.rule,
    because: g.because ?? null,
    via: g.shape.via,
    subjects: { always: g.subjectsAlways, sometimes: g.subjectsSometimes },
    conditions: {
      isvprodid: g.shape.isvprodid,
      isvsvn: g.shape.isvsvn,
      attributesRequired: g.shape.attributesRequired,
      attributesForbidden: g.shape.attributesForbidden,
      mrsigner: g.shape.mrsigner,
      mrenclave: g.shape.mrenclave,
    },
    description: g.description,
    witness: g.witness,
  };
}

function subjectsCell(g: AccessGroup): string {
  const parts: string[] = [];
  if (g.subjectsAlways.length > 0) parts.push(g.subjectsAlways.join(', '));
  if (g.subjectsSometimes.length > 0) parts.push(`some in ${g.subjectsSometimes.join(', ')}`);
  return parts.length > 0 ? parts.join('; ') : 'subjects in no named class';
}

/** The conditions on what the query leaves open. */
export function conditionsCell(shape: GroupShape, fixed: EnclaveQuery): string {
  const parts: string[] = [];
  const numbers = (name: string, ranges: [number, number][]) => {
    if (ranges.length === 1 && ranges[0][0] === 0 && ranges[0][1] === 65535) return;
    parts.push(`${name} ${ranges.map(([lo, hi]) => (lo === hi ? `${lo}` : hi === 65535 ? `>= ${lo}` : `${lo}..${hi}`)).join(', ')}`);
  };
  if (fixed.mrsigner === undefined && !shape.mrsigner.any) parts.push(measurementWords(shape.mrsigner, 'signer'));
  if (fixed.mrenclave === undefined && !shape.mrenclave.any) parts.push(measurementWords(shape.mrenclave, 'enclave'));
  if (fixed.isvprodid === undefined) numbers('isvprodid', shape.isvprodid);
  if (fixed.isvsvn === undefined) numbers('isvsvn', shape.isvsvn);
  if (fixed.attributeBits === undefined) {
    if (shape.attributesRequired.length > 0) parts.push(`with ${shape.attributesRequired.join(', ')}`);
    if (shape.attributesForbidden.length > 0) parts.push(`without ${shape.attributesForbidden.join(', ')}`);
  }
  return parts.length > 0 ? parts.join('; ') : 'none';
}

export function exampleSubject(witness: RequestJson): string {
  const s = witness.subject;
  const parts = [s.exe, `uid ${s.uid}`, `gid ${s.gid}`];
  if (s.label !== undefined) parts.push(`label ${JSON.stringify(s.label)}`);
  if (s.holds !== undefined && s.holds.length > 0) parts.push(`holds ${s.holds.join(' ')}`);
  return parts.join(' ');
}

export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => '  ' + cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ') + '\n';
  return line(header) + rows.map(line).join('');
}

export function viaOption(value: string | boolean | undefined): 'host' | 'kvm' | undefined {
  if (value === undefined) return undefined;
  if (value === 'host' || value === 'kvm') return value;
  throw new UsageError(`--via must be host or kvm, not '${String(value)}'`);
}

function measurementOption(option: string, value: string): string {
  if (!/^[0-9a-fA-F]{64}$/.test(value)) throw new UsageError(`${option} must be 64 hex digits`);
  return value.toLowerCase();
}

function namedSets(program: Program, query: EnclaveQuery): string {
  const names: string[] = [];
  for (const [kind, sets, value] of [
    ['signer', program.signers, query.mrsigner],
    ['enclave', program.enclaves, query.mrenclave],
  ] as const) {
    if (value === undefined) continue;
    const hits = [...sets.values()].filter((s) => s.values.includes(value)).map((s) => s.name);
    if (hits.length > 0) names.push(`${kind} ${hits.join(', ')}`);
  }
  return names.join('; ');
}

/** The policy's program, or undefined after printing its errors. */
export async function programOf(io: CliIo, file: string): Promise<Program | undefined> {
  const result = await compilePolicy(io, file);
  if (!result.ok || result.program === undefined) {
    io.stderr.write(formatDiagnostics(result.diagnostics.filter((d) => d.severity === 'error'), result.sources));
    return undefined;
  }
  return result.program;
}

