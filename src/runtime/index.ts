// sgxpol/runtime: the embedded evaluator. Imports nothing from the compiler, chevrotain or prettier.
export * from './types.js';
export { Evaluator, SubjectHandle, EnclaveHandle, type EvaluatorOptions, type DecisionCacheStats } from './evaluator.js';
export { parseSigstruct, type SigstructInfo } from './sigstruct.js';
export { normalizeRequest, normalizeSubject } from './request.js';
export { compileGlob, type GlobMatcher, type GlobMode } from './glob.js';
export type { TableJson } from './table.js';
