// The language server, driven in-process by a real JSON-RPC client (vscode-jsonrpc) over a
// pair of streams, on a copy of the fleet example (a root policy and four imported files).
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { startServer, type ServerHandle } from '../../src/lsp/server.js';

interface Diagnostic {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  severity: number;
  code: string;
  message: string;
}
interface PublishDiagnostics {
  uri: string;
  diagnostics: Diagnostic[];
}
interface Location {
  uri: string;
  range: { start: { line: number; character: number } };
}

const root = fileURLToPath(new URL('../../', import.meta.url));
let dir: string;
let server: ServerHandle;
let client: MessageConnection;
const published = new Map<string, Diagnostic[]>();
const waiters: { uri: string; test: (d: Diagnostic[]) => boolean; resolve: (d: Diagnostic[]) => void }[] = [];
const versions = new Map<string, number>();

const uri = (path: string) => pathToFileURL(join(dir, path)).href;
const text = (path: string) => readFileSync(join(dir, path), 'utf8');

/** The next diagnostics published for `path` that satisfy `test` (or the current ones, if they do). */
function diagnosticsFor(path: string, test: (d: Diagnostic[]) => boolean = () => true): Promise<Diagnostic[]> {
  const current = published.get(uri(path));
  if (current !== undefined && test(current)) return Promise.resolve(current);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no matching diagnostics for ${path}; last: ${JSON.stringify(published.get(uri(path)))}`)), 8000);
    waiters.push({ uri: uri(path), test, resolve: (d) => (clearTimeout(timer), resolve(d)) });
  });
}

function open(path: string, content = text(path)): void {
  versions.set(path, 1);
  void client.sendNotification('textDocument/didOpen', { textDocument: { uri: uri(path), languageId: 'sgxpol', version: 1, text: content } });
}

function replace(path: string, content: string): void {
  const version = (versions.get(path) ?? 1) + 1;
  versions.set(path, version);
  void client.sendNotification('textDocument/didChange', { textDocument: { uri: uri(path), version }, contentChanges: [{ text: content }] });
}

/** The position of the `nth` occurrence of `needle` in a file's text (plus `shift` characters). */
function positionOf(content: string, needle: string, shift = 0, nth = 0): { line: number; character: number } {
  let at = -1;
  for (let i = 0; i <= nth; i++) at = content.indexOf(needle, at + 1);
  if (at < 0) throw new Error(`${needle} not found`);
  const before = content.slice(0, at + shift);
  const line = before.split('\n').length - 1;
  return { line, character: before.length - before.lastIndexOf('\n') - 1 };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sgxpol-lsp-'));
  cpSync(join(root, 'examples/fleet'), dir, { recursive: true });
  const toServer = new PassThrough();
  const toClient = new PassThrough();
  server = startServer(toServer, toClient);
  client = createMessageConnection(new StreamMessageReader(toClient), new StreamMessageWriter(toServer));
  client.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnostics) => {
    published.set(p.uri, p.diagnostics);
    for (const w of [...waiters]) {
      if (w.uri === p.uri && w.test(p.diagnostics)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(p.diagnostics);
      }
    }
  });
  client.listen();
});

afterAll(() => {
  client?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('language server', () => {
  it('initializes and says what it can do', async () => {
    const result = (await client.sendRequest('initialize', {
      processId: null,
      rootUri: null,
      capabilities: {},
      workspaceFolders: [{ uri: pathToFileURL(dir).href, name: 'fleet' }],
    })) as { capabilities: Record<string, unknown> };
    expect(result.capabilities).toMatchObject({
      definitionProvider: true,
      referencesProvider: true,
      hoverProvider: true,
      documentFormattingProvider: true,
      completionProvider: expect.anything(),
    });
    void client.sendNotification('initialized', {});
  });

  it('publishes no errors for an imported file that is fine in its root policy', async () => {
    // fra1.sgxpol uses names it does not import (corp_services, sgx_guest): they come from main.sgxpol's other imports.
    open('site/fra1.sgxpol');
    expect(await diagnosticsFor('site/fra1.sgxpol')).toEqual([]);
  });

  it('reports errors as you type, with the compiler code and a suggestion', async () => {
    replace('site/fra1.sgxpol', text('site/fra1.sgxpol').replace('subject settlement = corp_services', 'subject settlement = corp_servics'));
    const diagnostics = await diagnosticsFor('site/fra1.sgxpol', (d) => d.length > 0);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ code: 'E101', severity: 1, source: 'sgxpol' });
    expect(diagnostics[0].message).toMatch(/unknown subject class `corp_servics`; did you mean `corp_services`\?/);
    const at = positionOf(text('site/fra1.sgxpol'), 'corp_services');
    expect(diagnostics[0].range.start).toEqual(at);
    replace('site/fra1.sgxpol', text('site/fra1.sgxpol'));
    expect(await diagnosticsFor('site/fra1.sgxpol', (d) => d.length === 0)).toEqual([]);
  });

  it('reports across imports: an unsaved edit of one file shows up in another file that is not open', async () => {
    open('common/signers.sgxpol');
    await diagnosticsFor('common/signers.sgxpol');
    replace('common/signers.sgxpol', text('common/signers.sgxpol').replace('signer corp_release', 'signer corp_releases'));
    const baseline = await diagnosticsFor('common/baseline.sgxpol', (d) => d.length > 0);
    expect(baseline.map((d) => d.code)).toEqual(['E101']);
    expect(baseline[0].message).toMatch(/`corp_release`; did you mean `corp_releases`/);
    const fra1 = await diagnosticsFor('site/fra1.sgxpol', (d) => d.length > 0);
    expect(fra1[0].message).toMatch(/`corp_release`/);
    replace('common/signers.sgxpol', text('common/signers.sgxpol'));
    await diagnosticsFor('common/baseline.sgxpol', (d) => d.length === 0);
    await diagnosticsFor('site/fra1.sgxpol', (d) => d.length === 0);
  });

  it('reports warnings too', async () => {
    replace('site/fra1.sgxpol', `${text('site/fra1.sgxpol')}\nallow sgx_guest einit * where debug and not debug;\n`);
    const diagnostics = await diagnosticsFor('site/fra1.sgxpol', (d) => d.length > 0);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ severity: 2, code: 'W001' });
    expect(diagnostics[0].message).toMatch(/can never match/);
    replace('site/fra1.sgxpol', text('site/fra1.sgxpol'));
    await diagnosticsFor('site/fra1.sgxpol', (d) => d.length === 0);
  });

  it('goes to the definition of a name in another file', async () => {
    const locations = (await client.sendRequest('textDocument/definition', {
      textDocument: { uri: uri('site/fra1.sgxpol') },
      position: positionOf(text('site/fra1.sgxpol'), 'corp_services', 3),
    })) as Location[];
    expect(locations).toEqual([{ uri: uri('common/subjects.sgxpol'), range: expect.objectContaining({ start: positionOf(text('common/subjects.sgxpol'), 'corp_services') }) }]);
  });

  it('finds every reference to a name, across files', async () => {
    const locations = (await client.sendRequest('textDocument/references', {
      textDocument: { uri: uri('site/fra1.sgxpol') },
      position: positionOf(text('site/fra1.sgxpol'), 'intel_architectural'),
      context: { includeDeclaration: true },
    })) as Location[];
    const files = locations.map((l) => l.uri.slice(pathToFileURL(dir).href.length + 1)).sort();
    expect(files).toEqual(['common/baseline.sgxpol', 'common/signers.sgxpol', 'site/fra1.sgxpol']);
  });

  it('hovers: a signer set shows its measurements', async () => {
    const hover = (await client.sendRequest('textDocument/hover', {
      textDocument: { uri: uri('common/signers.sgxpol') },
      position: positionOf(text('common/signers.sgxpol'), 'intel_provisioning', 2),
    })) as { contents: { value: string } };
    expect(hover.contents.value).toContain('**signer set** `intel_provisioning` — 2 MRSIGNER values');
    expect(hover.contents.value).toContain('c54a62f2be9ef76efb1f3930ad81ea7f60defc1f5f25e09b7c067a815ae0c6cb');
    expect(hover.contents.value).toContain('includes `intel_pve`, `intel_pce`');
  });

  it('hovers: a subject class shows its expression', async () => {
    const hover = (await client.sendRequest('textDocument/hover', {
      textDocument: { uri: uri('site/fra1.sgxpol') },
      position: positionOf(text('site/fra1.sgxpol'), 'sgx_guest', 1),
    })) as { contents: { value: string } };
    expect(hover.contents.value).toContain('**subject class** `sgx_guest`');
    expect(hover.contents.value).toContain('subject sgx_guest = qemu\n    and label "system_u:system_r:svirt_t:*"');
  });

  it("hovers: a rule shows its effective meaning", async () => {
    const hover = (await client.sendRequest('textDocument/hover', {
      textDocument: { uri: uri('site/fra1.sgxpol') },
      position: positionOf(text('site/fra1.sgxpol'), 'allow audit sgx_guest', 1),
    })) as { contents: { value: string } };
    const line = positionOf(text('site/fra1.sgxpol'), 'allow audit sgx_guest').line + 1;
    expect(hover.contents.value).toContain(`**allow**, audited — rule \`site/fra1.sgxpol:${line}\``);
    expect(hover.contents.value).toContain('launches KVM performs for a guest only');
    expect(hover.contents.value).toContain('signed by `bank_tenant` (1 MRSIGNER), or signed by `intel_architectural` (4 MRSIGNERs)');
    expect(hover.contents.value).toContain('/dev/sgx_provision');
  });

  it('completes names of the right kind after signer, and keywords elsewhere', async () => {
    const content = `${text('site/fra1.sgxpol')}\nallow settlement einit signer \n`;
    replace('site/fra1.sgxpol', content);
    const items = (await client.sendRequest('textDocument/completion', {
      textDocument: { uri: uri('site/fra1.sgxpol') },
      position: positionOf(content, 'einit signer ', 'einit signer '.length),
    })) as { label: string }[];
    const labels = items.map((i) => i.label);
    expect(labels).toContain('intel_provisioning');
    expect(labels).toContain('bank_tenant');
    expect(labels).not.toContain('sgx_guest');
    expect(labels).not.toContain('allow');
    const anywhere = (await client.sendRequest('textDocument/completion', {
      textDocument: { uri: uri('site/fra1.sgxpol') },
      position: { line: 0, character: 0 },
    })) as { label: string }[];
    expect(anywhere.map((i) => i.label)).toEqual(expect.arrayContaining(['allow', 'neverallow', 'sgx_guest', 'corp_release']));
    replace('site/fra1.sgxpol', text('site/fra1.sgxpol'));
  });

  it('formats a document with the Prettier plugin, and leaves one with errors alone', async () => {
    const messy = 'signer   x = "ACB77012053E05A63D413B8BBAE8FB6C5D73B3F2996D91C43BBBF90959C0F8D4" ; # why\nallow  *  einit signer x;\n';
    open('scratch.sgxpol', messy);
    const edits = (await client.sendRequest('textDocument/formatting', {
      textDocument: { uri: uri('scratch.sgxpol') },
      options: { tabSize: 2, insertSpaces: true },
    })) as { newText: string; range: unknown }[];
    expect(edits).toHaveLength(1);
    expect(edits[0].newText).toBe('signer x = "acb77012053e05a63d413b8bbae8fb6c5d73b3f2996d91c43bbbf90959c0f8d4"; # why\nallow * einit signer x;\n');
    expect(edits[0].range).toEqual({ start: { line: 0, character: 0 }, end: { line: 2, character: 0 } });
    replace('scratch.sgxpol', 'allow x einit signer;\n');
    expect(await client.sendRequest('textDocument/formatting', { textDocument: { uri: uri('scratch.sgxpol') }, options: { tabSize: 4, insertSpaces: true } })).toBeNull();
  });

  it('clears the diagnostics of a closed document', async () => {
    await diagnosticsFor('scratch.sgxpol', (d) => d.length > 0);
    void client.sendNotification('textDocument/didClose', { textDocument: { uri: uri('scratch.sgxpol') } });
    expect(await diagnosticsFor('scratch.sgxpol', (d) => d.length === 0)).toEqual([]);
  });

  it('shuts down and exits with status 0', async () => {
    await client.sendRequest('shutdown');
    void client.sendNotification('exit');
    expect(await server.exited).toBe(0);
  });
});

describe('sgxpol lsp', () => {
  /** LSP base-protocol framing of one message. */
  const frame = (message: object) => {
    const body = JSON.stringify({ jsonrpc: '2.0', ...message });
    return `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  };

  it('serves on standard input and output, and exits 0 after shutdown and exit', async () => {
    const { run } = await import('../../src/cli/run.js');
    const stdin = new PassThrough();
    let stdout = '';
    let answered: () => void = () => undefined;
    const shutdownAnswered = new Promise<void>((resolve) => (answered = resolve));
    const status = run(['lsp', '--stdio'], {
      stdin,
      stdout: { write: (s: string) => ((stdout += s), /"id":2/.test(stdout) && answered()) },
      stderr: { write: () => undefined },
      cwd: tmpdir(),
    });
    stdin.write(frame({ id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } }));
    stdin.write(frame({ method: 'initialized', params: {} }));
    stdin.write(frame({ id: 2, method: 'shutdown' }));
    await shutdownAnswered;
    stdin.write(frame({ method: 'exit' }));
    expect(await status).toBe(0);
    stdin.end();
    expect(stdout).toContain('"definitionProvider":true');
    expect(stdout).toContain('{"jsonrpc":"2.0","id":2,"result":null}');
  });

  it('exits 1 when the client goes away without shutdown', async () => {
    const { sgxpol } = await import('../cli/harness.js');
    const r = await sgxpol(['lsp'], { cwd: tmpdir(), stdin: frame({ id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } }) });
    expect(r.code).toBe(1);
  });
});
