// The CLI's entry point as a function: `run(argv, io)` returns the exit status, so tests can
// drive every command in-process. main.ts binds it to the real process.
import { readFileSync } from 'node:fs';
import { suggest } from '../compiler/diagnostics.js';
import { helpText, parseCommandArgs, usageText, UsageError, type CommandSpec } from './args.js';
import { checkCommand } from './check.js';
import { compileCommand } from './compile.js';
import { diffCommand } from './diff.js';
import { evalCommand } from './eval.js';
import { fmtCommand } from './fmt.js';
import { graphCommand } from './graph.js';
import { UserError, type CliIo } from './io.js';
import { lspCommand } from './lsp.js';
import { sigstructCommand } from './sigstruct.js';
import { testCommand } from './test.js';
import { whatCanCommand } from './what-can.js';
import { whoCanCommand } from './who-can.js';

export type { CliIo } from './io.js';

export const commands: readonly CommandSpec[] = [compileCommand, checkCommand, evalCommand, testCommand, sigstructCommand, fmtCommand, lspCommand, graphCommand, diffCommand, whoCanCommand, whatCanCommand];

export async function run(argv: string[], io: CliIo): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.stderr.write(topLevelHelp());
    return 1;
  }
  if (first === '--help' || first === '-h') {
    io.stdout.write(topLevelHelp());
    return 0;
  }
  if (first === '--version' || first === '-V') {
    io.stdout.write(`sgxpol ${packageVersion()}\n`);
    return 0;
  }
  if (first === 'help') return help(rest, io);
  const command = commands.find((c) => c.name === first);
  if (!command) {
    const guess = first.startsWith('-') ? undefined : suggest(first, commands.map((c) => c.name));
    const what = first.startsWith('-') ? `unknown option '${first}'` : `unknown command '${first}'`;
    io.stderr.write(`sgxpol: ${what}${guess ? `; did you mean '${guess}'?` : ''}\n\n${topLevelHelp()}`);
    return 1;
  }
  try {
    const args = parseCommandArgs(command, rest);
    if (args.help) {
      io.stdout.write(helpText(command));
      return 0;
    }
    return await command.run(args, io);
  } catch (e) {
    const status = command.errorStatus ?? 1;
    if (e instanceof UsageError) {
      io.stderr.write(`sgxpol ${command.name}: ${e.message}\n${usageText(command)}Try 'sgxpol ${command.name} --help' for more.\n`);
      return status;
    }
    if (e instanceof UserError) {
      io.stderr.write(`sgxpol: ${e.message}\n`);
      return status;
    }
    // Only a bug gets here: say so, with the stack, so it can be reported.
    io.stderr.write(`sgxpol: internal error in '${command.name}': ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return status;
  }
}

function help(rest: string[], io: CliIo): number {
  if (rest.length === 0) {
    io.stdout.write(topLevelHelp());
    return 0;
  }
  const command = commands.find((c) => c.name === rest[0]);
  if (!command) {
    io.stderr.write(`sgxpol: no help for unknown command '${rest[0]}'\n\n${topLevelHelp()}`);
    return 1;
  }
  io.stdout.write(helpText(command));
  return 0;
}

function topLevelHelp(): string {
  const width = Math.max(...commands.map((c) => c.usage[0].length));
  const lines = commands.map((c) => `  sgxpol ${c.usage[0].padEnd(width)}  ${c.summary}`);
  return `sgxpol ${packageVersion()}: SGX enclave launch (EINIT) policy compiler and evaluator

usage: sgxpol COMMAND [OPTIONS] ARGS...

commands:
${lines.join('\n')}

  sgxpol COMMAND --help  (or sgxpol help COMMAND)  help for one command
  sgxpol --version                                 print the version

exit status: 0 success (eval: allow), 1 error or failure, 2 deny (eval only)
`;
}

let version: string | undefined;

function packageVersion(): string {
  if (version === undefined) {
    try {
      // package.json sits two levels above both src/cli/ and dist/cli/.
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
      version = typeof pkg.version === 'string' ? pkg.version : 'unknown';
    } catch {
      version = 'unknown';
    }
  }
  return version;
}
