// Stage 1: text → tokens (SPEC 3.1). chevrotain token types, the lexer, and the friendly names
// diagnostics use for tokens. Lexical problems (a stray character, an unterminated string, a
// malformed number) are reported here as diagnostics; the token stream stays usable so the
// parser reports only what the lexer could not explain.
import { createToken, Lexer, EOF, type IToken, type TokenType, type ILexerErrorMessageProvider } from 'chevrotain';
import type { Comment, Span } from './ast.js';
import { Codes, error, type Diagnostic } from './diagnostics.js';

// ---- token types --------------------------------------------------------------------------

/** Category matched by every real token (not whitespace, comments or EOF); the parser's junk rule uses it. */
export const AnyToken = createToken({ name: 'AnyToken', pattern: Lexer.NA });

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n\f\v]+/, group: Lexer.SKIPPED, line_breaks: true });
export const CommentTok = createToken({ name: 'Comment', pattern: /#[^\r\n]*/, group: 'comments' });
/**
 * Characters that start no token. Matching them as a token (kept out of the stream in its own
 * group) is much faster than chevrotain's character-by-character error recovery on binary input.
 */
export const Garbage = createToken({
  name: 'Garbage',
  pattern: /[^ \t\r\n\f\v#"0-9A-Za-z_.=!<>;,*{}()]+|[.!]/,
  group: 'garbage',
  start_chars_hint: garbageStartChars(),
});

function garbageStartChars(): number[] {
  const tokenStarts = /[ \t\r\n\f\v#"0-9A-Za-z_=<>;,*{}()]/;
  const codes: number[] = [];
  for (let code = 0; code < 0x10000; code++) {
    if (!tokenStarts.test(String.fromCharCode(code))) codes.push(code);
  }
  return codes;
}

export const Ident = createToken({ name: 'Ident', pattern: /[A-Za-z_][A-Za-z0-9_]*/, categories: [AnyToken] });
export const StringLit = createToken({ name: 'StringLit', pattern: /"(?:[^"\\\r\n]|\\[^\r\n])*"/, categories: [AnyToken] });
/** A string with no closing quote on its line. It counts as a string so the parser carries on; the lexer reports it. */
export const UnterminatedString = createToken({
  name: 'UnterminatedString',
  pattern: /"(?:[^"\\\r\n]|\\[^\r\n])*\\?/,
  categories: [StringLit, AnyToken],
});
/** Any run of word characters that starts with a digit; `tokenize` reports it unless it is decimal or `0x` hex. */
export const IntLit = createToken({ name: 'IntLit', pattern: /[0-9][0-9A-Za-z_]*/, categories: [AnyToken] });

// Categories that group keywords the grammar treats alike.
export const EffectKw = createToken({ name: 'EffectKw', pattern: Lexer.NA });
export const SetKindKw = createToken({ name: 'SetKindKw', pattern: Lexer.NA });
export const PathKw = createToken({ name: 'PathKw', pattern: Lexer.NA });
export const GlobPredKw = createToken({ name: 'GlobPredKw', pattern: Lexer.NA });
export const IdPredKw = createToken({ name: 'IdPredKw', pattern: Lexer.NA });
export const FieldKw = createToken({ name: 'FieldKw', pattern: Lexer.NA });
export const AttributeKw = createToken({ name: 'AttributeKw', pattern: Lexer.NA });
export const CmpOp = createToken({ name: 'CmpOp', pattern: Lexer.NA });

function keyword(word: string, categories: TokenType[] = []): TokenType {
  const name = word.charAt(0).toUpperCase() + word.slice(1);
  return createToken({ name, pattern: word, longer_alt: Ident, categories: [...categories, AnyToken] });
}

export const Policy = keyword('policy');
export const Version = keyword('version');
export const Import = keyword('import');
export const Default = keyword('default');
export const Audit = keyword('audit');
export const Signer = keyword('signer', [SetKindKw]);
export const Enclave = keyword('enclave', [SetKindKw]);
export const Subject = keyword('subject');
export const Exe = keyword('exe', [GlobPredKw]);
export const Label = keyword('label', [GlobPredKw]);
export const Holds = keyword('holds', [GlobPredKw]);
export const Uid = keyword('uid', [IdPredKw]);
export const Gid = keyword('gid', [IdPredKw]);
export const Or = keyword('or');
export const And = keyword('and');
export const Not = keyword('not');
export const Allow = keyword('allow', [EffectKw]);
export const Deny = keyword('deny', [EffectKw]);
export const Neverallow = keyword('neverallow');
export const Einit = keyword('einit');
export const Via = keyword('via');
export const Host = keyword('host', [PathKw]);
export const Kvm = keyword('kvm', [PathKw]);
export const Any = keyword('any', [PathKw]);
export const Where = keyword('where');
export const Because = keyword('because');
export const Isvprodid = keyword('isvprodid', [FieldKw]);
export const Isvsvn = keyword('isvsvn', [FieldKw]);
export const In = keyword('in');
export const True = keyword('true');
export const False = keyword('false');
export const Debug = keyword('debug', [AttributeKw]);
export const Mode64bit = keyword('mode64bit', [AttributeKw]);
export const Provisionkey = keyword('provisionkey', [AttributeKw]);
export const Einittokenkey = keyword('einittokenkey', [AttributeKw]);
export const Kss = keyword('kss', [AttributeKw]);
export const Aexnotify = keyword('aexnotify', [AttributeKw]);
export const Cet = keyword('cet', [AttributeKw]);

/** Every keyword, in grammar order. All are reserved: none can be an IDENT. */
export const keywordTokens: readonly TokenType[] = [
  Policy, Version, Import, Default, Audit, Signer, Enclave, Subject, Exe, Label, Holds, Uid, Gid,
  Or, And, Not, Allow, Deny, Neverallow, Einit, Via, Host, Kvm, Any, Where, Because,
  Isvprodid, Isvsvn, In, True, False, Debug, Mode64bit, Provisionkey, Einittokenkey, Kss, Aexnotify, Cet,
];

export const keywords: readonly string[] = keywordTokens.map((t) => t.PATTERN as string);

function punct(name: string, text: string, categories: TokenType[] = []): TokenType {
  return createToken({ name, pattern: text, categories: [...categories, AnyToken] });
}

export const DotDot = punct('DotDot', '..');
export const EqEq = punct('EqEq', '==', [CmpOp]);
export const NotEq = punct('NotEq', '!=', [CmpOp]);
export const LtEq = punct('LtEq', '<=', [CmpOp]);
export const GtEq = punct('GtEq', '>=', [CmpOp]);
export const Lt = punct('Lt', '<', [CmpOp]);
export const Gt = punct('Gt', '>', [CmpOp]);
export const Eq = punct('Eq', '=');
export const Semi = punct('Semi', ';');
export const Comma = punct('Comma', ',');
export const Star = punct('Star', '*');
export const LBrace = punct('LBrace', '{');
export const RBrace = punct('RBrace', '}');
export const LParen = punct('LParen', '(');
export const RParen = punct('RParen', ')');

// Longer keywords first, so a keyword that is a prefix of another (`einit`, `einittokenkey`;
// `in`, `import`) never wins over it; `longer_alt` then turns `allowed` or `signers` into IDENTs.
const keywordsLongestFirst = [...keywordTokens].sort((a, b) => (b.PATTERN as string).length - (a.PATTERN as string).length);

/** The token types the lexer produces, in matching order, followed by the categories. */
export const allTokens: TokenType[] = [
  WhiteSpace, CommentTok, StringLit, UnterminatedString, IntLit,
  ...keywordsLongestFirst,
  Ident,
  DotDot, EqEq, NotEq, LtEq, GtEq, Lt, Gt, Eq, Semi, Comma, Star, LBrace, RBrace, LParen, RParen,
  Garbage,
  AnyToken, EffectKw, SetKindKw, PathKw, GlobPredKw, IdPredKw, FieldKw, AttributeKw, CmpOp,
];

// Messages are built by `tokenize` from the error's offset and length; chevrotain's own text is
// not used, so do not pay for building it (random input can have millions of bad runs).
const silentLexerErrors: ILexerErrorMessageProvider = {
  buildUnexpectedCharactersMessage: () => '',
  buildUnableToPopLexerModeMessage: () => '',
};

/**
 * chevrotain's lexer, with tokens whose positions V8 can keep as small integers. chevrotain's
 * own token objects have the shape of its end-of-file token, whose positions are NaN, so V8
 * boxed every position of every token (and of every span copied from one) as a number object
 * of its own. The same fields, in another order, make a shape of their own. (This overrides
 * a chevrotain internal; should it change, tokens are only slower, never different.)
 */
class SgxpolLexer extends Lexer {
  createFullToken(image: string, startOffset: number, tokenTypeIdx: number, tokenType: TokenType, startLine: number, startColumn: number, imageLength: number): IToken {
    return {
      tokenType,
      tokenTypeIdx,
      image,
      startOffset,
      endOffset: startOffset + imageLength - 1,
      startLine,
      endLine: startLine,
      startColumn,
      endColumn: startColumn + imageLength - 1,
    };
  }
}

export const lexer = new SgxpolLexer(allTokens, {
  positionTracking: 'full',
  ensureOptimizations: true,
  errorMessageProvider: silentLexerErrors,
});

// ---- token helpers ----------------------------------------------------------------------------

/** The span of one token. chevrotain's ends are inclusive; spans' ends are exclusive. */
export function tokenSpan(token: IToken, file: string): Span {
  return spanBetween(token, token, file);
}

/** From the start of `first` to the end of `last` (ends exclusive). */
export function spanBetween(first: IToken, last: IToken, file: string): Span {
  return {
    file,
    line: first.startLine as number,
    column: first.startColumn as number,
    offset: first.startOffset,
    endLine: last.endLine as number,
    endColumn: (last.endColumn as number) + 1,
    endOffset: (last.endOffset as number) + 1,
  };
}

/** A zero-width span just after `token` (where a missing `;` belongs). */
export function spanAfter(token: IToken, file: string): Span {
  const line = token.endLine as number;
  const column = (token.endColumn as number) + 1;
  const offset = (token.endOffset as number) + 1;
  return { file, line, column, offset, endLine: line, endColumn: column, endOffset: offset };
}

export function isRealToken(token: IToken | undefined): token is IToken {
  return token !== undefined && token.tokenType !== EOF && !token.isInsertedInRecovery && Number.isFinite(token.startOffset);
}

const STRONG_STARTS = new Set<TokenType>([Policy, Import, Default, Allow, Deny, Neverallow]);
const DECL_STARTS = new Set<TokenType>([Signer, Enclave, Subject]);

/**
 * Whether `t1` surely starts a statement, which is where recovery resumes after a syntax error:
 * a statement keyword that begins a line, where `signer`/`enclave`/`subject` (which also appear
 * inside statements) must also be followed by `NAME =`.
 */
export function startsStatement(prev: IToken | undefined, t1: IToken, t2: IToken | undefined, t3: IToken | undefined): boolean {
  const lineStart = !isRealToken(prev) || (prev.endLine as number) < (t1.startLine as number);
  if (!lineStart) return false;
  if (STRONG_STARTS.has(t1.tokenType)) return true;
  return DECL_STARTS.has(t1.tokenType) && t2?.tokenType === Ident && t3?.tokenType === Eq;
}

// ---- friendly names -----------------------------------------------------------------------------

const CATEGORY_NAMES = new Map<TokenType, string>([
  [Ident, 'a name'],
  [StringLit, 'a string'],
  [UnterminatedString, 'a string'],
  [IntLit, 'a number'],
  [EOF, 'end of file'],
  [EffectKw, "'allow' or 'deny'"],
  [SetKindKw, "'signer' or 'enclave'"],
  [PathKw, "'host', 'kvm' or 'any'"],
  [GlobPredKw, "'exe', 'label' or 'holds'"],
  [IdPredKw, "'uid' or 'gid'"],
  [FieldKw, "'isvprodid' or 'isvsvn'"],
  [AttributeKw, "an attribute ('debug', 'mode64bit', 'provisionkey', 'einittokenkey', 'kss', 'aexnotify' or 'cet')"],
  [CmpOp, "a comparison ('==', '!=', '<', '<=', '>' or '>=')"],
  [AnyToken, 'anything'],
]);

/** What a token type is called in "expected …": `';'`, `'allow'`, `a name`, `a string`, `end of file`. */
export function describeTokenType(type: TokenType): string {
  const named = CATEGORY_NAMES.get(type);
  if (named !== undefined) return named;
  return typeof type.PATTERN === 'string' ? `'${type.PATTERN}'` : type.name;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A token's text for a message, shortened; a shortened string keeps its closing quote. */
export function clipImage(token: IToken, max: number): string {
  const image = token.image;
  if (image.length <= max) return image;
  const isString = token.tokenType === StringLit || token.tokenType === UnterminatedString;
  return isString ? `${image.slice(0, max - 2)}…"` : `${image.slice(0, max - 1)}…`;
}

/** What a token is called in "found …": `';'`, `'allow'`, `the name 'x'`, `the string "…"`, `end of file`. */
export function describeToken(token: IToken): string {
  if (token.tokenType === EOF || !Number.isFinite(token.startOffset)) return 'end of file';
  switch (token.tokenType) {
    case Ident:
      return `the name '${clip(token.image, 40)}'`;
    case StringLit:
    case UnterminatedString:
      return `the string ${clipImage(token, 40)}`;
    case IntLit:
      return `the number ${clip(token.image, 40)}`;
    default:
      return `'${token.image}'`;
  }
}

/** A character as an error message shows it: printable ones quoted, the rest as U+XXXX. */
export function describeChar(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  if (code === 0xa0) return `${hex} (no-break space)`;
  if (code === 0xfeff) return `${hex} (byte order mark)`;
  if (code === 0x2028 || code === 0x2029) return `${hex} (line separator)`;
  if (code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0) || (code >= 0xd800 && code <= 0xdfff)) return hex;
  return `'${ch}'`;
}

// ---- tokenize ---------------------------------------------------------------------------------

/** At most this many lexical errors are reported per file; the rest are summed up in one line. */
export const MAX_LEX_DIAGNOSTICS = 100;

export interface LexOutput {
  tokens: IToken[];
  comments: Comment[];
  diagnostics: Diagnostic[];
  /** Start offsets of every lexical error, ascending (for the parser's error attribution). */
  errorOffsets: number[];
}

const WELL_FORMED_INT = /^(?:[0-9]+|0x[0-9a-fA-F]+)$/;

/** Whether an IntLit token's text is a decimal or `0x` hex number (anything else was reported by `tokenize`). */
export function isWellFormedInt(text: string): boolean {
  return WELL_FORMED_INT.test(text);
}

/**
 * Lexes `text`. Given `offset` and `line`, `text` is the part of a longer file that starts there,
 * at the start of a line; every position (tokens, comments, diagnostics) is then the file's.
 */
export function tokenize(text: string, file: string, offset = 0, line = 1): LexOutput {
  // A byte order mark is not part of the text; blank it (same length, so offsets stay put).
  const source = offset === 0 && text.charCodeAt(0) === 0xfeff ? ` ${text.slice(1)}` : text;
  const result = lexer.tokenize(source);
  if (offset !== 0 || line !== 1) {
    shiftTokens(result.tokens, offset, line - 1);
    for (const group in result.groups) shiftTokens(result.groups[group], offset, line - 1);
    for (const e of result.errors) {
      e.offset += offset;
      if (e.line !== undefined) e.line += line - 1;
    }
  }
  const diagnostics: Diagnostic[] = [];
  const errorOffsets: number[] = [];
  let reported = 0;
  let unreported = 0;
  const report = (d: Diagnostic, offset: number) => {
    errorOffsets.push(offset);
    if (reported < MAX_LEX_DIAGNOSTICS) {
      diagnostics.push(d);
      reported++;
    } else {
      unreported++;
    }
  };

  for (const bad of result.groups.garbage ?? []) {
    const chars = Array.from(bad.image);
    const shown = chars.length <= 8 ? chars : chars.slice(0, 8);
    const message =
      chars.length === 1
        ? `unexpected character ${describeChar(chars[0])}`
        : `unexpected characters ${shown.map(describeChar).join(' ')}${chars.length > shown.length ? ` … (${chars.length} in all)` : ''}`;
    report(error(Codes.LEX, tokenSpan(bad, file), message), bad.startOffset);
  }
  // The Garbage token matches whatever nothing else does, so chevrotain should find no errors of its own.
  for (const e of result.errors) {
    const line = e.line ?? 1;
    const column = e.column ?? 1;
    const span: Span = { file, line, column, offset: e.offset, endLine: line, endColumn: column + e.length, endOffset: e.offset + e.length };
    report(error(Codes.LEX, span, `unexpected character ${describeChar(String.fromCodePoint(text.codePointAt(e.offset - offset) ?? 0))}`), e.offset);
  }

  // Unterminated strings and malformed numbers stay in the stream as strings and numbers, so
  // the statement around them is not also reported as a syntax error.
  const tokens = result.tokens;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    const type = token.tokenType;
    if (type === UnterminatedString) {
      report(error(Codes.UNTERMINATED_STRING, tokenSpan(token, file), 'unterminated string: a string must end with \'"\' on the same line'), token.startOffset);
    } else if (type === IntLit && !WELL_FORMED_INT.test(token.image)) {
      const image = clip(token.image, 40);
      const hint = /^0[xX]$/.test(token.image)
        ? "'0x' must be followed by hex digits"
        : /^0X/.test(token.image)
          ? "write hex numbers with a lower-case '0x'"
          : "a number is decimal digits, or '0x' and hex digits";
      report(error(Codes.LEX, tokenSpan(token, file), `malformed number '${image}': ${hint}`), token.startOffset);
    }
  }

  if (unreported > 0) {
    const last = diagnostics[diagnostics.length - 1];
    const span: Span = { file, line: last.line, column: last.column, offset: 0, endLine: last.line, endColumn: last.column, endOffset: 0 };
    diagnostics.push(error(Codes.LEX, span, `${unreported} more lexical errors not reported`));
  }
  errorOffsets.sort((a, b) => a - b);

  const commentTokens = result.groups.comments ?? [];
  const comments: Comment[] = new Array(commentTokens.length);
  for (let i = 0; i < commentTokens.length; i++) {
    comments[i] = { text: commentTokens[i].image, span: tokenSpan(commentTokens[i], file) };
  }
  return { tokens, comments, diagnostics, errorOffsets };
}

/** Moves tokens lexed from a part of a file (which starts a line, so columns stay) to the file's offsets and lines. */
function shiftTokens(tokens: IToken[], offset: number, lines: number): void {
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    t.startOffset += offset;
    t.endOffset = (t.endOffset as number) + offset;
    t.startLine = (t.startLine as number) + lines;
    t.endLine = (t.endLine as number) + lines;
  }
}

/** How many lines `text` from `from` to `to` ends (as the lexer counts them: `\r\n`, `\n` or `\r`), `to` not inside a `\r\n`. */
export function countLineBreaks(text: string, from: number, to: number): number {
  let count = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) count++;
  }
  return count;
}

/**
 * Counts the tokens `tokenize` would produce (garbage runs included), stopping once past
 * `limit`. A cheap pass over the characters, so an input that would need gigabytes of tokens
 * is refused before chevrotain allocates them.
 */
export function countTokens(text: string, limit: number): number {
  let count = 0;
  const n = text.length;
  let i = 0;
  while (i < n && count <= limit) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) {
      i++;
    } else if (c === 0x23 /* # */) {
      while (i < n && text.charCodeAt(i) !== 0x0a && text.charCodeAt(i) !== 0x0d) i++;
    } else if (c === 0x22 /* " */) {
      count++;
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 0x0a || d === 0x0d) break;
        i++;
        if (d === 0x22) break;
        if (d === 0x5c && i < n && text.charCodeAt(i) !== 0x0a && text.charCodeAt(i) !== 0x0d) i++;
      }
    } else if (isWordChar(c)) {
      count++;
      while (i < n && isWordChar(text.charCodeAt(i))) i++;
    } else if (isPunctStart(c)) {
      count++;
      const d = text.charCodeAt(i + 1);
      i += (c === 0x2e && d === 0x2e) || ((c === 0x3d || c === 0x21 || c === 0x3c || c === 0x3e) && d === 0x3d) ? 2 : 1;
    } else {
      count++;
      while (i < n && !isTokenStart(text.charCodeAt(i))) i++;
    }
  }
  return count;
}

function isWordChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
}

// . = ! < > ; , * { } ( )
function isPunctStart(c: number): boolean {
  return c === 0x2e || c === 0x3d || c === 0x21 || c === 0x3c || c === 0x3e || c === 0x3b || c === 0x2c || c === 0x2a || c === 0x7b || c === 0x7d || c === 0x28 || c === 0x29;
}

function isTokenStart(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x23 || c === 0x22 || isWordChar(c) || isPunctStart(c);
}
