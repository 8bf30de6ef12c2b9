// sgxpol: the compiler API, plus everything the runtime exports.
export * from './runtime/index.js';
export { compileSource, compileFile, type CompileResult, type CompileOptions } from './compiler/compile.js';
export type { Diagnostic, Severity, DiagnosticCode, RelatedLocation } from './compiler/diagnostics.js';
export { Codes } from './compiler/diagnostics.js';
export type { Program } from './compiler/ir.js';
