// The reference interpreter against decisions worked out by hand from the SPEC, one
// `describe` per section. These pin the reference itself: the differential test then holds
// the compiled table and the evaluator to it.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileSource } from '../../src/compiler/compile.js';
import type { Program } from '../../src/compiler/ir.js';
import { referenceDecide } from '../../src/reference/interpreter.js';
import type { Decision } from '../../src/runtime/types.js';

const S1 = 'a1'.repeat(32);
const S2 = 'b2'.repeat(32);
const S3 = 'c3'.repeat(32);
const E1 = 'e1'.repeat(32);
const E2 = 'e2'.repeat(32);
const E3 = 'e3'.repeat(32);

function compile(text: string, filename = 'host.sgxpol'): Program {
  const result = compileSource(text, { filename });
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (!result.ok || result.program === undefined) {
    throw new Error(`policy did not compile:\n${errors.map((d) => `${d.line}:${d.column} ${d.code} ${d.message}`).join('\n')}`);
  }
  return result.program;
}

interface RequestParts {
  exe?: string;
  uid?: number;
  gid?: number;
  label?: string;
  holds?: string[];
  via?: 'host' | 'kvm';
  mrenclave?: string;
  mrsigner?: string;
  isvprodid?: number;
  isvsvn?: number;
  attributes?: string[] | string;
}

/** A valid request: aesmd (uid 0) launching E1 signed by S1, product 1, SVN 1, on the host. */
function request(parts: RequestParts = {}): Record<string, unknown> {
  const subject: Record<string, unknown> = { exe: parts.exe ?? '/usr/sbin/aesmd', uid: parts.uid ?? 0, gid: parts.gid ?? 0 };
  if (parts.label !== undefined) subject.label = parts.label;
  if (parts.holds !== undefined) subject.holds = parts.holds;
  const enclave: Record<string, unknown> = {
    mrenclave: parts.mrenclave ?? E1,
    mrsigner: parts.mrsigner ?? S1,
    isvprodid: parts.isvprodid ?? 1,
    isvsvn: parts.isvsvn ?? 1,
  };
  if (parts.attributes !== undefined) enclave.attributes = parts.attributes;
  const out: Record<string, unknown> = { subject, enclave };
  if (parts.via !== undefined) out.via = parts.via;
  return out;
}

function decide(policy: string | Program, parts: RequestParts | Record<string, unknown> = {}, raw = false): Decision {
  const program = typeof policy === 'string' ? compile(policy) : policy;
  return referenceDecide(program, raw ? parts : request(parts as RequestParts));
}

/** decision, rule and audit only; the reason is checked where the SPEC fixes it. */
function outcome(d: Decision): [string, string | null, boolean] {
  return [d.decision, d.rule, d.audit];
}

/** Whether a policy whose only rule is `allow * einit * where COND;` allows the request. */
function whereHolds(cond: string, parts: RequestParts = {}, definitions = ''): boolean {
  return decide(`${definitions}\nallow * einit * where ${cond};`, parts).decision === 'allow';
}

/** Whether a subject class `c = EXPR` contains the request's subject. */
function inClass(expr: string, parts: RequestParts = {}, definitions = ''): boolean {
  return decide(`${definitions}\nsubject c = ${expr};\nallow c einit *;`, parts).decision === 'allow';
}

describe('SPEC 5.1: an invalid request is a deny that names no rule', () => {
  const permissive = compile(`default allow audit;\nallow audit * einit *;`);
  const cases: [string, unknown][] = [
    ['bad hex in mrenclave', { ...request(), enclave: { ...(request().enclave as object), mrenclave: 'g'.repeat(64) } }],
    ['63 hex digits in mrsigner', { ...request(), enclave: { ...(request().enclave as object), mrsigner: 'a'.repeat(63) } }],
    ['an unknown extra field', { ...request(), extra: 1 }],
    ['a non-canonical exe', request({ exe: '/usr//sbin/aesmd' })],
    ['a relative exe', request({ exe: 'usr/sbin/aesmd' })],
    ['an exe with a .. segment', request({ exe: '/usr/../sbin/aesmd' })],
    ['an out-of-range uid', request({ uid: 4294967296 })],
    ['an out-of-range isvsvn', request({ isvsvn: 65536 })],
    ['a uid of the wrong type', { ...request(), subject: { exe: '/usr/sbin/aesmd', uid: '0', gid: 0 } }],
    ['an unknown attribute name', request({ attributes: ['bogus'] })],
    ['a missing enclave', { subject: request().subject }],
    ['an unknown via', { ...request(), via: 'guest' }],
    ['an unknown action', { ...request(), action: 'launch' }],
    ['null', null],
    ['a string', 'einit'],
  ];
  for (const [name, invalid] of cases) {
    it(`denies ${name}, with rule null, no audit and a reason`, () => {
      const d = referenceDecide(permissive, invalid);
      expect(outcome(d)).toEqual(['deny', null, false]);
      expect(d.reason.length).toBeGreaterThan(0);
    });
  }

  it('accepts measurements in any case, and action einit spelled out', () => {
    expect(decide(permissive, { ...request({ mrsigner: S1.toUpperCase() }), action: 'einit' }, true).decision).toBe('allow');
  });
});

describe('SPEC 5.2: the first matching deny wins', () => {
  it('a deny beats an earlier allow', () => {
    expect(outcome(decide(`allow * einit *;\ndeny * einit *;`))).toEqual(['deny', 'host.sgxpol:2', false]);
  });

  it('of two matching denies, the first in program order decides', () => {
    const policy = `deny audit * einit signer "${S1}" because "first";\ndeny * einit * because "second";`;
    const d = decide(policy);
    expect(outcome(d)).toEqual(['deny', 'host.sgxpol:1', true]);
    expect(d.reason).toBe('first');
  });

  it('a deny that does not match is skipped', () => {
    expect(outcome(decide(`deny * einit signer "${S2}";\nallow * einit *;`))).toEqual(['allow', 'host.sgxpol:2', false]);
  });

  it('a later deny beats an earlier allow even with audit on the allow', () => {
    expect(outcome(decide(`allow audit * einit *;\n\n\ndeny * einit enclave "${E1}";`))).toEqual(['deny', 'host.sgxpol:4', false]);
  });
});

describe('SPEC 5.3: else the first matching allow', () => {
  it('the first matching allow decides, with its audit flag and because text', () => {
    const d = decide(`allow * einit signer "${S2}";\nallow audit * einit signer "${S1}" because "ok";\nallow * einit *;`);
    expect(outcome(d)).toEqual(['allow', 'host.sgxpol:2', true]);
    expect(d.reason).toBe('ok');
  });

  it('a rule without because gets a reason in words', () => {
    expect(decide(`allow * einit *;`).reason.length).toBeGreaterThan(0);
  });

  it('no via means any path: host rules also govern guests', () => {
    const program = compile(`allow * einit *;`);
    expect(decide(program, { via: 'host' }).decision).toBe('allow');
    expect(decide(program, { via: 'kvm' }).decision).toBe('allow');
  });

  it('via host, via kvm and via any match their paths; a missing via is host', () => {
    const program = compile(`allow * einit via host * where isvsvn == 1;\nallow * einit via kvm * where isvsvn == 2;\nallow * einit via any * where isvsvn == 3;`);
    expect(decide(program, { isvsvn: 1 }).rule).toBe('host.sgxpol:1');
    expect(decide(program, { isvsvn: 1, via: 'kvm' }).rule).toBe('default');
    expect(decide(program, { isvsvn: 2, via: 'kvm' }).rule).toBe('host.sgxpol:2');
    expect(decide(program, { isvsvn: 2 }).rule).toBe('default');
    expect(decide(program, { isvsvn: 3, via: 'kvm' }).rule).toBe('host.sgxpol:3');
    expect(decide(program, { isvsvn: 3, via: 'host' }).rule).toBe('host.sgxpol:3');
  });
});

describe('SPEC 5.4: else the default', () => {
  it('without a default statement: deny, no audit', () => {
    expect(outcome(decide(`allow * einit signer "${S2}";`))).toEqual(['deny', 'default', false]);
  });

  it('an empty policy denies by default', () => {
    expect(outcome(decide(``))).toEqual(['deny', 'default', false]);
  });

  it('default allow audit', () => {
    expect(outcome(decide(`default allow audit;`))).toEqual(['allow', 'default', true]);
  });

  it('default deny audit, declared after the rules', () => {
    expect(outcome(decide(`allow * einit signer "${S2}";\ndefault deny audit;`))).toEqual(['deny', 'default', true]);
  });
});

describe('SPEC 5.5: the provisionkey invariant', () => {
  const allowAll = compile(`allow audit * einit *;`);

  it('an allow for a provisionkey enclave without /dev/sgx_provision becomes a deny', () => {
    expect(outcome(decide(allowAll, { attributes: ['provisionkey'] }))).toEqual(['deny', 'builtin:provisionkey', false]);
  });

  it('the same with the attributes as flags (bit 4)', () => {
    expect(outcome(decide(allowAll, { attributes: '0x10' }))).toEqual(['deny', 'builtin:provisionkey', false]);
    expect(outcome(decide(allowAll, { attributes: '0xFFFFFFFFFFFFFFFF' }))).toEqual(['deny', 'builtin:provisionkey', false]);
    expect(outcome(decide(allowAll, { attributes: '0x0f' }))).toEqual(['allow', 'host.sgxpol:1', true]);
  });

  it('holding /dev/sgx_provision keeps the allow', () => {
    expect(outcome(decide(allowAll, { attributes: ['provisionkey'], holds: ['/dev/sgx_provision'] }))).toEqual(['allow', 'host.sgxpol:1', true]);
  });

  it('applies on the kvm path: the VMM process must hold it', () => {
    expect(outcome(decide(allowAll, { attributes: ['provisionkey'], via: 'kvm', holds: ['/dev/kvm', '/dev/sgx_vepc'] }))).toEqual([
      'deny',
      'builtin:provisionkey',
      false,
    ]);
  });

  it('applies to an allow by default', () => {
    expect(outcome(decide(`default allow audit;`, { attributes: ['provisionkey'] }))).toEqual(['deny', 'builtin:provisionkey', false]);
  });

  it('leaves a deny as it was', () => {
    expect(outcome(decide(`deny audit * einit *;`, { attributes: ['provisionkey'] }))).toEqual(['deny', 'host.sgxpol:1', true]);
  });

  it('does not care about other attributes or devices', () => {
    expect(decide(allowAll, { attributes: ['debug', 'mode64bit', 'einittokenkey'], holds: ['/dev/sgx_provisionx'] }).decision).toBe('allow');
    expect(decide(allowAll, { attributes: ['provisionkey'], holds: ['/dev/sgx_provisionx'] }).decision).toBe('deny');
  });
});

describe('SPEC 3.3: subject classes', () => {
  it('exe GLOB', () => {
    expect(inClass(`exe "/usr/sbin/*"`)).toBe(true);
    expect(inClass(`exe "/usr/bin/*"`)).toBe(false);
  });

  it('label GLOB, false without a label', () => {
    expect(inClass(`label "system_u:*"`, { label: 'system_u:system_r:svirt_t:s0' })).toBe(true);
    expect(inClass(`label "user_u:*"`, { label: 'system_u:system_r:svirt_t:s0' })).toBe(false);
    expect(inClass(`label "*"`)).toBe(false);
    expect(inClass(`not label "*"`)).toBe(true);
    expect(inClass(`label "*"`, { label: '' })).toBe(true);
  });

  it('holds PATH, by exact string', () => {
    expect(inClass(`holds "/dev/kvm"`, { holds: ['/dev/null', '/dev/kvm'] })).toBe(true);
    expect(inClass(`holds "/dev/kvm"`, { holds: ['/dev/kvm2'] })).toBe(false);
    expect(inClass(`holds "/dev/kvm"`)).toBe(false);
  });

  it('a class is evaluated once per request, however often it is named (2^40 paths, one answer each)', () => {
    // s40 = s39 and s39, …: written out, s40 would test uid 2^40 times. Each class's answer is
    // remembered for the request, so this takes microseconds (and would not finish otherwise).
    let definitions = 'subject s0 = uid 0..10;\n';
    for (let i = 1; i <= 40; i++) definitions += `subject s${i} = s${i - 1} and s${i - 1};\n`;
    expect(inClass('s40', { uid: 7 }, definitions)).toBe(true);
    expect(inClass('s40', { uid: 11 }, definitions)).toBe(false);
    expect(inClass('not s40 or s40', { uid: 11 }, definitions)).toBe(true);
  });

  it('uid N and uid N..M (inclusive), gid likewise', () => {
    expect(inClass(`uid 107`, { uid: 107 })).toBe(true);
    expect(inClass(`uid 107`, { uid: 108 })).toBe(false);
    expect(inClass(`uid 0x6b`, { uid: 107 })).toBe(true);
    expect(inClass(`uid 100..200`, { uid: 100 })).toBe(true);
    expect(inClass(`uid 100..200`, { uid: 200 })).toBe(true);
    expect(inClass(`uid 100..200`, { uid: 201 })).toBe(false);
    expect(inClass(`uid 100..200`, { uid: 99 })).toBe(false);
    expect(inClass(`uid 0..4294967295`, { uid: 4294967295 })).toBe(true);
    expect(inClass(`gid 5`, { uid: 5, gid: 6 })).toBe(false);
    expect(inClass(`gid 5..6`, { uid: 5, gid: 6 })).toBe(true);
  });

  it('and, or, not, parentheses, with not binding tightest and and tighter than or', () => {
    expect(inClass(`uid 1 and uid 2`, { uid: 1 })).toBe(false);
    expect(inClass(`uid 1 or uid 2`, { uid: 2 })).toBe(true);
    expect(inClass(`not uid 1`, { uid: 2 })).toBe(true);
    expect(inClass(`not not uid 1`, { uid: 1 })).toBe(true);
    // or of (uid 1 and gid 1) and (uid 2): uid 2 alone suffices
    expect(inClass(`uid 1 and gid 1 or uid 2`, { uid: 2, gid: 0 })).toBe(true);
    // uid 1 and (gid 1 or uid 2): uid 2 is not uid 1
    expect(inClass(`uid 1 and (gid 1 or uid 2)`, { uid: 2, gid: 0 })).toBe(false);
    // (not uid 1) and gid 0
    expect(inClass(`not uid 1 and gid 0`, { uid: 2, gid: 0 })).toBe(true);
    expect(inClass(`not (uid 2 and gid 0)`, { uid: 2, gid: 0 })).toBe(false);
  });

  it('IDENT: membership in another class, defined before or after', () => {
    expect(inClass(`root and not qemu`, { uid: 0 }, `subject root = uid 0;\nsubject qemu = exe "/usr/bin/qemu*";`)).toBe(true);
    expect(decide(`allow a einit *;\nsubject a = b or uid 9;\nsubject b = c;\nsubject c = gid 3;`, { uid: 1, gid: 3 }).decision).toBe('allow');
    expect(decide(`allow a einit *;\nsubject a = b or uid 9;\nsubject b = c;\nsubject c = gid 3;`, { uid: 1, gid: 4 }).decision).toBe('deny');
  });

  it('a rule subject list matches any of its classes; * matches every subject', () => {
    const program = compile(`subject a = uid 1;\nsubject b = uid 2;\nallow {a, b} einit *;\ndeny * einit * where uid 3;`);
    expect(decide(program, { uid: 1 }).decision).toBe('allow');
    expect(decide(program, { uid: 2 }).decision).toBe('allow');
    expect(outcome(decide(program, { uid: 3 }))).toEqual(['deny', 'host.sgxpol:4', false]);
    expect(outcome(decide(program, { uid: 4 }))).toEqual(['deny', 'default', false]);
  });
});

describe('SPEC 3.3: objects and measurement sets', () => {
  const sets = `signer intel = "${S1}";\nsigner vendors = intel, "${S2}";\nsigner all = vendors, all2;\nsigner all2 = "${S3}";\nenclave qe = "${E1}", "${E2}";`;

  it('signer X: the mrsigner is in the set, includes expanded', () => {
    const program = compile(`${sets}\nallow * einit signer vendors;`);
    expect(decide(program, { mrsigner: S1 }).decision).toBe('allow');
    expect(decide(program, { mrsigner: S2 }).decision).toBe('allow');
    expect(decide(program, { mrsigner: S3 }).decision).toBe('deny');
    expect(decide(compile(`${sets}\nallow * einit signer all;`), { mrsigner: S3 }).decision).toBe('allow');
  });

  it('enclave X: the mrenclave is in the set; the mrsigner of the same value does not count', () => {
    const program = compile(`${sets}\nallow * einit enclave qe;`);
    expect(decide(program, { mrenclave: E2 }).decision).toBe('allow');
    expect(decide(program, { mrenclave: E3, mrsigner: E1 }).decision).toBe('deny');
  });

  it('a literal is a one-element set, in any case', () => {
    const program = compile(`allow * einit signer "${S2.toUpperCase()}";`);
    expect(decide(program, { mrsigner: S2 }).decision).toBe('allow');
    expect(decide(program, { mrsigner: S1 }).decision).toBe('deny');
  });

  it('a list of objects matches any of them', () => {
    const program = compile(`${sets}\nallow * einit { enclave "${E3}", signer intel };`);
    expect(decide(program, { mrenclave: E3, mrsigner: S3 }).decision).toBe('allow');
    expect(decide(program, { mrenclave: E2, mrsigner: S1 }).decision).toBe('allow');
    expect(decide(program, { mrenclave: E2, mrsigner: S2 }).decision).toBe('deny');
  });
});

describe('SPEC 3.3: where conditions', () => {
  it('isvprodid and isvsvn with each comparison', () => {
    const svn = (cond: string, isvsvn: number) => whereHolds(cond, { isvsvn });
    expect([svn('isvsvn == 3', 3), svn('isvsvn == 3', 4)]).toEqual([true, false]);
    expect([svn('isvsvn != 3', 3), svn('isvsvn != 3', 4)]).toEqual([false, true]);
    expect([svn('isvsvn < 3', 2), svn('isvsvn < 3', 3)]).toEqual([true, false]);
    expect([svn('isvsvn <= 3', 3), svn('isvsvn <= 3', 4)]).toEqual([true, false]);
    expect([svn('isvsvn > 3', 4), svn('isvsvn > 3', 3)]).toEqual([true, false]);
    expect([svn('isvsvn >= 3', 3), svn('isvsvn >= 3', 2)]).toEqual([true, false]);
    expect(whereHolds('isvprodid == 0x10', { isvprodid: 16 })).toBe(true);
    expect(whereHolds('isvprodid == 16', { isvprodid: 16, isvsvn: 17 })).toBe(true);
    expect(whereHolds('isvsvn == 16', { isvprodid: 16, isvsvn: 17 })).toBe(false);
  });

  it('in A..B is inclusive', () => {
    expect([2, 3, 7, 8, 9].map((isvsvn) => whereHolds('isvsvn in 3..8', { isvsvn }))).toEqual([false, true, true, true, false]);
    expect(whereHolds('isvprodid in 0..65535', { isvprodid: 65535 })).toBe(true);
  });

  it('attribute names test their bit', () => {
    const bits: [string, number][] = [['debug', 1], ['mode64bit', 2], ['provisionkey', 4], ['einittokenkey', 5], ['cet', 6], ['kss', 7], ['aexnotify', 10]];
    for (const [name, bit] of bits) {
      const flags = '0x' + (1 << bit).toString(16);
      // provisionkey is allowed through by holding /dev/sgx_provision (5.5 is tested above)
      const holds = ['/dev/sgx_provision'];
      expect(whereHolds(name, { attributes: flags, holds }), `${name} with ${flags}`).toBe(true);
      expect(whereHolds(name, { attributes: [name], holds }), `${name} by name`).toBe(true);
      expect(whereHolds(name, { attributes: '0x' + (0xffff ^ (1 << bit)).toString(16), holds }), `${name} unset`).toBe(false);
      expect(whereHolds(name, { holds }), `${name} without attributes`).toBe(false);
    }
    // init (bit 0) is no predicate, but it is carried and does not set anything else
    expect(whereHolds('debug', { attributes: ['init'] })).toBe(false);
  });

  it('signer and enclave objects', () => {
    expect(whereHolds(`signer s`, { mrsigner: S2 }, `signer s = "${S1}", "${S2}";`)).toBe(true);
    expect(whereHolds(`enclave "${E2}"`, { mrenclave: E2 })).toBe(true);
    expect(whereHolds(`enclave "${E2}"`, { mrenclave: E1 })).toBe(false);
  });

  it('subject predicates and subject NAME', () => {
    expect(whereHolds(`exe "/usr/sbin/aesmd"`)).toBe(true);
    expect(whereHolds(`uid 5..6`, { uid: 6 })).toBe(true);
    expect(whereHolds(`gid 5`, { gid: 6 })).toBe(false);
    expect(whereHolds(`holds "/dev/kvm"`, { holds: ['/dev/kvm'] })).toBe(true);
    expect(whereHolds(`label "*svirt*"`, { label: 'system_u:system_r:svirt_t:s0' })).toBe(true);
    expect(whereHolds(`label "*"`)).toBe(false);
    expect(whereHolds(`subject vmm`, { uid: 107 }, `subject vmm = uid 107;`)).toBe(true);
    expect(whereHolds(`subject vmm`, { uid: 108 }, `subject vmm = uid 107;`)).toBe(false);
  });

  it('true, false, and nested not/and/or', () => {
    expect(whereHolds('true')).toBe(true);
    expect(whereHolds('false')).toBe(false);
    expect(whereHolds('not false and (false or true)')).toBe(true);
    expect(whereHolds('false and false or true')).toBe(true);
    expect(whereHolds('false and (false or true)')).toBe(false);
    expect(whereHolds('not true or true')).toBe(true);
    expect(whereHolds('not (true or true)')).toBe(false);
    expect(whereHolds('debug and not debug', { attributes: ['debug'] })).toBe(false);
  });
});

describe('SPEC 3.4: globs, through policies', () => {
  const exe = (glob: string, path: string) => inClass(`exe "${glob}"`, { exe: path });
  const label = (glob: string, value: string) => inClass(`label "${glob}"`, { label: value });

  it('* stays within one path segment', () => {
    expect(exe('/usr/bin/*', '/usr/bin/qemu')).toBe(true);
    expect(exe('/usr/bin/*', '/usr/bin/x/qemu')).toBe(false);
    expect(exe('/usr/bin/qemu-*', '/usr/bin/qemu-system-x86_64')).toBe(true);
  });

  it('** crosses segments', () => {
    expect(exe('/opt/**/run', '/opt/a/run')).toBe(true);
    expect(exe('/opt/**/run', '/opt/a/b/run')).toBe(true);
    expect(exe('/opt/**/run', '/opt/run')).toBe(false);
    expect(exe('/**', '/usr/bin/x')).toBe(true);
  });

  it('? is one character other than /', () => {
    expect(exe('/bin/?', '/bin/a')).toBe(true);
    expect(exe('/bin/?', '/bin/ab')).toBe(false);
    expect(exe('/bin?x', '/bin/x')).toBe(false);
  });

  it('the whole path must match', () => {
    expect(exe('/usr/bin', '/usr/bin/x')).toBe(false);
    expect(exe('/bin/x', '/usr/bin/x')).toBe(false);
  });

  it('\\* and \\? are literal; a backslash before anything else is itself', () => {
    expect(exe('/tmp/a\\*', '/tmp/a*')).toBe(true);
    expect(exe('/tmp/a\\*', '/tmp/ab')).toBe(false);
    expect(exe('/tmp/a\\?', '/tmp/a?')).toBe(true);
    expect(exe('/tmp/a\\?', '/tmp/ab')).toBe(false);
    // source "\\\\" is the glob \\, a literal backslash
    expect(exe('/tmp/a\\\\\\\\b', '/tmp/a\\b')).toBe(true);
    expect(exe('/tmp/a\\b', '/tmp/a\\b')).toBe(true);
  });

  it('label globs have no separator', () => {
    expect(label('system_u:*', 'system_u:system_r:x/y')).toBe(true);
    expect(label('a?c', 'a/c')).toBe(true);
    expect(label('*:s0', 'u:r:t:s0')).toBe(true);
    expect(label('*:s0', 'u:r:t:s0:c1')).toBe(false);
  });
});

describe('SPEC 4: rule identity and order across imports', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sgxpol-ref-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ids are FILE:LINE and imported rules come in at the first import', () => {
    mkdirSync(join(dir, 'lib'), { recursive: true });
    writeFileSync(join(dir, 'lib', 'a.sgxpol'), `\n\nallow * einit * where isvsvn == 2;\nimport "b.sgxpol";\n`);
    writeFileSync(join(dir, 'lib', 'b.sgxpol'), `deny audit * einit * where isvsvn >= 2;\n`);
    const root = `allow * einit * where isvsvn == 1;\nimport "lib/a.sgxpol";\nimport "./lib/b.sgxpol";\nallow audit * einit *;\n`;
    const program = compile(root, join(dir, 'root.sgxpol'));
    expect(program.rules.map((r) => r.id)).toEqual(['root.sgxpol:1', 'lib/a.sgxpol:3', 'lib/b.sgxpol:1', 'root.sgxpol:4']);
    expect(outcome(decide(program, { isvsvn: 1 }))).toEqual(['allow', 'root.sgxpol:1', false]);
    expect(outcome(decide(program, { isvsvn: 2 }))).toEqual(['deny', 'lib/b.sgxpol:1', true]);
    expect(outcome(decide(program, { isvsvn: 0 }))).toEqual(['allow', 'root.sgxpol:4', true]);
  });
});
