// Static checks over the resolved Program that are not name errors (SPEC 3.5): the exact
// neverallow check (errors) and the lints (warnings). Both are decided by the region analysis
// in ./analysis/; this file turns its findings into diagnostics.
import type { Cond, Objects, ObjectRef, Span, SubjPred, Subjects } from './ast.js';
import { Codes, error, warning, type Diagnostic } from './diagnostics.js';
import type { Neverallow, Program, Rule } from './ir.js';
import { setUpAnalysis, type Analysis } from './analysis/context.js';
import { DEFAULT_SPACE_LIMITS } from './analysis/space.js';
import { lintOptionsFor, lintProgram, type LintFinding, type LintOptions } from './analysis/lints.js';
import { checkNeverallows, neverallowOptionsFor, type NeverallowOptions } from './analysis/neverallow.js';

export interface CheckOptions {
  neverallow?: NeverallowOptions;
  lints?: LintOptions;
  /** Above this many rules the lints are skipped (with a warning that says so); neverallow is always checked. */
  maxLintRules?: number;
  /** Added to the warning that the lints reached their work limit (the language server's says how to run them all). */
  lintLimitNote?: string;
}

export const DEFAULT_MAX_LINT_RULES = 20_000;

export function checkProgram(program: Program, options: CheckOptions = {}): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const duplicates = syntacticDuplicates(program, diagnostics);
  const maxLintRules = options.maxLintRules ?? DEFAULT_MAX_LINT_RULES;
  const lint = program.rules.length <= maxLintRules;
  if (!lint) {
    diagnostics.push(
      warning(
        Codes.LINTS_INCOMPLETE,
        rootSpan(program),
        `the policy has ${program.rules.length} rules, more than the ${maxLintRules} the lints run on: rules were not checked for never matching, shadowing or kvm-only subjects (neverallow statements are still checked exactly)`,
      ),
    );
    if (program.default.effect === 'allow' && program.default.decl) diagnostics.push(defaultAllowWarning(program.default.decl.span, undefined));
  }
  if (!lint && program.neverallows.length === 0) return diagnostics;

  const setup = setUpAnalysis([program]);
  if (!setup.ok) {
    // The exact space is too large (many globs that overlap every which way). A neverallow may
    // still be proved in the coarse space, where each glob is a yes/no of its own: a proof there
    // holds for every request. What it cannot prove stays an error.
    // (Globs only: when the ranges are what is too large, the coarse space is no smaller.)
    const coarse = program.neverallows.length > 0 && !setup.ranges ? setUpAnalysis([program], { ...DEFAULT_SPACE_LIMITS, coarseGlobs: true }) : undefined;
    // Why each neverallow is not proved in the coarse space (absent: proved).
    const unproved = new Map<Neverallow, string>();
    if (coarse?.ok) {
      for (const { neverallow, outcome } of checkNeverallows(coarse.analysis, options.neverallow ?? neverallowOptionsFor(program.rules.length))) {
        if (outcome.status === 'unknown') unproved.set(neverallow, outcome.reason);
        else if (outcome.status === 'violated') unproved.set(neverallow, 'treating each glob on its own, a request it forbids might be allowed');
      }
    } else if (coarse !== undefined) {
      for (const neverallow of program.neverallows) unproved.set(neverallow, `treating each glob on its own failed too: ${coarse.reason}`);
    } else {
      for (const neverallow of program.neverallows) unproved.set(neverallow, 'no coarser space helps with ranges');
    }
    for (const [neverallow, why] of unproved) {
      diagnostics.push(
        error(
          Codes.ANALYSIS_INCOMPLETE,
          neverallow.decl.span,
          `neverallow ${neverallow.id} could not be checked: ${setup.reason}; ${why}; it is neither proved nor refuted, so the policy is not accepted (use fewer overlapping ${setup.ranges ? 'uid and gid ranges' : 'globs'}, or split the policy)`,
        ),
      );
    }
    if (lint) {
      diagnostics.push(warning(Codes.LINTS_INCOMPLETE, rootSpan(program), `the lints could not run: ${setup.reason}`));
      if (program.default.effect === 'allow' && program.default.decl) diagnostics.push(defaultAllowWarning(program.default.decl.span, undefined));
    }
    return diagnostics;
  }
  const rules = program.rules.length;
  neverallowDiagnostics(setup.analysis, options.neverallow ?? neverallowOptionsFor(rules), diagnostics);
  if (lint) lintDiagnostics(setup.analysis, options.lints ?? lintOptionsFor(rules), duplicates, diagnostics, options.lintLimitNote ?? '');
  return diagnostics;
}

function neverallowDiagnostics(analysis: Analysis, options: NeverallowOptions, diagnostics: Diagnostic[]): void {
  const program = analysis.logics[0].program;
  for (const { neverallow, outcome } of checkNeverallows(analysis, options)) {
    if (outcome.status === 'holds') continue;
    if (outcome.status === 'unknown') {
      diagnostics.push(
        error(
          Codes.ANALYSIS_INCOMPLETE,
          neverallow.decl.span,
          `neverallow ${neverallow.id} could not be checked: ${outcome.reason}; it is neither proved nor refuted, so the policy is not accepted (simplify the policy or split the neverallow)`,
        ),
      );
      continue;
    }
    for (const violation of outcome.violations) {
      const rule = program.rules.find((r) => r.id === violation.grantedBy);
      const by = rule ? `rule ${rule.id} allows` : '`default allow` allows';
      const related = rule
        ? [{ message: `rule ${rule.id} allows it`, span: rule.decl.span }]
        : program.default.decl
          ? [{ message: 'the default allows it', span: program.default.decl.span }]
          : [];
      const d = error(Codes.NEVERALLOW_VIOLATED, neverallow.decl.span, `neverallow ${neverallow.id} is broken: ${by} a request it forbids (see the witness request)`, related);
      d.witness = violation.witness;
      diagnostics.push(d);
    }
  }
}

function lintDiagnostics(analysis: Analysis, options: LintOptions, duplicates: Set<Rule>, diagnostics: Diagnostic[], limitNote: string): void {
  const program = analysis.logics[0].program;
  const result = lintProgram(analysis, options);
  for (const finding of result.findings) {
    const d = lintDiagnostic(program, finding, duplicates);
    if (d) diagnostics.push(d);
  }
  if (result.stoppedAfter !== undefined) {
    const next = program.rules[result.stoppedAfter];
    diagnostics.push(
      warning(
        Codes.LINTS_INCOMPLETE,
        next ? next.decl.span : rootSpan(program),
        `the lints reached their work limit after ${result.stoppedAfter} of ${program.rules.length} rules; ${next ? `rules from ${next.id} on` : 'the rest'} were not checked for never matching, shadowing or kvm-only subjects${limitNote}`,
      ),
    );
  }
}

function lintDiagnostic(program: Program, finding: LintFinding, duplicates: Set<Rule>): Diagnostic | undefined {
  switch (finding.kind) {
    case 'default-allow':
      return program.default.decl ? defaultAllowWarning(program.default.decl.span, finding.witness) : undefined;
    case 'never-matches':
      return warning(
        Codes.RULE_NEVER_MATCHES,
        finding.rule.decl.span,
        `rule ${finding.rule.id} can never match: no valid request satisfies its subject, path, object and \`where\` parts together`,
      );
    case 'duplicate':
      if (duplicates.has(finding.rule)) return undefined;
      return warning(
        Codes.DUPLICATE_RULE,
        finding.rule.decl.span,
        `rule ${finding.rule.id} matches exactly the requests rule ${finding.of.id} matches, with the same effect, so it never decides anything`,
        [{ message: `rule ${finding.of.id}`, span: finding.of.decl.span }],
      );
    case 'shadowed': {
      if (duplicates.has(finding.rule)) return undefined;
      const names = finding.by.map((r) => r.id).join(', ') + (finding.more ? ' and others' : '');
      return warning(
        Codes.RULE_SHADOWED,
        finding.rule.decl.span,
        `rule ${finding.rule.id} can never decide anything: every request it matches is decided by ${finding.by.length === 1 && !finding.more ? 'rule' : 'rules'} ${names} (${finding.rule.effect === 'deny' ? 'an earlier deny wins' : 'a deny, or an earlier allow, wins'})`,
        finding.by.map((r) => ({ message: `rule ${r.id} decides instead`, span: r.decl.span })),
      );
    }
    case 'kvm-holds-only': {
      const d = warning(
        Codes.KVM_HOLDS_ONLY,
        finding.rule.decl.span,
        `rule ${finding.rule.id} grants ${finding.rule.via === 'kvm' ? '`via kvm`' : 'guest (`via any`)'} launches to any process that holds /dev/kvm, which is often world-openable; constrain the subject by exe, uid or label`,
      );
      d.witness = finding.witness;
      return d;
    }
  }
}

function defaultAllowWarning(span: Span, witness: unknown): Diagnostic {
  const d = warning(Codes.DEFAULT_ALLOW, span, '`default allow` permits every launch no rule denies; prefer `default deny` and explicit allow rules');
  if (witness !== undefined) d.witness = witness;
  return d;
}

/**
 * W002 for rules written exactly like an earlier one; returns them (the analysis need not say more).
 * Rules are bucketed by a 32-bit hash of their key and compared by key only within a bucket, so
 * no key outlives its rule's turn: at 1,000,000 rules a map of the keys themselves kept ~100 MB
 * of strings alive and made every garbage collection of the check copy them. A key is built only
 * when its hash is already taken; the hash is fed its pieces (`KeyHash`). `hash`, for tests,
 * replaces that with a function of the built key (a constant one puts every rule in one
 * bucket). @internal exported for tests
 */
export function syntacticDuplicates(program: Program, diagnostics: Diagnostic[], hash?: (key: string) => number): Set<Rule> {
  const byHash = new Map<number, Rule | Rule[]>();
  const duplicates = new Set<Rule>();
  const hasher = new KeyHash();
  for (const rule of program.rules) {
    let h: number;
    if (hash === undefined) {
      hasher.reset();
      writeRuleKey(rule, hasher);
      h = hasher.hash;
    } else h = hash(ruleKey(rule));
    const bucket = byHash.get(h);
    let earlier: Rule | undefined;
    if (bucket === undefined) byHash.set(h, rule);
    else {
      const key = ruleKey(rule);
      if (Array.isArray(bucket)) {
        earlier = bucket.find((r) => ruleKey(r) === key);
        if (earlier === undefined) bucket.push(rule);
      } else if (ruleKey(bucket) === key) earlier = bucket;
      else byHash.set(h, [bucket, rule]);
    }
    if (earlier !== undefined) {
      duplicates.add(rule);
      diagnostics.push(
        warning(Codes.DUPLICATE_RULE, rule.decl.span, `this rule is identical to rule ${earlier.id}, so it never decides anything`, [
          { message: 'the earlier rule', span: earlier.decl.span },
        ]),
      );
    }
  }
  return duplicates;
}

/** Where the pieces of a rule's key go (see `writeRuleKey`). */
interface KeySink {
  add(piece: string): void;
}

/** The key as a string. */
class KeyText implements KeySink {
  text = '';
  add(piece: string): void {
    this.text += piece;
  }
}

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/**
 * FNV-1a over the key's UTF-16 code units, as an int32, fed piece by piece: the same number as
 * hashing the whole key, without building it (at 1,000,000 rules building every key was most
 * of the duplicate check's time and allocation).
 */
class KeyHash implements KeySink {
  hash = FNV_OFFSET;
  reset(): void {
    this.hash = FNV_OFFSET;
  }
  add(piece: string): void {
    let h = this.hash;
    for (let i = 0; i < piece.length; i++) h = Math.imul(h ^ piece.charCodeAt(i), FNV_PRIME);
    this.hash = h;
  }
}

/**
 * A rule's content without its place: two rules with the same key are written identically
 * (numbers as spelled, `{a}` and `a` told apart). Built directly from the tree, because this
 * runs once per rule and a generic serializer was the compiler's slowest step at 100,000 rules.
 */
function ruleKey(rule: Rule): string {
  const text = new KeyText();
  writeRuleKey(rule, text);
  return text.text;
}

function writeRuleKey(rule: Rule, out: KeySink): void {
  const d = rule.decl;
  out.add(d.effect);
  out.add(d.audit ? '|1|' : '|0|');
  out.add(rule.via);
  out.add('|');
  writeSubjects(d.subjects, out);
  out.add('|');
  writeObjects(d.objects, out);
  out.add('|');
  if (d.where !== undefined) writeCond(d.where, out);
  out.add('|');
  if (d.because !== undefined) out.add(JSON.stringify(d.because.value));
}

function writeSubjects(subjects: Subjects, out: KeySink): void {
  if (subjects.kind === 'any') {
    out.add('*');
    return;
  }
  if (subjects.braced) out.add('{');
  for (const name of subjects.names) {
    out.add(name.text);
    out.add(',');
  }
}

function writeObjects(objects: Objects, out: KeySink): void {
  if (objects.kind === 'any') {
    out.add('*');
    return;
  }
  if (objects.braced) out.add('{');
  for (const item of objects.items) {
    writeObject(item, out);
    out.add(',');
  }
}

function writeObject(object: ObjectRef, out: KeySink): void {
  out.add(object.objKind);
  if (object.target.kind === 'ref') {
    out.add(' ');
    out.add(object.target.name.text);
  } else {
    out.add(' "');
    out.add(object.target.value);
    out.add('"');
  }
}

function writeCond(cond: Cond, out: KeySink): void {
  switch (cond.kind) {
    case 'or':
    case 'and':
      out.add(cond.kind);
      out.add('(');
      cond.operands.forEach((operand, i) => {
        if (i > 0) out.add(',');
        writeCond(operand, out);
      });
      out.add(')');
      return;
    case 'not':
      out.add('not(');
      writeCond(cond.operand, out);
      out.add(')');
      return;
    case 'cmp':
      out.add(cond.field);
      out.add(cond.op);
      out.add(cond.value.text);
      return;
    case 'in':
      out.add(cond.field);
      out.add(' in ');
      out.add(cond.lo.text);
      out.add('..');
      out.add(cond.hi.text);
      return;
    case 'attr':
      out.add('attr ');
      out.add(cond.name);
      return;
    case 'object':
      out.add('object ');
      writeObject(cond.object, out);
      return;
    case 'subjpred':
      out.add('pred ');
      out.add(predKey(cond.pred));
      return;
    case 'subject':
      out.add('subject ');
      out.add(cond.name.text);
      return;
    case 'const':
      out.add(String(cond.value));
      return;
  }
}

function predKey(pred: SubjPred): string {
  switch (pred.kind) {
    case 'exe':
      return `exe ${JSON.stringify(pred.glob.value)}`;
    case 'label':
      return `label ${JSON.stringify(pred.glob.value)}`;
    case 'holds':
      return `holds ${JSON.stringify(pred.path.value)}`;
    default:
      return `${pred.kind} ${pred.lo.text}${pred.range ? `..${pred.hi.text}` : ''}`;
  }
}

function rootSpan(program: Program): Span {
  const file = program.files[0]?.file ?? 'policy.sgxpol';
  return { file, line: 1, column: 1, offset: 0, endLine: 1, endColumn: 1, endOffset: 0 };
}
