// Resolution: load the root file and its imports (each once, at its first import), then bind
// every name in one global namespace. Produces the Program of ir.ts and diagnostics.
import { readFileSync, realpathSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type {
  Cond,
  DefaultDecl,
  MeasurementKind,
  Name,
  ObjectRef,
  PolicyDecl,
  SetDecl,
  SourceFile,
  Span,
  Statement,
  SubjExpr,
  SubjectDecl,
} from './ast.js';
import { Codes, error, suggest, type Diagnostic } from './diagnostics.js';
import type { MeasurementSet, Neverallow, Program, Rule, SubjectClass } from './ir.js';
import { parseSource } from './parse.js';

export const MAX_SOURCE_BYTES = 16 * 1024 * 1024;
export const MAX_IMPORT_DEPTH = 64;
export const MAX_RULES = 1_000_000;
/**
 * How many names deep a set or subject class may be defined through other names (`c2 = c1;
 * c1 = c0; …`). SPEC 10 names no limit; like the nesting limit of 256 (parse.ts), this one keeps
 * the recursion of every later stage (expansion, lowering, analysis, the reference interpreter)
 * shallow, so that a long chain of names is an error, never a stack overflow.
 */
export const MAX_NAME_DEPTH = 256;
/**
 * How deeply a subject class's expression may nest with every class it names written out in
 * place (what lowering and the reference interpreter recurse through): the parser's 256 levels
 * times 256 names would be 65,536, far past Node's stack. 2,048 keeps every stage well inside it.
 */
export const MAX_EXPANDED_NESTING = 2048;

/** Where the root's text comes from: a file on disk, or text given with a name. */
export interface RootInput {
  /** Absolute path of the root file (it need not exist when `text` is given). */
  path: string;
  text?: string;
  /**
   * Text to use instead of a file's contents on disk (an editor's unsaved buffers), by absolute
   * path; undefined means "read the disk".
   */
  overlay?: (absPath: string) => string | undefined;
}

export interface Resolution {
  program: Program | undefined;
  diagnostics: Diagnostic[];
  sources: Map<string, string>;
}

interface Loaded {
  files: SourceFile[];
  /** Statements in program order: each file's statements with imports expanded in place. */
  statements: { statement: Statement; file: SourceFile; isRoot: boolean }[];
}

function displayName(rootDir: string, absPath: string, isRoot: boolean): string {
  if (isRoot) return path.basename(absPath);
  return path.relative(rootDir, absPath).split(path.sep).join('/');
}

function canonicalPath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

const DUMMY_SPAN = (file: string): Span => ({ file, line: 1, column: 1, offset: 0, endLine: 1, endColumn: 1, endOffset: 0 });

/** Progress of resolution: files parsed so far (the total grows as imports are found), then rules resolved. */
export type ResolveProgress = (stage: 'parse' | 'resolve', done: number, total: number) => void;

/** Loads the root and its imports depth-first, each file once; reports missing files, cycles and depth. */
function loadFiles(root: RootInput, diagnostics: Diagnostic[], sources: Map<string, string>, onProgress: ResolveProgress): Loaded {
  const rootDir = path.dirname(root.path);
  const loaded: Loaded = { files: [], statements: [] };
  const seen = new Set<string>();
  const stack: { key: string; name: string }[] = [];

  const visit = (absPath: string, text: string, isRoot: boolean) => {
    const key = isRoot && root.text !== undefined ? path.resolve(absPath) : canonicalPath(absPath);
    const name = displayName(rootDir, absPath, isRoot);
    seen.add(key);
    sources.set(name, text);
    onProgress('parse', loaded.files.length, loaded.files.length + 1);
    const parsed = parseSource(text, name);
    for (const d of parsed.diagnostics) diagnostics.push(d);
    loaded.files.push(parsed.file);
    onProgress('parse', loaded.files.length, loaded.files.length);
    stack.push({ key, name });
    for (const statement of parsed.file.statements) {
      if (statement.kind !== 'import') {
        loaded.statements.push({ statement, file: parsed.file, isRoot });
        continue;
      }
      const target = statement.path.value;
      const span = statement.path.span;
      if (!target.endsWith('.sgxpol')) {
        diagnostics.push(error(Codes.IMPORT_NOT_SGXPOL, span, `import "${target}" must name a .sgxpol file`));
        continue;
      }
      const targetPath = path.resolve(path.dirname(absPath), target);
      const targetKey = canonicalPath(targetPath);
      const onStack = stack.findIndex((s) => s.key === targetKey);
      if (onStack >= 0) {
        const cycle = [...stack.slice(onStack).map((s) => s.name), stack[onStack].name].join(' -> ');
        diagnostics.push(error(Codes.IMPORT_CYCLE, span, `import cycle: ${cycle}`));
        continue;
      }
      if (seen.has(targetKey)) continue; // a diamond: already loaded at its first import
      // `stack` holds the root (depth 0) and the files importing down to this one, so the file
      // imported here would be at depth stack.length; SPEC 10 refuses depths over 64.
      if (stack.length > MAX_IMPORT_DEPTH) {
        diagnostics.push(error(Codes.IMPORT_TOO_DEEP, span, `imports are nested more than ${MAX_IMPORT_DEPTH} deep`));
        continue;
      }
      const read = root.overlay?.(targetPath) ?? readSource(targetPath);
      if (typeof read !== 'string') {
        diagnostics.push(error(read.code, span, read.message.replace('%s', `"${target}"`)));
        seen.add(targetKey);
        continue;
      }
      visit(targetPath, read, false);
    }
    stack.pop();
  };

  let rootText = root.text;
  if (rootText === undefined) {
    const read = root.overlay?.(root.path) ?? readSource(root.path);
    if (typeof read !== 'string') {
      diagnostics.push(error(read.code === Codes.IMPORT_NOT_FOUND ? Codes.FILE_UNREADABLE : read.code, DUMMY_SPAN(path.basename(root.path)), read.message.replace('%s', root.path)));
      return loaded;
    }
    rootText = read;
  }
  visit(root.path, rootText, true);
  return loaded;
}

/** Reads a source file, or says why not (message has `%s` where the file's name goes). */
function readSource(absPath: string): string | { code: Diagnostic['code']; message: string } {
  let size: number;
  try {
    const stat = statSync(absPath);
    if (!stat.isFile()) return { code: Codes.IMPORT_NOT_FOUND, message: '%s is not a file' };
    size = stat.size;
  } catch {
    return { code: Codes.IMPORT_NOT_FOUND, message: 'cannot find %s' };
  }
  if (size > MAX_SOURCE_BYTES) return { code: Codes.FILE_TOO_LARGE, message: `%s is ${size} bytes; the limit is 16 MiB` };
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(absPath));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { code: Codes.FILE_UNREADABLE, message: code ? `cannot read %s (${code})` : '%s is not valid UTF-8' };
  }
}

type NameKind = 'signer' | 'enclave' | 'subject';
interface Definition {
  kind: NameKind;
  name: Name;
  decl: SetDecl | SubjectDecl;
  /** A signer or enclave set, once expanded. */
  set?: MeasurementSet;
}

const KIND_WORDS: Record<NameKind, string> = { signer: 'a signer set', enclave: 'an enclave set', subject: 'a subject class' };

/** How a wrong name's diagnostic names the part of a statement it stands in (built once, not per statement). */
const PART_CONTEXTS = {
  rule: { subject: 'the subject part of a rule', object: 'the object part of a rule', condition: 'the condition of a rule' },
  neverallow: { subject: 'the subject part of a neverallow', object: 'the object part of a neverallow', condition: 'the condition of a neverallow' },
} as const;

/** Resolves a root file and everything it imports. */
export function resolveProgram(root: RootInput, onProgress: ResolveProgress = () => {}): Resolution {
  const diagnostics: Diagnostic[] = [];
  const sources = new Map<string, string>();
  const loaded = loadFiles(root, diagnostics, sources, onProgress);
  onProgress('resolve', 0, loaded.statements.length);
  if (loaded.files.length === 0) return { program: undefined, diagnostics, sources };

  // ---- declarations: policy, default, names ----
  let policyDecl: PolicyDecl | undefined;
  let defaultDecl: DefaultDecl | undefined;
  const definitions = new Map<string, Definition>();
  for (const { statement, isRoot } of loaded.statements) {
    switch (statement.kind) {
      case 'policy':
        if (!isRoot) diagnostics.push(error(Codes.POLICY_NOT_ROOT, statement.span, '`policy` may appear only in the root file'));
        else if (policyDecl) diagnostics.push(error(Codes.POLICY_TWICE, statement.span, '`policy` is declared twice', [{ message: 'first declared here', span: policyDecl.span }]));
        else policyDecl = statement;
        break;
      case 'default':
        if (!isRoot) diagnostics.push(error(Codes.DEFAULT_NOT_ROOT, statement.span, '`default` may appear only in the root file'));
        else if (defaultDecl) diagnostics.push(error(Codes.DEFAULT_TWICE, statement.span, '`default` is declared twice', [{ message: 'first declared here', span: defaultDecl.span }]));
        else defaultDecl = statement;
        break;
      case 'set':
      case 'subject': {
        const kind: NameKind = statement.kind === 'set' ? statement.setKind : 'subject';
        const previous = definitions.get(statement.name.text);
        if (previous) {
          diagnostics.push(
            error(Codes.DUPLICATE_NAME, statement.name.span, `\`${statement.name.text}\` is already defined (as ${KIND_WORDS[previous.kind]})`, [
              { message: `\`${statement.name.text}\` was first defined here`, span: previous.name.span },
            ]),
          );
        } else definitions.set(statement.name.text, { kind, name: statement.name, decl: statement });
        break;
      }
    }
  }

  const lookup = (name: Name, expected: NameKind, context: string): Definition | undefined => {
    const def = definitions.get(name.text);
    if (!def) {
      const candidates = [...definitions.values()].filter((d) => d.kind === expected).map((d) => d.name.text);
      const close = suggest(name.text, candidates);
      diagnostics.push(
        error(Codes.UNKNOWN_NAME, name.span, `unknown ${expected === 'subject' ? 'subject class' : `${expected} set`} \`${name.text}\`${close ? `; did you mean \`${close}\`?` : ''}`),
      );
      return undefined;
    }
    if (def.kind !== expected) {
      diagnostics.push(
        error(Codes.WRONG_KIND, name.span, `\`${name.text}\` is ${KIND_WORDS[def.kind]}, but ${context} needs ${KIND_WORDS[expected]}`, [
          { message: `\`${name.text}\` is defined here`, span: def.name.span },
        ]),
      );
      return undefined;
    }
    return def;
  };

  // ---- how deep names are defined through names (MAX_NAME_DEPTH, MAX_EXPANDED_NESTING) ----
  // Each name a definition refers to, with the expression nesting at which it stands there
  // (1: the whole expression; each `and`, `or`, `not` above it adds one), and how deeply the
  // definition's own expression nests.
  const edgesOf = (def: Definition): { refs: Definition[]; levels: number[]; nesting: number } => {
    const refs: Definition[] = [];
    const levels: number[] = [];
    let nesting = 1;
    const take = (name: Name, level: number) => {
      const target = definitions.get(name.text);
      if (target === undefined || target.kind !== def.kind) return;
      refs.push(target);
      levels.push(level);
    };
    if (def.kind === 'subject') {
      const walk = (expr: SubjExpr, level: number) => {
        nesting = Math.max(nesting, level);
        if (expr.kind === 'or' || expr.kind === 'and') for (const operand of expr.operands) walk(operand, level + 1);
        else if (expr.kind === 'not') walk(expr.operand, level + 1);
        else if (expr.kind === 'ref') take(expr.name, level);
      };
      walk((def.decl as SubjectDecl).expr, 1);
    } else for (const item of (def.decl as SetDecl).items) if (item.kind === 'ref') take(item.name, 1);
    return { refs, levels, nesting };
  };
  const edges = new Map<Definition, ReturnType<typeof edgesOf>>();
  for (const def of definitions.values()) edges.set(def, edgesOf(def));
  const defs = [...definitions.values()];
  // Names: 1 + the deepest name referred to. Expanded nesting: a class's expression with every
  // class it names written out in place, as lowering and the interpreters walk it.
  const nameDepth = longestPaths(defs, (def) => edges.get(def)!.refs, () => 1, () => 1);
  const expanded = longestPaths(defs, (def) => edges.get(def)!.refs, (def, i) => edges.get(def)!.levels[i] - 1, (def) => edges.get(def)!.nesting);
  const tooDeep = new Set<Definition>();
  const report = (depths: Map<Definition, number>, limit: number, words: string) => {
    for (const [def, depth] of depths) {
      if (depth <= limit || tooDeep.has(def)) continue;
      tooDeep.add(def);
      // Reported once, where a chain first passes the limit, not at every name above it.
      if (edges.get(def)!.refs.every((ref) => (depths.get(ref) ?? 0) <= limit)) {
        const what = def.kind === 'subject' ? 'subject class' : `${def.kind} set`;
        diagnostics.push(error(Codes.NESTING_TOO_DEEP, def.name.span, `${what} \`${def.name.text}\` is defined through ${words}; define it more directly`));
      }
    }
  };
  report(nameDepth, MAX_NAME_DEPTH, `more than ${MAX_NAME_DEPTH} levels of names`);
  report(expanded, MAX_EXPANDED_NESTING, `names whose expressions nest more than ${MAX_EXPANDED_NESTING} levels deep written out`);

  // ---- measurement sets: expand includes, detect recursion ----
  const signers = new Map<string, MeasurementSet>();
  const enclaves = new Map<string, MeasurementSet>();
  const expanding = new Set<string>();
  const expandSet = (def: Definition): string[] | undefined => {
    const decl = def.decl as SetDecl;
    const target = decl.setKind === 'signer' ? signers : enclaves;
    const done = target.get(decl.name.text);
    if (done) return done.values;
    if (expanding.has(decl.name.text)) return undefined; // reported by the caller
    expanding.add(decl.name.text);
    const values = new Set<string>();
    for (const item of decl.items) {
      if (item.kind === 'literal') {
        values.add(item.value);
        continue;
      }
      const ref = lookup(item.name, decl.setKind, `${decl.setKind} set \`${decl.name.text}\``);
      if (!ref) continue;
      if (expanding.has(item.name.text)) {
        diagnostics.push(
          error(Codes.RECURSIVE_DEFINITION, item.name.span, `recursive definition: \`${decl.name.text}\` includes \`${item.name.text}\`, which includes \`${decl.name.text}\``, [
            { message: `\`${item.name.text}\` is defined here`, span: ref.name.span },
          ]),
        );
        continue;
      }
      // An unresolvable include has been reported; the set keeps what did resolve.
      for (const v of expandSet(ref) ?? []) values.add(v);
    }
    expanding.delete(decl.name.text);
    const set: MeasurementSet = { name: decl.name.text, decl, values: [...values].sort() };
    target.set(decl.name.text, set);
    def.set = set;
    return set.values;
  };
  // A set defined too deeply is an error already; it is left unexpanded (and empty), so that
  // the expansion's recursion stays within MAX_NAME_DEPTH.
  for (const def of definitions.values()) if (def.kind !== 'subject' && !tooDeep.has(def)) expandSet(def);

  // ---- subject classes: check references and recursion ----
  const subjects = new Map<string, SubjectClass>();
  for (const def of definitions.values()) if (def.kind === 'subject') subjects.set(def.name.text, { name: def.name.text, decl: def.decl as SubjectDecl });
  const state = new Map<string, 'visiting' | 'done'>();
  const visitSubject = (cls: SubjectClass) => {
    if (state.get(cls.name) === 'done') return;
    state.set(cls.name, 'visiting');
    const walk = (expr: SubjExpr) => {
      switch (expr.kind) {
        case 'or':
        case 'and':
          expr.operands.forEach(walk);
          break;
        case 'not':
          walk(expr.operand);
          break;
        case 'ref': {
          const ref = lookup(expr.name, 'subject', `subject class \`${cls.name}\``);
          if (!ref) break;
          const target = subjects.get(expr.name.text)!;
          if (state.get(target.name) === 'visiting') {
            diagnostics.push(
              error(Codes.RECURSIVE_DEFINITION, expr.name.span, `recursive definition: subject class \`${cls.name}\` refers to \`${target.name}\`, which refers back to \`${cls.name}\``, [
                { message: `\`${target.name}\` is defined here`, span: target.decl.name.span },
              ]),
            );
            break;
          }
          visitSubject(target);
          break;
        }
        case 'pred':
          break;
      }
    };
    walk(cls.decl.expr);
    state.set(cls.name, 'done');
  };
  for (const cls of subjects.values()) if (!tooDeep.has(definitions.get(cls.name)!)) visitSubject(cls);

  // ---- rules and neverallows ----
  const checkObject = (object: ObjectRef, context: string): MeasurementSet | undefined => {
    if (object.target.kind === 'ref') return lookup(object.target.name, object.objKind as MeasurementKind, context)?.set;
    return undefined;
  };
  const checkCond = (cond: Cond, context: string) => {
    switch (cond.kind) {
      case 'or':
      case 'and':
        cond.operands.forEach((c) => checkCond(c, context));
        break;
      case 'not':
        checkCond(cond.operand, context);
        break;
      case 'object':
        checkObject(cond.object, context);
        break;
      case 'subject':
        lookup(cond.name, 'subject', context);
        break;
      default:
        break;
    }
  };
  const rules: Rule[] = [];
  const neverallows: Neverallow[] = [];
  for (const { statement, file } of loaded.statements) {
    if (statement.kind !== 'rule' && statement.kind !== 'neverallow') continue;
    const context = PART_CONTEXTS[statement.kind];
    if (statement.subjects.kind === 'list') for (const name of statement.subjects.names) lookup(name, 'subject', context.subject);
    const objectSets = statement.objects.kind === 'list' ? statement.objects.items.map((object) => checkObject(object, context.object)) : [];
    if (statement.where) checkCond(statement.where, context.condition);
    const id = `${file.file}:${statement.span.line}`;
    const via = statement.via?.path ?? 'any';
    if (statement.kind === 'rule') {
      if (rules.length === MAX_RULES) {
        diagnostics.push(error(Codes.TOO_MANY_RULES, statement.span, `the policy has more than ${MAX_RULES.toLocaleString('en-US')} rules`));
      }
      rules.push({ id, index: rules.length, effect: statement.effect, audit: statement.audit, via, because: statement.because?.value, decl: statement, objectSets });
    } else neverallows.push({ id, via, decl: statement });
  }

  const policy = policyDecl ? { name: policyDecl.name.value, version: policyDecl.version.value } : null;
  const program: Program = {
    rootPath: root.path,
    files: loaded.files,
    policy,
    default: { effect: defaultDecl?.effect ?? 'deny', audit: defaultDecl?.audit ?? false, decl: defaultDecl },
    signers,
    enclaves,
    subjects,
    rules,
    neverallows,
  };
  return { program, diagnostics, sources };
}

/**
 * The longest path from each definition down through the names it refers to: own(def) for one
 * that refers to none, else the larger of own(def) and weight(def, i) + the path of its i-th
 * reference (a reference back into a cycle counts 0; cycles are reported elsewhere). Worked out
 * with a stack of its own, not recursion: a chain may be very long.
 */
function longestPaths(
  defs: Definition[],
  refsOf: (def: Definition) => Definition[],
  weight: (def: Definition, i: number) => number,
  own: (def: Definition) => number,
): Map<Definition, number> {
  const depth = new Map<Definition, number>();
  const onPath = new Set<Definition>();
  for (const start of defs) {
    if (depth.has(start)) continue;
    const stack: { def: Definition; refs: Definition[]; next: number; deepest: number }[] = [];
    const enter = (def: Definition) => {
      onPath.add(def);
      stack.push({ def, refs: refsOf(def), next: 0, deepest: own(def) });
    };
    enter(start);
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      if (top.next < top.refs.length) {
        const i = top.next++;
        const ref = top.refs[i];
        const known = depth.get(ref);
        if (known !== undefined) top.deepest = Math.max(top.deepest, weight(top.def, i) + known);
        else if (!onPath.has(ref)) {
          top.next--; // come back to this reference once its depth is known
          enter(ref);
        }
        continue;
      }
      stack.pop();
      onPath.delete(top.def);
      depth.set(top.def, top.deepest);
    }
  }
  return depth;
}
