// The reference interpreter: SPEC section 5, read directly over the resolved program and its
// syntax tree. The compiled table and the fast evaluator are tested against it, so it is
// written to be obviously right rather than fast: a linear scan of the rules, subject classes
// evaluated recursively by name, set membership by lookup in the expanded values, globs through
// the reference matcher. Request validation (SPEC 2) is shared with the runtime.
import type { Cond, ObjectRef, Objects, RuleDecl, NeverallowDecl, SubjExpr, SubjPred, Subjects } from '../compiler/ast.js';
import type { Program, Rule } from '../compiler/ir.js';
import { normalizeRequest } from '../runtime/request.js';
import {
  ATTRIBUTE_BITS,
  PROVISION_DEVICE,
  type AttributeBitName,
  type Decision,
  type NormalizedEnclave,
  type NormalizedRequest,
  type NormalizedSubject,
} from '../runtime/types.js';
import { referenceGlobMatch } from './glob.js';

/** The decision SPEC 5 gives for `request` under `program`. Never throws for any request. */
export function referenceDecide(program: Program, request: unknown): Decision {
  // 5.1: an invalid request is a deny that names no rule.
  const check = normalizeRequest(request);
  if (!check.ok) return { decision: 'deny', rule: null, audit: false, reason: check.reason };
  const normalized = check.request;

  const matching = program.rules.filter((rule) => patternMatches(program, rule.decl, normalized));
  const firstDeny = matching.find((rule) => rule.decl.effect === 'deny');
  const firstAllow = matching.find((rule) => rule.decl.effect === 'allow');

  let decision: Decision;
  if (firstDeny !== undefined) decision = decidedByRule(firstDeny); // 5.2
  else if (firstAllow !== undefined) decision = decidedByRule(firstAllow); // 5.3
  else decision = decidedByDefault(program); // 5.4

  // 5.5: the provisioning key needs /dev/sgx_provision, on every path, whatever the policy says.
  if (
    decision.decision === 'allow' &&
    hasAttribute(normalized.enclave, 'provisionkey') &&
    !normalized.subject.holds.includes(PROVISION_DEVICE)
  ) {
    return {
      decision: 'deny',
      rule: 'builtin:provisionkey',
      audit: false,
      reason: `the enclave has the provisionkey attribute and the subject does not hold ${PROVISION_DEVICE}`,
    };
  }
  return decision;
}

function decidedByRule(rule: Rule): Decision {
  const { effect, audit, because } = rule.decl;
  return {
    decision: effect,
    rule: rule.id,
    audit,
    reason: because !== undefined ? because.value : `rule ${rule.id} (${effect}) matched`,
  };
}

function decidedByDefault(program: Program): Decision {
  // SPEC 3.3: without a `default` statement the default is deny, without audit.
  const declared = program.default.decl;
  const effect = declared !== undefined ? declared.effect : 'deny';
  const audit = declared !== undefined ? declared.audit : false;
  return { decision: effect, rule: 'default', audit, reason: `no rule matched; the default is ${effect}` };
}

/** The parts of a rule or a neverallow that decide whether it matches a request. */
export type RulePattern = Pick<RuleDecl | NeverallowDecl, 'subjects' | 'via' | 'objects' | 'where'>;

/**
 * Whether a rule (or a neverallow) matches a valid request (SPEC 3.3): subjects, action, path,
 * objects and the `where` condition all hold.
 */
export function patternMatches(program: Program, pattern: RulePattern, request: NormalizedRequest): boolean {
  // Every part is a pure test, so their order does not change the answer; the cheap ones go
  // first so that a linear scan of a large policy stays usable as a baseline.
  return (
    request.action === 'einit' &&
    viaMatches(pattern.via === undefined ? 'any' : pattern.via.path, request.via) &&
    objectsMatch(program, pattern.objects, request.enclave) &&
    subjectsMatch(program, pattern.subjects, request.subject) &&
    (pattern.where === undefined || condHolds(program, pattern.where, request))
  );
}

function viaMatches(ruleVia: 'host' | 'kvm' | 'any', requestVia: 'host' | 'kvm'): boolean {
  return ruleVia === 'any' || ruleVia === requestVia;
}

function subjectsMatch(program: Program, subjects: Subjects, subject: NormalizedSubject): boolean {
  if (subjects.kind === 'any') return true;
  return subjects.names.some((name) => inSubjectClass(program, name.text, subject));
}

function objectsMatch(program: Program, objects: Objects, enclave: NormalizedEnclave): boolean {
  if (objects.kind === 'any') return true;
  return objects.items.some((object) => objectMatches(program, object, enclave));
}

/** `signer X` / `enclave X`: the request's measurement is in X; a literal is a one-element set. */
function objectMatches(program: Program, object: ObjectRef, enclave: NormalizedEnclave): boolean {
  const measurement = object.objKind === 'signer' ? enclave.mrsigner : enclave.mrenclave;
  if (object.target.kind === 'literal') return object.target.value.toLowerCase() === measurement;
  const sets = object.objKind === 'signer' ? program.signers : program.enclaves;
  const set = sets.get(object.target.name.text);
  if (set === undefined) throw new Error(`reference: ${object.objKind} set '${object.target.name.text}' is not in the program`);
  return set.values.includes(measurement);
}

/**
 * Whether a subject is in each class already asked about, by subject and program. A class is
 * a fixed set, so this changes no answer; without it a class built as `sN = sN-1 and sN-1`
 * would be evaluated 2^N times.
 */
const membership = new WeakMap<NormalizedSubject, WeakMap<Program, Map<string, boolean>>>();

function inSubjectClass(program: Program, name: string, subject: NormalizedSubject): boolean {
  let byProgram = membership.get(subject);
  if (byProgram === undefined) membership.set(subject, (byProgram = new WeakMap()));
  let known = byProgram.get(program);
  if (known === undefined) byProgram.set(program, (known = new Map()));
  const answer = known.get(name);
  if (answer !== undefined) return answer;
  const subjectClass = program.subjects.get(name);
  if (subjectClass === undefined) throw new Error(`reference: subject class '${name}' is not in the program`);
  const holds = subjectExprHolds(program, subjectClass.decl.expr, subject);
  known.set(name, holds);
  return holds;
}

function subjectExprHolds(program: Program, expr: SubjExpr, subject: NormalizedSubject): boolean {
  switch (expr.kind) {
    case 'or':
      return expr.operands.some((operand) => subjectExprHolds(program, operand, subject));
    case 'and':
      return expr.operands.every((operand) => subjectExprHolds(program, operand, subject));
    case 'not':
      return !subjectExprHolds(program, expr.operand, subject);
    case 'pred':
      return subjectPredHolds(expr.pred, subject);
    case 'ref':
      return inSubjectClass(program, expr.name.text, subject);
  }
}

function subjectPredHolds(pred: SubjPred, subject: NormalizedSubject): boolean {
  switch (pred.kind) {
    case 'exe':
      return referenceGlobMatch(pred.glob.value, 'exe', subject.exe);
    case 'label':
      // A request without a label matches no label glob.
      return subject.label !== undefined && referenceGlobMatch(pred.glob.value, 'label', subject.label);
    case 'holds':
      return subject.holds.includes(pred.path.value);
    case 'uid':
    case 'gid': {
      const id = pred.kind === 'uid' ? subject.uid : subject.gid;
      // `uid N` is `uid N..N`.
      return pred.lo.value <= id && id <= pred.hi.value;
    }
  }
}

function condHolds(program: Program, cond: Cond, request: NormalizedRequest): boolean {
  switch (cond.kind) {
    case 'or':
      return cond.operands.some((operand) => condHolds(program, operand, request));
    case 'and':
      return cond.operands.every((operand) => condHolds(program, operand, request));
    case 'not':
      return !condHolds(program, cond.operand, request);
    case 'cmp':
      return compare(request.enclave[cond.field], cond.op, cond.value.value);
    case 'in':
      return cond.lo.value <= request.enclave[cond.field] && request.enclave[cond.field] <= cond.hi.value;
    case 'attr':
      return hasAttribute(request.enclave, cond.name);
    case 'object':
      return objectMatches(program, cond.object, request.enclave);
    case 'subjpred':
      return subjectPredHolds(cond.pred, request.subject);
    case 'subject':
      return inSubjectClass(program, cond.name.text, request.subject);
    case 'const':
      return cond.value;
  }
}

function compare(left: number, op: '==' | '!=' | '<' | '<=' | '>' | '>=', right: number): boolean {
  switch (op) {
    case '==':
      return left === right;
    case '!=':
      return left !== right;
    case '<':
      return left < right;
    case '<=':
      return left <= right;
    case '>':
      return left > right;
    case '>=':
      return left >= right;
  }
}

function hasAttribute(enclave: NormalizedEnclave, name: AttributeBitName): boolean {
  // Read the bit from the full 64-bit flags rather than the runtime's 32-bit shortcut.
  const flags = BigInt(`0x${enclave.attributesHex}`);
  return ((flags >> BigInt(ATTRIBUTE_BITS[name])) & 1n) === 1n;
}
