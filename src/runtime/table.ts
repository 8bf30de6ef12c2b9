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

export const VIA_HOST = 1;
export const VIA_KVM = 2;

// ---- loaded form -------------------------------------------------------------------------

/** A loaded, verified table: flat arrays and hash maps, ready for the evaluator. */
export interface LoadedTable {
  readonly json: TableJson;
  readonly measurementIndex: Map<string, number>;
  readonly sets: readonly Set<number>[];
  // subject atoms
  readonly atomCount: number;
  /** Exact exe paths (globs without metacharacters) → atoms. */
  readonly exeExact: Map<string, number[]>;
  readonly exeGlobs: readonly { atom: number; matcher: GlobMatcher }[];
  readonly labelGlobs: readonly { atom: number; matcher: GlobMatcher }[];
  readonly holds: Map<string, number[]>;
  readonly uidRanges: readonly { atom: number; lo: number; hi: number }[];
  readonly gidRanges: readonly { atom: number; lo: number; hi: number }[];
  readonly classPrograms: readonly Int32Array[];
  // rules, as parallel arrays
  readonly ruleVia: Uint8Array;
  readonly ruleSubjects: readonly (Int32Array | null)[];
  readonly ruleCond: readonly (Int32Array | null)[];
  readonly ruleAllow: Uint8Array;
  /** Per measurement index: the rules keyed on it as a signer, split by effect, ascending. */
  readonly signerDeny: Map<number, Int32Array>;
  readonly signerAllow: Map<number, Int32Array>;
  readonly enclaveDeny: Map<number, Int32Array>;
  readonly enclaveAllow: Map<number, Int32Array>;
  readonly anyDeny: Int32Array;
  readonly anyAllow: Int32Array;
  readonly maxStack: number;
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
  const measurementIndex = new Map<string, number>();
  for (let i = 0; i < m.length; i++) {
    if (i > 0 && !(m[i - 1] < m[i])) fail(`measurements must be sorted and unique (at ${i})`);
    measurementIndex.set(m[i], i);
  }
  const sets = table.sets.map((members, i) => {
    for (const x of members) if (x >= m.length) fail(`sets[${i}] refers to measurement ${x}, which does not exist`);
    return new Set(members);
  });

  const exeExact = new Map<string, number[]>();
  const exeGlobs: { atom: number; matcher: GlobMatcher }[] = [];
  const labelGlobs: { atom: number; matcher: GlobMatcher }[] = [];
  const holds = new Map<string, number[]>();
  const uidRanges: { atom: number; lo: number; hi: number }[] = [];
  const gidRanges: { atom: number; lo: number; hi: number }[] = [];
  const push = (map: Map<string, number[]>, key: string, atom: number) => {
    const list = map.get(key);
    if (list) list.push(atom);
    else map.set(key, [atom]);
  };
  table.atoms.forEach((atom, i) => {
    switch (atom.kind) {
      case 'exe': {
        if (isGlobLiteral(atom.glob, 'exe')) push(exeExact, globLiteralValue(atom.glob), i);
        else exeGlobs.push({ atom: i, matcher: compileGlob(atom.glob, 'exe') });
        break;
      }
      case 'label':
        labelGlobs.push({ atom: i, matcher: compileGlob(atom.glob, 'label') });
        break;
      case 'holds':
        push(holds, atom.path, i);
        break;
      case 'uid':
      case 'gid':
        if (atom.lo > atom.hi) fail(`atoms[${i}]: empty range ${atom.lo}..${atom.hi}`);
        (atom.kind === 'uid' ? uidRanges : gidRanges).push({ atom: i, lo: atom.lo, hi: atom.hi });
        break;
    }
  });

  let maxStack = 1;
  const classPrograms = table.classes.map((c, i) => {
    maxStack = Math.max(maxStack, checkProgram(c.expr, `classes[${i}] (${c.name})`, { atoms: table.atoms.length, classes: i, sets: 0 }));
    return Int32Array.from(c.expr);
  });

  const n = table.rules.length;
  const ruleVia = new Uint8Array(n);
  const ruleAllow = new Uint8Array(n);
  const ruleSubjects: (Int32Array | null)[] = new Array(n);
  const ruleCond: (Int32Array | null)[] = new Array(n);
  const limits = { atoms: table.atoms.length, classes: table.classes.length, sets: table.sets.length };
  for (let i = 0; i < n; i++) {
    const rule = table.rules[i];
    ruleVia[i] = rule.via === 'host' ? VIA_HOST : rule.via === 'kvm' ? VIA_KVM : VIA_HOST | VIA_KVM;
    ruleAllow[i] = rule.effect === 'allow' ? 1 : 0;
    if (rule.subjects !== null) {
      for (const c of rule.subjects) if (c >= table.classes.length) fail(`rules[${i}] (${rule.id}) refers to class ${c}, which does not exist`);
      ruleSubjects[i] = Int32Array.from(rule.subjects);
    } else ruleSubjects[i] = null;
    if (rule.cond !== null) {
      maxStack = Math.max(maxStack, checkProgram(rule.cond, `rules[${i}] (${rule.id})`, limits));
      ruleCond[i] = Int32Array.from(rule.cond);
    } else ruleCond[i] = null;
  }

  const split = (rules: readonly number[], from: number, where: string): [Int32Array, Int32Array] => {
    const deny: number[] = [];
    const allow: number[] = [];
    let last = -1;
    for (let k = from; k < rules.length; k++) {
      const r = rules[k];
      if (r >= n) fail(`${where} refers to rule ${r}, which does not exist`);
      if (r <= last) fail(`${where} must list rules in ascending order without repeats`);
      last = r;
      (ruleAllow[r] ? allow : deny).push(r);
    }
    return [Int32Array.from(deny), Int32Array.from(allow)];
  };
  const postings = (entries: number[][], name: string) => {
    const deny = new Map<number, Int32Array>();
    const allow = new Map<number, Int32Array>();
    for (let k = 0; k < entries.length; k++) {
      const key = entries[k][0];
      if (key >= m.length) fail(`index.${name}[${k}] is keyed on measurement ${key}, which does not exist`);
      if (deny.has(key) || allow.has(key)) fail(`index.${name} lists measurement ${key} twice`);
      const [d, a] = split(entries[k], 1, `index.${name}[${k}]`);
      if (d.length > 0) deny.set(key, d);
      if (a.length > 0) allow.set(key, a);
    }
    return [deny, allow] as const;
  };
  const [signerDeny, signerAllow] = postings(table.index.signer, 'signer');
  const [enclaveDeny, enclaveAllow] = postings(table.index.enclave, 'enclave');
  const [anyDeny, anyAllow] = split(table.index.any, 0, 'index.any');

  return {
    json: table,
    measurementIndex,
    sets,
    atomCount: table.atoms.length,
    exeExact,
    exeGlobs,
    labelGlobs,
    holds,
    uidRanges,
    gidRanges,
    classPrograms,
    ruleVia,
    ruleSubjects,
    ruleCond,
    ruleAllow,
    signerDeny,
    signerAllow,
    enclaveDeny,
    enclaveAllow,
    anyDeny,
    anyAllow,
    maxStack,
  };
}
