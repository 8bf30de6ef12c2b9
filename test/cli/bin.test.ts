// The built executable, end to end (only when `npm run build` has produced it).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = root + 'dist/cli/main.js';

describe('dist/cli/main.js', () => {
  it.skipIf(!existsSync(bin))('prints help and exits 0', () => {
    const r = spawnSync(process.execPath, [bin, '--help'], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('usage: sgxpol COMMAND');
  });
  it.skipIf(!existsSync(bin))('is executable, so `npx sgxpol` works from the repository root', () => {
    expect(statSync(bin).mode & 0o111).not.toBe(0);
    const r = spawnSync('npx', ['--no-install', 'sgxpol', '--help'], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).not.toContain('Permission denied');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('usage: sgxpol COMMAND');
  });

  it.skipIf(!existsSync(bin))('lsp: shutdown and exit right after an edit, before its validation ran, still exit 0', async () => {
    // The validation waits 120 ms after an edit; it used to run after `exit` had closed the
    // connection, throw, and end the server with status 1.
    const server = spawn(process.execPath, [bin, 'lsp', '--stdio'], { cwd: root, stdio: ['pipe', 'pipe', 'ignore'] });
    const send = (message: object) => {
      const body = JSON.stringify({ jsonrpc: '2.0', ...message });
      server.stdin.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    };
    let output = '';
    server.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('"id":2,') && !output.includes('"id":3,')) send({ id: 3, method: 'shutdown' });
      if (output.includes('"id":3,')) send({ method: 'exit' });
    });
    const uri = 'file:///tmp/sgxpol-lsp-race.sgxpol';
    send({ id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } });
    send({ method: 'initialized', params: {} });
    send({ method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'sgxpol', version: 1, text: 'allow * einit *;\n' } } });
    send({ id: 2, method: 'textDocument/hover', params: { textDocument: { uri }, position: { line: 0, character: 1 } } });
    const code = await new Promise<number | null>((resolve) => server.on('exit', (status) => resolve(status)));
    expect(code).toBe(0);
  });
});
