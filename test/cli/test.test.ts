// SPEC 8 `sgxpol test CASES.json…`: schema-checked case files, failures printed, `N passed, N failed`.
import { describe, expect, it } from 'vitest';
import { HOST_POLICY, OTHER_SIGNER, request, scratch, sgxpol } from './harness.js';

const goodCases = {
  policy: '../policies/host.sgxpol',
  cases: [
    { name: 'aesmd launches an Intel enclave', request: request(), expect: 'allow', rule: 'host.sgxpol:4', audit: true },
    { name: 'another signer falls to the default', request: request({ mrsigner: OTHER_SIGNER }), expect: 'deny', rule: 'default' },
    { name: 'debug via kvm is denied', request: request({ via: 'kvm', attributes: ['debug'] }), expect: 'deny', rule: 'host.sgxpol:5', audit: false },
    { name: 'provisionkey needs /dev/sgx_provision', request: request({ attributes: ['provisionkey'] }), expect: 'deny', rule: 'builtin:provisionkey' },
    { name: 'an invalid request is denied', request: { subject: {} }, expect: 'deny', rule: null, audit: false },
  ],
};

function files(extra: Record<string, unknown> = {}): Record<string, string> {
  const out: Record<string, string> = { 'policies/host.sgxpol': HOST_POLICY, 'cases/host.cases.json': JSON.stringify(goodCases) };
  for (const [k, v] of Object.entries(extra)) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return out;
}

describe('test', () => {
  it('runs the cases with the policy relative to the case file; exit 0 when all pass', async () => {
    const cwd = scratch(files());
    const r = await sgxpol(['test', 'cases/host.cases.json'], { cwd });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('5 passed, 0 failed\n');
    expect(r.code).toBe(0);
  });

  it('--verbose lists the passing cases too', async () => {
    const cwd = scratch(files());
    const r = await sgxpol(['test', '-v', 'cases/host.cases.json'], { cwd });
    expect(r.stdout).toContain('ok   cases/host.cases.json › aesmd launches an Intel enclave\n');
  });

  it('prints each failing case with what was expected and what came; exit 1', async () => {
    const wrong = {
      policy: '../policies/host.sgxpol',
      cases: [
        { ...goodCases.cases[0], name: 'wrong decision', expect: 'deny' },
        { ...goodCases.cases[0], name: 'wrong rule', rule: 'host.sgxpol:6' },
        { ...goodCases.cases[0], name: 'wrong audit', audit: false },
        goodCases.cases[1],
      ],
    };
    const cwd = scratch(files({ 'cases/wrong.cases.json': wrong }));
    const r = await sgxpol(['test', 'cases/wrong.cases.json'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      'FAIL cases/wrong.cases.json › wrong decision\n' +
        '  expected: deny, rule host.sgxpol:4, audit true\n' +
        '  got:      allow, rule host.sgxpol:4, audit true\n' +
        '  reason:   Intel architectural enclave\n',
    );
    expect(r.stdout).toContain('FAIL cases/wrong.cases.json › wrong rule\n  expected: allow, rule host.sgxpol:6, audit true\n');
    expect(r.stdout).toContain('FAIL cases/wrong.cases.json › wrong audit\n  expected: allow, rule host.sgxpol:4, audit false\n');
    expect(r.stdout.endsWith('\n1 passed, 3 failed\n')).toBe(true);
  });

  it('sums over several case files and compiles each policy once', async () => {
    const cwd = scratch(files({ 'cases/again.cases.json': goodCases, 'cases/third.cases.json': { ...goodCases, cases: [{ ...goodCases.cases[0], expect: 'deny' }] } }));
    const r = await sgxpol(['test', 'cases/host.cases.json', 'cases/again.cases.json', 'cases/third.cases.json'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n').at(-2)).toBe('10 passed, 1 failed');
  });

  it('validates every case file against the schema before anything runs', async () => {
    const cwd = scratch(
      files({
        'cases/extra.cases.json': { ...goodCases, policy: 'does-not-exist.sgxpol', owner: 'me' },
        'cases/badcase.cases.json': { policy: 'x.sgxpol', cases: [{ name: 'n', request: {}, expect: 'permit', colour: 1 }, { name: 'm', expect: 'deny' }] },
      }),
    );
    const r = await sgxpol(['test', 'cases/host.cases.json', 'cases/extra.cases.json', 'cases/badcase.cases.json'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(''); // nothing ran, not even the valid file
    expect(r.stderr).toContain('sgxpol: cases/extra.cases.json: not a valid case file');
    expect(r.stderr).toContain("(top level): unknown field 'owner'");
    expect(r.stderr).toContain('cases[0].expect: must be one of "allow", "deny"');
    expect(r.stderr).toContain("cases[0]: unknown field 'colour'");
    expect(r.stderr).toContain("cases[1]: must have required property 'request'");
    expect(r.stderr).toContain('2 case files refused; no case was run');
  });

  it('a large case file with errors shows its first error only, not millions', async () => {
    // 100,000 empty cases (300 KB): each lacks name, request and expect. Collecting every error
    // of a 16 MiB file like this took 4.6 GB.
    const cwd = scratch({ 'host.sgxpol': HOST_POLICY, 'big.cases.json': JSON.stringify({ policy: 'host.sgxpol', cases: new Array(100_000).fill({}) }) });
    const r = await sgxpol(['test', 'big.cases.json'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').filter((line) => line.startsWith('  '))).toHaveLength(1);
    expect(r.stderr).toContain('sgxpol: big.cases.json: not a valid case file (schemas/cases.schema.json); its first error:');
  });

  it('takes any JSON value as a request: a non-object is an invalid request, denied', async () => {
    const cwd = scratch(files({ 'cases/odd.cases.json': { ...goodCases, cases: [null, 'einit', [], 7].map((request, i) => ({ name: `odd ${i}`, request, expect: 'deny', rule: null, audit: false })) } }));
    const r = await sgxpol(['test', 'cases/odd.cases.json'], { cwd });
    expect(r.stdout).toBe('4 passed, 0 failed\n');
    expect(r.code).toBe(0);
  });

  it('refuses a case without a request', async () => {
    const cwd = scratch(files({ 'cases/t.cases.json': { ...goodCases, cases: [{ name: 'n', expect: 'deny' }] } }));
    const r = await sgxpol(['test', 'cases/t.cases.json'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("cases[0]: must have required property 'request'");
  });

  it('refuses a wrongly typed rule or audit', async () => {
    const cwd = scratch(files({ 'cases/t.cases.json': { ...goodCases, cases: [{ ...goodCases.cases[0], rule: 4, audit: 'yes' }] } }));
    const r = await sgxpol(['test', 'cases/t.cases.json'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cases[0].rule: must be string,null');
    expect(r.stderr).toContain('cases[0].audit: must be boolean');
  });

  it('a missing or non-JSON case file is refused in one line', async () => {
    const cwd = scratch(files({ 'cases/broken.cases.json': '{ "policy": ' }));
    const missing = await sgxpol(['test', 'cases/nope.json'], { cwd });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('sgxpol: cannot read case file cases/nope.json: no such file or directory\n');
    const broken = await sgxpol(['test', 'cases/broken.cases.json'], { cwd });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/sgxpol: case file cases\/broken\.cases\.json is not valid JSON: /);
  });

  it('a policy that does not compile fails every case of its file, and the others still run', async () => {
    const cwd = scratch(
      files({ 'policies/bad.sgxpol': 'allow * einit signer nosuch;\n', 'cases/bad.cases.json': { ...goodCases, policy: '../policies/bad.sgxpol' } }),
    );
    const r = await sgxpol(['test', 'cases/bad.cases.json', 'cases/host.cases.json'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^policies\/bad\.sgxpol:1:\d+: error\[E101\]/m);
    expect(r.stdout).toContain('FAIL cases/bad.cases.json: policy policies/bad.sgxpol could not be loaded; 5 cases not run\n');
    expect(r.stdout.endsWith('5 passed, 5 failed\n')).toBe(true);
  });

  it('a missing policy fails its cases with one clear line', async () => {
    const cwd = scratch(files({ 'cases/gone.cases.json': { ...goodCases, policy: 'gone.sgxpol' } }));
    const r = await sgxpol(['test', 'cases/gone.cases.json'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('sgxpol: cannot read policy cases/gone.sgxpol: no such file or directory\n');
    expect(r.stdout.endsWith('0 passed, 5 failed\n')).toBe(true);
  });

  it('accepts a compiled table as the policy', async () => {
    const cwd = scratch(files({ 'cases/table.cases.json': { ...goodCases, policy: '../policies/host.json' } }));
    expect((await sgxpol(['compile', 'policies/host.sgxpol', '-o', 'policies/host.json'], { cwd })).code).toBe(0);
    const r = await sgxpol(['test', 'cases/table.cases.json'], { cwd });
    expect(r.stdout).toBe('5 passed, 0 failed\n');
    expect(r.code).toBe(0);
  });
});
