// The launch-rights graph of a compiled policy, in Graphviz DOT: who (subject classes, on the
// left) may or may not launch what (signer and enclave sets, on the right), on which path.
//
//   allow        green arrow            deny         red arrow ending in a bar
//   via kvm      dashed, thicker        via host     solid, labelled "host only"
//   neverallow   grey dotted            no via       solid (host and guests alike)
//
// Each edge is one rule (or neverallow) for one subject and one object, labelled with the
// rule's id, `audit`, and its `where` condition. A box at the top gives the policy, its default
// and the built-in provisioning-key invariant.
import type { IToken } from 'chevrotain';
import type { Cond, ObjectRef, Objects, SubjExpr, Subjects } from '../compiler/ast.js';
import type { Program } from '../compiler/ir.js';
import { tokenize } from '../compiler/lexer.js';
import { expressionText } from '../format/printer.js';
import { PROVISION_DEVICE } from '../runtime/types.js';

const COLORS = {
  allow: '#2e7d32',
  deny: '#c62828',
  never: '#757575',
  subject: '#e3f2fd',
  subjectBorder: '#1565c0',
  signer: '#fff8e1',
  signerBorder: '#f9a825',
  enclave: '#f3e5f5',
  enclaveBorder: '#8e24aa',
  unused: '#f5f5f5',
  note: '#fafafa',
};

/** Longest line in a label before it wraps. */
const WRAP = 44;

function html(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Wraps `text` at spaces into lines of at most `width` characters (longer words stay whole). */
export function wrap(text: string, width = WRAP): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(' ')) {
    if (current !== '' && current.length + 1 + word.length > width) {
      lines.push(current);
      current = word;
    } else {
      current = current === '' ? word : `${current} ${word}`;
    }
  }
  if (current !== '') lines.push(current);
  return lines;
}

function htmlLines(text: string, width = WRAP): string {
  return wrap(text, width).map(html).join('<BR ALIGN="LEFT"/>') + '<BR ALIGN="LEFT"/>';
}

function quoted(id: string): string {
  return `"${id.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

interface Edge {
  from: string;
  to: string;
  attributes: Record<string, string>;
}

/**
 * A graph has an edge per rule, subject class and object it names: a policy of a few hundred
 * rules over `{…}` lists can ask for millions, which no one can read and which took gigabytes
 * (DOT) or overflowed Graphviz's stack (SVG). Past these many edges the graph is refused.
 */
export const MAX_GRAPH_EDGES = 20_000;

/** The launch-rights graph would have more than MAX_GRAPH_EDGES edges. */
export class GraphTooLarge extends Error {}

/** How many edges `program`'s graph has: one per rule or neverallow, subject and object. */
export function graphEdgeCount(program: Program): number {
  let count = 0;
  for (const { decl } of [...program.rules, ...program.neverallows]) {
    const subjects = decl.subjects.kind === 'any' ? 1 : decl.subjects.names.length;
    const objects = decl.objects.kind === 'any' ? 1 : decl.objects.items.length;
    count += subjects * objects;
  }
  return count;
}

/**
 * The DOT text of `program`'s launch-rights graph. `sources`: each file's text by the name spans
 * use. Throws GraphTooLarge past MAX_GRAPH_EDGES edges.
 */
export function launchGraphDot(program: Program, sources: ReadonlyMap<string, string>): string {
  const edgeCount = graphEdgeCount(program);
  if (edgeCount > MAX_GRAPH_EDGES) {
    throw new GraphTooLarge(`the graph would have ${edgeCount} edges (one per rule, subject class and object), more than the ${MAX_GRAPH_EDGES} drawn`);
  }
  const tokens = new Map<string, IToken[]>();
  const tokensOf = (file: string): IToken[] => {
    let list = tokens.get(file);
    if (list === undefined) {
      list = tokenize(sources.get(file) ?? '', file).tokens;
      tokens.set(file, list);
    }
    return list;
  };
  const textOf = (node: SubjExpr | Cond): string => expressionText(node, tokensOf(node.span.file));

  const used = new Set<string>();
  const edges: Edge[] = [];
  const subjectIds = (subjects: Subjects): string[] => (subjects.kind === 'any' ? ['subject:*'] : subjects.names.map((n) => `subject:${n.text}`));
  const objectId = (o: ObjectRef): string => (o.target.kind === 'ref' ? `${o.objKind}:${o.target.name.text}` : `${o.objKind}:"${o.target.value}"`);
  const objectIds = (objects: Objects): string[] => (objects.kind === 'any' ? ['enclave:*'] : objects.items.map(objectId));
  const literals = new Map<string, ObjectRef>();
  const noteLiterals = (objects: Objects) => {
    if (objects.kind === 'list') for (const o of objects.items) if (o.target.kind === 'literal') literals.set(objectId(o), o);
  };

  for (const rule of program.rules) {
    const d = rule.decl;
    noteLiterals(d.objects);
    const color = d.effect === 'allow' ? COLORS.allow : COLORS.deny;
    const lines = [`${d.effect}${d.audit ? ' audit' : ''}  ${rule.id}`];
    if (d.via?.path === 'kvm') lines.push('via kvm (guest launches)');
    else if (d.via?.path === 'host') lines.push('host only');
    if (d.where !== undefined) lines.push(`where ${textOf(d.where)}`);
    const label = `<<FONT POINT-SIZE="10" COLOR="${color}">${lines.map((l) => htmlLines(l)).join('')}</FONT>>`;
    const attributes: Record<string, string> = {
      color,
      label,
      arrowhead: d.effect === 'allow' ? 'normal' : 'tee',
      style: d.via?.path === 'kvm' ? 'dashed' : 'solid',
      penwidth: d.via?.path === 'kvm' ? '2.2' : '1.4',
      tooltip: quoted(`${rule.id}: ${d.because?.value ?? `${d.effect} rule`}`),
    };
    for (const from of subjectIds(d.subjects)) for (const to of objectIds(d.objects)) edges.push({ from, to, attributes });
  }
  for (const never of program.neverallows) {
    const d = never.decl;
    noteLiterals(d.objects);
    const lines = [`neverallow  ${never.id}`];
    if (d.via?.path === 'kvm') lines.push('via kvm');
    else if (d.via?.path === 'host') lines.push('host only');
    if (d.where !== undefined) lines.push(`where ${textOf(d.where)}`);
    const label = `<<FONT POINT-SIZE="9" COLOR="${COLORS.never}">${lines.map((l) => htmlLines(l)).join('')}</FONT>>`;
    const attributes = { color: COLORS.never, label, style: 'dotted', arrowhead: 'odot', penwidth: '1.2', constraint: 'false' };
    for (const from of subjectIds(d.subjects)) for (const to of objectIds(d.objects)) edges.push({ from, to, attributes });
  }
  for (const e of edges) {
    used.add(e.from);
    used.add(e.to);
  }

  // The policy box, as the graph's label: name, default, built-in invariant, legend.
  const policyName = program.policy ? `policy "${program.policy.name}" version ${program.policy.version}` : 'policy (no name)';
  const defaultText = `default ${program.default.effect}${program.default.audit ? ', audited' : ''}${program.default.decl === undefined ? ' (implicit)' : ''}: the decision when no rule matches`;
  const invariant = `built-in: an allowed enclave with provisionkey is denied unless the subject holds ${PROVISION_DEVICE} (on host and kvm)`;
  const box =
    `<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="2" CELLPADDING="4" BGCOLOR="${COLORS.note}" COLOR="#9e9e9e">` +
    `<TR><TD ALIGN="LEFT"><B>${html(policyName)}</B></TD></TR>` +
    `<TR><TD ALIGN="LEFT"><FONT COLOR="${program.default.effect === 'allow' ? COLORS.allow : COLORS.deny}">${htmlLines(defaultText, 70)}</FONT></TD></TR>` +
    `<TR><TD ALIGN="LEFT">${htmlLines(invariant, 70)}</TD></TR>` +
    `<TR><TD ALIGN="LEFT"><TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0"><TR>` +
    `<TD ALIGN="LEFT"><FONT POINT-SIZE="11" COLOR="${COLORS.allow}">green: allow</FONT></TD><TD WIDTH="18"></TD>` +
    `<TD ALIGN="LEFT"><FONT POINT-SIZE="11" COLOR="${COLORS.deny}">red, ending in a bar: deny</FONT></TD><TD WIDTH="18"></TD>` +
    `<TD ALIGN="LEFT"><FONT POINT-SIZE="11">dashed: via kvm</FONT></TD><TD WIDTH="18"></TD>` +
    `<TD ALIGN="LEFT"><FONT POINT-SIZE="11" COLOR="${COLORS.never}">grey dotted: neverallow</FONT></TD>` +
    `</TR></TABLE></TD></TR>` +
    `</TABLE>`;

  const out: string[] = [];
  out.push('digraph launch_rights {');
  out.push(`  graph [rankdir=LR, fontname="Helvetica", nodesep=0.3, ranksep=1.4, newrank=true, pad=0.3, labelloc=t, labeljust=l, label=<${box}>];`);
  out.push('  node [fontname="Helvetica", fontsize=12, shape=box, style="rounded,filled", penwidth=1.2, margin="0.2,0.07"];');
  out.push('  edge [fontname="Helvetica", fontsize=10];');

  // Subjects on the left.
  out.push('  subgraph cluster_subjects {');
  out.push('    label=<<B>who launches: subject classes</B>>; labeljust=l; style="rounded"; color="#90caf9"; margin=14;');
  const subjectNodes = [...(used.has('subject:*') ? ['subject:*'] : []), ...[...program.subjects.keys()].map((n) => `subject:${n}`)];
  if (subjectNodes.length > 0) out.push(`    { rank=same; ${subjectNodes.map(quoted).join('; ')}; }`);
  if (used.has('subject:*')) out.push(`    ${quoted('subject:*')} [label=<<B>*</B><BR/><FONT POINT-SIZE="10">any subject</FONT>>, fillcolor="${COLORS.subject}", color="${COLORS.subjectBorder}"];`);
  for (const cls of program.subjects.values()) {
    const id = `subject:${cls.name}`;
    const fill = used.has(id) ? COLORS.subject : COLORS.unused;
    out.push(`    ${quoted(id)} [label=<<B>${html(cls.name)}</B><BR/><FONT POINT-SIZE="9">${htmlLines(textOf(cls.decl.expr), 40)}</FONT>>, fillcolor="${fill}", color="${COLORS.subjectBorder}"];`);
  }
  out.push('  }');

  // Signers and enclaves on the right.
  out.push('  subgraph cluster_objects {');
  out.push('    label=<<B>what is launched: signer and enclave sets</B>>; labeljust=r; style="rounded"; color="#ffe082"; margin=14;');
  const objectNodes = [
    ...(used.has('enclave:*') ? ['enclave:*'] : []),
    ...[...program.signers.keys()].map((n) => `signer:${n}`),
    ...[...program.enclaves.keys()].map((n) => `enclave:${n}`),
    ...literals.keys(),
  ];
  if (objectNodes.length > 0) out.push(`    { rank=same; ${objectNodes.map(quoted).join('; ')}; }`);
  if (used.has('enclave:*')) out.push(`    ${quoted('enclave:*')} [label=<<B>*</B><BR/><FONT POINT-SIZE="10">any enclave</FONT>>, fillcolor="${COLORS.signer}", color="${COLORS.signerBorder}"];`);
  const short = (values: string[]) => values.slice(0, 3).map((v) => `${v.slice(0, 12)}…`).join(', ') + (values.length > 3 ? `, +${values.length - 3}` : '');
  for (const [kind, sets] of [['signer', program.signers], ['enclave', program.enclaves]] as const) {
    for (const set of sets.values()) {
      const id = `${kind}:${set.name}`;
      const field = kind === 'signer' ? 'MRSIGNER' : 'MRENCLAVE';
      const fill = !used.has(id) ? COLORS.unused : kind === 'signer' ? COLORS.signer : COLORS.enclave;
      const border = kind === 'signer' ? COLORS.signerBorder : COLORS.enclaveBorder;
      const includes = set.decl.items.flatMap((item) => (item.kind === 'ref' ? [item.name.text] : []));
      const detail = `${set.values.length} ${field}${set.values.length === 1 ? '' : 's'}: ${short(set.values)}`;
      const includesLine = includes.length > 0 ? htmlLines(`includes ${includes.join(', ')}`, 40) : '';
      out.push(`    ${quoted(id)} [label=<<B>${kind} ${html(set.name)}</B><BR/><FONT POINT-SIZE="9">${includesLine}${htmlLines(detail, 40)}</FONT>>, fillcolor="${fill}", color="${border}"];`);
    }
  }
  for (const [id, o] of literals) {
    const field = o.objKind === 'signer' ? 'MRSIGNER' : 'MRENCLAVE';
    const value = o.target.kind === 'literal' ? o.target.value : '';
    const fill = o.objKind === 'signer' ? COLORS.signer : COLORS.enclave;
    out.push(`    ${quoted(id)} [label=<<B>${o.objKind} "${value.slice(0, 16)}…"</B><BR/><FONT POINT-SIZE="9">one ${field}</FONT>>, fillcolor="${fill}", color="${o.objKind === 'signer' ? COLORS.signerBorder : COLORS.enclaveBorder}"];`);
  }
  out.push('  }');

  for (const e of edges) {
    const attributes = Object.entries(e.attributes).map(([k, v]) => `${k}=${v.startsWith('<') || v.startsWith('"') ? v : quoted(v)}`);
    out.push(`  ${quoted(e.from)} -> ${quoted(e.to)} [${attributes.join(', ')}];`);
  }
  out.push('}');
  return out.join('\n') + '\n';
}
