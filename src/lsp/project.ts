// What the language server knows about the policies in a workspace: which files are root
// policies (imported by no other file), and, for each root that includes an open document,
// the compiler's full result (diagnostics of every file it loads, the resolved program) with
// the open documents' unsaved text in place of the disk's.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { SourceFile } from '../compiler/ast.js';
import type { CheckOptions } from '../compiler/check.js';
import { compileFile, type CompileResult } from '../compiler/compile.js';
import { Codes, error } from '../compiler/diagnostics.js';
import { parseSource } from '../compiler/parse.js';
import { occurrencesOf, type Occurrence } from './symbols.js';

/** Folders never searched for policies. */
const SKIPPED_FOLDERS = new Set(['node_modules', '.git', 'dist', '.hg', '.svn']);
/** A workspace scan stops after this many policy files, or this deep. */
const MAX_SCANNED_FILES = 5000;
const MAX_SCAN_DEPTH = 12;
/** Files on disk are rescanned at most this often (open documents are always current). */
const RESCAN_INTERVAL_MS = 3000;

/**
 * The checks as the editor runs them, after every change: the lints get a smaller work limit
 * than `sgxpol check`'s (which grows with the policy, and took 15–17 s on a 10,000-rule policy
 * whose rules overlap heavily), so that the server answers within a second or two while the
 * lints run; where they stop, the warning says how to run them all. `neverallow` is checked as
 * `sgxpol check` does: an editor must not accept what the compiler refuses.
 */
const EDITOR_CHECKS: CheckOptions = {
  lints: { budget: 8_000_000 },
  lintLimitNote: ' (the editor stops sooner than `sgxpol check`, which goes further)',
};

/** One compiled root policy. Paths are absolute. */
export class Analysis {
  readonly rootDir: string;
  /** Each loaded file's parsed syntax tree, by absolute path. */
  readonly files = new Map<string, SourceFile>();
  private occurrences: Map<string, Occurrence[]> | undefined;

  constructor(
    readonly root: string,
    readonly result: CompileResult,
  ) {
    this.rootDir = dirname(root);
    for (const file of result.program?.files ?? []) this.files.set(this.absolute(file.file), file);
  }

  /** A file name as diagnostics and spans give it (relative to the root's folder) → absolute path. */
  absolute(name: string): string {
    return resolve(this.rootDir, name);
  }

  /** Every name occurrence in every file of the policy, by absolute path. */
  allOccurrences(): Map<string, Occurrence[]> {
    if (this.occurrences === undefined) {
      this.occurrences = new Map();
      for (const [path, file] of this.files) this.occurrences.set(path, occurrencesOf(file));
    }
    return this.occurrences;
  }

  /** The text of a loaded file, as the compiler read it. */
  textOf(path: string): string | undefined {
    for (const [name, text] of this.result.sources) if (this.absolute(name) === path) return text;
    return undefined;
  }
}

export class Project {
  /** Unsaved text of the open documents, by absolute path. */
  readonly documents = new Map<string, string>();
  private scanned: string[] = [];
  private scannedAt = -Infinity;
  private readonly importCache = new Map<string, { key: string; imports: string[] }>();

  constructor(private readonly folders: string[]) {}

  /** The policy files the server knows: every `.sgxpol` under the workspace folders, and the open documents. */
  knownFiles(): string[] {
    const now = Date.now();
    if (now - this.scannedAt > RESCAN_INTERVAL_MS) {
      this.scanned = scanFolders(this.folders);
      this.scannedAt = now;
    }
    return [...new Set([...this.scanned, ...this.documents.keys()])];
  }

  /** Forget the scan (the client said files changed on disk). */
  invalidate(): void {
    this.scannedAt = -Infinity;
  }

  /** The files `path` imports (absolute paths), from its current text. */
  private importsOf(path: string): string[] {
    const open = this.documents.get(path);
    let key: string;
    let text: string | undefined = open;
    if (open !== undefined) {
      key = `doc:${open.length}:${hash(open)}`;
    } else {
      try {
        const info = statSync(path);
        key = `disk:${info.mtimeMs}:${info.size}`;
      } catch {
        return [];
      }
    }
    const cached = this.importCache.get(path);
    if (cached !== undefined && cached.key === key) return cached.imports;
    if (text === undefined) {
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        return [];
      }
    }
    const { file } = parseSource(text, path);
    const imports = file.statements.flatMap((s) => (s.kind === 'import' ? [resolve(dirname(path), s.path.value)] : []));
    this.importCache.set(path, { key, imports });
    return imports;
  }

  /** The root policies whose imports (transitively) reach `path`; `path` itself when none does. */
  rootsOf(path: string): string[] {
    const importers = new Map<string, string[]>();
    for (const file of this.knownFiles()) {
      for (const target of this.importsOf(file)) {
        if (target === file) continue;
        const list = importers.get(target) ?? [];
        list.push(file);
        importers.set(target, list);
      }
    }
    const roots = new Set<string>();
    const seen = new Set<string>([path]);
    const queue = [path];
    while (queue.length > 0) {
      const current = queue.shift() as string;
      const by = importers.get(current) ?? [];
      if (by.length === 0) roots.add(current);
      for (const importer of by) {
        if (!seen.has(importer)) {
          seen.add(importer);
          queue.push(importer);
        }
      }
    }
    return roots.size > 0 ? [...roots].sort() : [path];
  }

  /** Compiles `root` with the open documents in front of the disk. */
  analyse(root: string): Analysis {
    let result: CompileResult;
    try {
      result = compileFile(root, { overlay: (path) => this.documents.get(path), check: EDITOR_CHECKS });
    } catch (e) {
      // Only a compiler bug gets here. The server must outlive it: the policy gets one error
      // that says so, and the next edit is checked afresh.
      const name = basename(root);
      const span = { file: name, line: 1, column: 1, offset: 0, endLine: 1, endColumn: 1, endOffset: 0 };
      const message = `internal error while checking this policy (please report this): ${e instanceof Error ? e.message : String(e)}`;
      result = { ok: false, diagnostics: [error(Codes.SYNTAX, span, message)], sources: new Map([[name, '']]) };
    }
    return new Analysis(root, result);
  }

  /** The analyses that load `path`: those of its roots, or of `path` itself as a root. */
  analysesOf(path: string, cache = new Map<string, Analysis>()): Analysis[] {
    const analyses: Analysis[] = [];
    for (const root of this.rootsOf(path)) {
      let analysis = cache.get(root);
      if (analysis === undefined) {
        analysis = this.analyse(root);
        cache.set(root, analysis);
      }
      if (analysis.files.has(path) || root === path) analyses.push(analysis);
    }
    if (analyses.length === 0) {
      let own = cache.get(path);
      if (own === undefined) {
        own = this.analyse(path);
        cache.set(path, own);
      }
      analyses.push(own);
    }
    return analyses;
  }
}

function scanFolders(folders: string[]): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > MAX_SCAN_DEPTH || found.length >= MAX_SCANNED_FILES) return;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (found.length >= MAX_SCANNED_FILES) return;
      if (entry.isDirectory()) {
        if (!SKIPPED_FOLDERS.has(entry.name) && !entry.name.startsWith('.')) walk(join(dir, entry.name), depth + 1);
      } else if (entry.isFile() && entry.name.endsWith('.sgxpol')) {
        found.push(join(dir, entry.name));
      }
    }
  };
  for (const folder of folders) walk(folder, 0);
  return found;
}

/** A cheap string hash (FNV-1a), to tell whether an open document's imports may have changed. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
