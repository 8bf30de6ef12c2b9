// The language server's project: a compiler failure must not take the server down.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
});
