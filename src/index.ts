// sgxpol: the compiler API, plus everything the runtime exports.
export * from './runtime/index.js';
export { compileSource, compileFile, type CompileResult, type CompileOptions } from './compiler/compile.js';
export type { Diagnostic, Severity, DiagnosticCode, RelatedLocation } from './compiler/diagnostics.js';
export { Codes } from './compiler/diagnostics.js';
export type { Program } from './compiler/ir.js';
// Policy analysis (issue 4): semantic diff, who-can / what-can, and request explanations.
export { diffPrograms, whoCan, whatCan, type DiffGroup, type AccessGroup, type EnclaveQuery, type GroupShape, type QueryOutcome } from './compiler/analysis/queries.js';
export { explainRequest, type Explanation } from './compiler/analysis/explain.js';
