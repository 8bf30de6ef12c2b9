// The formatter's printer: a parsed `.sgxpol` file → a Prettier doc in the canonical layout.
//
// The AST gives the structure; the token stream (re-lexed from the same text) gives every
// token as written, including the parentheses and commas the AST does not keep. The printer
// walks the AST in source order and takes the tokens one by one from a cursor, so it knows
// exactly which comments lie before each token. Comments are placed by that order alone:
// every comment is printed once, in source order, and is always followed by a line break, so
// it can never swallow a token or merge with another comment.
//
// Layout (README.md, "Formatting policies"): statements on their own lines, at most one
// blank line kept between them; `=` aligned across runs of consecutive declarations;
// continuation lines indented one level; `where` and `because` clauses on their own lines when
// the rule does not fit; `and`/`or` start continuation lines; `{…}` lists and sets broken one
// item per line; measurement literals lower-cased; redundant parentheses dropped (the ones a
// reader needs to see an `and` grouped inside an `or` are kept).
import type { IToken, TokenType } from 'chevrotain';
import { doc, type Doc } from 'prettier';
import type {
  Comment, Cond, NeverallowDecl, ObjectRef, Objects, RuleDecl, SetDecl, SourceFile, Statement, SubjExpr, SubjPred, SubjectDecl, Subjects,
} from '../compiler/ast.js';
import {
  tokenize, And, Audit, Because, Comma, Default, DotDot, Einit, Eq, Ident, Import, In, IntLit, LBrace, LParen, Neverallow, Not, Or, Policy,
  RBrace, RParen, Semi, Star, StringLit, Subject, Version, Via, Where, AnyToken,
} from '../compiler/lexer.js';

const { group, indent, dedent, line, softline, hardline, lineSuffix, breakParent } = doc.builders;

/** A bug in the printer (the token stream and the AST disagree): never a user's mistake. */
export class PrinterBug extends Error {}

/**
 * Reads the file's tokens in order. `take` prints a token, preceded by every comment that lies
 * before it and has not been printed yet; `skip` drops a token (a redundant parenthesis) and
 * leaves those comments for the next printed token.
 */
class TokenCursor {
  private ti = 0;
  private ci = 0;
  private last: IToken | undefined;

  constructor(
    private readonly tokens: IToken[],
    private readonly comments: Comment[],
  ) {}

  private peekToken(): IToken | undefined {
    return this.tokens[this.ti];
  }

  peekOffset(): number {
    return this.peekToken()?.startOffset ?? Number.MAX_SAFE_INTEGER;
  }

  private advance(type: TokenType): IToken {
    const token = this.tokens[this.ti];
    if (token === undefined || !(token.tokenType === type || (token.tokenType.CATEGORIES ?? []).includes(type))) {
      throw new PrinterBug(`expected a ${type.name} token, found ${token === undefined ? 'the end' : `'${token.image}'`} at offset ${token?.startOffset ?? -1}`);
    }
    this.ti++;
    this.last = token;
    return token;
  }

  /** How many tokens of `type` come next, in a row, before `limit` (nothing is taken). */
  countAhead(type: TokenType, limit: number): number {
    let n = 0;
    for (let i = this.ti; i < this.tokens.length; i++) {
      const t = this.tokens[i];
      if (t.tokenType !== type || t.startOffset >= limit) break;
      n++;
    }
    return n;
  }

  /** Whether a comment not yet printed lies before the next token. */
  hasPendingComment(): boolean {
    return this.ci < this.comments.length && this.comments[this.ci].span.offset < this.peekOffset();
  }

  /** The comments before the next token, each on its own line. */
  private leading(): Doc[] {
    const out: Doc[] = [];
    while (this.hasPendingComment()) out.push(this.comments[this.ci++].text, hardline);
    return out;
  }

  /** The next token (of `type`, or of a category `type`) with the comments before it; `text` replaces its image. */
  take(type: TokenType, text?: (image: string) => string): Doc {
    const comments = this.leading();
    const token = this.advance(type);
    const image = text === undefined ? token.image : text(token.image);
    return comments.length === 0 ? image : [...comments, image];
  }

  /** Takes a token without printing it or the comments before it (they go before the next token printed). */
  skip(type: TokenType): void {
    this.advance(type);
  }

  /** Takes a `,` (always printed right after the item before it): comments before it move after it. */
  takeComma(): Doc {
    this.advance(Comma);
    return ',';
  }

  /**
   * A comment that ends the line of the last token, printed there. Only where a line break of
   * the enclosing group follows (the break-parent makes sure it breaks).
   */
  trailing(): Doc {
    if (!this.hasPendingComment()) return '';
    const comment = this.comments[this.ci];
    // The token written before the comment (a `,` taken since may come after it).
    let before: IToken | undefined;
    for (let i = this.ti - 1; i >= 0 && before === undefined; i--) if (this.tokens[i].startOffset < comment.span.offset) before = this.tokens[i];
    if (before === undefined || comment.span.line !== (before.endLine as number)) return '';
    this.ci++;
    return [' ', comment.text, breakParent];
  }

  /**
   * The `;` that ends a statement, then the comments written before it (which move after it) and
   * the comment on the same line after it. The first of these stays on the statement's last
   * line when it was on the line of the token before it; the others get lines of their own.
   * Returns the doc and the source offset where the statement (with its comments) ends.
   */
  endStatement(): { doc: Doc; end: number } {
    const before: Comment[] = [];
    while (this.hasPendingComment()) before.push(this.comments[this.ci++]);
    const previous = this.last;
    const semi = this.advance(Semi);
    const out: Doc[] = [';'];
    let end = (semi.endOffset as number) + 1;
    const after = this.ci < this.comments.length ? this.comments[this.ci] : undefined;
    const trailingAfter = after !== undefined && after.span.line === (semi.endLine as number) && after.span.offset < this.peekOffset();
    const moved = trailingAfter ? [...before, after] : before;
    if (trailingAfter) {
      this.ci++;
      end = after.span.endOffset;
    }
    moved.forEach((comment, i) => {
      const sameLine = i === 0 && (comment === after ? true : previous !== undefined && comment.span.line === (previous.endLine as number));
      // A line suffix does not count toward the width, so a trailing comment never makes a statement break.
      out.push(sameLine ? lineSuffix([' ', comment.text]) : [hardline, comment.text]);
    });
    return { doc: out, end };
  }

  /** Comments before `offset` that are not printed yet (comments between statements). */
  commentsBefore(offset: number): Comment[] {
    const out: Comment[] = [];
    while (this.ci < this.comments.length && this.comments[this.ci].span.offset < offset) out.push(this.comments[this.ci++]);
    return out;
  }

  assertDone(): void {
    if (this.ti !== this.tokens.length) throw new PrinterBug(`${this.tokens.length - this.ti} tokens were not printed`);
  }
}

type BoolNode = SubjExpr | Cond;
/** Where an expression stands: parentheses it needs, or may keep, depend on it. */
type Context = 'top' | 'or' | 'and' | 'not';

const lowerCase = (image: string): string => image.toLowerCase();

class StatementPrinter {
  constructor(private readonly cursor: TokenCursor) {}

  statement(s: Statement, pad: number): Doc {
    switch (s.kind) {
      case 'policy':
        return [this.cursor.take(Policy), indent([' ', this.cursor.take(StringLit), ' ', this.cursor.take(Version), ' ', this.cursor.take(IntLit)])];
      case 'import':
        return [this.cursor.take(Import), indent([' ', this.cursor.take(StringLit)])];
      case 'default':
        return [this.cursor.take(Default), indent([' ', this.cursor.take(AnyToken), s.audit ? [' ', this.cursor.take(Audit)] : ''])];
      case 'set':
        return this.set(s, pad);
      case 'subject':
        return this.subject(s, pad);
      case 'rule':
        return this.rule(s);
      case 'neverallow':
        return this.neverallow(s);
    }
  }

  private set(s: SetDecl, pad: number): Doc {
    const c = this.cursor;
    const first = c.take(AnyToken);
    const head = [' ', c.take(Ident), ' '.repeat(pad), ' ', c.take(Eq)];
    const item = (i: number) => (s.items[i].kind === 'literal' ? c.take(StringLit, lowerCase) : c.take(Ident));
    if (s.items.length === 1) return [first, indent([...head, ' ', item(0)])];
    // One line when it fits; otherwise every item on its own line.
    const list: Doc[] = [c.trailing(), line, item(0)];
    for (let i = 1; i < s.items.length; i++) list.push(c.takeComma(), c.trailing(), line, item(i));
    return [first, indent([...head, group(list)])];
  }

  private subject(s: SubjectDecl, pad: number): Doc {
    const c = this.cursor;
    const first = c.take(Subject);
    const rest = [' ', c.take(Ident), ' '.repeat(pad), ' ', c.take(Eq), ' ', this.bool(s.expr, 'top')];
    return [first, indent(rest)];
  }

  private rule(s: RuleDecl): Doc {
    const c = this.cursor;
    const first = c.take(AnyToken);
    const head: Doc[] = [];
    if (s.audit) head.push(' ', c.take(Audit));
    head.push(' ', this.subjects(s.subjects), ' ', c.take(Einit));
    if (s.via !== undefined) head.push(' ', c.take(Via), ' ', c.take(AnyToken));
    head.push(' ', this.objects(s.objects));
    if (s.where !== undefined) head.push(c.trailing(), line, c.take(Where), ' ', indent(this.bool(s.where, 'top')));
    const out: Doc[] = [group([first, indent(head)])];
    if (s.because !== undefined) out.push(indent([c.trailing(), hardline, c.take(Because), ' ', c.take(StringLit)]));
    return out;
  }

  private neverallow(s: NeverallowDecl): Doc {
    const c = this.cursor;
    const first = c.take(Neverallow);
    const head: Doc[] = [' ', this.subjects(s.subjects), ' ', c.take(Einit)];
    if (s.via !== undefined) head.push(' ', c.take(Via), ' ', c.take(AnyToken));
    head.push(' ', this.objects(s.objects));
    if (s.where !== undefined) head.push(c.trailing(), line, c.take(Where), ' ', indent(this.bool(s.where, 'top')));
    return group([first, indent(head)]);
  }

  private subjects(subjects: Subjects): Doc {
    const c = this.cursor;
    if (subjects.kind === 'any') return c.take(Star);
    if (!subjects.braced) return c.take(Ident);
    return this.braced(subjects.names.length, () => c.take(Ident));
  }

  private objects(objects: Objects): Doc {
    const c = this.cursor;
    if (objects.kind === 'any') return c.take(Star);
    if (!objects.braced) return this.object(objects.items[0]);
    let i = 0;
    return this.braced(objects.items.length, () => this.object(objects.items[i++]));
  }

  /** `{ a, b }` on one line, or one item per line with the braces at the statement's indentation. */
  private braced(count: number, item: () => Doc): Doc {
    const c = this.cursor;
    const open = c.take(LBrace);
    const list: Doc[] = [c.trailing(), line, item()];
    for (let i = 1; i < count; i++) list.push(c.takeComma(), c.trailing(), line, item());
    list.push(c.trailing());
    const close = c.take(RBrace);
    return dedent(group([open, indent(list), line, close]));
  }

  private object(object: ObjectRef): Doc {
    const c = this.cursor;
    const kind = c.take(AnyToken);
    const target = object.target.kind === 'ref' ? c.take(Ident) : c.take(StringLit, lowerCase);
    return [kind, ' ', target];
  }

  // ---- boolean expressions (subject classes and `where` conditions share the shape) --------

  /** How many `(` at the cursor belong to `node` itself (not to its first operand). */
  private ownedParens(node: BoolNode): number {
    const limit = node.kind === 'or' || node.kind === 'and' ? node.operands[0].span.offset : node.kind === 'not' ? node.operand.span.offset : Number.MAX_SAFE_INTEGER;
    return this.cursor.countAhead(LParen, limit);
  }

  /** A whole expression (a subject class's, or a `where` condition) on its own. */
  expression(node: BoolNode): Doc {
    return this.bool(node, 'top');
  }

  private bool(node: BoolNode, context: Context): Doc {
    const c = this.cursor;
    const owned = this.ownedParens(node);
    const required = (node.kind === 'or' && (context === 'and' || context === 'not')) || (node.kind === 'and' && context === 'not');
    // An `and` the author grouped inside an `or` keeps its parentheses: they help the reader.
    const kept = node.kind === 'and' && context === 'or' && owned > 0;
    const parens = required || kept;
    if (required && owned === 0) throw new PrinterBug('an expression that needs parentheses has none');

    let open: Doc = '';
    for (let i = 0; i < owned; i++) {
      if (parens && i === 0) open = c.take(LParen);
      else c.skip(LParen);
    }
    // A comment that ends the line of the `(` stays there.
    const afterOpen = parens ? c.trailing() : '';
    const body = this.boolBody(node);
    let trailing: Doc = '';
    let close: Doc = '';
    for (let i = 0; i < owned; i++) {
      if (parens && i === owned - 1) {
        trailing = c.trailing();
        close = c.take(RParen);
      } else {
        c.skip(RParen);
      }
    }
    if (!parens) return node.kind === 'or' || node.kind === 'and' ? group(context === 'top' ? body : indent(body)) : body;
    return group([open, indent([afterOpen, softline, group(body)]), trailing, softline, close]);
  }

  private boolBody(node: BoolNode): Doc {
    const c = this.cursor;
    switch (node.kind) {
      case 'or':
      case 'and': {
        const parts: Doc[] = [];
        this.flatten(node, node.kind, parts);
        return parts;
      }
      case 'not':
        return [c.take(Not), ' ', this.bool(node.operand, 'not')];
      case 'pred':
      case 'subjpred':
        return this.pred(node.pred);
      case 'ref':
        return c.take(Ident);
      case 'cmp':
        return [c.take(AnyToken), ' ', c.take(AnyToken), ' ', c.take(IntLit)];
      case 'in':
        return [c.take(AnyToken), ' ', c.take(In), ' ', c.take(IntLit), c.take(DotDot), c.take(IntLit)];
      case 'attr':
      case 'const':
        return c.take(AnyToken);
      case 'object':
        return this.object(node.object);
      case 'subject':
        return [c.take(Subject), ' ', c.take(Ident)];
    }
  }

  /** The operands of an `and`/`or`, with operands of the same kind merged in (their parentheses are redundant). */
  private flatten(node: Extract<BoolNode, { kind: 'or' | 'and' }>, kind: 'or' | 'and', parts: Doc[]): void {
    const c = this.cursor;
    node.operands.forEach((operand: BoolNode, i: number) => {
      if (i > 0) parts.push(c.trailing(), line, c.take(kind === 'or' ? Or : And), ' ');
      if (operand.kind === kind) {
        const owned = this.ownedParens(operand);
        for (let k = 0; k < owned; k++) c.skip(LParen);
        this.flatten(operand as Extract<BoolNode, { kind: 'or' | 'and' }>, kind, parts);
        for (let k = 0; k < owned; k++) c.skip(RParen);
      } else {
        parts.push(this.bool(operand, kind));
      }
    });
  }

  private pred(pred: SubjPred): Doc {
    const c = this.cursor;
    const keyword = c.take(AnyToken);
    if (pred.kind === 'exe' || pred.kind === 'label' || pred.kind === 'holds') return [keyword, ' ', c.take(StringLit)];
    const lo = c.take(IntLit);
    return pred.range ? [keyword, ' ', lo, c.take(DotDot), c.take(IntLit)] : [keyword, ' ', lo];
  }
}

// ---- one expression, as text ---------------------------------------------------------------

/**
 * An expression in the canonical layout on one line, without comments: for hovers and graph
 * labels. `tokens` are the tokens of the file the expression comes from (see `tokenize`).
 */
export function expressionText(node: BoolNode, tokens: IToken[]): string {
  const printer = new StatementPrinter(new TokenCursor(tokensIn(tokens, node.span.offset, node.span.endOffset), []));
  return doc.printer.printDocToString(printer.expression(node), { printWidth: Number.MAX_SAFE_INTEGER, tabWidth: 4, useTabs: false }).formatted;
}

/** One statement in the canonical layout, without its comments (`printWidth` 80 unless given). */
export function statementText(statement: Statement, tokens: IToken[], printWidth = 80): string {
  const cursor = new TokenCursor(tokensIn(tokens, statement.span.offset, statement.span.endOffset), []);
  const body = new StatementPrinter(cursor).statement(statement, 0);
  const end = cursor.endStatement();
  return doc.printer.printDocToString([body, end.doc], { printWidth, tabWidth: 4, useTabs: false }).formatted;
}

/** The tokens that start in [from, to); `tokens` are in source order. */
function tokensIn(tokens: IToken[], from: number, to: number): IToken[] {
  const firstAt = (offset: number) => {
    let lo = 0;
    let hi = tokens.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (tokens[mid].startOffset < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return tokens.slice(firstAt(from), firstAt(to));
}

// ---- the file -----------------------------------------------------------------------------

/** Whether the source between two offsets holds an empty line. */
function hasBlankLine(text: string, from: number, to: number): boolean {
  let newlines = 0;
  for (let i = from; i < to; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x0a || (ch === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) {
      newlines++;
      if (newlines >= 2) return true;
    }
  }
  return false;
}

function isDeclaration(s: Statement): s is SetDecl | SubjectDecl {
  return s.kind === 'set' || s.kind === 'subject';
}

/** `signer NAME` / `subject NAME`: the part before `=` that alignment pads. */
function declarationHeadWidth(s: SetDecl | SubjectDecl): number {
  const keyword = s.kind === 'set' ? s.setKind : 'subject';
  return keyword.length + 1 + s.name.text.length;
}

interface Item {
  doc: Doc;
  start: number;
  end: number;
  statement?: Statement;
}

/** The whole file as a doc. `file` must come from a parse without errors of the same `text`. */
export function printFile(file: SourceFile, text: string): Doc {
  const lexed = tokenize(text, file.file);
  const cursor = new TokenCursor(lexed.tokens, lexed.comments);
  const printer = new StatementPrinter(cursor);

  const pads = alignmentPads(file, text);
  const items: Item[] = [];
  const commentItem = (comment: Comment): Item => ({ doc: comment.text, start: comment.span.offset, end: comment.span.endOffset });
  file.statements.forEach((statement, i) => {
    for (const comment of cursor.commentsBefore(statement.span.offset)) items.push(commentItem(comment));
    if (cursor.peekOffset() !== statement.span.offset) throw new PrinterBug(`statement ${i + 1} does not start at the next token`);
    const body = printer.statement(statement, pads.get(statement) ?? 0);
    const end = cursor.endStatement();
    items.push({ doc: [body, end.doc], start: statement.span.offset, end: end.end, statement });
  });
  for (const comment of cursor.commentsBefore(Number.MAX_SAFE_INTEGER)) items.push(commentItem(comment));
  cursor.assertDone();

  if (items.length === 0) return '';
  const parts: Doc[] = [];
  items.forEach((item, i) => {
    if (i > 0) parts.push(hasBlankLine(text, items[i - 1].end, item.start) ? [hardline, hardline] : hardline);
    parts.push(item.doc);
  });
  parts.push(hardline);
  return parts;
}

/**
 * Padding before `=` for each declaration in a run of consecutive declarations (no blank line
 * and no other statement between them; comments do not end a run), so their `=` line up.
 */
function alignmentPads(file: SourceFile, text: string): Map<Statement, number> {
  const pads = new Map<Statement, number>();
  let run: (SetDecl | SubjectDecl)[] = [];
  const flush = () => {
    const width = Math.max(0, ...run.map(declarationHeadWidth));
    for (const s of run) pads.set(s, width - declarationHeadWidth(s));
    run = [];
  };
  // Offsets of every comment, to tell a blank line from a comment line between two statements.
  const comments = file.comments;
  let ci = 0;
  let previousEnd = 0;
  for (const s of file.statements) {
    if (!isDeclaration(s)) {
      flush();
      previousEnd = s.span.endOffset;
      continue;
    }
    if (run.length > 0) {
      // Any blank line between the previous declaration and this one (around comments too) ends the run.
      let from = previousEnd;
      let blank = false;
      while (ci < comments.length && comments[ci].span.offset < s.span.offset) {
        const comment = comments[ci++];
        if (comment.span.offset < from) continue;
        if (hasBlankLine(text, from, comment.span.offset)) blank = true;
        from = comment.span.endOffset;
      }
      if (blank || hasBlankLine(text, from, s.span.offset)) flush();
    }
    while (ci < comments.length && comments[ci].span.offset < s.span.offset) ci++;
    run.push(s);
    previousEnd = s.span.endOffset;
  }
  flush();
  return pads;
}
