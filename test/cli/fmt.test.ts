// SPEC 8 `sgxpol fmt FILE… [--check] [--write]`.
import { readFileSync, readdirSync, statSync, chmodSync, lstatSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scratch, sgxpol, INTEL_LE_SIGNER } from './harness.js';

const MESSY = `signer   intel = "${INTEL_LE_SIGNER.toUpperCase()}" ;  # Intel\nallow  *  einit signer intel ;\n`;
const FORMATTED = `signer intel = "${INTEL_LE_SIGNER}"; # Intel\nallow * einit signer intel;\n`;
const BROKEN = 'allow aesmd einit signer;\n';

describe('sgxpol fmt', () => {
  it('prints the formatted text of each file on standard output, changing nothing', async () => {
    const dir = scratch({ 'a.sgxpol': MESSY, 'b.sgxpol': FORMATTED });
    const r = await sgxpol(['fmt', 'a.sgxpol', 'b.sgxpol'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(FORMATTED + FORMATTED);
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'a.sgxpol'), 'utf8')).toBe(MESSY);
  });

  it('--check lists the files that would change and exits 1; 0 when all are formatted', async () => {
    const dir = scratch({ 'a.sgxpol': MESSY, 'b.sgxpol': FORMATTED });
    const r = await sgxpol(['fmt', '--check', 'a.sgxpol', 'b.sgxpol'], { cwd: dir });
    expect(r.stdout).toBe('a.sgxpol\n');
    expect(r.stderr).toMatch(/1 file is not formatted/);
    expect(r.code).toBe(1);
    expect(readFileSync(join(dir, 'a.sgxpol'), 'utf8')).toBe(MESSY);
    const ok = await sgxpol(['fmt', '--check', 'b.sgxpol'], { cwd: dir });
    expect(ok.stdout).toBe('');
    expect(ok.code).toBe(0);
  });

  it('--write rewrites the files that change, in place, keeping the file mode and leaving no temporary file', async () => {
    const dir = scratch({ 'a.sgxpol': MESSY, 'b.sgxpol': FORMATTED });
    chmodSync(join(dir, 'a.sgxpol'), 0o640);
    const before = statSync(join(dir, 'b.sgxpol')).mtimeMs;
    const r = await sgxpol(['fmt', '--write', 'a.sgxpol', 'b.sgxpol'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('formatted a.sgxpol\n');
    expect(readFileSync(join(dir, 'a.sgxpol'), 'utf8')).toBe(FORMATTED);
    expect(statSync(join(dir, 'a.sgxpol')).mode & 0o777).toBe(0o640);
    expect(statSync(join(dir, 'b.sgxpol')).mtimeMs).toBe(before);
    expect(readdirSync(dir).sort()).toEqual(['a.sgxpol', 'b.sgxpol']);
    expect((await sgxpol(['fmt', '--check', 'a.sgxpol'], { cwd: dir })).code).toBe(0);
  });

  it('--write through a symbolic link rewrites the file it names and keeps the link', async () => {
    const dir = scratch({ 'real.sgxpol': MESSY });
    symlinkSync('real.sgxpol', join(dir, 'link.sgxpol'));
    const r = await sgxpol(['fmt', '--write', 'link.sgxpol'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(lstatSync(join(dir, 'link.sgxpol')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'real.sgxpol'), 'utf8')).toBe(FORMATTED);
    expect(readdirSync(dir).sort()).toEqual(['link.sgxpol', 'real.sgxpol']);
  });

  it('leaves a file with a syntax error untouched and reports the error; the other files are still formatted', async () => {
    const dir = scratch({ 'bad.sgxpol': BROKEN, 'a.sgxpol': MESSY });
    const r = await sgxpol(['fmt', '--write', 'bad.sgxpol', 'a.sgxpol'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("bad.sgxpol:1:25: error[E001]: expected a signer or enclave name or a measurement string after 'signer', found ';'");
    expect(r.stderr).toContain('    allow aesmd einit signer;\n');
    expect(r.stderr).toContain('bad.sgxpol was not formatted');
    expect(readFileSync(join(dir, 'bad.sgxpol'), 'utf8')).toBe(BROKEN);
    expect(readFileSync(join(dir, 'a.sgxpol'), 'utf8')).toBe(FORMATTED);
    const check = await sgxpol(['fmt', '--check', 'bad.sgxpol'], { cwd: dir });
    expect(check.code).toBe(1);
    const plain = await sgxpol(['fmt', 'bad.sgxpol'], { cwd: dir });
    expect(plain.code).toBe(1);
    expect(plain.stdout).toBe('');
  });

  it('reports a missing file, and a usage error for no file', async () => {
    const dir = scratch({});
    const missing = await sgxpol(['fmt', 'nope.sgxpol'], { cwd: dir });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read policy nope\.sgxpol: no such file or directory/);
    expect((await sgxpol(['fmt'], { cwd: dir })).code).toBe(1);
  });

  it('--check --write together: rewrites, names the files, and exits 1 as --check does (SPEC 8)', async () => {
    const dir = scratch({ 'a.sgxpol': MESSY, 'b.sgxpol': FORMATTED });
    const both = await sgxpol(['fmt', '--check', '--write', 'a.sgxpol', 'b.sgxpol'], { cwd: dir });
    expect(both.code).toBe(1);
    expect(both.stdout).toBe('a.sgxpol\n');
    expect(both.stderr).toBe('formatted a.sgxpol\n1 file was not formatted, and is now\n');
    expect(readFileSync(join(dir, 'a.sgxpol'), 'utf8')).toBe(FORMATTED);
    const again = await sgxpol(['fmt', '--write', '--check', 'a.sgxpol', 'b.sgxpol'], { cwd: dir });
    expect(again).toMatchObject({ code: 0, stdout: '', stderr: '' });
  });

  it('uses the Prettier configuration next to the file', async () => {
    const dir = scratch({ 'a.sgxpol': 'subject s = uid 1 and uid 2;\n', '.prettierrc': '{ "printWidth": 20 }\n' });
    const r = await sgxpol(['fmt', 'a.sgxpol'], { cwd: dir });
    expect(r.stdout).toBe('subject s = uid 1\n    and uid 2;\n');
  });
});
