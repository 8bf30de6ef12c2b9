// fast-check arbitraries for the differential and fuzz tests: random *valid* policies as
// source text (SPEC 3), and random requests (SPEC 2) biased toward the values a policy uses.
//
// A policy is first generated as a small model (sets, subject classes, rules…) so that
// fast-check can shrink it, then rendered to text. Layout choices that do not change the
// meaning (whitespace, comments, letter case of literals, decimal or hex numbers, string
// escapes, extra parentheses) come from a seeded PRNG during rendering. The renderer also
// records what the resolver must produce (expanded sets, rule ids in program order), and
// the values a request generator should aim at.
import fc from 'fast-check';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';

// ---- the model -------------------------------------------------------------------------

type MeasKind = 'signer' | 'enclave';

interface SetModel {
  kind: MeasKind;
  name: string;
  items: ({ kind: 'literal'; index: number } | { kind: 'ref'; name: string })[];
}

type SubjPredModel =
  | { kind: 'exe' | 'label'; glob: string }
  | { kind: 'holds'; path: string }
  | { kind: 'uid' | 'gid'; lo: number; hi: number; range: boolean };

/** A boolean expression; `A` is the atom type. */
type BoolModel<A> =
  | { op: 'or' | 'and'; operands: BoolModel<A>[] }
  | { op: 'not'; operand: BoolModel<A> }
  | { op: 'atom'; atom: A };

type SubjAtomModel = { kind: 'pred'; pred: SubjPredModel } | { kind: 'ref'; name: string };

interface ObjectModel {
  kind: MeasKind;
  target: { kind: 'ref'; name: string } | { kind: 'literal'; index: number };
}

type CmpOp = '==' | '!=' | '<' | '<=' | '>' | '>=';
const CMP_OPS: readonly CmpOp[] = ['==', '!=', '<', '<=', '>', '>='];
const COND_ATTRIBUTES = ['debug', 'mode64bit', 'provisionkey', 'einittokenkey', 'kss', 'aexnotify', 'cet'] as const;
/** Every attribute name a request may carry (SPEC 2), `init` included. */
export const REQUEST_ATTRIBUTES = ['init', 'debug', 'mode64bit', 'provisionkey', 'einittokenkey', 'cet', 'kss', 'aexnotify'] as const;

type CondAtomModel =
  | { kind: 'cmp'; field: 'isvprodid' | 'isvsvn'; op: CmpOp; value: number }
  | { kind: 'in'; field: 'isvprodid' | 'isvsvn'; lo: number; hi: number }
  | { kind: 'attr'; name: (typeof COND_ATTRIBUTES)[number] }
  | { kind: 'object'; object: ObjectModel }
  | { kind: 'subjpred'; pred: SubjPredModel }
  | { kind: 'subject'; name: string }
  | { kind: 'const'; value: boolean };

interface PatternModel {
  subjects: { kind: 'any' } | { kind: 'list'; names: string[]; braced: boolean };
  via: 'host' | 'kvm' | 'any' | undefined;
  objects: { kind: 'any' } | { kind: 'list'; items: ObjectModel[]; braced: boolean };
  where: BoolModel<CondAtomModel> | undefined;
}

interface RuleModel extends PatternModel {
  kind: 'rule';
  effect: 'allow' | 'deny';
  audit: boolean;
  because: string | undefined;
}

interface NeverallowModel extends PatternModel {
  kind: 'neverallow';
}

interface PolicyModel {
  measurements: string[];
  sets: SetModel[];
  subjects: { name: string; expr: BoolModel<SubjAtomModel> }[];
  rules: RuleModel[];
  neverallows: NeverallowModel[];
  defaultDecl: { effect: 'allow' | 'deny'; audit: boolean } | undefined;
  policyDecl: { name: string; version: number } | undefined;
  /** How many files the statements are spread over (1: a single root file). */
  fileCount: number;
  /** Per statement (in the order sets, subjects, rules, neverallows), the file it goes in. */
  placement: number[];
  /** Imports between files: [importer, imported], importer < imported. */
  imports: [number, number][];
  layoutSeed: number;
}

// ---- what a test gets ------------------------------------------------------------------

export interface PolicyFile {
  /** Relative to the root file's folder, `/`-separated; the root file is `policy.sgxpol`. */
  path: string;
  text: string;
}

export interface PolicyInfo {
  /** The root file first, then the files it imports (only the root when single-file). */
  files: PolicyFile[];
  /** The root file's text. */
  source: string;
  /** Every measurement literal the policy uses, lower-case. */
  measurements: string[];
  /** What each named set must expand to: lower-case, sorted, unique. */
  expectedSets: { signer: Record<string, string[]>; enclave: Record<string, string[]> };
  /** The `policy` statement's name and version, or null without one. */
  expectedPolicy: { name: string; version: number } | null;
  /** Rule ids in program order (SPEC 4). */
  expectedRuleIds: string[];
  /** Rule `because` texts by rule id, as the decision's reason must carry them. */
  becauseById: Record<string, string>;
  /** Request values to aim at. */
  exePaths: string[];
  labels: string[];
  uids: number[];
  gids: number[];
  devices: string[];
  isvNumbers: number[];
  hasNeverallow: boolean;
}

export const ROOT_FILE = 'policy.sgxpol';
const IMPORTED_FILES = ['lib/common.sgxpol', 'extra.sgxpol', 'lib/deep/more.sgxpol'];

export const STANDARD_DEVICES = ['/dev/kvm', '/dev/sgx_provision', '/dev/sgx_vepc', '/dev/sgx_enclave', '/dev/null'];
const MAX_ID = 4294967295;
const MAX_ISV = 65535;

// ---- small arbitraries ----------------------------------------------------------------

const HEX = '0123456789abcdef';
export const arbMeasurement: fc.Arbitrary<string> = fc.string({ unit: fc.constantFrom(...HEX), minLength: 64, maxLength: 64 });

/** Words that look like keywords, to make sure only whole keywords are reserved. */
const NAME_STEMS = ['s', 'allow', 'Deny', 'not', 'and', 'or', 'in', 'exe', 'subject', 'signers', 'kvm', 'any', 'true', '_', 'einit', 'x_y'];

const arbId: fc.Arbitrary<number> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 1200 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, 65534, 65535, 65536, MAX_ID - 1, MAX_ID) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: MAX_ID }) },
);

const arbIsv: fc.Arbitrary<number> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, 255, 256, MAX_ISV - 1, MAX_ISV) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: MAX_ISV }) },
);

function arbIntSet(arbValue: fc.Arbitrary<number>): fc.Arbitrary<{ lo: number; hi: number; range: boolean }> {
  return fc.oneof(
    arbValue.map((v) => ({ lo: v, hi: v, range: false })),
    fc.tuple(arbValue, arbValue).map(([a, b]) => ({ lo: Math.min(a, b), hi: Math.max(a, b), range: true })),
  );
}

// Glob pieces. Literal runs never contain `*`, `?` or `\`: those only come in as glob syntax.
const EXE_CHARS = 'abcdeqmuxyz019._-';
const EXE_RARE_CHARS = ['A', 'Z', ' ', '"', '#', ';', 'é', 'ß', '😀', '{', '}', '+'];
const arbExeChar = fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...EXE_CHARS) }, { weight: 1, arbitrary: fc.constantFrom(...EXE_RARE_CHARS) });
const arbExeRun = fc.string({ unit: arbExeChar, minLength: 1, maxLength: 5 });
const arbGlobPiece = (run: fc.Arbitrary<string>) =>
  fc.oneof(
    { weight: 6, arbitrary: run },
    { weight: 3, arbitrary: fc.constant('*') },
    { weight: 2, arbitrary: fc.constant('**') },
    { weight: 2, arbitrary: fc.constant('?') },
    { weight: 2, arbitrary: fc.constantFrom('\\*', '\\?', '\\\\', '\\a', '\\.', '\\"') },
  );
const arbExeSegment = fc.array(arbGlobPiece(arbExeRun), { minLength: 1, maxLength: 4 }).map((pieces) => pieces.join(''));
const arbExeGlob: fc.Arbitrary<string> = fc.oneof(
  { weight: 12, arbitrary: fc.array(arbExeSegment, { minLength: 1, maxLength: 4 }).map((segments) => '/' + segments.join('/')) },
  { weight: 1, arbitrary: fc.constantFrom('**', '/**', '**/run', '/usr/bin/*', '/opt/**/run', '/usr/bin/qemu-system-*', '/a\\') },
);

const LABEL_CHARS = 'abcdeostuvx_:,019/';
const arbLabelRun = fc.string({ unit: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...LABEL_CHARS) }, { weight: 1, arbitrary: fc.constantFrom(...EXE_RARE_CHARS) }), minLength: 1, maxLength: 6 });
const arbLabelGlob: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.array(arbGlobPiece(arbLabelRun), { minLength: 1, maxLength: 5 }).map((pieces) => pieces.join('')) },
  { weight: 1, arbitrary: fc.constantFrom('system_u:system_r:svirt_t:s0*', '*:svirt_t:*', '*', '**', 'unconfined_u:*:s0-s0:c0.c1023', 'a\\') },
);

const arbDevice = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...STANDARD_DEVICES) }, { weight: 1, arbitrary: fc.constantFrom('/dev/tpm0', '/dev/sgx/enclave', '/dev/kvm2') });

const arbSubjPred: fc.Arbitrary<SubjPredModel> = fc.oneof(
  { weight: 4, arbitrary: arbExeGlob.map((glob) => ({ kind: 'exe' as const, glob })) },
  { weight: 2, arbitrary: arbLabelGlob.map((glob) => ({ kind: 'label' as const, glob })) },
  { weight: 2, arbitrary: arbDevice.map((path) => ({ kind: 'holds' as const, path })) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('uid' as const, 'gid' as const), arbIntSet(arbId)).map(([kind, set]) => ({ kind, ...set })) },
);

/** A boolean expression of at most `depth` levels over `atom`. */
function arbBool<A>(atom: fc.Arbitrary<A>, depth: number): fc.Arbitrary<BoolModel<A>> {
  const leaf = atom.map((a): BoolModel<A> => ({ op: 'atom', atom: a }));
  if (depth === 0) return leaf;
  const sub = arbBool(atom, depth - 1);
  return fc.oneof(
    { weight: 4, arbitrary: leaf },
    { weight: 2, arbitrary: fc.array(sub, { minLength: 2, maxLength: 3 }).map((operands): BoolModel<A> => ({ op: 'and', operands })) },
    { weight: 2, arbitrary: fc.array(sub, { minLength: 2, maxLength: 3 }).map((operands): BoolModel<A> => ({ op: 'or', operands })) },
    { weight: 1, arbitrary: sub.map((operand): BoolModel<A> => ({ op: 'not', operand })) },
  );
}

interface NameScope {
  measurementCount: number;
  signers: string[];
  enclaves: string[];
  subjects: string[];
}

function arbObject(scope: NameScope): fc.Arbitrary<ObjectModel> {
  const forKind = (kind: MeasKind): fc.Arbitrary<ObjectModel> => {
    const names = kind === 'signer' ? scope.signers : scope.enclaves;
    const literal = fc.nat(scope.measurementCount - 1).map((index): ObjectModel => ({ kind, target: { kind: 'literal', index } }));
    if (names.length === 0) return literal;
    return fc.oneof(literal, { weight: 2, arbitrary: fc.constantFrom(...names).map((name): ObjectModel => ({ kind, target: { kind: 'ref', name } })) });
  };
  return fc.oneof(forKind('signer'), forKind('enclave'));
}

function arbCondAtom(scope: NameScope): fc.Arbitrary<CondAtomModel> {
  const field = fc.constantFrom('isvprodid' as const, 'isvsvn' as const);
  const choices: fc.WeightedArbitrary<CondAtomModel>[] = [
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('cmp' as const), field, op: fc.constantFrom(...CMP_OPS), value: arbIsv }) },
    { weight: 1, arbitrary: fc.tuple(field, arbIsv, arbIsv).map(([f, a, b]) => ({ kind: 'in' as const, field: f, lo: Math.min(a, b), hi: Math.max(a, b) })) },
    { weight: 2, arbitrary: fc.constantFrom(...COND_ATTRIBUTES).map((name) => ({ kind: 'attr' as const, name })) },
    { weight: 2, arbitrary: arbObject(scope).map((object) => ({ kind: 'object' as const, object })) },
    { weight: 2, arbitrary: arbSubjPred.map((pred) => ({ kind: 'subjpred' as const, pred })) },
    { weight: 1, arbitrary: fc.boolean().map((value) => ({ kind: 'const' as const, value })) },
  ];
  if (scope.subjects.length > 0) {
    choices.push({ weight: 2, arbitrary: fc.constantFrom(...scope.subjects).map((name) => ({ kind: 'subject' as const, name })) });
  }
  return fc.oneof(...choices);
}

function arbPattern(scope: NameScope): fc.Arbitrary<PatternModel> {
  const subjects: fc.Arbitrary<PatternModel['subjects']> =
    scope.subjects.length === 0
      ? fc.constant({ kind: 'any' })
      : fc.oneof(
          fc.constant({ kind: 'any' as const }),
          { weight: 2, arbitrary: fc.constantFrom(...scope.subjects).map((name) => ({ kind: 'list' as const, names: [name], braced: false })) },
          fc.array(fc.constantFrom(...scope.subjects), { minLength: 1, maxLength: 3 }).map((names) => ({ kind: 'list' as const, names, braced: true })),
        );
  const object = arbObject(scope);
  const objects: fc.Arbitrary<PatternModel['objects']> = fc.oneof(
    fc.constant({ kind: 'any' as const }),
    { weight: 2, arbitrary: object.map((item) => ({ kind: 'list' as const, items: [item], braced: false })) },
    fc.array(object, { minLength: 1, maxLength: 3 }).map((items) => ({ kind: 'list' as const, items, braced: true })),
  );
  return fc.record({
    subjects,
    via: fc.constantFrom(undefined, undefined, 'host' as const, 'kvm' as const, 'any' as const),
    objects,
    where: fc.option(arbBool(arbCondAtom(scope), 3), { nil: undefined, freq: 2 }),
  });
}

const BECAUSE_CHARS = 'abcdefghij klmnop ., -';
const arbBecause = fc.string({
  unit: fc.oneof({ weight: 20, arbitrary: fc.constantFrom(...BECAUSE_CHARS) }, { weight: 1, arbitrary: fc.constantFrom('"', '\\', '#', 'é', '😀', '\\"', '\\\\', '\\n', ';') }),
  minLength: 1,
  maxLength: 30,
});

function arbRule(scope: NameScope): fc.Arbitrary<RuleModel> {
  return fc
    .tuple(arbPattern(scope), fc.constantFrom('allow' as const, 'deny' as const), fc.boolean(), fc.option(arbBecause, { nil: undefined }))
    .map(([pattern, effect, audit, because]) => ({ kind: 'rule', effect, audit, because, ...pattern }));
}

export interface PolicyOptions {
  /** Spread statements over imported files (written by `writePolicyFiles`). Default false. */
  multiFile?: boolean;
  /** Add `neverallow` statements (which may make the policy fail to compile). Default false. */
  neverallow?: boolean;
  /** Upper bound on rules. Default 12 (40 when large). */
  maxRules?: number;
  /** More measurements, sets and subject classes (for the table's indexes and atom arrays). Default false. */
  large?: boolean;
}

/** How many file choices are drawn; statements beyond this reuse them cyclically. */
const PLACEMENT_SEEDS = 64;

function arbPolicyModel(options: PolicyOptions): fc.Arbitrary<PolicyModel> {
  const large = options.large ?? false;
  const [maxSets, maxSubjects] = large ? [8, 16] : [3, 5];
  const shape = fc.record({
    measurements: fc.uniqueArray(arbMeasurement, { minLength: 1, maxLength: large ? 20 : 6 }),
    signerCount: fc.nat(maxSets),
    enclaveCount: fc.nat(maxSets),
    subjectCount: fc.nat(maxSubjects),
    stems: fc.array(fc.constantFrom(...NAME_STEMS), { minLength: 2 * maxSets + maxSubjects + 2, maxLength: 2 * maxSets + maxSubjects + 2 }),
    fileCount: options.multiFile ? fc.integer({ min: 1, max: 4 }) : fc.constant(1),
  });
  return shape.chain(({ measurements, signerCount, enclaveCount, subjectCount, stems, fileCount }) => {
    // Names are unique by their suffix; the stem only varies how they look.
    const signers = Array.from({ length: signerCount }, (_, i) => `${stems[i]}S${i}`);
    const enclaves = Array.from({ length: enclaveCount }, (_, i) => `${stems[maxSets + 1 + i]}E${i}`);
    const subjects = Array.from({ length: subjectCount }, (_, i) => `${stems[2 * maxSets + 2 + i]}C${i}`);
    const scope: NameScope = { measurementCount: measurements.length, signers, enclaves, subjects };

    // A definition refers only to names with a smaller index, so nothing is recursive; the
    // statements are shuffled when rendered, so names are often used before their definition.
    const setModel = (kind: MeasKind, names: string[], i: number): fc.Arbitrary<SetModel> => {
      const literal = fc.nat(measurements.length - 1).map((index) => ({ kind: 'literal' as const, index }));
      const item = i === 0 ? literal : fc.oneof(literal, fc.constantFrom(...names.slice(0, i)).map((name) => ({ kind: 'ref' as const, name })));
      return fc.array(item, { minLength: 1, maxLength: 4 }).map((items) => ({ kind, name: names[i], items }));
    };
    const subjectModel = (i: number) => {
      const atom: fc.Arbitrary<SubjAtomModel> =
        i === 0
          ? arbSubjPred.map((pred) => ({ kind: 'pred' as const, pred }))
          : fc.oneof(
              { weight: 3, arbitrary: arbSubjPred.map((pred) => ({ kind: 'pred' as const, pred })) },
              { weight: 1, arbitrary: fc.constantFrom(...subjects.slice(0, i)).map((name) => ({ kind: 'ref' as const, name })) },
            );
      return arbBool(atom, 2).map((expr) => ({ name: subjects[i], expr }));
    };
    const sets = fc.tuple(
      ...signers.map((_, i) => setModel('signer', signers, i)),
      ...enclaves.map((_, i) => setModel('enclave', enclaves, i)),
    );
    const subjectDecls = fc.tuple(...subjects.map((_, i) => subjectModel(i)));
    const maxRules = options.maxRules ?? (large ? 40 : 12);
    const rules = fc.array(arbRule(scope), { minLength: large ? Math.min(15, maxRules) : 0, maxLength: maxRules, size: large ? 'max' : 'medium' });
    const neverallows = options.neverallow
      ? fc.array(arbPattern(scope).map((p): NeverallowModel => ({ kind: 'neverallow', ...p })), { minLength: 1, maxLength: 2 })
      : fc.constant([] as NeverallowModel[]);
    return fc
      .record({
        sets,
        subjects: subjectDecls,
        rules,
        neverallows,
        defaultDecl: fc.option(fc.record({ effect: fc.constantFrom('allow' as const, 'deny' as const), audit: fc.boolean() }), { nil: undefined }),
        policyDecl: fc.option(fc.record({ name: arbBecause, version: fc.integer({ min: 0, max: 1000 }) }), { nil: undefined }),
        placementSeed: fc.array(fc.nat(fileCount - 1), { minLength: PLACEMENT_SEEDS, maxLength: PLACEMENT_SEEDS }),
        // Each non-root file is imported by at least one earlier file, plus a few extra
        // imports (diamonds, repeats); imports only go forward, so there is no cycle.
        importers: fc.tuple(...Array.from({ length: fileCount - 1 }, (_, j) => fc.nat(j))),
        extraImports: fc.array(fc.tuple(fc.nat(fileCount - 1), fc.nat(fileCount - 1)), { maxLength: fileCount > 1 ? 3 : 0 }),
        layoutSeed: fc.integer(),
      })
      .map((parts): PolicyModel => {
        const statementCount = parts.sets.length + parts.subjects.length + parts.rules.length + parts.neverallows.length;
        const placement = Array.from({ length: statementCount }, (_, i) => parts.placementSeed[i % PLACEMENT_SEEDS]);
        const imports: [number, number][] = parts.importers.map((importer, j) => [importer, j + 1]);
        for (const [a, b] of parts.extraImports) if (a < b) imports.push([a, b]);
        return {
          measurements,
          sets: parts.sets,
          subjects: parts.subjects,
          rules: parts.rules,
          neverallows: parts.neverallows,
          defaultDecl: parts.defaultDecl,
          policyDecl: parts.policyDecl,
          fileCount,
          placement,
          imports,
          layoutSeed: parts.layoutSeed,
        };
      });
  });
}

/** Random valid policies as source text, with what a test needs to aim requests at them. */
export function arbPolicy(options: PolicyOptions = {}): fc.Arbitrary<PolicyInfo> {
  return arbPolicyModel(options).map(renderPolicy);
}

// ---- rendering -------------------------------------------------------------------------

/** A small seeded PRNG (mulberry32): rendering choices must be reproducible from the seed. */
export class Prng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}

/**
 * A STRING token whose decoded value is `value` (SPEC 3.1): `"` must be `\"`; a backslash may
 * be written bare when the next character is neither `\` nor `"` (nor the closing quote).
 */
export function stringToken(value: string, prng?: Prng): string {
  let out = '"';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"') out += '\\"';
    else if (c === '\\') {
      const next = value[i + 1];
      const bareIsSafe = next !== undefined && next !== '\\' && next !== '"';
      out += bareIsSafe && (prng === undefined || prng.chance(0.6)) ? '\\' : '\\\\';
    } else out += c;
  }
  return out + '"';
}

function intToken(value: number, prng: Prng): string {
  const r = prng.next();
  if (r < 0.2) {
    const hex = value.toString(16);
    return '0x' + (prng.chance(0.3) ? hex.toUpperCase() : hex);
  }
  if (r < 0.25) return '00' + value.toString(10);
  return value.toString(10);
}

function measurementToken(value: string, prng: Prng): string {
  const r = prng.next();
  if (r < 0.15) return stringToken(value.toUpperCase());
  if (r < 0.3) return stringToken([...value].map((c) => (prng.chance(0.5) ? c.toUpperCase() : c)).join(''));
  return stringToken(value);
}

type Level = 'or' | 'and' | 'unary';

function renderBool<A>(node: BoolModel<A>, level: Level, atom: (a: A) => string, prng: Prng): string {
  let text: string;
  let own: Level;
  switch (node.op) {
    case 'or':
      text = node.operands.map((operand) => renderBool(operand, 'and', atom, prng)).join(' or ');
      own = 'or';
      break;
    case 'and':
      text = node.operands.map((operand) => renderBool(operand, 'unary', atom, prng)).join(' and ');
      own = 'and';
      break;
    case 'not':
      text = 'not ' + renderBool(node.operand, 'unary', atom, prng);
      own = 'unary';
      break;
    case 'atom':
      text = atom(node.atom);
      own = 'unary';
      break;
  }
  const rank = { or: 0, and: 1, unary: 2 };
  const needsParens = rank[own] < rank[level];
  return needsParens || prng.chance(0.08) ? `(${text})` : text;
}

function renderSubjPred(pred: SubjPredModel, prng: Prng): string {
  switch (pred.kind) {
    case 'exe':
    case 'label':
      return `${pred.kind} ${stringToken(pred.glob, prng)}`;
    case 'holds':
      return `holds ${stringToken(pred.path, prng)}`;
    case 'uid':
    case 'gid':
      return pred.range ? `${pred.kind} ${intToken(pred.lo, prng)}..${intToken(pred.hi, prng)}` : `${pred.kind} ${intToken(pred.lo, prng)}`;
  }
}

/** Everything the request generator should aim at, collected while rendering. */
interface Targets {
  exeGlobs: string[];
  labelGlobs: string[];
  uids: number[];
  gids: number[];
  devices: Set<string>;
  isvNumbers: number[];
}

function noteSubjPred(pred: SubjPredModel, targets: Targets): void {
  switch (pred.kind) {
    case 'exe':
      targets.exeGlobs.push(pred.glob);
      break;
    case 'label':
      targets.labelGlobs.push(pred.glob);
      break;
    case 'holds':
      targets.devices.add(pred.path);
      break;
    case 'uid':
    case 'gid': {
      const list = pred.kind === 'uid' ? targets.uids : targets.gids;
      for (const v of [pred.lo - 1, pred.lo, pred.hi, pred.hi + 1]) if (v >= 0 && v <= MAX_ID) list.push(v);
    }
  }
}

/** Renders a policy model to files, and works out what the resolver must make of them. */
function renderPolicy(model: PolicyModel): PolicyInfo {
  const prng = new Prng(model.layoutSeed);
  const targets: Targets = { exeGlobs: [], labelGlobs: [], uids: [], gids: [], devices: new Set(STANDARD_DEVICES), isvNumbers: [] };
  const measurement = (index: number) => measurementToken(model.measurements[index], prng);
  const objectText = (object: ObjectModel) =>
    `${object.kind} ${object.target.kind === 'ref' ? object.target.name : measurement(object.target.index)}`;
  const condAtom = (atom: CondAtomModel): string => {
    switch (atom.kind) {
      case 'cmp':
        targets.isvNumbers.push(atom.value);
        return `${atom.field} ${atom.op} ${intToken(atom.value, prng)}`;
      case 'in':
        targets.isvNumbers.push(atom.lo, atom.hi);
        return `${atom.field} in ${intToken(atom.lo, prng)}..${intToken(atom.hi, prng)}`;
      case 'attr':
        return atom.name;
      case 'object':
        return objectText(atom.object);
      case 'subjpred':
        noteSubjPred(atom.pred, targets);
        return renderSubjPred(atom.pred, prng);
      case 'subject':
        return `subject ${atom.name}`;
      case 'const':
        return String(atom.value);
    }
  };
  const subjAtom = (atom: SubjAtomModel): string => {
    if (atom.kind === 'ref') return atom.name;
    noteSubjPred(atom.pred, targets);
    return renderSubjPred(atom.pred, prng);
  };
  const patternText = (p: PatternModel): string[] => {
    const parts: string[] = [];
    if (p.subjects.kind === 'any') parts.push('*');
    else parts.push(p.subjects.braced ? `{ ${p.subjects.names.join(', ')} }` : p.subjects.names[0]);
    parts.push('einit');
    if (p.via !== undefined) parts.push(`via ${p.via}`);
    if (p.objects.kind === 'any') parts.push('*');
    else {
      const items = p.objects.items.map(objectText);
      parts.push(p.objects.braced ? `{${items.join(', ')}}` : items[0]);
    }
    if (p.where !== undefined) parts.push('where', renderBool(p.where, 'or', condAtom, prng));
    return parts;
  };

  // Each statement as a list of token groups, joined later with random whitespace.
  interface Statement {
    file: number;
    parts: string[];
    isRule: boolean;
    because?: string;
  }
  const statements: Statement[] = [];
  let placed = 0;
  const fileOf = () => model.placement[placed++];
  for (const set of model.sets) {
    const items = set.items.map((item) => (item.kind === 'ref' ? item.name : measurement(item.index)));
    statements.push({ file: fileOf(), parts: [set.kind, set.name, '=', items.join(', ') + ';'], isRule: false });
  }
  for (const subject of model.subjects) {
    statements.push({ file: fileOf(), parts: ['subject', subject.name, '=', renderBool(subject.expr, 'or', subjAtom, prng) + ';'], isRule: false });
  }
  for (const rule of model.rules) {
    const parts: string[] = [rule.effect];
    if (rule.audit) parts.push('audit');
    parts.push(...patternText(rule));
    if (rule.because !== undefined) parts.push('because', stringToken(rule.because, prng));
    parts[parts.length - 1] += ';';
    statements.push({ file: fileOf(), parts, isRule: true, because: rule.because });
  }
  for (const neverallow of model.neverallows) {
    const parts = ['neverallow', ...patternText(neverallow)];
    parts[parts.length - 1] += ';';
    statements.push({ file: fileOf(), parts, isRule: false });
  }
  if (model.defaultDecl !== undefined) {
    statements.push({ file: 0, parts: ['default', model.defaultDecl.effect, ...(model.defaultDecl.audit ? ['audit'] : []), ';'], isRule: false });
  }
  if (model.policyDecl !== undefined) {
    statements.push({ file: 0, parts: ['policy', stringToken(model.policyDecl.name, prng), 'version', intToken(model.policyDecl.version, prng) + ';'], isRule: false });
  }

  const paths = [ROOT_FILE, ...IMPORTED_FILES].slice(0, model.fileCount);
  const perFile: (Statement | { importOf: number })[][] = paths.map(() => []);
  for (const statement of statements) perFile[statement.file].push(statement);
  for (const [importer, imported] of model.imports) perFile[importer].push({ importOf: imported });
  // Shuffle each file's statements: definitions after uses, imports anywhere.
  for (const list of perFile) {
    for (let i = list.length - 1; i > 0; i--) {
      const j = prng.int(i + 1);
      [list[i], list[j]] = [list[j], list[i]];
    }
  }

  const tokenGap = () => {
    const r = prng.next();
    if (r < 0.85) return ' ';
    if (r < 0.9) return '\n  ';
    if (r < 0.93) return '\t';
    if (r < 0.96) return ' # a comment; "with" allow * einit *;\n';
    if (r < 0.98) return '\r\n';
    return '   ';
  };
  // Never two rules on one line: their ids (FILE:LINE) would be the same.
  const statementGap = (afterRule: boolean) => {
    const r = prng.next();
    if (r < 0.75) return '\n';
    if (r < 0.85) return afterRule ? '\n' : ' ';
    if (r < 0.95) return '\n\n# comment: deny * einit *;\n';
    return '\r\n';
  };

  // Render files, and record each rule's line (the line of its first token).
  const ruleLines = new Map<Statement, number>();
  const texts = perFile.map((list, fileIndex) => {
    let text = prng.chance(0.2) ? '# generated policy\n' : '';
    for (const entry of list) {
      if ('importOf' in entry) {
        text += `import ${stringToken(importPath(paths[fileIndex], paths[entry.importOf], prng), prng)};`;
      } else {
        if (entry.isRule) ruleLines.set(entry, countLines(text));
        text += entry.parts.map((part, i) => (i === 0 ? part : tokenGap() + part)).join('');
      }
      text += statementGap(!('importOf' in entry) && entry.isRule);
    }
    return text;
  });

  // Program order: the root's rules, each file expanded in place at its first import (SPEC 4).
  const expectedRuleIds: string[] = [];
  const becauseById: Record<string, string> = {};
  const loaded = new Set<number>();
  const expand = (fileIndex: number) => {
    loaded.add(fileIndex);
    for (const entry of perFile[fileIndex]) {
      if ('importOf' in entry) {
        if (!loaded.has(entry.importOf)) expand(entry.importOf);
      } else if (entry.isRule) {
        const id = `${paths[fileIndex]}:${ruleLines.get(entry)}`;
        expectedRuleIds.push(id);
        if (entry.because !== undefined) becauseById[id] = entry.because;
      }
    }
  };
  expand(0);

  const expectedSets: PolicyInfo['expectedSets'] = { signer: {}, enclave: {} };
  const expandSet = (set: SetModel): string[] => {
    const values = new Set<string>();
    for (const item of set.items) {
      if (item.kind === 'literal') values.add(model.measurements[item.index]);
      else for (const v of expandSet(model.sets.find((s) => s.kind === set.kind && s.name === item.name)!)) values.add(v);
    }
    return [...values].sort();
  };
  for (const set of model.sets) expectedSets[set.kind][set.name] = expandSet(set);

  const samplePrng = new Prng(model.layoutSeed ^ 0x5bd1e995);
  const exePaths = new Set<string>();
  for (const glob of targets.exeGlobs) {
    for (let k = 0; k < 3; k++) {
      const match = instantiateGlob(glob, 'exe', samplePrng);
      exePaths.add(match);
      exePaths.add(nearMiss(match, samplePrng));
    }
  }
  const labels = new Set<string>();
  for (const glob of targets.labelGlobs) {
    for (let k = 0; k < 3; k++) {
      const match = instantiateGlob(glob, 'label', samplePrng);
      labels.add(match);
      labels.add(nearMiss(match, samplePrng));
    }
  }

  return {
    files: paths.map((path, i) => ({ path, text: texts[i] })),
    source: texts[0],
    measurements: model.measurements,
    expectedSets,
    expectedPolicy: model.policyDecl ?? null,
    expectedRuleIds,
    becauseById,
    exePaths: [...exePaths].filter(isCanonicalExe),
    labels: [...labels].filter((label) => label.length > 0),
    uids: targets.uids,
    gids: targets.gids,
    devices: [...targets.devices],
    isvNumbers: targets.isvNumbers.flatMap((v) => [v - 1, v, v + 1]).filter((v) => v >= 0 && v <= MAX_ISV),
    hasNeverallow: model.neverallows.length > 0,
  };
}

function countLines(text: string): number {
  let lines = 1;
  for (const c of text) if (c === '\n') lines++;
  return lines;
}

/** An import path from one file to another, relative to the importer's folder, in one of its spellings. */
function importPath(from: string, to: string, prng: Prng): string {
  const relative = posix.relative(posix.dirname(from), to);
  if (!relative.startsWith('..') && prng.chance(0.3)) return './' + relative;
  return relative;
}

/** A string the glob matches (by SPEC 3.4), made by filling in each wildcard. */
function instantiateGlob(glob: string, mode: 'exe' | 'label', prng: Prng): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        out += prng.pick(['', 'a', 'a/b', 'lib/x', 'x/y/z', 'q']);
      } else out += prng.pick(mode === 'exe' ? ['', 'a', 'qemu', 'x.1', 'é'] : ['', 'a', 's0:c1', 'x/y']);
    } else if (c === '?') {
      out += prng.pick(['a', 'Z', '.', '-', 'é', '😀', ...(mode === 'label' ? ['/', ':'] : [])]);
    } else if (c === '\\') {
      const next = glob[i + 1];
      if (next === '*' || next === '?' || next === '\\') {
        out += next;
        i++;
      } else out += '\\';
    } else out += c;
  }
  return out;
}

/** A small edit of `text`, usually one that stops a glob from matching. */
function nearMiss(text: string, prng: Prng): string {
  const at = prng.int(text.length + 1);
  switch (prng.int(6)) {
    case 0:
      return text.slice(0, at) + text.slice(at + 1);
    case 1:
      return text.slice(0, at) + prng.pick(['a', '/', 'x/', '😀', '*', '\\']) + text.slice(at);
    case 2:
      return text + prng.pick(['/a', 'x', '/x/y']);
    case 3:
      return '/x' + text;
    case 4:
      return text.toUpperCase();
    default:
      return text.slice(0, at) + 'b' + text.slice(at + 1);
  }
}

/** SPEC 2's rules for `exe`: absolute, no `//`, no `.` or `..` segment, no trailing `/`, ≤ 4096 chars. */
export function isCanonicalExe(path: string): boolean {
  if (!path.startsWith('/') || path.length > 4096 || path.length < 2 || path.endsWith('/')) return false;
  return path
    .slice(1)
    .split('/')
    .every((segment) => segment !== '' && segment !== '.' && segment !== '..');
}

// ---- requests --------------------------------------------------------------------------

function randomCase(hex: string, style: number): string {
  if (style === 1) return hex.toUpperCase();
  if (style === 2) return [...hex].map((c, i) => (i % 3 === 0 ? c.toUpperCase() : c)).join('');
  return hex;
}

function arbMeasurementFor(info: PolicyInfo): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...info.measurements), fc.nat(4)).map(([m, style]) => randomCase(m, style)) },
    { weight: 1, arbitrary: arbMeasurement },
  );
}

function pickOrRandom(values: number[], random: fc.Arbitrary<number>): fc.Arbitrary<number> {
  return values.length === 0 ? random : fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...values) }, { weight: 1, arbitrary: random });
}

/** A valid subject (SPEC 2), aimed at the policy's globs, ids and devices. */
export function arbSubject(info: PolicyInfo): fc.Arbitrary<Record<string, unknown>> {
  const exe = fc.oneof(
    { weight: info.exePaths.length > 0 ? 6 : 0, arbitrary: info.exePaths.length > 0 ? fc.constantFrom(...info.exePaths) : fc.constant('/usr/bin/true') },
    { weight: 1, arbitrary: fc.constantFrom('/usr/bin/qemu-system-x86_64', '/usr/sbin/aesmd', '/opt/a/run', '/a\\b', '/x') },
  );
  const label = fc.oneof(
    { weight: info.labels.length > 0 ? 4 : 0, arbitrary: info.labels.length > 0 ? fc.constantFrom(...info.labels) : fc.constant('x') },
    { weight: 1, arbitrary: fc.constantFrom('system_u:system_r:svirt_t:s0:c1,c2', 'unconfined_u:unconfined_r:unconfined_t:s0', '') },
  );
  return fc
    .record({
      exe,
      uid: pickOrRandom(info.uids, arbId),
      gid: pickOrRandom(info.gids, arbId),
      label: fc.option(label, { nil: undefined, freq: 3 }),
      holds: fc.option(fc.array(fc.constantFrom(...info.devices), { maxLength: 4 }), { nil: undefined, freq: 8 }),
    })
    .map(withoutUndefined);
}

const ATTRIBUTE_BIT_CHOICES = [0, 1, 2, 3, 4, 5, 6, 7, 10, 31, 32, 63];

const arbAttributes: fc.Arbitrary<string[] | string | undefined> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: fc.array(fc.constantFrom(...REQUEST_ATTRIBUTES, 'provisionkey', 'debug'), { maxLength: 4 }) },
  {
    weight: 3,
    arbitrary: fc.tuple(fc.subarray(ATTRIBUTE_BIT_CHOICES), fc.nat(16), fc.boolean()).map(([bits, pad, upper]) => {
      let flags = 0n;
      for (const bit of bits) flags |= 1n << BigInt(bit);
      let hex = flags.toString(16);
      hex = hex.padStart(Math.min(16, Math.max(hex.length, pad)), '0');
      return '0x' + (upper ? hex.toUpperCase() : hex);
    }),
  },
);

/** A valid enclave identity (SPEC 2), aimed at the policy's measurements and numbers. */
export function arbEnclave(info: PolicyInfo): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .record({
      mrenclave: arbMeasurementFor(info),
      mrsigner: arbMeasurementFor(info),
      isvprodid: pickOrRandom(info.isvNumbers, arbIsv),
      isvsvn: pickOrRandom(info.isvNumbers, arbIsv),
      attributes: arbAttributes,
    })
    .map(withoutUndefined);
}

function arbValidRequestAround(subject: fc.Arbitrary<Record<string, unknown>>, info: PolicyInfo): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .record({
      subject,
      action: fc.option(fc.constant('einit'), { nil: undefined }),
      via: fc.option(fc.constantFrom('host', 'kvm', 'kvm'), { nil: undefined, freq: 4 }),
      enclave: arbEnclave(info),
    })
    .map(withoutUndefined);
}

/** One way to break a valid request (SPEC 2's list of what makes a request invalid). */
type Corruption = (request: Record<string, unknown>) => unknown;

const CORRUPTIONS: Corruption[] = [
  (r) => ({ ...r, enclave: { ...obj(r.enclave), mrenclave: 'a'.repeat(63) } }),
  (r) => ({ ...r, enclave: { ...obj(r.enclave), mrsigner: 'g'.repeat(64) } }),
  (r) => ({ ...r, enclave: { ...obj(r.enclave), mrsigner: '0x' + 'a'.repeat(62) } }),
  (r) => ({ ...r, enclave: { ...obj(r.enclave), mrenclave: 'a'.repeat(65) } }),
  (r) => ({ ...r, enclave: { ...obj(r.enclave), mrenclave: 42 } }),
  (r) => ({ ...r, extra: true }),
  (r) => ({ ...r, subject: { ...obj(r.subject), pid: 12 } }),
  (r) => ({ ...r, enclave: { ...obj(r.enclave), xfrm: '0x3' } }),
  (r) => ({ ...r, subject: { ...obj(r.subject), exe: 'usr/bin/qemu' } }),
  (r) => ({ ...r, subject: { ...obj(r.subject), exe: '/usr//bin/qemu' } }),
  (r) => ({ ...r, subject: { ...obj(r.subject), exe: '/usr/./bin' } }),
  (r) => ({ ...r, subject: { ...obj(r.subject), exe: '/usr/../bin' } }),
  (r) => ({ ...r, subject: { ...obj(r.subject), exe: '/usr/bin/' } }),
  (r) => ({ ...r, subject: { ...obj(r.subject), exe: '' } }),
  (r) => ({ ...r, subject: { ...obj(r.subject), exe: '/' + 'a'.repeat(4096) } }),
  (r) => ({ ...r, subject: { ...obj(r.subject), exe: ['/usr/bin/x'] } }),
  (r) => ({ ...r, subject: { ...obj(r.subject), uid: -1 } }),
  (r) => ({ ...r, subject: { ...obj(r.subject), uid: 4294967296 } }),
  (r) => ({ ...r, subject: { ...obj(r.subject), gid: 1.5 } }),
  (r) => ({ ...r, subject: { ...obj(r.subject), gid: '7' } }),
  (r) => ({ ...r, subject: { ...obj(r.subject), uid: Number.NaN } }),
  (r) => ({ ...r, subject: { ...obj(r.subject), uid: Number.POSITIVE_INFINITY } }),
  (r) => ({ ...r, subject: { ...obj(r.subject), label: 17 } }),
  (r) => ({ ...r, subject: { ...obj(r.subject), holds: '/dev/kvm' } }),
  (r) => ({ ...r, subject: { ...obj(r.subject), holds: [5] } }),
  (r) => ({ ...r, enclave: { ...obj(r.enclave), isvprodid: 65536 } }),
  (r) => ({ ...r, enclave: { ...obj(r.enclave), isvsvn: -1 } }),
  (r) => ({ ...r, enclave: { ...obj(r.enclave), isvsvn: 2.5 } }),
  (r) => ({ ...r, enclave: { ...obj(r.enclave), isvprodid: '1' } }),
  (r) => ({ ...r, enclave: { ...obj(r.enclave), attributes: ['bogus'] } }),
  (r) => ({ ...r, enclave: { ...obj(r.enclave), attributes: 'ff' } }),
  (r) => ({ ...r, enclave: { ...obj(r.enclave), attributes: '0x' } }),
  (r) => ({ ...r, enclave: { ...obj(r.enclave), attributes: '0x' + '1'.repeat(17) } }),
  (r) => ({ ...r, enclave: { ...obj(r.enclave), attributes: '0xg' } }),
  (r) => ({ ...r, enclave: { ...obj(r.enclave), attributes: [4] } }),
  (r) => ({ ...r, action: 'launch' }),
  (r) => ({ ...r, via: 'guest' }),
  (r) => ({ ...r, via: 'any' }),
  (r) => drop(r, 'subject'),
  (r) => drop(r, 'enclave'),
  (r) => ({ ...r, subject: drop(obj(r.subject), 'exe') }),
  (r) => ({ ...r, subject: drop(obj(r.subject), 'uid') }),
  (r) => ({ ...r, enclave: drop(obj(r.enclave), 'mrenclave') }),
  (r) => ({ ...r, enclave: drop(obj(r.enclave), 'isvsvn') }),
  (r) => ({ ...r, enclave: { sigstruct: 'not base64!' } }),
  (r) => ({ ...r, enclave: { sigstruct: Buffer.alloc(1808).toString('base64') } }),
  (r) => ({ ...r, enclave: { ...obj(r.enclave), sigstruct: Buffer.alloc(16).toString('base64') } }),
  () => null,
  () => 'einit',
  () => 42,
  () => [],
  () => undefined,
];

function obj(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
}

function drop(record: Record<string, unknown>, key: string): Record<string, unknown> {
  const copy = { ...record };
  delete copy[key];
  return copy;
}

function withoutUndefined<T extends object>(record: T): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) if (value !== undefined) out[key] = value;
  return out;
}

/** Invalid requests: a valid one with one thing broken. */
export function arbInvalidRequest(info: PolicyInfo): fc.Arbitrary<unknown> {
  return fc.tuple(arbValidRequestAround(arbSubject(info), info), fc.constantFrom(...CORRUPTIONS)).map(([request, corrupt]) => corrupt(request));
}

/** A random request for a policy: mostly valid and aimed at its values, about 1 in 20 invalid. */
export function arbRequest(info: PolicyInfo): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 19, arbitrary: arbValidRequestAround(arbSubject(info), info) },
    { weight: 1, arbitrary: arbInvalidRequest(info) },
  );
}

/**
 * `count` requests whose subjects come from a small shared pool, so that a subject handle
 * (SPEC 7 `resolveSubject`) is reused across requests as a hook would reuse it.
 */
export function arbRequests(info: PolicyInfo, count: number): fc.Arbitrary<unknown[]> {
  return fc
    .tuple(
      fc.array(arbSubject(info), { minLength: 1, maxLength: 6 }),
      fc.array(fc.tuple(fc.nat(5), arbValidRequestAround(fc.constant({}), info)), { minLength: count, maxLength: count }),
      fc.array(fc.tuple(fc.nat(count - 1), arbInvalidRequest(info)), { maxLength: Math.ceil(count / 20) }),
    )
    .map(([subjects, shapes, invalid]) => {
      const requests: unknown[] = shapes.map(([which, shape]) => ({ ...shape, subject: subjects[which % subjects.length] }));
      for (const [at, request] of invalid) requests[at] = request;
      return requests;
    });
}

/** Writes a policy's files under `dir` (the root file as `dir/policy.sgxpol`) and returns the root's path. */
export function writePolicyFiles(dir: string, info: PolicyInfo): string {
  for (const file of info.files) {
    const target = join(dir, ...file.path.split('/'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.text, 'utf8');
  }
  return join(dir, ROOT_FILE);
}
