// The evaluator's decision cache (evaluator.ts DecisionCache): a request decided before is
// answered from it, and the answer is always the one the table gives. Each evaluator here is
// compared with one that caches nothing (`decisionCache: 0`), on whole decisions: decision,
// rule, audit and reason, invalid requests' reasons included.
import { describe, expect, it } from 'vitest';
import { compileSource } from '../../src/compiler/compile.js';
import { referenceDecide } from '../../src/reference/interpreter.js';
import { Evaluator, setDecisionCacheHashMask } from '../../src/runtime/evaluator.js';
import type { TableJson } from '../../src/runtime/table.js';
import type { Decision } from '../../src/runtime/types.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);
const D = 'd'.repeat(63) + 'e';
// Measurements that begin like A and C (the hash reads a measurement's first characters).
const A2 = 'a'.repeat(60) + 'beef';
const C2 = 'c'.repeat(60) + 'f00d';

function compiled(text: string) {
  const result = compileSource(text, { filename: 'host.sgxpol' });
  if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
  return { table: result.table!, program: result.program! };
}

// Rules that tell apart every part of a request the cache keys on: the subject's class, the
// path, both measurements, ISVPRODID, ISVSVN and attributes (named, and low bits given as hex).
const POLICY = `
subject qemu = exe "/usr/bin/qemu-system-*";
subject aesmd = exe "/usr/bin/aesm_service" and uid 0..999;
subject prov = holds "/dev/sgx_provision";
signer intel = "${A}";
deny * einit enclave "${C}";
deny aesmd einit signer intel where debug;
allow audit qemu einit via kvm signer intel where isvsvn >= 2 because "guests may launch current Intel enclaves";
allow aesmd einit signer intel where isvprodid in 1..3 and not kss;
allow {aesmd, prov} einit signer "${D}" where isvprodid == 7 or einittokenkey;
allow * einit * where provisionkey and isvsvn == 9;
deny * einit enclave "${C2}";
allow * einit signer "${A2}" where isvsvn >= 2;
`;

const SUBJECTS = [
  { exe: '/usr/bin/qemu-system-x86_64', uid: 107, gid: 107 },
  { exe: '/usr/bin/aesm_service', uid: 100, gid: 100 },
  { exe: '/usr/bin/aesm_service', uid: 100, gid: 100, holds: ['/dev/sgx_provision'] },
  { exe: '/usr/bin/other', uid: 5000, gid: 5000 },
];
const ATTRIBUTES: unknown[] = [undefined, [], ['debug'], ['kss', 'mode64bit'], ['provisionkey'], '0x20', '0xFFFFFFFF00000002', ['einittokenkey']];

/** Every combination of the parts, some of them invalid, each a new object. */
function enclaves(): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const mrsigner of [A, A.toUpperCase(), D, B, A2]) {
    for (const mrenclave of [B, C, C.toUpperCase(), C2]) {
      for (const isvprodid of [1, 3, 7]) {
        for (const isvsvn of [0, 2, 9]) {
          for (const attributes of ATTRIBUTES) out.push(attributes === undefined ? { mrenclave, mrsigner, isvprodid, isvsvn } : { mrenclave, mrsigner, isvprodid, isvsvn, attributes });
        }
      }
    }
  }
  // Invalid ones: their reasons must come out as without a cache.
  out.push({ mrenclave: B.slice(1), mrsigner: A, isvprodid: 1, isvsvn: 1 });
  out.push({ mrenclave: B, mrsigner: 'g'.repeat(64), isvprodid: 1, isvsvn: 1 });
  out.push({ mrenclave: B, mrsigner: A, isvprodid: 70000, isvsvn: 1 });
  out.push({ mrenclave: B, mrsigner: A, isvprodid: 1, isvsvn: 1, attributes: ['debug', 'nope'] });
  out.push({ mrenclave: B, mrsigner: A, isvprodid: 1, isvsvn: 1, attributes: '0X2' });
  out.push({ mrenclave: B, mrsigner: A, isvprodid: 1, isvsvn: 1, extra: true });
  return out;
}

const plain = (decision: Decision): Decision => ({ ...decision });
/** A change to a request: fields of the request, and fields of its enclave. */
type Change = readonly [Record<string, unknown>, Record<string, unknown>];

describe('the decision cache', () => {
  const { table, program } = compiled(POLICY);

  function compareRounds(rounds: number): Evaluator {
    const cached = Evaluator.fromTable(table);
    const uncached = Evaluator.fromTable(table, { decisionCache: 0 });
    const thrashing = Evaluator.fromTable(table, { decisionCache: 2 });
    const evaluators = [cached, uncached, thrashing];
    const subjectHandles = evaluators.map((ev) => SUBJECTS.map((s) => ev.resolveSubject(s)));
    const list = enclaves();
    const enclaveHandles = evaluators.map((ev) => list.map((e) => ev.resolveEnclave(e)));
    let compared = 0;
    for (let round = 0; round < rounds; round++) {
      for (let s = 0; s < SUBJECTS.length; s++) {
        for (let e = 0; e < list.length; e++) {
          for (const via of ['host', 'kvm'] as const) {
            // A new request object every time, as a hook that parses JSON makes.
            const enclave = structuredClone(list[e]);
            const reference = referenceDecide(program, { subject: SUBJECTS[s], enclave, via });
            const answers = evaluators.flatMap((ev, i) => [
              plain(ev.decide({ subject: subjectHandles[i][s], enclave: structuredClone(list[e]), via })),
              plain(ev.decide({ subject: subjectHandles[i][s], enclave: structuredClone(list[e]), via })),
              plain(ev.decide({ subject: subjectHandles[i][s], enclave: enclaveHandles[i][e], via })),
              plain(ev.decide({ subject: structuredClone(SUBJECTS[s]), enclave: structuredClone(list[e]), via })),
            ]);
            for (const answer of answers) expect(answer, JSON.stringify({ s, enclave, via })).toEqual(answers[4]);
            expect({ decision: answers[0].decision, rule: answers[0].rule, audit: answers[0].audit }).toEqual({
              decision: reference.decision,
              rule: reference.rule,
              audit: reference.audit,
            });
            compared += answers.length;
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(10000 * rounds);
    expect(uncached.decisionCacheStats).toEqual({ size: 0, used: 0, hits: 0, misses: 0 });
    expect(thrashing.decisionCacheStats.used).toBeLessThanOrEqual(2);
    return cached;
  }

  it('answers repeated requests from the cache, exactly as the table does, with handles and without', () => {
    const stats = compareRounds(3).decisionCacheStats;
    // The first round fills the cache (plain subjects get handles of their own on their second
    // miss); the two after it are answered from it, valid requests with a handle all of them.
    expect(stats.size).toBe(65536);
    expect(stats.hits).toBeGreaterThan(2 * 2 * SUBJECTS.length * (enclaves().length - 6) * 2);
  });

  it('compares every part of the key, not only its hash', () => {
    // Every key in one set of two entries: a request is decided, and then, each right after the
    // request again (which keeps it in the set), requests that differ from it in one part only.
    // Each must be decided afresh, as by an evaluator without a cache.
    setDecisionCacheHashMask(0);
    try {
      const ev = Evaluator.fromTable(table);
      const none = Evaluator.fromTable(table, { decisionCache: 0 });
      const handles = SUBJECTS.map((subject) => ev.resolveSubject(subject));
      let differed = 0;
      for (let s = 0; s < SUBJECTS.length; s++) {
        for (const base of enclaves().slice(0, -6)) {
          const enclave = base as { mrenclave: string; mrsigner: string; isvprodid: number; isvsvn: number; attributes?: unknown };
          const baseHandle = ev.resolveEnclave(enclave);
          const variants: Change[] = [
            [{ via: 'kvm' }, {}],
            [{ subject: handles[(s + 1) % SUBJECTS.length] }, {}],
            [{}, { isvprodid: enclave.isvprodid ^ 6 }],
            [{}, { isvsvn: enclave.isvsvn === 2 ? 9 : 2 }],
            [{}, { attributes: Array.isArray(enclave.attributes) && enclave.attributes.includes('debug') ? ['kss'] : ['debug'] }],
            [{}, { mrsigner: enclave.mrsigner.toLowerCase() === A ? A2 : A }],
            [{}, { mrenclave: enclave.mrenclave.toLowerCase() === C ? C2 : C }],
          ];
          for (const asHandles of [false, true]) {
            const request = (change: Change) => {
              const changed = { ...enclave, ...change[1] };
              return { subject: handles[s], via: 'host', ...change[0], enclave: asHandles ? (change[1] === noChange ? baseHandle : ev.resolveEnclave(changed)) : changed };
            };
            const noChange: Record<string, unknown> = {};
            for (const variant of [...variants, [{}, noChange] as Change]) {
              for (const change of [[{}, noChange] as Change, [{}, noChange] as Change, variant]) {
                const req = request(change);
                const subjectIndex = handles.indexOf(req.subject as (typeof handles)[number]);
                const expected = plain(none.decide({ ...req, subject: SUBJECTS[subjectIndex], enclave: { ...enclave, ...change[1] } }));
                const got = plain(ev.decide(req));
                expect(got, JSON.stringify({ s, enclave, change, asHandles })).toEqual(expected);
                if (change === variant && JSON.stringify(expected) !== JSON.stringify(plain(none.decide({ subject: SUBJECTS[s], enclave })))) differed++;
              }
            }
          }
        }
      }
      // Each part's change decides differently from the request it follows, many times over.
      expect(differed).toBeGreaterThan(1000);
      expect(ev.decisionCacheStats.hits).toBeGreaterThan(10000);
    } finally {
      setDecisionCacheHashMask(-1);
    }
  });

  it('follows a request object that is changed between decisions', () => {
    const ev = Evaluator.fromTable(table);
    const handle = ev.resolveSubject(SUBJECTS[1]);
    const enclave: Record<string, unknown> = { mrenclave: B, mrsigner: A, isvprodid: 1, isvsvn: 0 };
    const request: Record<string, unknown> = { subject: handle, enclave };
    const expectLike = (subject: object) => {
      const reference = referenceDecide(program, { ...request, subject, enclave: { ...enclave } });
      expect(ev.decide(request)).toMatchObject({ decision: reference.decision, rule: reference.rule });
      expect(ev.decide(request)).toMatchObject({ decision: reference.decision, rule: reference.rule });
    };
    expectLike(SUBJECTS[1]);
    expect(ev.decide(request).decision).toBe('allow');
    enclave.attributes = ['debug'];
    expectLike(SUBJECTS[1]);
    expect(ev.decide(request).decision).toBe('deny');
    enclave.attributes = ['mode64bit'];
    enclave.isvprodid = 4;
    expectLike(SUBJECTS[1]);
    enclave.isvprodid = 2;
    enclave.mrsigner = D;
    expectLike(SUBJECTS[1]);
    enclave.mrsigner = A;
    enclave.mrenclave = C;
    expectLike(SUBJECTS[1]);
    request.via = 'kvm';
    request.subject = ev.resolveSubject(SUBJECTS[0]);
    enclave.mrenclave = B;
    enclave.isvsvn = 2;
    expectLike(SUBJECTS[0]);
    expect(ev.decide(request)).toMatchObject({ decision: 'allow', audit: true });
    enclave.isvsvn = 1;
    expectLike(SUBJECTS[0]);
    expect(ev.decide(request).decision).toBe('deny');
  });

  it('reads attributes once: an array whose element changes between reads cannot put a wrong decision in the cache', () => {
    const ev = Evaluator.fromTable(table);
    const handle = ev.resolveSubject(SUBJECTS[1]);
    let reads = 0;
    // 'mode64bit' at its first read (allowed), 'debug' at any later read (denied).
    const attributes: unknown[] = [];
    Object.defineProperty(attributes, 0, { enumerable: true, get: () => (reads++ === 0 ? 'mode64bit' : 'debug') });
    const first = ev.decide({ subject: handle, enclave: { mrenclave: B, mrsigner: A, isvprodid: 1, isvsvn: 0, attributes } });
    expect(reads).toBe(1);
    expect(first.decision).toBe('allow');
    // Whatever was cached, the same request with plain attributes decides as the table says.
    expect(ev.decide({ subject: handle, enclave: { mrenclave: B, mrsigner: A, isvprodid: 1, isvsvn: 0, attributes: ['debug'] } }).decision).toBe('deny');
    expect(ev.decide({ subject: handle, enclave: { mrenclave: B, mrsigner: A, isvprodid: 1, isvsvn: 0, attributes: ['mode64bit'] } }).decision).toBe('allow');
  });

  it('caches nothing when a getter disturbed the evaluator, and nothing invalid', () => {
    const ev = Evaluator.fromTable(table);
    const handle = ev.resolveSubject(SUBJECTS[1]);
    const enclave = { mrenclave: B, mrsigner: A, isvprodid: 1, isvsvn: 0 };
    const disturbing = {
      subject: handle,
      get enclave() {
        ev.resolveSubject(SUBJECTS[0]);
        return enclave;
      },
    };
    expect(ev.decide(disturbing)).toMatchObject({ decision: 'deny', rule: null });
    expect(ev.decide(disturbing)).toMatchObject({ decision: 'deny', rule: null });
    expect(ev.decisionCacheStats.used).toBe(0);
    expect(ev.decide({ subject: handle, enclave: { ...enclave, isvsvn: -1 } })).toMatchObject({ decision: 'deny', rule: null });
    expect(ev.decide({ subject: handle, enclave: { ...enclave, isvsvn: -1 } })).toMatchObject({ decision: 'deny', rule: null });
    expect(ev.decisionCacheStats.used).toBe(0);
    expect(ev.decide({ subject: handle, enclave })).toMatchObject({ decision: 'allow' });
    expect(ev.decisionCacheStats).toMatchObject({ used: 1, hits: 0 });
    expect(ev.decide({ subject: handle, enclave: { ...enclave } })).toMatchObject({ decision: 'allow' });
    expect(ev.decisionCacheStats).toMatchObject({ used: 1, hits: 1 });
  });

  it('stores a decision at once in an empty entry, and in a full set only at its second sight', () => {
    // One set of two entries.
    const ev = Evaluator.fromTable(table, { decisionCache: 2 });
    const handle = ev.resolveSubject(SUBJECTS[1]);
    const ask = (isvsvn: number) => ev.decide({ subject: handle, enclave: { mrenclave: B, mrsigner: A, isvprodid: 1, isvsvn } });
    const hits = () => ev.decisionCacheStats.hits;
    ask(0);
    ask(1);
    expect(ev.decisionCacheStats).toMatchObject({ used: 2, hits: 0 });
    ask(0);
    expect(hits()).toBe(1);
    // A third request finds the set full: only remembered the first time, so both stay.
    ask(2);
    ask(0);
    ask(1);
    expect(hits()).toBe(3);
    // The second time it replaces the less recently used entry (0, since 1 was used after it).
    ask(2);
    ask(2);
    expect(hits()).toBe(4);
    ask(1);
    expect(hits()).toBe(5);
    ask(0);
    expect(hits()).toBe(5);
  });

  it('starts empty with a new table, and keeps two evaluators\' answers apart for one handle', () => {
    const other = compiled(`signer intel = "${A}";\ndeny * einit signer intel;\n`).table;
    const ev = Evaluator.fromTable(table);
    const second = Evaluator.fromTable(other);
    const handle = ev.resolveSubject(SUBJECTS[1]);
    const enclave = ev.resolveEnclave({ mrenclave: B, mrsigner: A, isvprodid: 1, isvsvn: 0 });
    for (let i = 0; i < 3; i++) {
      expect(ev.decide({ subject: handle, enclave }).decision).toBe('allow');
      expect(second.decide({ subject: handle, enclave }).decision).toBe('deny');
      expect(ev.decide({ subject: handle, enclave: { mrenclave: B, mrsigner: A, isvprodid: 1, isvsvn: 0 } }).decision).toBe('allow');
      expect(second.decide({ subject: handle, enclave: { mrenclave: B, mrsigner: A, isvprodid: 1, isvsvn: 0 } }).decision).toBe('deny');
    }
    expect(ev.decisionCacheStats.hits).toBe(4);
    ev.swapTable(other);
    expect(ev.decisionCacheStats).toEqual({ size: 65536, used: 0, hits: 0, misses: 0 });
    expect(ev.decide({ subject: handle, enclave }).decision).toBe('deny');
    ev.swapTable(table);
    expect(ev.decide({ subject: handle, enclave }).decision).toBe('allow');
  });

  it('keeps handles from being changed or imitated, which their cached decisions stand for', () => {
    const ev = Evaluator.fromTable(table);
    const subject = ev.resolveSubject({ ...SUBJECTS[2] });
    const enclave = ev.resolveEnclave({ mrenclave: B, mrsigner: A, isvprodid: 1, isvsvn: 9, attributes: ['provisionkey'] });
    expect(ev.decide({ subject, enclave }).decision).toBe('allow');
    const writes: [object, string, unknown][] = [
      [subject, 'holdsProvision', false],
      [subject, 'subject', { ...SUBJECTS[0] }],
      [subject, 'error', 'x'],
      [enclave, 'isvprodid', 65537],
      [enclave, 'isvsvn', 0.5],
      [enclave, 'attributeBits', 0],
      [enclave, 'enclave', undefined],
    ];
    for (const [target, field, value] of writes) expect(() => ((target as Record<string, unknown>)[field] = value), field).toThrow(TypeError);
    expect(Object.isFrozen(subject.subject)).toBe(true);
    expect(Object.isFrozen(subject.subject!.holds)).toBe(true);
    // Objects that pass `instanceof` without being handles are refused, cached or not.
    for (const ev2 of [ev, Evaluator.fromTable(table, { decisionCache: 0 })]) {
      for (const fake of [new Proxy(subject, {}), Object.create(subject) as object]) {
        expect(ev2.decide({ subject: fake, enclave })).toMatchObject({ decision: 'deny', rule: null });
      }
      expect(ev2.decide({ subject, enclave: new Proxy(enclave, {}) })).toMatchObject({ decision: 'deny', rule: null });
    }
  });

  it('takes a size, rounded up to a power of two, and refuses sizes it cannot use', () => {
    expect(Evaluator.fromTable(table, { decisionCache: 3 }).decisionCacheStats.size).toBe(4);
    expect(Evaluator.fromTable(table, { decisionCache: 1 }).decisionCacheStats.size).toBe(2);
    expect(Evaluator.fromTable(table, {}).decisionCacheStats.size).toBe(65536);
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 23, '8' as unknown as number, null as unknown as number]) {
      expect(() => Evaluator.fromTable(table, { decisionCache: bad })).toThrow(TypeError);
    }
    expect(() => Evaluator.fromTable(table, { decisionCache: '8' as unknown as number })).toThrow('(found "8")');
    // A misspelt option is refused rather than leaving the cache on unnoticed.
    expect(() => Evaluator.fromTable(table, { decisioncache: 0 } as object)).toThrow('unknown evaluator option "decisioncache"');
    expect(() => Evaluator.fromTable(table, 0 as unknown as object)).toThrow('evaluator options must be an object');
  });

  it('keeps a full cache right: 3,000 requests through 64 entries, three times', () => {
    const small = Evaluator.fromTable(table as TableJson, { decisionCache: 64 });
    const none = Evaluator.fromTable(table, { decisionCache: 0 });
    const handles = SUBJECTS.map((s) => small.resolveSubject(s));
    const list = enclaves().slice(0, 750);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 3000; i++) {
        // Each request three times in a row (the third from the cache), the next one new.
        const k = Math.floor(i / 3);
        const s = k % SUBJECTS.length;
        const e = (k * 7 + round) % list.length;
        const request = { subject: handles[s], enclave: list[e], via: k % 3 === 0 ? 'kvm' : 'host' };
        expect(plain(small.decide(request))).toEqual(plain(none.decide({ ...request, subject: SUBJECTS[s] })));
      }
    }
    expect(small.decisionCacheStats.used).toBeLessThanOrEqual(64);
    expect(small.decisionCacheStats.hits).toBeGreaterThan(3 * 1000);
  });
});
