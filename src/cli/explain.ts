// `sgxpol eval POLICY --request REQ --explain`: the decision, every matching rule and why the
// deciding one won; for a deny that no rule made, the nearest allow rules and what failed.
import { explainRequest, type Explanation } from '../compiler/analysis/explain.js';
import { isTableFile } from './load.js';
import { UsageError } from './args.js';
import type { CliIo } from './io.js';
import { compilePolicy } from './load.js';
import { formatDiagnostics } from './print.js';
import { describeDecision } from './eval.js';

export async function explainDecision(io: CliIo, file: string, request: unknown, json: boolean): Promise<number> {
  if (isTableFile(file, '')) throw new UsageError('--explain needs the policy source (a .sgxpol file), not a compiled table');
  const result = await compilePolicy(io, file);
  if (!result.ok || result.program === undefined) {
    io.stderr.write(formatDiagnostics(result.diagnostics.filter((d) => d.severity === 'error'), result.sources));
    return 1;
  }
  const explanation = explainRequest(result.program, request);
  const d = explanation.decision;
  if (json) {
    io.stdout.write(JSON.stringify({ decision: d.decision, rule: d.rule, audit: d.audit, reason: d.reason, explanation: withoutDecision(explanation) }) + '\n');
  } else {
    io.stdout.write(explanationText(explanation));
  }
  return d.decision === 'allow' ? 0 : 2;
}

function withoutDecision(e: Explanation): Omit<Explanation, 'decision'> {
  const { decision: _decision, ...rest } = e;
  void _decision;
  return rest;
}

export function explanationText(e: Explanation): string {
  const d = e.decision;
  let out = `${describeDecision(d)}\n`;
  if (e.matching.length > 0) {
    out += '\nmatching rules, in program order:\n';
    for (const m of e.matching) out += `  ${m.rule === d.rule ? '*' : ' '} ${m.rule}  ${m.text}\n`;
  }
  out += `\nwhy: ${e.why}\n`;
  if (e.nearest.length > 0) {
    out += '\nno rule matches; the nearest allow rules:\n';
    for (const n of e.nearest) {
      out += `  ${n.rule}  ${n.text}\n`;
      out += `    ${n.failing} of ${n.conditions} conditions fail; first: ${n.firstFailure}\n`;
    }
  } else if (d.decision === 'deny' && e.matching.length === 0 && d.rule !== null) {
    out += '\nthe policy has no allow rule\n';
  }
  return out;
}
