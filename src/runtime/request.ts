// Request validation and normalization (SPEC 2). Hand-written checks: this is the hot path.
//
// Rules beyond the letter of SPEC 2 (where it is silent):
// - Only own enumerable string keys count (never inherited ones), so a polluted prototype can
//   neither add a field nor hide one; an own `__proto__` or `constructor` key is an unknown field.
// - A field whose value is `undefined` (possible from JS callers, not from JSON) counts as absent.
// - `exe` must be an absolute canonical path: starts with `/`, no empty, `.` or `..` segment, no
//   trailing `/`, no NUL, at most 4096 characters. The root `/` is refused (it ends with `/`,
//   and it is a directory, never an executable).
// - Every `holds` entry must be a path in the same canonical form. `holds` is compared by exact
//   string, so a non-canonical spelling (`/dev//kvm`) could silently slip past a `deny … where
//   holds "/dev/kvm"` rule; refusing it makes the request invalid, which is a deny.
// - `label` is any string of at most 4096 characters (the empty string included).
// - Numbers must be JS numbers that are integers in range (`-0` is read as 0); numeric strings,
//   NaN, infinities and fractions are invalid.
// - `attributes` as a string: `0x` (lower-case x) and 1–16 hex digits in any case.
// - `sigstruct`: standard base64 (RFC 4648 alphabet `A–Z a–z 0–9 + /`), `=` padding optional,
//   no whitespace, at most 4096 characters, decoding to exactly 1808 bytes.
// - When several things are wrong, the reason names the first found, in this order: the request
//   object and its field names, `action`, `via`, presence of `subject` and `enclave`, then the
//   subject's fields, then the enclave's.
import { parseSigstruct, SIGSTRUCT_SIZE } from './sigstruct.js';
import { characterCount, clipCharacters, codePointLength, longerThan } from './text.js';
import {
  ATTRIBUTE_BITS,
  type NormalizedEnclave,
  type NormalizedSubject,
  type RequestCheck,
} from './types.js';

/** SPEC 10: no string in a request may be longer than this. */
export const MAX_REQUEST_STRING = 4096;
const MAX_UINT32 = 4294967295;
const MAX_UINT16 = 65535;

export type SubjectCheck<S = NormalizedSubject> =
  | { ok: true; subject: S }
  | { ok: false; reason: string };

export type EnclaveCheck = { ok: true; enclave: NormalizedEnclave } | { ok: false; reason: string };

/** A validated request whose subject is whatever the subject validator gives (see below). */
export interface RequestWithSubject<S> {
  subject: S;
  action: 'einit';
  via: 'host' | 'kvm';
  enclave: NormalizedEnclave;
}

export type RequestCheckWithSubject<S> =
  | { ok: true; request: RequestWithSubject<S> }
  | { ok: false; reason: string };

type Invalid = { ok: false; reason: string };

const hasOwn = Object.prototype.hasOwnProperty;

function invalid(reason: string): Invalid {
  return { ok: false, reason };
}

/** Validates a whole request (SPEC 2). Never throws. */
export function normalizeRequest(raw: unknown): RequestCheck {
  return normalizeRequestWithSubject(raw, normalizeSubject);
}

/**
 * Validates a request, handing its `subject` value to `checkSubject` instead of
 * `normalizeSubject`. The evaluator uses this to accept a resolved-subject handle in place of a
 * subject object. Everything else (field set, `action`, `via`, `enclave`) is checked here.
 * Never throws, even if `checkSubject` does.
 */
export function normalizeRequestWithSubject<S>(
  raw: unknown,
  checkSubject: (rawSubject: unknown) => SubjectCheck<S>,
): RequestCheckWithSubject<S> {
  try {
    return requestOf(raw, checkSubject);
  } catch (error) {
    return invalid(`request could not be read (${messageOf(error)})`);
  }
}

function requestOf<S>(
  raw: unknown,
  checkSubject: (rawSubject: unknown) => SubjectCheck<S>,
): RequestCheckWithSubject<S> {
  const envelope = checkRequestEnvelope(raw);
  if (!envelope.ok) return envelope;
  const subject = checkSubject(envelope.subject);
  if (!subject.ok) return subject;
  const enclave = normalizeEnclave(envelope.enclave);
  if (!enclave.ok) return enclave;
  return {
    ok: true,
    request: { subject: subject.subject, action: 'einit', via: envelope.via, enclave: enclave.enclave },
  };
}

/** The top level of a request, checked, with its `subject` and `enclave` values unchecked. */
export type EnvelopeCheck =
  | { ok: true; via: 'host' | 'kvm'; subject: unknown; enclave: unknown }
  | { ok: false; reason: string };

/** Where `readEnvelope` puts what it read. */
export interface EnvelopeSink {
  via: 'host' | 'kvm';
  subject: unknown;
  enclave: unknown;
}

/**
 * Checks the top level of a request only: an object whose own fields are among `subject`,
 * `enclave`, `action`, `via`; `subject` and `enclave` present; `action` and `via` valid. Each
 * field is read once; the `subject` and `enclave` values are handed back for the caller to check
 * (with `normalizeSubject` or a handle, and `normalizeEnclave`). Never throws.
 */
export function checkRequestEnvelope(raw: unknown): EnvelopeCheck {
  const out: EnvelopeSink = { via: 'host', subject: undefined, enclave: undefined };
  const reason = readEnvelope(raw, out);
  return reason === undefined ? { ok: true, via: out.via, subject: out.subject, enclave: out.enclave } : invalid(reason);
}

/** `checkRequestEnvelope` without allocating: fills `out` and returns undefined, or returns why the request is invalid. Never throws. */
export function readEnvelope(raw: unknown, out: EnvelopeSink): string | undefined {
  try {
    return envelopeInto(raw, out);
  } catch (error) {
    return `request could not be read (${messageOf(error)})`;
  }
}

function envelopeInto(raw: unknown, out: EnvelopeSink): string | undefined {
  if (!isRecord(raw)) return `request must be an object (found ${describe(raw)})`;
  let subject: unknown;
  let enclave: unknown;
  let action: unknown;
  let viaRaw: unknown;
  for (const key in raw) {
    if (!hasOwn.call(raw, key)) continue;
    switch (key) {
      case 'subject':
        subject = raw[key];
        break;
      case 'enclave':
        enclave = raw[key];
        break;
      case 'action':
        action = raw[key];
        break;
      case 'via':
        viaRaw = raw[key];
        break;
      default:
        return `request has an unknown field ${quote(key)}`;
    }
  }
  if (action !== undefined && action !== 'einit') {
    return `action must be "einit" (found ${describe(action)})`;
  }
  let via: 'host' | 'kvm' = 'host';
  if (viaRaw === 'kvm') via = 'kvm';
  else if (viaRaw !== undefined && viaRaw !== 'host') {
    return `via must be "host" or "kvm" (found ${describe(viaRaw)})`;
  }
  if (subject === undefined) return 'subject is missing';
  if (enclave === undefined) return 'enclave is missing';
  out.via = via;
  out.subject = subject;
  out.enclave = enclave;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Subject

/** Validates the `subject` part of a request (SPEC 2). Never throws. */
export function normalizeSubject(raw: unknown): SubjectCheck {
  const out: NormalizedSubject = { exe: '', uid: 0, gid: 0, label: undefined, holds: [] };
  const reason = readSubject(raw, out);
  return reason === undefined ? { ok: true, subject: out } : invalid(reason);
}

/**
 * `normalizeSubject` into a caller's object: fills `out` (reusing `out.holds`) and returns
 * undefined, or returns why the subject is invalid (then `out` holds nothing meaningful).
 * Never throws. (The evaluator's hot path uses `readSubjectFields` and `validateSubjectFields`
 * with fields of its own, so that a cached subject skips validation.)
 */
export function readSubject(raw: unknown, out: NormalizedSubject): string | undefined {
  try {
    return subjectInto(raw, out);
  } catch (error) {
    return `subject could not be read (${messageOf(error)})`;
  }
}

function subjectInto(raw: unknown, out: NormalizedSubject): string | undefined {
  const fields: SubjectFields = { exe: undefined, uid: undefined, gid: undefined, label: undefined, holds: undefined };
  return fieldsInto(raw, fields) ?? validFieldsInto(fields, out);
}

/** A subject's own fields as read from the request, once, before they are validated. */
export interface SubjectFields {
  exe: unknown;
  uid: unknown;
  gid: unknown;
  label: unknown;
  holds: unknown;
}

/**
 * The first half of `readSubject`: reads each own field of a subject object once into `out`
 * (absent ones as undefined) and returns why the subject is invalid if it is not an object or
 * has an unknown field. Nothing is validated yet. Never throws.
 */
export function readSubjectFields(raw: unknown, out: SubjectFields): string | undefined {
  try {
    return fieldsInto(raw, out);
  } catch (error) {
    return `subject could not be read (${messageOf(error)})`;
  }
}

/** The second half of `readSubject`: validates fields read by `readSubjectFields` into `out`. Never throws. */
export function validateSubjectFields(fields: SubjectFields, out: NormalizedSubject): string | undefined {
  try {
    return validFieldsInto(fields, out);
  } catch (error) {
    return `subject could not be read (${messageOf(error)})`;
  }
}

function fieldsInto(raw: unknown, out: SubjectFields): string | undefined {
  if (!isRecord(raw)) return `subject must be an object (found ${describe(raw)})`;
  let exe: unknown;
  let uid: unknown;
  let gid: unknown;
  let label: unknown;
  let holds: unknown;
  for (const key in raw) {
    if (!hasOwn.call(raw, key)) continue;
    switch (key) {
      case 'exe':
        exe = raw[key];
        break;
      case 'uid':
        uid = raw[key];
        break;
      case 'gid':
        gid = raw[key];
        break;
      case 'label':
        label = raw[key];
        break;
      case 'holds':
        holds = raw[key];
        break;
      default:
        return `subject has an unknown field ${quote(key)}`;
    }
  }
  out.exe = exe;
  out.uid = uid;
  out.gid = gid;
  out.label = label;
  out.holds = holds;
  return undefined;
}

function validFieldsInto(fields: SubjectFields, out: NormalizedSubject): string | undefined {
  const { exe, uid, gid, label, holds: holdsRaw } = fields;
  const exeProblem = pathFieldProblem('subject.exe', exe);
  if (exeProblem !== undefined) return exeProblem;
  if (!isUint(uid, MAX_UINT32)) return intReason('subject.uid', uid, MAX_UINT32);
  if (!isUint(gid, MAX_UINT32)) return intReason('subject.gid', gid, MAX_UINT32);
  if (label !== undefined) {
    if (typeof label !== 'string') {
      return `subject.label must be a string (found ${describe(label)})`;
    }
    if (longerThan(label, MAX_REQUEST_STRING)) {
      return `subject.label is longer than ${MAX_REQUEST_STRING} characters (${characterCount(label)})`;
    }
  }

  const holds = out.holds;
  holds.length = 0;
  if (holdsRaw !== undefined) {
    if (!Array.isArray(holdsRaw)) {
      return `subject.holds must be an array of paths (found ${describe(holdsRaw)})`;
    }
    const count = holdsRaw.length;
    for (let i = 0; i < count; i++) {
      const path: unknown = holdsRaw[i]; // read once: what is checked is what is kept
      const problem = pathFieldProblem(`subject.holds[${i}]`, path);
      if (problem !== undefined) return problem;
      holds.push(path as string);
    }
  }

  out.exe = exe as string;
  out.uid = (uid as number) + 0; // -0 → 0
  out.gid = (gid as number) + 0;
  out.label = label as string | undefined;
  return undefined;
}

const SLASH = 0x2f;
const DOT = 0x2e;

/** Why `value` is not an acceptable absolute canonical path, or undefined when it is. */
function pathFieldProblem(field: string, value: unknown): string | undefined {
  if (value === undefined) return `${field} is missing`;
  if (typeof value !== 'string') return `${field} must be a string (found ${describe(value)})`;
  if (longerThan(value, MAX_REQUEST_STRING)) {
    return `${field} is longer than ${MAX_REQUEST_STRING} characters (${characterCount(value)})`;
  }
  const flaw = canonicalPathFlaw(value);
  if (flaw === undefined) return undefined;
  return `${field} must be an absolute canonical path (found ${describe(value)}, which ${flaw})`;
}

/** One linear scan: what keeps `path` from being absolute and canonical, or undefined. */
export function canonicalPathFlaw(path: string): string | undefined {
  const n = path.length;
  if (n === 0 || path.charCodeAt(0) !== SLASH) return 'does not start with "/"';
  let segmentStart = 1;
  for (let i = 1; i <= n; i++) {
    const c = i < n ? path.charCodeAt(i) : SLASH; // a virtual "/" ends the last segment
    if (c === 0) return 'contains a NUL character';
    if (c !== SLASH) continue;
    const length = i - segmentStart;
    if (length === 0) return i === n ? 'ends with "/"' : 'has an empty segment ("//")';
    if (path.charCodeAt(segmentStart) === DOT) {
      if (length === 1) return 'has a "." segment';
      if (length === 2 && path.charCodeAt(segmentStart + 1) === DOT) return 'has a ".." segment';
    }
    segmentStart = i + 1;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Enclave

/**
 * The bit of an attribute name (ATTRIBUTE_BITS), or -1. A switch rather than a map look-up:
 * this runs for every named attribute of every request (a test keeps it equal to ATTRIBUTE_BITS).
 */
export function attributeBit(name: string): number {
  switch (name) {
    case 'mode64bit':
      return ATTRIBUTE_BITS.mode64bit;
    case 'debug':
      return ATTRIBUTE_BITS.debug;
    case 'init':
      return ATTRIBUTE_BITS.init;
    case 'provisionkey':
      return ATTRIBUTE_BITS.provisionkey;
    case 'einittokenkey':
      return ATTRIBUTE_BITS.einittokenkey;
    case 'cet':
      return ATTRIBUTE_BITS.cet;
    case 'kss':
      return ATTRIBUTE_BITS.kss;
    case 'aexnotify':
      return ATTRIBUTE_BITS.aexnotify;
    default:
      return -1;
  }
}
const ATTRIBUTE_NAMES = Object.keys(ATTRIBUTE_BITS).join(', ');

/**
 * Validates the `enclave` part of a request (SPEC 2): either the identity fields or a
 * `sigstruct` (SPEC 9). Never throws. SIGSTRUCT outcomes are cached (see below).
 */
export function normalizeEnclave(raw: unknown): EnclaveCheck {
  const out: NormalizedEnclave = { mrenclave: '', mrsigner: '', isvprodid: 0, isvsvn: 0, attributeBits: 0, attributesHex: '' };
  const reason = readEnclave(raw, out);
  return reason === undefined ? { ok: true, enclave: out } : invalid(reason);
}

/**
 * Finds a string among measurements known to be valid lower-case hex (a table's), exactly or
 * (with `anyCase`) but for the case of its letters:
 * a non-negative number that identifies it to the caller (the evaluator uses its hash slot),
 * or -1. It must accept any string, valid or not. With `anyCase`, the string is known to be
 * 64 hex digits, some of them upper-case, and is matched ignoring case.
 */
export type MeasurementLookup = (text: string, anyCase?: boolean) => number;

/** What `readEnclave` fills when given a lookup: the enclave, and the lookup's answers for its two measurements. */
export interface EnclaveSink extends NormalizedEnclave {
  signerIndex: number;
  enclaveIndex: number;
}

/**
 * `normalizeEnclave` into a caller's object: fills `out` and returns undefined, or returns why
 * the enclave is invalid. Never throws. (The evaluator reads an enclave in two halves,
 * `readEnclaveFields` and `validateEnclaveFields`, with a lookup into its table: a measurement
 * the lookup knows needs no further validation, each measurement is kept as written, in
 * whatever case, and `attributesHex` is not filled.)
 */
export function readEnclave(raw: unknown, out: NormalizedEnclave): string | undefined {
  try {
    return enclaveInto(raw, out, undefined);
  } catch (error) {
    return `enclave could not be read (${messageOf(error)})`;
  }
}

function enclaveInto(raw: unknown, out: NormalizedEnclave | EnclaveSink, lookup: MeasurementLookup | undefined): string | undefined {
  const fields: EnclaveFields = { mrenclave: undefined, mrsigner: undefined, isvprodid: undefined, isvsvn: undefined, attributes: undefined, bits: -1 };
  const read = enclaveFieldsInto(raw, fields, out, lookup);
  return read === null ? undefined : (read ?? validEnclaveInto(fields, out, lookup));
}

/** An enclave's identity fields as read from the request, once, before they are validated. */
export interface EnclaveFields {
  mrenclave: unknown;
  mrsigner: unknown;
  isvprodid: unknown;
  isvsvn: unknown;
  attributes: unknown;
  /**
   * The low 32 bits of the attributes flags (unsigned), or -1 when `attributes` is invalid: an
   * array's names are read here, and the decision uses what was read (invalid ones are read
   * again, only to say what is wrong with them).
   */
  bits: number;
}

/**
 * The first half of reading an enclave with a lookup (`readEnclave` reads one without): reads
 * each own field of an enclave object once into `fields` and returns why the enclave is invalid
 * if it is not an object, has an unknown field, or mixes `sigstruct` with the identity fields.
 * A `sigstruct` is read whole, into `out`, and null returned; otherwise undefined, and nothing
 * is validated yet (the second half is `validateEnclaveFields`). Never throws.
 */
export function readEnclaveFields(raw: unknown, fields: EnclaveFields, out: EnclaveSink, lookup: MeasurementLookup): string | undefined | null {
  try {
    return enclaveFieldsInto(raw, fields, out, lookup);
  } catch (error) {
    return `enclave could not be read (${messageOf(error)})`;
  }
}

/** The second half of reading an enclave with a lookup: validates fields read by `readEnclaveFields` into `out`. Never throws. */
export function validateEnclaveFields(fields: EnclaveFields, out: EnclaveSink, lookup: MeasurementLookup): string | undefined {
  try {
    return validEnclaveInto(fields, out, lookup);
  } catch (error) {
    return `enclave could not be read (${messageOf(error)})`;
  }
}

/**
 * For fields read by `readEnclaveFields`: the low 32 bits of the attributes (unsigned) when
 * every field is valid as far as can be told without reading the measurements' digits — both
 * measurements strings of 64 characters, both numbers 16-bit, the attributes valid — and -1
 * otherwise. (The evaluator's decision cache keys on these; it only ever holds measurements
 * that were validated, so equality with one of them validates the digits.)
 */
export function enclaveKeyBits(fields: EnclaveFields): number {
  const { mrenclave, mrsigner } = fields;
  if (typeof mrenclave !== 'string' || mrenclave.length !== 64 || typeof mrsigner !== 'string' || mrsigner.length !== 64) return -1;
  if (!isUint(fields.isvprodid, MAX_UINT16) || !isUint(fields.isvsvn, MAX_UINT16)) return -1;
  return fields.bits;
}

/** Why attributes whose `attributesLowBits` is -1 are invalid. */
function attributesReason(attributes: unknown): string {
  if (Array.isArray(attributes)) {
    for (let i = 0; i < attributes.length; i++) {
      const name: unknown = attributes[i];
      if (typeof name !== 'string' || attributeBit(name) < 0) {
        return `enclave.attributes[${i}] must be one of ${ATTRIBUTE_NAMES} (found ${describe(name)})`;
      }
    }
    // Only an array whose elements are getters (or a proxy) can get here.
    return 'enclave.attributes changed while it was being read';
  }
  return 'enclave.attributes must be an array of attribute names or "0x" and 1 to 16 hex digits ' + `(found ${describe(attributes)})`;
}

/** The low 32 bits (unsigned) of attributes as a request gives them (SPEC 2), or -1 when they are invalid. */
function attributesLowBits(attributes: unknown): number {
  if (attributes === undefined) return 0;
  if (!Array.isArray(attributes)) return attributeLowBits(attributes);
  let bits = 0;
  const count = attributes.length;
  for (let i = 0; i < count; i++) {
    const name: unknown = attributes[i];
    const bit = typeof name === 'string' ? attributeBit(name) : -1;
    if (bit < 0) return -1;
    bits |= 1 << bit;
  }
  return bits >>> 0;
}

function enclaveFieldsInto(raw: unknown, fields: EnclaveFields, out: NormalizedEnclave | EnclaveSink, lookup: MeasurementLookup | undefined): string | undefined | null {
  if (!isRecord(raw)) return `enclave must be an object (found ${describe(raw)})`;
  let mrenclaveRaw: unknown;
  let mrsignerRaw: unknown;
  let isvprodid: unknown;
  let isvsvn: unknown;
  let attributes: unknown;
  let sigstruct: unknown;
  let identityFields = 0;
  for (const key in raw) {
    if (!hasOwn.call(raw, key)) continue;
    const value = raw[key];
    switch (key) {
      case 'mrenclave':
        mrenclaveRaw = value;
        break;
      case 'mrsigner':
        mrsignerRaw = value;
        break;
      case 'isvprodid':
        isvprodid = value;
        break;
      case 'isvsvn':
        isvsvn = value;
        break;
      case 'attributes':
        attributes = value;
        break;
      case 'sigstruct':
        sigstruct = value;
        continue;
      default:
        return `enclave has an unknown field ${quote(key)}`;
    }
    if (value !== undefined) identityFields++;
  }

  if (sigstruct !== undefined) {
    if (identityFields > 0) {
      return 'enclave must give either sigstruct or the identity fields, not both';
    }
    const outcome = sigstructEnclave(sigstruct);
    if (!outcome.ok) return outcome.reason;
    Object.assign(out, outcome.enclave);
    if (lookup !== undefined) {
      (out as EnclaveSink).signerIndex = lookup(out.mrsigner);
      (out as EnclaveSink).enclaveIndex = lookup(out.mrenclave);
    }
    return null;
  }
  fields.mrenclave = mrenclaveRaw;
  fields.mrsigner = mrsignerRaw;
  fields.isvprodid = isvprodid;
  fields.isvsvn = isvsvn;
  fields.attributes = attributes;
  fields.bits = attributesLowBits(attributes);
  return undefined;
}

function validEnclaveInto(fields: EnclaveFields, out: NormalizedEnclave | EnclaveSink, lookup: MeasurementLookup | undefined): string | undefined {
  const { mrenclave: mrenclaveRaw, mrsigner: mrsignerRaw, isvprodid, isvsvn, attributes } = fields;

  const mrenclave = measurementOf(mrenclaveRaw, lookup);
  if (mrenclave === undefined) return measurementReason('enclave.mrenclave', mrenclaveRaw);
  const enclaveIndex = foundIndex;
  const mrsigner = measurementOf(mrsignerRaw, lookup);
  if (mrsigner === undefined) return measurementReason('enclave.mrsigner', mrsignerRaw);
  if (lookup !== undefined) {
    (out as EnclaveSink).signerIndex = foundIndex;
    (out as EnclaveSink).enclaveIndex = enclaveIndex;
  }
  if (!isUint(isvprodid, MAX_UINT16)) return intReason('enclave.isvprodid', isvprodid, MAX_UINT16);
  if (!isUint(isvsvn, MAX_UINT16)) return intReason('enclave.isvsvn', isvsvn, MAX_UINT16);

  // The bits were read with the fields; invalid attributes are read again to say what is wrong.
  const attributeBits = fields.bits;
  if (attributeBits < 0) return attributesReason(attributes);
  let attributesHex: string;
  if (attributes === undefined) {
    attributesHex = '0000000000000000';
  } else if (Array.isArray(attributes)) {
    attributesHex = flagsHex(attributeBits);
  } else {
    // With a lookup, only the bits are wanted: no string is made.
    attributesHex = lookup === undefined ? attributeFlagsOf(attributes) ?? '' : '';
  }

  out.mrenclave = mrenclave;
  out.mrsigner = mrsigner;
  out.isvprodid = (isvprodid as number) + 0;
  out.isvsvn = (isvsvn as number) + 0;
  out.attributeBits = attributeBits;
  out.attributesHex = attributesHex;
  return undefined;
}

// Named attributes live in bits 0..10, so their combinations have at most 2048 hex spellings;
// remember them instead of formatting one per request.
const NAMED_FLAGS_HEX: string[] = [];

function flagsHex(bits: number): string {
  if (bits < 2048) {
    return (NAMED_FLAGS_HEX[bits] ??= bits.toString(16).padStart(16, '0'));
  }
  return bits.toString(16).padStart(16, '0');
}

// 1: a lower-case hex digit, 2: an upper-case one, 0: anything else (indexed by char code < 128).
const HEX_CLASS = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) HEX_CLASS[c] = 1;
for (let c = 0x61; c <= 0x66; c++) HEX_CLASS[c] = 1;
for (let c = 0x41; c <= 0x46; c++) HEX_CLASS[c] = 2;

const VALIDATED_SLOTS = 4096;
/** Lower-case measurements validated recently, by slot (see `measurementOf`). */
const VALIDATED: (string | undefined)[] = new Array(VALIDATED_SLOTS).fill(undefined);

/** A cache slot from the first three characters (any characters: the string is not validated yet). */
function validSlot(value: string): number {
  return ((value.charCodeAt(0) * 31 + value.charCodeAt(1)) * 31 + value.charCodeAt(2)) & (VALIDATED_SLOTS - 1);
}

/** The lookup index of the last measurement `measurementOf` read (-1: unknown, or no lookup). */
let foundIndex = -1;

/**
 * 64 hex digits in any case → lower case (with a lookup: as written, and the lookup's answer in
 * `foundIndex`); anything else → undefined. A string the lookup knows is valid already; any
 * other is checked with a plain loop (this runs twice per decision).
 */
function measurementOf(value: unknown, lookup: MeasurementLookup | undefined): string | undefined {
  foundIndex = -1;
  if (typeof value !== 'string' || value.length !== 64) return undefined;
  if (lookup !== undefined) {
    foundIndex = lookup(value);
    if (foundIndex >= 0) return value;
  }
  // Measurements recur (the same enclaves are launched again and again): one validated before
  // is remembered in a small direct-mapped cache, slot chosen by its leading digits. A hit
  // needs the same string exactly, so only strings that passed the loop below can hit.
  const slot = validSlot(value);
  if (VALIDATED[slot] === value) return value;
  let seen = 0;
  for (let i = 0; i < 64; i++) {
    const c = value.charCodeAt(i);
    const kind = c < 128 ? HEX_CLASS[c] : 0;
    if (kind === 0) return undefined;
    seen |= kind;
  }
  if (seen === 1) {
    VALIDATED[slot] = value;
    return value;
  }
  // Upper-case digits: looked up ignoring case (no lower-case copy made), or lower-cased.
  if (lookup !== undefined) {
    foundIndex = lookup(value, true);
    return value;
  }
  return value.toLowerCase();
}

function measurementReason(field: string, value: unknown): string {
  if (value === undefined) return `${field} is missing`;
  if (typeof value === 'string' && value.length !== 64) {
    return `${field} must be 64 hex digits (found ${characterCount(value)} characters)`;
  }
  return `${field} must be 64 hex digits (found ${describe(value)})`;
}

/**
 * `attributeFlagsOf`'s low 32 bits, without making a string: the value of the last 8 (or fewer)
 * of `0x` + 1–16 hex digits, or -1 for anything else.
 */
function attributeLowBits(value: unknown): number {
  if (!isAttributeFlags(value)) return -1;
  let bits = 0;
  for (let i = Math.max(2, value.length - 8); i < value.length; i++) {
    const c = value.charCodeAt(i);
    bits = ((bits << 4) | ((c & 15) + 9 * ((c >> 6) & 1))) >>> 0;
  }
  return bits;
}

/** `0x` + 1–16 hex digits → 16 lower-case hex digits; anything else → undefined. */
function attributeFlagsOf(value: unknown): string | undefined {
  return isAttributeFlags(value) ? value.slice(2).toLowerCase().padStart(16, '0') : undefined;
}

/** Whether `value` is `0x` and 1–16 hex digits of either case (SPEC 2's attribute flags). */
function isAttributeFlags(value: unknown): value is string {
  if (typeof value !== 'string' || value.length < 3 || value.length > 18) return false;
  if (value.charCodeAt(0) !== 0x30 || value.charCodeAt(1) !== 0x78) return false;
  for (let i = 2; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 128 || HEX_CLASS[c] === 0) return false;
  }
  return true;
}

// SIGSTRUCT outcomes (valid or not), keyed by the base64 text, so a SIGSTRUCT seen before costs
// a lookup instead of an RSA verify. Bounded; the oldest entry goes first. Cached outcomes are
// frozen and shared between requests.
export const SIGSTRUCT_CACHE_LIMIT = 1024;
const sigstructCache = new Map<string, EnclaveCheck>();

/** Empties the SIGSTRUCT cache (for tests and for hosts that want to drop the memory). */
export function clearSigstructCache(): void {
  sigstructCache.clear();
}

/** How many SIGSTRUCT outcomes are cached now. */
export function sigstructCacheSize(): number {
  return sigstructCache.size;
}

function sigstructEnclave(value: unknown): EnclaveCheck {
  if (typeof value !== 'string') {
    return invalid(`enclave.sigstruct must be a base64 string (found ${describe(value)})`);
  }
  if (longerThan(value, MAX_REQUEST_STRING)) {
    return invalid(
      `enclave.sigstruct is longer than ${MAX_REQUEST_STRING} characters (${characterCount(value)}); ` +
        'a SIGSTRUCT is 2412 in base64',
    );
  }
  const cached = sigstructCache.get(value);
  if (cached !== undefined) return cached;
  const outcome = deepFreeze(sigstructOutcome(value));
  if (sigstructCache.size >= SIGSTRUCT_CACHE_LIMIT) {
    const oldest = sigstructCache.keys().next();
    if (oldest.done !== true) sigstructCache.delete(oldest.value);
  }
  sigstructCache.set(value, outcome);
  return outcome;
}

function sigstructOutcome(text: string): EnclaveCheck {
  const flaw = base64Flaw(text);
  if (flaw !== undefined) return invalid(`enclave.sigstruct must be base64 (found ${flaw})`);
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== SIGSTRUCT_SIZE) {
    return invalid(
      `enclave.sigstruct must be a ${SIGSTRUCT_SIZE}-byte SIGSTRUCT (found ${bytes.length} bytes)`,
    );
  }
  const info = parseSigstruct(bytes);
  if (!info.ok) return invalid(`enclave.sigstruct is not a valid SIGSTRUCT: ${info.problems.join('; ')}`);
  return {
    ok: true,
    enclave: {
      mrenclave: info.mrenclave,
      mrsigner: info.mrsigner,
      isvprodid: info.isvprodid,
      isvsvn: info.isvsvn,
      attributeBits: Number.parseInt(info.attributes.flags.slice(8), 16) >>> 0,
      attributesHex: info.attributes.flags,
    },
  };
}

function isBase64Digit(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2b ||
    c === 0x2f
  );
}

/** Why `text` is not strict standard base64 (optional padding), or undefined. */
function base64Flaw(text: string): string | undefined {
  let end = text.length;
  let padding = 0;
  while (end > 0 && padding < 2 && text.charCodeAt(end - 1) === 0x3d) {
    end--;
    padding++;
  }
  for (let i = 0; i < end; i++) {
    if (!isBase64Digit(text.charCodeAt(i))) {
      const character = String.fromCodePoint(text.codePointAt(i)!);
      return `${describe(character)} at character ${codePointLength(text.slice(0, i))}`;
    }
  }
  if (end % 4 === 1) return `a length of ${text.length} characters, which no byte string has`;
  if (padding > 0 && text.length % 4 !== 0) return 'misplaced "=" padding';
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isUint(value: unknown, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max;
}

function intReason(field: string, value: unknown, max: number): string {
  if (value === undefined) return `${field} is missing`;
  return `${field} must be an integer from 0 to ${max} (found ${describe(value)})`;
}

const SHOWN_STRING = 80;

/** A short description of a value for a reason; never huge, never throws for plain values. */
function describe(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value.length > SHOWN_STRING
        ? `${JSON.stringify(clipCharacters(value, SHOWN_STRING))}… (${characterCount(value)} characters)`
        : JSON.stringify(value);
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'boolean':
      return String(value);
    case 'undefined':
      return 'nothing';
    case 'bigint':
      return 'a bigint';
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    default:
      if (value === null) return 'null';
      return Array.isArray(value) ? 'an array' : 'an object';
  }
}

function quote(key: string): string {
  return describe(key);
}

function messageOf(error: unknown): string {
  try {
    const text = error instanceof Error ? error.message : String(error);
    return text.length > SHOWN_STRING ? `${text.slice(0, SHOWN_STRING)}…` : text;
  } catch {
    return 'unknown error';
  }
}

function deepFreeze<T extends EnclaveCheck>(outcome: T): T {
  if (outcome.ok) Object.freeze(outcome.enclave);
  return Object.freeze(outcome);
}
