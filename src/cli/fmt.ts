// `sgxpol fmt FILE... [--check] [--write]`: the Prettier plugin's canonical layout.
import { chmod, realpath, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FormattedTooLarge, FormatterBug, formatSource, SgxpolSyntaxError } from '../format/format.js';
import type { CommandSpec } from './args.js';
import { absolute, readUserFile, UserError, type CliIo } from './io.js';
import { formatDiagnostics } from './print.js';

export const fmtCommand: CommandSpec = {
  name: 'fmt',
  summary: 'Format policy files (Prettier plugin; keeps every comment).',
  usage: ['fmt FILE... [--check] [--write]'],
  help: `Formats .sgxpol files with the project's Prettier plugin (sgxpol/prettier), in the
canonical layout, keeping every comment in place and in order. The file's Prettier
configuration (.prettierrc, .editorconfig) applies, as with \`prettier\` itself.

Without an option the formatted text of each FILE is printed on standard output.
A file with errors is never formatted or changed; its errors are reported.

options:
  --check     print the files that are not formatted; change nothing
  --write     rewrite the files that are not formatted, in place (atomically)
  --check --write  both: rewrite them, print their names, and still exit 1 (a check that
              also fixes; the exit status says a file was not formatted)
  -h, --help  show this help

exit status: 0 ok; 1 a file has errors, cannot be read, or (--check) is not formatted`,
  options: { check: { type: 'boolean' }, write: { type: 'boolean' } },
  positionals: [1, Infinity],
  async run(args, io) {
    const check = args.values.check === true;
    const write = args.values.write === true;
    let failed = false;
    let unformatted = 0;
    for (const file of args.positionals) {
      const outcome = await formatOne(io, file);
      if (outcome.kind === 'error') {
        failed = true;
        continue;
      }
      const changed = outcome.formatted !== outcome.original;
      if (check || write) {
        if (changed && check) {
          unformatted++;
          io.stdout.write(`${file}\n`);
        }
        if (changed && write) {
          await writeAtomically(absolute(io, file), outcome.formatted);
          io.stderr.write(`formatted ${file}\n`);
        }
      } else {
        io.stdout.write(outcome.formatted);
      }
    }
    if (check && unformatted > 0) {
      const files = `${unformatted} file${unformatted === 1 ? ' was' : 's were'}`;
      io.stderr.write(
        write
          ? `${files} not formatted, and ${unformatted === 1 ? 'is' : 'are'} now\n`
          : `${unformatted} file${unformatted === 1 ? ' is' : 's are'} not formatted; run 'sgxpol fmt --write' on ${unformatted === 1 ? 'it' : 'them'}\n`,
      );
    }
    return failed || unformatted > 0 ? 1 : 0;
  },
};

type Outcome = { kind: 'ok'; original: string; formatted: string } | { kind: 'error' };

async function formatOne(io: CliIo, file: string): Promise<Outcome> {
  let original: string;
  try {
    const bytes = await readUserFile(io, file, 'policy');
    original = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (e) {
    io.stderr.write(`sgxpol: ${e instanceof UserError ? e.message : `${file} is not valid UTF-8`}\n`);
    return { kind: 'error' };
  }
  try {
    return { kind: 'ok', original, formatted: await formatSource(original, { filepath: absolute(io, file) }) };
  } catch (e) {
    if (e instanceof SgxpolSyntaxError) {
      const diagnostics = e.diagnostics.map((d) => ({ ...d, file }));
      io.stderr.write(formatDiagnostics(diagnostics, new Map([[file, original]])));
      io.stderr.write(`sgxpol: ${file} was not formatted: fix ${diagnostics.length === 1 ? 'the error' : 'the errors'} first\n`);
      return { kind: 'error' };
    }
    if (e instanceof FormatterBug || e instanceof FormattedTooLarge) {
      io.stderr.write(`sgxpol: ${file}: ${e.message}\n`);
      return { kind: 'error' };
    }
    throw e;
  }
}

/**
 * Writes next to the file, then renames over it: a reader sees the old text or the new, never
 * half. A symbolic link is followed: the file it names is rewritten and the link stays. Only a
 * regular file is rewritten (not a FIFO or a device, whose text was read once and is gone).
 */
async function writeAtomically(given: string, text: string): Promise<void> {
  let path: string;
  try {
    path = await realpath(given);
    if (!(await stat(path)).isFile()) throw new Error('not a regular file');
  } catch (e) {
    throw new UserError(`cannot write ${given}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const mode = (await stat(path)).mode & 0o7777;
    await writeFile(temporary, text, { encoding: 'utf8', mode });
    await chmod(temporary, mode);
    await rename(temporary, path);
  } catch (e) {
    await unlink(temporary).catch(() => undefined);
    throw new UserError(`cannot write ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
