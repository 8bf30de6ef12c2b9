// The plugin as Prettier's own command line loads it: `prettier --plugin=sgxpol/prettier`, from
// the repository root, through the package's "./prettier" export (the built dist/, which
// `npm ci` builds; skipped when it has not been built).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { format } from './support.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const built = existsSync(join(root, 'dist/format/plugin.js'));
const prettierBin = join(root, 'node_modules/prettier/bin/prettier.cjs');
const run = promisify(execFile);

async function prettier(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [prettierBin, '--plugin=sgxpol/prettier', ...args], { cwd: root });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const failed = e as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe.skipIf(!built)('npx prettier --plugin=sgxpol/prettier', () => {
  it('formats a .sgxpol file as sgxpol fmt does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sgxpol-prettier-'));
    const messy = 'subject   s = uid 1 and  ( uid 2 ) ;# why\n\n\n\nallow s einit   * ;\n';
    writeFileSync(join(dir, 'p.sgxpol'), messy);
    const r = await prettier([join(dir, 'p.sgxpol')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(await format(messy));
  });

  it('--check passes on the examples', async () => {
    const r = await prettier(['--check', 'examples/**/*.sgxpol']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('reports a syntax error with its place and a code frame', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sgxpol-prettier-'));
    writeFileSync(join(dir, 'bad.sgxpol'), 'allow x einit signer;\n');
    const r = await prettier([join(dir, 'bad.sgxpol')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("SyntaxError: expected a signer or enclave name or a measurement string after 'signer', found ';' [E001] (1:21)");
    expect(r.stderr).toContain('> 1 | allow x einit signer;');
  });
});
