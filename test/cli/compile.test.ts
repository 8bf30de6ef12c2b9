// SPEC 8 `sgxpol compile FILE [-o OUT]`, SPEC 6 table output.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOST_POLICY, scratch, sgxpol } from './harness.js';

describe('compile', () => {
  it('writes the table to standard output, exit 0', async () => {
    const cwd = scratch({ 'host.sgxpol': HOST_POLICY });
    const r = await sgxpol(['compile', 'host.sgxpol'], { cwd });
    expect(r.code).toBe(0);
    const table = JSON.parse(r.stdout) as { format: string; formatVersion: number; policy: unknown; digest: string };
    expect(table.format).toBe('sgxpol-table');
    expect(table.formatVersion).toBe(1);
    expect(table.policy).toEqual({ name: 'cli-test', version: 1 });
    expect(table.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(r.stderr).toContain('host.sgxpol: ok');
  });

  it('-o writes the table to a file; the same sources give the same bytes', async () => {
    const cwd = scratch({ 'host.sgxpol': HOST_POLICY });
    expect((await sgxpol(['compile', 'host.sgxpol', '-o', 'a.json'], { cwd })).code).toBe(0);
    const r = await sgxpol(['compile', 'host.sgxpol', '--output', 'b.json'], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('table written to b.json');
    expect(readFileSync(join(cwd, 'a.json'))).toEqual(readFileSync(join(cwd, 'b.json')));
    const stdout = await sgxpol(['compile', 'host.sgxpol'], { cwd });
    expect(stdout.stdout).toBe(readFileSync(join(cwd, 'a.json'), 'utf8'));
  });

  it('writes nothing and exits 1 when there are errors', async () => {
    const cwd = scratch({ 'bad.sgxpol': 'allow aesmd einit signer\n' });
    const r = await sgxpol(['compile', 'bad.sgxpol', '-o', 'out.json'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^bad\.sgxpol:\d+:\d+: error\[E00\d\]: /m);
    expect(existsSync(join(cwd, 'out.json'))).toBe(false);
    expect(r.stdout).toBe('');
  });

  it('--json prints { ok, diagnostics } and the table when there is no -o', async () => {
    const cwd = scratch({ 'host.sgxpol': HOST_POLICY, 'bad.sgxpol': 'allow aesmd einit signer\n' });
    const good = JSON.parse((await sgxpol(['compile', 'host.sgxpol', '--json'], { cwd })).stdout);
    expect(good.ok).toBe(true);
    expect(good.diagnostics).toEqual([]);
    expect(good.table.format).toBe('sgxpol-table');
    const toFile = await sgxpol(['compile', 'host.sgxpol', '--json', '-o', 't.json'], { cwd });
    expect(JSON.parse(toFile.stdout)).toEqual({ ok: true, diagnostics: [] });
    const bad = await sgxpol(['compile', 'bad.sgxpol', '--json'], { cwd });
    expect(bad.code).toBe(1);
    const out = JSON.parse(bad.stdout);
    expect(out.ok).toBe(false);
    expect(out.diagnostics[0].severity).toBe('error');
  });

  it('an unwritable OUT is one clear line, exit 1', async () => {
    const cwd = scratch({ 'host.sgxpol': HOST_POLICY });
    const r = await sgxpol(['compile', 'host.sgxpol', '-o', 'no/such/dir/t.json'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('sgxpol: cannot write no/such/dir/t.json: no such file or directory\n');
  });
});
