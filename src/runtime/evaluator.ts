// The embedded evaluator (SPEC 5 and 7): answers "may this subject EINIT this enclave, on this
// path?" from a loaded table. `decide` never throws; anything it cannot read is a deny.
import { readFileSync } from 'node:fs';
import { Cmp, loadTable, Op, VIA_HOST, VIA_KVM, type LoadedTable } from './table.js';
import { normalizeEnclave, normalizeSubject, checkRequestEnvelope } from './request.js';
import { PROVISION_DEVICE, type Decision, type NormalizedSubject } from './types.js';

const PROVISIONKEY_BIT = 1 << 4;

/**
 * A subject matched once against a table's subject classes, to stand in for `subject` in later
 * requests. After a table swap it is matched again, once, on its next use.
 */
export class SubjectHandle {
  /** The validated subject, or undefined when it was invalid. */
  readonly subject: NormalizedSubject | undefined;
  /** Why the subject is invalid, when it is. */
  readonly error: string | undefined;
  readonly holdsProvision: boolean;
  /** @internal the table the bits below were computed for */
  table: LoadedTable | undefined;
  /** @internal one byte per subject atom / class: 1 when it matches */
  atomBits: Uint8Array;
  /** @internal */
  classBits: Uint8Array;

  /** @internal use Evaluator.resolveSubject */
  constructor(subject: NormalizedSubject | undefined, error: string | undefined) {
    this.subject = subject;
    this.error = error;
    this.holdsProvision = subject !== undefined && subject.holds.includes(PROVISION_DEVICE);
    this.table = undefined;
    this.atomBits = EMPTY;
    this.classBits = EMPTY;
  }
}

const EMPTY = new Uint8Array(0);

function frozenDecision(decision: 'allow' | 'deny', rule: string | null, audit: boolean, reason: string): Decision {
  return Object.freeze({ decision, rule, audit, reason });
}

const invalid = (reason: string): Decision => frozenDecision('deny', null, false, `invalid request: ${reason}`);

const PROVISION_DENIAL = frozenDecision(
  'deny',
  'builtin:provisionkey',
  false,
  `the enclave has the PROVISIONKEY attribute and the subject does not hold ${PROVISION_DEVICE}`,
);

/** The table in force plus the decisions it can give, built lazily per rule. */
interface State {
  table: LoadedTable;
  ruleDecisions: (Decision | undefined)[];
  defaultDecision: Decision;
  stack: Uint8Array;
}

function makeState(table: LoadedTable): State {
  const d = table.json.default;
  return {
    table,
    ruleDecisions: new Array(table.json.rules.length),
    defaultDecision: frozenDecision(d.effect, 'default', d.audit, `no rule matched; the policy's default is ${d.effect}`),
    stack: new Uint8Array(table.maxStack + 1),
  };
}

export class Evaluator {
  private state: State;

  // The request being decided, kept in fields so the hot path allocates nothing.
  private prodid = 0;
  private svn = 0;
  private attrs = 0;
  private signerId = -1;
  private enclaveId = -1;
  private atoms: Uint8Array = EMPTY;
  private classes: Uint8Array = EMPTY;

  private constructor(table: LoadedTable) {
    this.state = makeState(table);
  }

  /** Validates a table (object, JSON text or bytes) and builds an evaluator; throws an Error saying why a table is refused. */
  static fromTable(table: unknown): Evaluator {
    return new Evaluator(loadTable(table));
  }

  static fromFile(path: string): Evaluator {
    return new Evaluator(loadTable(readTableFile(path)));
  }

  /** Replaces the table in force, atomically: if the new one is refused, this throws and the old one stays. */
  swapTable(table: unknown): void {
    this.state = makeState(loadTable(table));
  }

  swapFile(path: string): void {
    this.state = makeState(loadTable(readTableFile(path)));
  }

  /** The policy name and version, and the digest, of the table in force. */
  get tableInfo(): { policy: { name: string; version: number } | null; digest: string; rules: number } {
    const json = this.state.table.json;
    return { policy: json.policy, digest: json.digest, rules: json.rules.length };
  }

  /** Validates and matches a subject once. Never throws: an invalid subject gives a handle whose requests are denied. */
  resolveSubject(subject: unknown): SubjectHandle {
    let handle: SubjectHandle;
    try {
      const checked = normalizeSubject(subject);
      handle = checked.ok ? new SubjectHandle(checked.subject, undefined) : new SubjectHandle(undefined, checked.reason);
    } catch {
      handle = new SubjectHandle(undefined, 'subject could not be read');
    }
    if (handle.subject !== undefined) this.matchSubject(handle, this.state.table);
    return handle;
  }

  /** The decision for a request (SPEC 5). Never throws. */
  decide(request: unknown): Decision {
    try {
      return this.decideUnsafe(request);
    } catch {
      return invalid('the request could not be read');
    }
  }

  private decideUnsafe(request: unknown): Decision {
    const state = this.state;
    const table = state.table;
    const envelope = checkRequestEnvelope(request);
    if (!envelope.ok) return invalid(envelope.reason);
    let handle: SubjectHandle;
    if (envelope.subject instanceof SubjectHandle) {
      handle = envelope.subject;
      if (handle.subject === undefined) return invalid(handle.error ?? 'invalid subject');
      if (handle.table !== table) this.matchSubject(handle, table);
    } else {
      const checked = normalizeSubject(envelope.subject);
      if (!checked.ok) return invalid(checked.reason);
      handle = new SubjectHandle(checked.subject, undefined);
      this.matchSubject(handle, table);
    }

    const enclave = normalizeEnclave(envelope.enclave);
    if (!enclave.ok) return invalid(enclave.reason);
    const e = enclave.enclave;
    const viaBit = envelope.via === 'kvm' ? VIA_KVM : VIA_HOST;

    this.prodid = e.isvprodid;
    this.svn = e.isvsvn;
    this.attrs = e.attributeBits;
    this.signerId = table.measurementIndex.get(e.mrsigner) ?? -1;
    this.enclaveId = table.measurementIndex.get(e.mrenclave) ?? -1;
    this.atoms = handle.atomBits;
    this.classes = handle.classBits;

    let rule = this.firstMatch(
      this.signerId >= 0 ? table.signerDeny.get(this.signerId) : undefined,
      this.enclaveId >= 0 ? table.enclaveDeny.get(this.enclaveId) : undefined,
      table.anyDeny,
      viaBit,
    );
    if (rule < 0) {
      rule = this.firstMatch(
        this.signerId >= 0 ? table.signerAllow.get(this.signerId) : undefined,
        this.enclaveId >= 0 ? table.enclaveAllow.get(this.enclaveId) : undefined,
        table.anyAllow,
        viaBit,
      );
    }
    const decision = rule >= 0 ? this.ruleDecision(rule) : state.defaultDecision;
    if (decision.decision === 'allow' && (this.attrs & PROVISIONKEY_BIT) !== 0 && !handle.holdsProvision) return PROVISION_DENIAL;
    return decision;
  }

  private ruleDecision(rule: number): Decision {
    const cached = this.state.ruleDecisions[rule];
    if (cached !== undefined) return cached;
    const json = this.state.table.json.rules[rule];
    const verb = json.effect === 'allow' ? 'allowed' : 'denied';
    const made = frozenDecision(json.effect, json.id, json.audit, json.reason ?? `${verb} by rule ${json.id}`);
    this.state.ruleDecisions[rule] = made;
    return made;
  }

  /** The lowest rule index in the union of three ascending lists that matches the current request, or -1. */
  private firstMatch(a: Int32Array | undefined, b: Int32Array | undefined, c: Int32Array, viaBit: number): number {
    const la = a === undefined ? 0 : a.length;
    const lb = b === undefined ? 0 : b.length;
    const lc = c.length;
    let i = 0;
    let j = 0;
    let k = 0;
    for (;;) {
      let r = 0x7fffffff;
      if (i < la && a![i] < r) r = a![i];
      if (j < lb && b![j] < r) r = b![j];
      if (k < lc && c[k] < r) r = c[k];
      if (r === 0x7fffffff) return -1;
      if (i < la && a![i] === r) i++;
      if (j < lb && b![j] === r) j++;
      if (k < lc && c[k] === r) k++;
      if (this.ruleMatches(r, viaBit)) return r;
    }
  }

  private ruleMatches(rule: number, viaBit: number): boolean {
    const table = this.state.table;
    if ((table.ruleVia[rule] & viaBit) === 0) return false;
    const subjects = table.ruleSubjects[rule];
    if (subjects !== null) {
      let any = false;
      for (let i = 0; i < subjects.length; i++) {
        if (this.classes[subjects[i]] === 1) {
          any = true;
          break;
        }
      }
      if (!any) return false;
    }
    const cond = table.ruleCond[rule];
    return cond === null || this.run(cond);
  }

  /** Runs a postfix program (table.ts `Op`) against the current request. */
  private run(program: Int32Array): boolean {
    const stack = this.state.stack;
    const table = this.state.table;
    let sp = 0;
    let pc = 0;
    const end = program.length;
    while (pc < end) {
      const op = program[pc];
      switch (op) {
        case Op.FALSE:
          stack[sp++] = 0;
          pc += 1;
          break;
        case Op.TRUE:
          stack[sp++] = 1;
          pc += 1;
          break;
        case Op.AND:
          sp--;
          stack[sp - 1] &= stack[sp];
          pc += 1;
          break;
        case Op.OR:
          sp--;
          stack[sp - 1] |= stack[sp];
          pc += 1;
          break;
        case Op.NOT:
          stack[sp - 1] ^= 1;
          pc += 1;
          break;
        case Op.PRODID_CMP:
          stack[sp++] = compare(this.prodid, program[pc + 1], program[pc + 2]);
          pc += 3;
          break;
        case Op.SVN_CMP:
          stack[sp++] = compare(this.svn, program[pc + 1], program[pc + 2]);
          pc += 3;
          break;
        case Op.PRODID_IN:
          stack[sp++] = this.prodid >= program[pc + 1] && this.prodid <= program[pc + 2] ? 1 : 0;
          pc += 3;
          break;
        case Op.SVN_IN:
          stack[sp++] = this.svn >= program[pc + 1] && this.svn <= program[pc + 2] ? 1 : 0;
          pc += 3;
          break;
        case Op.ATTR:
          stack[sp++] = (this.attrs >>> program[pc + 1]) & 1;
          pc += 2;
          break;
        case Op.SIGNER_IN:
          stack[sp++] = this.signerId >= 0 && table.sets[program[pc + 1]].has(this.signerId) ? 1 : 0;
          pc += 2;
          break;
        case Op.ENCLAVE_IN:
          stack[sp++] = this.enclaveId >= 0 && table.sets[program[pc + 1]].has(this.enclaveId) ? 1 : 0;
          pc += 2;
          break;
        case Op.ATOM:
          stack[sp++] = this.atoms[program[pc + 1]];
          pc += 2;
          break;
        case Op.CLASS:
          stack[sp++] = this.classes[program[pc + 1]];
          pc += 2;
          break;
        default:
          // loadTable rejects unknown opcodes; reaching here is a bug, and a bug must not allow.
          throw new Error(`unknown opcode ${op}`);
      }
    }
    return stack[0] === 1;
  }

  /** Computes a subject's atom and class bits for a table. */
  private matchSubject(handle: SubjectHandle, table: LoadedTable): void {
    const subject = handle.subject!;
    const atoms = new Uint8Array(table.atomCount);
    const exact = table.exeExact.get(subject.exe);
    if (exact !== undefined) for (const a of exact) atoms[a] = 1;
    for (const g of table.exeGlobs) if (g.matcher.matches(subject.exe)) atoms[g.atom] = 1;
    if (subject.label !== undefined) for (const g of table.labelGlobs) if (g.matcher.matches(subject.label)) atoms[g.atom] = 1;
    for (const device of subject.holds) {
      const list = table.holds.get(device);
      if (list !== undefined) for (const a of list) atoms[a] = 1;
    }
    for (const r of table.uidRanges) if (subject.uid >= r.lo && subject.uid <= r.hi) atoms[r.atom] = 1;
    for (const r of table.gidRanges) if (subject.gid >= r.lo && subject.gid <= r.hi) atoms[r.atom] = 1;

    const classes = new Uint8Array(table.classPrograms.length);
    const savedAtoms = this.atoms;
    const savedClasses = this.classes;
    this.atoms = atoms;
    this.classes = classes;
    for (let i = 0; i < classes.length; i++) classes[i] = this.run(table.classPrograms[i]) ? 1 : 0;
    this.atoms = savedAtoms;
    this.classes = savedClasses;

    handle.atomBits = atoms;
    handle.classBits = classes;
    handle.table = table;
  }
}

function compare(value: number, cmp: number, operand: number): number {
  switch (cmp) {
    case Cmp.EQ:
      return value === operand ? 1 : 0;
    case Cmp.NE:
      return value !== operand ? 1 : 0;
    case Cmp.LT:
      return value < operand ? 1 : 0;
    case Cmp.LE:
      return value <= operand ? 1 : 0;
    case Cmp.GT:
      return value > operand ? 1 : 0;
    default:
      return value >= operand ? 1 : 0;
  }
}

function readTableFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new Error(`table refused: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
