// The analysis commands (issue 4): `diff`, `who-can`, `what-can`, `eval --explain`.
import { describe, expect, it } from 'vitest';
import { referenceDecide } from '../../src/reference/interpreter.js';
import { compileSource } from '../../src/compiler/compile.js';
import { HOST_POLICY, INTEL_LE_SIGNER, OTHER_SIGNER, request, scratch, sgxpol } from './harness.js';

// HOST_POLICY: 4 allow audit aesmd einit signer intel; 5 deny * via kvm where debug; 6 allow * via kvm signer intel where isvsvn >= 2.
const STRICTER = HOST_POLICY.replace('where isvsvn >= 2', 'where isvsvn >= 5');

describe('diff', () => {
  it('exit 0 and says so when no request changes decision', async () => {
    const cwd = scratch({ 'a.sgxpol': HOST_POLICY, 'b.sgxpol': HOST_POLICY.replace('allow audit aesmd', 'allow  audit  aesmd') + '# a comment\n' });
    const r = await sgxpol(['diff', 'a.sgxpol', 'b.sgxpol'], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('a.sgxpol → b.sgxpol: no request changes decision\n');
    const json = await sgxpol(['diff', 'a.sgxpol', 'b.sgxpol', '--json'], { cwd });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ changed: false, complete: true, groups: [] });
  });

  it('exit 1 with each group: words, old and new decision and rule, and a witness that really changes', async () => {
    const cwd = scratch({ 'a.sgxpol': HOST_POLICY, 'b.sgxpol': STRICTER });
    const r = await sgxpol(['diff', 'a.sgxpol', 'b.sgxpol', '--json'], { cwd });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { changed: boolean; complete: boolean; groups: { old: { decision: string; rule: string }; new: { decision: string; rule: string }; description: string; witness: unknown }[] };
    expect(out.changed).toBe(true);
    expect(out.complete).toBe(true);
    expect(out.groups).toHaveLength(1);
    const [g] = out.groups;
    expect(g.old).toMatchObject({ decision: 'allow', rule: 'a.sgxpol:6' });
    expect(g.new).toMatchObject({ decision: 'deny', rule: 'default' });
    expect(g.description).toContain('via kvm');
    expect(g.description).toContain('isvsvn 2..4');
    const before = compileSource(HOST_POLICY, { filename: 'a.sgxpol' }).program!;
    const after = compileSource(STRICTER, { filename: 'b.sgxpol' }).program!;
    expect(referenceDecide(before, g.witness).decision).toBe('allow');
    expect(referenceDecide(after, g.witness).decision).toBe('deny');

    const text = await sgxpol(['diff', 'a.sgxpol', 'b.sgxpol'], { cwd });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^1\. allow → deny: .*via kvm.*isvsvn 2\.\.4/m);
    expect(text.stdout).toMatch(/^ {3}before: allow by a\.sgxpol:6 {2}allow \* einit via kvm signer intel where isvsvn >= 2;$/m);
    expect(text.stdout).toMatch(/^ {3}now: {4}deny by default {2}default deny$/m);
    expect(text.stdout).toMatch(/^ {3}witness: \{"subject":/m);
  });

  it('exit 2 when a policy does not compile, or on a usage error', async () => {
    const cwd = scratch({ 'a.sgxpol': HOST_POLICY, 'bad.sgxpol': 'allow * einit signer nope;\n' });
    const bad = await sgxpol(['diff', 'a.sgxpol', 'bad.sgxpol'], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad\.sgxpol:1:\d+: error\[E101\]/);
    expect((await sgxpol(['diff', 'a.sgxpol'], { cwd })).code).toBe(2);
    expect((await sgxpol(['diff', 'a.sgxpol', 'missing.sgxpol'], { cwd })).code).toBe(2);
    expect((await sgxpol(['diff', 'a.sgxpol', 'a.sgxpol', '--max-groups', '0'], { cwd })).code).toBe(2);
  });

  it('compares a policy whose neverallow is broken (the diff is still meaningful)', async () => {
    const cwd = scratch({ 'a.sgxpol': HOST_POLICY, 'b.sgxpol': HOST_POLICY + 'neverallow * einit via kvm *;\n' });
    const r = await sgxpol(['diff', 'a.sgxpol', 'b.sgxpol'], { cwd });
    expect(r.code).toBe(0);
  });
});

describe('who-can', () => {
  it('lists the allowing rules for a signer, with subjects, paths, conditions and an example', async () => {
    const cwd = scratch({ 'host.sgxpol': HOST_POLICY });
    const r = await sgxpol(['who-can', 'host.sgxpol', '--signer', INTEL_LE_SIGNER], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`who may launch enclaves with MRSIGNER ${INTEL_LE_SIGNER} (signer intel):`);
    expect(r.stdout).toMatch(/^ {2}RULE +VIA +SUBJECTS +CONDITIONS +EXAMPLE SUBJECT$/m);
    expect(r.stdout).toMatch(/^ {2}host\.sgxpol:4 +host, kvm +aesmd +.*\/usr\/bin\/aesm_service/m);
    expect(r.stdout).toMatch(/^ {2}host\.sgxpol:6 +kvm +subjects in no named class +isvsvn >= 2; without debug/m);

    const json = JSON.parse((await sgxpol(['who-can', 'host.sgxpol', '--signer', INTEL_LE_SIGNER, '--via', 'host', '--json'], { cwd })).stdout);
    expect(json.groups.map((g: { rule: string }) => g.rule)).toEqual(['host.sgxpol:4']);
    expect(json.groups[0].witness.enclave.mrsigner).toBe(INTEL_LE_SIGNER);
    expect(json.groups[0].subjects.always).toEqual(['aesmd']);
  });

  it('says when nobody may launch it, and takes a SIGSTRUCT', async () => {
    const cwd = scratch({ 'host.sgxpol': HOST_POLICY });
    const r = await sgxpol(['who-can', 'host.sgxpol', '--signer', OTHER_SIGNER], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('nobody: every such request is denied');
    const noFile = await sgxpol(['who-can', 'host.sgxpol', '--sigstruct', 'none.sig'], { cwd });
    expect(noFile.code).toBe(1);
    expect(noFile.stderr).toContain('cannot read SIGSTRUCT file none.sig');
  });

  it('needs exactly one of --signer, --enclave, --sigstruct', async () => {
    const cwd = scratch({ 'host.sgxpol': HOST_POLICY });
    expect((await sgxpol(['who-can', 'host.sgxpol'], { cwd })).code).toBe(1);
    expect((await sgxpol(['who-can', 'host.sgxpol', '--signer', 'abc'], { cwd })).stderr).toContain('--signer must be 64 hex digits');
  });
});

describe('what-can', () => {
  it('lists what a subject may launch, by rule', async () => {
    const cwd = scratch({ 'host.sgxpol': HOST_POLICY, 'subject.json': JSON.stringify(request().subject) });
    const r = await sgxpol(['what-can', 'host.sgxpol', '--subject', 'subject.json'], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('(subject classes: aesmd)');
    expect(r.stdout).toMatch(/^ {2}host\.sgxpol:4 +host, kvm +signer intel +any enclave +/m);
    const inline = await sgxpol(['what-can', 'host.sgxpol', '--subject', '{"exe":"/usr/bin/other","uid":5000,"gid":5000}', '--json'], { cwd });
    const json = JSON.parse(inline.stdout);
    expect(json.groups.map((g: { rule: string }) => g.rule)).toEqual(['host.sgxpol:6']);
    expect(json.groups[0].witness.subject).toEqual({ exe: '/usr/bin/other', uid: 5000, gid: 5000, holds: [] });
    expect(json.groups[0].conditions.isvsvn).toEqual([[2, 65535]]);
  });

  it('refuses a subject that is not valid', async () => {
    const cwd = scratch({ 'host.sgxpol': HOST_POLICY });
    const r = await sgxpol(['what-can', 'host.sgxpol', '--subject', '{"exe":"usr/bin/x","uid":1,"gid":1}'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the subject is not valid');
  });
});

describe('eval --explain', () => {
  it('lists the matching rules and why the deciding one won', async () => {
    const cwd = scratch({ 'host.sgxpol': HOST_POLICY, 'r.json': JSON.stringify(request({ via: 'kvm', attributes: ['debug'] })) });
    const r = await sgxpol(['eval', 'host.sgxpol', '--request', 'r.json', '--explain'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('deny by host.sgxpol:5: no debug enclaves in guests\n');
    expect(r.stdout).toMatch(/^ {2}\* host\.sgxpol:5 {2}deny \* einit via kvm \* where debug/m);
    expect(r.stdout).toMatch(/^ {4}host\.sgxpol:4 {2}allow audit aesmd/m);
    expect(r.stdout).toContain('why: rule host.sgxpol:5 is the first matching deny, and a matching deny always wins (over host.sgxpol:4, host.sgxpol:6)');
  });

  it('for a deny no rule made: the nearest allow rules and the first condition that failed', async () => {
    const cwd = scratch({ 'host.sgxpol': HOST_POLICY, 'r.json': JSON.stringify(request({ uid: 5000 })) });
    const r = await sgxpol(['eval', 'host.sgxpol', '--request', 'r.json', '--explain'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('no rule matches; the nearest allow rules:');
    expect(r.stdout).toContain('1 of 2 conditions fail; first: the subject is not in aesmd: `uid 0..999` is false (uid is 5000)');
    const json = JSON.parse((await sgxpol(['eval', 'host.sgxpol', '--request', 'r.json', '--explain', '--json'], { cwd })).stdout);
    expect(json).toMatchObject({ decision: 'deny', rule: 'default', audit: false });
    expect(json.explanation.nearest[0]).toMatchObject({ rule: 'host.sgxpol:4', failing: 1, conditions: 2 });
  });

  it('needs the policy source', async () => {
    const cwd = scratch({ 'host.sgxpol': HOST_POLICY, 'r.json': JSON.stringify(request()) });
    expect((await sgxpol(['compile', 'host.sgxpol', '-o', 't.json'], { cwd })).code).toBe(0);
    const r = await sgxpol(['eval', 't.json', '--request', 'r.json', '--explain'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--explain needs the policy source');
  });
});
