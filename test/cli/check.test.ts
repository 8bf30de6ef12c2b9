// SPEC 8 `sgxpol check FILE`: diagnostics to stderr (or JSON), exit 0 ok / 1 errors.
import { describe, expect, it } from 'vitest';
import { HOST_POLICY, INTEL_LE_SIGNER, scratch, sgxpol } from './harness.js';

const broken = HOST_POLICY.replace('allow audit aesmd einit signer intel', 'allow audit aesmd einit signer intle');

describe('check', () => {
  it('exits 0 on a valid policy and prints a summary', async () => {
    const cwd = scratch({ 'host.sgxpol': HOST_POLICY });
    const r = await sgxpol(['check', 'host.sgxpol'], { cwd });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^host\.sgxpol: ok \(3 rules, 0 warnings\)\n$/);
  });

  it('prints FILE:LINE:COL: error[CODE], the source line and a caret; exits 1', async () => {
    const cwd = scratch({ 'host.sgxpol': broken });
    const r = await sgxpol(['check', 'host.sgxpol'], { cwd });
    expect(r.code).toBe(1);
    const match = /^host\.sgxpol:4:(\d+): error\[E101\]: (.*)$/m.exec(r.stderr);
    expect(match, r.stderr).not.toBeNull();
    expect(match![2]).toContain('intel'); // the suggestion
    const lines = r.stderr.split('\n');
    const at = lines.findIndex((l) => l.startsWith('host.sgxpol:4:'));
    expect(lines[at + 1]).toBe('    allow audit aesmd einit signer intle because "Intel architectural enclave";');
    expect(lines[at + 2]).toBe(' '.repeat(4 + Number(match![1]) - 1) + '^');
    expect(r.stderr).toContain('host.sgxpol: 1 error');
  });

  it('names the right file for an error in an imported file', async () => {
    const cwd = scratch({ 'root.sgxpol': 'import "lib/signers.sgxpol";\nallow * einit signer intel;\n', 'lib/signers.sgxpol': 'signer intel = "abc";\n' });
    const r = await sgxpol(['check', 'root.sgxpol'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^(\S*\/)?lib\/signers\.sgxpol:1:\d+: error\[E201\]/m);
  });

  it('--json prints { ok, diagnostics } on stdout', async () => {
    const cwd = scratch({ 'host.sgxpol': broken, 'good.sgxpol': HOST_POLICY });
    const bad = await sgxpol(['check', 'host.sgxpol', '--json'], { cwd });
    expect(bad.code).toBe(1);
    const out = JSON.parse(bad.stdout) as { ok: boolean; diagnostics: { code: string; severity: string; line: number; file: string; column: number; message: string }[] };
    expect(out.ok).toBe(false);
    expect(out.diagnostics.some((d) => d.code === 'E101' && d.severity === 'error' && d.line === 4)).toBe(true);
    const good = await sgxpol(['check', '--json', 'good.sgxpol'], { cwd });
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toEqual({ ok: true, diagnostics: [] });
  });

  it('warnings do not fail the check; --werror makes them fail it', async () => {
    const cwd = scratch({ 'open.sgxpol': 'default allow;\n' });
    const plain = await sgxpol(['check', 'open.sgxpol'], { cwd });
    expect(plain.code).toBe(0);
    expect(plain.stderr).toMatch(/^open\.sgxpol:1:\d+: warning\[W003\]: /m);
    const strict = await sgxpol(['check', 'open.sgxpol', '--werror'], { cwd });
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('treated as errors (--werror)');
    const json = await sgxpol(['check', 'open.sgxpol', '--werror', '--json'], { cwd });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).ok).toBe(false);
  });

  it('checks neverallow exactly: a kept one passes, a broken one is E401 with a witness', async () => {
    const cwd = scratch({
      'kept.sgxpol': HOST_POLICY + 'neverallow * einit via kvm * where debug;\n',
      'broken.sgxpol': HOST_POLICY + 'neverallow * einit via kvm *;\n',
    });
    const kept = await sgxpol(['check', 'kept.sgxpol'], { cwd });
    expect(kept.stderr).toBe('');
    expect(kept.code).toBe(0);
    const broken = await sgxpol(['check', 'broken.sgxpol'], { cwd });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/^broken\.sgxpol:7:1: error\[E401\]: neverallow broken\.sgxpol:7 is broken: rule broken\.sgxpol:6 allows/m);
    expect(broken.stderr).toMatch(/^ {2}note: broken\.sgxpol:6:1: rule broken\.sgxpol:6 allows it$/m);
    expect(broken.stderr).toMatch(/^ {2}witness: \{"subject":/m);
    const json = JSON.parse((await sgxpol(['check', 'broken.sgxpol', '--json'], { cwd })).stdout);
    expect(json.ok).toBe(false);
    expect(json.diagnostics[0]).toMatchObject({ code: 'E401', severity: 'error', line: 7, column: 1 });
    expect(json.diagnostics[0].witness).toMatchObject({ via: 'kvm', enclave: { mrsigner: INTEL_LE_SIGNER } });
  });

  it('a missing file is one line, no stack trace, exit 1', async () => {
    const cwd = scratch();
    const r = await sgxpol(['check', 'nope.sgxpol'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('sgxpol: cannot read policy nope.sgxpol: no such file or directory\n');
  });

  it('a directory is refused in one line', async () => {
    const cwd = scratch({ 'd/x.sgxpol': '' });
    const r = await sgxpol(['check', 'd'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('sgxpol: policy d is a directory, not a file\n');
  });
});
