// The language server's project: a compiler failure must not take the server down.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileSource } from '../../src/compiler/compile.js';
import { Project } from '../../src/lsp/project.js';

describe('Project.analyse', () => {
  it('turns an exception inside the compiler into one error on the root, instead of throwing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sgxpol-lsp-'));
    const root = join(dir, 'host.sgxpol');
    writeFileSync(root, 'allow * einit *;\n');
    const project = new Project([dir]);
    expect(project.analyse(root).result).toMatchObject({ ok: true, diagnostics: [] });
    // Stand-in for a compiler bug: the open documents' text cannot be read.
    project.documents.get = () => {
      throw new RangeError('Maximum call stack size exceeded');
    };
    const analysis = project.analyse(root);
    expect(analysis.result.ok).toBe(false);
    expect(analysis.result.diagnostics.map((d) => [d.code, d.severity, d.file, d.line, d.message])).toEqual([
      ['E001', 'error', 'host.sgxpol', 1, 'internal error while checking this policy (please report this): Maximum call stack size exceeded'],
    ]);
  });

  it('stops the lints sooner than `sgxpol check` does, says so, and checks neverallow the same', () => {
    // 600 overlapping uid ranges: `sgxpol check` lints them all in a few seconds; the editor,
    // which checks after every change, stops after some and says where.
    const count = 600;
    const text = [
      ...Array.from({ length: count }, (_, i) => `subject s${i} = uid ${i}..${i + count};`),
      ...Array.from({ length: count }, (_, i) => `allow s${i} einit signer "${'a'.repeat(64)}" where isvsvn >= ${i % 7};`),
      `neverallow * einit signer "${'b'.repeat(64)}";`,
    ].join('\n');
    const dir = mkdtempSync(join(tmpdir(), 'sgxpol-lsp-'));
    const root = join(dir, 'host.sgxpol');
    writeFileSync(root, text);
    const inEditor = new Project([dir]).analyse(root).result;
    expect(inEditor.ok).toBe(true);
    expect(inEditor.diagnostics.map((d) => [d.code, d.message.replace(/after \d+ of/, 'after N of')])).toEqual([
      ['W007', expect.stringMatching(/^the lints reached their work limit after N of 600 rules; .* \(the editor stops sooner than `sgxpol check`, which goes further\)$/)],
    ]);
    expect(compileSource(text, { filename: root }).diagnostics).toEqual([]);
    // A broken neverallow is an error in the editor as on the command line.
    const broken = text.replace(`neverallow * einit signer "${'b'.repeat(64)}";`, `neverallow s3 einit signer "${'a'.repeat(64)}";`);
    writeFileSync(root, broken);
    const errors = (diagnostics: { severity: string; code: string; line: number }[]) => diagnostics.filter((d) => d.severity === 'error').map((d) => [d.code, d.line]);
    const onCommandLine = errors(compileSource(broken, { filename: root }).diagnostics);
    expect(onCommandLine.length).toBeGreaterThan(0);
    expect(errors(new Project([dir]).analyse(root).result.diagnostics)).toEqual(onCommandLine);
  });
});
