// "Why was I denied?": one request, explained against the policy's source (`eval --explain`).
// Every rule that matches is listed with the reason the deciding one won (SPEC 5); when nothing
// matches and the default denies, the allow rules that come nearest are listed, each with the
// first of its conditions that failed. All evaluation goes through the reference interpreter.
import type { Cond, Name, ObjectRef, Span, SubjExpr, SubjPred } from '../ast.js';
import type { Program, Rule } from '../ir.js';
import { patternMatches, referenceDecide, type RulePattern } from '../../reference/interpreter.js';
import { normalizeRequest } from '../../runtime/request.js';
import { PROVISION_DEVICE, type Decision, type NormalizedRequest } from '../../runtime/types.js';

export interface RuleMention {
  rule: string;
  effect: 'allow' | 'deny';
  /** The rule's source text, on one line. */
  text: string;
}

export interface NearMiss extends RuleMention {
  /** How many of the rule's conditions (subject, path, object, each conjunct of `where`) fail. */
  failing: number;
  conditions: number;
  /** The first condition that fails, in words. */
  firstFailure: string;
}

export interface Explanation {
  decision: Decision;
  /** Every rule that matches, in program order. */
  matching: RuleMention[];
  /** Why the deciding rule (or the default, or the invariant) decided. */
  why: string;
  /** For a deny that no rule made: the allow rules that come nearest (fewest failing conditions first). */
  nearest: NearMiss[];
}

const NEAREST = 3;

export function explainRequest(program: Program, request: unknown): Explanation {
  const decision = referenceDecide(program, request);
  const check = normalizeRequest(request);
  if (!check.ok) return { decision, matching: [], why: `the request is invalid, and an invalid request is always denied: ${check.reason}`, nearest: [] };
  const req = check.request;
  const matchingRules = program.rules.filter((rule) => patternMatches(program, rule.decl, req));
  const matching = matchingRules.map((rule) => mention(program, rule));
  const firstDeny = matchingRules.find((r) => r.effect === 'deny');
  const firstAllow = matchingRules.find((r) => r.effect === 'allow');
  let why: string;
  if (firstDeny !== undefined) {
    const others = matchingRules.filter((r) => r !== firstDeny);
    why = `rule ${firstDeny.id} is the first matching deny, and a matching deny always wins${others.length > 0 ? ` (over ${others.map((r) => r.id).join(', ')})` : ''}`;
  } else if (firstAllow !== undefined) {
    const later = matchingRules.filter((r) => r !== firstAllow);
    why = `no deny rule matches, and rule ${firstAllow.id} is the first matching allow${later.length > 0 ? ` (before ${later.map((r) => r.id).join(', ')})` : ''}`;
  } else {
    why = `no rule matches, so the default decides: ${program.default.effect}`;
  }
  if (decision.rule === 'builtin:provisionkey') {
    why += `; but the enclave has the provisionkey attribute and the subject does not hold ${PROVISION_DEVICE}, so the built-in invariant denies it`;
  }
  const nearest =
    decision.decision === 'deny' && matchingRules.length === 0
      ? program.rules
          .filter((r) => r.effect === 'allow')
          .map((rule) => nearMiss(program, rule, req))
          .sort((a, b) => a.failing - b.failing || 0)
          .slice(0, NEAREST)
      : [];
  return { decision, matching, why, nearest };
}

function mention(program: Program, rule: Rule): RuleMention {
  return { rule: rule.id, effect: rule.effect, text: sourceText(program, rule.decl.span) };
}

// ---- conditions of a rule ------------------------------------------------------------------------

interface Condition {
  holds: boolean;
  /** Why it fails, when it does. */
  failure: () => string;
}

function nearMiss(program: Program, rule: Rule, request: NormalizedRequest): NearMiss {
  const conditions = conditionsOf(program, rule, request);
  const failing = conditions.filter((c) => !c.holds);
  return {
    ...mention(program, rule),
    failing: failing.length,
    conditions: conditions.length,
    firstFailure: failing.length > 0 ? failing[0].failure() : 'nothing (it matches)',
  };
}

const ANY = { kind: 'any' as const, span: undefined as unknown as Span };

/** A pattern that tests only `where` (subject, path and object left open). */
function whereOnly(cond: Cond): RulePattern {
  return { subjects: ANY, via: undefined, objects: ANY, where: cond };
}

function conditionsOf(program: Program, rule: Rule, request: NormalizedRequest): Condition[] {
  const decl = rule.decl;
  const out: Condition[] = [];
  const test = (pattern: RulePattern) => patternMatches(program, pattern, request);

  if (decl.subjects.kind === 'list') {
    const names = decl.subjects.names;
    out.push({
      holds: test({ subjects: decl.subjects, via: undefined, objects: ANY, where: undefined }),
      failure: () =>
        names.length === 1
          ? `the subject is not in ${names[0].text}: ${classFailure(program, names[0], request)}`
          : `the subject is in none of ${names.map((n) => n.text).join(', ')}`,
    });
  }
  if (rule.via !== 'any') {
    out.push({ holds: rule.via === request.via, failure: () => `the rule is for via ${rule.via}, and the request is via ${request.via}` });
  }
  if (decl.objects.kind === 'list') {
    const items = decl.objects.items;
    out.push({
      holds: test({ subjects: ANY, via: undefined, objects: decl.objects, where: undefined }),
      failure: () => `${items.map((o) => objectText(program, o)).join(' or ')} does not hold (${items.map((o) => actualMeasurement(o, request)).filter(unique).join(', ')})`,
    });
  }
  if (decl.where !== undefined) {
    for (const conjunct of conjuncts(decl.where)) {
      out.push({
        holds: test(whereOnly(conjunct)),
        failure: () => `\`${sourceText(program, conjunct.span)}\` is false (${actualOfCond(program, conjunct, request)})`,
      });
    }
  }
  return out;
}

function conjuncts(cond: Cond): Cond[] {
  return cond.kind === 'and' ? cond.operands.flatMap(conjuncts) : [cond];
}

/** The first conjunct of a subject class that fails, followed into referenced classes. */
function classFailure(program: Program, name: Name, request: NormalizedRequest): string {
  let expr = program.subjects.get(name.text)!.decl.expr;
  for (let depth = 0; depth < 64; depth++) {
    const failing = subjConjuncts(expr).find((part) => !subjHolds(program, part, request));
    if (failing === undefined) break;
    if (failing.kind === 'ref') {
      expr = program.subjects.get(failing.name.text)!.decl.expr;
      continue;
    }
    return `\`${sourceText(program, failing.span)}\` is false (${actualOfExpr(failing, request)})`;
  }
  return `\`${sourceText(program, expr.span)}\` is false`;
}

function subjConjuncts(expr: SubjExpr): SubjExpr[] {
  return expr.kind === 'and' ? expr.operands.flatMap(subjConjuncts) : [expr];
}

function subjHolds(program: Program, expr: SubjExpr, request: NormalizedRequest): boolean {
  return patternMatches(program, whereOnly(subjToCond(expr)), request);
}

/** A subject expression as the `where` condition that means the same. */
function subjToCond(expr: SubjExpr): Cond {
  switch (expr.kind) {
    case 'or':
    case 'and':
      return { kind: expr.kind, operands: expr.operands.map(subjToCond), span: expr.span };
    case 'not':
      return { kind: 'not', operand: subjToCond(expr.operand), span: expr.span };
    case 'pred':
      return { kind: 'subjpred', pred: expr.pred, span: expr.span };
    case 'ref':
      return { kind: 'subject', name: expr.name, span: expr.span };
  }
}

/** The request's values of the fields an expression looks at. */
function actualOfExpr(expr: SubjExpr, request: NormalizedRequest): string {
  const seen: string[] = [];
  const stack = [expr];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (e.kind === 'and' || e.kind === 'or') for (let i = e.operands.length - 1; i >= 0; i--) stack.push(e.operands[i]);
    else if (e.kind === 'not') stack.push(e.operand);
    else if (e.kind === 'pred') {
      const words = actualOfPred(e.pred, request);
      if (!seen.includes(words)) seen.push(words);
    }
  }
  return seen.length > 0 ? seen.join(', ') : 'for this subject';
}

function actualOfPred(pred: SubjPred, request: NormalizedRequest): string {
  const s = request.subject;
  switch (pred.kind) {
    case 'exe':
      return `exe is ${JSON.stringify(s.exe)}`;
    case 'label':
      return s.label === undefined ? 'the request has no label' : `label is ${JSON.stringify(s.label)}`;
    case 'holds':
      return s.holds.length === 0 ? 'the subject holds no device' : `the subject holds ${s.holds.map((h) => JSON.stringify(h)).join(', ')}`;
    case 'uid':
      return `uid is ${s.uid}`;
    case 'gid':
      return `gid is ${s.gid}`;
  }
}

function actualOfCond(program: Program, cond: Cond, request: NormalizedRequest): string {
  const e = request.enclave;
  switch (cond.kind) {
    case 'cmp':
    case 'in':
      return `${cond.field} is ${e[cond.field]}`;
    case 'attr':
      return `the enclave does not have ${cond.name}`;
    case 'object':
      return actualMeasurement(cond.object, request);
    case 'subjpred':
      return actualOfPred(cond.pred, request);
    case 'subject':
      return classFailure(program, cond.name, request);
    case 'const':
      return 'always';
    default:
      return 'for this request';
  }
}

function actualMeasurement(o: ObjectRef, request: NormalizedRequest): string {
  return o.objKind === 'signer' ? `mrsigner is ${request.enclave.mrsigner}` : `mrenclave is ${request.enclave.mrenclave}`;
}

function objectText(program: Program, o: ObjectRef): string {
  return sourceText(program, o.span);
}

function unique<T>(value: T, index: number, all: T[]): boolean {
  return all.indexOf(value) === index;
}

/** The source text of a span, on one line. */
export function sourceText(program: Program, span: Span): string {
  const file = program.files.find((f) => f.file === span.file);
  if (file === undefined) return '';
  return file.text.slice(span.offset, span.endOffset).replace(/\s+/g, ' ').trim();
}
