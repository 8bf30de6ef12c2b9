// The request space, cut into regions. Every part of a request (SPEC 2) that some policy atom
// looks at is a *dimension*; each dimension is split into the regions its atoms can tell apart:
//
//   exe        realisable combinations of exe-glob matches over canonical paths (automata.ts)
//   label      "no label", plus realisable combinations of label-glob matches
//   uid, gid   intervals between the bounds the policy mentions
//   via        host, kvm
//   isvprodid, isvsvn   intervals between the bounds the policy mentions
//   mrsigner, mrenclave values grouped by which mentioned sets contain them, plus "in none"
//   one dimension per held device the policy mentions (and /dev/sgx_provision): held or not
//   one dimension per attribute a condition can name (and provisionkey): set or not
//
// The dimensions are independent (any choice of one region per dimension is some valid request)
// and every atom is a union of regions of one dimension, so every question about the policy is a
// question about finitely many boxes of regions. `requestOf` turns a choice of regions back into
// a concrete request in SPEC 2's JSON form.
import type { Cond, ObjectRef, SubjExpr, SubjPred } from '../ast.js';
import type { Program } from '../ir.js';
import { compileGlob } from '../../runtime/glob.js';
import { canonicalPathFlaw } from '../../runtime/request.js';
import { longerThan } from '../../runtime/text.js';
import { ATTRIBUTE_BITS, PROVISION_DEVICE, type NormalizedRequest, type RequestJson } from '../../runtime/types.js';
import { globRegions, MAX_STRING_LENGTH } from './automata.js';
import { emptySet, first, fullSet, rangeSet, regionSet, type RegionSet } from './regionset.js';

export type DimensionKind = 'exe' | 'label' | 'uid' | 'gid' | 'via' | 'isvprodid' | 'isvsvn' | 'mrsigner' | 'mrenclave' | 'device' | 'attribute';

export interface Dimension {
  kind: DimensionKind;
  /** For messages: `exe`, `holds "/dev/kvm"`, `attribute debug`, … */
  name: string;
  /** Number of regions. */
  n: number;
  /** The regions some valid request falls in (all of them, except for a device no request can hold). */
  initial: RegionSet;
}

/** Names a condition can use (SPEC 3.2 `attribute`); `init` is not one of them. */
export const CONDITION_ATTRIBUTES = ['debug', 'mode64bit', 'provisionkey', 'einittokenkey', 'kss', 'aexnotify', 'cet'] as const;
export type ConditionAttribute = (typeof CONDITION_ATTRIBUTES)[number];

const MAX_UINT32 = 4294967295;
const MAX_UINT16 = 65535;

/** A choice of region sets, one per dimension. */
export type Box = readonly RegionSet[];

export interface SpaceLimits {
  /** Most automaton states per glob dimension. */
  maxAutomatonStates: number;
  /**
   * Give each glob a dimension of its own (matches or not), independent of every other glob
   * and of the exe and label dimensions, and build no automaton. Every request still falls in
   * exactly one point of this space and every atom keeps its truth there, but the space also
   * has points no request reaches (a label matching `a*` and `b*` at once): it over-approximates.
   * So "nothing in this space satisfies F" proves that no request does, while a point that
   * satisfies F proves nothing; such a space gives no witnesses (`requestOf` and `regionsOf`
   * throw). For proving a neverallow when the exact glob dimensions are too large.
   */
  coarseGlobs?: boolean;
  /**
   * Most region numbers all uid, gid, ISVPRODID and ISVSVN ranges of the analysis may list
   * together (4 bytes each). A range lists every region between its bounds, so thousands of
   * nested or overlapping uid ranges need a number of them that grows with the square of their
   * count (60,000 nested ranges once took 7 GB); past the limit (2 GB by default) the analysis
   * is refused as too large, as for globs. It counts the ranges compiled while the analysis is
   * set up (those of the rules and neverallows and the classes they use), as written: not sets
   * derived from them, and not the classes a query compiles later to describe its answers,
   * which are compiled as before, without a limit.
   */
  maxRangeRegions?: number;
}

export const DEFAULT_SPACE_LIMITS: SpaceLimits = { maxAutomatonStates: 200_000, maxRangeRegions: 500_000_000 };

export class SpaceTooLarge extends Error {}

/** SpaceTooLarge for the uid/gid/ISVPRODID/ISVSVN ranges (SpaceLimits.maxRangeRegions), not the globs. */
export class RangesTooLarge extends SpaceTooLarge {}

interface GlobDimension {
  globs: string[];
  globIndex: Map<string, number>;
  /** Per region: the globs (indices) that match it. */
  vectors: Int32Array[];
  witnesses: (string | undefined)[];
  byVector: Map<string, number>;
  /** Regions each glob matches. */
  globSets: RegionSet[];
}

interface IntDimension {
  /** Lower bound of each region; region i is lows[i]..lows[i+1]-1. */
  lows: number[];
  max: number;
}

interface MeasurementDimension {
  regionOf: Map<string, number>;
  /** A value in each region; the last region holds only values no mentioned set contains. */
  representatives: string[];
  /** The region numbers of a mentioned set, by its values array (or a literal's text). */
  setCache: Map<readonly string[] | string, RegionSet>;
}

export class RegionSpace {
  readonly dims: Dimension[] = [];
  readonly exe: number;
  readonly label: number;
  readonly uid: number;
  readonly gid: number;
  readonly via: number;
  readonly isvprodid: number;
  readonly isvsvn: number;
  readonly mrsigner: number;
  readonly mrenclave: number;
  /** Device path → dimension. Only canonical paths (a request can hold nothing else). */
  readonly devices = new Map<string, number>();
  readonly attributes = new Map<ConditionAttribute, number>();
  readonly provisionDevice: number;
  readonly provisionkey: number;

  /** Whether the globs are coarse (SpaceLimits.coarseGlobs): proofs only, no witnesses. */
  readonly coarse: boolean;
  private readonly exeData: GlobDimension;
  private readonly labelData: GlobDimension;
  /** In a coarse space: the dimension of each glob, by mode and glob (`exe:…`, `label:…`). */
  private readonly coarseGlobDims = new Map<string, number>();
  private readonly ints = new Map<number, IntDimension>();
  private readonly measurements = new Map<number, MeasurementDimension>();

  /** Region numbers listed by `intRange` so far, and how many it may list (SpaceLimits.maxRangeRegions). */
  private rangeRegions = 0;
  private maxRangeRegions: number;

  constructor(programs: readonly Program[], limits: SpaceLimits = DEFAULT_SPACE_LIMITS) {
    const atoms = collectAtoms(programs);
    this.coarse = limits.coarseGlobs === true;
    this.maxRangeRegions = limits.maxRangeRegions ?? Infinity;

    // Coarse: the exe and label dimensions know no glob (one region; "no label" and "a label"),
    // and each glob gets its own two-region dimension below.
    this.exeData = globDimension(this.coarse ? [] : [...atoms.exeGlobs], 'exe', limits);
    this.exe = this.add('exe', 'exe', this.exeData.vectors.length);
    // Region 0 of label: the request has no label.
    this.labelData = globDimension(this.coarse ? [] : [...atoms.labelGlobs], 'label', limits);
    this.label = this.add('label', 'label', this.labelData.vectors.length);
    if (this.coarse) {
      for (const glob of [...atoms.exeGlobs].sort()) this.coarseGlobDims.set(`exe:${glob}`, this.add('exe', `exe ${JSON.stringify(glob)}`, 2));
      for (const glob of [...atoms.labelGlobs].sort()) this.coarseGlobDims.set(`label:${glob}`, this.add('label', `label ${JSON.stringify(glob)}`, 2));
    }

    this.uid = this.addInts('uid', atoms.uidCuts, MAX_UINT32);
    this.gid = this.addInts('gid', atoms.gidCuts, MAX_UINT32);
    this.via = this.add('via', 'via', 2);
    this.isvprodid = this.addInts('isvprodid', atoms.prodidCuts, MAX_UINT16);
    this.isvsvn = this.addInts('isvsvn', atoms.svnCuts, MAX_UINT16);
    this.mrsigner = this.addMeasurements('mrsigner', atoms.signerSets);
    this.mrenclave = this.addMeasurements('mrenclave', atoms.enclaveSets);

    atoms.devices.add(PROVISION_DEVICE);
    for (const device of [...atoms.devices].sort()) {
      if (!isHoldable(device)) continue;
      this.devices.set(device, this.add('device', `holds ${JSON.stringify(device)}`, 2));
    }
    for (const name of CONDITION_ATTRIBUTES) this.attributes.set(name, this.add('attribute', `attribute ${name}`, 2));
    this.provisionDevice = this.devices.get(PROVISION_DEVICE)!;
    this.provisionkey = this.attributes.get('provisionkey')!;
  }

  private add(kind: DimensionKind, name: string, n: number, initial: RegionSet = fullSet(n)): number {
    this.dims.push({ kind, name, n, initial });
    return this.dims.length - 1;
  }

  private addInts(kind: DimensionKind, cuts: Set<number>, max: number): number {
    const lows = [0, ...[...cuts].filter((c) => c > 0 && c <= max)].sort((a, b) => a - b).filter((v, i, a) => i === 0 || v !== a[i - 1]);
    const dim = this.add(kind, kind, lows.length);
    this.ints.set(dim, { lows, max });
    return dim;
  }

  private addMeasurements(kind: DimensionKind, sets: Map<readonly string[] | string, readonly string[]>): number {
    // A value's signature: the mentioned sets that contain it. Values with one signature are
    // one region; one more region holds every value no mentioned set contains.
    const setList = [...sets.values()];
    const signature = new Map<string, number[]>();
    setList.forEach((values, j) => {
      for (const v of values) {
        const s = signature.get(v);
        if (s === undefined) signature.set(v, [j]);
        else if (s[s.length - 1] !== j) s.push(j);
      }
    });
    const regionBySignature = new Map<string, number>();
    const regionOf = new Map<string, number>();
    const representatives: string[] = [];
    for (const v of [...signature.keys()].sort()) {
      const key = signature.get(v)!.join(',');
      let region = regionBySignature.get(key);
      if (region === undefined) {
        region = representatives.length;
        regionBySignature.set(key, region);
        representatives.push(v);
      }
      regionOf.set(v, region);
    }
    representatives.push(freshMeasurement(regionOf));
    const dim = this.add(kind, kind, representatives.length);
    this.measurements.set(dim, { regionOf, representatives, setCache: new Map() });
    return dim;
  }

  initialBox(): RegionSet[] {
    return this.dims.map((d) => d.initial);
  }

  // ---- atoms as region sets ---------------------------------------------------------------------

  /** The atom `exe GLOB` or `label GLOB` as a dimension and the regions of it that match. */
  globLiteral(mode: 'exe' | 'label', glob: string): [dim: number, regions: RegionSet] {
    if (this.coarse) return [this.coarseGlobDims.get(`${mode}:${glob}`)!, regionSet(2, [1])];
    const data = mode === 'exe' ? this.exeData : this.labelData;
    return [mode === 'exe' ? this.exe : this.label, data.globSets[data.globIndex.get(glob)!]];
  }

  /** The set-up is complete: ranges compiled from now on (by queries) are not counted against the limit. */
  endSetUp(): void {
    this.maxRangeRegions = Infinity;
  }

  /** The regions of an int dimension within lo..hi (the policy's own bounds are region bounds). */
  intRange(dim: number, lo: number, hi: number): RegionSet {
    const { lows, max } = this.ints.get(dim)!;
    const from = Math.max(lo, 0);
    const to = Math.min(hi, max);
    if (to < from) return emptySet(lows.length);
    const firstRegion = lowerBound(lows, from);
    const lastRegion = lowerBound(lows, to + 1) - 1;
    this.rangeRegions += Math.max(0, lastRegion - firstRegion + 1);
    if (this.rangeRegions > this.maxRangeRegions) {
      throw new RangesTooLarge(
        `the policy's ranges would list more than ${this.maxRangeRegions.toLocaleString('en-US')} region numbers (${this.dims[dim].name} has ${lows.length.toLocaleString('en-US')} regions); thousands of nested or overlapping uid or gid ranges need a number that grows with the square of their count`,
      );
    }
    return rangeSet(lows.length, firstRegion, lastRegion);
  }

  /** The regions of a measurement dimension holding any of `values` (a set's values, or one literal). */
  measurementSet(dim: number, values: readonly string[] | string): RegionSet {
    const data = this.measurements.get(dim)!;
    let set = data.setCache.get(values);
    if (set === undefined) {
      const list = typeof values === 'string' ? [values] : values;
      set = regionSet(
        this.dims[dim].n,
        list.map((v) => data.regionOf.get(v)!),
      );
      data.setCache.set(values, set);
    }
    return set;
  }

  // ---- concrete values ↔ regions -----------------------------------------------------------------

  /** The region of each dimension that a valid request falls in. */
  regionsOf(request: NormalizedRequest): number[] {
    if (this.coarse) throw new Error('analysis: a coarse space has no regions for a request');
    const out: number[] = [];
    out[this.exe] = this.globRegionOf(this.exeData, request.subject.exe, 'exe');
    out[this.label] = request.subject.label === undefined ? 0 : this.globRegionOf(this.labelData, request.subject.label, 'label');
    out[this.uid] = this.intRegionOf(this.uid, request.subject.uid);
    out[this.gid] = this.intRegionOf(this.gid, request.subject.gid);
    out[this.via] = request.via === 'kvm' ? 1 : 0;
    out[this.isvprodid] = this.intRegionOf(this.isvprodid, request.enclave.isvprodid);
    out[this.isvsvn] = this.intRegionOf(this.isvsvn, request.enclave.isvsvn);
    out[this.mrsigner] = this.measurementRegionOf(this.mrsigner, request.enclave.mrsigner);
    out[this.mrenclave] = this.measurementRegionOf(this.mrenclave, request.enclave.mrenclave);
    for (const [device, dim] of this.devices) out[dim] = request.subject.holds.includes(device) ? 1 : 0;
    for (const [name, dim] of this.attributes) out[dim] = (request.enclave.attributeBits >>> ATTRIBUTE_BITS[name]) & 1;
    return out;
  }

  intRegionOf(dim: number, value: number): number {
    return lowerBound(this.ints.get(dim)!.lows, value + 1) - 1;
  }

  measurementRegionOf(dim: number, value: string): number {
    const data = this.measurements.get(dim)!;
    return data.regionOf.get(value.toLowerCase()) ?? data.representatives.length - 1;
  }

  private globRegionOf(data: GlobDimension, text: string, mode: 'exe' | 'label'): number {
    const vector: number[] = [];
    data.globs.forEach((glob, i) => {
      if (compileGlob(glob, mode).matches(text)) vector.push(i);
    });
    const region = data.byVector.get(vector.join(','));
    if (region === undefined) throw new Error(`analysis: ${mode} ${JSON.stringify(text)} falls in no region`);
    return region;
  }

  /** Words for one region, for describing a set of requests. */
  regionWitness(dim: number, region: number): string | number | undefined {
    if (dim === this.exe) return this.exeData.witnesses[region];
    if (dim === this.label) return this.labelData.witnesses[region];
    const ints = this.ints.get(dim);
    if (ints) return ints.lows[region];
    const measurement = this.measurements.get(dim);
    if (measurement) return measurement.representatives[region];
    return region;
  }

  /** lo..hi of an int dimension's region. */
  intBounds(dim: number, region: number): [number, number] {
    const { lows, max } = this.ints.get(dim)!;
    return [lows[region], region + 1 < lows.length ? lows[region + 1] - 1 : max];
  }

  isIntDimension(dim: number): boolean {
    return this.ints.has(dim);
  }

  /** Whether a measurement region is the one of values no mentioned set contains. */
  isUnmentionedMeasurement(dim: number, region: number): boolean {
    return region === this.dims[dim].n - 1;
  }

  /** The values of the policy's sets that fall in a measurement region (none for the last one). */
  measurementValues(dim: number, region: number): string[] {
    const data = this.measurements.get(dim)!;
    const out: string[] = [];
    for (const [value, r] of data.regionOf) if (r === region) out.push(value);
    return out.sort();
  }

  /** One concrete request in the box (the first region of each dimension), as SPEC 2 JSON. */
  requestOf(box: Box): RequestJson {
    if (this.coarse) throw new Error('analysis: a coarse space has no witnesses');
    const pick = (dim: number): number => {
      const r = first(box[dim]);
      if (r < 0) throw new Error(`analysis: empty ${this.dims[dim].name} in a witness box`);
      return r;
    };
    const intValue = (dim: number) => this.ints.get(dim)!.lows[pick(dim)];
    const measurement = (dim: number) => this.measurements.get(dim)!.representatives[pick(dim)];
    const exe = this.exeData.witnesses[pick(this.exe)]!;
    const labelRegion = pick(this.label);
    const holds = [...this.devices].filter(([, dim]) => pick(dim) === 1).map(([device]) => device);
    const attributes = CONDITION_ATTRIBUTES.filter((name) => pick(this.attributes.get(name)!) === 1);
    const subject: RequestJson['subject'] = { exe, uid: intValue(this.uid), gid: intValue(this.gid) };
    if (labelRegion !== 0) subject.label = this.labelData.witnesses[labelRegion]!;
    subject.holds = holds;
    return {
      subject,
      action: 'einit',
      via: pick(this.via) === 1 ? 'kvm' : 'host',
      enclave: {
        mrenclave: measurement(this.mrenclave),
        mrsigner: measurement(this.mrsigner),
        isvprodid: intValue(this.isvprodid),
        isvsvn: intValue(this.isvsvn),
        attributes: [...attributes],
      },
    };
  }
}

/** Whether a request can hold this device: `holds` entries are canonical paths (SPEC 2). */
export function isHoldable(device: string): boolean {
  return !longerThan(device, MAX_STRING_LENGTH) && canonicalPathFlaw(device) === undefined;
}

function globDimension(globs: string[], mode: 'exe' | 'label', limits: SpaceLimits): GlobDimension {
  globs.sort();
  const outcome = globRegions(globs, mode, { maxStates: limits.maxAutomatonStates });
  if (!outcome.ok) throw new SpaceTooLarge(outcome.reason);
  const vectors = [...outcome.regions.vectors];
  const witnesses: (string | undefined)[] = [...outcome.regions.witnesses];
  if (mode === 'label') {
    // Region 0: no label at all (matches no label glob).
    vectors.unshift(new Int32Array(0));
    witnesses.unshift(undefined);
  }
  const byVector = new Map<string, number>();
  vectors.forEach((v, region) => {
    if (mode === 'label' && region === 0) return;
    byVector.set(v.join(','), region);
  });
  const members: number[][] = globs.map(() => []);
  vectors.forEach((v, region) => {
    for (const g of v) members[g].push(region);
  });
  return {
    globs,
    globIndex: new Map(globs.map((g, i) => [g, i])),
    vectors,
    witnesses,
    byVector,
    globSets: members.map((ids) => regionSet(vectors.length, ids)),
  };
}

/** Index of the first element ≥ value. */
function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A measurement no mentioned set contains (deterministic: the smallest such of a short list of patterns). */
function freshMeasurement(taken: Map<string, number>): string {
  for (let i = 0; ; i++) {
    const candidate = i.toString(16).padStart(64, '0');
    if (!taken.has(candidate)) return candidate;
  }
}

// ---- collecting the atoms --------------------------------------------------------------------

interface Atoms {
  exeGlobs: Set<string>;
  labelGlobs: Set<string>;
  devices: Set<string>;
  uidCuts: Set<number>;
  gidCuts: Set<number>;
  prodidCuts: Set<number>;
  svnCuts: Set<number>;
  /** Each mentioned set's values, keyed as measurementSet keys them. */
  signerSets: Map<readonly string[] | string, readonly string[]>;
  enclaveSets: Map<readonly string[] | string, readonly string[]>;
}

function collectAtoms(programs: readonly Program[]): Atoms {
  const atoms: Atoms = {
    exeGlobs: new Set(),
    labelGlobs: new Set(),
    devices: new Set(),
    uidCuts: new Set(),
    gidCuts: new Set(),
    prodidCuts: new Set(),
    svnCuts: new Set(),
    signerSets: new Map(),
    enclaveSets: new Map(),
  };
  for (const program of programs) {
    const object = (o: ObjectRef) => {
      const [key, values] = objectValues(program, o);
      (o.objKind === 'signer' ? atoms.signerSets : atoms.enclaveSets).set(key, values);
    };
    const pred = (p: SubjPred) => {
      switch (p.kind) {
        case 'exe':
          atoms.exeGlobs.add(p.glob.value);
          break;
        case 'label':
          atoms.labelGlobs.add(p.glob.value);
          break;
        case 'holds':
          atoms.devices.add(p.path.value);
          break;
        case 'uid':
        case 'gid': {
          const cuts = p.kind === 'uid' ? atoms.uidCuts : atoms.gidCuts;
          cuts.add(p.lo.value);
          cuts.add(p.hi.value + 1);
          break;
        }
      }
    };
    const subjExpr = (root: SubjExpr) => {
      const stack = [root];
      while (stack.length > 0) {
        const e = stack.pop()!;
        if (e.kind === 'and' || e.kind === 'or') for (const x of e.operands) stack.push(x);
        else if (e.kind === 'not') stack.push(e.operand);
        else if (e.kind === 'pred') pred(e.pred);
      }
    };
    const cond = (root: Cond) => {
      const stack = [root];
      while (stack.length > 0) {
        const c = stack.pop()!;
        switch (c.kind) {
          case 'and':
          case 'or':
            for (const x of c.operands) stack.push(x);
            break;
          case 'not':
            stack.push(c.operand);
            break;
          case 'cmp': {
            const cuts = c.field === 'isvprodid' ? atoms.prodidCuts : atoms.svnCuts;
            cuts.add(c.value.value);
            cuts.add(c.value.value + 1);
            break;
          }
          case 'in': {
            const cuts = c.field === 'isvprodid' ? atoms.prodidCuts : atoms.svnCuts;
            cuts.add(c.lo.value);
            cuts.add(c.hi.value + 1);
            break;
          }
          case 'object':
            object(c.object);
            break;
          case 'subjpred':
            pred(c.pred);
            break;
          default:
            break;
        }
      }
    };
    for (const cls of program.subjects.values()) subjExpr(cls.decl.expr);
    for (const pattern of [...program.rules, ...program.neverallows]) {
      const decl = pattern.decl;
      if (decl.objects.kind === 'list') decl.objects.items.forEach(object);
      if (decl.where) cond(decl.where);
    }
  }
  return atoms;
}

/** A mentioned object's values, and the key its region set is cached under. */
export function objectValues(program: Program, o: ObjectRef): [readonly string[] | string, readonly string[]] {
  if (o.target.kind === 'literal') {
    const value = o.target.value.toLowerCase();
    return [value, [value]];
  }
  const set = (o.objKind === 'signer' ? program.signers : program.enclaves).get(o.target.name.text);
  if (set === undefined) throw new Error(`analysis: ${o.objKind} set '${o.target.name.text}' is not in the program`);
  return [set.values, set.values];
}
