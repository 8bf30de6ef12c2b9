// `sgxpol eval POLICY --request REQ.json|- [--json]`: one decision (SPEC 5).
import type { Decision } from '../runtime/types.js';
import { UsageError, type CommandSpec } from './args.js';
import { parseUserJson, readStdin, readUserFile, type CliIo } from './io.js';
import { explainDecision } from './explain.js';
import { loadEvaluator } from './load.js';

export const evalCommand: CommandSpec = {
  name: 'eval',
  summary: 'Decide one request (exit 0 allow, 2 deny).',
  usage: ['eval POLICY --request REQ.json [--json] [--explain]', 'eval POLICY --request - [--json]   (request on standard input)'],
  help: `POLICY is a .sgxpol root file (compiled on the fly) or a table written by
\`sgxpol compile\`. A .json file is a table and a .sgxpol file a policy; any other name is a
table when it starts with '{'. A table is validated and its digest checked before use.

The request is the JSON of the spec's section 2. A request that is valid JSON but breaks
the request rules (a missing field, a relative exe, bad hex, ...) is not an error: it is
decided, and the decision is deny.

options:
  -r, --request FILE  the request as JSON; '-' reads it from standard input
  --json              print the decision object on one line:
                      {"decision":…,"rule":…,"audit":…,"reason":…}
  --explain           also list every rule that matches and why the deciding one won;
                      for a deny no rule made, the nearest allow rules and the first
                      condition of each that failed (POLICY must be a .sgxpol file;
                      with --json, the object gets an "explanation" field)
  -h, --help          show this help

Without --json the decision is printed as one readable line, e.g.
  allow by host.sgxpol:12 (audit): Intel's quoting enclave

exit status: 0 allow, 2 deny, 1 error (policy does not compile, table refused,
request not readable or not JSON, usage error)`,
  options: { request: { type: 'string', short: 'r' }, json: { type: 'boolean' }, explain: { type: 'boolean' } },
  positionals: [1, 1],
  async run(args, io) {
    const requestArg = args.values.request;
    if (typeof requestArg !== 'string') throw new UsageError('--request is required (a JSON file, or - for standard input)');
    // Read the request first: a typo in its name should not cost a compilation.
    const request = await readRequest(io, requestArg);
    if (args.values.explain === true) return explainDecision(io, args.positionals[0], request, args.values.json === true);
    const evaluator = await loadEvaluator(io, args.positionals[0]);
    if (!evaluator) return 1;
    const decision = evaluator.decide(request);
    io.stdout.write((args.values.json === true ? decisionJson(decision) : describeDecision(decision)) + '\n');
    return decision.decision === 'allow' ? 0 : 2;
  },
};

async function readRequest(io: CliIo, source: string): Promise<unknown> {
  if (source === '-') return parseUserJson((await readStdin(io)).toString('utf8'), 'the request on standard input');
  return parseUserJson((await readUserFile(io, source, 'request file')).toString('utf8'), `request file ${source}`);
}

/** The decision object of SPEC 5, fields in the spec's order. */
export function decisionJson(d: Decision): string {
  return JSON.stringify({ decision: d.decision, rule: d.rule, audit: d.audit, reason: d.reason });
}

/** `allow by host.sgxpol:12 (audit): reason`, `deny by default: …`, `deny: invalid request: …`. */
export function describeDecision(d: Decision): string {
  if (d.rule === null) {
    // The evaluator's reason for an invalid request says so itself; the reference
    // interpreter's (`--explain`) does not.
    return `${d.decision}: ${d.reason.startsWith('invalid request: ') ? d.reason : `invalid request: ${d.reason}`}`;
  }
  const by = d.rule === 'default' ? ' by default' : ` by ${d.rule}`;
  return `${d.decision}${by}${d.audit ? ' (audit)' : ''}: ${d.reason}`;
}
