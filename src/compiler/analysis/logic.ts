// A program's rules, neverallows and SPEC 5 decision as formulas over a region space.
//
// This is the one place where the analysis restates the meaning of a rule (SPEC 3.3) and of a
// decision (SPEC 5). It is kept line-for-line parallel to src/reference/interpreter.ts, and every
// witness the analysis reports is replayed through that interpreter before it is shown.
import type { CmpOp, Cond, ObjectRef, Objects, SubjExpr, SubjPred, Subjects } from '../ast.js';
import type { Neverallow, Program, Rule } from '../ir.js';
import type { RulePattern } from '../../reference/interpreter.js';
import { FALSE, FormulaBuilder, TRUE, type Formula } from './formula.js';
import { regionSet } from './regionset.js';
import { isHoldable, objectValues, type RegionSpace } from './space.js';

/** Who decides a request: a rule id, `default`, or `builtin:provisionkey`. */
export type DecisionKey = string;
export const DEFAULT_KEY = 'default';
export const BUILTIN_KEY = 'builtin:provisionkey';

export class PolicyLogic {
  readonly builder: FormulaBuilder;
  readonly space: RegionSpace;
  /** Per rule in program order: the requests it matches. */
  readonly ruleMatch: Formula[];
  readonly neverallowMatch: Formula[];
  readonly defaultAllow: boolean;
  /** provisionkey is clear, or /dev/sgx_provision is held (SPEC 5.5). */
  readonly invariantHolds: Formula;

  private readonly classes = new Map<string, Formula>();
  private readonly denyIndexes: number[] = [];
  private readonly allowIndexes: number[] = [];
  private cache = new Map<string, Formula>();

  constructor(
    readonly program: Program,
    builder: FormulaBuilder,
  ) {
    this.builder = builder;
    this.space = builder.space;
    // Subject classes are compiled when first referenced (by a rule here, or a query later):
    // a policy may declare thousands no rule uses, and their region sets can be large.
    this.ruleMatch = program.rules.map((rule) => this.pattern(rule.decl));
    this.neverallowMatch = program.neverallows.map((n) => this.pattern(n.decl));
    program.rules.forEach((rule, i) => (rule.effect === 'deny' ? this.denyIndexes : this.allowIndexes).push(i));
    this.defaultAllow = program.default.decl !== undefined && program.default.effect === 'allow';
    const space = this.space;
    this.invariantHolds = builder.or([
      builder.lit(space.provisionkey, regionSet(2, [0])),
      builder.lit(space.provisionDevice, regionSet(2, [1])),
    ]);
  }

  get rules(): readonly Rule[] {
    return this.program.rules;
  }

  get neverallows(): readonly Neverallow[] {
    return this.program.neverallows;
  }

  /** Some deny rule matches. */
  anyDeny(): Formula {
    return this.cached('anyDeny', () => this.builder.or(this.denyIndexes.map((i) => this.ruleMatch[i])));
  }

  /** Some allow rule matches. */
  anyAllow(): Formula {
    return this.cached('anyAllow', () => this.builder.or(this.allowIndexes.map((i) => this.ruleMatch[i])));
  }

  /** SPEC 5: the decision is allow. */
  allowed(): Formula {
    return this.cached('allowed', () => {
      const b = this.builder;
      return b.and([b.not(this.anyDeny()), this.defaultAllow ? TRUE : this.anyAllow(), this.invariantHolds]);
    });
  }

  /** SPEC 5: the decision is deny. */
  denied(): Formula {
    return this.cached('denied', () => this.builder.not(this.allowed()));
  }

  /** The requests whose deciding rule (SPEC 5) is `key`. */
  decidedBy(key: DecisionKey): Formula {
    const b = this.builder;
    if (key === DEFAULT_KEY) {
      return b.and([b.not(this.anyDeny()), b.not(this.anyAllow()), this.defaultAllow ? this.invariantHolds : TRUE]);
    }
    if (key === BUILTIN_KEY) {
      return b.and([b.not(this.anyDeny()), this.defaultAllow ? TRUE : this.anyAllow(), b.not(this.invariantHolds)]);
    }
    const index = this.program.rules.findIndex((r) => r.id === key);
    if (index < 0) throw new Error(`analysis: no rule ${key}`);
    const match = this.ruleMatch[index];
    if (this.program.rules[index].effect === 'deny') {
      const earlier = this.denyIndexes.filter((i) => i < index).map((i) => this.ruleMatch[i]);
      return b.and([match, b.not(b.or(earlier))]);
    }
    const earlier = this.allowIndexes.filter((i) => i < index).map((i) => this.ruleMatch[i]);
    return b.and([match, b.not(this.anyDeny()), b.not(b.or(earlier)), this.invariantHolds]);
  }

  /** Membership in a subject class (compiled, with the classes it references, on first use). */
  subjectClass(name: string): Formula {
    let f = this.classes.get(name);
    if (f === undefined) {
      if (!this.program.subjects.has(name)) throw new Error(`analysis: subject class '${name}' is not in the program`);
      this.compileClasses(name);
      f = this.classes.get(name)!;
    }
    return f;
  }

  private cached(key: string, make: () => Formula): Formula {
    let f = this.cache.get(key);
    if (f === undefined) {
      f = make();
      this.cache.set(key, f);
    }
    return f;
  }

  // ---- compiling -------------------------------------------------------------------------------

  /**
   * Compiles class `root` and the classes it references, in dependency order, without recursion
   * across classes (chains can be long). Classes compiled before are not compiled again.
   */
  private compileClasses(root: string): void {
    const subjects = this.program.subjects;
    const open = new Set<string>();
    const stack: string[] = [root];
    while (stack.length > 0) {
      const name = stack[stack.length - 1];
      if (this.classes.has(name)) {
        stack.pop();
        continue;
      }
      const pending = open.has(name) ? [] : classRefs(subjects.get(name)!.decl.expr).filter((r) => !this.classes.has(r));
      if (pending.length > 0) {
        open.add(name);
        // The resolver refuses recursive definitions, so an open class is never met again here.
        for (const ref of pending) if (!open.has(ref)) stack.push(ref);
        continue;
      }
      const f = this.subjExpr(subjects.get(name)!.decl.expr);
      if (f.kind === 'and' || f.kind === 'or') f.shared = true;
      this.classes.set(name, f);
      stack.pop();
    }
  }

  pattern(p: RulePattern): Formula {
    const b = this.builder;
    return b.and([
      this.subjects(p.subjects),
      this.via(p.via === undefined ? 'any' : p.via.path),
      this.objects(p.objects),
      p.where === undefined ? TRUE : this.cond(p.where),
    ]);
  }

  private subjects(s: Subjects): Formula {
    if (s.kind === 'any') return TRUE;
    return this.builder.or(s.names.map((n) => this.subjectClass(n.text)));
  }

  via(path: 'host' | 'kvm' | 'any'): Formula {
    if (path === 'any') return TRUE;
    return this.builder.lit(this.space.via, regionSet(2, [path === 'kvm' ? 1 : 0]));
  }

  private objects(o: Objects): Formula {
    if (o.kind === 'any') return TRUE;
    return this.builder.or(o.items.map((item) => this.object(item)));
  }

  object(o: ObjectRef): Formula {
    const dim = o.objKind === 'signer' ? this.space.mrsigner : this.space.mrenclave;
    const [key] = objectValues(this.program, o);
    return this.builder.lit(dim, this.space.measurementSet(dim, key));
  }

  private subjExpr(e: SubjExpr): Formula {
    const b = this.builder;
    switch (e.kind) {
      case 'or':
        return b.or(e.operands.map((x) => this.subjExpr(x)));
      case 'and':
        return b.and(e.operands.map((x) => this.subjExpr(x)));
      case 'not':
        return b.not(this.subjExpr(e.operand));
      case 'pred':
        return this.pred(e.pred);
      case 'ref':
        return this.subjectClass(e.name.text);
    }
  }

  pred(p: SubjPred): Formula {
    const b = this.builder;
    const space = this.space;
    switch (p.kind) {
      case 'exe':
        return b.lit(...space.globLiteral('exe', p.glob.value));
      case 'label':
        return b.lit(...space.globLiteral('label', p.glob.value));
      case 'holds': {
        if (!isHoldable(p.path.value)) return FALSE;
        return b.lit(space.devices.get(p.path.value)!, regionSet(2, [1]));
      }
      case 'uid':
      case 'gid':
        return b.lit(p.kind === 'uid' ? space.uid : space.gid, space.intRange(p.kind === 'uid' ? space.uid : space.gid, p.lo.value, p.hi.value));
    }
  }

  private cond(c: Cond): Formula {
    const b = this.builder;
    const space = this.space;
    switch (c.kind) {
      case 'or':
        return b.or(c.operands.map((x) => this.cond(x)));
      case 'and':
        return b.and(c.operands.map((x) => this.cond(x)));
      case 'not':
        return b.not(this.cond(c.operand));
      case 'cmp': {
        const dim = c.field === 'isvprodid' ? space.isvprodid : space.isvsvn;
        const [lo, hi] = cmpRange(c.op, c.value.value);
        if (c.op === '!=') return b.not(b.lit(dim, space.intRange(dim, c.value.value, c.value.value)));
        return b.lit(dim, space.intRange(dim, lo, hi));
      }
      case 'in': {
        const dim = c.field === 'isvprodid' ? space.isvprodid : space.isvsvn;
        return b.lit(dim, space.intRange(dim, c.lo.value, c.hi.value));
      }
      case 'attr':
        return b.lit(space.attributes.get(c.name)!, regionSet(2, [1]));
      case 'object':
        return this.object(c.object);
      case 'subjpred':
        return this.pred(c.pred);
      case 'subject':
        return this.subjectClass(c.name.text);
      case 'const':
        return c.value ? TRUE : FALSE;
    }
  }
}

/** The values `x op v` accepts, as lo..hi (for `!=`, the excluded point). */
function cmpRange(op: CmpOp, v: number): [number, number] {
  switch (op) {
    case '==':
    case '!=':
      return [v, v];
    case '<':
      return [-Infinity, v - 1];
    case '<=':
      return [-Infinity, v];
    case '>':
      return [v + 1, Infinity];
    case '>=':
      return [v, Infinity];
  }
}

function classRefs(root: SubjExpr): string[] {
  const out: string[] = [];
  const stack = [root];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (e.kind === 'and' || e.kind === 'or') for (const x of e.operands) stack.push(x);
    else if (e.kind === 'not') stack.push(e.operand);
    else if (e.kind === 'ref') out.push(e.name.text);
  }
  return out;
}
