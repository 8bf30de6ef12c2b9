// The decision table (SPEC 6): its JSON shape, the postfix condition programs, and loading —
// schema validation (ajv), digest check and an integrity check of every index — into the
// flat structures the evaluator reads. A table that fails any check is refused whole.
import { readFileSync } from 'node:fs';
import AjvModule from 'ajv';
import { tableDigest } from './canonical.js';
import { compileGlob, globLiteralValue, isGlobLiteral, type GlobMatcher } from './glob.js';

// ---- JSON shape --------------------------------------------------------------------------

export type SubjectAtomJson =
  | { kind: 'exe' | 'label'; glob: string }
  | { kind: 'holds'; path: string }
  | { kind: 'uid' | 'gid'; lo: number; hi: number };

export interface RuleJson {
  id: string;
  effect: 'allow' | 'deny';
  audit: boolean;
  via: 'host' | 'kvm' | 'any';
  /** null: any subject; otherwise indexes into `classes`. */
  subjects: number[] | null;
  /** null: no `where`; otherwise a postfix program. */
  cond: number[] | null;
  /** The rule's `because` text, or null. */
  reason: string | null;
}

export interface TableJson {
  format: 'sgxpol-table';
  formatVersion: 1;
  policy: { name: string; version: number } | null;
  digest: string;
  default: { effect: 'allow' | 'deny'; audit: boolean };
  measurements: string[];
  sets: number[][];
  atoms: SubjectAtomJson[];
  classes: { name: string; expr: number[] }[];
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

/** Flags word of a rule record. */
export const RULE_ALLOW = 1;
export const RULE_HOST = 2;
export const RULE_KVM = 4;

/**
 * A loaded, verified table, laid out for the evaluator: flat typed arrays, so that deciding
 * touches a few contiguous runs of memory and allocates nothing.
 */
export interface LoadedTable {
  readonly json: TableJson;
  /** Open-addressing hash of `measurements` on their first 8 hex digits: slot → measurement index + 1, 0 empty. */
  readonly measurementSlots: Int32Array;
  readonly measurementMask: number;
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
   * Rule records, concatenated: `flags, subjectCount, subject…, condLength, cond…`.
   * `ruleStart[r]` is where rule r's record begins.
   */
  readonly rulePool: Int32Array;
  readonly ruleStart: Int32Array;
  /**
   * Posting records, concatenated: `denyCount, rule…, allowCount, rule…`, rules ascending.
   * `signerPosting[m]` / `enclavePosting[m]` is where measurement m's record begins, or -1;
   * `anyPosting` is the record of rules whose object part is `*`.
   */
  readonly postingPool: Int32Array;
  readonly signerPosting: Int32Array;
  readonly enclavePosting: Int32Array;
  readonly anyPosting: number;
  readonly maxStack: number;
}

const HEX_VALUE = new Int8Array(128).fill(-1);
for (let c = 0; c < 10; c++) HEX_VALUE[0x30 + c] = c;
for (let c = 0; c < 6; c++) HEX_VALUE[0x61 + c] = HEX_VALUE[0x41 + c] = 10 + c;

/** The hash key of a measurement: its first 8 hex digits as a 32-bit integer (digests are uniform). The caller has validated the hex. */
export function measurementKey(hex: string): number {
  let key = 0;
  for (let i = 0; i < 8; i++) key = (key << 4) | HEX_VALUE[hex.charCodeAt(i)];
  return key;
}

/** Index of `hex` (64 lower-case hex digits) in the table's measurements, or -1. */
export function findMeasurement(table: LoadedTable, hex: string): number {
  const slots = table.measurementSlots;
  const mask = table.measurementMask;
  const measurements = table.json.measurements;
  let slot = Math.imul(measurementKey(hex), 0x9e3779b1) & mask;
  for (;;) {
    const entry = slots[slot];
    if (entry === 0) return -1;
    if (measurements[entry - 1] === hex) return entry - 1;
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

/** The JSON Schema of the table, as shipped. */
export function tableSchema(): object {
  return JSON.parse(readFileSync(new URL('../../schemas/table.schema.json', import.meta.url), 'utf8'));
}

/** Parses (if a string or bytes), validates and indexes a table; throws TableError saying why it was refused. */
export function loadTable(input: unknown): LoadedTable {
  let json: unknown = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    const text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input);
    try {
      json = JSON.parse(text);
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
  const digest = tableDigest(table as unknown as Record<string, unknown>);
  if (digest !== table.digest) {
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
  const measurementSlots = new Int32Array(capacity);
  const measurementMask = capacity - 1;
  for (let i = 0; i < m.length; i++) {
    if (i > 0 && !(m[i - 1] < m[i])) fail(`measurements must be sorted and unique (at ${i})`);
    let slot = Math.imul(measurementKey(m[i]), 0x9e3779b1) & measurementMask;
    while (measurementSlots[slot] !== 0) slot = (slot + 1) & measurementMask;
    measurementSlots[slot] = i + 1;
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
  const ruleStart = new Int32Array(n);
  const pool: number[] = [];
  for (let i = 0; i < n; i++) {
    const rule = table.rules[i];
    ruleStart[i] = pool.length;
    const via = rule.via === 'host' ? RULE_HOST : rule.via === 'kvm' ? RULE_KVM : RULE_HOST | RULE_KVM;
    pool.push((rule.effect === 'allow' ? RULE_ALLOW : 0) | via);
    if (rule.subjects === null) pool.push(0);
    else {
      pool.push(rule.subjects.length);
      for (const c of rule.subjects) {
        if (c >= table.classes.length) fail(`rules[${i}] (${rule.id}) refers to class ${c}, which does not exist`);
        pool.push(c);
      }
    }
    if (rule.cond === null) pool.push(0);
    else {
      maxStack = Math.max(maxStack, checkProgram(rule.cond, `rules[${i}] (${rule.id})`, limits));
      pool.push(rule.cond.length);
      for (const x of rule.cond) pool.push(x);
    }
  }
  const rulePool = Int32Array.from(pool);

  const postings: number[] = [];
  /** Appends the posting record of `rules[from…]`, split by effect; returns where it starts. */
  const appendPosting = (rules: readonly number[], from: number, where: string): number => {
    const deny: number[] = [];
    const allow: number[] = [];
    let last = -1;
    for (let k = from; k < rules.length; k++) {
      const r = rules[k];
      if (r >= n) fail(`${where} refers to rule ${r}, which does not exist`);
      if (r <= last) fail(`${where} must list rules in ascending order without repeats`);
      last = r;
      ((rulePool[ruleStart[r]] & RULE_ALLOW) !== 0 ? allow : deny).push(r);
    }
    const start = postings.length;
    postings.push(deny.length);
    for (const r of deny) postings.push(r);
    postings.push(allow.length);
    for (const r of allow) postings.push(r);
    return start;
  };
  const postingIndex = (entries: number[][], name: string): Int32Array => {
    const index = new Int32Array(m.length).fill(-1);
    for (let k = 0; k < entries.length; k++) {
      const key = entries[k][0];
      if (key >= m.length) fail(`index.${name}[${k}] is keyed on measurement ${key}, which does not exist`);
      if (index[key] !== -1) fail(`index.${name} lists measurement ${key} twice`);
      index[key] = appendPosting(entries[k], 1, `index.${name}[${k}]`);
    }
    return index;
  };
  const signerPosting = postingIndex(table.index.signer, 'signer');
  const enclavePosting = postingIndex(table.index.enclave, 'enclave');
  const anyPosting = appendPosting(table.index.any, 0, 'index.any');

  return {
    json: table,
    measurementSlots,
    measurementMask,
    sets,
    atomCount,
    atomKind,
    atomText,
    atomMatcher,
    atomLo,
    atomHi,
    classPrograms,
    classDepth,
    rulePool,
    ruleStart,
    postingPool: Int32Array.from(postings),
    signerPosting,
    enclavePosting,
    anyPosting,
    maxStack,
  };
}

/** The classes a (checked) program refers to. */
function referencedClasses(program: readonly number[]): number[] {
  const out: number[] = [];
  for (let pc = 0; pc < program.length; pc += 1 + OPERAND_COUNT[program[pc]]) if (program[pc] === Op.CLASS) out.push(program[pc + 1]);
  return out;
}
