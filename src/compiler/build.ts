// Stage 3: CST → AST (the types of ast.ts), checking values on the way so every later stage
// sees clean ones: measurement literals (64 hex digits, lower-cased), numbers in range, ranges
// not empty, strings and globs within the limits of SPEC 10.
//
// A statement with a bad value is still reported once per bad value, and then:
//  - rules, neverallows, `policy`, `import`, `default`: dropped (they define no name);
//  - `signer`/`enclave` sets: kept without the bad items, so the name stays defined;
//  - `subject` classes: kept with the bad number clamped into range (an empty range `a..b`
//    becomes `a..a`), so the name stays defined and later stages see no unknown-name cascade.
import type { CstNode, IToken, TokenType } from 'chevrotain';
import type {
  AttributeName, CmpOp, Cond, Effect, IntLit, MeasItem, MeasurementKind, Name, ObjectRef, Objects, Span, Statement,
  StringLit as StringLitNode, SubjExpr, SubjPred, Subjects, Via,
} from './ast.js';
import { Codes, error, warning, type Diagnostic, type DiagnosticCode } from './diagnostics.js';
import { clipCharacters, codePointLength, longerThan } from '../runtime/text.js';
import { SourceLines, SourceSpan } from './span.js';
import {
  isWellFormedInt, Allow, Signer, Exe, Label, Uid, Host, Kvm, Isvprodid, EqEq, NotEq, Lt, LtEq, Gt, GtEq,
  UnterminatedString,
} from './lexer.js';

/** SPEC 10: strings and globs are at most this many characters. */
export const MAX_STRING_CHARS = 4096;
export const MAX_UINT32 = 4294967295;
export const MAX_UINT16 = 65535;

type Children = Record<string, (CstNode | IToken)[] | undefined>;

/** Thrown (and caught per statement) when the CST of a statement is incomplete: the statement failed to parse. */
class IncompleteStatement {}
const INCOMPLETE = new IncompleteStatement();

/** Decodes a STRING token (SPEC 3.1): `\"` → `"`, `\\` → `\`, any other backslash stays as written. */
export function decodeString(image: string): string {
  const terminated = image.length >= 2 && image.endsWith('"') && !isEscapedAt(image, image.length - 1);
  const body = terminated ? image.slice(1, -1) : image.slice(1);
  if (!body.includes('\\')) return body;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    const next = body[i + 1];
    if (ch === '\\' && (next === '"' || next === '\\')) {
      out += next;
      i++;
    } else {
      out += ch;
    }
  }
  return out;
}

/** Whether the character at `index` is preceded by an odd number of backslashes. */
function isEscapedAt(text: string, index: number): boolean {
  let count = 0;
  for (let i = index - 1; i >= 0 && text[i] === '\\'; i--) count++;
  return count % 2 === 1;
}

function clip(text: string, max = 30): string {
  return text.length <= max ? text : `${clipCharacters(text, max - 1)}…`;
}

const HEX = /^[0-9a-fA-F]*$/;

/** Why `value` is not a measurement literal, or undefined when it is one (64 hex digits). */
export function measurementProblem(value: string): string | undefined {
  if (value.length === 64 && HEX.test(value)) return undefined;
  if (/^0[xX]/.test(value)) return "write the 64 hex digits without a '0x' prefix";
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const hex = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
    if (!hex) {
      const ch = String.fromCodePoint(value.codePointAt(i) ?? c);
      const shown = c > 0x20 && c < 0x7f ? `'${ch}'` : `U+${(value.codePointAt(i) ?? c).toString(16).toUpperCase().padStart(4, '0')}`;
      return `${shown} at position ${i + 1} is not a hex digit; a measurement is exactly 64 hex digits`;
    }
  }
  return `it has ${value.length} hex digit${value.length === 1 ? '' : 's'}; a measurement is exactly 64`;
}

function join(a: Span, b: Span): Span {
  if (a instanceof SourceSpan && b instanceof SourceSpan) return a.to(b);
  return { file: a.file, line: a.line, column: a.column, offset: a.offset, endLine: b.endLine, endColumn: b.endColumn, endOffset: b.endOffset };
}

const CMP_OPS = new Map<TokenType, CmpOp>([
  [EqEq, '=='],
  [NotEq, '!='],
  [Lt, '<'],
  [LtEq, '<='],
  [Gt, '>'],
  [GtEq, '>='],
]);

/** Builds statements from their CST nodes, collecting value diagnostics. One per file. */
export class AstBuilder {
  readonly diagnostics: Diagnostic[] = [];
  /** False once the current statement has a bad value. */
  private clean = true;
  /** The last real token read, so a repaired statement's span ends at real text. */
  private last: IToken | undefined;
  /** How many INTs were malformed or out of range so far (an empty-range check needs two good bounds). */
  private badInts = 0;

  /** The file's name and text, which the tree's spans (span.ts) work their columns out from. */
  private readonly lines: SourceLines;

  constructor(file: string, text: string) {
    this.lines = new SourceLines(file, text);
  }

  /**
   * The AST of one `statement` CST node. `parsed` is false when its CST is incomplete (the
   * parser reported why); `statement` is also undefined when a bad value drops it (reported here).
   */
  statement(node: CstNode): { statement: Statement | undefined; parsed: boolean } {
    this.clean = true;
    this.last = undefined;
    const diagnosticsBefore = this.diagnostics.length;
    try {
      return { statement: this.declaration(node), parsed: true };
    } catch (e) {
      if (e !== INCOMPLETE) throw e;
      // Value problems found before the syntax error are moot: the statement is reported as a syntax error.
      this.diagnostics.length = diagnosticsBefore;
      return { statement: undefined, parsed: false };
    }
  }

  private declaration(node: CstNode): Statement | undefined {
    const [kind, decl] = this.only(node);
    const c = this.children(decl as CstNode);
    switch (kind) {
      case 'policyDecl':
        return this.policyDecl(c);
      case 'importDecl':
        return this.importDecl(c);
      case 'defaultDecl':
        return this.defaultDecl(c);
      case 'setDecl':
        return this.setDecl(c);
      case 'subjectDecl':
        return this.subjectDecl(c);
      case 'ruleDecl':
        return this.ruleDecl(c);
      case 'neverallowDecl':
        return this.neverallowDecl(c);
      default:
        throw INCOMPLETE;
    }
  }

  // ---- CST access ---------------------------------------------------------------------------

  private children(node: CstNode | undefined): Children {
    if (node === undefined || node.recoveredNode) throw INCOMPLETE;
    return node.children as Children;
  }

  /** The single child of a node made of one alternative: its name and value. */
  private only(node: CstNode): [string, CstNode | IToken] {
    const c = this.children(node);
    for (const key in c) {
      const value = c[key]?.[0];
      if (value !== undefined) return [key, value];
    }
    throw INCOMPLETE;
  }

  private node(c: Children, key: string, index = 0): CstNode {
    const n = c[key]?.[index] as CstNode | undefined;
    if (n === undefined || n.recoveredNode) throw INCOMPLETE;
    return n;
  }

  private nodes(c: Children, key: string): CstNode[] {
    return (c[key] ?? []) as CstNode[];
  }

  /** A required token. An inserted one (a repaired `;` or `)`) stands at the end of the last real token. */
  private token(c: Children, key: string, index = 0): IToken {
    return this.take(c[key]?.[index] as IToken | undefined);
  }

  private take(t: IToken | undefined): IToken {
    if (t === undefined) throw INCOMPLETE;
    if (t.isInsertedInRecovery) {
      if (this.last === undefined) throw INCOMPLETE;
      return this.last;
    }
    if (this.last === undefined || t.startOffset > this.last.startOffset) this.last = t;
    return t;
  }

  private optionalToken(c: Children, key: string, index = 0): IToken | undefined {
    return c[key]?.[index] === undefined ? undefined : this.token(c, key, index);
  }

  private tokens(c: Children, key: string): IToken[] {
    const list = c[key] ?? [];
    return list.map((_, i) => this.token(c, key, i));
  }

  private span(t: IToken): Span {
    return new SourceSpan(this.lines, t.startLine as number, t.startOffset, (t.endOffset as number) + 1);
  }

  /** From the start of `first` to the end of `last` (one allocation: this runs for most nodes). */
  private spanOf(first: IToken, last: IToken): Span {
    return new SourceSpan(this.lines, first.startLine as number, first.startOffset, (last.endOffset as number) + 1);
  }

  // ---- values -------------------------------------------------------------------------------

  private report(code: DiagnosticCode, span: Span, message: string): void {
    this.clean = false;
    this.diagnostics.push(error(code, span, message));
  }

  private name(t: IToken): Name {
    return { text: t.image, span: this.span(t) };
  }

  /** A STRING token's value; over-long strings are reported as strings, or as globs when `glob` names the predicate. */
  private string(t: IToken, glob?: string): StringLitNode {
    const span = this.span(t);
    const value = decodeString(t.image);
    if (t.tokenType === UnterminatedString) this.clean = false; // reported by the lexer
    if (value.length > MAX_STRING_CHARS) {
      const length = codePointLength(value);
      if (length > MAX_STRING_CHARS) {
        if (glob !== undefined) this.report(Codes.GLOB_TOO_LONG, span, `${glob} glob is too long: ${length} characters (the limit is ${MAX_STRING_CHARS})`);
        else this.report(Codes.STRING_TOO_LONG, span, `string is too long: ${length} characters (the limit is ${MAX_STRING_CHARS})`);
      }
    }
    return { value, span };
  }

  /** A measurement literal, lower-cased, or undefined after reporting why it is not one. */
  private measurement(t: IToken, kind: MeasurementKind): string | undefined {
    const value = decodeString(t.image);
    if (t.tokenType === UnterminatedString) {
      this.clean = false; // reported by the lexer
      return undefined;
    }
    const problem = measurementProblem(value);
    if (problem === undefined) return value.toLowerCase();
    const field = kind === 'signer' ? 'MRSIGNER' : 'MRENCLAVE';
    this.report(Codes.BAD_MEASUREMENT, this.span(t), `bad ${field} literal "${clip(value, 20)}": ${problem}`);
    return undefined;
  }

  /** An INT in 0 … max. Out of range: reported, and clamped. A malformed one (reported by the lexer) becomes 0. */
  private int(t: IToken, max: number, what: string): IntLit {
    const text = t.image;
    const span = this.span(t);
    if (!isWellFormedInt(text)) {
      this.clean = false;
      this.badInts++;
      return { value: 0, text, span };
    }
    // Compare the digits, not a double, so a huge literal is never rounded into range.
    const hex = text.startsWith('0x');
    const digits = (hex ? text.slice(2) : text).replace(/^0+(?=.)/, '');
    const tooLong = digits.length > (hex ? 8 : 10);
    const value = tooLong ? Infinity : hex ? parseInt(digits, 16) : Number(digits);
    if (value > max) {
      this.badInts++;
      this.report(Codes.NUMBER_OUT_OF_RANGE, span, `${what} ${clip(text)} is out of range: it must be 0 … ${max}`);
      return { value: max, text, span };
    }
    return { value, text, span };
  }

  /** `lo..hi` must not be empty. When it is: reported, and `hi` becomes `lo`. Call right after reading both bounds. */
  private range(lo: IntLit, hi: IntLit, what: string, badIntsBefore: number): IntLit {
    if (lo.value <= hi.value || this.badInts > badIntsBefore) return hi;
    this.report(Codes.EMPTY_RANGE, join(lo.span, hi.span), `${what} range ${lo.text}..${hi.text} is empty: ${lo.text} is greater than ${hi.text}; write ${hi.text}..${lo.text}`);
    return { ...hi, value: lo.value };
  }

  // ---- statements -----------------------------------------------------------------------------

  private statementSpan(first: IToken): Span {
    return this.spanOf(first, this.last ?? first);
  }

  private policyDecl(c: Children): Statement | undefined {
    const first = this.token(c, 'Policy');
    const name = this.string(this.token(c, 'StringLit'));
    this.token(c, 'Version');
    const version = this.int(this.token(c, 'IntLit'), MAX_UINT32, 'version');
    this.token(c, 'Semi');
    return this.clean ? { kind: 'policy', name, version, span: this.statementSpan(first) } : undefined;
  }

  private importDecl(c: Children): Statement | undefined {
    const first = this.token(c, 'Import');
    const path = this.string(this.token(c, 'StringLit'));
    this.token(c, 'Semi');
    return this.clean ? { kind: 'import', path, span: this.statementSpan(first) } : undefined;
  }

  private defaultDecl(c: Children): Statement | undefined {
    const first = this.token(c, 'Default');
    const effect = this.effect(this.token(c, 'EffectKw'));
    const audit = this.optionalToken(c, 'Audit') !== undefined;
    this.token(c, 'Semi');
    return { kind: 'default', effect, audit, span: this.statementSpan(first) };
  }

  private setDecl(c: Children): Statement {
    const first = this.token(c, 'SetKindKw');
    const setKind: MeasurementKind = first.tokenType === Signer ? 'signer' : 'enclave';
    const name = this.name(this.token(c, 'Ident'));
    this.token(c, 'Eq');
    const items: MeasItem[] = [];
    const itemNodes = this.nodes(c, 'measItem');
    for (let i = 0; i < itemNodes.length; i++) {
      const [key, value] = this.only(itemNodes[i]);
      const t = this.take(value as IToken);
      if (key === 'Ident') {
        items.push({ kind: 'ref', name: this.name(t) });
      } else {
        const literal = this.measurement(t, setKind);
        if (literal !== undefined) items.push({ kind: 'literal', value: literal, span: this.span(t) });
      }
    }
    this.token(c, 'Semi');
    return { kind: 'set', setKind, name, items, span: this.statementSpan(first) };
  }

  private subjectDecl(c: Children): Statement {
    const first = this.token(c, 'Subject');
    const name = this.name(this.token(c, 'Ident'));
    this.token(c, 'Eq');
    const expr = this.subjExpr(this.node(c, 'subjExpr'));
    this.token(c, 'Semi');
    return { kind: 'subject', name, expr, span: this.statementSpan(first) };
  }

  private ruleDecl(c: Children): Statement | undefined {
    const first = this.token(c, 'EffectKw');
    const effect = this.effect(first);
    const audit = this.optionalToken(c, 'Audit') !== undefined;
    const subjects = this.subjects(this.node(c, 'subjects'));
    this.token(c, 'Einit');
    const via = this.via(c);
    const objects = this.objects(this.node(c, 'objects'));
    const where = this.optionalToken(c, 'Where') !== undefined ? this.cond(this.node(c, 'cond')) : undefined;
    const because = this.optionalToken(c, 'Because') !== undefined ? this.string(this.token(c, 'StringLit')) : undefined;
    this.token(c, 'Semi');
    if (!this.clean) return undefined;
    return { kind: 'rule', effect, audit, subjects, via, objects, where, because, span: this.statementSpan(first) };
  }

  private neverallowDecl(c: Children): Statement | undefined {
    const first = this.token(c, 'Neverallow');
    const subjects = this.subjects(this.node(c, 'subjects'));
    this.token(c, 'Einit');
    const via = this.via(c);
    const objects = this.objects(this.node(c, 'objects'));
    const where = this.optionalToken(c, 'Where') !== undefined ? this.cond(this.node(c, 'cond')) : undefined;
    this.token(c, 'Semi');
    if (!this.clean) return undefined;
    return { kind: 'neverallow', subjects, via, objects, where, span: this.statementSpan(first) };
  }

  private effect(t: IToken): Effect {
    return t.tokenType === Allow ? 'allow' : 'deny';
  }

  private via(c: Children): { path: Via; span: Span } | undefined {
    const viaToken = this.optionalToken(c, 'Via');
    if (viaToken === undefined) return undefined;
    const pathToken = this.token(c, 'PathKw');
    const path: Via = pathToken.tokenType === Host ? 'host' : pathToken.tokenType === Kvm ? 'kvm' : 'any';
    return { path, span: this.spanOf(viaToken, pathToken) };
  }

  private subjects(node: CstNode): Subjects {
    const c = this.children(node);
    const star = this.optionalToken(c, 'Star');
    if (star !== undefined) return { kind: 'any', span: this.span(star) };
    const open = this.optionalToken(c, 'LBrace');
    const idents = this.tokens(c, 'Ident');
    if (idents.length === 0) throw INCOMPLETE;
    const names = idents.map((t) => this.name(t));
    if (open === undefined) return { kind: 'list', names, braced: false, span: names[0].span };
    const close = this.token(c, 'RBrace');
    return { kind: 'list', names, braced: true, span: this.spanOf(open, close) };
  }

  private objects(node: CstNode): Objects {
    const c = this.children(node);
    const star = this.optionalToken(c, 'Star');
    if (star !== undefined) return { kind: 'any', span: this.span(star) };
    const open = this.optionalToken(c, 'LBrace');
    const objectNodes = this.nodes(c, 'object');
    if (objectNodes.length === 0) throw INCOMPLETE;
    const items = objectNodes.map((n) => this.object(n));
    if (open === undefined) return { kind: 'list', items, braced: false, span: items[0].span };
    const close = this.token(c, 'RBrace');
    return { kind: 'list', items, braced: true, span: this.spanOf(open, close) };
  }

  private object(node: CstNode): ObjectRef {
    const c = this.children(node);
    const kindToken = this.token(c, 'SetKindKw');
    const objKind: MeasurementKind = kindToken.tokenType === Signer ? 'signer' : 'enclave';
    const ident = this.optionalToken(c, 'Ident');
    if (ident !== undefined) {
      return { objKind, target: { kind: 'ref', name: this.name(ident) }, span: this.spanOf(kindToken, ident) };
    }
    const literal = this.token(c, 'StringLit');
    // A bad literal drops the whole rule, so the placeholder value is never seen.
    const value = this.measurement(literal, objKind) ?? '';
    return { objKind, target: { kind: 'literal', value, span: this.span(literal) }, span: this.spanOf(kindToken, literal) };
  }

  // ---- subject expressions --------------------------------------------------------------------

  private subjExpr(node: CstNode): SubjExpr {
    const c = this.children(node);
    const operands = this.nodes(c, 'subjAnd').map((n) => this.subjAnd(n));
    if (operands.length === 0) throw INCOMPLETE;
    if (operands.length === 1) return operands[0];
    return { kind: 'or', operands, span: join(operands[0].span, operands[operands.length - 1].span) };
  }

  private subjAnd(node: CstNode): SubjExpr {
    const c = this.children(node);
    const operands = this.nodes(c, 'subjUnary').map((n) => this.subjUnary(n));
    if (operands.length === 0) throw INCOMPLETE;
    if (operands.length === 1) return operands[0];
    return { kind: 'and', operands, span: join(operands[0].span, operands[operands.length - 1].span) };
  }

  private subjUnary(node: CstNode): SubjExpr {
    const c = this.children(node);
    const nots = this.tokens(c, 'Not');
    let expr: SubjExpr;
    if (c.subjAtom !== undefined) {
      expr = this.subjAtom(this.node(c, 'subjAtom'));
    } else {
      // A parenthesised expression's span includes its parentheses.
      const open = this.token(c, 'LParen');
      const inner = this.subjExpr(this.node(c, 'subjExpr'));
      expr = { ...inner, span: this.spanOf(open, this.token(c, 'RParen')) };
    }
    for (let i = nots.length - 1; i >= 0; i--) expr = { kind: 'not', operand: expr, span: join(this.span(nots[i]), expr.span) };
    return expr;
  }

  private subjAtom(node: CstNode): SubjExpr {
    const c = this.children(node);
    if (c.subjPred !== undefined) {
      const { pred, span } = this.subjPred(this.node(c, 'subjPred'));
      return { kind: 'pred', pred, span };
    }
    const name = this.name(this.token(c, 'Ident'));
    return { kind: 'ref', name, span: name.span };
  }

  private subjPred(node: CstNode): { pred: SubjPred; span: Span } {
    const c = this.children(node);
    const globKw = this.optionalToken(c, 'GlobPredKw');
    if (globKw !== undefined) {
      const strToken = this.token(c, 'StringLit');
      const span = this.spanOf(globKw, strToken);
      if (globKw.tokenType === Exe) {
        const glob = this.string(strToken, 'exe');
        this.checkAbsolute(glob, 'exe glob', 'exe paths are absolute, so an exe glob must start with \'/\' (or \'**\')', true);
        return { pred: { kind: 'exe', glob }, span };
      }
      if (globKw.tokenType === Label) return { pred: { kind: 'label', glob: this.string(strToken, 'label') }, span };
      const path = this.string(strToken);
      this.checkAbsolute(path, 'holds path', 'held devices are absolute paths, so it must start with \'/\'', false);
      return { pred: { kind: 'holds', path }, span };
    }
    const idKw = this.token(c, 'IdPredKw');
    const kind = idKw.tokenType === Uid ? 'uid' : 'gid';
    const loToken = this.token(c, 'IntLit', 0);
    const badIntsBefore = this.badInts;
    const lo = this.int(loToken, MAX_UINT32, kind);
    if (this.optionalToken(c, 'DotDot') === undefined) return { pred: { kind, lo, hi: lo, range: false }, span: this.spanOf(idKw, loToken) };
    const hiToken = this.token(c, 'IntLit', 1);
    const hi = this.range(lo, this.int(hiToken, MAX_UINT32, kind), kind, badIntsBefore);
    return { pred: { kind, lo, hi, range: true }, span: this.spanOf(idKw, hiToken) };
  }

  /** A glob or path that can never match an absolute path is reported (warning W008). */
  private checkAbsolute(lit: StringLitNode, what: string, why: string, allowDoubleStar: boolean): void {
    if (lit.value.startsWith('/') || (allowDoubleStar && lit.value.startsWith('**'))) return;
    if (longerThan(lit.value, MAX_STRING_CHARS)) return; // already reported as too long
    // A warning, not an error: the policy means something (this predicate is simply false).
    this.diagnostics.push(warning(Codes.PATH_NEVER_MATCHES, lit.span, `${what} "${clip(lit.value)}" can never match: ${why}`));
  }

  // ---- conditions -------------------------------------------------------------------------------

  private cond(node: CstNode): Cond {
    const c = this.children(node);
    const operands = this.nodes(c, 'condAnd').map((n) => this.condAnd(n));
    if (operands.length === 0) throw INCOMPLETE;
    if (operands.length === 1) return operands[0];
    return { kind: 'or', operands, span: join(operands[0].span, operands[operands.length - 1].span) };
  }

  private condAnd(node: CstNode): Cond {
    const c = this.children(node);
    const operands = this.nodes(c, 'condUnary').map((n) => this.condUnary(n));
    if (operands.length === 0) throw INCOMPLETE;
    if (operands.length === 1) return operands[0];
    return { kind: 'and', operands, span: join(operands[0].span, operands[operands.length - 1].span) };
  }

  private condUnary(node: CstNode): Cond {
    const c = this.children(node);
    const nots = this.tokens(c, 'Not');
    let cond: Cond;
    if (c.condAtom !== undefined) {
      cond = this.condAtom(this.node(c, 'condAtom'));
    } else {
      const open = this.token(c, 'LParen');
      const inner = this.cond(this.node(c, 'cond'));
      cond = { ...inner, span: this.spanOf(open, this.token(c, 'RParen')) };
    }
    for (let i = nots.length - 1; i >= 0; i--) cond = { kind: 'not', operand: cond, span: join(this.span(nots[i]), cond.span) };
    return cond;
  }

  private condAtom(node: CstNode): Cond {
    const c = this.children(node);
    const field = this.optionalToken(c, 'FieldKw');
    if (field !== undefined) {
      const name = field.tokenType === Isvprodid ? 'isvprodid' : 'isvsvn';
      const opToken = this.optionalToken(c, 'CmpOp');
      if (opToken !== undefined) {
        const op = CMP_OPS.get(opToken.tokenType);
        if (op === undefined) throw INCOMPLETE;
        const valueToken = this.token(c, 'IntLit');
        const value = this.int(valueToken, MAX_UINT16, name);
        return { kind: 'cmp', field: name, op, value, span: this.spanOf(field, valueToken) };
      }
      this.token(c, 'In');
      const badIntsBefore = this.badInts;
      const lo = this.int(this.token(c, 'IntLit', 0), MAX_UINT16, name);
      this.token(c, 'DotDot');
      const hiToken = this.token(c, 'IntLit', 1);
      const hi = this.range(lo, this.int(hiToken, MAX_UINT16, name), name, badIntsBefore);
      return { kind: 'in', field: name, lo, hi, span: this.spanOf(field, hiToken) };
    }
    const attr = this.optionalToken(c, 'AttributeKw');
    if (attr !== undefined) return { kind: 'attr', name: attr.image as AttributeName, span: this.span(attr) };
    if (c.object !== undefined) {
      const object = this.object(this.node(c, 'object'));
      return { kind: 'object', object, span: object.span };
    }
    if (c.subjPred !== undefined) {
      const { pred, span } = this.subjPred(this.node(c, 'subjPred'));
      return { kind: 'subjpred', pred, span };
    }
    const subject = this.optionalToken(c, 'Subject');
    if (subject !== undefined) {
      const ident = this.token(c, 'Ident');
      return { kind: 'subject', name: this.name(ident), span: this.spanOf(subject, ident) };
    }
    const t = this.optionalToken(c, 'True');
    if (t !== undefined) return { kind: 'const', value: true, span: this.span(t) };
    const f = this.token(c, 'False');
    return { kind: 'const', value: false, span: this.span(f) };
  }
}
