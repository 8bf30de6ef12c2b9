// Lowering: the resolved Program → the decision table of SPEC 6 (runtime/table.ts describes
// the format). Subject predicates become shared atoms, subject classes and `where` conditions
// become postfix programs, and every rule keyed on a signer or an enclave is reached through
// a posting list for each measurement it names.
import type { Cond, ObjectRef, SubjExpr, SubjPred } from './ast.js';
import type { MeasurementSet, Program } from './ir.js';
import { sortedTableDigest } from '../runtime/canonical.js';
import { Cmp, Op, RULE_ALLOW, RULE_AUDIT, RULE_HOST, RULE_KVM, type RuleJson, type SubjectAtomJson, type TableJson } from '../runtime/table.js';
import { ATTRIBUTE_BITS } from '../runtime/types.js';

const NO_VALUES: readonly string[] = [];

const CMP_CODES = { '==': Cmp.EQ, '!=': Cmp.NE, '<': Cmp.LT, '<=': Cmp.LE, '>': Cmp.GT, '>=': Cmp.GE } as const;

/** Interns values by a string key, giving each a dense index in first-seen order. */
class Interner<T> {
  readonly items: T[] = [];
  private readonly ids = new Map<string, number>();
  id(key: string, make: () => T): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.items.length;
      this.ids.set(key, id);
      this.items.push(make());
    }
    return id;
  }
}

function atomOf(pred: SubjPred): SubjectAtomJson {
  switch (pred.kind) {
    case 'exe':
    case 'label':
      return { glob: pred.glob.value, kind: pred.kind };
    case 'holds':
      return { kind: 'holds', path: pred.path.value };
    case 'uid':
    case 'gid':
      return { hi: pred.hi.value, kind: pred.kind, lo: pred.lo.value };
  }
}

export function lowerProgram(program: Program): TableJson {
  // The measurements of a named set: one shared array (resolve.ts), so work per set is done
  // once, keyed on that array. (A literal object is handled where it is met: one measurement.)
  const setValues = (objKind: ObjectRef['objKind'], name: string): readonly string[] => {
    const sets = objKind === 'signer' ? program.signers : program.enclaves;
    return sets.get(name)?.values ?? NO_VALUES;
  };

  // ---- measurements: every value a rule can reach, sorted ----
  const all = new Set<string>();
  const collected = new Set<readonly string[]>();
  /** `known`: the set resolve.ts bound a rule's object to (Rule.objectSets), when there is one. */
  const collectObject = (object: ObjectRef, known?: MeasurementSet): void => {
    if (object.target.kind === 'literal') {
      all.add(object.target.value);
      return;
    }
    const values = known?.values ?? setValues(object.objKind, object.target.name.text);
    if (collected.has(values)) return;
    collected.add(values);
    for (const v of values) all.add(v);
  };
  const collectCond = (cond: Cond | undefined): void => {
    if (!cond) return;
    if (cond.kind === 'and' || cond.kind === 'or') cond.operands.forEach(collectCond);
    else if (cond.kind === 'not') collectCond(cond.operand);
    else if (cond.kind === 'object') collectObject(cond.object);
  };
  for (const rule of program.rules) {
    if (rule.decl.objects.kind === 'list') rule.decl.objects.items.forEach((o, k) => collectObject(o, rule.objectSets[k]));
    collectCond(rule.decl.where);
  }
  const measurements = [...all].sort();
  const measurementId = new Map(measurements.map((m, i) => [m, i]));
  // The measurement indexes of an object, ascending (a set's values are sorted, and so are the measurements).
  const idsOfSet = new Map<readonly string[], readonly number[]>();
  const objectIds = (object: ObjectRef, known?: MeasurementSet): readonly number[] => {
    if (object.target.kind === 'literal') return [measurementId.get(object.target.value)!];
    const values = known?.values ?? setValues(object.objKind, object.target.name.text);
    let ids = idsOfSet.get(values);
    if (ids === undefined) {
      ids = values.map((v) => measurementId.get(v)!).sort((a, b) => a - b);
      idsOfSet.set(values, ids);
    }
    return ids;
  };

  // ---- subject atoms and classes ----
  const atoms = new Interner<SubjectAtomJson>();
  const atomId = (pred: SubjPred) => {
    const atom = atomOf(pred);
    return atoms.id(JSON.stringify(atom), () => atom);
  };
  const classes: { name: string; expr: number[] }[] = [];
  const classId = new Map<string, number>();
  const emitSubject = (expr: SubjExpr, out: number[]): void => {
    switch (expr.kind) {
      case 'or':
      case 'and':
        expr.operands.forEach((operand, i) => {
          emitSubject(operand, out);
          if (i > 0) out.push(expr.kind === 'or' ? Op.OR : Op.AND);
        });
        break;
      case 'not':
        emitSubject(expr.operand, out);
        out.push(Op.NOT);
        break;
      case 'pred':
        out.push(Op.ATOM, atomId(expr.pred));
        break;
      case 'ref':
        out.push(Op.CLASS, useClass(expr.name.text));
        break;
    }
  };
  // Classes are emitted in dependency order (a class after every class it refers to).
  const useClass = (name: string): number => {
    const existing = classId.get(name);
    if (existing !== undefined) return existing;
    const cls = program.subjects.get(name);
    if (!cls) throw new Error(`lower: unresolved subject class ${name}`);
    const expr: number[] = [];
    emitSubject(cls.decl.expr, expr);
    const id = classes.length;
    classes.push({ expr, name });
    classId.set(name, id);
    return id;
  };

  // ---- sets used by conditions ----
  const sets = new Interner<number[]>();
  const setId = (object: ObjectRef): number => {
    const ids = objectIds(object);
    return sets.id(ids.join(','), () => ids.slice());
  };

  const emitCond = (cond: Cond, out: number[]): void => {
    switch (cond.kind) {
      case 'or':
      case 'and':
        cond.operands.forEach((operand, i) => {
          emitCond(operand, out);
          if (i > 0) out.push(cond.kind === 'or' ? Op.OR : Op.AND);
        });
        break;
      case 'not':
        emitCond(cond.operand, out);
        out.push(Op.NOT);
        break;
      case 'cmp':
        out.push(cond.field === 'isvprodid' ? Op.PRODID_CMP : Op.SVN_CMP, CMP_CODES[cond.op], cond.value.value);
        break;
      case 'in':
        out.push(cond.field === 'isvprodid' ? Op.PRODID_IN : Op.SVN_IN, cond.lo.value, cond.hi.value);
        break;
      case 'attr':
        out.push(Op.ATTR, ATTRIBUTE_BITS[cond.name]);
        break;
      case 'object':
        out.push(cond.object.objKind === 'signer' ? Op.SIGNER_IN : Op.ENCLAVE_IN, setId(cond.object));
        break;
      case 'subjpred':
        out.push(Op.ATOM, atomId(cond.pred));
        break;
      case 'subject':
        out.push(Op.CLASS, useClass(cond.name.text));
        break;
      case 'const':
        out.push(cond.value ? Op.TRUE : Op.FALSE);
        break;
    }
  };

  // ---- rules and their index ----
  const files = program.files.map((f) => f.file);
  const fileIndex = new Map(files.map((f, i) => [f, i]));
  const rules: RuleJson[] = [];
  // Posting lists by measurement index (rules arrive in ascending order).
  const signerPostings: (number[] | undefined)[] = new Array(measurements.length);
  const enclavePostings: (number[] | undefined)[] = new Array(measurements.length);
  const anyRules: number[] = [];
  const post = (postings: (number[] | undefined)[], key: number, rule: number) => {
    const list = postings[key];
    if (list === undefined) postings[key] = [rule];
    else if (list[list.length - 1] !== rule) list.push(rule);
  };
  for (const rule of program.rules) {
    const decl = rule.decl;
    const names = decl.subjects.kind === 'any' ? null : decl.subjects.names;
    const subjects = names === null ? null : names.length === 1 ? [useClass(names[0].text)] : [...new Set(names.map((n) => useClass(n.text)))];
    let cond: number[] | null = null;
    if (decl.where) {
      cond = [];
      emitCond(decl.where, cond);
    }
    const flags =
      (rule.effect === 'allow' ? RULE_ALLOW : 0) |
      (rule.audit ? RULE_AUDIT : 0) |
      (rule.via === 'kvm' ? RULE_KVM : rule.via === 'host' ? RULE_HOST : RULE_HOST | RULE_KVM);
    rules.push([fileIndex.get(decl.span.file)!, decl.span.line, flags, subjects, cond, rule.because ?? null]);
    if (decl.objects.kind === 'any') anyRules.push(rule.index);
    else
      decl.objects.items.forEach((object, k) => {
        const postings = object.objKind === 'signer' ? signerPostings : enclavePostings;
        for (const id of objectIds(object, rule.objectSets[k])) post(postings, id, rule.index);
      });
  }
  const postingList = (postings: (number[] | undefined)[]): number[][] => {
    const out: number[][] = [];
    for (let key = 0; key < postings.length; key++) {
      const list = postings[key];
      if (list !== undefined) out.push([key, ...list]);
    }
    return out;
  };

  const table: TableJson = {
    format: 'sgxpol-table',
    formatVersion: 1,
    policy: program.policy,
    digest: '',
    default: { audit: program.default.audit, effect: program.default.effect },
    measurements,
    sets: sets.items,
    atoms: atoms.items,
    classes,
    files,
    rules,
    index: { any: anyRules, enclave: postingList(enclavePostings), signer: postingList(signerPostings) },
  };
  // Every object below is built with its keys in sorted order, so the fast digest is the canonical one.
  table.digest = sortedTableDigest(table as unknown as Record<string, unknown>);
  return table;
}
