// The embedded evaluator (SPEC 5 and 7): answers "may this subject EINIT this enclave, on this
// path?" from a loaded table. `decide` never throws; anything it cannot read is a deny.
//
// The hot path allocates nothing: requests are read into fields of the evaluator, decisions
// are frozen objects built once per rule, and the table is flat typed arrays (table.ts).
// A subject handle carries its atom and class bits, computed once; a plain subject is matched
// lazily, only as far as the rules the request reaches ask about it.
import { readFileSync, statSync } from 'node:fs';
import {
  ATOM_EXE_GLOB,
  ATOM_EXE_LITERAL,
  ATOM_GID,
  ATOM_HOLDS,
  ATOM_LABEL,
  ATOM_UID,
  Cmp,
  findMeasurement,
  loadTable,
  Op,
  RULE_ALLOW,
  RULE_AUDIT,
  RULE_BOX,
  RULE_HOST,
  RULE_KVM,
  MEAS_ENCLAVE,
  MEAS_ID,
  MEAS_SIGNER,
  SPLIT_MARK,
  ENTRY_SIMPLE,
  ENTRY_SIZE as ENTRY,
  FILTER_BITS,
  type LoadedTable,
} from './table.js';
import {
  enclaveKeyBits,
  normalizeEnclave,
  normalizeSubject,
  readEnclaveFields,
  readEnvelope,
  readSubjectFields,
  validateEnclaveFields,
  validateSubjectFields,
  type EnclaveFields,
  type EnclaveSink,
  type EnvelopeSink,
  type MeasurementLookup,
  type SubjectFields,
} from './request.js';
import { PROVISION_DEVICE, type Decision, type NormalizedEnclave, type NormalizedSubject } from './types.js';

const PROVISIONKEY_BIT = 1 << 4;
/** Tables with at most this many classes keep a handle's class bits as words on the handle. */
const WORD_CLASSES = 128;
/** A subject in more classes than this is matched against a split list's full directory (table.ts postingPool). */
const MAX_SPLIT_CLASSES = 4;
/** Above every rule index: "no rule found yet". */
const NO_RULE = 0x7fffffff;
/** Class nesting deeper than this is matched eagerly rather than lazily (no deep recursion). */
const LAZY_CLASS_DEPTH_LIMIT = 32;
/**
 * Sets of the cache of recurring plain subjects (a power of two), two handles a set. A subject
 * that misses its set twice in a row gets a handle of its own, replacing the set's less recently
 * used one, so a hook that passes plain subjects still matches each recurring process about
 * once; a subject seen once is matched lazily and costs no handle.
 */
const SUBJECT_CACHE_SETS = 8192;
/** Entries of the decision cache (State.memo) unless the evaluator is told otherwise. */
const DEFAULT_DECISION_CACHE = 65536;
/** The largest decision cache an evaluator may be given (about 1.1 GB when full: see EvaluatorOptions). */
const MAX_DECISION_CACHE = 1 << 22;

/** Serial numbers of handles, which key the decision cache: never reused, so a collected handle's entries can never match. */
let handleSerials = 0;

/**
 * A subject matched once against a table's subject classes, to stand in for `subject` in later
 * requests. After a table swap it is matched again, once, on its next use.
 */
export class SubjectHandle {
  // What a handle stands for cannot change, since its decisions are cached: these are private
  // (read through getters; writing them throws), and the subject is frozen.
  readonly #subject: NormalizedSubject | undefined;
  readonly #error: string | undefined;
  readonly #holdsProvision: boolean;
  /** @internal the table the bits below were computed for */
  table: LoadedTable | undefined;
  /**
   * @internal the stripes (below) that hold this handle's atom and class bits, and where its
   * stripe begins in them; undefined until it is first matched
   */
  stripes: Stripes | undefined = undefined;
  /** @internal */
  at = 0;
  /**
   * @internal the class bits again as four int32 words (classes 0…127), kept on the handle
   * itself so that a decision reads no second object; unused when a table has more classes
   */
  w0 = 0;
  /** @internal */
  w1 = 0;
  /** @internal */
  w2 = 0;
  /** @internal */
  w3 = 0;
  /**
   * @internal bit `c % FILTER_BITS` set for every class `c` the subject belongs to, and bit 31, which
   * every rule for any subject has (every bit while unmatched): rules whose filter shares no bit
   * with it are passed over (table.ts postingPool)
   */
  fold = -1;
  /** @internal the classes the subject belongs to, ascending */
  classList: Int32Array = EMPTY_LIST;

  /** What keys its decisions in the decision cache: private, so only a real handle has one. */
  readonly #serial = ++handleSerials;

  /** @internal use Evaluator.resolveSubject */
  constructor(subject: NormalizedSubject | undefined, error: string | undefined) {
    if (subject !== undefined) {
      Object.freeze(subject.holds);
      Object.freeze(subject);
    }
    this.#subject = subject;
    this.#error = error;
    this.#holdsProvision = subject !== undefined && subject.holds.includes(PROVISION_DEVICE);
    this.table = undefined;
  }

  /** The validated subject (frozen), or undefined when it was invalid. */
  get subject(): NormalizedSubject | undefined {
    return this.#subject;
  }

  /** Why the subject is invalid, when it is. */
  get error(): string | undefined {
    return this.#error;
  }

  /** Whether the subject holds /dev/sgx_provision. */
  get holdsProvision(): boolean {
    return this.#holdsProvision;
  }

  /** @internal its serial number; throws for anything that is not a real handle (a Proxy of one, say) */
  static serialOf(handle: SubjectHandle): number {
    return handle.#serial;
  }
}

const EMPTY_LIST = new Int32Array(0);

/**
 * The atom and class bits of the subject handles matched for one table, in one array: a
 * stripe per handle, `atomCount` bits then `classCount` bits (bit `i & 31` of word `i >>> 5`),
 * and a handle keeps only where its stripe begins. Reading a bit of a handle is then one
 * access into an array every decision uses; an array per handle cost two dependent accesses
 * more (the array object, then its data), which in a table too large for the cache were about a
 * tenth of a decision. A stripe is given back when its handle is collected or matched for
 * another table, so the array holds about as many stripes as there are live handles.
 */
class Stripes {
  words: Int32Array;
  /** Int32 words per stripe, and where in a stripe its class bits begin. */
  readonly stride: number;
  readonly classWordsAt: number;
  private top = 0;
  private readonly free: number[] = [];
  private readonly registry = new FinalizationRegistry<number>((at) => this.free.push(at));

  constructor(atomCount: number, classCount: number) {
    this.classWordsAt = (atomCount + 31) >>> 5;
    this.stride = this.classWordsAt + ((classCount + 31) >>> 5);
    this.words = new Int32Array(this.stride * 16);
  }

  /** A stripe for `handle` (zeroed), given back when the handle is collected or released. */
  take(handle: SubjectHandle): number {
    let at = this.free.pop();
    if (at === undefined) {
      at = this.top;
      if (at + this.stride > this.words.length) {
        const grown = new Int32Array(2 * this.words.length);
        grown.set(this.words);
        this.words = grown;
      }
      this.top += this.stride;
    }
    this.words.fill(0, at, at + this.stride);
    this.registry.register(handle, at, handle);
    return at;
  }

  /** @internal for tests: how many stripes are held by handles, and how many were ever made. */
  inUse(): number {
    return this.made() - this.free.length;
  }

  /** @internal */
  made(): number {
    return this.stride === 0 ? 0 : this.top / this.stride;
  }

  /** Gives back `handle`'s stripe at once (it is being matched for another table). */
  release(handle: SubjectHandle, at: number): void {
    if (this.registry.unregister(handle)) this.free.push(at);
  }
}

/**
 * An enclave identity validated once, to stand in for `enclave` in later requests — for a hook
 * that sees the same enclaves launched again and again (and for SIGSTRUCTs, whose verification
 * it also saves). Where its measurements are in the table is looked up again after a swap.
 */
export class EnclaveHandle {
  // What a handle stands for cannot change, since its decisions are cached: these are private
  // (read through getters; writing them throws), and the identity is a frozen copy. The numbers
  // are kept on the handle itself so that deciding reads one object.
  readonly #enclave: NormalizedEnclave | undefined;
  readonly #error: string | undefined;
  readonly #isvprodid: number;
  readonly #isvsvn: number;
  readonly #attributeBits: number;
  /** @internal the table the records below belong to */
  table: LoadedTable | undefined = undefined;
  /** @internal */
  signerRecord = -1;
  /** @internal */
  enclaveRecord = -1;

  /** What keys its decisions in the decision cache: private, so only a real handle has one. */
  readonly #serial = ++handleSerials;

  /** @internal use Evaluator.resolveEnclave */
  constructor(enclave: NormalizedEnclave | undefined, error: string | undefined) {
    this.#enclave = enclave === undefined ? undefined : Object.freeze({ ...enclave });
    this.#error = error;
    this.#isvprodid = enclave?.isvprodid ?? 0;
    this.#isvsvn = enclave?.isvsvn ?? 0;
    this.#attributeBits = enclave?.attributeBits ?? 0;
  }

  /** The validated identity (frozen), or undefined when it was invalid. */
  get enclave(): NormalizedEnclave | undefined {
    return this.#enclave;
  }

  /** Why the enclave is invalid, when it is. */
  get error(): string | undefined {
    return this.#error;
  }

  /** @internal */
  get isvprodid(): number {
    return this.#isvprodid;
  }

  /** @internal */
  get isvsvn(): number {
    return this.#isvsvn;
  }

  /** @internal the low 32 bits of the attributes flags */
  get attributeBits(): number {
    return this.#attributeBits;
  }

  /** @internal its serial number; throws for anything that is not a real handle (a Proxy of one, say) */
  static serialOf(handle: EnclaveHandle): number {
    return handle.#serial;
  }
}

function frozenDecision(decision: 'allow' | 'deny', rule: string | null, audit: boolean, reason: string): Decision {
  return Object.freeze({ decision, rule, audit, reason });
}

const invalid = (reason: string): Decision => frozenDecision('deny', null, false, `invalid request: ${reason}`);

const UNREADABLE = invalid('the request could not be read');
const REENTERED = invalid('decide was called while another decision of this evaluator was being made (from a getter of its request)');
const DISTURBED = invalid('the evaluator was changed while the request was being read (a getter of the request resolved a subject or swapped the table)');

const PROVISION_DENIAL = frozenDecision(
  'deny',
  'builtin:provisionkey',
  false,
  `the enclave has the PROVISIONKEY attribute and the subject does not hold ${PROVISION_DEVICE}`,
);

/** The table in force plus what deciding with it needs, replaced whole on a swap. */
interface State {
  readonly table: LoadedTable;
  readonly ruleDecisions: (Decision | undefined)[];
  readonly defaultDecision: Decision;
  readonly defaultAllows: boolean;
  /** Evaluation stack, big enough for the deepest nesting of class programs inside a condition. */
  readonly stack: Uint8Array;
  /** Lazy matching of a plain subject: an entry is valid when its stamp equals the request's. */
  readonly atomStamp: Int32Array;
  readonly atomValue: Uint8Array;
  readonly classStamp: Int32Array;
  readonly classValue: Uint8Array;
  readonly lazy: boolean;
  readonly lookup: MeasurementLookup;
  /** The bits of the subject handles matched for this table. */
  readonly stripes: Stripes;
  /**
   * Handles of recurring plain subjects: set `subjectHash & (SUBJECT_CACHE_SETS - 1)` holds
   * entries 2·set and 2·set + 1. Beside each handle, the fields a look-up compares, in arrays of
   * their own, so that a look-up reads the handle only when it has found it.
   */
  readonly subjectCache: (SubjectHandle | undefined)[];
  /** Per entry, three numbers: its hash, uid and gid (both entries of a set in 48 bytes). */
  readonly cachedKey: Float64Array;
  readonly cachedExe: string[];
  /** Per entry: 1 when its subject has a label or holds devices (then those are compared too). */
  readonly cachedRest: Uint8Array;
  /** Per set: the hash of the last subject that missed it (a second miss with it admits the subject). */
  readonly subjectMissed: Int32Array;
  /** Per set: which of its two entries was used last. */
  readonly subjectRecent: Uint8Array;
  /** Decisions made with this table (null: the evaluator caches none). */
  readonly memo: DecisionCache | null;
}

function makeState(table: LoadedTable, decisionCache: number): State {
  const d = table.json.default;
  const classCount = table.classPrograms.length;
  return {
    table,
    ruleDecisions: new Array(table.json.rules.length),
    defaultDecision: frozenDecision(d.effect, 'default', d.audit, `no rule matched; the policy's default is ${d.effect}`),
    defaultAllows: d.effect === 'allow',
    // Lazily matched classes nest their programs on the stack (at most LAZY_CLASS_DEPTH_LIMIT
    // deep); matched eagerly, a class program reads earlier classes' bits and needs one program's
    // worth. (Sizing it by depth × stack either way let a hostile table reserve gigabytes.)
    stack: new Uint8Array((table.maxStack + 1) * (table.classDepth <= LAZY_CLASS_DEPTH_LIMIT ? table.classDepth + 2 : 1)),
    atomStamp: new Int32Array(table.atomCount),
    atomValue: new Uint8Array(table.atomCount),
    classStamp: new Int32Array(classCount),
    classValue: new Uint8Array(classCount),
    lazy: table.classDepth <= LAZY_CLASS_DEPTH_LIMIT,
    lookup: (text, anyCase) => findMeasurement(table, text, anyCase),
    stripes: new Stripes(table.atomCount, classCount),
    subjectCache: new Array<SubjectHandle | undefined>(2 * SUBJECT_CACHE_SETS).fill(undefined),
    cachedKey: new Float64Array(6 * SUBJECT_CACHE_SETS).fill(-1),
    cachedExe: new Array<string>(2 * SUBJECT_CACHE_SETS).fill(''),
    cachedRest: new Uint8Array(2 * SUBJECT_CACHE_SETS),
    subjectMissed: new Int32Array(SUBJECT_CACHE_SETS),
    subjectRecent: new Uint8Array(SUBJECT_CACHE_SETS),
    memo: decisionCache === 0 ? null : new DecisionCache(decisionCache),
  };
}

/** Bits of the decision cache's hash that are kept: all of them, but tests make every key collide. */
let hashMask = -1;

/** @internal for tests: 0 gives every key the same hash, so only the comparison of its fields tells keys apart. */
export function setDecisionCacheHashMask(mask: number): void {
  hashMask = mask;
}

/** A decision in the cache and what it was made for (see DecisionCache). */
interface CachedDecision {
  subject: number;
  enclave: number;
  mrenclave: string;
  mrsigner: string;
  numbers: number;
  attributes: number;
  via: number;
  decision: Decision;
}

/**
 * Decisions made with one table, for requests whose subject is a handle (resolved by the
 * caller, or a recurring plain subject's): two-way set-associative, keyed by everything a
 * decision depends on besides the table — the subject handle's serial, the enclave (a handle's
 * serial and numbers, or its fields as written), the path. A request decided before (once its
 * decision is stored: see below) is answered without reading the table, so a hook that sees the same launches again and
 * again pays the same whatever the size of its policy (SELinux's access vector cache does this
 * for its decisions). Only valid requests are cached, and an enclave given by its fields hits
 * only when its measurements equal, as strings, ones that were validated when their entry was
 * made. A new table gets a new, empty cache.
 *
 * What a request that is not in the cache pays is kept small, for hooks whose requests seldom
 * repeat: the look-up reads one word per entry (`tags`, the key's hash) before any entry, and a
 * decision is stored at once only while its set has an empty entry; in a full set it replaces
 * the less recently used entry only when its key is seen a second time (`seen`, a bit per hash,
 * cleared when an eighth of its bits have been set). So once the cache is full, a stream of
 * requests that never repeat rewrites few entries (those whose bit another key had set), and
 * until then every decision is stored. Entries are made as they are needed, and reused.
 */
class DecisionCache {
  /** Per entry, its key's hash (0: empty); entry `2·set + way`. */
  private readonly tags: Int32Array;
  private entries: (CachedDecision | undefined)[] | null = null;
  /** Per set: which of its two entries was used last. */
  private readonly recent: Uint8Array;
  private readonly sets: number;
  /** Bits of the hashes of keys that missed once, and how many have been set since it was cleared. */
  private readonly seen: Int32Array;
  private readonly seenShift: number;
  private seenCount = 0;
  /** Requests answered from the cache, and requests looked for in it and not found. */
  hits = 0;
  misses = 0;
  // The key of the request being decided (set by `key`, used by `find` and `put`).
  private hash = 1;
  private subject = 0;
  private enclave = 0;
  private mrenclave = '';
  private mrsigner = '';
  private numbers = 0;
  private attributes = 0;
  private via = 0;

  /** `size`: entries, a power of two of at least 2. */
  constructor(size: number) {
    this.sets = size >>> 1;
    this.tags = new Int32Array(size);
    this.recent = new Uint8Array(this.sets);
    // Sixteen bits per entry, at least 1,024.
    let seenLog = 10;
    while (2 ** seenLog < 16 * size) seenLog++;
    this.seen = new Int32Array(2 ** (seenLog - 5));
    this.seenShift = 32 - seenLog;
  }

  key(subject: number, enclave: number, mrenclave: string, mrsigner: string, numbers: number, attributes: number, via: number): void {
    this.subject = subject;
    this.enclave = enclave;
    this.mrenclave = mrenclave;
    this.mrsigner = mrsigner;
    this.numbers = numbers;
    this.attributes = attributes;
    this.via = via;
    let h = Math.imul(subject | 0, 0x9e3779b1) ^ Math.imul(enclave | 0, 0x85ebca6b) ^ Math.imul(attributes | 0, 0xc2b2ae35) ^ numbers ^ via;
    // The MRENCLAVE's first and last four characters (so that made-up measurements that differ
    // only at one end spread too) and the MRSIGNER's first four spread keys over the sets;
    // equality is decided by comparing the strings. (Each character read costs: reading 24
    // instead of these 12 took a cached decision from about 97 to 110 ns.)
    if (mrenclave !== '') {
      h ^= Math.imul(codesAt(mrenclave, 0), 0x27d4eb2f) ^ Math.imul(codesAt(mrenclave, 60), 0x2545f491) ^ Math.imul(codesAt(mrsigner, 0), 0xd3a2646d);
    }
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
    h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
    // 0 marks an empty entry, so no key hashes to it.
    this.hash = ((h ^ (h >>> 15)) & hashMask) | 0 || 1;
  }

  /** The decision cached for the key, or undefined. */
  find(): Decision | undefined {
    const set = this.hash & (this.sets - 1);
    const tags = this.tags;
    for (let way = 0; way < 2; way++) {
      if (tags[2 * set + way] === this.hash) {
        const c = this.entries![2 * set + way]!;
        if (this.matches(c)) {
          this.recent[set] = way;
          this.hits++;
          return c.decision;
        }
      }
    }
    this.misses++;
    return undefined;
  }

  private matches(c: CachedDecision): boolean {
    return (
      c.subject === this.subject &&
      c.enclave === this.enclave &&
      c.numbers === this.numbers &&
      c.attributes === this.attributes &&
      c.via === this.via &&
      c.mrenclave === this.mrenclave &&
      c.mrsigner === this.mrsigner
    );
  }

  /**
   * Caches `decision` for the key: in an empty entry of its set, or, if the key was seen before,
   * in place of the set's less recently used entry.
   */
  put(decision: Decision): void {
    const tags = this.tags;
    const set = this.hash & (this.sets - 1);
    const way = tags[2 * set] === 0 ? 0 : tags[2 * set + 1] === 0 ? 1 : -1;
    if (way < 0 && !this.seenBefore()) return;
    this.store(set, way < 0 ? 1 - this.recent[set] : way, decision);
  }

  private store(set: number, way: number, decision: Decision): void {
    if (this.entries === null) this.entries = new Array<CachedDecision | undefined>(2 * this.sets).fill(undefined);
    const entries = this.entries;
    const tags = this.tags;
    const i = 2 * set + way;
    const old = entries[i];
    if (old === undefined) {
      entries[i] = {
        subject: this.subject,
        enclave: this.enclave,
        mrenclave: this.mrenclave,
        mrsigner: this.mrsigner,
        numbers: this.numbers,
        attributes: this.attributes,
        via: this.via,
        decision,
      };
    } else {
      old.subject = this.subject;
      old.enclave = this.enclave;
      old.mrenclave = this.mrenclave;
      old.mrsigner = this.mrsigner;
      old.numbers = this.numbers;
      old.attributes = this.attributes;
      old.via = this.via;
      old.decision = decision;
    }
    tags[i] = this.hash;
    this.recent[set] = way;
  }

  /** Whether the key's hash missed before (since `seen` was last cleared); marks it if not. */
  private seenBefore(): boolean {
    const bit = Math.imul(this.hash, 0x9e3779b1) >>> this.seenShift;
    const seen = this.seen;
    const word = seen[bit >>> 5];
    if (((word >>> bit) & 1) === 1) return true;
    seen[bit >>> 5] = word | (1 << bit);
    if (++this.seenCount > 4 * seen.length) {
      seen.fill(0);
      this.seenCount = 0;
    }
    return false;
  }

  /** How many entries the cache has, and how many hold a decision (counted: not for a hot path). */
  stats(): DecisionCacheStats {
    const used = this.tags.reduce((n, tag) => (tag === 0 ? n : n + 1), 0);
    return { size: 2 * this.sets, used, hits: this.hits, misses: this.misses };
  }
}

/** The codes of four characters of a string from `at` (the string is longer), one byte each. */
function codesAt(text: string, at: number): number {
  return (text.charCodeAt(at) << 24) ^ (text.charCodeAt(at + 1) << 16) ^ (text.charCodeAt(at + 2) << 8) ^ text.charCodeAt(at + 3);
}

/** What `Evaluator.decisionCacheStats` reports of the decision cache of the table in force. */
export interface DecisionCacheStats {
  /** Entries (0: the evaluator caches no decisions). */
  size: number;
  /** Entries that hold a decision. */
  used: number;
  /** Requests answered from the cache since the table was put in force. */
  hits: number;
  /**
   * Requests looked for in the cache (a subject handle, an enclave that looks valid) and decided
   * from the table; those found invalid then are counted too.
   */
  misses: number;
}

/** Options of `Evaluator.fromTable` and `Evaluator.fromFile`. */
export interface EvaluatorOptions {
  /**
   * Entries of the decision cache, rounded up to a power of two (0 turns it off; at most
   * 4,194,304). Default 65,536: about 0.4 MB up front, and when full about 17 MB with requests
   * that bring their own measurement strings (the cache keeps them), about 6 MB with handles
   * (measured: 260 and 96 bytes an entry).
   */
  decisionCache?: number;
}

const OPTION_NAMES = new Set(['decisionCache']);

/** The number of decision-cache entries `options` asks for; throws a TypeError saying why it cannot be used. */
function decisionCacheSize(options: EvaluatorOptions | undefined): number {
  if (options === undefined) return DEFAULT_DECISION_CACHE;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`evaluator options must be an object (found ${JSON.stringify(options) ?? String(options)})`);
  }
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.has(name)) throw new TypeError(`unknown evaluator option ${JSON.stringify(name)} (known: ${[...OPTION_NAMES].join(', ')})`);
  }
  const asked: unknown = options.decisionCache;
  if (asked === undefined) return DEFAULT_DECISION_CACHE;
  if (typeof asked !== 'number' || !Number.isInteger(asked) || asked < 0 || asked > MAX_DECISION_CACHE) {
    throw new TypeError(`decisionCache must be an integer from 0 to ${MAX_DECISION_CACHE} (found ${typeof asked === 'number' ? String(asked) : (JSON.stringify(asked) ?? String(asked))})`);
  }
  if (asked === 0) return 0;
  let size = 2;
  while (size < asked) size *= 2;
  return size;
}

export class Evaluator {
  private state: State;

  // The request being decided, kept in fields so the hot path allocates nothing.
  private readonly envelope: EnvelopeSink = { via: 'host', subject: undefined, enclave: undefined };
  private readonly enclave: EnclaveSink = {
    mrenclave: '',
    mrsigner: '',
    isvprodid: 0,
    isvsvn: 0,
    attributeBits: 0,
    attributesHex: '',
    signerIndex: -1,
    enclaveIndex: -1,
  };
  private readonly enclaveFields: EnclaveFields = { mrenclave: undefined, mrsigner: undefined, isvprodid: undefined, isvsvn: undefined, attributes: undefined, bits: -1 };
  private readonly plainSubject: NormalizedSubject = { exe: '', uid: 0, gid: 0, label: undefined, holds: [] };
  private readonly subjectFields: SubjectFields = { exe: undefined, uid: undefined, gid: undefined, label: undefined, holds: undefined };
  /** The subject being matched lazily (a plain request), when `atomBits` is null. */
  private subject: NormalizedSubject = this.plainSubject;
  private stamp = 0;
  /** Where the request's MRSIGNER / MRENCLAVE record is in the posting pool (table.ts MEAS_*), or -1. */
  private signerRecord = -1;
  private enclaveRecord = -1;
  /** The enclave's ISVPRODID and ISVSVN, read by every directory entry tested. */
  private prodid = 0;
  private svn = 0;
  /** The low 32 bits of the enclave's ATTRIBUTES flags, read by simple directory entries. */
  private attributes = 0;
  /** A plain subject's atom and class bits, one byte each, while it is matched eagerly (else null). */
  private atomBits: Uint8Array | null = null;
  private classBits: Uint8Array | null = null;
  /**
   * A handle's stripe (State.stripes): the words, and where its atom and its class bits begin
   * in them (-1 while a subject is matched lazily or eagerly). Its classes are read from
   * `w0`…`w3` instead when the table has at most 128.
   */
  private stripeWords: Int32Array = EMPTY_LIST;
  private atomsAt = -1;
  private classesAt = -1;
  /**
   * A handle's class bits for classes 0…127 (SubjectHandle.w0…w3), copied when its request is
   * read: a getter of the request may make another evaluator match the same handle for its own
   * table meanwhile, which rewrites the handle's words but not these. `ownWords` says whether
   * `classBit` answers from them (a handle, and a table of at most 128 classes).
   */
  private ownWords = false;
  private w0 = 0;
  private w1 = 0;
  private w2 = 0;
  private w3 = 0;
  /** The current subject's class fold (SubjectHandle.fold); every bit while a subject is matched lazily or eagerly. */
  private fold = -1;
  /** The current subject's classes (SubjectHandle.classList), or null while it is matched lazily or eagerly. */
  private classList: Int32Array | null = null;

  /** Entries of each table's decision cache (0: none). */
  private readonly decisionCache: number;

  private constructor(table: LoadedTable, decisionCache: number) {
    this.decisionCache = decisionCache;
    this.state = makeState(table, decisionCache);
  }

  /**
   * Validates a table (object, JSON text or bytes) and builds an evaluator; throws an Error
   * saying why a table is refused (a TypeError for options it cannot use).
   */
  static fromTable(table: unknown, options?: EvaluatorOptions): Evaluator {
    const decisionCache = decisionCacheSize(options);
    return new Evaluator(loadTable(table), decisionCache);
  }

  static fromFile(path: string, options?: EvaluatorOptions): Evaluator {
    const decisionCache = decisionCacheSize(options);
    return new Evaluator(loadTable(readTableFile(path)), decisionCache);
  }

  /** Replaces the table in force, atomically: if the new one is refused, this throws and the old one stays. */
  swapTable(table: unknown): void {
    this.install(loadTable(table));
  }

  swapFile(path: string): void {
    this.install(loadTable(readTableFile(path)));
  }

  /** Puts a loaded table in force; a decision in progress (its request's getter swapped) is then denied. */
  private install(table: LoadedTable): void {
    const state = makeState(table, this.decisionCache);
    if (this.deciding) this.disturbed = true;
    this.state = state;
  }

  /** The decision cache of the table in force: its size, and how often it answered. */
  get decisionCacheStats(): DecisionCacheStats {
    const memo = this.state.memo;
    return memo === null ? { size: 0, used: 0, hits: 0, misses: 0 } : memo.stats();
  }

  /** The policy name and version, and the digest, of the table in force. */
  get tableInfo(): { policy: { name: string; version: number } | null; digest: string; rules: number } {
    const json = this.state.table.json;
    return { policy: json.policy, digest: json.digest, rules: json.rules.length };
  }

  /** Validates and matches a subject once. Never throws: an invalid subject gives a handle whose requests are denied. */
  resolveSubject(subject: unknown): SubjectHandle {
    const checked = normalizeSubject(subject);
    // Matching uses the evaluator's fields, which a decision in progress (one of whose request's
    // getters called this) is using too.
    if (this.deciding) this.disturbed = true;
    const handle = checked.ok ? new SubjectHandle(checked.subject, undefined) : new SubjectHandle(undefined, checked.reason);
    if (handle.subject !== undefined) {
      try {
        this.matchSubject(handle, this.state);
      } catch {
        // Only a bug can get here; the handle stays unmatched and decide() will try again, and deny if it fails.
        handle.table = undefined;
      }
    }
    return handle;
  }

  /** Validates an enclave identity (or a SIGSTRUCT) once. Never throws: an invalid one gives a handle whose requests are denied. */
  resolveEnclave(enclave: unknown): EnclaveHandle {
    const checked = normalizeEnclave(enclave);
    return checked.ok ? new EnclaveHandle(checked.enclave, undefined) : new EnclaveHandle(undefined, checked.reason);
  }

  /** The decision for a request (SPEC 5). Never throws. */
  decide(request: unknown): Decision {
    // A request may be an object with getters, which run while it is read. Should one of them
    // call back into this evaluator, the inner call must not change the state the outer
    // decision is being made with: a nested decide is refused, and a subject resolved or a
    // table swapped meanwhile makes the outer decision a deny.
    if (this.deciding) return REENTERED;
    this.deciding = true;
    this.disturbed = false;
    try {
      const decision = this.decideUnsafe(request);
      return this.disturbed ? DISTURBED : decision;
    } catch {
      // A constant: making a decision here could itself fail (out of stack, say).
      return UNREADABLE;
    } finally {
      // A lazily matched subject's set of held devices (up to the request's size) is not kept.
      this.held = undefined;
      this.deciding = false;
    }
  }

  /** Set while `decide` runs; `disturbed` when something changed the evaluator meanwhile. */
  private deciding = false;
  private disturbed = false;

  private decideUnsafe(request: unknown): Decision {
    const state = this.state;
    const table = state.table;
    const envelopeProblem = readEnvelope(request, this.envelope);
    if (envelopeProblem !== undefined) return invalid(envelopeProblem);
    const viaFlag = this.envelope.via === 'kvm' ? RULE_KVM : RULE_HOST;

    const rawSubject = this.envelope.subject;
    let holdsProvision = false;
    let handle: SubjectHandle | undefined;
    let subjectSerial = 0;
    if (rawSubject instanceof SubjectHandle) {
      // Only a real handle has a serial: anything else that passes `instanceof` (a Proxy of a
      // handle, an object made from its prototype) throws here, and decide denies.
      subjectSerial = SubjectHandle.serialOf(rawSubject);
      if (rawSubject.subject === undefined) return invalid(rawSubject.error ?? 'invalid subject');
      handle = rawSubject;
    } else {
      const fields = this.subjectFields;
      const fieldsProblem = readSubjectFields(rawSubject, fields);
      if (fieldsProblem !== undefined) return invalid(fieldsProblem);
      handle = this.cachedSubject(state, fields);
      if (handle === undefined) {
        const subjectProblem = validateSubjectFields(fields, this.plainSubject);
        if (subjectProblem !== undefined) return invalid(subjectProblem);
        handle = this.admitSubject(state, this.plainSubject);
      }
      if (handle === undefined) {
        this.fold = -1;
        this.classList = null;
        this.subject = this.plainSubject;
        holdsProvision = this.plainSubject.holds.includes(PROVISION_DEVICE);
        if (state.lazy) {
          this.atomBits = null;
          this.classBits = null;
          this.atomsAt = -1;
          this.classesAt = -1;
          this.ownWords = false;
          this.held = heldSet(this.plainSubject);
          this.nextStamp();
        } else {
          this.matchEagerly(state);
        }
      } else {
        subjectSerial = SubjectHandle.serialOf(handle);
      }
    }

    // The enclave is read (not yet validated), and with a subject handle the decision cache is
    // asked first: a request decided before is answered without touching the table.
    const e = this.enclave;
    const rawEnclave = this.envelope.enclave;
    const memo = state.memo;
    const fields = this.enclaveFields;
    let fieldsRead = false;
    let keyBits = -1;
    if (rawEnclave instanceof EnclaveHandle) {
      const enclaveSerial = EnclaveHandle.serialOf(rawEnclave);
      if (rawEnclave.enclave === undefined) return invalid(rawEnclave.error ?? 'invalid enclave');
      const { isvprodid, isvsvn } = rawEnclave;
      // (A handle's numbers are validated and cannot be written; checked again all the same,
      // since the key packs them into one number.)
      if (handle !== undefined && memo !== null && (isvprodid & 0xffff) === isvprodid && (isvsvn & 0xffff) === isvsvn) {
        keyBits = rawEnclave.attributeBits;
        memo.key(subjectSerial, enclaveSerial, '', '', isvprodid | (isvsvn << 16), keyBits, viaFlag);
      }
    } else {
      const read = readEnclaveFields(rawEnclave, fields, e, state.lookup);
      if (read !== undefined && read !== null) return invalid(read);
      // null: a SIGSTRUCT, read whole into `e` (and not cached here: its own cache keeps the identity).
      fieldsRead = read === undefined;
      if (fieldsRead && handle !== undefined && memo !== null) {
        keyBits = enclaveKeyBits(fields);
        if (keyBits >= 0) {
          memo.key(subjectSerial, 0, fields.mrenclave as string, fields.mrsigner as string, (fields.isvprodid as number) | ((fields.isvsvn as number) << 16), keyBits, viaFlag);
        }
      }
    }
    if (keyBits >= 0) {
      const cached = memo!.find();
      if (cached !== undefined) return cached;
    }

    if (handle !== undefined) {
      if (handle.table !== table) this.matchSubject(handle, state);
      this.atomBits = null;
      this.classBits = null;
      // Read after matching, which may have grown the stripes' array.
      this.stripeWords = state.stripes.words;
      this.atomsAt = handle.at;
      this.classesAt = handle.at + state.stripes.classWordsAt;
      this.ownWords = table.classPrograms.length <= WORD_CLASSES;
      this.w0 = handle.w0;
      this.w1 = handle.w1;
      this.w2 = handle.w2;
      this.w3 = handle.w3;
      holdsProvision = handle.holdsProvision;
      this.fold = handle.fold;
      this.classList = handle.classList;
    }

    if (rawEnclave instanceof EnclaveHandle) {
      if (rawEnclave.table !== table) {
        rawEnclave.signerRecord = state.lookup(rawEnclave.enclave!.mrsigner);
        rawEnclave.enclaveRecord = state.lookup(rawEnclave.enclave!.mrenclave);
        rawEnclave.table = table;
      }
      e.isvprodid = rawEnclave.isvprodid;
      e.isvsvn = rawEnclave.isvsvn;
      e.attributeBits = rawEnclave.attributeBits;
      e.signerIndex = rawEnclave.signerRecord;
      e.enclaveIndex = rawEnclave.enclaveRecord;
    } else if (fieldsRead) {
      const enclaveProblem = validateEnclaveFields(fields, e, state.lookup);
      if (enclaveProblem !== undefined) return invalid(enclaveProblem);
    }
    this.prodid = e.isvprodid;
    this.svn = e.isvsvn;
    this.attributes = e.attributeBits | 0;
    // Every path above validated both as integers 0 … 65535 (request.ts, SIGSTRUCT fields, handles).
    // Directory entries test them with unsigned arithmetic, which would take NaN or 5.5 as inside
    // an interval; so a value that is not a 16-bit integer, should one ever get here, is refused.
    if ((this.prodid & 0xffff) !== this.prodid || (this.svn & 0xffff) !== this.svn) return invalid('enclave ISVPRODID or ISVSVN is not a 16-bit integer');
    this.signerRecord = e.signerIndex;
    this.enclaveRecord = e.enclaveIndex;

    const decision = this.decideRead(state, viaFlag, holdsProvision);
    // Every field the key holds was read once, and the decision made from what was read; but a
    // getter that disturbed the evaluator makes the decision a deny, which is not cached.
    if (keyBits >= 0 && !this.disturbed) memo!.put(decision);
    return decision;
  }

  /** The decision for the request read into the evaluator's fields (SPEC 5). */
  private decideRead(state: State, viaFlag: number, holdsProvision: boolean): Decision {
    const table = state.table;
    const pool = table.postingPool;
    const signerAt = this.signerRecord >= 0 ? pool[this.signerRecord + MEAS_SIGNER] : -1;
    const enclaveAt = this.enclaveRecord >= 0 ? pool[this.enclaveRecord + MEAS_ENCLAVE] : -1;
    // A matching deny decides; then the first matching allow; then the default. Whether the
    // result allows is known from which of these it is, so the decision object (often not in
    // cache in a large table) is not read here.
    const deny = this.firstMatch(signerAt, enclaveAt, table.anyPosting, viaFlag, false);
    if (deny >= 0) return this.ruleDecision(deny);
    const allow = this.firstMatch(signerAt, enclaveAt, table.anyPosting, viaFlag, true);
    if ((allow >= 0 || state.defaultAllows) && (this.attributes & PROVISIONKEY_BIT) !== 0 && !holdsProvision) return PROVISION_DENIAL;
    return allow >= 0 ? this.ruleDecision(allow) : state.defaultDecision;
  }

  /**
   * The cached handle of a plain subject whose fields, as read from the request, equal a cached
   * subject's exactly, or undefined. A cached subject was validated when it was admitted, so a
   * subject equal to it needs no validation of its own.
   */
  private cachedSubject(state: State, fields: SubjectFields): SubjectHandle | undefined {
    const { exe, uid, gid, label, holds } = fields;
    if (typeof exe !== 'string' || typeof uid !== 'number' || typeof gid !== 'number') return undefined;
    if (label !== undefined && typeof label !== 'string') return undefined;
    let holdsCount = 0;
    if (holds !== undefined) {
      if (!Array.isArray(holds)) return undefined;
      holdsCount = holds.length;
    }
    const rest = label !== undefined || holdsCount > 0 ? 1 : 0;
    const hash = subjectHash(exe, uid, gid);
    const set = hash & (SUBJECT_CACHE_SETS - 1);
    const key = state.cachedKey;
    for (let way = 0; way < 2; way++) {
      const i = 2 * set + way;
      if (key[3 * i] === hash && key[3 * i + 1] === uid && key[3 * i + 2] === gid && state.cachedExe[i] === exe && state.cachedRest[i] === rest) {
        const cached = state.subjectCache[i]!;
        if (rest === 1 && !sameRest(cached.subject!, label as string | undefined, holds as unknown[] | undefined, holdsCount)) continue;
        state.subjectRecent[set] = way;
        return cached;
      }
    }
    return undefined;
  }

  /**
   * After a cache miss of a valid plain subject: a subject that missed its set the last time
   * too gets a handle and a place in the cache (returned); otherwise the miss is remembered
   * and undefined returned, and the subject is matched lazily this time.
   */
  private admitSubject(state: State, subject: NormalizedSubject): SubjectHandle | undefined {
    const hash = subjectHash(subject.exe, subject.uid, subject.gid);
    const set = hash & (SUBJECT_CACHE_SETS - 1);
    // 0 marks "no miss yet", so a hash of 0 is remembered as 1 (a false admission only costs a match).
    const marker = hash | 0 || 1;
    if (state.subjectMissed[set] !== marker) {
      state.subjectMissed[set] = marker;
      return undefined;
    }
    const copy: NormalizedSubject = { exe: subject.exe, uid: subject.uid, gid: subject.gid, label: subject.label, holds: subject.holds.slice() };
    const handle = new SubjectHandle(copy, undefined);
    this.matchSubject(handle, state);
    const cache = state.subjectCache;
    const way = cache[2 * set] === undefined ? 0 : cache[2 * set + 1] === undefined ? 1 : 1 - state.subjectRecent[set];
    const i = 2 * set + way;
    cache[i] = handle;
    state.cachedKey[3 * i] = hash;
    state.cachedKey[3 * i + 1] = copy.uid;
    state.cachedKey[3 * i + 2] = copy.gid;
    state.cachedExe[i] = copy.exe;
    state.cachedRest[i] = copy.label !== undefined || copy.holds.length > 0 ? 1 : 0;
    state.subjectRecent[set] = way;
    state.subjectMissed[set] = 0;
    return handle;
  }

  private nextStamp(): void {
    if (this.stamp === 0x7fffffff) {
      this.state.atomStamp.fill(0);
      this.state.classStamp.fill(0);
      this.stamp = 0;
    }
    this.stamp++;
  }

  private ruleDecision(rule: number): Decision {
    const cached = this.state.ruleDecisions[rule];
    if (cached !== undefined) return cached;
    const table = this.state.table.json;
    const [file, line, flags, , , reason] = table.rules[rule];
    const id = `${table.files[file]}:${line}`;
    const allow = (flags & RULE_ALLOW) !== 0;
    const made = frozenDecision(allow ? 'allow' : 'deny', id, (flags & RULE_AUDIT) !== 0, reason ?? `${allow ? 'allowed' : 'denied'} by rule ${id}`);
    this.state.ruleDecisions[rule] = made;
    return made;
  }

  /**
   * The lowest-numbered rule of one effect that matches the current request, among the union of
   * up to three posting records (the request's MRSIGNER, its MRENCLAVE, and `*`), or -1.
   * Each list is in rule order, and whether a rule matches does not depend on the list it is
   * found in, so the answer is the least of each list's first match: the lists are scanned one
   * after the other, each only up to the best rule found so far, and nothing is merged. A rule's
   * body is read only when its entry's filter lets it through.
   */
  private firstMatch(signerAt: number, enclaveAt: number, anyAt: number, viaFlag: number, allow: boolean): number {
    const pool = this.state.table.postingPool;
    const which = allow ? 1 : 0;
    let best = NO_RULE;
    const fold = this.fold;
    // The rules for any enclave first: they are few, shared by every request (so in cache), and
    // a catch-all near the top of a policy (`deny * einit * where debug;`) then bounds the rest.
    best = this.firstInList(pool, pool[anyAt + which], viaFlag, fold, best);
    if (signerAt >= 0) best = this.firstInList(pool, pool[signerAt + which], viaFlag, fold, best);
    if (enclaveAt >= 0) best = this.firstInList(pool, pool[enclaveAt + which], viaFlag, fold, best);
    return best === NO_RULE ? -1 : best;
  }

  /** The first rule below `bound` in the list at `pool[list]`, plain or split, that matches, or `bound`. */
  private firstInList(pool: Int32Array, list: number, viaFlag: number, fold: number, bound: number): number {
    return pool[list] === SPLIT_MARK ? this.firstInSplit(pool, list, viaFlag, bound) : this.firstInDirectory(pool, list, viaFlag, fold, bound);
  }

  /**
   * The first rule below `bound` in the split list (table.ts) at `pool[list]` that matches, or
   * `bound`: read through its directories for the subject's classes and for any subject, whose
   * filters test the request's product id; a subject matched lazily, or in many classes, reads
   * its full directory instead.
   */
  private firstInSplit(pool: Int32Array, list: number, viaFlag: number, bound: number): number {
    const classes = this.classList;
    if (classes === null || classes.length > MAX_SPLIT_CLASSES) return this.firstInDirectory(pool, pool[list + 1], viaFlag, this.fold, bound);
    const product = 1 << (this.prodid % FILTER_BITS);
    let best = this.firstInDirectory(pool, pool[list + 2], viaFlag, product, bound);
    const k = pool[list + 3];
    const pairs = list + 4;
    for (let i = 0; i < classes.length; i++) {
      // Binary search of the class among the list's (class, directoryAt) pairs.
      let lo = 0;
      let hi = k - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const c = pool[pairs + 2 * mid];
        if (c === classes[i]) {
          best = this.firstInDirectory(pool, pool[pairs + 2 * mid + 1], viaFlag, product, best);
          break;
        }
        if (c < classes[i]) lo = mid + 1;
        else hi = mid - 1;
      }
    }
    return best;
  }

  /** The first rule below `bound` in the directory at `pool[directory]` whose entry matches (filters tested against `mask`), or `bound`. */
  private firstInDirectory(pool: Int32Array, directory: number, viaFlag: number, mask: number, bound: number): number {
    const end = directory + 1 + ENTRY * pool[directory];
    for (let at = directory + 1; at < end; at += ENTRY) {
      const r = pool[at];
      if (r >= bound) return bound;
      if (this.entryAllows(pool, at, viaFlag, mask)) return r;
    }
    return bound;
  }

  /**
   * Whether the directory entry at `pool[at]` matches the current request: a simple entry from
   * the entry itself, any other through its filter (tested against `mask`), its interval of
   * products and its one class (if it names one), and then its body.
   */
  private entryAllows(pool: Int32Array, at: number, viaFlag: number, mask: number): boolean {
    const meta = pool[at + 1];
    if ((meta & ENTRY_SIMPLE) === 0) {
      if ((meta & mask) === 0) return false;
      const products = pool[at + 3];
      if ((this.prodid - (products & 0xffff)) >>> 0 > products >>> 16) return false;
      const only = pool[at + 4];
      return (only === 0 || this.classBit(only - 1) === 1) && this.entryMatches(pool, pool[at + 2], viaFlag);
    }
    if ((meta & viaFlag) === 0) return false;
    const subject = (meta >>> 8) & 0x3fffff;
    if (subject !== 0 && this.classBit(subject - 1) !== 1) return false;
    // Each interval as `lo | (hi - lo) << 16`: inside when `value - lo`, as unsigned, is at most `hi - lo`.
    const product = pool[at + 2];
    const svn = pool[at + 3];
    // Attribute bits that must be set (low half) and clear (high half).
    const attributes = pool[at + 4];
    const bits = this.attributes;
    return (
      (this.prodid - (product & 0xffff)) >>> 0 <= product >>> 16 &&
      (this.svn - (svn & 0xffff)) >>> 0 <= svn >>> 16 &&
      (bits & attributes & 0xffff) === (attributes & 0xffff) &&
      (bits & (attributes >>> 16)) === 0
    );
  }

  /** Whether the rule body at `pool[flagsAt]` (its flags word) matches the current request. */
  private entryMatches(pool: Int32Array, flagsAt: number, viaFlag: number): boolean {
    if ((pool[flagsAt] & viaFlag) === 0) return false;
    const subjectCount = pool[flagsAt + 1];
    let at = flagsAt + 2;
    if (subjectCount > 0) {
      let any = false;
      for (let i = 0; i < subjectCount; i++) {
        if (this.classBit(pool[at + i]) === 1) {
          any = true;
          break;
        }
      }
      if (!any) return false;
      at += subjectCount;
    }
    // The body's box: the condition itself (RULE_BOX), or a box it cannot hold outside of.
    const bits = this.attributes;
    const inBox =
      this.prodid >= pool[at] &&
      this.prodid <= pool[at + 1] &&
      this.svn >= pool[at + 2] &&
      this.svn <= pool[at + 3] &&
      (bits & pool[at + 4]) === pool[at + 4] &&
      (bits & pool[at + 5]) === 0;
    if (!inBox || (pool[flagsAt] & RULE_BOX) !== 0) return inBox;
    const condLength = pool[at + 6];
    return condLength === 0 || this.run(pool, at + 7, at + 7 + condLength, 0) === 1;
  }

  private classBit(c: number): number {
    if (this.ownWords) {
      switch (c >>> 5) {
        case 0:
          return (this.w0 >>> c) & 1;
        case 1:
          return (this.w1 >>> (c & 31)) & 1;
        case 2:
          return (this.w2 >>> (c & 31)) & 1;
        default:
          return (this.w3 >>> (c & 31)) & 1;
      }
    }
    if (this.classesAt >= 0) return (this.stripeWords[this.classesAt + (c >>> 5)] >>> (c & 31)) & 1;
    if (this.classBits !== null) return this.classBits[c];
    const state = this.state;
    if (state.classStamp[c] !== this.stamp) {
      const program = state.table.classPrograms[c];
      // Nested lazily matched classes use the stack above the caller's part of it.
      state.classValue[c] = this.run(program, 0, program.length, this.depth);
      state.classStamp[c] = this.stamp;
    }
    return state.classValue[c];
  }

  /** The devices the subject being matched lazily holds, as a set when there are many (`heldSet`). */
  private held: Set<string> | undefined = undefined;

  private atomBit(atom: number): number {
    if (this.atomsAt >= 0) return (this.stripeWords[this.atomsAt + (atom >>> 5)] >>> (atom & 31)) & 1;
    if (this.atomBits !== null) return this.atomBits[atom];
    const state = this.state;
    if (state.atomStamp[atom] !== this.stamp) {
      state.atomValue[atom] = matchAtom(state.table, atom, this.subject, this.held);
      state.atomStamp[atom] = this.stamp;
    }
    return state.atomValue[atom];
  }

  /** Where the next nested program's part of the stack begins. */
  private depth = 0;

  /** Runs a postfix program (table.ts `Op`) held in `code[start…end)` against the current request; returns 0 or 1. */
  private run(code: Int32Array, start: number, end: number, base: number): number {
    const stack = this.state.stack;
    const sets = this.state.table.sets;
    const pool = this.state.table.postingPool;
    const e = this.enclave;
    let sp = base;
    let pc = start;
    while (pc < end) {
      switch (code[pc]) {
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
          stack[sp++] = compare(e.isvprodid, code[pc + 1], code[pc + 2]);
          pc += 3;
          break;
        case Op.SVN_CMP:
          stack[sp++] = compare(e.isvsvn, code[pc + 1], code[pc + 2]);
          pc += 3;
          break;
        case Op.PRODID_IN:
          stack[sp++] = e.isvprodid >= code[pc + 1] && e.isvprodid <= code[pc + 2] ? 1 : 0;
          pc += 3;
          break;
        case Op.SVN_IN:
          stack[sp++] = e.isvsvn >= code[pc + 1] && e.isvsvn <= code[pc + 2] ? 1 : 0;
          pc += 3;
          break;
        case Op.ATTR:
          stack[sp++] = (e.attributeBits >>> code[pc + 1]) & 1;
          pc += 2;
          break;
        case Op.SIGNER_IN:
          stack[sp++] = this.signerRecord >= 0 && sets[code[pc + 1]].has(pool[this.signerRecord + MEAS_ID] - 1) ? 1 : 0;
          pc += 2;
          break;
        case Op.ENCLAVE_IN:
          stack[sp++] = this.enclaveRecord >= 0 && sets[code[pc + 1]].has(pool[this.enclaveRecord + MEAS_ID] - 1) ? 1 : 0;
          pc += 2;
          break;
        case Op.ATOM:
          stack[sp++] = this.atomBit(code[pc + 1]);
          pc += 2;
          break;
        case Op.CLASS: {
          const saved = this.depth;
          this.depth = sp;
          const bit = this.classBit(code[pc + 1]);
          this.depth = saved;
          stack[sp++] = bit;
          pc += 2;
          break;
        }
        default:
          // loadTable rejects unknown opcodes; reaching here is a bug, and a bug must not allow.
          throw new Error(`unknown opcode ${code[pc]}`);
      }
    }
    return stack[base];
  }

  /** Computes a handle's atom and class bits for the table of `state`. */
  private matchSubject(handle: SubjectHandle, state: State): void {
    // Until the match is complete the handle is matched for no table, so that a failure part way
    // (an allocation, say) leaves it to be matched again, never read with a stripe given back.
    handle.table = undefined;
    const saved = this.subject;
    this.subject = handle.subject!;
    this.matchEagerly(state);
    this.subject = saved;
    const stripes = state.stripes;
    if (handle.stripes !== stripes) {
      // Forgotten before it is given back, so that no failure below leaves the handle writing
      // into a stripe another handle may be given.
      const old = handle.stripes;
      handle.stripes = undefined;
      old?.release(handle, handle.at);
      handle.at = stripes.take(handle);
      handle.stripes = stripes;
    } else {
      stripes.words.fill(0, handle.at, handle.at + stripes.stride);
    }
    const words = stripes.words;
    const atomBits = this.atomBits!;
    const classBits = this.classBits!;
    for (let i = 0; i < atomBits.length; i++) words[handle.at + (i >>> 5)] |= atomBits[i] << (i & 31);
    const classesAt = handle.at + stripes.classWordsAt;
    for (let i = 0; i < classBits.length; i++) words[classesAt + (i >>> 5)] |= classBits[i] << (i & 31);
    const classWords = stripes.stride - stripes.classWordsAt;
    handle.w0 = classWords > 0 ? words[classesAt] : 0;
    handle.w1 = classWords > 1 ? words[classesAt + 1] : 0;
    handle.w2 = classWords > 2 ? words[classesAt + 2] : 0;
    handle.w3 = classWords > 3 ? words[classesAt + 3] : 0;
    let fold = 1 << 31;
    const classList: number[] = [];
    for (let c = 0; c < classBits.length; c++) {
      if (classBits[c] === 1) {
        fold |= 1 << (c % FILTER_BITS);
        classList.push(c);
      }
    }
    handle.fold = fold;
    handle.classList = Int32Array.from(classList);
    handle.table = state.table;
  }

  /** Matches `this.subject` against every atom, then every class in order; leaves the bits in `atomBits`/`classBits`. */
  private matchEagerly(state: State): void {
    const table = state.table;
    const atoms = new Uint8Array(table.atomCount);
    const held = heldSet(this.subject);
    for (let i = 0; i < atoms.length; i++) atoms[i] = matchAtom(table, i, this.subject, held);
    const classes = new Uint8Array(table.classPrograms.length);
    this.atomBits = atoms;
    this.classBits = classes;
    this.atomsAt = -1;
    this.classesAt = -1;
    this.ownWords = false;
    // Classes come in dependency order, so every CLASS a program reads is already computed.
    for (let i = 0; i < classes.length; i++) classes[i] = this.run(table.classPrograms[i], 0, table.classPrograms[i].length, 0);
  }
}

/** Above this many held devices, `holds` atoms look the device up in a set made once per match. */
const HELD_SET_MIN = 16;

/** The subject's held devices as a set when there are many (a request may list any number), else undefined. */
function heldSet(subject: NormalizedSubject): Set<string> | undefined {
  return subject.holds.length > HELD_SET_MIN ? new Set(subject.holds) : undefined;
}

/** Whether a subject satisfies one subject atom: 0 or 1. `held`: its devices as a set, if made. */
function matchAtom(table: LoadedTable, atom: number, subject: NormalizedSubject, held: Set<string> | undefined): number {
  switch (table.atomKind[atom]) {
    case ATOM_EXE_LITERAL:
      return subject.exe === table.atomText[atom] ? 1 : 0;
    case ATOM_EXE_GLOB:
      return table.atomMatcher[atom]!.matches(subject.exe) ? 1 : 0;
    case ATOM_LABEL:
      return subject.label !== undefined && table.atomMatcher[atom]!.matches(subject.label) ? 1 : 0;
    case ATOM_HOLDS:
      return (held !== undefined ? held.has(table.atomText[atom]!) : subject.holds.includes(table.atomText[atom]!)) ? 1 : 0;
    case ATOM_UID:
      return subject.uid >= table.atomLo[atom] && subject.uid <= table.atomHi[atom] ? 1 : 0;
    case ATOM_GID:
      return subject.gid >= table.atomLo[atom] && subject.gid <= table.atomHi[atom] ? 1 : 0;
    default:
      throw new Error(`unknown atom kind ${table.atomKind[atom]}`);
  }
}

/** A hash of a subject's exe (its length and four of its characters), uid and gid. @internal exported for tests */
export function subjectHash(exe: string, uid: number, gid: number): number {
  const n = exe.length;
  const chars = exe.charCodeAt(n - 1) | (exe.charCodeAt(n - 2) << 8) | (exe.charCodeAt(n >> 1) << 16) | (exe.charCodeAt(n >> 2) << 24);
  let h = Math.imul(chars ^ n, 0x9e3779b1);
  h = Math.imul(h ^ uid ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ gid ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Whether a cached subject has exactly this label and these devices (each element read once). */
function sameRest(cached: NormalizedSubject, label: string | undefined, holds: unknown[] | undefined, holdsCount: number): boolean {
  if (cached.label !== label || cached.holds.length !== holdsCount) return false;
  for (let i = 0; i < holdsCount; i++) if (cached.holds[i] !== holds![i]) return false;
  return true;
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
    // A device or a pipe (/dev/zero, a FIFO) could be read for ever; a table is a file.
    if (!statSync(path).isFile()) throw new Error(`table refused: ${path} is not a regular file`);
    return readFileSync(path);
  } catch (e) {
    if (e instanceof Error && e.message.startsWith('table refused')) throw e;
    throw new Error(`table refused: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
