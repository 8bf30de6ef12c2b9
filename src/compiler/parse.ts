// The front end's entry point: one file's text → its AST and diagnostics (lex → parse → build).
// It never throws and never recurses without bound, whatever the input.
import type { CstNode, IRecognitionException, IToken } from 'chevrotain';
import type { Comment, SourceFile, Span, Statement } from './ast.js';
import { AstBuilder } from './build.js';
import { Codes, error, sortDiagnostics, suggest, type Diagnostic } from './diagnostics.js';
import {
  countLineBreaks, countTokens, describeToken, isRealToken, keywordTokens, spanAfter, startsStatement, tokenize, tokenSpan,
  Ident, LParen, Not, RParen, Semi,
} from './lexer.js';
import { MAX_PARSE_ERRORS, parser } from './parser.js';
import { loneSurrogateAt } from '../runtime/text.js';
import { lastAtOrBefore, SourceLines, SourceSpan } from './span.js';

/** SPEC 10: a source file over 16 MiB is refused before lexing. */
export const MAX_SOURCE_BYTES = 16 * 1024 * 1024;
/** Beyond this many tokens a file is refused before lexing (well above what 16 MiB of real policy holds). */
export const MAX_TOKENS = 4_000_000;
/** Parentheses and `not`s may nest this deep; deeper is reported rather than risking the stack. */
export const MAX_NESTING = 256;
/** At most this many syntax errors are reported per file. */
export const MAX_SYNTAX_DIAGNOSTICS = 100;
/** A file longer than this many characters is read in pieces of about this size (see `parseInPieces`). */
export const PIECE_CHARS = 16 * 1024;

export interface ParseResult {
  file: SourceFile;
  diagnostics: Diagnostic[];
}

/** chevrotain's errors; all but NotAllInputParsed (which the junk rule rules out) carry the token before. */
type RecognitionError = IRecognitionException & { previousToken?: IToken };

const STATEMENT_KEYWORDS = ['policy', 'import', 'default', 'signer', 'enclave', 'subject', 'allow', 'deny', 'neverallow'];

function startSpan(file: string): Span {
  return { file, line: 1, column: 1, offset: 0, endLine: 1, endColumn: 1, endOffset: 0 };
}

/**
 * Parses one `.sgxpol` file. `file` is the name put in every span and diagnostic. Statements
 * that failed to parse are left out of `statements`; every problem is in `diagnostics`
 * (sorted by position). Never throws. A file longer than `pieceChars` characters is first read
 * a piece at a time (see `parseInPieces`); the result is the same, only tests change it.
 */
export function parseSource(text: string, file: string, pieceChars = PIECE_CHARS): ParseResult {
  try {
    return parseOrThrow(String(text), String(file), pieceChars);
  } catch (e) {
    const name = asString(file);
    const empty: SourceFile = { file: name, text: asString(text), statements: [], comments: [] };
    // MAX_NESTING keeps the parser well inside Node's default stack; a caller already deep in
    // its own stack (or running with a small one) can still run out.
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      return { file: empty, diagnostics: [error(Codes.NESTING_TOO_DEEP, startSpan(name), 'expressions are nested too deeply for the available stack; flatten them')] };
    }
    // Only a bug can get here; still, a caller gets a diagnostic, not an exception.
    const message = e instanceof Error ? e.message : String(e);
    return { file: empty, diagnostics: [error(Codes.SYNTAX, startSpan(name), `internal error while parsing (please report this): ${message}`)] };
  }
}

/** For untyped callers: anything as a string, without throwing. */
function asString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '';
  }
}

function parseOrThrow(text: string, file: string, pieceChars: number): ParseResult {
  const empty: SourceFile = { file, text, statements: [], comments: [] };
  if (text.length > MAX_SOURCE_BYTES || Buffer.byteLength(text, 'utf8') > MAX_SOURCE_BYTES) {
    const bytes = Buffer.byteLength(text, 'utf8');
    return { file: empty, diagnostics: [error(Codes.FILE_TOO_LARGE, startSpan(file), `file is too large: ${bytes} bytes (the limit is 16 MiB, ${MAX_SOURCE_BYTES} bytes)`)] };
  }
  // Policy text is UTF-8 (SPEC 3), which cannot hold a lone surrogate; a JS string can, and a
  // glob holding one would mean a character no request has (files are decoded strictly, so
  // only text given to compileSource or the editor can get here).
  const lone = loneSurrogateAt(text);
  if (lone >= 0) {
    const lines = new SourceLines(file, text);
    const line = lines.lineOf(lone);
    const at = new SourceSpan(lines, line, lone, lone + 1).toJSON();
    const unit = text.charCodeAt(lone).toString(16).toUpperCase();
    return { file: empty, diagnostics: [error(Codes.FILE_UNREADABLE, at, `text is not valid Unicode: a lone surrogate (U+${unit}) at line ${line}, column ${at.column}; policy text is UTF-8`)] };
  }
  if (countTokens(text, MAX_TOKENS) > MAX_TOKENS) {
    return { file: empty, diagnostics: [error(Codes.FILE_TOO_LARGE, startSpan(file), `file is too large to parse: more than ${MAX_TOKENS} tokens`)] };
  }
  if (text.length > pieceChars) {
    const inPieces = parseInPieces(text, file, pieceChars);
    if (inPieces !== undefined) return inPieces;
  }
  return parseWhole(text, file);
}

/**
 * A long file, a piece at a time: lexed, parsed and built piece by piece, so that its tokens and
 * syntax trees die young instead of all being alive at once (in a 100,000-rule file, collecting
 * them cost more than making them). A piece ends at a line end, where no token continues, and
 * is parsed up to its last `;`, where no statement continues; the tokens after that go with the
 * next piece. Only for a file in which the lexer and parser find nothing wrong: otherwise
 * undefined, and the caller parses the whole file, whose error recovery and reports cross
 * statements. Exported for tests.
 */
export function parseInPieces(text: string, file: string, pieceChars: number): ParseResult | undefined {
  const builder = new AstBuilder(file, text);
  const statements: Statement[] = [];
  const comments: Comment[] = [];

  /** Builds the statements of `tokens` (which end at a `;` or the end of the file); false when something is wrong. */
  const parsePart = (tokens: IToken[]): boolean => {
    const nesting: Diagnostic[] = [];
    limitNesting(tokens, file, nesting);
    if (nesting.length > 0) return false;
    const cst = parser.parseTokens(tokens);
    if (parser.errors.length > 0) return false;
    for (const item of (cst.children.topLevel ?? []) as CstNode[]) {
      const statementNode = item.children.statement?.[0] as CstNode | undefined;
      if (statementNode === undefined || item.recoveredNode) return false;
      const built = builder.statement(statementNode);
      if (!built.parsed) return false;
      if (built.statement !== undefined) statements.push(built.statement);
    }
    return true;
  };

  let pending: IToken[] = [];
  let line = 1;
  for (let from = 0; from < text.length; ) {
    const lineEnd = text.indexOf('\n', from + Math.max(1, pieceChars) - 1);
    const to = lineEnd < 0 ? text.length : lineEnd + 1;
    const lexed = tokenize(text.slice(from, to), file, from, line);
    if (lexed.diagnostics.length > 0) return undefined;
    for (const comment of lexed.comments) comments.push(comment);
    line += countLineBreaks(text, from, to);
    from = to;

    const tokens = lexed.tokens;
    let end = tokens.length;
    while (end > 0 && tokens[end - 1].tokenType !== Semi) end--;
    if (end === 0) {
      for (const token of tokens) pending.push(token);
      continue;
    }
    const rest = tokens.slice(end);
    tokens.length = end;
    const complete = pending.length === 0 ? tokens : pending.concat(tokens);
    pending = rest;
    if (!parsePart(complete)) return undefined;
  }
  if (pending.length > 0 && !parsePart(pending)) return undefined;
  return { file: { file, text, statements, comments }, diagnostics: sortDiagnostics(builder.diagnostics) };
}

/** The whole file at once, with error recovery and every diagnostic. */
function parseWhole(text: string, file: string): ParseResult {
  const lexed = tokenize(text, file);
  const diagnostics: Diagnostic[] = [...lexed.diagnostics];
  const tokens = limitNesting(lexed.tokens, file, diagnostics);

  const cst = parser.parseTokens(tokens);
  const syntaxErrors = parser.errors as RecognitionError[];
  const stoppedAt = parser.stoppedAt;
  const items = (cst.children.topLevel ?? []) as CstNode[];
  // Where each item starts places errors; a file without any never needs it, so it is looked up on demand.
  const firsts = new Array<IToken | undefined | null>(items.length).fill(null);
  const firstOf = (i: number): IToken | undefined => {
    const known = firsts[i];
    return known !== null ? known : (firsts[i] = firstToken(items[i]));
  };
  const startOf = (i: number): number => (i < items.length ? (firstOf(i)?.startOffset ?? Number.MAX_SAFE_INTEGER) : Number.MAX_SAFE_INTEGER);
  const lexErrorIn = (from: () => number, to: number): boolean => lexed.errorOffsets.length > 0 && hasOffsetIn(lexed.errorOffsets, from(), to);

  // At most one syntax error per top-level item: the first. Later ones are usually its echo.
  const errorOfItem = new Map<number, RecognitionError>();
  if (syntaxErrors.length > 0) {
    const starts = items.map((_, i) => startOf(i));
    for (const e of syntaxErrors) {
      const anchor = errorAnchor(e);
      const index = anchor === undefined ? items.length - 1 : lastAtOrBefore(starts, anchor.startOffset);
      if (!errorOfItem.has(index)) errorOfItem.set(index, e);
    }
  }

  const builder = new AstBuilder(file, text);
  const statements: Statement[] = [];
  const syntax: Diagnostic[] = [];
  // Junk right after a failed statement is the rest of that statement: already reported.
  let previousFailed = false;
  // After a syntax error, an item that starts on the same line is not reported either: it is
  // almost always the rest of the broken statement (say, one cut in two by a stray `;`).
  let quietLine = -1;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const start = () => startOf(i);
    const quiet = quietLine !== -1 && firstOf(i)?.startLine === quietLine;
    const statementNode = item.children.statement?.[0] as CstNode | undefined;
    const e = errorOfItem.get(i);
    if (e !== undefined && !quiet) {
      const errorAt = isRealToken(e.token) ? e.token.startOffset : Number.MAX_SAFE_INTEGER;
      // A syntax error after a lexical error in the same statement is most likely caused by it.
      if (!lexErrorIn(start, errorAt)) syntax.push(syntaxDiagnostic(e, file));
    }
    if (statementNode !== undefined) {
      const built = item.recoveredNode ? { statement: undefined, parsed: false } : builder.statement(statementNode);
      if (built.statement !== undefined) statements.push(built.statement);
      const failed = !built.parsed;
      if (failed && e === undefined && !quiet && !lexErrorIn(start, startOf(i + 1))) {
        // Should not happen (a failed statement has a parser error); never drop one silently.
        const t = firstOf(i);
        syntax.push(error(Codes.SYNTAX, t ? tokenSpan(t, file) : startSpan(file), 'this statement could not be parsed'));
      }
      previousFailed = failed;
      quietLine = e !== undefined ? ((errorAnchor(e)?.endLine as number | undefined) ?? -1) : -1;
    } else {
      // Junk with a lexical error in it is that error's doing.
      const junkTokens = ((item.children.junk?.[0] as CstNode | undefined)?.children.AnyToken ?? []) as IToken[];
      const first = junkTokens[0];
      const last = junkTokens[junkTokens.length - 1];
      const end = last !== undefined ? (last.endOffset as number) + 1 : startOf(i + 1);
      if (!previousFailed && !quiet && e === undefined && first !== undefined && !lexErrorIn(start, end)) {
        syntax.push(junkDiagnostic(first, file));
      }
      previousFailed = false;
      quietLine = last !== undefined ? (last.endLine as number) : -1;
    }
  }

  if (syntax.length > MAX_SYNTAX_DIAGNOSTICS) {
    const more = syntax.length - MAX_SYNTAX_DIAGNOSTICS;
    syntax.length = MAX_SYNTAX_DIAGNOSTICS;
    const last = syntax[syntax.length - 1];
    syntax.push({ ...last, message: `${more} more syntax errors not reported` });
  }
  if (stoppedAt !== undefined) {
    // The parser records only a real token there (never the end of the input).
    const where = tokenSpan(stoppedAt, file);
    syntax.push(error(Codes.SYNTAX, where, `too many syntax errors (${MAX_PARSE_ERRORS}): the rest of the file, from line ${where.line}, column ${where.column}, was not parsed; fix the errors above first`));
  }
  // concat, not push(...): there can be more diagnostics than a call may have arguments.
  const all = diagnostics.concat(syntax, builder.diagnostics);
  return { file: { file, text, statements, comments: lexed.comments }, diagnostics: sortDiagnostics(all) };
}

/** The last token the parser consumed before an error: it places the error in a statement. */
function errorAnchor(e: RecognitionError): IToken | undefined {
  return isRealToken(e.previousToken) ? e.previousToken : isRealToken(e.token) ? e.token : undefined;
}

/** The first token of a CST node: children are keyed in the order they were first met. */
function firstToken(node: CstNode): IToken | undefined {
  let current: CstNode | IToken = node;
  for (let guard = 0; guard < 64 && 'children' in current; guard++) {
    let next: CstNode | IToken | undefined;
    for (const key in current.children) {
      next = current.children[key][0];
      if (next !== undefined) break;
    }
    if (next === undefined) return undefined;
    current = next;
  }
  return 'children' in current ? undefined : current;
}

/** Whether some offset in `sorted` lies in [from, to). */
function hasOffsetIn(sorted: number[], from: number, to: number): boolean {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < from) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length && sorted[lo] < to;
}

function syntaxDiagnostic(e: RecognitionError, file: string): Diagnostic {
  const found = e.token;
  const previous = e.previousToken;
  // A missing `;` (or anything missing at the end of the file) belongs just after the last token,
  // not at the start of the next line.
  let span: Span;
  if (!isRealToken(found)) span = isRealToken(previous) ? spanAfter(previous, file) : startSpan(file);
  else if (isRealToken(previous) && found.tokenType !== Semi && (previous.endLine as number) < (found.startLine as number) && e.message.startsWith("expected ';'")) span = spanAfter(previous, file);
  else span = tokenSpan(found, file);
  return error(Codes.SYNTAX, span, e.message);
}

function junkDiagnostic(t: IToken, file: string): Diagnostic {
  let message = `expected a statement (${STATEMENT_KEYWORDS.map((k) => `'${k}'`).join(', ')}), found ${describeToken(t)}`;
  if (t.tokenType === Ident) {
    const guess = suggest(t.image, STATEMENT_KEYWORDS);
    if (guess !== undefined) message += ` (did you mean '${guess}'?)`;
  } else if (t.tokenType === Semi) {
    message = "unexpected ';': there is no statement before it";
  } else if (keywordTokens.includes(t.tokenType)) {
    message += `; '${t.image}' cannot start a statement`;
  }
  return error(Codes.SYNTAX, tokenSpan(t, file), message);
}

/**
 * The parser recurses once per `(` and `not`. A statement nested deeper than MAX_NESTING is
 * reported and taken out of the token stream (up to its `;`, or to the next line that starts a
 * statement), so the parser never sees it.
 */
function limitNesting(tokens: IToken[], file: string, diagnostics: Diagnostic[]): IToken[] {
  let kept: IToken[] | undefined;
  let copiedUpTo = 0;
  let depth = 0;
  let pendingNots = 0;
  const outerNots: number[] = [];
  let statementStart = 0;
  for (let i = 0; i < tokens.length; i++) {
    const type = tokens[i].tokenType;
    if (type === Semi) {
      depth = 0;
      pendingNots = 0;
      outerNots.length = 0;
      statementStart = i + 1;
      continue;
    }
    if (type === LParen) {
      outerNots.push(pendingNots);
      pendingNots = 0;
      depth++;
    } else if (type === Not) {
      pendingNots++;
      depth++;
    } else if (type === RParen && outerNots.length > 0) {
      depth -= 1 + pendingNots;
      pendingNots = outerNots.pop() as number;
      depth -= pendingNots;
      pendingNots = 0;
    } else {
      depth -= pendingNots;
      pendingNots = 0;
    }
    if (depth <= MAX_NESTING) continue;

    diagnostics.push(
      error(Codes.NESTING_TOO_DEEP, tokenSpan(tokens[i], file), `expression nested too deeply: more than ${MAX_NESTING} levels of parentheses and 'not'`),
    );
    let start = statementStart;
    for (let j = i; j > statementStart; j--) {
      if (startsStatement(tokens[j - 1], tokens[j], tokens[j + 1], tokens[j + 2])) {
        start = j;
        break;
      }
    }
    let end = i;
    while (end + 1 < tokens.length && tokens[end].tokenType !== Semi && !startsStatement(tokens[end], tokens[end + 1], tokens[end + 2], tokens[end + 3])) end++;
    kept ??= [];
    for (let k = copiedUpTo; k < start; k++) kept.push(tokens[k]);
    copiedUpTo = end + 1;
    depth = 0;
    pendingNots = 0;
    outerNots.length = 0;
    statementStart = end + 1;
    i = end;
  }
  if (kept === undefined) return tokens;
  for (let k = copiedUpTo; k < tokens.length; k++) kept.push(tokens[k]);
  return kept;
}
