// SPEC 8 `sgxpol eval POLICY --request REQ.json|- [--json]`: exit 0 allow, 2 deny, 1 error.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { HOST_POLICY, OTHER_SIGNER, request, scratch, sgxpol } from './harness.js';

let cwd: string;

beforeAll(async () => {
  cwd = scratch({
    'host.sgxpol': HOST_POLICY,
    'allow.json': JSON.stringify(request()),
    'other.json': JSON.stringify(request({ mrsigner: OTHER_SIGNER })),
    'kvm-debug.json': JSON.stringify(request({ via: 'kvm', attributes: ['debug'] })),
    'invalid.json': JSON.stringify(request({ exe: 'usr/bin/aesm_service' })),
    'broken.json': '{"subject": ',
    'bad.sgxpol': 'allow * einit signer "abc";\n',
  });
  const r = await sgxpol(['compile', 'host.sgxpol', '-o', 'table.json'], { cwd });
  expect(r.code).toBe(0);
});

describe('eval', () => {
  it('allow → exit 0, with a readable line', async () => {
    const r = await sgxpol(['eval', 'host.sgxpol', '--request', 'allow.json'], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('allow by host.sgxpol:4 (audit): Intel architectural enclave\n');
  });

  it('deny by default → exit 2', async () => {
    const r = await sgxpol(['eval', 'host.sgxpol', '--request', 'other.json'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^deny by default: /);
  });

  it('deny by a rule → exit 2, the rule named', async () => {
    const r = await sgxpol(['eval', 'host.sgxpol', '--request', 'kvm-debug.json', '--json'], { cwd });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toEqual({ decision: 'deny', rule: 'host.sgxpol:5', audit: false, reason: 'no debug enclaves in guests' });
  });

  it('--json prints the decision object on one line, fields in the spec’s order', async () => {
    const r = await sgxpol(['eval', 'host.sgxpol', '--request', 'allow.json', '--json'], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout.endsWith('\n')).toBe(true);
    expect(r.stdout.trimEnd().includes('\n')).toBe(false);
    expect(Object.keys(JSON.parse(r.stdout))).toEqual(['decision', 'rule', 'audit', 'reason']);
    expect(JSON.parse(r.stdout)).toMatchObject({ decision: 'allow', rule: 'host.sgxpol:4', audit: true });
  });

  it('an invalid request is a deny (exit 2) with rule null, not an error', async () => {
    const r = await sgxpol(['eval', 'host.sgxpol', '--request', 'invalid.json', '--json'], { cwd });
    expect(r.code).toBe(2);
    const d = JSON.parse(r.stdout);
    expect(d).toMatchObject({ decision: 'deny', rule: null, audit: false });
    expect(d.reason.length).toBeGreaterThan(0);
    const readable = await sgxpol(['eval', 'host.sgxpol', '--request', 'invalid.json'], { cwd });
    expect(readable.stdout).toMatch(/^deny: invalid request: [^\n]+\n$/);
    // --explain decides with the reference interpreter, whose reason does not say "invalid request".
    const explained = await sgxpol(['eval', 'host.sgxpol', '--request', 'invalid.json', '--explain'], { cwd });
    expect(explained.code).toBe(2);
    expect(explained.stdout.split('\n')[0]).toBe(readable.stdout.trimEnd());
  });

  it('reads a request from a pipe or device only up to the size limit', async () => {
    const r = await sgxpol(['eval', 'host.sgxpol', '--request', '/dev/zero'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('sgxpol: request file /dev/zero is too large (over 16777216 bytes)\n');
  });

  it('check, compile and the analyses refuse a compiled table with one clear line', async () => {
    expect((await sgxpol(['compile', 'host.sgxpol', '-o', 'host.json'], { cwd })).code).toBe(0);
    for (const command of [['check'], ['compile'], ['who-can', '--signer', 'a'.repeat(64)]]) {
      const r = await sgxpol([command[0], 'host.json', ...command.slice(1)], { cwd });
      expect(r.code, command[0]).toBe(1);
      expect(r.stderr, command[0]).toBe('sgxpol: host.json looks like a compiled table; this command needs the policy source (a .sgxpol file)\n');
    }
  });

  it('reads the request from standard input with -', async () => {
    const r = await sgxpol(['eval', 'host.sgxpol', '--request', '-', '--json'], { cwd, stdin: JSON.stringify(request()) });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).decision).toBe('allow');
  });

  it('takes a compiled table as POLICY and decides the same', async () => {
    for (const [req, code] of [['allow.json', 0], ['other.json', 2], ['kvm-debug.json', 2], ['invalid.json', 2]] as const) {
      const fromSource = await sgxpol(['eval', 'host.sgxpol', '-r', req, '--json'], { cwd });
      const fromTable = await sgxpol(['eval', 'table.json', '-r', req, '--json'], { cwd });
      expect(fromTable.code, req).toBe(code);
      expect(fromTable.stdout, req).toBe(fromSource.stdout);
    }
  });

  it('recognizes a table without the .json extension by its content', async () => {
    writeFileSync(join(cwd, 'table.bin'), readFileSync(join(cwd, 'table.json')));
    const r = await sgxpol(['eval', 'table.bin', '-r', 'allow.json'], { cwd });
    expect(r.code).toBe(0);
  });

  it('refuses a tampered table in one line, exit 1', async () => {
    const table = JSON.parse(readFileSync(join(cwd, 'table.json'), 'utf8'));
    table.default = { effect: 'allow', audit: false };
    writeFileSync(join(cwd, 'tampered.json'), JSON.stringify(table));
    const r = await sgxpol(['eval', 'tampered.json', '-r', 'other.json'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^sgxpol: refused table tampered\.json: .+\n$/);
    writeFileSync(join(cwd, 'notjson.json'), '{ nope');
    const notJson = await sgxpol(['eval', 'notjson.json', '-r', 'other.json'], { cwd });
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toMatch(/^sgxpol: table notjson\.json is not valid JSON: .+\n$/);
  });

  it('a policy that does not compile → diagnostics, exit 1', async () => {
    const r = await sgxpol(['eval', 'bad.sgxpol', '-r', 'allow.json'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^bad\.sgxpol:1:\d+: error\[E201\]/m);
    expect(r.stdout).toBe('');
  });

  it('user mistakes are one line and exit 1: missing request, bad JSON, missing policy', async () => {
    const missing = await sgxpol(['eval', 'host.sgxpol', '-r', 'nope.json'], { cwd });
    expect(missing).toMatchObject({ code: 1, stdout: '', stderr: 'sgxpol: cannot read request file nope.json: no such file or directory\n' });
    const broken = await sgxpol(['eval', 'host.sgxpol', '-r', 'broken.json'], { cwd });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/^sgxpol: request file broken\.json is not valid JSON: [^\n]+\n$/);
    const stdin = await sgxpol(['eval', 'host.sgxpol', '-r', '-'], { cwd, stdin: '' });
    expect(stdin.code).toBe(1);
    expect(stdin.stderr).toMatch(/^sgxpol: the request on standard input is not valid JSON/);
    const noPolicy = await sgxpol(['eval', 'nope.sgxpol', '-r', 'allow.json'], { cwd });
    expect(noPolicy).toMatchObject({ code: 1, stderr: 'sgxpol: cannot read policy nope.sgxpol: no such file or directory\n' });
  });

  it('--request is required', async () => {
    const r = await sgxpol(['eval', 'host.sgxpol'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--request is required');
    expect(r.stderr).toContain('usage: sgxpol eval');
  });
});
