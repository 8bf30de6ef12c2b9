// SPEC 8 `sgxpol compile FILE [-o OUT]`, SPEC 6 table output.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tableJsonText } from '../../src/cli/compile.js';
import { UserError } from '../../src/cli/io.js';
import { compileSource } from '../../src/compiler/compile.js';
import { HOST_POLICY, request, scratch, sgxpol } from './harness.js';

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

  it('--compact writes the same table on one line', async () => {
    const cwd = scratch({ 'host.sgxpol': HOST_POLICY });
    const pretty = await sgxpol(['compile', 'host.sgxpol'], { cwd });
    const compact = await sgxpol(['compile', 'host.sgxpol', '--compact'], { cwd });
    expect(compact.code).toBe(0);
    expect(compact.stdout).toBe(JSON.stringify(JSON.parse(pretty.stdout)) + '\n');
    expect(compact.stdout.length).toBeLessThan(pretty.stdout.length);
    expect((await sgxpol(['compile', 'host.sgxpol', '--compact', '-o', 't.json'], { cwd })).code).toBe(0);
    expect(readFileSync(join(cwd, 't.json'), 'utf8')).toBe(compact.stdout);
    const json = await sgxpol(['compile', 'host.sgxpol', '--compact', '--json'], { cwd });
    expect(json.stdout.trimEnd()).not.toContain('\n');
    expect(JSON.parse(json.stdout).table).toEqual(JSON.parse(pretty.stdout));
    // The table loads and decides from the compact file as from the indented one.
    expect((await sgxpol(['compile', 'host.sgxpol', '-o', 'pretty.json'], { cwd })).code).toBe(0);
    const stdin = JSON.stringify(request());
    const fromCompact = await sgxpol(['eval', 't.json', '--request', '-', '--json'], { cwd, stdin });
    const fromPretty = await sgxpol(['eval', 'pretty.json', '--request', '-', '--json'], { cwd, stdin });
    expect(JSON.parse(fromCompact.stdout)).toMatchObject({ decision: 'allow', rule: 'host.sgxpol:4' });
    expect(fromCompact).toEqual(fromPretty);
  });

  it('a table larger than sgxpol reads back is a clear error, and nothing is written', async () => {
    const compiled = compileSource(HOST_POLICY, { filename: 'host.sgxpol' });
    const table = compiled.table!;
    const size = Buffer.byteLength(JSON.stringify(table, null, 2) + '\n');
    expect(tableJsonText(table, false, size)).toBe(JSON.stringify(table, null, 2) + '\n');
    expect(() => tableJsonText(table, false, size - 1)).toThrow(
      new UserError(`the table is too large to write: ${size} bytes, over the ${size - 1} bytes sgxpol reads back as a table; try --compact (about 3.5 times smaller)`),
    );
    expect(() => tableJsonText(table, true, 10)).toThrow(/too large to write: \d+ bytes, over the 10 bytes .*; shorten the `because` texts/);
    // Longer than Node's longest string: JSON.stringify throws a RangeError, reported the same way.
    const unwritable = { ...table, toJSON: () => { throw new RangeError('Invalid string length'); } } as unknown as typeof table;
    expect(() => tableJsonText(unwritable, false)).toThrow(
      new UserError('the table is too large to write: its JSON text is longer than Node can hold (about 512 MiB); try --compact (about 3.5 times smaller)'),
    );
  });

  it('an unwritable OUT is one clear line, exit 1', async () => {
    const cwd = scratch({ 'host.sgxpol': HOST_POLICY });
    const r = await sgxpol(['compile', 'host.sgxpol', '-o', 'no/such/dir/t.json'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('sgxpol: cannot write no/such/dir/t.json: no such file or directory\n');
  });
});
