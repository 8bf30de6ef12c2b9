// The language server (`sgxpol lsp`): diagnostics as you type (every compiler error and
// warning, across imports, with open documents in front of the disk), go to definition, find
// references, hover, completion and formatting through the Prettier plugin.
//
// It runs over any pair of streams, so tests drive it in-process with a real JSON-RPC client.
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import {
  createConnection, createProtocolConnection, CompletionItemKind, DiagnosticSeverity, MarkupKind, TextDocuments, TextDocumentSyncKind,
  type CompletionItem, type Connection, type Diagnostic as LspDiagnostic, type InitializeResult, type Location, type Position, type Range,
  type WatchDog,
} from 'vscode-languageserver';
import { StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { Statement } from '../compiler/ast.js';
import type { Diagnostic } from '../compiler/diagnostics.js';
import { keywords, tokenize, Comma, Eq, Semi, Via, Subject, Signer, Enclave } from '../compiler/lexer.js';
import { formatSource, SgxpolSyntaxError } from '../format/format.js';
import { describeName, describeStatement } from './describe.js';
import { Analysis, Project } from './project.js';
import { spanContains, type NameKind, type Occurrence } from './symbols.js';

/** How long typing must pause before the policy is compiled again. */
const VALIDATE_DELAY_MS = 120;

export interface ServerHandle {
  connection: Connection;
  /** Settles when the client sends `exit`: 0 after a `shutdown`, 1 without one. */
  exited: Promise<number>;
}

/** Starts a server reading requests from `input` and writing answers to `output`. */
export function startServer(input: Readable, output: Writable): ServerHandle {
  let resolveExit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((r) => (resolveExit = r));
  const watchDog: WatchDog = {
    shutdownReceived: false,
    initialize: () => undefined,
    // The connection is left to end with its streams: disposing it here could drop the
    // `shutdown` response still being written.
    exit: (code) => resolveExit(code),
  };
  const connection = createConnection((logger) => createProtocolConnection(new StreamMessageReader(input), new StreamMessageWriter(output), logger), watchDog);
  const server = new PolicyServer(connection);
  server.listen();
  // The client went away. Messages already read may still be queued (an `exit` among them):
  // give them a moment to be handled before settling.
  input.on('close', () => setTimeout(() => resolveExit(watchDog.shutdownReceived ? 0 : 1), 100));
  return { connection, exited };
}

class PolicyServer {
  private readonly documents = new TextDocuments(TextDocument);
  private project = new Project([]);
  /** Paths of the open documents → their URIs (an untitled document has a made-up path). */
  private readonly uris = new Map<string, string>();
  /** Compiled roots, valid until the next edit. */
  private cache = new Map<string, Analysis>();
  private timer: NodeJS.Timeout | undefined;
  private published = new Set<string>();
  /** Set by `shutdown`: no more validations. */
  private stopped = false;

  constructor(private readonly connection: Connection) {}

  listen(): void {
    const c = this.connection;
    c.onInitialize((params): InitializeResult => {
      const folders = (params.workspaceFolders ?? []).map((f) => uriToPath(f.uri));
      if (folders.length === 0 && params.rootUri) folders.push(uriToPath(params.rootUri));
      this.project = new Project(folders);
      return {
        capabilities: {
          textDocumentSync: TextDocumentSyncKind.Incremental,
          definitionProvider: true,
          referencesProvider: true,
          hoverProvider: true,
          completionProvider: { triggerCharacters: [' ', '{', ','] },
          documentFormattingProvider: true,
        },
        serverInfo: { name: 'sgxpol' },
      };
    });
    this.documents.onDidChangeContent((e) => this.changed(e.document));
    this.documents.onDidClose((e) => {
      const path = uriToPath(e.document.uri);
      this.project.documents.delete(path);
      this.uris.delete(path);
      this.cache.clear();
      this.schedule();
    });
    c.onDidChangeWatchedFiles(() => {
      this.project.invalidate();
      this.cache.clear();
      this.schedule();
    });
    c.onDefinition((p) => this.definition(p.textDocument.uri, p.position));
    c.onReferences((p) => this.references(p.textDocument.uri, p.position, p.context.includeDeclaration));
    c.onHover((p) => {
      const value = this.hover(p.textDocument.uri, p.position);
      return value === undefined ? null : { contents: { kind: MarkupKind.Markdown, value } };
    });
    c.onCompletion((p) => this.completion(p.textDocument.uri, p.position));
    c.onDocumentFormatting((p) => this.format(p.textDocument.uri));
    // After `shutdown` nothing more is published: a validation still waiting would write to a
    // connection that `exit` may already have closed.
    c.onShutdown(() => {
      this.stopped = true;
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
    });
    this.documents.listen(c);
    c.listen();
  }

  // ---- diagnostics ------------------------------------------------------------------------

  private changed(document: TextDocument): void {
    const path = uriToPath(document.uri);
    this.project.documents.set(path, document.getText());
    this.uris.set(path, document.uri);
    this.cache.clear();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      try {
        this.validate();
      } catch {
        // Only a closed connection gets here (the compiler's failures are diagnostics, see
        // Project.analyse): there is no one left to tell.
      }
    }, VALIDATE_DELAY_MS);
  }

  /** Publishes one file's diagnostics; a connection closed meanwhile is not an error. */
  private publish(uri: string, diagnostics: LspDiagnostic[]): void {
    this.connection.sendDiagnostics({ uri, diagnostics }).catch(() => undefined);
  }

  /** Compiles every root that loads an open document, and publishes the diagnostics of every file they load. */
  private validate(): void {
    const byPath = new Map<string, LspDiagnostic[]>();
    const seen = new Set<string>();
    const analyses = new Set<Analysis>();
    for (const path of this.project.documents.keys()) for (const a of this.project.analysesOf(path, this.cache)) analyses.add(a);
    for (const analysis of analyses) {
      for (const name of analysis.result.sources.keys()) if (!byPath.has(analysis.absolute(name))) byPath.set(analysis.absolute(name), []);
      for (const d of analysis.result.diagnostics) {
        const path = analysis.absolute(d.file);
        const key = `${path}\0${d.code}\0${d.line}:${d.column}\0${d.message}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const list = byPath.get(path) ?? [];
        list.push(this.toLsp(d, analysis));
        byPath.set(path, list);
      }
    }
    for (const path of this.project.documents.keys()) if (!byPath.has(path)) byPath.set(path, []);
    const now = new Set<string>();
    for (const [path, diagnostics] of byPath) {
      const uri = this.uriOf(path);
      now.add(uri);
      this.publish(uri, diagnostics);
    }
    for (const uri of this.published) if (!now.has(uri)) this.publish(uri, []);
    this.published = now;
  }

  private toLsp(d: Diagnostic, analysis: Analysis): LspDiagnostic {
    const start: Position = { line: d.line - 1, character: d.column - 1 };
    const end: Position = d.endLine !== undefined && d.endColumn !== undefined ? { line: d.endLine - 1, character: d.endColumn - 1 } : start;
    let message = d.message;
    if (d.witness !== undefined) message += `\nwitness: ${JSON.stringify(d.witness)}`;
    return {
      range: { start, end },
      severity: d.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
      code: d.code,
      source: 'sgxpol',
      message,
      relatedInformation: d.related?.map((r) => ({
        message: r.message,
        location: { uri: this.uriOf(analysis.absolute(r.file)), range: { start: { line: r.line - 1, character: r.column - 1 }, end: { line: r.line - 1, character: r.column - 1 } } },
      })),
    };
  }

  private uriOf(path: string): string {
    return this.uris.get(path) ?? pathToFileURL(path).href;
  }

  // ---- names --------------------------------------------------------------------------------

  /** The policy that loads the document (its first root), and the document's path. */
  private analysisFor(uri: string): { analysis: Analysis; path: string } | undefined {
    const path = uriToPath(uri);
    if (!this.project.documents.has(path)) return undefined;
    const analysis = this.project.analysesOf(path, this.cache)[0];
    return analysis === undefined ? undefined : { analysis, path };
  }

  private occurrenceAt(analysis: Analysis, path: string, position: Position): Occurrence | undefined {
    return analysis.allOccurrences().get(path)?.find((o) => spanContains(o.span, position.line + 1, position.character));
  }

  private locationOf(analysis: Analysis, o: Occurrence): Location {
    return { uri: this.uriOf(analysis.absolute(o.span.file)), range: rangeOf(o.span) };
  }

  private definition(uri: string, position: Position): Location[] | null {
    const found = this.analysisFor(uri);
    if (!found) return null;
    const occurrence = this.occurrenceAt(found.analysis, found.path, position);
    if (!occurrence) return null;
    const definitions = [...found.analysis.allOccurrences().values()].flat().filter((o) => o.definition && o.name === occurrence.name);
    return definitions.map((o) => this.locationOf(found.analysis, o));
  }

  private references(uri: string, position: Position, includeDeclaration: boolean): Location[] | null {
    const found = this.analysisFor(uri);
    if (!found) return null;
    const occurrence = this.occurrenceAt(found.analysis, found.path, position);
    if (!occurrence) return null;
    return [...found.analysis.allOccurrences().values()]
      .flat()
      .filter((o) => o.name === occurrence.name && (includeDeclaration || !o.definition))
      .map((o) => this.locationOf(found.analysis, o));
  }

  private hover(uri: string, position: Position): string | undefined {
    const found = this.analysisFor(uri);
    if (!found) return undefined;
    const occurrence = this.occurrenceAt(found.analysis, found.path, position);
    if (occurrence) return describeName(found.analysis, occurrence);
    const statement = found.analysis.files.get(found.path)?.statements.find((s: Statement) => spanContains(s.span, position.line + 1, position.character));
    return statement === undefined ? undefined : describeStatement(found.analysis, found.path, statement);
  }

  // ---- completion ---------------------------------------------------------------------------

  private completion(uri: string, position: Position): CompletionItem[] {
    const document = this.documents.get(uri);
    const found = this.analysisFor(uri);
    if (!document || !found) return [];
    const text = document.getText();
    const offset = document.offsetAt(position);
    const before = text.slice(0, offset);
    const partial = /[A-Za-z0-9_]*$/.exec(before)?.[0] ?? '';
    const tokens = tokenize(before.slice(0, before.length - partial.length), 'x').tokens;
    const previous = tokens[tokens.length - 1];
    const statementStart = (() => {
      for (let i = tokens.length - 1; i >= 0; i--) if (tokens[i].tokenType === Semi) return tokens[i + 1];
      return tokens[0];
    })();
    const atStatementStart = (i: number) => i === 0 || tokens[i - 1].tokenType === Semi;

    const names = this.namesOf(found.analysis);
    const nameItems = (kind?: NameKind) =>
      names.filter((n) => kind === undefined || n.kind === kind).map((n): CompletionItem => ({ label: n.name, kind: n.kind === 'subject' ? CompletionItemKind.Class : CompletionItemKind.Constant, detail: n.detail }));
    const keywordItems = (words: readonly string[]) => words.map((w): CompletionItem => ({ label: w, kind: CompletionItemKind.Keyword }));

    if (previous !== undefined) {
      const type = previous.tokenType;
      const index = tokens.length - 1;
      if (type === Signer || type === Enclave) return atStatementStart(index) ? [] : nameItems(type === Signer ? 'signer' : 'enclave');
      if (type === Subject) return atStatementStart(index) ? [] : nameItems('subject');
      if (type === Via) return keywordItems(['host', 'kvm', 'any']);
      if ((type === Eq || type === Comma) && statementStart !== undefined && (statementStart.tokenType === Signer || statementStart.tokenType === Enclave)) {
        return nameItems(statementStart.tokenType === Signer ? 'signer' : 'enclave');
      }
    }
    return [...keywordItems(keywords), ...nameItems('subject'), ...nameItems('signer'), ...nameItems('enclave')];
  }

  private namesOf(analysis: Analysis): { name: string; kind: NameKind; detail: string }[] {
    const program = analysis.result.program;
    if (program === undefined) return [];
    return [
      ...[...program.signers.values()].map((s) => ({ name: s.name, kind: 'signer' as const, detail: `signer set (${s.values.length} MRSIGNER)` })),
      ...[...program.enclaves.values()].map((s) => ({ name: s.name, kind: 'enclave' as const, detail: `enclave set (${s.values.length} MRENCLAVE)` })),
      ...[...program.subjects.values()].map((s) => ({ name: s.name, kind: 'subject' as const, detail: 'subject class' })),
    ];
  }

  // ---- formatting -----------------------------------------------------------------------------

  private async format(uri: string) {
    const document = this.documents.get(uri);
    if (!document) return null;
    const text = document.getText();
    const path = uriToPath(uri);
    try {
      const formatted = await formatSource(text, uri.startsWith('file:') ? { filepath: path } : {});
      if (formatted === text) return [];
      const range: Range = { start: { line: 0, character: 0 }, end: document.positionAt(text.length) };
      return [{ range, newText: formatted }];
    } catch (e) {
      const why = e instanceof SgxpolSyntaxError ? 'the file has errors; fix them first' : e instanceof Error ? e.message : String(e);
      this.connection.console.warn(`sgxpol: not formatted: ${why}`);
      return null;
    }
  }
}

function rangeOf(span: { line: number; column: number; endLine: number; endColumn: number }): Range {
  return { start: { line: span.line - 1, character: span.column - 1 }, end: { line: span.endLine - 1, character: span.endColumn - 1 } };
}

/** A file URI's path; any other URI (an untitled editor) gets a made-up path of its own. */
export function uriToPath(uri: string): string {
  if (uri.startsWith('file:')) return resolve(fileURLToPath(uri));
  return join(tmpdir(), 'sgxpol-untitled', `${encodeURIComponent(uri)}.sgxpol`);
}
