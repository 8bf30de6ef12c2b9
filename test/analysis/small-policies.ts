// Small random policies over a fixed vocabulary, and a finite set of requests that is complete
// for that vocabulary: every combination of atom values any such policy can tell apart occurs
// in it. Brute force over that set is then the exact answer to every question the analysis
// answers, computed independently (through the reference interpreter only).
import fc from 'fast-check';
import { referenceGlobMatch } from '../../src/reference/glob.js';
import { canonicalPathFlaw } from '../../src/runtime/request.js';

/** Exe globs the policies use (SPEC 3.4: `*`, `**`, `?`, escapes). */
export const EXE_GLOBS = ['/a', '/a/*', '/a*', '/**/b', '/?', '/a/**', '/*b', '**', '/a\\*', '/.?'];
export const LABEL_GLOBS = ['s*', '*t', '?', 'st', '**', 's\\?'];
export const A = 'a'.repeat(64);
export const B = 'b'.repeat(64);
export const C = 'c'.repeat(64);
/** A measurement no policy names. */
export const D = 'd'.repeat(64);

export type Feature = 'exe' | 'label' | 'uid' | 'prodid' | 'svn' | 'signer' | 'enclave' | 'kvm' | 'attrs';
export const FEATURES: readonly Feature[] = ['exe', 'label', 'uid', 'prodid', 'svn', 'signer', 'enclave', 'kvm', 'attrs'];

// ---- the complete request set ------------------------------------------------------------------

/** All strings over `alphabet` of length ≤ max. */
export function allStrings(alphabet: string, max: number): string[] {
  const out = [''];
  let frontier = [''];
  for (let n = 1; n <= max; n++) {
    const next: string[] = [];
    for (const s of frontier) for (const c of alphabet) next.push(s + c);
    out.push(...next);
    frontier = next;
  }
  return out;
}

/** One string per combination of glob matches seen among `candidates`, and the combinations. */
export function representatives(globs: readonly string[], mode: 'exe' | 'label', candidates: string[]): Map<string, string> {
  const byVector = new Map<string, string>();
  for (const s of candidates) {
    const key = globs
      .map((g, i) => (referenceGlobMatch(g, mode, s) ? i : -1))
      .filter((i) => i >= 0)
      .join(',');
    if (!byVector.has(key)) byVector.set(key, s);
  }
  return byVector;
}

/** Canonical absolute paths of at most `max` characters whose segments use `alphabet`. */
export function canonicalPaths(alphabet: string, max: number): string[] {
  const segments = allStrings(alphabet, max - 1).filter((s) => s.length > 0 && s !== '.' && s !== '..');
  const out: string[] = [];
  const extend = (prefix: string) => {
    for (const segment of segments) {
      const path = `${prefix}/${segment}`;
      if (path.length > max) continue;
      out.push(path);
      if (path.length + 2 <= max) extend(path);
    }
  };
  extend('');
  return out;
}

export const EXE_CANDIDATES = canonicalPaths('ab.x*', 7).filter((s) => canonicalPathFlaw(s) === undefined);
export const EXE_REPRESENTATIVES = representatives(EXE_GLOBS, 'exe', EXE_CANDIDATES);
export const LABEL_REPRESENTATIVES = representatives(LABEL_GLOBS, 'label', allStrings('stx?', 3));

interface Axis {
  name: string;
  values: unknown[];
}

/** The requests: the product of each feature's values (a single value for features not in use). */
export function requestDomain(features: ReadonlySet<Feature>): Record<string, unknown>[] {
  const on = (f: Feature) => features.has(f);
  const axes: Axis[] = [
    { name: 'exe', values: on('exe') ? [...EXE_REPRESENTATIVES.values()] : ['/x'] },
    { name: 'label', values: on('label') ? [undefined, ...LABEL_REPRESENTATIVES.values()] : [undefined] },
    { name: 'uid', values: on('uid') ? [0, 1, 2, 3, 4] : [7] },
    { name: 'via', values: ['host', 'kvm'] },
    { name: 'isvprodid', values: on('prodid') ? [0, 1, 2, 3, 65534, 65535] : [9] },
    { name: 'isvsvn', values: on('svn') ? [0, 1, 2, 3, 65534, 65535] : [9] },
    { name: 'mrsigner', values: measurementValues(features, 'signer') },
    { name: 'mrenclave', values: measurementValues(features, 'enclave') },
    // Always both: "every subject that holds /dev/kvm" (W004) is a question about holders.
    { name: 'kvm', values: [false, true] },
    { name: 'provision', values: [false, true] },
    { name: 'provisionkey', values: [false, true] },
    { name: 'debug', values: on('attrs') ? [false, true] : [false] },
    { name: 'kss', values: on('attrs') ? [false, true] : [false] },
  ];
  const out: Record<string, unknown>[] = [];
  const pick: Record<string, unknown> = {};
  const walk = (i: number) => {
    if (i === axes.length) {
      out.push(requestOf(pick));
      return;
    }
    for (const v of axes[i].values) {
      pick[axes[i].name] = v;
      walk(i + 1);
    }
  };
  walk(0);
  return out;
}

/** The measurements the request set tries for a kind (a policy without objects of that kind cannot tell them apart). */
export function measurementValues(features: ReadonlySet<Feature>, kind: 'signer' | 'enclave'): string[] {
  return features.has(kind) ? [A, B, C, D] : [D];
}

function requestOf(p: Record<string, unknown>): Record<string, unknown> {
  const holds: string[] = [];
  if (p.kvm) holds.push('/dev/kvm');
  if (p.provision) holds.push('/dev/sgx_provision');
  const attributes: string[] = [];
  for (const name of ['provisionkey', 'debug', 'kss']) if (p[name]) attributes.push(name);
  const subject: Record<string, unknown> = { exe: p.exe, uid: p.uid, gid: 0, holds };
  if (p.label !== undefined) subject.label = p.label;
  return {
    subject,
    via: p.via,
    enclave: { mrenclave: p.mrenclave, mrsigner: p.mrsigner, isvprodid: p.isvprodid, isvsvn: p.isvsvn, attributes },
  };
}

/** The part of a request that is the subject (exe, label, uid, holds), as a key. */
export function subjectKey(request: Record<string, unknown>): string {
  return JSON.stringify(request.subject);
}

/** The part of a request that is the enclave, as a key. */
export function enclaveKey(request: Record<string, unknown>): string {
  return JSON.stringify(request.enclave);
}

// ---- policies ------------------------------------------------------------------------------------

export interface SmallPolicy {
  features: Set<Feature>;
  classes: string[];
  text: string;
}

const SETS = `signer S1 = "${A}", "${B}";\nsigner S2 = "${B}";\nenclave E1 = "${A}";\nenclave E2 = "${C}", E1;\n`;

type Bool = { op: 'and' | 'or'; items: Bool[] } | { op: 'not'; item: Bool } | { op: 'atom'; text: string };

function render(b: Bool): string {
  switch (b.op) {
    case 'atom':
      return b.text;
    case 'not':
      return `not (${render(b.item)})`;
    default:
      return `(${b.items.map(render).join(` ${b.op} `)})`;
  }
}

function arbBool(atom: fc.Arbitrary<string>, depth: number): fc.Arbitrary<Bool> {
  const leaf = atom.map((text): Bool => ({ op: 'atom', text }));
  if (depth === 0) return leaf;
  const sub = arbBool(atom, depth - 1);
  return fc.oneof(
    { weight: 3, arbitrary: leaf },
    { weight: 1, arbitrary: fc.array(sub, { minLength: 2, maxLength: 3 }).map((items): Bool => ({ op: 'and', items })) },
    { weight: 1, arbitrary: fc.array(sub, { minLength: 2, maxLength: 3 }).map((items): Bool => ({ op: 'or', items })) },
    { weight: 1, arbitrary: sub.map((item): Bool => ({ op: 'not', item })) },
  );
}

function subjectAtoms(features: Set<Feature>): string[] {
  const atoms: string[] = ['holds "/dev/sgx_provision"'];
  if (features.has('exe')) atoms.push(...EXE_GLOBS.map((g) => `exe "${g.replace(/\\/g, '\\\\')}"`));
  if (features.has('label')) atoms.push(...LABEL_GLOBS.map((g) => `label "${g.replace(/\\/g, '\\\\')}"`));
  if (features.has('uid')) atoms.push('uid 2', 'uid 1..2', 'uid 2..3', 'uid 1..3', 'uid 0');
  if (features.has('kvm')) atoms.push('holds "/dev/kvm"', 'holds "/dev//bad"');
  return atoms;
}

function conditionAtoms(features: Set<Feature>): string[] {
  const atoms: string[] = ['provisionkey', 'true', 'false'];
  const numbers = (field: string) => [
    `${field} == 1`,
    `${field} != 2`,
    `${field} < 2`,
    `${field} <= 1`,
    `${field} > 1`,
    `${field} >= 65535`,
    `${field} in 1..2`,
    `${field} < 0`,
  ];
  if (features.has('prodid')) atoms.push(...numbers('isvprodid'));
  if (features.has('svn')) atoms.push(...numbers('isvsvn'));
  if (features.has('attrs')) atoms.push('debug', 'kss');
  atoms.push(...objectAtoms(features));
  return atoms;
}

function objectAtoms(features: Set<Feature>): string[] {
  const atoms: string[] = [];
  if (features.has('signer')) atoms.push('signer S1', 'signer S2', `signer "${C}"`);
  if (features.has('enclave')) atoms.push('enclave E1', 'enclave E2', `enclave "${B}"`);
  return atoms;
}

interface PatternParts {
  subjects: string;
  via: string;
  objects: string;
  where: string;
}

function arbPattern(features: Set<Feature>, classes: string[]): fc.Arbitrary<PatternParts> {
  const subjectAtom = fc.constantFrom(...subjectAtoms(features), ...classes.map((c) => `subject ${c}`));
  const condAtom = fc.oneof(fc.constantFrom(...conditionAtoms(features)), subjectAtom);
  const objects = objectAtoms(features);
  return fc.record({
    subjects: classes.length === 0 ? fc.constant('*') : fc.oneof(fc.constant('*'), fc.constantFrom(...classes), fc.subarray(classes, { minLength: 1 }).map((c) => `{ ${c.join(', ')} }`)),
    via: fc.constantFrom('', ' via host', ' via kvm', ' via any'),
    objects: objects.length === 0 ? fc.constant('*') : fc.oneof(fc.constant('*'), fc.constantFrom(...objects), fc.subarray(objects, { minLength: 1, maxLength: 2 }).map((o) => `{ ${o.join(', ')} }`)),
    where: fc.option(arbBool(condAtom, 2).map((b) => ` where ${render(b)}`), { nil: '', freq: 2 }),
  });
}

export interface PolicyShapeOptions {
  maxRules?: number;
  neverallows?: number;
  /** Force a default (otherwise random, or none). */
  defaultEffect?: 'allow' | 'deny';
}

export function arbFeatures(count = 3): fc.Arbitrary<Set<Feature>> {
  return fc.subarray([...FEATURES], { minLength: 1, maxLength: count }).map((f) => new Set(f));
}

function arbRule(features: Set<Feature>, classes: string[]): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom('allow', 'deny'), fc.boolean(), arbPattern(features, classes))
    .map(([effect, audit, p]) => `${effect}${audit ? ' audit' : ''} ${p.subjects} einit${p.via} ${p.objects}${p.where};`);
}

/** A small policy over `features` (rendered as one file). */
export function arbSmallPolicy(features: Set<Feature>, options: PolicyShapeOptions = {}): fc.Arbitrary<SmallPolicy> {
  return fc.integer({ min: 0, max: 3 }).chain((classCount) => {
    const classNames = Array.from({ length: classCount }, (_, i) => `c${i}`);
    const classDecls = fc.tuple(
      ...classNames.map((_, i) =>
        arbBool(fc.constantFrom(...subjectAtoms(features), ...classNames.slice(0, i)), 2).map((b) => `subject ${classNames[i]} = ${render(b)};`),
      ),
    );
    const rule = arbRule(features, classNames);
    const neverallow = arbPattern(features, classNames).map((p) => `neverallow ${p.subjects} einit${p.via} ${p.objects}${p.where};`);
    const defaultDecl = options.defaultEffect ? fc.constant(`default ${options.defaultEffect};\n`) : fc.constantFrom('', 'default allow;\n', 'default deny;\n');
    return fc
      .tuple(
        defaultDecl,
        classDecls,
        fc.array(rule, { minLength: 1, maxLength: options.maxRules ?? 6 }),
        fc.array(neverallow, { minLength: options.neverallows ?? 0, maxLength: options.neverallows ?? 0 }),
        // Sometimes repeat a rule, to exercise duplicates and shadowing.
        fc.option(fc.nat(), { nil: undefined }),
      )
      .map(([d, classes, rules, neverallows, repeat]) => {
        const all = [...rules];
        if (repeat !== undefined) all.push(rules[repeat % rules.length]);
        return { features, classes: classNames, text: d + SETS + classes.join('\n') + '\n' + all.join('\n') + '\n' + neverallows.join('\n') + '\n' };
      });
  });
}

/** A second policy: the first with one rule changed, added or removed (or the default flipped). */
export function arbMutation(policy: SmallPolicy): fc.Arbitrary<SmallPolicy> {
  const lines = policy.text.split('\n');
  const ruleLines = lines.map((l, i) => [l, i] as const).filter(([l]) => /^(allow|deny)/.test(l));
  return fc.tuple(fc.nat(ruleLines.length - 1), fc.integer({ min: 0, max: 4 }), arbRule(policy.features, policy.classes)).map(([which, how, newRule]) => {
    const out = [...lines];
    const [line, at] = ruleLines[which];
    switch (how) {
      case 0:
        out[at] = line.startsWith('allow') ? line.replace(/^allow/, 'deny') : line.replace(/^deny/, 'allow');
        break;
      case 1:
        out[at] = '';
        break;
      case 2:
        out.splice(at, 0, newRule);
        break;
      case 3:
        out[0] = lines[0].startsWith('default allow') ? 'default deny;' : lines[0].startsWith('default deny') ? 'default allow;' : 'default allow;\n' + lines[0];
        break;
      default:
        // No change at all: the diff must say so.
        break;
    }
    return { features: policy.features, classes: policy.classes, text: out.join('\n') };
  });
}
