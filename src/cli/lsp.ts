// `sgxpol lsp [--stdio]`: the language server, speaking LSP on standard input and output.
import { Readable, Writable } from 'node:stream';
import { startServer } from '../lsp/server.js';
import type { CommandSpec } from './args.js';
import type { CliIo } from './io.js';

export const lspCommand: CommandSpec = {
  name: 'lsp',
  summary: 'Run the language server on standard input and output.',
  usage: ['lsp [--stdio]'],
  help: `Speaks the Language Server Protocol on standard input and output, for editors:
diagnostics as you type (every compiler error and warning, across imports; unsaved
editor text wins over the disk), go to definition, find references, hover, completion
and formatting (the same as sgxpol fmt). See README.md, "Editor support".

options:
  --stdio     accepted for editors that pass it; standard input and output are always used
  -h, --help  show this help

exit status: 0 after the client's shutdown and exit, 1 when the client went away without them`,
  options: { stdio: { type: 'boolean' } },
  positionals: [0, 0],
  async run(_args, io) {
    const input = io.stdin instanceof Readable ? io.stdin : Readable.from(io.stdin);
    const output = isWritable(io.stdout) ? io.stdout : new Writable({ write: (chunk: Buffer, _encoding, done) => (io.stdout.write(chunk.toString('utf8')), done()) });
    const { exited } = startServer(input, output);
    const code = await exited;
    // Standard input would keep the process alive after the client said exit.
    if (input === (process.stdin as Readable)) process.stdin.destroy();
    return code;
  },
};

function isWritable(stream: CliIo['stdout']): stream is Writable {
  return stream instanceof Writable;
}
