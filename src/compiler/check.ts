// Static checks over the resolved Program that are not name errors (SPEC 3.5 warnings).
// The exact neverallow check is not here yet: each neverallow gets a warning saying so.
import type { Cond, ObjectRef, SubjExpr, SubjPred } from './ast.js';
import { Codes, warning, type Diagnostic } from './diagnostics.js';
import type { Program, Rule } from './ir.js';
import { ATTRIBUTE_BITS } from '../runtime/types.js';

export function checkProgram(program: Program): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const d = program.default;
  if (d.effect === 'allow' && d.decl) {
    diagnostics.push(warning(Codes.DEFAULT_ALLOW, d.decl.span, '`default allow` permits every launch no rule denies; prefer `default deny` and explicit allow rules'));
  }

  // Rules are bucketed by a cheap outline first; only rules with the same outline are compared in full.
  const buckets = new Map<string, { rule: Rule; key?: string }[]>();
  const fullKey = (entry: { rule: Rule; key?: string }) => (entry.key ??= ruleKey(entry.rule));
  for (const rule of program.rules) {
    const outline = ruleOutline(rule);
    const bucket = buckets.get(outline);
    const entry: { rule: Rule; key?: string } = { rule };
    const earlier = bucket?.find((other) => fullKey(other) === fullKey(entry))?.rule;
    if (earlier) {
      diagnostics.push(
        warning(Codes.DUPLICATE_RULE, rule.decl.span, `this rule is identical to rule ${earlier.id}, so it never decides anything`, [
          { message: 'the earlier rule', span: earlier.decl.span },
        ]),
      );
    } else if (bucket) bucket.push(entry);
    else buckets.set(outline, [entry]);

    if (!canMatch(program, rule)) {
      diagnostics.push(warning(Codes.RULE_NEVER_MATCHES, rule.decl.span, `rule ${rule.id} can never match: no enclave satisfies its object part and \`where\` condition together`));
    }

    if (rule.effect === 'allow' && rule.via !== 'host' && constrainedOnlyByKvm(program, rule)) {
      diagnostics.push(
        warning(
          Codes.KVM_HOLDS_ONLY,
          rule.decl.span,
          `rule ${rule.id} grants ${rule.via === 'kvm' ? '`via kvm`' : 'guest (`via any`)'} launches to any process that holds /dev/kvm, which is often world-openable; constrain the subject by exe, uid or label`,
        ),
      );
    }
  }

  for (const neverallow of program.neverallows) {
    diagnostics.push(warning(Codes.NEVERALLOW_NOT_VERIFIED, neverallow.decl.span, `neverallow ${neverallow.id} is parsed but not yet verified against the policy`));
  }
  return diagnostics;
}

/** What every identical rule shares, cheaply: effect, audit, path and the names in its subject and object parts. */
function ruleOutline(rule: Rule): string {
  const d = rule.decl;
  const subjects = d.subjects.kind === 'any' ? '*' : d.subjects.names.map((n) => n.text).join(',');
  const objects =
    d.objects.kind === 'any'
      ? '*'
      : d.objects.items.map((o) => `${o.objKind}:${o.target.kind === 'ref' ? o.target.name.text : o.target.value}`).join(',');
  return `${rule.effect}|${rule.audit}|${rule.via}|${subjects}|${objects}|${d.where ? 'w' : ''}`;
}

/** A rule's content without its place: two rules with the same key are identical. */
function ruleKey(rule: Rule): string {
  const { span: _span, via: _via, because, ...rest } = rule.decl;
  void _span;
  void _via;
  return JSON.stringify({ ...rest, via: rule.via, because: because?.value }, (key, value) => (key === 'span' ? undefined : value));
}

// ---- can a rule match? -------------------------------------------------------------------
// Exact over the enclave's dimensions (ISVPRODID, ISVSVN, attribute bits, MRSIGNER, MRENCLAVE),
// by trying one representative of every region the rule's atoms distinguish. Subject atoms and
// classes are relaxed to independent booleans, so this never calls a satisfiable rule
// unmatchable; it may miss a rule whose subject constraints contradict each other.

const MAX_COMBINATIONS = 1 << 16;

interface Assignment {
  prodid: number;
  svn: number;
  attrs: number;
  signer: string;
  enclave: string;
  subjectAtoms: Map<string, boolean>;
}

function canMatch(program: Program, rule: Rule): boolean {
  const decl = rule.decl;
  if (!decl.where) return true; // object sets are never empty
  const box = boxOfCond(decl.where);
  if (box !== null) return box.prodLo <= box.prodHi && box.svnLo <= box.svnHi && (box.set & box.clear) === 0;
  const objectValues = (object: ObjectRef): string[] => {
    if (object.target.kind === 'literal') return [object.target.value];
    return (object.objKind === 'signer' ? program.signers : program.enclaves).get(object.target.name.text)?.values ?? [];
  };
  const objects: ObjectRef[] = [];
  const prodidPoints = new Set([0, 65535]);
  const svnPoints = new Set([0, 65535]);
  const attrBits = new Set<number>();
  const subjectKeys = new Set<string>();
  const addPoint = (points: Set<number>, v: number) => {
    for (const p of [v - 1, v, v + 1]) if (p >= 0 && p <= 65535) points.add(p);
  };
  const walk = (cond: Cond): void => {
    switch (cond.kind) {
      case 'or':
      case 'and':
        cond.operands.forEach(walk);
        break;
      case 'not':
        walk(cond.operand);
        break;
      case 'cmp':
        addPoint(cond.field === 'isvprodid' ? prodidPoints : svnPoints, cond.value.value);
        break;
      case 'in':
        addPoint(cond.field === 'isvprodid' ? prodidPoints : svnPoints, cond.lo.value);
        addPoint(cond.field === 'isvprodid' ? prodidPoints : svnPoints, cond.hi.value);
        break;
      case 'attr':
        attrBits.add(ATTRIBUTE_BITS[cond.name]);
        break;
      case 'object':
        objects.push(cond.object);
        break;
      case 'subjpred':
      case 'subject':
        subjectKeys.add(subjectKey(cond));
        break;
      case 'const':
        break;
    }
  };
  if (decl.objects.kind === 'list') objects.push(...decl.objects.items);
  if (decl.where) walk(decl.where);

  // Measurements that belong to exactly the same mentioned sets behave alike: keep one of each.
  const representatives = (kind: 'signer' | 'enclave'): string[] => {
    const sets = objects.filter((o) => o.objKind === kind).map((o) => new Set(objectValues(o)));
    const bySignature = new Map<string, string>();
    for (const set of sets)
      for (const v of set) {
        const signature = sets.map((s) => (s.has(v) ? '1' : '0')).join('');
        if (!bySignature.has(signature)) bySignature.set(signature, v);
      }
    return [...bySignature.values(), 'none'];
  };
  const signers = representatives('signer');
  const enclaves = representatives('enclave');
  const bits = [...attrBits];
  const subjects = [...subjectKeys];
  const total = prodidPoints.size * svnPoints.size * 2 ** bits.length * signers.length * enclaves.length * 2 ** subjects.length;
  if (total > MAX_COMBINATIONS) return true; // too many regions to try here; assume it can match

  const matchesObjects = (a: Assignment) =>
    decl.objects.kind === 'any' || decl.objects.items.some((o) => objectValues(o).includes(o.objKind === 'signer' ? a.signer : a.enclave));
  const holds = (cond: Cond, a: Assignment): boolean => {
    switch (cond.kind) {
      case 'or':
        return cond.operands.some((c) => holds(c, a));
      case 'and':
        return cond.operands.every((c) => holds(c, a));
      case 'not':
        return !holds(cond.operand, a);
      case 'cmp': {
        const x = cond.field === 'isvprodid' ? a.prodid : a.svn;
        const v = cond.value.value;
        return { '==': x === v, '!=': x !== v, '<': x < v, '<=': x <= v, '>': x > v, '>=': x >= v }[cond.op];
      }
      case 'in': {
        const x = cond.field === 'isvprodid' ? a.prodid : a.svn;
        return x >= cond.lo.value && x <= cond.hi.value;
      }
      case 'attr':
        return ((a.attrs >>> ATTRIBUTE_BITS[cond.name]) & 1) === 1;
      case 'object':
        return objectValues(cond.object).includes(cond.object.objKind === 'signer' ? a.signer : a.enclave);
      case 'subjpred':
      case 'subject':
        return a.subjectAtoms.get(subjectKey(cond))!;
      case 'const':
        return cond.value;
    }
  };

  for (const prodid of prodidPoints)
    for (const svn of svnPoints)
      for (let attrMask = 0; attrMask < 2 ** bits.length; attrMask++)
        for (const signer of signers)
          for (const enclave of enclaves)
            for (let subjectMask = 0; subjectMask < 2 ** subjects.length; subjectMask++) {
              let attrs = 0;
              bits.forEach((bit, i) => {
                if ((attrMask >> i) & 1) attrs |= 1 << bit;
              });
              const subjectAtoms = new Map(subjects.map((key, i) => [key, ((subjectMask >> i) & 1) === 1]));
              const a: Assignment = { prodid, svn, attrs, signer, enclave, subjectAtoms };
              if (matchesObjects(a) && (!decl.where || holds(decl.where, a))) return true;
            }
  return false;
}

interface Box {
  prodLo: number;
  prodHi: number;
  svnLo: number;
  svnHi: number;
  set: number;
  clear: number;
}

/**
 * The usual shape of a condition — a conjunction of ISVPRODID/ISVSVN intervals and (negated)
 * attributes — as a box of values that satisfy it; null for any other shape. Such a condition
 * can match exactly when its box is not empty (the enclave's dimensions are independent).
 */
function boxOfCond(cond: Cond): Box | null {
  switch (cond.kind) {
    case 'and': {
      const box: Box = { prodLo: 0, prodHi: 65535, svnLo: 0, svnHi: 65535, set: 0, clear: 0 };
      for (const operand of cond.operands) {
        const inner = boxOfCond(operand);
        if (inner === null) return null;
        box.prodLo = Math.max(box.prodLo, inner.prodLo);
        box.prodHi = Math.min(box.prodHi, inner.prodHi);
        box.svnLo = Math.max(box.svnLo, inner.svnLo);
        box.svnHi = Math.min(box.svnHi, inner.svnHi);
        box.set |= inner.set;
        box.clear |= inner.clear;
      }
      return box;
    }
    case 'cmp':
    case 'in': {
      let lo: number;
      let hi: number;
      if (cond.kind === 'in') [lo, hi] = [cond.lo.value, cond.hi.value];
      else {
        const v = cond.value.value;
        const ranges: Record<string, [number, number] | null> = { '==': [v, v], '!=': null, '<': [0, v - 1], '<=': [0, v], '>': [v + 1, 65535], '>=': [v, 65535] };
        const range = ranges[cond.op];
        if (range === null) return null;
        [lo, hi] = range;
      }
      const box: Box = { prodLo: 0, prodHi: 65535, svnLo: 0, svnHi: 65535, set: 0, clear: 0 };
      if (cond.field === 'isvprodid') [box.prodLo, box.prodHi] = [lo, hi];
      else [box.svnLo, box.svnHi] = [lo, hi];
      return box;
    }
    case 'attr':
      return { prodLo: 0, prodHi: 65535, svnLo: 0, svnHi: 65535, set: 1 << ATTRIBUTE_BITS[cond.name], clear: 0 };
    case 'not':
      return cond.operand.kind === 'attr'
        ? { prodLo: 0, prodHi: 65535, svnLo: 0, svnHi: 65535, set: 0, clear: 1 << ATTRIBUTE_BITS[cond.operand.name] }
        : null;
    case 'const':
      return cond.value ? { prodLo: 0, prodHi: 65535, svnLo: 0, svnHi: 65535, set: 0, clear: 0 } : { prodLo: 1, prodHi: 0, svnLo: 0, svnHi: 65535, set: 0, clear: 0 };
    default:
      return null;
  }
}

function subjectKey(cond: Extract<Cond, { kind: 'subjpred' | 'subject' }>): string {
  return cond.kind === 'subject' ? `class:${cond.name.text}` : `pred:${predKey(cond.pred)}`;
}

function predKey(pred: SubjPred): string {
  switch (pred.kind) {
    case 'exe':
    case 'label':
      return `${pred.kind}:${pred.glob.value}`;
    case 'holds':
      return `holds:${pred.path.value}`;
    case 'uid':
    case 'gid':
      return `${pred.kind}:${pred.lo.value}..${pred.hi.value}`;
  }
}

// ---- the kernel review's case: guests granted to anyone holding /dev/kvm -----------------

/** True when every subject predicate that constrains the rule is `holds "/dev/kvm"`, and there is at least one. */
function constrainedOnlyByKvm(program: Program, rule: Rule): boolean {
  const preds: SubjPred[] = [];
  const visiting = new Set<string>();
  const fromExpr = (expr: SubjExpr): void => {
    switch (expr.kind) {
      case 'or':
      case 'and':
        expr.operands.forEach(fromExpr);
        break;
      case 'not':
        fromExpr(expr.operand);
        break;
      case 'pred':
        preds.push(expr.pred);
        break;
      case 'ref':
        fromClass(expr.name.text);
        break;
    }
  };
  const fromClass = (name: string) => {
    const cls = program.subjects.get(name);
    if (!cls || visiting.has(name)) return;
    visiting.add(name);
    fromExpr(cls.decl.expr);
  };
  const fromCond = (cond: Cond): void => {
    if (cond.kind === 'and' || cond.kind === 'or') cond.operands.forEach(fromCond);
    else if (cond.kind === 'not') fromCond(cond.operand);
    else if (cond.kind === 'subjpred') preds.push(cond.pred);
    else if (cond.kind === 'subject') fromClass(cond.name.text);
  };
  if (rule.decl.subjects.kind === 'list') rule.decl.subjects.names.forEach((n) => fromClass(n.text));
  if (rule.decl.where) fromCond(rule.decl.where);
  return preds.length > 0 && preds.every((p) => p.kind === 'holds' && p.path.value === '/dev/kvm');
}
