// Hover text: what a name stands for (a set's measurements, a subject class's expression) and
// what a rule means once the program is resolved (SPEC 3.3 and 5, in words).
import type { IToken } from 'chevrotain';
import { dirname, resolve } from 'node:path';
import type { NeverallowDecl, Objects, RuleDecl, Statement, Subjects } from '../compiler/ast.js';
import type { Program } from '../compiler/ir.js';
import { tokenize } from '../compiler/lexer.js';
import { expressionText, statementText } from '../format/printer.js';
import { PROVISION_DEVICE } from '../runtime/types.js';
import type { Analysis } from './project.js';
import type { Occurrence } from './symbols.js';

/** At most this many measurements are listed in a hover. */
const MAX_LISTED = 12;

function code(text: string): string {
  return '```sgxpol\n' + text.trimEnd() + '\n```';
}

/** Tokens of each loaded file, computed once per analysis. */
const tokenCache = new WeakMap<Analysis, Map<string, IToken[]>>();

function tokensOf(analysis: Analysis, path: string): IToken[] {
  let byPath = tokenCache.get(analysis);
  if (byPath === undefined) {
    byPath = new Map();
    tokenCache.set(analysis, byPath);
  }
  let tokens = byPath.get(path);
  if (tokens === undefined) {
    tokens = tokenize(analysis.textOf(path) ?? '', path).tokens;
    byPath.set(path, tokens);
  }
  return tokens;
}

function place(analysis: Analysis, file: string, line: number): string {
  return `${file}:${line}`;
}

/** Hover for a name: its kind, where it is defined, and what it holds. */
export function describeName(analysis: Analysis, occurrence: Occurrence): string {
  const program = analysis.result.program;
  const name = occurrence.name;
  if (program === undefined) return `\`${name}\``;
  const signer = program.signers.get(name);
  const enclave = program.enclaves.get(name);
  const subject = program.subjects.get(name);
  if (signer !== undefined || enclave !== undefined) {
    const set = (signer ?? enclave)!;
    const field = signer !== undefined ? 'MRSIGNER' : 'MRENCLAVE';
    const kind = signer !== undefined ? 'signer' : 'enclave';
    const lines = [`**${kind} set** \`${name}\` — ${set.values.length} ${field} value${set.values.length === 1 ? '' : 's'}, defined at ${place(analysis, set.decl.name.span.file, set.decl.name.span.line)}`];
    const includes = set.decl.items.flatMap((item) => (item.kind === 'ref' ? [`\`${item.name.text}\``] : []));
    if (includes.length > 0) lines.push(`includes ${includes.join(', ')}`);
    const shown = set.values.slice(0, MAX_LISTED).join('\n');
    lines.push(code(set.values.length > MAX_LISTED ? `${shown}\n# … and ${set.values.length - MAX_LISTED} more` : shown));
    return lines.join('\n\n');
  }
  if (subject !== undefined) {
    const decl = subject.decl;
    const path = analysis.absolute(decl.span.file);
    const lines = [`**subject class** \`${name}\`, defined at ${place(analysis, decl.name.span.file, decl.name.span.line)}`];
    lines.push(code(statementText(decl, tokensOf(analysis, path))));
    const users = program.rules.filter((rule) => mentionsSubject(rule.decl, name)).map((rule) => `\`${rule.id}\``);
    if (users.length > 0) lines.push(`used by rule${users.length === 1 ? '' : 's'} ${users.join(', ')}`);
    return lines.join('\n\n');
  }
  return `\`${name}\`: not defined in this policy`;
}

function mentionsSubject(rule: RuleDecl, name: string): boolean {
  if (rule.subjects.kind === 'list' && rule.subjects.names.some((n) => n.text === name)) return true;
  const walk = (c: RuleDecl['where']): boolean => {
    if (c === undefined) return false;
    if (c.kind === 'or' || c.kind === 'and') return c.operands.some(walk);
    if (c.kind === 'not') return walk(c.operand);
    return c.kind === 'subject' && c.name.text === name;
  };
  return walk(rule.where);
}

function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}

function whoText(subjects: Subjects): string {
  if (subjects.kind === 'any') return 'any subject';
  const names = subjects.names.map((n) => `\`${n.text}\``);
  return names.length === 1 ? `subject class ${names[0]}` : `any of the subject classes ${names.join(', ')}`;
}

function pathText(via: RuleDecl['via']): string {
  if (via === undefined) return 'host processes and guests alike (no `via`: any path)';
  if (via.path === 'host') return 'host processes only (`via host`)';
  if (via.path === 'kvm') return 'launches KVM performs for a guest only (`via kvm`; the subject is the VMM process)';
  return 'host processes and guests alike (`via any`)';
}

function whatText(objects: Objects, program: Program): string {
  if (objects.kind === 'any') return 'any enclave';
  const items = objects.items.map((item) => {
    const field = item.objKind === 'signer' ? 'MRSIGNER' : 'MRENCLAVE';
    if (item.target.kind === 'literal') return `${item.objKind === 'signer' ? 'signed by' : 'with MRENCLAVE'} \`${item.target.value.slice(0, 16)}…\``;
    const set = (item.objKind === 'signer' ? program.signers : program.enclaves).get(item.target.name.text);
    const count = set === undefined ? 'unknown set' : `${set.values.length} ${field}${set.values.length === 1 ? '' : 's'}`;
    return `${item.objKind === 'signer' ? 'signed by' : 'with an MRENCLAVE in'} \`${item.target.name.text}\` (${count})`;
  });
  return items.length === 1 ? `enclaves ${items[0]}` : `enclaves ${items.join(', or ')}`;
}

/** Hover for a rule or a neverallow: what it does, in the words of SPEC 5. */
export function describeStatement(analysis: Analysis, path: string, statement: Statement): string | undefined {
  const program = analysis.result.program;
  if (program === undefined) return undefined;
  const tokens = tokensOf(analysis, path);
  const when = (decl: RuleDecl | NeverallowDecl) => (decl.where === undefined ? 'always' : `\`${expressionText(decl.where, tokens)}\``);
  switch (statement.kind) {
    case 'rule': {
      const rule = program.rules.find((r) => r.decl === statement);
      const head = `**${statement.effect}**${statement.audit ? ', audited' : ''} — rule \`${rule?.id ?? '?'}\`${rule ? `, ${ordinal(rule.index + 1)} of ${program.rules.length} in program order` : ''}`;
      const lines = [
        head,
        `- **who:** ${whoText(statement.subjects)}`,
        `- **path:** ${pathText(statement.via)}`,
        `- **what:** ${whatText(statement.objects, program)}`,
        `- **when:** ${when(statement)}`,
        `- **reason:** ${statement.because !== undefined ? JSON.stringify(statement.because.value) : `none given (the decision says "rule ${rule?.id ?? '?'} (${statement.effect}) matched")`}`,
      ];
      if (statement.effect === 'deny') {
        lines.push('', 'A matching `deny` decides, whatever any `allow` says; the first matching deny in program order is the one reported.');
      } else {
        lines.push(
          '',
          `Decides only when no \`deny\` rule matches (the first matching allow is reported). Then the built-in check still applies: an enclave with \`provisionkey\` is allowed only to a subject that holds \`${PROVISION_DEVICE}\`.`,
        );
      }
      return lines.join('\n');
    }
    case 'neverallow':
      return [
        '**neverallow** — an invariant the compiler proves: no valid request matching this pattern is allowed by the policy.',
        `- **who:** ${whoText(statement.subjects)}`,
        `- **path:** ${pathText(statement.via)}`,
        `- **what:** ${whatText(statement.objects, program)}`,
        `- **when:** ${when(statement)}`,
      ].join('\n');
    case 'default':
      return `**default ${statement.effect}**${statement.audit ? ', audited' : ''}: the decision when no rule matches${program.default.decl === statement ? '' : ' (not in force: see the diagnostics)'}.`;
    case 'policy':
      return `**policy** \`${statement.name.value}\`, version ${statement.version.value}: carried in the compiled table.`;
    case 'import': {
      const target = resolve(dirname(analysis.absolute(statement.path.span.file)), statement.path.value);
      const loaded = analysis.files.has(target);
      return `**import** of \`${target}\`${loaded ? '' : ' (not loaded: see the diagnostics)'}. Each file is loaded once, at its first import; names are global.`;
    }
    default:
      return undefined;
  }
}
