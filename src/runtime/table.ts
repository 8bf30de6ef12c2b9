// The decision table (SPEC 6): its JSON shape, the postfix condition programs, and loading —
// schema validation (ajv), digest check and an integrity check of every index — into the
// flat structures the evaluator reads. A table that fails any check is refused whole.
import { readFileSync } from 'node:fs';
import AjvModule from 'ajv';
import { digestMatches, tableDigest } from './canonical.js';
import { compileGlob, globLiteralValue, isGlobLiteral, type GlobMatcher } from './glob.js';

// ---- JSON shape --------------------------------------------------------------------------

export type SubjectAtomJson =
  | { kind: 'exe' | 'label'; glob: string }
  | { kind: 'holds'; path: string }
  | { kind: 'uid' | 'gid'; lo: number; hi: number };

/**
 * A rule, compactly: `[file, line, flags, subjects, cond, reason]`. Its id is
 * `files[file] + ":" + line`; `flags` holds RULE_ALLOW, RULE_AUDIT, RULE_HOST and RULE_KVM;
 * `subjects` is null (any subject) or indexes into `classes`; `cond` is null (no `where`) or a
 * postfix program; `reason` is the `because` text or null.
 */
export type RuleJson = [file: number, line: number, flags: number, subjects: number[] | null, cond: number[] | null, reason: string | null];

export interface TableJson {
  format: 'sgxpol-table';
  formatVersion: 1;
  policy: { name: string; version: number } | null;
  digest: string;
  default: { effect: 'allow' | 'deny'; audit: boolean };
  measurements: string[];
  sets: number[][];
  atoms: SubjectAtomJson[];
  classes: { expr: number[]; name: string }[];
  /** The policy's files, as rule ids name them (the root's base name, others relative to its folder). */
  files: string[];
  rules: RuleJson[];
  index: { signer: number[][]; enclave: number[][]; any: number[] };
}

/**
 * Opcodes of the postfix programs in `classes[].expr` and `rules[].cond`. Each opcode is
 * followed by its operands in the array. Values are part of the table format: never renumber.
 */
export const Op = {
  FALSE: 0,
  TRUE: 1,
  AND: 2, // pops 2, pushes 1
  OR: 3, // pops 2, pushes 1
  NOT: 4, // pops 1, pushes 1
  PRODID_CMP: 5, // operands: comparison, value
  SVN_CMP: 6, // operands: comparison, value
  PRODID_IN: 7, // operands: lo, hi (inclusive)
  SVN_IN: 8, // operands: lo, hi (inclusive)
  ATTR: 9, // operand: bit number (0..31)
  SIGNER_IN: 10, // operand: index into `sets`
  ENCLAVE_IN: 11, // operand: index into `sets`
  ATOM: 12, // operand: index into `atoms`
  CLASS: 13, // operand: index into `classes`
} as const;

/** Comparison operands of PRODID_CMP / SVN_CMP. */
export const Cmp = { EQ: 0, NE: 1, LT: 2, LE: 3, GT: 4, GE: 5 } as const;

/** Number of operands each opcode takes. */
export const OPERAND_COUNT: readonly number[] = [0, 0, 0, 0, 0, 2, 2, 2, 2, 1, 1, 1, 1, 1];

/** Stack effect of each opcode (pushes minus pops). */
const STACK_EFFECT: readonly number[] = [1, 1, -1, -1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1];

// ---- loaded form -------------------------------------------------------------------------

export const ATOM_EXE_LITERAL = 0;
export const ATOM_EXE_GLOB = 1;
export const ATOM_LABEL = 2;
export const ATOM_HOLDS = 3;
export const ATOM_UID = 4;
export const ATOM_GID = 5;

/** Flags of a rule (in the table's `rules` and in posting entries). */
export const RULE_ALLOW = 1;
export const RULE_AUDIT = 2;
export const RULE_HOST = 4;
export const RULE_KVM = 8;
/** Posting entries only: the entry's condition is a box (see `boxOf`) instead of a program. */
export const RULE_BOX = 16;

/**
 * A loaded, verified table, laid out for the evaluator: flat typed arrays, so that deciding
 * touches a few contiguous runs of memory and allocates nothing.
 */
export interface LoadedTable {
  readonly json: TableJson;
  /**
   * Open-addressing hash of `measurements`, SLOT_SIZE int32s a slot: `measurement index + 1`
   * (0: empty), where the measurement's signer and enclave posting records begin (-1: none),
   * and the hash key (`measurementKey`, from the first 8 hex digits). Four int32s a slot keep
   * the whole hash small enough to stay in cache for large tables.
   */
  readonly measurementSlots: Int32Array;
  /** Number of slots − 1 (a power of two, minus one). */
  readonly measurementMask: number;
  /** Each slot's measurement (lower-case hex), by slot number; a look-up confirms a candidate against it. */
  readonly slotText: readonly string[];
  readonly sets: readonly Set<number>[];
  // subject atoms, as parallel arrays
  readonly atomCount: number;
  readonly atomKind: Uint8Array;
  /** The literal exe path (ATOM_EXE_LITERAL) or device path (ATOM_HOLDS). */
  readonly atomText: readonly (string | null)[];
  readonly atomMatcher: readonly (GlobMatcher | null)[];
  readonly atomLo: Float64Array;
  readonly atomHi: Float64Array;
  readonly classPrograms: readonly Int32Array[];
  /**
   * How deeply class programs nest through CLASS references (1: no references). Deep nesting is
   * matched eagerly, so that lazy matching never recurses far.
   */
  readonly classDepth: number;
  /**
   * Posting records, concatenated. A record is two directories, the deny rules then the allow
   * rules, each `count, (rule index, filter, bodyAt) × count` in ascending rule order, followed
   * by the bodies of its rules. A decision scans a directory (three int32s a rule, so a signer's
   * rules fit a cache line or two) and reads a body only when the filter lets the rule through:
   * `filter` has bit `c % 31` set for each subject class `c` the rule names (all bits: any
   * subject), and a subject handle carries the same fold of the classes it belongs to plus bit
   * 31, so a rule none of whose classes match is passed over unread. A body, at pool offset `bodyAt`, is
   * `flags, subjectCount, subject…, condition`, where the condition is either a box of six
   * int32s (flag RULE_BOX: `prodLo, prodHi, svnLo, svnHi, attrsSet, attrsClear`, see `boxOf`)
   * or `condLength, cond…` (condLength 0: no condition). Bodies are copied into every record
   * that lists the rule, so a record is one run of memory.
   * A measurement's slot (above) says where its records begin; `anyPosting` is the record of
   * rules whose object part is `*`.
   */
  readonly postingPool: Int32Array;
  readonly anyPosting: number;
  readonly maxStack: number;
}

/** Offsets within a measurement slot (see LoadedTable.measurementSlots). */
export const SLOT_ID = 0;
export const SLOT_SIGNER_POSTING = 1;
export const SLOT_ENCLAVE_POSTING = 2;
export const SLOT_KEY = 3;
export const SLOT_SIZE = 4;

/**
 * The hash key of a measurement: its first 8 characters, read as hex digits of either case
 * (`c & 15`, plus 9 for a letter). Any characters give some key; only the confirming string
 * comparison decides whether a measurement is found, so nothing here needs validating.
 */
function measurementKey(hex: string): number {
  let key = 0;
  for (let i = 0; i < 8; i++) {
    const c = hex.charCodeAt(i);
    key = (key << 4) | ((c & 15) + 9 * ((c >> 6) & 1));
  }
  return key;
}

/**
 * Where `hex` is in the measurement hash (the int32 offset of its slot), or -1 when the table
 * does not name it. Any string may be asked about; only a string equal to one of the table's
 * measurements (64 lower-case hex digits) is found. Callers lower-case a valid upper-case
 * measurement before asking (request.ts does).
 */
export function findMeasurement(table: LoadedTable, hex: string): number {
  if (hex.length !== 64) return -1;
  const slots = table.measurementSlots;
  const mask = table.measurementMask;
  const key = measurementKey(hex);
  let slot = Math.imul(key, 0x9e3779b1) & mask;
  for (;;) {
    const at = slot * SLOT_SIZE;
    if (slots[at + SLOT_ID] === 0) return -1;
    if (slots[at + SLOT_KEY] === key && table.slotText[slot] === hex) return at;
    slot = (slot + 1) & mask;
  }
}

export class TableError extends Error {
  override name = 'TableError';
}

type Validator = ((data: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] | null };
let validator: Validator | undefined;

function schemaValidator(): Validator {
  if (validator === undefined) {
    const schema = JSON.parse(readFileSync(new URL('../../schemas/table.schema.json', import.meta.url), 'utf8'));
    // ajv ships CommonJS; under ESM its class is the default export's `default`.
    const Ajv = ((AjvModule as unknown as { default?: unknown }).default ?? AjvModule) as new (options: object) => {
      compile(schema: object): Validator;
    };
    // The schema is the fixed one shipped with the package; ajv compiles it once. Table
    // content is only ever data checked against it, never code.
    validator = new Ajv({ allErrors: false, strict: true }).compile(schema);
  }
  return validator;
}

/** Parses (if a string or bytes), validates and indexes a table; throws TableError saying why it was refused. */
export function loadTable(input: unknown): LoadedTable {
  let json: unknown;
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) {
    // Our own copy: a caller that changes its object after loading must not change the table in force.
    try {
      json = structuredClone(input);
    } catch (e) {
      throw new TableError(`table refused: it is not plain JSON data (${(e as Error).message})`);
    }
  } else {
    try {
      json = JSON.parse(typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input));
    } catch (e) {
      throw new TableError(`table refused: not valid JSON (${(e as Error).message})`);
    }
  }
  const validate = schemaValidator();
  if (!validate(json)) {
    const first = validate.errors?.[0];
    const where = first?.instancePath ? first.instancePath : '(top level)';
    throw new TableError(`table refused: it does not match the sgxpol table schema at ${where}: ${first?.message ?? 'invalid'}`);
  }
  const table = json as TableJson;
  if (!digestMatches(table as unknown as Record<string, unknown>)) {
    const digest = tableDigest(table as unknown as Record<string, unknown>);
    throw new TableError(`table refused: digest mismatch (the table says ${table.digest}, its content hashes to ${digest}); it was altered or corrupted`);
  }
  return indexTable(table);
}

function fail(message: string): never {
  throw new TableError(`table refused: ${message}`);
}

/** Checks that a postfix program is well formed and its operands are in range; returns its maximum stack depth. */
function checkProgram(program: readonly number[], where: string, limits: { atoms: number; classes: number; sets: number }): number {
  let depth = 0;
  let max = 0;
  let pc = 0;
  while (pc < program.length) {
    const op = program[pc];
    if (op > Op.CLASS) fail(`${where}: unknown opcode ${op} at ${pc}`);
    const n = OPERAND_COUNT[op];
    if (pc + n >= program.length) fail(`${where}: opcode ${op} at ${pc} is missing operands`);
    const a = program[pc + 1];
    const b = program[pc + 2];
    switch (op) {
      case Op.AND:
      case Op.OR:
        if (depth < 2) fail(`${where}: stack underflow at ${pc}`);
        break;
      case Op.NOT:
        if (depth < 1) fail(`${where}: stack underflow at ${pc}`);
        break;
      case Op.PRODID_CMP:
      case Op.SVN_CMP:
        if (a > Cmp.GE) fail(`${where}: unknown comparison ${a} at ${pc}`);
        if (b > 65535) fail(`${where}: comparison value ${b} out of range at ${pc}`);
        break;
      case Op.PRODID_IN:
      case Op.SVN_IN:
        if (a > 65535 || b > 65535) fail(`${where}: range bound out of range at ${pc}`);
        break;
      case Op.ATTR:
        if (a > 31) fail(`${where}: attribute bit ${a} out of range at ${pc}`);
        break;
      case Op.SIGNER_IN:
      case Op.ENCLAVE_IN:
        if (a >= limits.sets) fail(`${where}: set ${a} does not exist`);
        break;
      case Op.ATOM:
        if (a >= limits.atoms) fail(`${where}: atom ${a} does not exist`);
        break;
      case Op.CLASS:
        if (a >= limits.classes) fail(`${where}: class ${a} does not exist (or is not defined before it is used)`);
        break;
    }
    depth += STACK_EFFECT[op];
    if (depth > max) max = depth;
    pc += 1 + n;
  }
  if (depth !== 1) fail(`${where}: the program leaves ${depth} values on the stack instead of 1`);
  return max;
}

function indexTable(table: TableJson): LoadedTable {
  const m = table.measurements;
  let capacity = 16;
  while (capacity < m.length * 2) capacity *= 2;
  const measurementSlots = new Int32Array(capacity * SLOT_SIZE);
  const slotText: string[] = new Array<string>(capacity).fill('');
  const measurementMask = capacity - 1;
  /** Measurement index → the int32 offset of its slot. */
  const slotOf = new Int32Array(m.length);
  for (let i = 0; i < m.length; i++) {
    if (i > 0 && !(m[i - 1] < m[i])) fail(`measurements must be sorted and unique (at ${i})`);
    const key = measurementKey(m[i]);
    let slot = Math.imul(key, 0x9e3779b1) & measurementMask;
    while (measurementSlots[slot * SLOT_SIZE + SLOT_ID] !== 0) slot = (slot + 1) & measurementMask;
    const at = slot * SLOT_SIZE;
    measurementSlots[at + SLOT_ID] = i + 1;
    measurementSlots[at + SLOT_SIGNER_POSTING] = -1;
    measurementSlots[at + SLOT_ENCLAVE_POSTING] = -1;
    measurementSlots[at + SLOT_KEY] = key;
    slotText[slot] = m[i];
    slotOf[i] = at;
  }
  const sets = table.sets.map((members, i) => {
    for (const x of members) if (x >= m.length) fail(`sets[${i}] refers to measurement ${x}, which does not exist`);
    return new Set(members);
  });

  const atomCount = table.atoms.length;
  const atomKind = new Uint8Array(atomCount);
  const atomText: (string | null)[] = new Array(atomCount).fill(null);
  const atomMatcher: (GlobMatcher | null)[] = new Array(atomCount).fill(null);
  const atomLo = new Float64Array(atomCount);
  const atomHi = new Float64Array(atomCount);
  table.atoms.forEach((atom, i) => {
    switch (atom.kind) {
      case 'exe':
        if (isGlobLiteral(atom.glob, 'exe')) {
          atomKind[i] = ATOM_EXE_LITERAL;
          atomText[i] = globLiteralValue(atom.glob);
        } else {
          atomKind[i] = ATOM_EXE_GLOB;
          atomMatcher[i] = compileGlob(atom.glob, 'exe');
        }
        break;
      case 'label':
        atomKind[i] = ATOM_LABEL;
        atomMatcher[i] = compileGlob(atom.glob, 'label');
        break;
      case 'holds':
        atomKind[i] = ATOM_HOLDS;
        atomText[i] = atom.path;
        break;
      case 'uid':
      case 'gid':
        if (atom.lo > atom.hi) fail(`atoms[${i}]: empty range ${atom.lo}..${atom.hi}`);
        atomKind[i] = atom.kind === 'uid' ? ATOM_UID : ATOM_GID;
        atomLo[i] = atom.lo;
        atomHi[i] = atom.hi;
        break;
    }
  });

  let maxStack = 1;
  const depthOf: number[] = [];
  const classPrograms = table.classes.map((c, i) => {
    maxStack = Math.max(maxStack, checkProgram(c.expr, `classes[${i}] (${c.name})`, { atoms: atomCount, classes: i, sets: 0 }));
    depthOf.push(1 + referencedClasses(c.expr).reduce((max, k) => Math.max(max, depthOf[k]), 0));
    return Int32Array.from(c.expr);
  });
  const classDepth = depthOf.reduce((max, d) => Math.max(max, d), 1);

  const n = table.rules.length;
  const limits = { atoms: atomCount, classes: table.classes.length, sets: table.sets.length };
  /** Each rule's body and filter (see LoadedTable.postingPool), built once and copied into every record that lists the rule. */
  const bodies: Int32Array[] = new Array(n);
  const filters = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const [file, line, flags, subjects, cond] = table.rules[i];
    const id = () => `rules[${i}] (${table.files[file] ?? '?'}:${line})`;
    if (file >= table.files.length) fail(`${id()} names file ${file}, which does not exist`);
    if ((flags & (RULE_HOST | RULE_KVM)) === 0) fail(`${id()} applies on no path (neither host nor kvm)`);
    const body: number[] = [flags];
    if (subjects === null) {
      body.push(0);
      filters[i] = -1;
    } else {
      body.push(subjects.length);
      for (const c of subjects) {
        if (c >= table.classes.length) fail(`${id()} refers to class ${c}, which does not exist`);
        body.push(c);
        filters[i] |= 1 << (c % 31);
      }
    }
    if (cond === null) body.push(0);
    else {
      maxStack = Math.max(maxStack, checkProgram(cond, id(), limits));
      const box = boxOf(cond);
      if (box !== null) {
        body[0] |= RULE_BOX;
        body.push(...box);
      } else {
        body.push(cond.length);
        for (const x of cond) body.push(x);
      }
    }
    bodies[i] = Int32Array.from(body);
  }

  const postings = new GrowableInt32();
  /** Appends the posting record of `rules[from…]` (directories by effect, then bodies); returns where it starts. */
  const appendPosting = (rules: readonly number[], from: number, where: string): number => {
    let last = -1;
    for (let k = from; k < rules.length; k++) {
      const r = rules[k];
      if (r >= n) fail(`${where} refers to rule ${r}, which does not exist`);
      if (r <= last) fail(`${where} must list rules in ascending order without repeats`);
      last = r;
    }
    const start = postings.length;
    const directory: number[] = [];
    for (const allow of [0, RULE_ALLOW]) {
      const countAt = postings.length;
      postings.push(0);
      for (let k = from; k < rules.length; k++) {
        if ((table.rules[rules[k]][2] & RULE_ALLOW) !== allow) continue;
        directory.push(postings.length, rules[k]);
        postings.push(rules[k]);
        postings.push(filters[rules[k]]);
        postings.push(0); // bodyAt, set below
        postings.set(countAt, postings.get(countAt) + 1);
      }
    }
    for (let k = 0; k < directory.length; k += 2) {
      postings.set(directory[k] + 2, postings.length);
      postings.append(bodies[directory[k + 1]]);
    }
    return start;
  };
  const postingIndex = (entries: number[][], name: string, field: number): void => {
    for (let k = 0; k < entries.length; k++) {
      const key = entries[k][0];
      if (key >= m.length) fail(`index.${name}[${k}] is keyed on measurement ${key}, which does not exist`);
      const at = slotOf[key] + field;
      if (measurementSlots[at] !== -1) fail(`index.${name} lists measurement ${key} twice`);
      measurementSlots[at] = appendPosting(entries[k], 1, `index.${name}[${k}]`);
    }
  };
  postingIndex(table.index.signer, 'signer', SLOT_SIGNER_POSTING);
  postingIndex(table.index.enclave, 'enclave', SLOT_ENCLAVE_POSTING);
  const anyPosting = appendPosting(table.index.any, 0, 'index.any');

  return {
    json: table,
    measurementSlots,
    measurementMask,
    slotText,
    sets,
    atomCount,
    atomKind,
    atomText,
    atomMatcher,
    atomLo,
    atomHi,
    classPrograms,
    classDepth,
    postingPool: postings.toArray(),
    anyPosting,
    maxStack,
  };
}

const FULL_BOX: readonly number[] = [0, 65535, 0, 65535, 0, 0];

/**
 * A condition that is a conjunction of ISVPRODID/ISVSVN intervals and (negated) attribute
 * bits, as a box `[prodLo, prodHi, svnLo, svnHi, attrsSet, attrsClear]`: it holds when both
 * numbers are in their intervals, every bit of attrsSet is set and every bit of attrsClear is
 * clear. Most launch conditions have this shape, and testing a box is a few comparisons. Any
 * other shape (`or`, `!=`, sets, subjects…) gives null, and the program is run instead.
 */
export function boxOf(program: readonly number[]): number[] | null {
  type Item = number[] | null; // a box, or null for "not a box"
  const stack: Item[] = [];
  const interval = (lo: number, hi: number, field: 0 | 2): number[] =>
    field === 0 ? [lo, hi, 0, 65535, 0, 0] : [0, 65535, lo, hi, 0, 0];
  for (let pc = 0; pc < program.length; pc += 1 + OPERAND_COUNT[program[pc]]) {
    const op = program[pc];
    const a = program[pc + 1];
    const b = program[pc + 2];
    switch (op) {
      case Op.TRUE:
        stack.push([...FULL_BOX]);
        break;
      case Op.FALSE:
        stack.push(interval(1, 0, 0));
        break;
      case Op.PRODID_CMP:
      case Op.SVN_CMP: {
        const field = op === Op.PRODID_CMP ? 0 : 2;
        if (a === Cmp.NE) stack.push(null);
        else if (a === Cmp.EQ) stack.push(interval(b, b, field));
        else if (a === Cmp.LT) stack.push(interval(0, b - 1, field));
        else if (a === Cmp.LE) stack.push(interval(0, b, field));
        else if (a === Cmp.GT) stack.push(interval(b + 1, 65535, field));
        else stack.push(interval(b, 65535, field));
        break;
      }
      case Op.PRODID_IN:
        stack.push(interval(a, b, 0));
        break;
      case Op.SVN_IN:
        stack.push(interval(a, b, 2));
        break;
      case Op.ATTR: {
        const box: number[] = [...FULL_BOX];
        box[4] = (1 << a) >>> 0;
        stack.push(box);
        break;
      }
      case Op.NOT: {
        const top = stack.pop()!;
        // Only a single attribute bit negates into a box.
        const single = top !== null && top[0] === 0 && top[1] === 65535 && top[2] === 0 && top[3] === 65535 && top[5] === 0 && top[4] !== 0 && (top[4] & (top[4] - 1)) === 0;
        stack.push(single ? [0, 65535, 0, 65535, 0, top[4]] : null);
        break;
      }
      case Op.AND: {
        const y = stack.pop()!;
        const x = stack.pop()!;
        stack.push(
          x === null || y === null
            ? null
            : [Math.max(x[0], y[0]), Math.min(x[1], y[1]), Math.max(x[2], y[2]), Math.min(x[3], y[3]), (x[4] | y[4]) >>> 0, (x[5] | y[5]) >>> 0],
        );
        break;
      }
      default: // OR, sets, atoms, classes
        for (let k = 0; k < 2 && op === Op.OR; k++) stack.pop();
        stack.push(null);
    }
  }
  const result = stack.pop();
  // attrsSet/attrsClear are stored in int32 slots; `| 0` keeps bit 31 representable.
  return result ? result.map((x) => x | 0) : null;
}

/** An int32 array that grows by doubling, for building the posting pool without a huge JS array. */
class GrowableInt32 {
  private data = new Int32Array(1024);
  length = 0;
  private reserve(extra: number): void {
    if (this.length + extra <= this.data.length) return;
    let size = this.data.length * 2;
    while (size < this.length + extra) size *= 2;
    const grown = new Int32Array(size);
    grown.set(this.data.subarray(0, this.length));
    this.data = grown;
  }
  push(value: number): void {
    this.reserve(1);
    this.data[this.length++] = value;
  }
  append(values: Int32Array): void {
    this.reserve(values.length);
    this.data.set(values, this.length);
    this.length += values.length;
  }
  set(at: number, value: number): void {
    this.data[at] = value;
  }
  get(at: number): number {
    return this.data[at];
  }
  toArray(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

/** The classes a (checked) program refers to. */
function referencedClasses(program: readonly number[]): number[] {
  const out: number[] = [];
  for (let pc = 0; pc < program.length; pc += 1 + OPERAND_COUNT[program[pc]]) if (program[pc] === Op.CLASS) out.push(program[pc + 1]);
  return out;
}
