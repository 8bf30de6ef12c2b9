// Command-line parsing for every command, on node:util parseArgs. Each command declares its
// options and help text once; unknown options, missing values and stray arguments become a
// UsageError that `run` prints with the command's usage.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { CliIo } from './io.js';

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;

export interface CommandSpec {
  name: string;
  /** One line for the top-level help. */
  summary: string;
  /** The synopsis lines, without the leading "usage: ". */
  usage: string[];
  /** The rest of `--help`: what it does, options, exit status. */
  help: string;
  options: OptionSpecs;
  /** Positional arguments allowed: [min, max]. */
  positionals: [number, number];
  /** Exit status for a usage or input error, when it is not 1 (`diff` keeps 1 for "changed"). */
  errorStatus?: number;
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** A malformed command line: printed with the command's usage, exit 1. */
export class UsageError extends Error {}

export function parseCommandArgs(command: CommandSpec, argv: string[]): ParsedArgs & { help: boolean } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError(describeParseError(e));
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const help = values.help === true;
  if (!help) {
    const [min, max] = command.positionals;
    const n = parsed.positionals.length;
    if (n < min) throw new UsageError(min === 1 && max === 1 ? 'expected one FILE' : `expected at least ${min} file argument${min === 1 ? '' : 's'}`);
    if (n > max) throw new UsageError(`unexpected argument '${parsed.positionals[max]}'`);
  }
  return { values, positionals: parsed.positionals, help };
}

/** parseArgs explains itself at length; keep the first, actionable sentence. */
function describeParseError(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const unknown = /^Unknown option '([^']+)'/.exec(message);
  if (unknown) return `unknown option '${unknown[1]}'`;
  const ambiguous = /^Option '([^']+)' argument is ambiguous/.exec(message);
  if (ambiguous) return `option '${ambiguous[1]}' needs a value`;
  const missing = /^Option '([^']+)' argument missing/.exec(message);
  if (missing) return `option '${missing[1].replace(/ <value>$/, '').split(', ')[0]}' needs a value`;
  const noValue = /^Option '([^']+)' does not take an argument/.exec(message);
  if (noValue) return `option '${noValue[1]}' does not take a value`;
  return message.split('\n')[0];
}

export function usageText(command: CommandSpec): string {
  return command.usage.map((line, i) => (i === 0 ? 'usage: ' : '       ') + `sgxpol ${line}`).join('\n') + '\n';
}

export function helpText(command: CommandSpec): string {
  return `${usageText(command)}\n${command.summary}\n\n${command.help.trimEnd()}\n`;
}
