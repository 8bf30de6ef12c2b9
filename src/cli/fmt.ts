// `sgxpol fmt`: reserved. The formatter (a Prettier plugin) is a later issue; until then the
// command exists so scripts get a clear answer rather than "unknown command".
import type { CommandSpec } from './args.js';

export const fmtCommand: CommandSpec = {
  name: 'fmt',
  summary: 'Format policy files (not yet available).',
  usage: ['fmt FILE... [--check] [--write]'],
  help: `Formats .sgxpol files with the project's Prettier plugin, keeping comments.
Not yet available in this release: it always exits 1.

options:
  --check     exit 1 if a file would change
  --write     rewrite the files in place
  -h, --help  show this help`,
  options: { check: { type: 'boolean' }, write: { type: 'boolean' } },
  positionals: [0, Infinity],
  async run(_args, io) {
    io.stderr.write('sgxpol: fmt is not yet available in this version of sgxpol; no file was read or changed\n');
    return 1;
  },
};
