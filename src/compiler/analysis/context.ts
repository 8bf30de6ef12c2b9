// Setting up an analysis: the region space of one or more programs, a formula builder over it,
// and each program's logic. Also the witness check every reported request goes through.
import type { Program } from '../ir.js';
import { patternMatches, referenceDecide } from '../../reference/interpreter.js';
import { normalizeRequest } from '../../runtime/request.js';
import type { Decision, NormalizedRequest, RequestJson } from '../../runtime/types.js';
import { FormulaBuilder, FormulaTooDeep } from './formula.js';
import { PolicyLogic } from './logic.js';
import { Budget, BudgetExceeded, Solver } from './solve.js';
import { DEFAULT_SPACE_LIMITS, RangesTooLarge, RegionSpace, SpaceTooLarge, type Box, type SpaceLimits } from './space.js';

export interface Analysis {
  space: RegionSpace;
  builder: FormulaBuilder;
  /** One per program, in the order given. */
  logics: PolicyLogic[];
}

/** A failed set-up says why, and whether the policy's ranges (rather than its globs or its nesting) were too large. */
export type AnalysisSetup = { ok: true; analysis: Analysis } | { ok: false; reason: string; ranges: boolean };

/** Builds the region space and formulas for `programs` (several when comparing policies). */
export function setUpAnalysis(programs: readonly Program[], limits: SpaceLimits = DEFAULT_SPACE_LIMITS): AnalysisSetup {
  try {
    const space = new RegionSpace(programs, limits);
    const builder = new FormulaBuilder(space);
    const logics = programs.map((p) => new PolicyLogic(p, builder));
    space.endSetUp();
    return { ok: true, analysis: { space, builder, logics } };
  } catch (e) {
    if (e instanceof SpaceTooLarge || e instanceof FormulaTooDeep) return { ok: false, reason: e.message, ranges: e instanceof RangesTooLarge };
    throw e;
  }
}

/** Runs `work` with a fresh budget; `undefined` when it runs out (or a formula gets too deep). */
export function withBudget<T>(analysis: Analysis, limit: number, work: (solver: Solver) => T): { done: true; value: T } | { done: false; reason: string } {
  const solver = new Solver(analysis.builder, new Budget(limit));
  try {
    return { done: true, value: work(solver) };
  } catch (e) {
    if (e instanceof BudgetExceeded || e instanceof FormulaTooDeep) return { done: false, reason: e.message };
    throw e;
  }
}

/** A concrete request from a box, checked to be valid. */
export function witnessOf(analysis: Analysis, box: Box): { json: RequestJson; request: NormalizedRequest } {
  const json = analysis.space.requestOf(box);
  const check = normalizeRequest(json);
  if (!check.ok) throw new Error(`analysis: a witness is not a valid request (${check.reason}): ${JSON.stringify(json)}`);
  return { json, request: check.request };
}

/** The reference interpreter's decision for a witness (the independent check of SPEC 5). */
export function referenceDecision(program: Program, request: RequestJson): Decision {
  return referenceDecide(program, request);
}

export { patternMatches };
