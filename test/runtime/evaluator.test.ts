import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSource } from '../../src/compiler/compile.js';
import { tableDigest } from '../../src/runtime/canonical.js';
import { referenceDecide } from '../../src/reference/interpreter.js';
import { Evaluator } from '../../src/runtime/evaluator.js';
import type { TableJson } from '../../src/runtime/table.js';
import { arbPolicy, arbRequests } from '../support/generators.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);

function table(text: string): TableJson {
  const result = compileSource(text, { filename: 'host.sgxpol' });
  if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
  return result.table!;
}

const POLICY = `
subject qemu = exe "/usr/bin/qemu-system-*" and label "*:svirt_t:*";
subject aesmd = exe "/usr/bin/aesm_service" and uid 0..999;
signer intel = "${A}";
allow aesmd einit signer intel;
allow audit qemu einit via kvm signer intel where not debug because "guests may launch Intel enclaves";
deny * einit enclave "${C}";
allow * einit * where provisionkey;
`;

function request(subject: object, enclave: object = {}, via?: 'host' | 'kvm') {
  return {
    subject,
    ...(via ? { via } : {}),
    enclave: { mrenclave: B, mrsigner: A, isvprodid: 1, isvsvn: 1, ...enclave },
  };
}
const qemu = { exe: '/usr/bin/qemu-system-x86_64', uid: 107, gid: 107, label: 'system_u:system_r:svirt_t:s0' };
const aesmd = { exe: '/usr/bin/aesm_service', uid: 100, gid: 100 };

describe('SPEC 5 decisions', () => {
  const evaluator = Evaluator.fromTable(table(POLICY));
  it('allows through the first matching allow, with its reason and audit flag', () => {
    expect(evaluator.decide(request(qemu, {}, 'kvm'))).toEqual({
      decision: 'allow',
      rule: 'host.sgxpol:6',
      audit: true,
      reason: 'guests may launch Intel enclaves',
    });
    expect(evaluator.decide(request(aesmd))).toMatchObject({ decision: 'allow', rule: 'host.sgxpol:5', audit: false });
  });
  it('lets a matching deny win over an earlier allow', () => {
    expect(evaluator.decide(request(aesmd, { mrenclave: C.toUpperCase() }))).toMatchObject({ decision: 'deny', rule: 'host.sgxpol:7' });
  });
  it('falls back to the default', () => {
    expect(evaluator.decide(request(qemu, {}, 'host'))).toMatchObject({ decision: 'deny', rule: 'default', audit: false });
    expect(evaluator.decide(request(qemu, { attributes: ['debug'] }, 'kvm'))).toMatchObject({ rule: 'default' });
  });
  it('applies the provisioning-key invariant to a default allow, and not to a deny', () => {
    const open = Evaluator.fromTable(table(`default allow;\ndeny * einit enclave "${C}";\n`));
    for (const subject of [aesmd, open.resolveSubject(aesmd)]) {
      expect(open.decide(request(subject, { attributes: ['provisionkey'] }))).toMatchObject({ decision: 'deny', rule: 'builtin:provisionkey' });
      expect(open.decide(request(subject, { mrenclave: C, attributes: ['provisionkey'] }))).toMatchObject({ decision: 'deny', rule: 'host.sgxpol:2' });
      expect(open.decide(request(subject))).toMatchObject({ decision: 'allow', rule: 'default' });
      expect(open.decide(request({ ...aesmd, holds: ['/dev/sgx_provision'] }, { attributes: ['provisionkey'] }))).toMatchObject({ decision: 'allow', rule: 'default' });
    }
  });
  it('applies the provisioning-key invariant on both paths', () => {
    const provisioning = request(aesmd, { mrsigner: B, attributes: ['provisionkey'] });
    expect(evaluator.decide(provisioning)).toMatchObject({ decision: 'deny', rule: 'builtin:provisionkey', audit: false });
    expect(evaluator.decide({ ...provisioning, subject: { ...aesmd, holds: ['/dev/sgx_provision'] } })).toMatchObject({
      decision: 'allow',
      rule: 'host.sgxpol:8',
    });
    expect(evaluator.decide(request(qemu, { attributes: '0x10' }, 'kvm'))).toMatchObject({ rule: 'builtin:provisionkey' });
  });
  it('denies invalid requests with rule null, and never throws', () => {
    for (const bad of [null, 42, 'x', [], {}, request({ ...aesmd, exe: 'relative' }), { ...request(aesmd), extra: 1 }, request(aesmd, { isvsvn: 70000 })]) {
      const d = evaluator.decide(bad);
      expect(d.decision).toBe('deny');
      expect(d.rule).toBeNull();
      expect(d.audit).toBe(false);
      expect(d.reason).toMatch(/^invalid request: /);
    }
    const hostile = { get subject() { throw new Error('boom'); }, enclave: {} };
    expect(evaluator.decide(hostile)).toMatchObject({ decision: 'deny', rule: null });
  });
});

describe('SPEC 3.4 characters in a compiled table', () => {
  it('`?` matches one character outside the BMP, as the reference interpreter says', () => {
    const source = `
signer intel = "${A}";
allow * einit signer intel where exe "/opt/?/run" and label "?:*";
`;
    const compiled = compileSource(source, { filename: 'host.sgxpol' });
    if (!compiled.ok) throw new Error(JSON.stringify(compiled.diagnostics));
    const evaluator = Evaluator.fromTable(compiled.table!);
    // exe and label as the text between the quotes of a JSON string, as a hook would receive them.
    const cases: [string, string, 'allow' | 'deny'][] = [
      ['/opt/😀/run', '🐧:x', 'allow'],
      ['/opt/é/run', 'a:', 'allow'],
      ['/opt/😀😀/run', '🐧:x', 'deny'],
      ['/opt/\\ud800/run', '\\udc00:x', 'allow'], // JSON escapes: lone surrogates, one character each
      ['/opt/😀/run', '🐧🐧:x', 'deny'],
    ];
    for (const [exe, label, expected] of cases) {
      const req = request({ exe: JSON.parse(`"${exe}"`), uid: 1, gid: 1, label: JSON.parse(`"${label}"`) });
      expect(evaluator.decide(req).decision, `${exe} ${label}`).toBe(expected);
      expect(evaluator.decide({ ...req, subject: evaluator.resolveSubject(req.subject) }).decision).toBe(expected);
      expect(referenceDecide(compiled.program!, req).decision, `reference: ${exe} ${label}`).toBe(expected);
    }
  });
});

describe('subjects matched eagerly and lazily, and many held devices', () => {
  // A chain of classes deeper than 32 is matched eagerly (every class in order); a shallow one
  // lazily (only the classes a rule needs). Both must decide as the reference interpreter does.
  const chain = (depth: number): string => {
    const lines = ['subject c0 = holds "/dev/kvm" and not holds "/dev/null";'];
    for (let i = 1; i < depth; i++) lines.push(`subject c${i} = (c${i - 1} and not uid 7) or (uid ${1000 + i} and not holds "/dev/d${i}");`);
    lines.push(`allow c${depth - 1} einit signer "${A}" where not (isvsvn < 2 and subject c${depth >> 1});`);
    return lines.join('\n') + '\n';
  };
  const many = Array.from({ length: 3000 }, (_, i) => `/dev/d${i}`);
  const subjects = [
    { exe: '/bin/x', uid: 1, gid: 1, holds: ['/dev/kvm'] },
    { exe: '/bin/x', uid: 7, gid: 1, holds: ['/dev/kvm'] },
    { exe: '/bin/x', uid: 1, gid: 1, holds: [...many, '/dev/kvm'] },
    { exe: '/bin/x', uid: 1, gid: 1, holds: [...many, '/dev/kvm', '/dev/null'] },
    { exe: '/bin/x', uid: 1010, gid: 1, holds: [] },
    { exe: '/bin/x', uid: 1010, gid: 1, holds: many },
    // Right after a subject holding many devices (matched through a set), one holding none: it
    // must not see the other's set (c3 holds for it only while it does not hold /dev/d3). Its
    // gid differs, so that the subject cache does not take it for the same process and give it
    // a handle: it is matched lazily, as the first was.
    { exe: '/bin/x', uid: 1003, gid: 1, holds: many },
    { exe: '/bin/x', uid: 1003, gid: 2, holds: [] },
  ];
  for (const depth of [8, 40]) {
    it(`a chain of ${depth} classes, with up to 3,002 held devices`, () => {
      const compiled = compileSource(chain(depth), { filename: 'host.sgxpol' });
      if (!compiled.ok) throw new Error(JSON.stringify(compiled.diagnostics));
      const evaluator = Evaluator.fromTable(compiled.table!);
      const decisions = new Set<string>();
      for (const subject of subjects) {
        for (const isvsvn of [5, 1]) { // 5 first: the first decision of a subject is the lazy one
          const req = request(subject, { isvsvn });
          // Decision, rule and audit flag (the reasons' wording is the evaluator's own).
          const { decision, rule, audit } = referenceDecide(compiled.program!, req);
          const expected = { decision, rule, audit };
          expect(evaluator.decide(req), JSON.stringify([depth, subject.uid, subject.holds.length, isvsvn])).toMatchObject(expected);
          expect(evaluator.decide({ ...req, subject: evaluator.resolveSubject(subject) })).toMatchObject(expected);
          decisions.add(decision);
        }
      }
      expect([...decisions].sort()).toEqual(['allow', 'deny']);
    });
  }
});

describe('SPEC 7 subject handles and table swap', () => {
  it('lets a handle stand in for the subject, across a swap', () => {
    const evaluator = Evaluator.fromTable(table(POLICY));
    const handle = evaluator.resolveSubject(aesmd);
    expect(evaluator.decide({ subject: handle, enclave: request(aesmd).enclave })).toMatchObject({ decision: 'allow', rule: 'host.sgxpol:5' });
    evaluator.swapTable(table(`deny * einit *;`));
    expect(evaluator.decide({ subject: handle, enclave: request(aesmd).enclave })).toMatchObject({ decision: 'deny', rule: 'host.sgxpol:1' });
  });
  it('denies through a handle of an invalid subject', () => {
    const evaluator = Evaluator.fromTable(table(POLICY));
    const handle = evaluator.resolveSubject({ exe: '/a/../b', uid: 1, gid: 1 });
    expect(evaluator.decide({ subject: handle, enclave: request(aesmd).enclave })).toMatchObject({ decision: 'deny', rule: null });
  });
  it('keeps the old table when a swap is refused', () => {
    const evaluator = Evaluator.fromTable(table(POLICY));
    const before = evaluator.tableInfo.digest;
    const broken = { ...table('deny * einit *;'), digest: 'sha256:' + '0'.repeat(64) };
    expect(() => evaluator.swapTable(broken)).toThrow(/digest mismatch/);
    expect(evaluator.tableInfo.digest).toBe(before);
    expect(evaluator.decide(request(aesmd))).toMatchObject({ decision: 'allow' });
  });
  it('loads a table from a file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sgxpol-table-'));
    const file = path.join(dir, 't.json');
    writeFileSync(file, JSON.stringify(table(POLICY)));
    expect(Evaluator.fromFile(file).decide(request(aesmd))).toMatchObject({ decision: 'allow' });
    expect(() => Evaluator.fromFile(path.join(dir, 'missing.json'))).toThrow(/cannot read/);
    // A device would be read for ever; a folder is no table either.
    expect(() => Evaluator.fromFile('/dev/zero')).toThrow('table refused: /dev/zero is not a regular file');
    expect(() => Evaluator.fromFile(dir)).toThrow(`table refused: ${dir} is not a regular file`);
    const evaluator = Evaluator.fromFile(file);
    expect(() => evaluator.swapFile('/dev/zero')).toThrow(/not a regular file/);
    expect(evaluator.decide(request(aesmd))).toMatchObject({ decision: 'allow' });
  });
});

describe('recurring plain subjects (the evaluator\'s subject cache)', () => {
  const CACHE_POLICY = `
subject qemu = exe "/usr/bin/qemu-system-*" and label "*:svirt_t:*";
subject aesmd = exe "/usr/bin/aesm_service" and uid 0..999;
subject prov = exe "/usr/bin/aesm_service" and holds "/dev/sgx_provision";
signer intel = "${A}";
allow aesmd einit signer intel where not provisionkey;
allow prov einit signer intel;
allow qemu einit via kvm signer intel;
`;
  it('tells apart subjects whose hashes collide (uid and gid are compared, not only hashed)', async () => {
    const { subjectHash } = await import('../../src/runtime/evaluator.js');
    // For one exe and gid the hash is a bijection of the uid, so a colliding pair is built by
    // running its steps backwards from the hash of (0, 0) with gid 1 (this mirrors subjectHash;
    // the check below fails loudly if the two drift apart).
    const exe = '/usr/bin/aesm_service';
    const inverse = (c: number) => {
      let x = c;
      for (let k = 0; k < 5; k++) x = Math.imul(x, 2 - Math.imul(c, x));
      return x;
    };
    const unshift = (y: number, s: number) => {
      let x = y;
      for (let k = 0; k < 32; k++) x = y ^ (x >>> s);
      return x;
    };
    const n = exe.length;
    const chars = exe.charCodeAt(n - 1) | (exe.charCodeAt(n - 2) << 8) | (exe.charCodeAt(n >> 1) << 16) | (exe.charCodeAt(n >> 2) << 24);
    const h1 = Math.imul(chars ^ n, 0x9e3779b1);
    const h3 = Math.imul(unshift(subjectHash(exe, 0, 0), 16), inverse(0xc2b2ae35));
    const h2 = unshift(h3 ^ 1, 13);
    const uid2 = (Math.imul(h2, inverse(0x85ebca6b)) ^ h1 ^ (h1 >>> 15)) >>> 0;
    const pair: [[number, number], [number, number]] | undefined = subjectHash(exe, uid2, 1) === subjectHash(exe, 0, 0) ? [[0, 0], [uid2, 1]] : undefined;
    expect(pair).toBeDefined();
    const [[u1, g1], [u2, g2]] = pair!;
    const evaluator = Evaluator.fromTable(table(`subject one = exe "/usr/bin/aesm_service" and uid ${u1}..${u1} and gid ${g1}..${g1};\nallow one einit *;`));
    const ask = (uid: number, gid: number) => evaluator.decide({ subject: { exe: '/usr/bin/aesm_service', uid, gid }, enclave: request(aesmd).enclave });
    for (let round = 0; round < 4; round++) {
      expect(ask(u1, g1)).toMatchObject({ decision: 'allow' });
      expect(ask(u2, g2)).toMatchObject({ decision: 'deny', rule: 'default' });
    }
  });
  it('decides a subject seen many times exactly as a fresh one, across a swap', () => {
    const evaluator = Evaluator.fromTable(table(CACHE_POLICY));
    const fresh = () => Evaluator.fromTable(table(CACHE_POLICY));
    const subjects = [
      aesmd,
      { ...aesmd, holds: ['/dev/sgx_provision'] },
      { ...aesmd, uid: 1000 },
      { ...aesmd, uid: 1000, holds: ['/dev/sgx_provision'] },
      qemu,
      { ...qemu, label: 'system_u:system_r:unconfined_t:s0' },
      { ...qemu, gid: 0 },
    ];
    const enclaves = [{}, { attributes: ['provisionkey'] }];
    // Alternate subjects that share exe, uid and gid (so the same cache set), many times over,
    // in both orders (so each one is sometimes in the set's first entry, sometimes in its second).
    for (const order of [subjects, [...subjects].reverse()]) {
      const cached = Evaluator.fromTable(table(CACHE_POLICY));
      for (let round = 0; round < 4; round++) {
        for (const subject of order) {
          for (const enclave of enclaves) {
            for (const via of ['host', 'kvm'] as const) {
              const req = request({ ...subject }, enclave, via);
              const want = fresh().decide(req);
              expect(cached.decide(req), JSON.stringify(req)).toEqual(want);
              expect(evaluator.decide(req), JSON.stringify(req)).toEqual(want);
            }
          }
        }
      }
    }
    // After a swap, a cached subject is matched against the new table.
    evaluator.swapTable(table(`subject aesmd = exe "/usr/bin/aesm_service" and uid 1000..1000;\nallow aesmd einit *;`));
    expect(evaluator.decide(request({ ...aesmd }))).toMatchObject({ decision: 'deny', rule: 'default' });
    expect(evaluator.decide(request({ ...aesmd, uid: 1000 }))).toMatchObject({ decision: 'allow', rule: 'host.sgxpol:2' });
  });
});

describe('posting directories and class filters', () => {
  // 70 classes, so that classes c, c + 31 and c + 62 share a filter bit.
  const classes = Array.from({ length: 70 }, (_, c) => `subject k${c} = uid ${c * 10}..${c * 10 + 9};`);
  const rules = Array.from({ length: 70 }, (_, c) => `allow k${(c * 31) % 70} einit signer "${A}" where isvsvn >= ${c % 3};`);
  const source = [...classes, ...rules, `allow * einit signer "${B}";`, `deny {k5, k36} einit enclave "${C}";`].join('\n');
  const compiled = table(source);
  const evaluator = Evaluator.fromTable(compiled);
  // A fresh evaluator per plain decision: its subject is matched lazily, never through a handle.
  const reference = (uid: number, mrsigner: string, isvsvn: number, mrenclave = B) =>
    Evaluator.fromTable(compiled).decide({ subject: { exe: '/bin/x', uid, gid: 0 }, enclave: { mrenclave, mrsigner, isvprodid: 0, isvsvn } });
  it('decides with a handle exactly as with the plain subject, for every class', () => {
    for (let uid = 0; uid < 720; uid += 7) {
      const handle = evaluator.resolveSubject({ exe: '/bin/x', uid, gid: 0 });
      for (const [mrsigner, isvsvn, mrenclave] of [[A, 0, B], [A, 2, B], [B, 0, B], [A, 2, C]] as const) {
        const plain = reference(uid, mrsigner, isvsvn, mrenclave);
        const viaHandle = evaluator.decide({ subject: handle, enclave: { mrenclave, mrsigner, isvprodid: 0, isvsvn } });
        expect(viaHandle, `uid ${uid}`).toEqual(plain);
      }
    }
  });
  it('reaches the rule of a class whose filter bit is shared, and skips the others', () => {
    // uid 365 is class 36 only; classes 5 and 67 share its filter bit.
    const handle = evaluator.resolveSubject({ exe: '/bin/x', uid: 365, gid: 0 });
    const line = 70 + 1 + rules.findIndex((r) => r.startsWith('allow k36 '));
    expect(evaluator.decide({ subject: handle, enclave: { mrenclave: B, mrsigner: A, isvprodid: 0, isvsvn: 2 } })).toMatchObject({ decision: 'allow', rule: `host.sgxpol:${line}` });
    expect(evaluator.decide({ subject: handle, enclave: { mrenclave: C, mrsigner: A, isvprodid: 0, isvsvn: 2 } })).toMatchObject({ decision: 'deny', rule: 'host.sgxpol:142' });
    // A subject in no class still reaches rules for any subject.
    const none = evaluator.resolveSubject({ exe: '/bin/x', uid: 5000, gid: 0 });
    expect(evaluator.decide({ subject: none, enclave: { mrenclave: B, mrsigner: B, isvprodid: 0, isvsvn: 0 } })).toMatchObject({ decision: 'allow', rule: 'host.sgxpol:141' });
    expect(evaluator.decide({ subject: none, enclave: { mrenclave: B, mrsigner: A, isvprodid: 0, isvsvn: 2 } })).toMatchObject({ rule: 'default' });
  });
});

describe('directory entries: attribute boxes, one-class rules, product intervals, and 200 classes', () => {
  // 200 overlapping classes (more than the 128 a handle keeps in its own four words, so a
  // handle's class bits are read from its bitset), rules whose conditions are boxes with
  // attributes (decided from their entries), one-class rules whose conditions are not boxes
  // (their entry carries the class and an interval of products), and rules naming two classes.
  const classes = Array.from({ length: 200 }, (_, c) => `subject k${c} = uid ${c * 10}..${c * 10 + 14};`);
  const rules = Array.from({ length: 200 }, (_, c) => {
    switch (c % 5) {
      case 0:
        return `allow k${c} einit signer "${A}" where isvprodid == ${c % 7} and not debug;`;
      case 1:
        return `allow k${c} einit signer "${A}" where isvprodid in ${c % 7}..${(c % 7) + 2} and mode64bit and not (debug or kss);`;
      case 2:
        return `allow k${c} einit signer "${A}" where isvprodid == ${c % 7} and (isvsvn != 3 or kss);`;
      case 3:
        return `deny {k${c}, k${(c * 7) % 200}} einit signer "${A}" where isvprodid == ${c % 7} and isvsvn < 1;`;
      default:
        return `allow k${c} einit signer "${A}" where (isvprodid == ${c % 7} or isvprodid == 9) and uid ${c * 10}..${c * 10 + 4};`;
    }
  });
  const source = [...classes, ...rules].join('\n');
  const compiled = table(source);
  const program = compileSource(source, { filename: 'host.sgxpol' }).program!;
  const evaluator = Evaluator.fromTable(compiled);
  it('decides as the reference interpreter, with a subject handle, both handles and a plain request', () => {
    // The last two are invalid ("0X", 17 digits): the reference and the evaluator must both refuse them.
    const attributeSets = [['mode64bit'], ['mode64bit', 'debug'], ['mode64bit', 'kss'], [], '0x4', '0x6', '0x00000000000000A4', '0xFFFFFFFF00000006', '0X6', '0x' + '1'.repeat(17)];
    let checked = 0;
    const outcomes = new Set<string>();
    for (let uid = 0; uid < 2020; uid += 13) {
      const subject = { exe: '/bin/x', uid, gid: 0 };
      const handle = evaluator.resolveSubject(subject);
      for (let isvprodid = 0; isvprodid < 11; isvprodid += 2) {
        for (const isvsvn of [0, 3, 5]) {
          for (const attributes of attributeSets) {
            // Upper-case digits are looked up ignoring case, without a lower-case copy.
            const mrsigner = (uid + isvsvn) % 3 === 0 ? A.toUpperCase() : A;
            const enclave = { mrenclave: B, mrsigner, isvprodid, isvsvn, attributes };
            const { decision, rule, audit } = referenceDecide(program, { subject, enclave });
            const expected = { decision, rule, audit };
            outcomes.add(`${decision} ${rule === 'default' ? 'default' : rule === null ? 'null' : 'rule'}`);
            expect(evaluator.decide({ subject: handle, enclave }), JSON.stringify(enclave)).toMatchObject(expected);
            expect(evaluator.decide({ subject: handle, enclave: evaluator.resolveEnclave(enclave) })).toMatchObject(expected);
            expect(evaluator.decide({ subject, enclave })).toMatchObject(expected);
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(10000);
    expect([...outcomes].sort()).toEqual(['allow rule', 'deny default', 'deny null', 'deny rule']);
  });
});

describe("subject handles' bits: one array of stripes per table", () => {
  // 150 overlapping classes and atoms, so a stripe is several words and a wrong or stale one
  // changes decisions: rules on eight signers (lists short enough to be read whole, testing each
  // rule's class bit), and rules for any enclave whose conditions read subject atoms.
  const signers = Array.from({ length: 8 }, (_, k) => (k + 1).toString(16).repeat(64));
  const classes = Array.from({ length: 150 }, (_, c) => `subject k${c} = uid ${c * 10}..${c * 10 + 14};`);
  const rules = Array.from({ length: 150 }, (_, c) =>
    c % 4 === 3
      ? `deny {k${c}, k${(c * 7) % 150}} einit signer "${signers[c % 8]}" where isvsvn < 1;`
      : `allow k${c} einit signer "${signers[c % 8]}" where isvprodid == ${c % 5};`,
  );
  const anyEnclave = Array.from({ length: 6 }, (_, k) => `allow * einit * where uid ${k * 250}..${k * 250 + 20} and isvprodid == ${k % 5};`);
  const source = [...classes, ...anyEnclave, ...rules].join('\n');
  const program = compileSource(source, { filename: 'host.sgxpol' }).program!;
  const other = table(`subject low = uid 0..500;\nallow low einit signer "${A}";`);
  const subjectOf = (uid: number) => ({ exe: '/bin/x', uid, gid: 0 });
  const stripesInUse = (evaluator: Evaluator) => (evaluator as unknown as { state: { stripes: { inUse(): number } } }).state.stripes.inUse();
  // Every handle against the reference interpreter, for every product id the rules name.
  const expectRight = (evaluator: Evaluator, handles: [number, unknown][]) => {
    for (const [uid, handle] of handles) {
      for (const isvsvn of [0, 1]) {
        for (let isvprodid = 0; isvprodid < 5; isvprodid++) {
          const enclave = { mrenclave: B, mrsigner: signers[(uid + isvprodid) % 8], isvprodid, isvsvn };
          const { decision, rule } = referenceDecide(program, { subject: subjectOf(uid), enclave });
          expect(evaluator.decide({ subject: handle, enclave }), `uid ${uid}`).toMatchObject({ decision, rule });
        }
      }
    }
  };

  it('keeps every handle right while the array grows', () => {
    const evaluator = Evaluator.fromTable(table(source));
    // All made before any is used: the array grows from 16 stripes to 256 under them.
    const handles: [number, unknown][] = [];
    for (let uid = 0; uid < 1520; uid += 7) handles.push([uid, evaluator.resolveSubject(subjectOf(uid))]);
    expect(stripesInUse(evaluator)).toBe(handles.length);
    expectRight(evaluator, handles);
  });

  it('gives a stripe back when its handle is matched for another table, and takes none twice', () => {
    const evaluator = Evaluator.fromTable(table(source));
    const second = Evaluator.fromTable(other);
    const handle = evaluator.resolveSubject(subjectOf(125));
    for (let round = 0; round < 50; round++) {
      expectRight(evaluator, [[125, handle]]);
      expect(second.decide({ subject: handle, enclave: { mrenclave: B, mrsigner: A, isvprodid: 2, isvsvn: 1 } })).toMatchObject({ decision: 'allow', rule: 'host.sgxpol:2' });
    }
    expect(stripesInUse(evaluator)).toBe(0);
    expect(stripesInUse(second)).toBe(1);
    // Stripes given back and taken again belong to one handle each.
    const handles: [number, unknown][] = [];
    for (let uid = 3; uid < 1520; uid += 31) handles.push([uid, evaluator.resolveSubject(subjectOf(uid))]);
    expectRight(evaluator, handles);
  });

  it('matches a handle again after a match that failed part way, never reading a stripe it gave back', () => {
    // The failure is an allocation (the stripes' array growing, or the handle's class list)
    // while a handle moves to another table; back in the first table it must be matched afresh.
    const first = table(`subject low = uid 0..20;\nallow * einit * where uid 0..20;\nallow low einit signer "${A}";`);
    const second = table(`subject k = uid 100..200;\nallow k einit signer "${A}";`);
    const enclave = { mrenclave: B, mrsigner: A, isvprodid: 1, isvsvn: 1 };
    // Each with how many stripes b holds after the failure: a failed growth takes none.
    const failures: [string, number, (fail: () => boolean) => () => void][] = [
      [
        'the array cannot grow',
        16,
        (fail) => {
          const Real = globalThis.Int32Array;
          globalThis.Int32Array = new Proxy(Real, {
            construct(target, args: [number]) {
              if (fail() && args[0] >= 32) throw new RangeError('Array buffer allocation failed');
              return Reflect.construct(target, args) as object;
            },
          });
          return () => {
            globalThis.Int32Array = Real;
          };
        },
      ],
      [
        "the handle's class list cannot be made",
        17,
        (fail) => {
          const from = Int32Array.from;
          Int32Array.from = function (this: Int32ArrayConstructor, ...args: Parameters<typeof from>) {
            if (fail()) throw new RangeError('Array buffer allocation failed');
            return from.apply(this, args);
          } as typeof from;
          return () => {
            Int32Array.from = from;
          };
        },
      ],
    ];
    for (const [what, heldAfter, inject] of failures) {
      const a = Evaluator.fromTable(first);
      const b = Evaluator.fromTable(second);
      const outsider = a.resolveSubject({ exe: '/bin/x', uid: 5000, gid: 0 });
      expect(a.decide({ subject: outsider, enclave }), what).toMatchObject({ decision: 'deny', rule: 'default' });
      // Enough handles in b that matching one more must grow its array.
      const kept = Array.from({ length: 16 }, (_, uid) => b.resolveSubject({ exe: '/bin/z', uid, gid: 0 }));
      let failing = true;
      const restore = inject(() => failing);
      try {
        expect(b.decide({ subject: outsider, enclave }), what).toMatchObject({ decision: 'deny', rule: null });
      } finally {
        failing = false;
        restore();
      }
      expect(stripesInUse(b), what).toBe(heldAfter);
      // a's stripes are handed to subjects a rule admits; the outsider must not read theirs.
      const insiders = Array.from({ length: 20 }, () => a.resolveSubject({ exe: '/bin/y', uid: 5, gid: 0 }));
      expect(a.decide({ subject: outsider, enclave }), what).toMatchObject({ decision: 'deny', rule: 'default' });
      expect(a.decide({ subject: insiders[0], enclave }), what).toMatchObject({ decision: 'allow', rule: 'host.sgxpol:2' });
      expect(b.decide({ subject: outsider, enclave }), what).toMatchObject({ decision: 'deny', rule: 'default' });
      expect(kept.length).toBe(16);
    }
  });

  it('gives stripes back when their handles are collected', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const evaluator = Evaluator.fromTable(table(source));
    const peak = (() => {
      const dropped = Array.from({ length: 400 }, (_, i) => evaluator.resolveSubject(subjectOf(i * 3)));
      // Some are matched for another table and back first, so their stripes are given back and
      // taken again before they are collected.
      const second = Evaluator.fromTable(other);
      for (const handle of dropped.slice(0, 40)) {
        for (const judge of [second, evaluator, second, evaluator]) judge.decide({ subject: handle, enclave: { mrenclave: B, mrsigner: A, isvprodid: 0, isvsvn: 1 } });
      }
      return stripesInUse(evaluator);
    })();
    expect(peak).toBe(400);
    for (let attempt = 0; attempt < 20 && stripesInUse(evaluator) > peak / 2; attempt++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(stripesInUse(evaluator)).toBeLessThanOrEqual(peak / 2);
    expect(stripesInUse(evaluator)).toBeGreaterThanOrEqual(0);
    // The stripes given back serve new handles, each its own, and no new stripe is made for them.
    const stripesMade = () => (evaluator as unknown as { state: { stripes: { made(): number } } }).state.stripes.made();
    const made = stripesMade();
    const handles: [number, unknown][] = [];
    for (let uid = 1; uid < 1520; uid += 11) handles.push([uid, evaluator.resolveSubject(subjectOf(uid))]);
    expect(handles.length).toBeLessThanOrEqual(peak / 2);
    expect(stripesMade()).toBe(made);
    expectRight(evaluator, handles);
  });
});

describe('a request whose getters call back into the evaluator', () => {
  const source = `subject low = uid 0..20;\nallow * einit * where uid 0..20;\nallow low einit signer "${A}";`;
  const outsider = { exe: '/bin/x', uid: 5000, gid: 0 };
  const insider = { exe: '/bin/y', uid: 5, gid: 0 };
  // An enclave whose MRENCLAVE getter runs `during` once, in the middle of the outer decision.
  const enclaveDoing = (during: () => void) => {
    let done = false;
    return {
      get mrenclave() {
        if (!done) {
          done = true;
          during();
        }
        return B;
      },
      mrsigner: A,
      isvprodid: 1,
      isvsvn: 1,
    };
  };
  it('denies a decision during which a getter resolved a subject, with a handle or a plain subject', () => {
    for (const subjectOf of [(e: Evaluator) => e.resolveSubject(outsider), () => outsider]) {
      const evaluator = Evaluator.fromTable(table(source));
      const subject = subjectOf(evaluator);
      // Matching the insider meanwhile would have left its bits where the outsider's are read.
      const decision = evaluator.decide({ subject, enclave: enclaveDoing(() => evaluator.resolveSubject(insider)) });
      expect(decision).toMatchObject({ decision: 'deny', rule: null });
      expect(decision.reason).toContain('getter');
      expect(evaluator.decide({ subject, enclave: { mrenclave: B, mrsigner: A, isvprodid: 1, isvsvn: 1 } })).toMatchObject({ decision: 'deny', rule: 'default' });
    }
  });
  it("decides with a handle's own bits when a getter makes another evaluator match the same handle", () => {
    // Class 0 of the second table is the subject's class 30 of the first, whose rule shares the
    // filter bit of class 0's rule: read live from the handle, the rewritten words let it in.
    // (Classes are numbered in the order the rules first name them.)
    const fillers = Array.from({ length: 29 }, (_, i) => `subject d${i + 1} = uid ${100 + i}..${100 + i};`);
    const fillerRules = Array.from({ length: 29 }, (_, i) => `allow d${i + 1} einit signer "${C}";`);
    const first = table(
      [`subject good = uid 0..20;`, ...fillers, `subject far = uid 5000..6000;`, `allow good einit signer "${A}";`, ...fillerRules, `allow far einit signer "${C}";`].join('\n'),
    );
    const a = Evaluator.fromTable(first);
    const b = Evaluator.fromTable(table(`subject k = uid 5000..6000;\nallow k einit signer "${C}";`));
    const handle = a.resolveSubject(outsider);
    const enclave = enclaveDoing(() => b.decide({ subject: handle, enclave: { mrenclave: B, mrsigner: C, isvprodid: 1, isvsvn: 1 } }));
    expect(a.decide({ subject: handle, enclave })).toMatchObject({ decision: 'deny', rule: 'default' });
    expect(a.decide({ subject: handle, enclave: { mrenclave: B, mrsigner: A, isvprodid: 1, isvsvn: 1 } })).toMatchObject({ decision: 'deny', rule: 'default' });
  });
  it('refuses a nested decide and keeps the outer one right', () => {
    const evaluator = Evaluator.fromTable(table(source));
    let inner: unknown;
    const outer = evaluator.decide({ subject: insider, enclave: enclaveDoing(() => (inner = evaluator.decide({ subject: outsider, enclave: { mrenclave: B, mrsigner: A, isvprodid: 1, isvsvn: 1 } }))) });
    expect(inner).toMatchObject({ decision: 'deny', rule: null });
    expect(outer).toMatchObject({ decision: 'allow', rule: 'host.sgxpol:2' });
    // Nothing is left set: the next decisions are ordinary.
    expect(evaluator.decide({ subject: outsider, enclave: { mrenclave: B, mrsigner: A, isvprodid: 1, isvsvn: 1 } })).toMatchObject({ rule: 'default' });
  });
  it('denies a decision during which a getter swapped the table', () => {
    const evaluator = Evaluator.fromTable(table(source));
    const denyAll = table(`deny * einit *;`);
    const decision = evaluator.decide({ subject: insider, enclave: enclaveDoing(() => evaluator.swapTable(denyAll)) });
    expect(decision).toMatchObject({ decision: 'deny', rule: null });
    expect(evaluator.decide({ subject: insider, enclave: { mrenclave: B, mrsigner: A, isvprodid: 1, isvsvn: 1 } })).toMatchObject({ decision: 'deny', rule: 'host.sgxpol:1' });
  });
});

describe('SPEC 6 table loading refuses bad tables', () => {
  const good = table(POLICY);
  const resigned = (t: TableJson): TableJson => ({ ...t, digest: tableDigest(t as unknown as Record<string, unknown>) });
  /** Rule `index` of the good table with one field of its tuple replaced. */
  const withRule = (index: number, field: number, value: unknown) => good.rules[index].map((x, i) => (i === field ? value : x)) as TableJson['rules'][number];
  const refused: [string, unknown, RegExp][] = [
    ['not JSON', '{', /not valid JSON/],
    ['wrong format', { ...good, format: 'other' }, /schema/],
    ['an extra field', { ...good, extra: 1 }, /schema/],
    ['an altered rule', { ...good, rules: good.rules.map((r) => [r[0], r[1], r[2] | 1, r[3], r[4], r[5]]) }, /digest mismatch/],
    ['a dangling rule index', resigned({ ...good, index: { ...good.index, any: [999] } }), /rule 999/],
    ['a dangling class', resigned({ ...good, rules: [withRule(0, 3, [99]), ...good.rules.slice(1)] }), /class 99/],
    ['a malformed program', resigned({ ...good, rules: [withRule(0, 4, [2]), ...good.rules.slice(1)] }), /underflow/],
    ['a program leaving two values', resigned({ ...good, rules: [withRule(0, 4, [1, 1]), ...good.rules.slice(1)] }), /2 values/],
    ['an unknown opcode', resigned({ ...good, rules: [withRule(0, 4, [77]), ...good.rules.slice(1)] }), /opcode/],
    ['a class referring forward', resigned({ ...good, classes: [{ name: 'x', expr: [13, 0] }] }), /class 0/],
    ['unsorted measurements', resigned({ ...good, measurements: [B, A] }), /sorted/],
    ['a rule on no path', resigned({ ...good, rules: [withRule(0, 2, 1), ...good.rules.slice(1)] }), /schema/],
    ['a rule in a file that does not exist', resigned({ ...good, rules: [withRule(0, 0, 5), ...good.rules.slice(1)] }), /file 5/],
  ];
  for (const [what, input, message] of refused) {
    it(`refuses ${what}`, () => expect(() => Evaluator.fromTable(input)).toThrow(message));
  }
  it('keeps its own copy: changing the object after loading changes nothing', () => {
    const mine = structuredClone(good);
    const evaluator = Evaluator.fromTable(mine);
    mine.files[0] = 'forged.sgxpol';
    mine.measurements[0] = C;
    expect(evaluator.decide(request(aesmd))).toMatchObject({ decision: 'allow', rule: 'host.sgxpol:5' });
  });
  it('refuses bytes that are not UTF-8, and values that are not plain data', () => {
    expect(() => Evaluator.fromTable(new Uint8Array([0xff, 0xfe, 0x7b]))).toThrow(/not valid JSON/);
    expect(() => Evaluator.fromTable({ ...good, extra: () => 1 })).toThrow(/not plain JSON data/);
  });
  it('accepts the table as JSON text and as bytes', () => {
    expect(Evaluator.fromTable(JSON.stringify(good)).tableInfo.rules).toBe(4);
    expect(Evaluator.fromTable(Buffer.from(JSON.stringify(good))).tableInfo.rules).toBe(4);
  });
});

describe('SPEC 7 enclave handles', () => {
  it('decide exactly like the enclave they stand for, with and without a subject handle, across a swap', () => {
    fc.assert(
      fc.property(
        arbPolicy().chain((info) => fc.tuple(fc.constant(info), arbRequests(info, 20))),
        ([info, requests]) => {
          const compiled = compileSource(info.source, { filename: 'policy.sgxpol' });
          if (!compiled.ok) return;
          const evaluator = Evaluator.fromTable(compiled.table);
          for (const r of requests) {
            const plain = evaluator.decide(r);
            const raw = r as { subject?: unknown; enclave?: unknown };
            if (typeof r !== 'object' || r === null || !('enclave' in raw)) continue;
            const enclave = evaluator.resolveEnclave(raw.enclave);
            const withEnclave = evaluator.decide({ ...raw, enclave });
            const withBoth = evaluator.decide({ ...raw, enclave, subject: evaluator.resolveSubject(raw.subject) });
            for (const got of [withEnclave, withBoth]) {
              expect(got.decision).toBe(plain.decision);
              expect(got.audit).toBe(plain.audit);
              // An invalid request stays invalid (rule null) whichever part was resolved first.
              expect(got.rule === null).toBe(plain.rule === null);
              if (plain.rule !== null) expect(got.rule).toBe(plain.rule);
            }
          }
        },
      ),
      { numRuns: 60, seed: 3 },
    );
  });

  it('is looked up again in a new table', () => {
    const evaluator = Evaluator.fromTable(table(`deny * einit *;`));
    const enclave = evaluator.resolveEnclave(request(aesmd).enclave);
    expect(evaluator.decide({ subject: aesmd, enclave })).toMatchObject({ decision: 'deny' });
    evaluator.swapTable(table(POLICY));
    expect(evaluator.decide({ subject: aesmd, enclave })).toMatchObject({ decision: 'allow', rule: 'host.sgxpol:5' });
  });

  it('denies through a handle of an invalid enclave', () => {
    const evaluator = Evaluator.fromTable(table(POLICY));
    const enclave = evaluator.resolveEnclave({ mrenclave: 'zz', mrsigner: A, isvprodid: 1, isvsvn: 1 });
    expect(evaluator.decide({ subject: aesmd, enclave })).toMatchObject({ decision: 'deny', rule: null, reason: expect.stringMatching(/mrenclave/) });
  });
});

describe('SPEC 6 measurement look-ups', () => {
  it('find exactly the table measurements, in either case, and nothing that merely resembles one', () => {
    const evaluator = Evaluator.fromTable(table(POLICY));
    const allowed = (mrsigner: string) => evaluator.decide(request(aesmd, { mrsigner })).decision;
    expect(allowed(A)).toBe('allow');
    expect(allowed(A.toUpperCase())).toBe('allow');
    expect(allowed('A'.repeat(32) + 'a'.repeat(32))).toBe('allow');
    // One digit off anywhere, a non-hex character in a digit's place, a non-ASCII look-alike:
    for (let i = 0; i < 64; i += 7) {
      const off = A.slice(0, i) + 'b' + A.slice(i + 1);
      expect(allowed(off)).toBe('deny');
      expect(evaluator.decide(request(aesmd, { mrsigner: A.slice(0, i) + 'g' + A.slice(i + 1) })).rule).toBeNull();
      expect(evaluator.decide(request(aesmd, { mrsigner: A.slice(0, i) + '\u0101' + A.slice(i + 1) })).rule).toBeNull();
    }
  });
});

describe('SPEC 6 measurement look-up', () => {
  it('finds exactly the lower-case spellings of the table\'s measurements', async () => {
    const { findMeasurement, loadTable } = await import('../../src/runtime/table.js');
    const loaded = loadTable(table(POLICY));
    expect(findMeasurement(loaded, A)).toBeGreaterThanOrEqual(0);
    expect(findMeasurement(loaded, C)).toBeGreaterThanOrEqual(0);
    expect(findMeasurement(loaded, A)).not.toBe(findMeasurement(loaded, C));
    // Upper case is lower-cased by the request reader before it asks; the look-up itself is exact.
    const probes = [B, A.toUpperCase(), A.slice(0, 63) + 'b', A.slice(0, 8) + 'g' + A.slice(9), A.slice(0, 40) + '\u0101' + A.slice(41), A.slice(0, 40) + '\u0161' + A.slice(41), 'short', ''];
    for (const probe of probes) expect(findMeasurement(loaded, probe)).toBe(-1);
  });

  it('tells apart measurements whose first 8 digits are the same (one hash key)', async () => {
    const { findMeasurement, loadTable } = await import('../../src/runtime/table.js');
    const prefix = A.slice(0, 8);
    const same = Array.from({ length: 40 }, (_, i) => prefix + i.toString(16).padStart(56, '0'));
    const source = [
      'policy "p" version 1;',
      'default deny;',
      'subject any_proc = uid 0..4294967295;',
      ...same.map((m) => `allow any_proc einit enclave "${m}";`),
    ].join('\n');
    const loaded = loadTable(table(source));
    const found = same.map((m) => findMeasurement(loaded, m));
    expect(new Set(found).size).toBe(same.length);
    for (const at of found) expect(at).toBeGreaterThanOrEqual(0);
    expect(findMeasurement(loaded, prefix + 'f'.repeat(56))).toBe(-1);
  });

  it('finds every one of 5,000 measurements past the Bloom filter, and turns most others away before the hash', async () => {
    const { bloomAdmitsText, findMeasurement, loadTable } = await import('../../src/runtime/table.js');
    const { createHash } = await import('node:crypto');
    const digest = (label: string) => createHash('sha256').update(label).digest('hex');
    const present = Array.from({ length: 5000 }, (_, i) => digest(`in-${i}`));
    const source = ['policy "p" version 1;', 'default deny;', 'subject all = uid 0..4294967295;', `enclave many = ${present.map((m) => `"${m}"`).join(', ')};`, 'allow all einit enclave many;'].join('\n');
    const loaded = loadTable(table(source));
    const records = present.map((m) => findMeasurement(loaded, m));
    expect(records.filter((r) => r < 0)).toEqual([]);
    expect(new Set(records).size).toBe(present.length);
    expect(present.every((m) => bloomAdmitsText(loaded, m))).toBe(true);
    // Absent ones are never found, and the filter alone turns nearly all of them away (two bits
    // of 16 a measurement: about 1 % pass), which an empty filter or a wrong bit index would not.
    const absent = Array.from({ length: 5000 }, (_, i) => digest(`out-${i}`));
    expect(absent.filter((m) => findMeasurement(loaded, m) >= 0)).toEqual([]);
    expect(absent.filter((m) => bloomAdmitsText(loaded, m)).length).toBeLessThan(250);
    // The filter is consulted first: emptied, it hides every measurement.
    const emptied = { ...loaded, measurementBloom: new Int32Array(loaded.measurementBloom.length) };
    expect(present.slice(0, 50).map((m) => findMeasurement(emptied, m))).toEqual(present.slice(0, 50).map(() => -1));
  });
});
