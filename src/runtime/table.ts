// The decision table (SPEC 6): its JSON shape, the postfix condition programs, and loading —
// schema validation (ajv), digest check and an integrity check of every index — into the
// flat structures the evaluator reads. A table that fails any check is refused whole.
import validateGenerated from './table-validator.generated.js';
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
   * Open-addressing hash of `measurements`, two int32s a slot: the hash key (`measurementKey`,
   * from the first 8 hex digits) and where the measurement's record begins in `postingPool`,
   * plus one (0: empty slot). Eight bytes a slot keep the hash itself in cache.
   */
  readonly measurementHash: Int32Array;
  /** Number of slots − 1 (a power of two, minus one). */
  readonly measurementMask: number;
  /**
   * A Bloom filter of the measurements' hash keys (two bits a key, 16 or more bits a
   * measurement): a key whose bits are not both set is not in the table, and its look-up ends
   * without touching the hash, which is larger and seldom in cache in a big table. Most
   * requests' MRENCLAVE is in no table (rules are mostly keyed on signers).
   */
  readonly measurementBloom: Int32Array;
  /** 32 − log2(bits in `measurementBloom`): a bit index is the top bits of a 32-bit product. */
  readonly bloomShift: number;
  /** Each hash slot's measurement (lower-case hex); a look-up confirms a candidate against it. */
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
   * Measurement records (MEAS_*) and posting records, in one array. A posting record is
   * `denyListAt, allowListAt`, the two lists, then the bodies of the rules in them. A list is a
   * directory `count, entry × count` in ascending rule order, five int32s an entry:
   *  - a simple rule — one subject class or any subject, and a condition that is a box (see
   *    `boxOf`) whose attribute masks lie in bits 0…15 (or none) — is decided from its entry
   *    alone: `rule, ENTRY_SIMPLE | via flags | (class + 1) << 8 (0: any subject), prodLo |
   *    (prodHi − prodLo) << 16, svnLo | (svnHi − svnLo) << 16, attrsSet | attrsClear << 16` (a
   *    value is inside when value − lo, unsigned, is at most hi − lo);
   *  - any other rule: `rule, filter, bodyAt, products, class + 1` (0: it names no class or
   *    several), and its body is read only when the filter, the products and the class let it
   *    through. `filter` has bit `c % FILTER_BITS` set for each subject class `c` the rule
   *    names (ALL_FILTER: any subject), and a subject handle carries the same fold of its
   *    classes plus bit 31, so a rule none of whose classes match is passed over unread.
   *    `products` is `lo | (hi − lo) << 16`, an interval of ISVPRODID outside of which the
   *    rule's condition cannot hold (`necessaryBox`; 0…65535 when nothing is known), so a rule
   *    `where isvprodid == 7 and (…)` is passed over unread for any other product.
   * A list longer than SPLIT_LIST is split by subject class, so a decision's cost does not grow
   * with the number of rules keyed on one measurement: `SPLIT_MARK, fullAt, anyAt, k,
   * (class, directoryAt) × k` (classes ascending), where `fullAt` is the directory of all its
   * rules (for subjects matched lazily, or in many classes), `anyAt` that of its rules for any
   * subject, and each class's directory lists the rules that name it. In these per-class
   * directories the filter of a non-simple entry is the rule's product filter (`productFilter`;
   * ALL_FILTER unless its condition is a box), tested against bit `isvprodid % FILTER_BITS`.
   * A body is `flags, subjectCount, subject…, box, condition`: a box of six int32s, `prodLo,
   * prodHi, svnLo, svnHi, attrsSet, attrsClear`, which with flag RULE_BOX is the condition itself
   * (`boxOf`), and otherwise holds wherever the condition does (`necessaryBox`) and is followed
   * by `condLength, cond…` (condLength 0: no condition). Each record has its own copy, so a
   * record is one run of memory. A measurement's record says where its posting records begin;
   * `anyPosting` is the record of rules whose object part is `*`.
   */
  readonly postingPool: Int32Array;
  readonly anyPosting: number;
  readonly maxStack: number;
}

/**
 * A measurement's record in `postingPool`: `index + 1`, then where its signer and enclave
 * posting records begin (-1: none), which follow it, so one look-up lands on one run of memory.
 */
export const MEAS_ID = 0;
export const MEAS_SIGNER = 1;
export const MEAS_ENCLAVE = 2;

/** Odd multipliers giving a key's two Bloom filter bits (see LoadedTable.measurementBloom). */
const BLOOM_1 = 0x85ebca6b | 0;
const BLOOM_2 = 0xc2b2ae35 | 0;
/** One of a hash key's two Bloom filter bits: the top bits of its product with `multiplier`. */
const bloomBit = (key: number, multiplier: number, shift: number): number => Math.imul(key, multiplier) >>> shift;

/**
 * The hash key of a measurement: its first 8 characters, read as hex digits of either case
 * (`c & 15`, plus 9 for a letter). Any characters give some key; only the confirming comparison
 * decides whether a measurement is found, so nothing here needs validating.
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
 * Where `hex`'s record is in the posting pool, or -1 when the table does not name it. Any
 * string may be asked about; only a string equal to one of the table's measurements (64
 * lower-case hex digits) is found — or, with `anyCase`, equal to one but for the case of its
 * letters (request.ts passes a validated measurement with upper-case digits that way).
 */
export function findMeasurement(table: LoadedTable, hex: string, anyCase = false): number {
  if (hex.length !== 64) return -1;
  const hash = table.measurementHash;
  const mask = table.measurementMask;
  const key = measurementKey(hex);
  if (!bloomAdmits(table, key)) return -1;
  let slot = Math.imul(key, 0x9e3779b1) & mask;
  for (;;) {
    const record = hash[2 * slot + 1] - 1;
    if (record < 0) return -1;
    // The table's string is compared (not a copy of its digits in the record): a string
    // comparison is a few nanoseconds, comparing characters one by one in JS about a hundred.
    // The record is read before the strings are compared, so that on a cold cache its line and
    // the string's are fetched together rather than one after the other (a record's first word,
    // its measurement's index + 1, is never 0).
    if (hash[2 * slot] === key && table.postingPool[record] !== 0 && (anyCase ? sameIgnoringCase(table.slotText[slot], hex) : table.slotText[slot] === hex)) return record;
    slot = (slot + 1) & mask;
  }
}

/** Whether 64 hex digits `text`, in any case, spell the lower-case `lower`. */
function sameIgnoringCase(lower: string, text: string): boolean {
  if (lower.length !== text.length) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // An upper-case hex letter (A–F) becomes lower-case; digits and lower-case letters are kept.
    if ((c >= 0x41 && c <= 0x46 ? c + 32 : c) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Whether the Bloom filter lets hash key `key` through (every key of the table's measurements passes). */
function bloomAdmits(table: LoadedTable, key: number): boolean {
  const bloom = table.measurementBloom;
  const b1 = bloomBit(key, BLOOM_1, table.bloomShift);
  const b2 = bloomBit(key, BLOOM_2, table.bloomShift);
  return ((bloom[b1 >>> 5] >>> b1) & (bloom[b2 >>> 5] >>> b2) & 1) === 1;
}

/** `bloomAdmits` for a measurement's text. @internal exported for tests */
export function bloomAdmitsText(table: LoadedTable, hex: string): boolean {
  return bloomAdmits(table, measurementKey(hex));
}

export class TableError extends Error {
  override name = 'TableError';
}

type Validator = ((data: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] | null };
/**
 * The table schema's validator, compiled by ajv ahead of time from schemas/table.schema.json
 * (scripts/table-validator.mjs; a test keeps the two in step), so no process pays for compiling
 * the schema. Table content is only ever data checked by it, never code.
 */
const validateTableJson = validateGenerated as unknown as Validator;

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
  const validate = validateTableJson;
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

function failAt(where: string, message: string): never {
  return fail(`${where}: ${message}`);
}

/** Checks that a postfix program is well formed and its operands are in range; returns its maximum stack depth. */
function checkProgram(program: readonly number[], whereOf: string | (() => string), limits: { atoms: number; classes: number; sets: number }): number {
  // Named only when something is wrong: building the name for every rule would cost more than the check.
  const fail = (message: string): never => failAt(typeof whereOf === 'string' ? whereOf : whereOf(), message);
  let depth = 0;
  let max = 0;
  let pc = 0;
  while (pc < program.length) {
    const op = program[pc];
    if (op > Op.CLASS) fail(`unknown opcode ${op} at ${pc}`);
    const n = OPERAND_COUNT[op];
    if (pc + n >= program.length) fail(`opcode ${op} at ${pc} is missing operands`);
    const a = program[pc + 1];
    const b = program[pc + 2];
    switch (op) {
      case Op.AND:
      case Op.OR:
        if (depth < 2) fail(`stack underflow at ${pc}`);
        break;
      case Op.NOT:
        if (depth < 1) fail(`stack underflow at ${pc}`);
        break;
      case Op.PRODID_CMP:
      case Op.SVN_CMP:
        if (a > Cmp.GE) fail(`unknown comparison ${a} at ${pc}`);
        if (b > 65535) fail(`comparison value ${b} out of range at ${pc}`);
        break;
      case Op.PRODID_IN:
      case Op.SVN_IN:
        if (a > 65535 || b > 65535) fail(`range bound out of range at ${pc}`);
        break;
      case Op.ATTR:
        if (a > 31) fail(`attribute bit ${a} out of range at ${pc}`);
        break;
      case Op.SIGNER_IN:
      case Op.ENCLAVE_IN:
        if (a >= limits.sets) fail(`set ${a} does not exist`);
        break;
      case Op.ATOM:
        if (a >= limits.atoms) fail(`atom ${a} does not exist`);
        break;
      case Op.CLASS:
        if (a >= limits.classes) fail(`class ${a} does not exist (or is not defined before it is used)`);
        break;
    }
    depth += STACK_EFFECT[op];
    if (depth > max) max = depth;
    pc += 1 + n;
  }
  if (depth !== 1) fail(`the program leaves ${depth} values on the stack instead of 1`);
  return max;
}

function indexTable(table: TableJson): LoadedTable {
  const m = table.measurements;
  for (let i = 1; i < m.length; i++) if (!(m[i - 1] < m[i])) fail(`measurements must be sorted and unique (at ${i})`);
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
  // Each rule's body (see LoadedTable.postingPool) in one pool, built once and copied into every
  // record that lists the rule; and its two filters.
  const bodyPool = new GrowableInt32();
  const bodyStart = new Int32Array(n + 1);
  const filters = new Int32Array(n);
  const productFilters = new Int32Array(n).fill(ALL_FILTER);
  // A rule's directory entry when it is simple (see LoadedTable.postingPool): its meta word, or 0.
  const simpleMeta = new Int32Array(n);
  const simpleProduct = new Int32Array(n);
  const simpleSvn = new Int32Array(n);
  const simpleAttributes = new Int32Array(n);
  // A rule's `products` word when it is not simple (see LoadedTable.postingPool).
  const productWords = new Int32Array(n).fill(FULL_PRODUCTS);
  // A rule's class + 1 when it is not simple and names exactly one class, else 0.
  const onlyClass = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const rule = table.rules[i];
    const file = rule[0];
    const flags = rule[2];
    const subjects = rule[3];
    const cond = rule[4];
    const id = (): string => `rules[${i}] (${table.files[file] ?? '?'}:${rule[1]})`;
    if (file >= table.files.length) fail(`${id()} names file ${file}, which does not exist`);
    if ((flags & (RULE_HOST | RULE_KVM)) === 0) fail(`${id()} applies on no path (neither host nor kvm)`);
    bodyStart[i] = bodyPool.length;
    bodyPool.push(flags);
    if (subjects === null) {
      bodyPool.push(0);
      filters[i] = ALL_FILTER;
    } else {
      bodyPool.push(subjects.length);
      for (const c of subjects) {
        if (c >= table.classes.length) fail(`${id()} refers to class ${c}, which does not exist`);
        bodyPool.push(c);
        filters[i] |= 1 << (c % FILTER_BITS);
      }
    }
    let box: readonly number[] | null = FULL_BOX;
    if (cond === null) {
      for (const x of FULL_BOX) bodyPool.push(x);
      bodyPool.push(0);
    } else {
      maxStack = Math.max(maxStack, checkProgram(cond, id, limits));
      // One analysis gives both the box the condition cannot hold outside of and, when the
      // condition is exactly that box, the box itself (necessaryBox, boxOf).
      const analysis = boxAnalysis(cond);
      const necessary = analysis.box;
      // An empty interval of products lets only 65535 through, and the body then decides.
      const [lo, hi] = necessary[0] <= necessary[1] ? necessary : [65535, 65535];
      productWords[i] = lo | ((hi - lo) << 16);
      box = analysis.exact ? necessary : null;
      if (box !== null) {
        bodyPool.set(bodyStart[i], flags | RULE_BOX);
        for (const x of box) bodyPool.push(x);
        productFilters[i] = productFilter(box[0], box[1]);
      } else {
        for (const x of necessary) bodyPool.push(x);
        bodyPool.push(cond.length);
        for (const x of cond) bodyPool.push(x);
      }
    }
    // Simple: one class or any subject, and a condition of two 16-bit intervals and attribute
    // masks within bits 0…15 (or none).
    const oneClass = subjects === null || (subjects.length === 1 && subjects[0] < MAX_SIMPLE_CLASS);
    if (oneClass && box !== null && (box[4] & ~0xffff) === 0 && (box[5] & ~0xffff) === 0 && inUint16(box[0], box[1]) && inUint16(box[2], box[3])) {
      simpleMeta[i] = ENTRY_SIMPLE | (flags & (RULE_HOST | RULE_KVM)) | ((subjects === null ? 0 : subjects[0] + 1) << 8);
      simpleProduct[i] = box[0] | ((box[1] - box[0]) << 16);
      simpleSvn[i] = box[2] | ((box[3] - box[2]) << 16);
      simpleAttributes[i] = box[4] | (box[5] << 16);
    } else if (subjects !== null && subjects.length === 1) {
      onlyClass[i] = subjects[0] + 1;
    }
  }
  bodyStart[n] = bodyPool.length;
  const bodyData = bodyPool.view();
  // Where each rule's body was put in the record being built: valid when bodyRecord[r] is that record's start + 1.
  const bodyRecord = new Int32Array(n);
  const bodyAt = new Int32Array(n);

  // Sized for a typical table up front (measurement records, a directory entry and a body copy per listing), so it seldom grows.
  const postings = new GrowableInt32(m.length * 8 + (bodyData.length + ENTRY_SIZE * n) * 2 + 64);
  /**
   * Appends the posting record of `rules[from…]`: `denyListAt, allowListAt`, the two lists
   * (see LoadedTable.postingPool), then the body of every rule in them; returns where it starts.
   */
  // Scratch for appendPosting, reused across records: pool offsets of triples whose bodyAt is
  // still to be set, with their rules; and the rules of one list.
  const pending: number[] = [];
  const listIds: number[] = [];
  /** Appends a directory of `ids` (see LoadedTable.postingPool), noting its triples in `pending`. */
  const directory = (ids: readonly number[], filterOf: Int32Array): void => {
    postings.push(ids.length);
    for (let k = 0; k < ids.length; k++) {
      const r = ids[k];
      postings.push(r);
      if (simpleMeta[r] !== 0) {
        postings.push(simpleMeta[r]);
        postings.push(simpleProduct[r]);
        postings.push(simpleSvn[r]);
        postings.push(simpleAttributes[r]);
      } else {
        pending.push(postings.length - 1, r);
        postings.push(filterOf[r]);
        postings.push(0);
        postings.push(productWords[r]);
        postings.push(onlyClass[r]);
      }
    }
  };
  const appendPosting = (rules: readonly number[], from: number, where: () => string): number => {
    let last = -1;
    for (let k = from; k < rules.length; k++) {
      const r = rules[k];
      if (r >= n) fail(`${where()} refers to rule ${r}, which does not exist`);
      if (r <= last) fail(`${where()} must list rules in ascending order without repeats`);
      last = r;
    }
    const start = postings.length;
    postings.push(0);
    postings.push(0);
    pending.length = 0;
    for (let allow = 0; allow <= RULE_ALLOW; allow += RULE_ALLOW) {
      const ids = listIds;
      ids.length = 0;
      for (let k = from; k < rules.length; k++) if ((table.rules[rules[k]][2] & RULE_ALLOW) === allow) ids.push(rules[k]);
      postings.set(start + (allow ? 1 : 0), postings.length);
      if (ids.length <= SPLIT_LIST) {
        directory(ids, filters);
        continue;
      }
      // A long list: a directory of all its rules (for subjects matched lazily), then one per
      // subject class the rules name and one for rules about any subject, filtered by product id.
      const byClass = new Map<number, number[]>();
      const anySubject: number[] = [];
      for (const r of ids) {
        const subjects = table.rules[r][3];
        if (subjects === null) anySubject.push(r);
        else for (const c of new Set(subjects)) (byClass.get(c) ?? byClass.set(c, []).get(c)!).push(r);
      }
      const classes = [...byClass.keys()].sort((x, y) => x - y);
      postings.push(SPLIT_MARK);
      const fullAt = postings.length;
      postings.push(0);
      postings.push(0);
      postings.push(classes.length);
      const tableAt = postings.length;
      for (let k = 0; k < classes.length; k++) {
        postings.push(classes[k]);
        postings.push(0);
      }
      postings.set(fullAt, postings.length);
      directory(ids, filters);
      postings.set(fullAt + 1, postings.length);
      directory(anySubject, productFilters);
      for (let k = 0; k < classes.length; k++) {
        postings.set(tableAt + 2 * k + 1, postings.length);
        directory(byClass.get(classes[k])!, productFilters);
      }
    }
    for (let k = 0; k < pending.length; k += 2) {
      const r = pending[k + 1];
      if (bodyRecord[r] !== start + 1) {
        bodyRecord[r] = start + 1;
        bodyAt[r] = postings.length;
        for (let k = bodyStart[r]; k < bodyStart[r + 1]; k++) postings.push(bodyData[k]);
      }
      postings.set(pending[k] + 2, bodyAt[r]);
    }
    return start;
  };
  // Which index entry, if any, keys its posting record on each measurement.
  const indexOf = (entries: number[][], name: string): Int32Array => {
    const of = new Int32Array(m.length).fill(-1);
    for (let k = 0; k < entries.length; k++) {
      const key = entries[k][0];
      if (key >= m.length) fail(`index.${name}[${k}] is keyed on measurement ${key}, which does not exist`);
      if (of[key] !== -1) fail(`index.${name} lists measurement ${key} twice`);
      of[key] = k;
    }
    return of;
  };
  const signerEntry = indexOf(table.index.signer, 'signer');
  const enclaveEntry = indexOf(table.index.enclave, 'enclave');

  let capacity = 16;
  while (capacity < m.length * 1.5) capacity *= 2;
  const measurementHash = new Int32Array(capacity * 2);
  const slotText: string[] = new Array<string>(capacity).fill('');
  const measurementMask = capacity - 1;
  let bloomLog = 10;
  while (2 ** bloomLog < m.length * 16) bloomLog++;
  const measurementBloom = new Int32Array(2 ** (bloomLog - 5));
  const bloomShift = 32 - bloomLog;
  for (let i = 0; i < m.length; i++) {
    const record = postings.length;
    postings.push(i + 1);
    postings.push(-1);
    postings.push(-1);
    const signer = signerEntry[i];
    if (signer >= 0) postings.set(record + MEAS_SIGNER, appendPosting(table.index.signer[signer], 1, () => `index.signer[${signer}]`));
    const enclave = enclaveEntry[i];
    if (enclave >= 0) postings.set(record + MEAS_ENCLAVE, appendPosting(table.index.enclave[enclave], 1, () => `index.enclave[${enclave}]`));
    const key = measurementKey(m[i]);
    const b1 = bloomBit(key, BLOOM_1, bloomShift);
    const b2 = bloomBit(key, BLOOM_2, bloomShift);
    measurementBloom[b1 >>> 5] |= 1 << b1;
    measurementBloom[b2 >>> 5] |= 1 << b2;
    let slot = Math.imul(key, 0x9e3779b1) & measurementMask;
    while (measurementHash[2 * slot + 1] !== 0) slot = (slot + 1) & measurementMask;
    measurementHash[2 * slot] = key;
    measurementHash[2 * slot + 1] = record + 1;
    slotText[slot] = m[i];
  }
  const anyPosting = appendPosting(table.index.any, 0, () => 'index.any');

  return {
    json: table,
    measurementHash,
    measurementMask,
    measurementBloom,
    bloomShift,
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

/** Int32s a directory entry (see LoadedTable.postingPool). */
export const ENTRY_SIZE = 5;
/** Filter words use bits 0…29 (`x % FILTER_BITS`); bit 30 marks a simple entry, and a subject handle's fold also sets bit 31. */
export const FILTER_BITS = 30;
export const ENTRY_SIMPLE = 1 << 30;
/** Every filter bit: a rule for any subject, or any product. */
export const ALL_FILTER = ~ENTRY_SIMPLE;
/** A simple entry keeps its class + 1 in bits 8…29 of its meta word. */
const MAX_SIMPLE_CLASS = (1 << 22) - 2;

/** Whether `lo…hi` is a non-empty interval of 16-bit values (so it packs into one int32 of a simple entry). */
function inUint16(lo: number, hi: number): boolean {
  return lo >= 0 && lo <= hi && hi <= 65535;
}

/** Lists of a posting record longer than this are split by subject class (see LoadedTable.postingPool). */
export const SPLIT_LIST = 24;
/** The first word of a split list. */
export const SPLIT_MARK = -1;

/** The product filter of ISVPRODID range `lo…hi`: bit `v % FILTER_BITS` for each value `v` in it (ALL_FILTER when it spans FILTER_BITS or more, none when empty). */
export function productFilter(lo: number, hi: number): number {
  if (hi - lo >= FILTER_BITS - 1) return ALL_FILTER;
  let filter = 0;
  for (let v = lo; v <= hi; v++) filter |= 1 << (v % FILTER_BITS);
  return filter;
}

/** The 16-bit values `x` with `x cmp value`, as an interval `[lo, hi]` (maybe empty), or null for `!=` (two intervals). */
function comparisonRange(cmp: number, value: number): [number, number] | null {
  switch (cmp) {
    case Cmp.EQ:
      return [value, value];
    case Cmp.LT:
      return [0, value - 1];
    case Cmp.LE:
      return [0, value];
    case Cmp.GT:
      return [value + 1, 65535];
    case Cmp.GE:
      return [value, 65535];
    default:
      return null;
  }
}

/**
 * A condition that is a conjunction of ISVPRODID/ISVSVN intervals and (negated) attribute
 * bits, as a box `[prodLo, prodHi, svnLo, svnHi, attrsSet, attrsClear]`: it holds when both
 * numbers are in their intervals, every bit of attrsSet is set and every bit of attrsClear is
 * clear. Most launch conditions have this shape, and testing a box is a few comparisons. Any
 * other shape (`or`, `!=`, sets, subjects…) gives null, and the program is run instead.
 */
export function boxOf(program: readonly number[]): number[] | null {
  const { box, exact } = boxAnalysis(program);
  return exact ? box : null;
}

/** The `products` word of a rule whose condition says nothing of ISVPRODID: 0…65535. */
const FULL_PRODUCTS = 0xffff << 16;

/**
 * A box (see `boxOf`) outside of which the (checked) condition `program` is false: an
 * over-approximation, worked out on boxes. A comparison, a range or an attribute gives its own
 * box, exactly; `and` intersects; `or` takes the hull (the intervals' hulls, the attribute bits
 * both require); `not` flips a single attribute given exactly, and gives the full box for
 * anything else, as do other fields, `!=`, subjects and sets. Directory entries and bodies test
 * a request against it before running the program (LoadedTable.postingPool), so a rule `where
 * isvprodid == 7 and not debug and (uid 0 or …)` costs no program run for any other product or
 * for a debug enclave. An interval may come out empty (lo > hi): the condition never holds.
 */
export function necessaryBox(program: readonly number[]): number[] {
  return boxAnalysis(program).box;
}

/** A box and whether the condition holds exactly in it (`boxOf`), not only nowhere outside it (`necessaryBox`). */
interface BoxItem {
  box: number[];
  exact: boolean;
}

/** The box of `necessaryBox`, and whether it is exact: worked out on the program's stack, each item a BoxItem. */
function boxAnalysis(program: readonly number[]): BoxItem {
  type Item = BoxItem;
  const stack: Item[] = [];
  const anything = (): Item => ({ box: [...FULL_BOX], exact: false });
  const interval = (lo: number, hi: number, field: 0 | 2): Item => {
    const box = [...FULL_BOX];
    box[field] = Math.max(0, lo);
    box[field + 1] = Math.min(65535, hi);
    return { box, exact: true };
  };
  const isEmpty = (b: number[]) => b[0] > b[1] || b[2] > b[3] || (b[4] & b[5]) !== 0;
  const isSingleBit = (x: number) => x !== 0 && (x & (x - 1)) === 0;
  for (let pc = 0; pc < program.length; pc += 1 + OPERAND_COUNT[program[pc]]) {
    const op = program[pc];
    const a = program[pc + 1];
    const b = program[pc + 2];
    switch (op) {
      case Op.TRUE:
        stack.push({ box: [...FULL_BOX], exact: true });
        break;
      case Op.FALSE:
        stack.push(interval(1, 0, 0));
        break;
      case Op.PRODID_CMP:
      case Op.SVN_CMP: {
        const range = comparisonRange(a, b);
        stack.push(range === null ? anything() : interval(range[0], range[1], op === Op.PRODID_CMP ? 0 : 2));
        break;
      }
      case Op.PRODID_IN:
      case Op.SVN_IN:
        stack.push(interval(a, b, op === Op.PRODID_IN ? 0 : 2));
        break;
      case Op.ATTR: {
        const box = [...FULL_BOX];
        box[4] = 1 << a;
        stack.push({ box, exact: true });
        break;
      }
      case Op.NOT: {
        const { box: x, exact } = stack.pop()!;
        const onlyAttributes = x[0] === 0 && x[1] === 65535 && x[2] === 0 && x[3] === 65535;
        if (exact && onlyAttributes && x[5] === 0 && isSingleBit(x[4])) stack.push({ box: [0, 65535, 0, 65535, 0, x[4]], exact: true });
        else if (exact && onlyAttributes && x[4] === 0 && isSingleBit(x[5])) stack.push({ box: [0, 65535, 0, 65535, x[5], 0], exact: true });
        else stack.push(anything());
        break;
      }
      case Op.AND: {
        const y = stack.pop()!;
        const x = stack.pop()!;
        const [p, q] = [x.box, y.box];
        stack.push({
          box: [Math.max(p[0], q[0]), Math.min(p[1], q[1]), Math.max(p[2], q[2]), Math.min(p[3], q[3]), p[4] | q[4], p[5] | q[5]],
          exact: x.exact && y.exact,
        });
        break;
      }
      case Op.OR: {
        const y = stack.pop()!;
        const x = stack.pop()!;
        // A side that can never hold adds nothing (its box is empty, and so is the condition).
        if (isEmpty(x.box)) stack.push(y);
        else if (isEmpty(y.box)) stack.push(x);
        else {
          const [p, q] = [x.box, y.box];
          stack.push({ box: [Math.min(p[0], q[0]), Math.max(p[1], q[1]), Math.min(p[2], q[2]), Math.max(p[3], q[3]), p[4] & q[4], p[5] & q[5]], exact: false });
        }
        break;
      }
      default: // signer and enclave sets, subject atoms and classes
        stack.push(anything());
    }
  }
  return stack.pop()!;
}

/** An int32 array that grows by doubling, for building the posting pool without a huge JS array. */
class GrowableInt32 {
  private data: Int32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Int32Array(Math.max(16, capacity));
  }
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
  set(at: number, value: number): void {
    this.data[at] = value;
  }
  /** The contents so far, without copying (valid until the next push). */
  view(): Int32Array {
    return this.data.subarray(0, this.length);
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
