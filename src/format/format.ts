// Formatting as a library call, for `sgxpol fmt` and the language server: Prettier with this
// plugin, the user's Prettier configuration for the file, and the faithfulness check.
import * as prettier from 'prettier';
import plugin, { PARSER_NAME } from './plugin.js';
import { formattingProblem } from './verify.js';
import { MAX_SOURCE_BYTES } from '../compiler/parse.js';

export { SgxpolSyntaxError } from './plugin.js';

/** The formatted text failed the faithfulness check: a formatter bug. Nothing is written. */
export class FormatterBug extends Error {}

/**
 * The formatted text would be over SPEC 10's 16 MiB limit for a source file (a file just under
 * it can grow when formatted). Not a bug; nothing is written.
 */
export class FormattedTooLarge extends Error {}

export interface FormatOptions {
  /** The file's path: names it in errors, and finds its Prettier configuration (with `config`). */
  filepath?: string;
  /** Read `.prettierrc` / `.editorconfig` for `filepath`, as `prettier` does. Default true when `filepath` is given. */
  config?: boolean;
  /** Options that win over everything else (the language server passes the editor's tab size). */
  overrides?: prettier.Options;
}

/**
 * The canonical layout of `text`. Throws SgxpolSyntaxError when the file has errors (it is
 * not formatted), FormatterBug when the result would not mean what the original meant.
 */
export async function formatSource(text: string, options: FormatOptions = {}): Promise<string> {
  const config = options.filepath !== undefined && options.config !== false ? await prettier.resolveConfig(options.filepath, { editorconfig: true }) : null;
  const formatted = await prettier.format(text, {
    ...(config ?? {}),
    ...(options.overrides ?? {}),
    parser: PARSER_NAME,
    plugins: [plugin],
    ...(options.filepath !== undefined ? { filepath: options.filepath } : {}),
  });
  const bytes = Buffer.byteLength(formatted, 'utf8');
  if (bytes > MAX_SOURCE_BYTES) {
    throw new FormattedTooLarge(`formatted, the file would be ${bytes} bytes, over the 16 MiB limit for a policy file (${MAX_SOURCE_BYTES} bytes); split it with imports. The file was left as it was`);
  }
  const problem = formattingProblem(text, formatted);
  if (problem !== undefined) throw new FormatterBug(`formatter bug (please report it): ${problem}; the file was left as it was`);
  return formatted;
}
