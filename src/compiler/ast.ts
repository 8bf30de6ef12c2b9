// The typed syntax tree of one `.sgxpol` file (SPEC 3.2), produced by build.ts from the CST.
// Types only: every later stage (resolve, check, lower, the reference interpreter, the
// formatter) reads these shapes.

/**
 * A place in a source file. Lines and columns are 1-based; offsets are 0-based UTF-16 indexes.
 * The spans of a parsed tree are `SourceSpan`s (span.ts), which work out `column`, `endLine` and
 * `endColumn` (and give `file`) when read: read a span's fields, or `JSON.stringify` it, rather
 * than copy it with `{ ...span }`.
 */
export interface Span {
  file: string;
  line: number;
  column: number;
  offset: number;
  endLine: number;
  endColumn: number;
  /** Exclusive end offset. */
  endOffset: number;
}

/** An identifier as written, with its place. */
export interface Name {
  text: string;
  span: Span;
}

export type Effect = 'allow' | 'deny';
export type Via = 'host' | 'kvm' | 'any';
export type MeasurementKind = 'signer' | 'enclave';

/** A STRING token's decoded value (`\"` and `\\` unescaped, other backslashes kept). */
export interface StringLit {
  value: string;
  span: Span;
}

/** An INT token's value. `value` is exact when it fits a double exactly; `text` is as written. */
export interface IntLit {
  value: number;
  text: string;
  span: Span;
}

// ---- statements -------------------------------------------------------------------------

export interface PolicyDecl {
  kind: 'policy';
  name: StringLit;
  version: IntLit;
  span: Span;
}

export interface ImportDecl {
  kind: 'import';
  path: StringLit;
  span: Span;
}

export interface DefaultDecl {
  kind: 'default';
  effect: Effect;
  audit: boolean;
  span: Span;
}

/** `signer NAME = …;` or `enclave NAME = …;` */
export interface SetDecl {
  kind: 'set';
  setKind: MeasurementKind;
  name: Name;
  items: MeasItem[];
  span: Span;
}

/** A literal measurement (already checked to be 64 hex digits and lower-cased by build) or a set name. */
export type MeasItem =
  | { kind: 'literal'; value: string; span: Span }
  | { kind: 'ref'; name: Name };

export interface SubjectDecl {
  kind: 'subject';
  name: Name;
  expr: SubjExpr;
  span: Span;
}

export type SubjExpr =
  | { kind: 'or'; operands: SubjExpr[]; span: Span }
  | { kind: 'and'; operands: SubjExpr[]; span: Span }
  | { kind: 'not'; operand: SubjExpr; span: Span }
  | { kind: 'pred'; pred: SubjPred; span: Span }
  | { kind: 'ref'; name: Name; span: Span };

export type SubjPred =
  | { kind: 'exe'; glob: StringLit }
  | { kind: 'label'; glob: StringLit }
  | { kind: 'holds'; path: StringLit }
  | { kind: 'uid' | 'gid'; lo: IntLit; hi: IntLit; range: boolean };

/** The subject part of a rule: `*`, or a list of subject class names (a bare IDENT is a one-element list). */
export type Subjects = { kind: 'any'; span: Span } | { kind: 'list'; names: Name[]; braced: boolean; span: Span };

/** The object part of a rule: `*`, or a list of objects (a bare object is a one-element list). */
export type Objects = { kind: 'any'; span: Span } | { kind: 'list'; items: ObjectRef[]; braced: boolean; span: Span };

/** `signer X` / `enclave X` / `signer "hex"` / `enclave "hex"`. */
export interface ObjectRef {
  objKind: MeasurementKind;
  target: { kind: 'ref'; name: Name } | { kind: 'literal'; value: string; span: Span };
  span: Span;
}

export type CmpOp = '==' | '!=' | '<' | '<=' | '>' | '>=';
export type AttributeName = 'debug' | 'mode64bit' | 'provisionkey' | 'einittokenkey' | 'kss' | 'aexnotify' | 'cet';

export type Cond =
  | { kind: 'or'; operands: Cond[]; span: Span }
  | { kind: 'and'; operands: Cond[]; span: Span }
  | { kind: 'not'; operand: Cond; span: Span }
  | { kind: 'cmp'; field: 'isvprodid' | 'isvsvn'; op: CmpOp; value: IntLit; span: Span }
  | { kind: 'in'; field: 'isvprodid' | 'isvsvn'; lo: IntLit; hi: IntLit; span: Span }
  | { kind: 'attr'; name: AttributeName; span: Span }
  | { kind: 'object'; object: ObjectRef; span: Span }
  | { kind: 'subjpred'; pred: SubjPred; span: Span }
  | { kind: 'subject'; name: Name; span: Span }
  | { kind: 'const'; value: boolean; span: Span };

export interface RuleDecl {
  kind: 'rule';
  effect: Effect;
  audit: boolean;
  subjects: Subjects;
  /** `undefined` when the rule has no `via` (which means `any`). */
  via: { path: Via; span: Span } | undefined;
  objects: Objects;
  where: Cond | undefined;
  because: StringLit | undefined;
  span: Span;
}

export interface NeverallowDecl {
  kind: 'neverallow';
  subjects: Subjects;
  via: { path: Via; span: Span } | undefined;
  objects: Objects;
  where: Cond | undefined;
  span: Span;
}

export type Statement =
  | PolicyDecl
  | ImportDecl
  | DefaultDecl
  | SetDecl
  | SubjectDecl
  | RuleDecl
  | NeverallowDecl;

/** A comment, kept for the formatter. `text` includes the leading `#`. */
export interface Comment {
  text: string;
  span: Span;
}

/** One parsed file. */
export interface SourceFile {
  /** The file's name as diagnostics show it (relative to the root's folder; the root: its base name). */
  file: string;
  text: string;
  statements: Statement[];
  comments: Comment[];
}
