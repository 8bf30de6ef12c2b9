// The Prettier plugin for `.sgxpol` files (exported as `sgxpol/prettier`): a language, a parser
// that is the compiler's own front end, and a printer (printer.ts).
//
//   npx prettier --plugin=sgxpol/prettier --write policy.sgxpol
//
// A file with errors is refused (the parser throws a Prettier-style syntax error with the
// place): a statement the compiler could not read is not in the syntax tree, and formatting
// what is left would drop it.
import { basename } from 'node:path';
import type { Doc, Parser, Plugin, Printer, SupportLanguage, SupportOptions } from 'prettier';
import type { SourceFile } from '../compiler/ast.js';
import type { Diagnostic } from '../compiler/diagnostics.js';
import { parseSource } from '../compiler/parse.js';
import { printFile } from './printer.js';

export const PARSER_NAME = 'sgxpol';
export const AST_FORMAT = 'sgxpol-ast';

/** The root node Prettier sees: the parsed file, with offsets for `locStart`/`locEnd`. */
export interface SgxpolAst {
  type: 'sgxpol-file';
  file: SourceFile;
  start: number;
  end: number;
}

/**
 * Thrown by the parser for a file with errors. Prettier prints `loc` as a code frame; the
 * diagnostics are there for callers that want all of them.
 */
export class SgxpolSyntaxError extends SyntaxError {
  readonly loc: { start: { line: number; column: number }; end: { line: number; column: number } };
  readonly diagnostics: Diagnostic[];

  constructor(diagnostics: Diagnostic[]) {
    const first = diagnostics[0];
    const more = diagnostics.length > 1 ? ` (and ${diagnostics.length - 1} more error${diagnostics.length > 2 ? 's' : ''})` : '';
    super(`${first.message} [${first.code}]${more} (${first.line}:${first.column})`);
    this.name = 'SyntaxError';
    this.diagnostics = diagnostics;
    this.loc = {
      start: { line: first.line, column: first.column },
      end: { line: first.endLine ?? first.line, column: first.endColumn ?? first.column + 1 },
    };
  }
}

export const languages: SupportLanguage[] = [
  {
    name: 'sgxpol',
    parsers: [PARSER_NAME],
    extensions: ['.sgxpol'],
    tmScope: 'source.sgxpol',
    aceMode: 'text',
    linguistLanguageId: 0,
    vscodeLanguageIds: ['sgxpol'],
  },
];

/** Parses with the compiler's front end; any error (syntax or value) refuses the file. */
export function parseForFormat(text: string, filepath: string | undefined): SgxpolAst {
  const name = filepath ? basename(filepath) : 'input.sgxpol';
  const { file, diagnostics } = parseSource(text, name);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new SgxpolSyntaxError(errors);
  return { type: 'sgxpol-file', file, start: 0, end: text.length };
}

const parser: Parser<SgxpolAst> = {
  astFormat: AST_FORMAT,
  parse: (text, options) => parseForFormat(text, options.filepath),
  locStart: (node) => node.start,
  locEnd: (node) => node.end,
};

// Comments are not handed to Prettier's attachment algorithm (the AST keeps them in
// `file.comments`, not `comments`): the printer places each one by the token it precedes.
const printer: Printer<SgxpolAst> = {
  print(path, options): Doc {
    const node = path.node;
    return printFile(node.file, options.originalText);
  },
};

export const parsers = { [PARSER_NAME]: parser };
export const printers = { [AST_FORMAT]: printer };
export const options: SupportOptions = {};

/** Continuation lines are indented four spaces, and a line holds a 64-digit measurement with room to spare. */
export const defaultOptions = { printWidth: 100, tabWidth: 4 };

const plugin: Plugin<SgxpolAst> = { languages, parsers, printers, options, defaultOptions };
export default plugin;
