// SPEC 3.5: a `neverallow` is broken iff some valid request matches it and the policy allows it
// (SPEC 5, the built-in provisionkey invariant included). Decided exactly by the solver; each
// violation carries a witness request that the reference interpreter confirms.
import type { Neverallow } from '../ir.js';
import type { RequestJson } from '../../runtime/types.js';
import { patternMatches, referenceDecision, withBudget, witnessOf, type Analysis } from './context.js';
import type { Formula } from './formula.js';
import { DEFAULT_KEY, type PolicyLogic } from './logic.js';

export interface NeverallowViolation {
  /** The deciding rule's id (an allow rule), or `default`. */
  grantedBy: string;
  witness: RequestJson;
}

export type NeverallowOutcome =
  | { status: 'holds' }
  | { status: 'violated'; violations: NeverallowViolation[]; complete: boolean }
  | { status: 'unknown'; reason: string };

export interface NeverallowReport {
  neverallow: Neverallow;
  outcome: NeverallowOutcome;
}

export interface NeverallowOptions {
  /** Work allowed to decide one neverallow. */
  budget: number;
  /** Besides the first, how many more granting rules to look for (each found by a further search). */
  moreViolations: number;
}

/**
 * The default work limit grows with the policy: a solver step is roughly a node of a formula
 * looked at (some 5 to 20 million a second), and a proof over n rules takes a number of steps
 * that grows with n. 50 million plus 2,000 per rule decides every neverallow of the benchmark's
 * 100,000-rule scenario with room to spare, and stops a pathological small policy in seconds.
 */
export function neverallowOptionsFor(ruleCount: number): NeverallowOptions {
  return { budget: 50_000_000 + 2_000 * ruleCount, moreViolations: 4 };
}

export const DEFAULT_NEVERALLOW_OPTIONS: NeverallowOptions = neverallowOptionsFor(0);

/** Checks every neverallow of the analysis's first program. */
export function checkNeverallows(analysis: Analysis, options: NeverallowOptions = neverallowOptionsFor(analysis.logics[0].rules.length)): NeverallowReport[] {
  const logic = analysis.logics[0];
  return logic.neverallows.map((neverallow, k) => ({ neverallow, outcome: checkOne(analysis, logic, k, options) }));
}

function checkOne(analysis: Analysis, logic: PolicyLogic, k: number, options: NeverallowOptions): NeverallowOutcome {
  const b = analysis.builder;
  const neverallow = logic.neverallows[k];
  let question: Formula = b.and([logic.neverallowMatch[k], logic.allowed()]);

  const first = withBudget(analysis, options.budget, (solver) => solver.solve(question));
  if (!first.done) return { status: 'unknown', reason: first.reason };
  if (first.value === undefined) return { status: 'holds' };
  // A coarse space (space.ts) over-approximates: what it finds may be no request at all.
  if (analysis.space.coarse) return { status: 'unknown', reason: 'treating each glob on its own, a request it forbids might be allowed' };

  const violations: NeverallowViolation[] = [];
  let box = first.value;
  let complete = true;
  for (;;) {
    const violation = confirm(analysis, logic, neverallow, box);
    violations.push(violation);
    if (violations.length > options.moreViolations) break;
    // Look for a request that another rule grants: exclude every request the granting rule matches
    // (or, when the default granted it, every request no allow rule matches).
    const exclude = violation.grantedBy === DEFAULT_KEY ? b.not(logic.anyAllow()) : logic.ruleMatch[logic.rules.findIndex((r) => r.id === violation.grantedBy)];
    question = b.and([question, b.not(exclude)]);
    const next = withBudget(analysis, Math.max(1, options.budget / 4), (solver) => solver.solve(question));
    if (!next.done) {
      complete = false;
      break;
    }
    if (next.value === undefined) break;
    box = next.value;
  }
  return { status: 'violated', violations, complete };
}

/** The witness of a box, replayed through the reference interpreter: it must match and be allowed. */
function confirm(analysis: Analysis, logic: PolicyLogic, neverallow: Neverallow, box: import('./space.js').Box): NeverallowViolation {
  const { json, request } = witnessOf(analysis, box);
  const decision = referenceDecision(logic.program, json);
  if (decision.decision !== 'allow' || !patternMatches(logic.program, neverallow.decl, request) || decision.rule === null) {
    throw new Error(`analysis: neverallow ${neverallow.id} witness does not replay: ${JSON.stringify(json)} → ${JSON.stringify(decision)}`);
  }
  return { grantedBy: decision.rule, witness: json };
}
