// The resolved program (output of resolve.ts): every file loaded once, every name bound,
// rules in program order with their ids (SPEC 4). Types only. check.ts, lower.ts and the
// reference interpreter all read this.
import type {
  DefaultDecl,
  Effect,
  NeverallowDecl,
  RuleDecl,
  SetDecl,
  SourceFile,
  SubjectDecl,
  Via,
} from './ast.js';

export interface MeasurementSet {
  name: string;
  decl: SetDecl;
  /** Every measurement the set contains, after expanding included sets: lower-case, sorted, unique. */
  values: string[];
}

export interface SubjectClass {
  name: string;
  decl: SubjectDecl;
}

export interface Rule {
  /** `FILE:LINE` (SPEC 4). */
  id: string;
  /** Position in program order, from 0. */
  index: number;
  effect: Effect;
  audit: boolean;
  /** `any` when the rule has no `via`. */
  via: Via;
  because: string | undefined;
  decl: RuleDecl;
  /**
   * For each item of `decl.objects` (none for `*`), in order: the set a name refers to (its
   * `values` are the set's own array, shared by every rule that names it), or undefined for a
   * literal measurement or a name that did not resolve. Bound here so that lower.ts does not
   * look every rule's names up again. (A set named inside a `where` condition, which is rare,
   * is still looked up by name.)
   */
  objectSets: readonly (MeasurementSet | undefined)[];
}

export interface Neverallow {
  /** `FILE:LINE`, as for rules. */
  id: string;
  via: Via;
  decl: NeverallowDecl;
}

export interface Program {
  /** Absolute path of the root file, or the filename given to compileSource. */
  rootPath: string;
  /** Files in load order (the root first, then each file at its first import). */
  files: SourceFile[];
  policy: { name: string; version: number } | null;
  default: { effect: Effect; audit: boolean; decl: DefaultDecl | undefined };
  signers: Map<string, MeasurementSet>;
  enclaves: Map<string, MeasurementSet>;
  subjects: Map<string, SubjectClass>;
  rules: Rule[];
  neverallows: Neverallow[];
}
