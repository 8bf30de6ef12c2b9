// Lean spans for the syntax tree. A 1,000,000-rule policy has about nine spans a rule, all
// alive until the table is built; a span that keeps only its line and offsets, and works out
// its columns and end line from its file's text when asked (diagnostics, the editor), is a
// third smaller than one holding all seven numbers, and the compiler's garbage collections
// copy and mark that much less.
import type { Span } from './ast.js';

/**
 * A source file's display name and text, and where its lines start (found on first use). Lines
 * end as the lexer counts them: at `\r\n`, `\n` or `\r`.
 */
export class SourceLines {
  private starts: Int32Array | undefined;

  constructor(
    readonly file: string,
    private readonly text: string,
  ) {}

  /** The offset at which 1-based line `line` starts. */
  lineStart(line: number): number {
    return this.lineStarts()[line - 1];
  }

  /** The 1-based line holding offset `offset`. */
  lineOf(offset: number): number {
    return lastAtOrBefore(this.lineStarts(), offset) + 1;
  }

  private lineStarts(): Int32Array {
    if (this.starts !== undefined) return this.starts;
    const text = this.text;
    const found: number[] = [0];
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) found.push(i + 1);
    }
    this.starts = Int32Array.from(found);
    return this.starts;
  }
}

/**
 * A span from `offset` to `endOffset` (exclusive) that starts on `line` of `source`; the rest of
 * `Span` is computed. Its text never ends inside a line break (spans are made from tokens).
 */
export class SourceSpan implements Span {
  // Private, so that code walking a tree's own fields (or printing one) does not meet the file's text.
  readonly #source: SourceLines;
  readonly line: number;
  readonly offset: number;
  readonly endOffset: number;

  constructor(source: SourceLines, line: number, offset: number, endOffset: number) {
    this.#source = source;
    this.line = line;
    this.offset = offset;
    this.endOffset = endOffset;
  }

  get file(): string {
    return this.#source.file;
  }

  get column(): number {
    return this.offset - this.#source.lineStart(this.line) + 1;
  }

  /** The line of the span's last character (its start line when it is empty). */
  get endLine(): number {
    return this.endOffset > this.offset ? this.#source.lineOf(this.endOffset - 1) : this.line;
  }

  get endColumn(): number {
    return this.endOffset - this.#source.lineStart(this.endLine) + 1;
  }

  /** From the start of this span to the end of `last`, in the same file. */
  to(last: SourceSpan): SourceSpan {
    return new SourceSpan(this.#source, this.line, this.offset, last.endOffset);
  }

  /** The plain form, all seven fields: what `JSON.stringify` gives and Node's console shows. */
  toJSON(): Span {
    return { file: this.file, line: this.line, column: this.column, offset: this.offset, endLine: this.endLine, endColumn: this.endColumn, endOffset: this.endOffset };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): Span {
    return this.toJSON();
  }
}

/** The index of the last of `starts` (ascending) that is at most `offset`, or 0 when none is. */
export function lastAtOrBefore(starts: ArrayLike<number>, offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
