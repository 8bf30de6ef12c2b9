// Questions a policy owner asks before shipping, answered exactly with the solver:
//   diff      which requests change decision between two policies (SPEC 5), grouped by the
//             old and new deciding rules;
//   who-can   which subjects may launch a given enclave (by MRSIGNER, MRENCLAVE or SIGSTRUCT);
//   what-can  which enclaves a given process may launch.
// Each answer is a list of groups, one per deciding rule (pair), found one at a time: the
// solver finds a request in the question not yet covered, the reference interpreter names its
// deciding rule(s), and that rule's whole share of the question is described (exact
// projections on path, numbers, attributes and measurements) and excluded from the next search.
import type { Program } from '../ir.js';
import { ATTRIBUTE_BITS, type NormalizedRequest, type NormalizedSubject, type RequestJson } from '../../runtime/types.js';
import { normalizeRequest } from '../../runtime/request.js';
import { referenceDecision, setUpAnalysis, witnessOf, type Analysis } from './context.js';
import { FormulaTooDeep, TRUE, type Formula } from './formula.js';
import type { PolicyLogic } from './logic.js';
import { complement, has, intersect, isEmpty, members, regionSet, size, union, type RegionSet } from './regionset.js';
import { Budget, BudgetExceeded, Solver } from './solve.js';
import { CONDITION_ATTRIBUTES, type Box } from './space.js';

export interface QueryOptions {
  /** Work allowed for deciding whether there is any answer at all. */
  budget: number;
  /** Work allowed for finding and describing all the groups (after the first). */
  groupBudget: number;
  /** Most groups listed. */
  maxGroups: number;
}

export const DEFAULT_QUERY_OPTIONS: QueryOptions = { budget: 400_000_000, groupBudget: 400_000_000, maxGroups: 50 };

/** What the requests of one group have in common, computed exactly over the group. */
export interface GroupShape {
  via: ('host' | 'kvm')[];
  /** Per number field, the values some request of the group has, as inclusive ranges. */
  isvprodid: [number, number][];
  isvsvn: [number, number][];
  /** Attributes every request of the group has / none has. */
  attributesRequired: string[];
  attributesForbidden: string[];
  /** MRSIGNER / MRENCLAVE values some request of the group has (see MeasurementShape). */
  mrsigner: MeasurementShape;
  mrenclave: MeasurementShape;
}

/**
 * Values of a measurement in a group: `listed` are values the policy names; when `others` is
 * true, any value the policy does not name also occurs.
 */
export interface MeasurementShape {
  listed: string[];
  others: boolean;
  /** Named sets of the policy all of whose values are in the group (for describing it). */
  sets: string[];
  /** True when every value occurs. */
  any: boolean;
}

export type QueryOutcome<G> = { status: 'ok'; groups: G[]; complete: boolean } | { status: 'unknown'; reason: string };

// ---- diff ----------------------------------------------------------------------------------------

export interface DiffGroup {
  old: { decision: 'allow' | 'deny'; rule: string };
  new: { decision: 'allow' | 'deny'; rule: string };
  /** One request of the group, in SPEC 2 JSON. */
  witness: RequestJson;
  shape: GroupShape;
  /** Subject classes (of either policy) the witness belongs to. */
  witnessSubjects: string[];
  /** The group in words (subjects, path, measurements, numbers, attributes). */
  summary: string;
  /** The summary and the decisions. */
  description: string;
}

export function diffPrograms(oldProgram: Program, newProgram: Program, options: QueryOptions = DEFAULT_QUERY_OPTIONS): QueryOutcome<DiffGroup> {
  const setup = setUpAnalysis([oldProgram, newProgram]);
  if (!setup.ok) return { status: 'unknown', reason: setup.reason };
  const analysis = setup.analysis;
  const [before, after] = analysis.logics;
  const b = analysis.builder;
  const changed = b.or([b.and([before.allowed(), after.denied()]), b.and([before.denied(), after.allowed()])]);
  return enumerate(analysis, changed, analysis.space.initialBox(), options, (json, request) => {
    const d0 = referenceDecision(oldProgram, json);
    const d1 = referenceDecision(newProgram, json);
    if (d0.decision === d1.decision || d0.rule === null || d1.rule === null) {
      throw new Error(`analysis: diff witness does not change decision: ${JSON.stringify(json)}`);
    }
    const group = b.and([before.decidedBy(d0.rule), after.decidedBy(d1.rule)]);
    return {
      group,
      finish: (shape: GroupShape): DiffGroup => {
        const witnessSubjects = [...new Set([...subjectClassesOf(before, request), ...subjectClassesOf(after, request)])].sort();
        const old = { decision: d0.decision, rule: d0.rule! };
        const now = { decision: d1.decision, rule: d1.rule! };
        const summary = describeShape(shape, witnessSubjects);
        return {
          old,
          new: now,
          witness: json,
          shape,
          witnessSubjects,
          summary,
          description: `${summary}: ${old.decision} by ${old.rule} before, ${now.decision} by ${now.rule} now`,
        };
      },
    };
  });
}

// ---- who-can and what-can ------------------------------------------------------------------------

/** Fixed parts of the enclave (and path) for who-can. */
export interface EnclaveQuery {
  mrsigner?: string;
  mrenclave?: string;
  isvprodid?: number;
  isvsvn?: number;
  /** The low 32 bits of the ATTRIBUTES flags. */
  attributeBits?: number;
  via?: 'host' | 'kvm';
}

export interface AccessGroup {
  /** The deciding allow rule, or `default`. */
  rule: string;
  because: string | undefined;
  witness: RequestJson;
  shape: GroupShape;
  /** Subject classes every subject of the group is in / some are in. */
  subjectsAlways: string[];
  subjectsSometimes: string[];
  /** The group in words (subjects, path, measurements, numbers, attributes). */
  summary: string;
  description: string;
}

export function whoCan(program: Program, query: EnclaveQuery, options: QueryOptions = DEFAULT_QUERY_OPTIONS): QueryOutcome<AccessGroup> {
  const setup = setUpAnalysis([program]);
  if (!setup.ok) return { status: 'unknown', reason: setup.reason };
  const analysis = setup.analysis;
  const space = analysis.space;
  const box = space.initialBox();
  if (query.mrsigner !== undefined) box[space.mrsigner] = one(space.dims[space.mrsigner].n, space.measurementRegionOf(space.mrsigner, query.mrsigner));
  if (query.mrenclave !== undefined) box[space.mrenclave] = one(space.dims[space.mrenclave].n, space.measurementRegionOf(space.mrenclave, query.mrenclave));
  if (query.isvprodid !== undefined) box[space.isvprodid] = one(space.dims[space.isvprodid].n, space.intRegionOf(space.isvprodid, query.isvprodid));
  if (query.isvsvn !== undefined) box[space.isvsvn] = one(space.dims[space.isvsvn].n, space.intRegionOf(space.isvsvn, query.isvsvn));
  if (query.attributeBits !== undefined) {
    for (const [name, dim] of space.attributes) box[dim] = one(2, (query.attributeBits >>> ATTRIBUTE_BITS[name]) & 1);
  }
  if (query.via !== undefined) box[space.via] = one(2, query.via === 'kvm' ? 1 : 0);
  // Witnesses show the queried values themselves (they fall in the same regions as the box's).
  const patch = (json: RequestJson): RequestJson => {
    const enclave = { ...(json.enclave as Extract<RequestJson['enclave'], { mrsigner: string }>) };
    if (query.mrsigner !== undefined) enclave.mrsigner = query.mrsigner;
    if (query.mrenclave !== undefined) enclave.mrenclave = query.mrenclave;
    if (query.isvprodid !== undefined) enclave.isvprodid = query.isvprodid;
    if (query.isvsvn !== undefined) enclave.isvsvn = query.isvsvn;
    return { ...json, enclave };
  };
  return access(analysis, box, options, true, patch);
}

export function whatCan(program: Program, subject: NormalizedSubject, via: 'host' | 'kvm' | undefined, options: QueryOptions = DEFAULT_QUERY_OPTIONS): QueryOutcome<AccessGroup> {
  const setup = setUpAnalysis([program]);
  if (!setup.ok) return { status: 'unknown', reason: setup.reason };
  const analysis = setup.analysis;
  const space = analysis.space;
  // Any enclave will do to read off the subject's regions.
  const probe: NormalizedRequest = {
    subject,
    action: 'einit',
    via: via ?? 'host',
    enclave: { mrenclave: '0'.repeat(64), mrsigner: '0'.repeat(64), isvprodid: 0, isvsvn: 0, attributeBits: 0, attributesHex: '0'.repeat(16) },
  };
  const regions = space.regionsOf(probe);
  const box = space.initialBox();
  for (const dim of [space.exe, space.label, space.uid, space.gid, ...space.devices.values()]) box[dim] = one(space.dims[dim].n, regions[dim]);
  if (via !== undefined) box[space.via] = one(2, regions[space.via]);
  const subjectJson: RequestJson['subject'] = { exe: subject.exe, uid: subject.uid, gid: subject.gid, holds: [...subject.holds] };
  if (subject.label !== undefined) subjectJson.label = subject.label;
  return access(analysis, box, options, false, (json) => ({ ...json, subject: subjectJson }));
}

function access(analysis: Analysis, box: Box, options: QueryOptions, describeSubjects: boolean, patch: (json: RequestJson) => RequestJson): QueryOutcome<AccessGroup> {
  const logic = analysis.logics[0];
  const program = logic.program;
  return enumerate(analysis, logic.allowed(), box, options, (found, _request, solver) => {
    const json = patch(found);
    const check = normalizeRequest(json);
    if (!check.ok) throw new Error(`analysis: a patched witness is invalid (${check.reason})`);
    const request = check.request;
    const decision = referenceDecision(program, json);
    if (decision.decision !== 'allow' || decision.rule === null) throw new Error(`analysis: access witness is not allowed: ${JSON.stringify(json)}`);
    const rule = decision.rule;
    const group = logic.decidedBy(rule);
    return {
      group,
      finish: (shape: GroupShape, within: Formula): AccessGroup => {
        const always: string[] = [];
        const sometimes: string[] = [];
        if (describeSubjects) {
          for (const name of [...program.subjects.keys()].sort()) {
            const member = logic.subjectClass(name);
            if (!solver.satisfiable(analysis.builder.and([within, member]), box)) continue;
            if (solver.satisfiable(analysis.builder.and([within, analysis.builder.not(member)]), box)) sometimes.push(name);
            else always.push(name);
          }
        } else {
          for (const name of subjectClassesOf(logic, request)) always.push(name);
        }
        const because = program.rules.find((r) => r.id === rule)?.because;
        const summary = describeShape(shape, always);
        return {
          rule,
          because,
          witness: json,
          shape,
          subjectsAlways: always,
          subjectsSometimes: sometimes,
          summary,
          description: `${summary}: allow by ${rule}${because !== undefined ? ` (${because})` : ''}`,
        };
      },
    };
  });
}

// ---- finding groups one at a time ----------------------------------------------------------------

interface Found<G> {
  /** Every request that belongs with this one: a subset of the question. */
  group: Formula;
  finish: (shape: GroupShape, within: Formula) => G;
}

function enumerate<G>(
  analysis: Analysis,
  question: Formula,
  box: Box,
  options: QueryOptions,
  classify: (json: RequestJson, request: NormalizedRequest, solver: Solver) => Found<G>,
): QueryOutcome<G> {
  const b = analysis.builder;
  // One search walks the whole question: each solution found names a group, which is then
  // excluded from the rest of the search. Deciding whether there is any solution at all gets
  // `budget`; listing and describing the groups gets `groupBudget` more.
  const budget = new Budget(options.budget);
  const solver = new Solver(b, budget);
  const groups: G[] = [];
  let complete = true;
  try {
    solver.enumerate(question, box, (found) => {
      if (groups.length === 0) budget.limit = budget.used + options.groupBudget;
      if (groups.length === options.maxGroups) {
        complete = false;
        return 'stop';
      }
      const { json, request } = witnessOf(analysis, found);
      const { group, finish } = classify(json, request, solver);
      // Every group lies inside the question (a pair of deciding rules with different
      // decisions; an allow rule's decision), so the group alone describes it.
      const within = group;
      groups.push(finish(shapeOf(analysis, solver, within, box), within));
      return b.not(group);
    });
  } catch (e) {
    if (!(e instanceof BudgetExceeded || e instanceof FormulaTooDeep)) throw e;
    if (groups.length === 0) return { status: 'unknown', reason: e.message };
    complete = false;
  }
  return { status: 'ok', groups, complete };
}

// ---- describing a group --------------------------------------------------------------------------

function shapeOf(analysis: Analysis, solver: Solver, within: Formula, box: Box): GroupShape {
  const space = analysis.space;
  const b = analysis.builder;
  // A dimension the group's formula does not mention takes every value of the box's domain.
  const mentioned = dimensionsOf(within);
  const possible = (dim: number, set: RegionSet) =>
    mentioned.has(dim) ? solver.satisfiable(b.and([within, b.lit(dim, set)]), box) : !isEmpty(intersect(box[dim], set));
  /**
   * The regions of `dim` some request of the group falls in. Each solution the solver returns is
   * a box all of whose points are in the group, so its whole `dim` domain joins the projection;
   * the next search excludes what is known. Few searches suffice when solutions are wide.
   */
  const projection = (dim: number): RegionSet => {
    if (!mentioned.has(dim)) return box[dim];
    let known: RegionSet = regionSet(space.dims[dim].n, []);
    for (;;) {
      const found = solver.solve(b.and([within, b.lit(dim, complement(known))]), box);
      if (found === undefined) return known;
      known = union(known, found[dim]);
    }
  };
  const ranges = (dim: number): [number, number][] => {
    const out: [number, number][] = [];
    for (const region of members(projection(dim))) {
      const [lo, hi] = space.intBounds(dim, region);
      const last = out[out.length - 1];
      if (last !== undefined && last[1] + 1 === lo) last[1] = hi;
      else out.push([lo, hi]);
    }
    return out;
  };
  const attributesRequired: string[] = [];
  const attributesForbidden: string[] = [];
  for (const name of CONDITION_ATTRIBUTES) {
    const dim = space.attributes.get(name)!;
    const canSet = possible(dim, one(2, 1));
    const canClear = possible(dim, one(2, 0));
    if (canSet && !canClear) attributesRequired.push(name);
    if (canClear && !canSet) attributesForbidden.push(name);
  }
  return {
    via: (['host', 'kvm'] as const).filter((v) => possible(space.via, one(2, v === 'kvm' ? 1 : 0))),
    isvprodid: ranges(space.isvprodid),
    isvsvn: ranges(space.isvsvn),
    attributesRequired,
    attributesForbidden,
    mrsigner: measurementShape(analysis, space.mrsigner, projection(space.mrsigner), 'signer'),
    mrenclave: measurementShape(analysis, space.mrenclave, projection(space.mrenclave), 'enclave'),
  };
}

function dimensionsOf(f: Formula): Set<number> {
  const dims = new Set<number>();
  const seen = new Set<Formula>();
  const stack = [f];
  while (stack.length > 0) {
    const g = stack.pop()!;
    if (g.kind === 'lit') dims.add(g.dim);
    else if (g.kind !== 'const' && !seen.has(g)) {
      seen.add(g);
      for (const item of g.items) stack.push(item);
    }
  }
  return dims;
}

function measurementShape(analysis: Analysis, dim: number, regions: RegionSet, kind: 'signer' | 'enclave'): MeasurementShape {
  const space = analysis.space;
  const n = space.dims[dim].n;
  const any = size(regions) === n;
  const others = has(regions, n - 1);
  const listed: string[] = [];
  const inGroup = new Set<string>();
  if (!any) {
    for (const region of members(regions)) {
      if (space.isUnmentionedMeasurement(dim, region)) continue;
      for (const value of space.measurementValues(dim, region)) {
        listed.push(value);
        inGroup.add(value);
      }
    }
  }
  // Named sets wholly in the group, leaving out any that a larger one listed here contains.
  const candidates = new Map<string, readonly string[]>();
  if (!any) {
    for (const logic of analysis.logics) {
      for (const [name, set] of kind === 'signer' ? logic.program.signers : logic.program.enclaves) {
        if (!candidates.has(name) && set.values.length > 0 && set.values.every((v) => inGroup.has(v))) candidates.set(name, set.values);
      }
    }
  }
  const within = (a: readonly string[], b: readonly string[]) => a.every((v) => b.includes(v));
  const sets = [...candidates].filter(([name, values]) =>
    ![...candidates].some(([other, more]) => other !== name && within(values, more) && (more.length > values.length || other < name)),
  ).map(([name]) => name);
  return { listed: listed.sort(), others, sets: sets.sort(), any };
}

function describeShape(shape: GroupShape, subjects: string[]): string {
  const parts: string[] = [];
  parts.push(subjects.length > 0 ? `subjects in ${subjects.join(', ')}` : 'subjects in no named class');
  parts.push(shape.via.length === 2 ? 'via host or kvm' : `via ${shape.via[0]}`);
  parts.push(measurementWords(shape.mrsigner, 'signer'));
  const enclave = measurementWords(shape.mrenclave, 'enclave');
  if (!shape.mrenclave.any) parts.push(enclave);
  const numbers = (name: string, ranges: [number, number][]) => {
    if (ranges.length === 1 && ranges[0][0] === 0 && ranges[0][1] === 65535) return;
    parts.push(`${name} ${ranges.map(([lo, hi]) => (lo === hi ? `${lo}` : `${lo}..${hi}`)).join(', ')}`);
  };
  numbers('isvprodid', shape.isvprodid);
  numbers('isvsvn', shape.isvsvn);
  if (shape.attributesRequired.length > 0) parts.push(`with ${shape.attributesRequired.join(', ')}`);
  if (shape.attributesForbidden.length > 0) parts.push(`without ${shape.attributesForbidden.join(', ')}`);
  return parts.join(', ');
}

export function measurementWords(shape: MeasurementShape, kind: 'signer' | 'enclave'): string {
  if (shape.any) return `any ${kind}`;
  // Named sets wholly in the group, then the listed values no such set covers.
  const named = shape.sets.map((name) => `${kind} ${name}`);
  const values = shape.listed.length > 0 && named.length === 0 ? shape.listed.map((v) => `${kind} ${short(v)}`) : [];
  const listed = [...named, ...values];
  if (shape.others) return listed.length > 0 ? `any ${kind} the policy does not name, or ${listed.join(', ')}` : `any ${kind} the policy does not name`;
  return listed.length > 0 ? listed.join(', ') : `no ${kind}`;
}

function short(hex: string): string {
  return `${hex.slice(0, 12)}…`;
}

function subjectClassesOf(logic: PolicyLogic, request: NormalizedRequest): string[] {
  const space = logic.space;
  const box = space.initialBox();
  space.regionsOf(request).forEach((region, dim) => (box[dim] = one(space.dims[dim].n, region)));
  const solver = new Solver(logic.builder, new Budget(Number.MAX_SAFE_INTEGER));
  // At a single point every formula simplifies to a constant.
  return [...logic.program.subjects.keys()].filter((name) => solver.simplify(logic.subjectClass(name), box) === TRUE).sort();
}

function one(n: number, region: number): RegionSet {
  return regionSet(n, [region]);
}
