// Where each name of a file is defined or used: the index behind go-to-definition, find
// references, hover and rename-free completion. Built from the syntax tree (ast.ts) alone.
import type { Cond, MeasurementKind, Name, Objects, SourceFile, Span, Statement, SubjExpr, Subjects } from '../compiler/ast.js';

export type NameKind = MeasurementKind | 'subject';

export interface Occurrence {
  name: string;
  /** What kind of name the place expects (a set of signers, of enclaves, or a subject class). */
  kind: NameKind;
  span: Span;
  definition: boolean;
  /** The statement the occurrence is in. */
  statement: Statement;
}

/** Every definition and use of a name in `file`, in source order. */
export function occurrencesOf(file: SourceFile): Occurrence[] {
  const out: Occurrence[] = [];
  for (const statement of file.statements) {
    const add = (name: Name, kind: NameKind, definition = false) => out.push({ name: name.text, kind, span: name.span, definition, statement });
    const subjects = (s: Subjects) => {
      if (s.kind === 'list') for (const name of s.names) add(name, 'subject');
    };
    const objects = (o: Objects) => {
      if (o.kind === 'list') for (const item of o.items) if (item.target.kind === 'ref') add(item.target.name, item.objKind);
    };
    const subjExpr = (e: SubjExpr): void => {
      if (e.kind === 'or' || e.kind === 'and') e.operands.forEach(subjExpr);
      else if (e.kind === 'not') subjExpr(e.operand);
      else if (e.kind === 'ref') add(e.name, 'subject');
    };
    const cond = (c: Cond): void => {
      if (c.kind === 'or' || c.kind === 'and') c.operands.forEach(cond);
      else if (c.kind === 'not') cond(c.operand);
      else if (c.kind === 'subject') add(c.name, 'subject');
      else if (c.kind === 'object' && c.object.target.kind === 'ref') add(c.object.target.name, c.object.objKind);
    };
    switch (statement.kind) {
      case 'set':
        add(statement.name, statement.setKind, true);
        for (const item of statement.items) if (item.kind === 'ref') add(item.name, statement.setKind);
        break;
      case 'subject':
        add(statement.name, 'subject', true);
        subjExpr(statement.expr);
        break;
      case 'rule':
      case 'neverallow':
        subjects(statement.subjects);
        objects(statement.objects);
        if (statement.where) cond(statement.where);
        break;
    }
  }
  return out.sort((a, b) => a.span.offset - b.span.offset);
}

/** Whether a 1-based line and a 0-based UTF-16 character fall inside `span` (its end included, as editors expect). */
export function spanContains(span: Span, line: number, character: number): boolean {
  const column = character + 1;
  if (line < span.line || line > span.endLine) return false;
  if (line === span.line && column < span.column) return false;
  if (line === span.endLine && column > span.endColumn) return false;
  return true;
}
