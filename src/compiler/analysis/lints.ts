// SPEC 3.5 warnings, decided with the same solver as neverallow:
//   never matches   no valid request matches the rule;
//   shadowed        every request the rule matches is decided by other rules (an earlier
//                   deny for a deny; any deny or an earlier allow for an allow);
//   duplicate       shadowed by one earlier rule of the same effect that matches exactly the
//                   same requests;
//   default allow   some valid request is decided by `default allow`;
//   kvm holds-only  for some enclave, an allow rule that governs guests (`via kvm`/`any`) admits
//                   every process that holds /dev/kvm, whatever else it is, and not every process.
// Shadowing compares each rule only with the rules whose rough boxes (the rule's top-level
// literals) overlap its own, found through per-dimension buckets, so a big policy costs about
// (rules × overlapping rules), not rules².
import type { Rule } from '../ir.js';
import type { RequestJson } from '../../runtime/types.js';
import { referenceDecision, witnessOf, type Analysis } from './context.js';
import { FormulaTooDeep, type Formula } from './formula.js';
import { BUILTIN_KEY, DEFAULT_KEY, type PolicyLogic } from './logic.js';
import { intersects, regionSet } from './regionset.js';
import { Budget, BudgetExceeded, Solver } from './solve.js';
import type { Box } from './space.js';

export type LintFinding =
  | { kind: 'never-matches'; rule: Rule }
  | { kind: 'shadowed'; rule: Rule; by: Rule[]; more: boolean }
  | { kind: 'duplicate'; rule: Rule; of: Rule }
  | { kind: 'default-allow'; witness: RequestJson }
  | { kind: 'kvm-holds-only'; rule: Rule; witness: RequestJson };

export interface LintOptions {
  /** Work allowed for all lints together; past it, the remaining rules are not checked. */
  budget: number;
}

/** The lints' work limit, for all rules together: it grows with the policy (see neverallowOptionsFor). */
export function lintOptionsFor(ruleCount: number): LintOptions {
  return { budget: 30_000_000 + 5_000 * ruleCount };
}

export const DEFAULT_LINT_OPTIONS: LintOptions = lintOptionsFor(0);

export interface LintResult {
  findings: LintFinding[];
  /** Set when the budget ran out: how many rules were fully checked. */
  stoppedAfter?: number;
}

const NAMED_SHADOWERS = 5;

export function lintProgram(analysis: Analysis, options: LintOptions = lintOptionsFor(analysis.logics[0].rules.length)): LintResult {
  const logic = analysis.logics[0];
  const budget = new Budget(options.budget, true);
  const solver = new Solver(analysis.builder, budget);
  const findings: LintFinding[] = [];
  const rules = logic.rules;
  let checked = 0;
  try {
    defaultAllow(analysis, logic, solver, findings);
    // A rule's rough box: the solver's first step (its top-level literals moved into the box)
    // holds every request it matches; undefined when the rule can never match.
    const boxes = rules.map((_, i) => (solver.satisfiable(logic.ruleMatch[i]) ? solver.roughBox(logic.ruleMatch[i]) : undefined));
    const overlaps = new OverlapIndex(boxes);
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i];
      if (boxes[i] === undefined) {
        findings.push({ kind: 'never-matches', rule });
      } else {
        shadowing(analysis, logic, solver, i, overlaps, findings);
        if (rule.effect === 'allow' && rule.via !== 'host') kvmHoldsOnly(analysis, logic, solver, i, findings);
      }
      checked++;
    }
  } catch (e) {
    if (!(e instanceof BudgetExceeded || e instanceof FormulaTooDeep)) throw e;
    return { findings, stoppedAfter: checked };
  }
  return { findings };
}

function defaultAllow(analysis: Analysis, logic: PolicyLogic, solver: Solver, findings: LintFinding[]): void {
  if (!logic.defaultAllow) return;
  const b = analysis.builder;
  const box = solver.solve(b.and([b.not(logic.anyDeny()), b.not(logic.anyAllow())]));
  if (box === undefined) return;
  const { json } = witnessOf(analysis, box);
  const rule = referenceDecision(logic.program, json).rule;
  if (rule !== DEFAULT_KEY && rule !== BUILTIN_KEY) {
    throw new Error(`analysis: default-allow witness does not replay: ${JSON.stringify(json)}`);
  }
  findings.push({ kind: 'default-allow', witness: json });
}

function shadowing(analysis: Analysis, logic: PolicyLogic, solver: Solver, i: number, overlaps: OverlapIndex, findings: LintFinding[]): void {
  const b = analysis.builder;
  const rules = logic.rules;
  const rule = rules[i];
  // Rules that win over this one wherever both match (SPEC 5: the first matching deny, else
  // the first matching allow), in the order they take precedence: denies, then allows.
  const beats = (j: number) => (rules[j].effect === 'deny' ? rule.effect === 'allow' || j < i : rule.effect === 'allow' && j < i);
  const winners = overlaps.candidates(i, (j) => j !== i && beats(j));
  if (winners.length === 0) return;
  winners.sort((x, y) => (rules[x].effect === rules[y].effect ? x - y : rules[x].effect === 'deny' ? -1 : 1));
  const match = logic.ruleMatch[i];
  const stillDecides = b.and([match, b.not(b.or(winners.map((j) => logic.ruleMatch[j])))]);
  if (solver.satisfiable(stillDecides)) return;

  // Shadowed. Name the winners that decide some of its requests: W does when it matches one of
  // them and no winner that takes precedence over W does.
  const overlapping = winners.filter((j) => solver.satisfiable(b.and([match, logic.ruleMatch[j]])));
  const by: Rule[] = [];
  let more = false;
  for (let k = 0; k < overlapping.length; k++) {
    const j = overlapping[k];
    const before = overlapping.slice(0, k).map((w) => logic.ruleMatch[w]);
    if (!solver.satisfiable(b.and([match, logic.ruleMatch[j], b.not(b.or(before))]))) continue;
    if (by.length === NAMED_SHADOWERS) {
      more = true;
      break;
    }
    by.push(rules[j]);
  }
  if (by.length === 1 && !more && by[0].effect === rule.effect) {
    const other = logic.ruleMatch[by[0].index];
    if (!solver.satisfiable(b.and([other, b.not(match)]))) {
      findings.push({ kind: 'duplicate', rule, of: by[0] });
      return;
    }
  }
  findings.push({ kind: 'shadowed', rule, by, more });
}

/**
 * ∃ enclave e: (∀ subject s holding /dev/kvm: the rule admits (s, kvm, e)) ∧ (∃ s: it does not).
 * Enclave-side dimensions are cut into the classes the rule's literals tell apart; in each class
 * the rule is a formula over the subject alone, and the two conditions are two solver calls.
 */
function kvmHoldsOnly(analysis: Analysis, logic: PolicyLogic, solver: Solver, i: number, findings: LintFinding[]): void {
  const space = analysis.space;
  const kvm = space.devices.get('/dev/kvm');
  if (kvm === undefined) return;
  const b = analysis.builder;
  const start = space.initialBox();
  start[space.via] = regionSet(2, [1]);
  const match = solver.simplify(logic.ruleMatch[i], start);
  if (!mentions(match, kvm)) return;
  const enclaveDims = new Set([space.mrsigner, space.mrenclave, space.isvprodid, space.isvsvn, ...space.attributes.values()]);
  const holdsKvm = b.lit(kvm, regionSet(2, [1]));

  const cells: { f: Formula; box: Box }[] = [{ f: match, box: start }];
  while (cells.length > 0) {
    const { f, box } = cells.pop()!;
    const dim = firstDimIn(f, enclaveDims);
    if (dim !== undefined) {
      for (const cls of solver.classesOf(f, box, dim)) {
        const next = box.slice();
        next[dim] = cls;
        cells.push({ f: solver.simplify(f, next), box: next });
      }
      continue;
    }
    if (f.kind === 'const') continue; // admits everyone or no one for this enclave
    if (solver.satisfiable(b.and([holdsKvm, b.not(f)]), box)) continue;
    const excluded = solver.solve(b.not(f), box);
    if (excluded === undefined) continue;
    // A witness: some kvm holder this rule admits for this enclave.
    const admitted = solver.solve(b.and([holdsKvm, f]), box);
    if (admitted === undefined) continue;
    findings.push({ kind: 'kvm-holds-only', rule: logic.rules[i], witness: witnessOf(analysis, admitted).json });
    return;
  }
}

function mentions(f: Formula, dim: number): boolean {
  const stack = [f];
  while (stack.length > 0) {
    const g = stack.pop()!;
    if (g.kind === 'lit') {
      if (g.dim === dim) return true;
    } else if (g.kind !== 'const') for (const item of g.items) stack.push(item);
  }
  return false;
}

function firstDimIn(f: Formula, dims: Set<number>): number | undefined {
  const stack = [f];
  while (stack.length > 0) {
    const g = stack.pop()!;
    if (g.kind === 'lit') {
      if (dims.has(g.dim)) return g.dim;
    } else if (g.kind !== 'const') for (const item of g.items) stack.push(item);
  }
  return undefined;
}

// ---- which rules can overlap which ----------------------------------------------------------------

const NARROW = 16;

/**
 * For each rule, its rough box (undefined: never matches). Two rules can only overlap where
 * their boxes do, in every dimension. Buckets per dimension find the candidates quickly.
 */
class OverlapIndex {
  private readonly byDim = new Map<number, { buckets: Map<number, number[]>; wide: number[] }>();
  /** Dimensions in the order boxes are compared: those with more regions first (they tell rules apart soonest). */
  private readonly order: number[] = [];

  constructor(private readonly boxes: (Box | undefined)[]) {
    const first = boxes.find((b) => b !== undefined);
    if (first === undefined) return;
    this.order = first.map((_, d) => d).sort((a, b) => first[b].n - first[a].n || a - b);
    for (let dim = 0; dim < first.length; dim++) {
      const buckets = new Map<number, number[]>();
      const wide: number[] = [];
      boxes.forEach((box, i) => {
        if (box === undefined) return;
        const domain = box[dim];
        if (domain.neg || domain.ids.length > NARROW) {
          wide.push(i);
          return;
        }
        for (const region of domain.ids) {
          const bucket = buckets.get(region);
          if (bucket === undefined) buckets.set(region, [i]);
          else bucket.push(i);
        }
      });
      if (buckets.size > 0) this.byDim.set(dim, { buckets, wide });
    }
  }

  /** Rules admitted by `admit` whose boxes meet rule i's box in every dimension, in program order. */
  candidates(i: number, admit: (j: number) => boolean): number[] {
    const box = this.boxes[i]!;
    // The dimension where rule i has the fewest candidates (counted before they are gathered).
    let bestDim = -1;
    let bestCount = Infinity;
    for (const [dim, { buckets, wide }] of this.byDim) {
      const domain = box[dim];
      if (domain.neg || domain.ids.length > NARROW) continue;
      let count = wide.length;
      for (const region of domain.ids) count += buckets.get(region)?.length ?? 0;
      if (count < bestCount) {
        bestCount = count;
        bestDim = dim;
      }
    }
    let best: number[] | undefined;
    if (bestDim >= 0) {
      const { buckets, wide } = this.byDim.get(bestDim)!;
      const found = new Set<number>(wide);
      for (const region of box[bestDim].ids) for (const j of buckets.get(region) ?? []) found.add(j);
      best = [...found];
    }
    const pool = best ?? this.boxes.map((_, j) => j);
    const out: number[] = [];
    for (const j of pool) {
      const other = this.boxes[j];
      if (other === undefined || !admit(j)) continue;
      let meets = true;
      for (let k = 0; k < this.order.length && meets; k++) meets = intersects(box[this.order[k]], other[this.order[k]]);
      if (meets) out.push(j);
    }
    return out.sort((a, b) => a - b);
  }
}
