// SPEC 2: the request, validated and normalized; invalid requests give a reason, never a throw.
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  attributeBit,
  checkRequestEnvelope,
  clearSigstructCache,
  normalizeEnclave,
  normalizeRequest,
  normalizeRequestWithSubject,
  normalizeSubject,
  SIGSTRUCT_CACHE_LIMIT,
  sigstructCacheSize,
} from '../../src/runtime/request.js';
import { parseSigstruct } from '../../src/runtime/sigstruct.js';
import { ATTRIBUTE_BITS } from '../../src/runtime/types.js';
import { makeSigstruct, mrsignerOf, testKey, toBase64 } from '../../src/testing/sigstruct-signer.js';

const MRENCLAVE = 'a'.repeat(64);
const MRSIGNER = '0123456789abcdef'.repeat(4);

function validRequest(): Record<string, any> {
  return {
    subject: {
      exe: '/usr/bin/qemu-system-x86_64',
      uid: 107,
      gid: 107,
      label: 'system_u:system_r:svirt_t:s0',
      holds: ['/dev/kvm', '/dev/sgx_vepc'],
    },
    action: 'einit',
    via: 'kvm',
    enclave: { mrenclave: MRENCLAVE, mrsigner: MRSIGNER, isvprodid: 1, isvsvn: 3, attributes: ['mode64bit'] },
  };
}

/** A copy of the valid request with one change made by `edit`. */
function withChange(edit: (r: Record<string, any>) => void): Record<string, any> {
  const r = validRequest();
  edit(r);
  return r;
}

function expectInvalid(raw: unknown, reason: RegExp | string): void {
  let result: ReturnType<typeof normalizeRequest> | undefined;
  expect(() => {
    result = normalizeRequest(raw);
  }).not.toThrow();
  expect(result!.ok).toBe(false);
  if (!result!.ok) {
    if (typeof reason === 'string') expect(result!.reason).toBe(reason);
    else expect(result!.reason).toMatch(reason);
  }
}

describe('SPEC 2: a valid request', () => {
  it('normalizes the example request', () => {
    const result = normalizeRequest(validRequest());
    expect(result).toEqual({
      ok: true,
      request: {
        subject: {
          exe: '/usr/bin/qemu-system-x86_64',
          uid: 107,
          gid: 107,
          label: 'system_u:system_r:svirt_t:s0',
          holds: ['/dev/kvm', '/dev/sgx_vepc'],
        },
        action: 'einit',
        via: 'kvm',
        enclave: {
          mrenclave: MRENCLAVE,
          mrsigner: MRSIGNER,
          isvprodid: 1,
          isvsvn: 3,
          attributeBits: 4,
          attributesHex: '0000000000000004',
        },
      },
    });
  });

  it('applies the defaults: action einit, via host, no label, holds [], no attributes', () => {
    const result = normalizeRequest({
      subject: { exe: '/bin/x', uid: 0, gid: 0 },
      enclave: { mrenclave: MRENCLAVE, mrsigner: MRSIGNER, isvprodid: 0, isvsvn: 0 },
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.request.action).toBe('einit');
    expect(result.request.via).toBe('host');
    expect(result.request.subject.label).toBeUndefined();
    expect(result.request.subject.holds).toEqual([]);
    expect(result.request.enclave.attributeBits).toBe(0);
    expect(result.request.enclave.attributesHex).toBe('0000000000000000');
  });

  it('lower-cases measurements given in any case', () => {
    const result = normalizeRequest(
      withChange((r) => {
        r.enclave.mrenclave = 'ABCDEF'.repeat(10) + 'AbCd';
        r.enclave.mrsigner = MRSIGNER.toUpperCase();
      }),
    );
    expect(result.ok && result.request.enclave.mrenclave).toBe('abcdef'.repeat(10) + 'abcd');
    expect(result.ok && result.request.enclave.mrsigner).toBe(MRSIGNER);
  });

  it('accepts the range ends: uid/gid 0 and 4294967295, isvprodid/isvsvn 0 and 65535', () => {
    for (const [id, n] of [
      [0, 0],
      [4294967295, 65535],
    ]) {
      const result = normalizeRequest(
        withChange((r) => {
          r.subject.uid = id;
          r.subject.gid = id;
          r.enclave.isvprodid = n;
          r.enclave.isvsvn = n;
        }),
      );
      expect(result.ok).toBe(true);
    }
  });

  it('reads -0 as 0', () => {
    const result = normalizeRequest(withChange((r) => (r.subject.uid = -0)));
    expect(result.ok && Object.is(result.request.subject.uid, 0)).toBe(true);
  });

  it('maps every attribute name to its bit, duplicates allowed', () => {
    const all = ['init', 'debug', 'mode64bit', 'provisionkey', 'einittokenkey', 'cet', 'kss', 'aexnotify', 'debug'];
    const result = normalizeRequest(withChange((r) => (r.enclave.attributes = all)));
    const bits = 1 | 2 | 4 | 16 | 32 | 64 | 128 | 1024;
    expect(result.ok && result.request.enclave.attributeBits).toBe(bits);
    expect(result.ok && result.request.enclave.attributesHex).toBe(bits.toString(16).padStart(16, '0'));
    const none = normalizeRequest(withChange((r) => (r.enclave.attributes = [])));
    expect(none.ok && none.request.enclave.attributeBits).toBe(0);
  });

  it('reads attributes given as 0x and 1 to 16 hex digits', () => {
    const cases: [string, number, string][] = [
      ['0x24', 0x24, '0000000000000024'],
      ['0x0', 0, '0000000000000000'],
      ['0xFFFFFFFFFFFFFFFF', 0xffffffff, 'ffffffffffffffff'],
      ['0x1234567800000016', 0x16, '1234567800000016'],
      ['0x80000000', 0x80000000, '0000000080000000'],
    ];
    for (const [text, bits, hex] of cases) {
      const result = normalizeRequest(withChange((r) => (r.enclave.attributes = text)));
      expect(result.ok, text).toBe(true);
      if (!result.ok) continue;
      expect(result.request.enclave.attributeBits).toBe(bits);
      expect(result.request.enclave.attributesHex).toBe(hex);
    }
  });

  it('accepts paths with dots inside segments, and a label that is empty', () => {
    for (const exe of ['/a', '/usr/bin/.hidden', '/usr/bin/..x', '/usr/bin/x.', '/a/.../b', '/usr/lib/x86_64-linux-gnu/ld.so']) {
      expect(normalizeRequest(withChange((r) => (r.subject.exe = exe))).ok, exe).toBe(true);
    }
    expect(normalizeRequest(withChange((r) => (r.subject.label = ''))).ok).toBe(true);
  });

  it('accepts strings of exactly 4096 characters', () => {
    const exe = '/' + 'x'.repeat(4095);
    expect(normalizeRequest(withChange((r) => (r.subject.exe = exe))).ok).toBe(true);
    expect(normalizeRequest(withChange((r) => (r.subject.label = 'l'.repeat(4096)))).ok).toBe(true);
    expect(normalizeRequest(withChange((r) => (r.subject.holds = [exe]))).ok).toBe(true);
  });

  it('counts characters, not UTF-16 units: 4096 characters outside the BMP are within the limit', () => {
    const emoji = '😀'.repeat(4095); // 8190 UTF-16 units
    expect(normalizeRequest(withChange((r) => (r.subject.exe = '/' + emoji))).ok).toBe(true);
    expect(normalizeRequest(withChange((r) => (r.subject.label = emoji + '😀'))).ok).toBe(true);
    expect(normalizeRequest(withChange((r) => (r.subject.holds = ['/' + emoji]))).ok).toBe(true);
  });

  it('treats an optional field given as undefined as absent', () => {
    const result = normalizeRequest(
      withChange((r) => {
        r.subject.label = undefined;
        r.subject.holds = undefined;
        r.action = undefined;
        r.via = undefined;
        r.enclave.attributes = undefined;
      }),
    );
    expect(result.ok).toBe(true);
  });

  it('copies holds, so later changes to the input do not reach the result', () => {
    const raw = validRequest();
    const result = normalizeRequest(raw);
    raw.subject.holds.push('/dev/sgx_provision');
    expect(result.ok && result.request.subject.holds).toEqual(['/dev/kvm', '/dev/sgx_vepc']);
  });

  it('accepts objects without a prototype', () => {
    const subject = Object.assign(Object.create(null), { exe: '/bin/x', uid: 1, gid: 2 });
    expect(normalizeSubject(subject).ok).toBe(true);
  });
});

describe('SPEC 2: invalid requests', () => {
  it('a request that is not an object', () => {
    for (const raw of [null, undefined, 0, 'x', true, [], [validRequest()], () => 1, Symbol('s'), 10n]) {
      expectInvalid(raw, /^request must be an object \(found /);
    }
    expectInvalid(null, 'request must be an object (found null)');
    expectInvalid([], 'request must be an object (found an array)');
  });

  it('an unknown field at any level', () => {
    expectInvalid(withChange((r) => (r.extra = 1)), 'request has an unknown field "extra"');
    expectInvalid(withChange((r) => (r.subject.pid = 1)), 'subject has an unknown field "pid"');
    expectInvalid(withChange((r) => (r.enclave.isvfamilyid = 'x')), 'enclave has an unknown field "isvfamilyid"');
  });

  it('prototype-polluting keys are unknown fields, not special', () => {
    expectInvalid(JSON.parse('{"__proto__": {"x": 1}, "subject": {}, "enclave": {}}'), 'request has an unknown field "__proto__"');
    const subject = JSON.parse('{"exe": "/bin/x", "uid": 1, "gid": 1, "constructor": 1}');
    expectInvalid({ ...validRequest(), subject }, 'subject has an unknown field "constructor"');
    const enclave = JSON.parse(`{"mrenclave": "${MRENCLAVE}", "mrsigner": "${MRSIGNER}", "isvprodid": 1, "isvsvn": 1, "__proto__": null}`);
    expectInvalid({ ...validRequest(), enclave }, 'enclave has an unknown field "__proto__"');
  });

  it('inherited fields are neither read nor counted', () => {
    const proto = { exe: '/bin/x', uid: 1, gid: 1 };
    const subject = Object.create(proto);
    expectInvalid({ ...validRequest(), subject }, 'subject.exe is missing');
    Object.defineProperty(Object.prototype, 'sgxpolPolluted', { value: 1, enumerable: true, configurable: true, writable: true });
    try {
      expect(normalizeRequest(validRequest()).ok).toBe(true);
    } finally {
      delete (Object.prototype as any).sgxpolPolluted;
    }
  });

  it('a missing required field', () => {
    expectInvalid(withChange((r) => delete r.subject), 'subject is missing');
    expectInvalid(withChange((r) => delete r.enclave), 'enclave is missing');
    expectInvalid(withChange((r) => delete r.subject.exe), 'subject.exe is missing');
    expectInvalid(withChange((r) => delete r.subject.uid), 'subject.uid is missing');
    expectInvalid(withChange((r) => delete r.subject.gid), 'subject.gid is missing');
    expectInvalid(withChange((r) => delete r.enclave.mrenclave), 'enclave.mrenclave is missing');
    expectInvalid(withChange((r) => delete r.enclave.mrsigner), 'enclave.mrsigner is missing');
    expectInvalid(withChange((r) => delete r.enclave.isvprodid), 'enclave.isvprodid is missing');
    expectInvalid(withChange((r) => delete r.enclave.isvsvn), 'enclave.isvsvn is missing');
  });

  it('a subject or enclave that is not an object', () => {
    for (const value of [null, 1, 'x', [], true]) {
      expectInvalid(withChange((r) => (r.subject = value)), /^subject must be an object/);
      expectInvalid(withChange((r) => (r.enclave = value)), /^enclave must be an object/);
    }
  });

  it('a non-canonical or non-absolute exe', () => {
    const cases: [string, string][] = [
      ['//usr/bin', 'has an empty segment ("//")'],
      ['/usr//bin', 'has an empty segment ("//")'],
      ['/usr/bin/', 'ends with "/"'],
      ['/', 'ends with "/"'],
      ['usr/bin/x', 'does not start with "/"'],
      ['', 'does not start with "/"'],
      ['./x', 'does not start with "/"'],
      ['/usr/./bin', 'has a "." segment'],
      ['/usr/bin/.', 'has a "." segment'],
      ['/./x', 'has a "." segment'],
      ['/usr/../bin', 'has a ".." segment'],
      ['/usr/bin/..', 'has a ".." segment'],
      ['/..', 'has a ".." segment'],
      ['/usr/bin/x\u0000y', 'contains a NUL character'],
    ];
    for (const [exe, flaw] of cases) {
      expectInvalid(
        withChange((r) => (r.subject.exe = exe)),
        `subject.exe must be an absolute canonical path (found ${JSON.stringify(exe)}, which ${flaw})`,
      );
    }
  });

  it('an exe, label or holds entry over 4096 characters', () => {
    const long = '/' + 'x'.repeat(4096);
    expectInvalid(withChange((r) => (r.subject.exe = long)), 'subject.exe is longer than 4096 characters (4097)');
    expectInvalid(withChange((r) => (r.subject.label = 'x'.repeat(4097))), 'subject.label is longer than 4096 characters (4097)');
    expectInvalid(withChange((r) => (r.subject.holds = ['/dev/kvm', long])), 'subject.holds[1] is longer than 4096 characters (4097)');
    expectInvalid(withChange((r) => (r.subject.label = '😀'.repeat(4097))), 'subject.label is longer than 4096 characters (4097)');
    expectInvalid(withChange((r) => (r.subject.exe = '/' + '😀'.repeat(4096))), 'subject.exe is longer than 4096 characters (4097)');
    // Between 4097 and 8192 units the characters are counted: here 4,097 in 4,194 units.
    const mixed = 'x'.repeat(4000) + '😀'.repeat(97);
    expectInvalid(withChange((r) => (r.subject.label = mixed)), 'subject.label is longer than 4096 characters (4097)');
    expect(normalizeRequest(withChange((r) => (r.subject.label = mixed.slice(2)))).ok).toBe(true); // 4,096
    // A huge one is not read through for the message.
    expectInvalid(withChange((r) => (r.subject.label = 'x'.repeat(70_000))), 'subject.label is longer than 4096 characters (more than 32768)');
  });

  it('messages count and cut characters, never half of a pair', () => {
    expectInvalid(withChange((r) => (r.enclave.mrsigner = '😀'.repeat(40))), 'enclave.mrsigner must be 64 hex digits (found 40 characters)');
    // A long value is shown cut at 80 units, here before the pair that straddles the 80th.
    const exe = 'a'.repeat(79) + '😀'.repeat(10); // 89 characters, not a path
    const reason = (normalizeRequest(withChange((r) => (r.subject.exe = exe))) as { reason: string }).reason;
    expect(reason).toBe(`subject.exe must be an absolute canonical path (found ${JSON.stringify('a'.repeat(79))}… (89 characters), which does not start with "/")`);
  });

  it('a huge string is refused quickly, and the reason stays short', () => {
    const huge = '/' + 'x'.repeat(50_000_000);
    const start = performance.now();
    const result = normalizeRequest(withChange((r) => (r.subject.exe = huge)));
    console.log(`50M-character exe refused in ${(performance.now() - start).toFixed(3)} ms`);
    expect(result.ok).toBe(false);
    const reason = normalizeRequest(withChange((r) => (r.subject.exe = 'x'.repeat(1000)))) as { reason: string };
    expect(reason.reason.length).toBeLessThan(200);
    expect(reason.reason).toContain('(1000 characters)');
  });

  it('exe, label and holds entries of the wrong type', () => {
    for (const value of [1, null, true, ['/bin/x'], { path: '/bin/x' }]) {
      expectInvalid(withChange((r) => (r.subject.exe = value)), /^subject\.exe must be a string \(found /);
      expectInvalid(withChange((r) => (r.subject.label = value)), /^subject\.label must be a string \(found /);
      expectInvalid(withChange((r) => (r.subject.holds = [value])), /^subject\.holds\[0\] must be a string \(found /);
    }
    expectInvalid(withChange((r) => (r.subject.holds = '/dev/kvm')), 'subject.holds must be an array of paths (found "/dev/kvm")');
    expectInvalid(withChange((r) => (r.subject.holds = null)), 'subject.holds must be an array of paths (found null)');
    expectInvalid(withChange((r) => (r.subject.holds = { 0: '/dev/kvm', length: 1 })), /^subject\.holds must be an array/);
  });

  it('holds entries that are not absolute canonical paths', () => {
    for (const path of ['dev/kvm', '/dev//kvm', '/dev/kvm/', '/dev/../dev/kvm', '/', '']) {
      expectInvalid(withChange((r) => (r.subject.holds = ['/dev/sgx_vepc', path])), /^subject\.holds\[1\] must be an absolute canonical path/);
    }
    // A hole in a sparse array is not a path.
    const sparse: string[] = [];
    sparse[1] = '/dev/kvm';
    expectInvalid(withChange((r) => (r.subject.holds = sparse)), 'subject.holds[0] is missing');
  });

  it('uid and gid that are not integers from 0 to 4294967295', () => {
    for (const value of [-1, 4294967296, 1.5, NaN, Infinity, -Infinity, '107', null, true, [], {}, 2 ** 53]) {
      expectInvalid(withChange((r) => (r.subject.uid = value)), /^subject\.uid must be an integer from 0 to 4294967295 \(found /);
      expectInvalid(withChange((r) => (r.subject.gid = value)), /^subject\.gid must be an integer from 0 to 4294967295 \(found /);
    }
    expectInvalid(withChange((r) => (r.subject.uid = -1)), 'subject.uid must be an integer from 0 to 4294967295 (found -1)');
    expectInvalid(withChange((r) => (r.subject.uid = NaN)), 'subject.uid must be an integer from 0 to 4294967295 (found NaN)');
    expectInvalid(withChange((r) => (r.subject.uid = '107')), 'subject.uid must be an integer from 0 to 4294967295 (found "107")');
  });

  it('isvprodid and isvsvn that are not integers from 0 to 65535', () => {
    for (const value of [-1, 65536, 0.5, NaN, '1', null, false]) {
      expectInvalid(withChange((r) => (r.enclave.isvprodid = value)), /^enclave\.isvprodid must be an integer from 0 to 65535 \(found /);
      expectInvalid(withChange((r) => (r.enclave.isvsvn = value)), /^enclave\.isvsvn must be an integer from 0 to 65535 \(found /);
    }
    expectInvalid(withChange((r) => (r.enclave.isvsvn = 70000)), 'enclave.isvsvn must be an integer from 0 to 65535 (found 70000)');
  });

  it('an action other than einit, a via other than host or kvm', () => {
    for (const value of ['EINIT', 'eadd', '', null, 1, ['einit']]) {
      expectInvalid(withChange((r) => (r.action = value)), /^action must be "einit" \(found /);
    }
    for (const value of ['any', 'KVM', 'guest', '', null, 0]) {
      expectInvalid(withChange((r) => (r.via = value)), /^via must be "host" or "kvm" \(found /);
    }
    expectInvalid(withChange((r) => (r.via = 'any')), 'via must be "host" or "kvm" (found "any")');
  });

  it('bad hex in a measurement', () => {
    const bad = ['a'.repeat(63), 'a'.repeat(65), 'g' + 'a'.repeat(63), ' ' + 'a'.repeat(63), '0x' + 'a'.repeat(62), '', 'é'.repeat(64)];
    for (const value of bad) {
      expectInvalid(withChange((r) => (r.enclave.mrenclave = value)), /^enclave\.mrenclave must be 64 hex digits \(found /);
      expectInvalid(withChange((r) => (r.enclave.mrsigner = value)), /^enclave\.mrsigner must be 64 hex digits \(found /);
    }
    expectInvalid(withChange((r) => (r.enclave.mrsigner = 'a'.repeat(63))), 'enclave.mrsigner must be 64 hex digits (found 63 characters)');
    expectInvalid(withChange((r) => (r.enclave.mrsigner = 42)), 'enclave.mrsigner must be 64 hex digits (found 42)');
  });

  it('an unknown attribute name, or attributes of the wrong form', () => {
    expectInvalid(
      withChange((r) => (r.enclave.attributes = ['mode64bit', 'provision'])),
      'enclave.attributes[1] must be one of init, debug, mode64bit, provisionkey, einittokenkey, cet, kss, aexnotify (found "provision")',
    );
    for (const name of ['DEBUG', 'constructor', '__proto__', 'toString', 'hasOwnProperty', '', 4, null]) {
      expectInvalid(withChange((r) => (r.enclave.attributes = [name])), /^enclave\.attributes\[0\] must be one of /);
    }
    for (const value of ['0x', '24', '0X24', '0x' + '1'.repeat(17), '0xg', ' 0x1', '0x1 ', 36, null, { debug: true }]) {
      expectInvalid(withChange((r) => (r.enclave.attributes = value)), /^enclave\.attributes must be an array of attribute names or "0x"/);
    }
  });

  it('a reason is one short sentence', () => {
    const result = normalizeRequest(withChange((r) => (r.subject.exe = '//usr/bin')));
    expect(result).toEqual({
      ok: false,
      reason: 'subject.exe must be an absolute canonical path (found "//usr/bin", which has an empty segment ("//"))',
    });
  });
});

describe('SPEC 2: never throws', () => {
  it('getters that throw, at every level', () => {
    const throwing = (name: string) =>
      Object.defineProperty({}, name, {
        enumerable: true,
        get() {
          throw new Error('boom');
        },
      });
    expectInvalid(throwing('subject'), /^request could not be read \(boom\)/);
    expectInvalid({ ...validRequest(), subject: throwing('exe') }, /could not be read \(boom\)/);
    expectInvalid({ ...validRequest(), enclave: throwing('mrenclave') }, /could not be read \(boom\)/);
    const holds = ['/dev/kvm'];
    Object.defineProperty(holds, 0, {
      get() {
        throw new Error('boom');
      },
    });
    expectInvalid(withChange((r) => (r.subject.holds = holds)), /could not be read/);
  });

  it('a getter that throws something that cannot be printed', () => {
    const nasty = {
      toString() {
        throw new Error('no');
      },
    };
    const raw = Object.defineProperty({}, 'subject', {
      enumerable: true,
      get() {
        throw nasty;
      },
    });
    expectInvalid(raw, 'request could not be read (unknown error)');
  });

  it('proxies whose traps throw, and revoked proxies', () => {
    const trap = () => {
      throw new Error('trap');
    };
    const hostile = new Proxy({}, { ownKeys: trap, get: trap, has: trap, getOwnPropertyDescriptor: trap, getPrototypeOf: trap });
    expectInvalid(hostile, /could not be read/);
    expectInvalid({ ...validRequest(), subject: hostile }, /could not be read/);
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expectInvalid(proxy, /could not be read/);
    expectInvalid({ ...validRequest(), enclave: proxy }, /could not be read/);
  });

  it('cyclic objects', () => {
    const r = validRequest();
    r.subject.self = r;
    expectInvalid(r, 'subject has an unknown field "self"');
    const holds: unknown[] = ['/dev/kvm'];
    holds.push(holds);
    expectInvalid(withChange((x) => (x.subject.holds = holds)), 'subject.holds[1] must be a string (found an array)');
  });

  it('a subject validator that throws', () => {
    const result = normalizeRequestWithSubject(validRequest(), () => {
      throw new Error('handle broke');
    });
    expect(result).toEqual({ ok: false, reason: 'request could not be read (handle broke)' });
  });

  it('random JSON values, and random changes to a valid request', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const result = normalizeRequest(value);
        expect(typeof result.ok).toBe('boolean');
        if (!result.ok) expect(typeof result.reason).toBe('string');
      }),
      { numRuns: 3000 },
    );
    const paths = [
      ['subject'],
      ['enclave'],
      ['action'],
      ['via'],
      ['subject', 'exe'],
      ['subject', 'uid'],
      ['subject', 'gid'],
      ['subject', 'label'],
      ['subject', 'holds'],
      ['enclave', 'mrenclave'],
      ['enclave', 'mrsigner'],
      ['enclave', 'isvprodid'],
      ['enclave', 'isvsvn'],
      ['enclave', 'attributes'],
      ['enclave', 'sigstruct'],
      ['extra'],
    ];
    fc.assert(
      fc.property(fc.constantFrom(...paths), fc.jsonValue(), (path, value) => {
        const r = validRequest();
        let target = r;
        for (const key of path.slice(0, -1)) target = target[key];
        target[path[path.length - 1]] = value;
        const result = normalizeRequest(r);
        if (!result.ok) expect(result.reason.length).toBeGreaterThan(0);
      }),
      { numRuns: 3000 },
    );
  });

  it('random objects with any keys at any level', () => {
    fc.assert(
      fc.property(fc.anything({ withNullPrototype: true, withBigInt: true, withMap: true, withTypedArray: true }), (value) => {
        expect(() => normalizeRequest(value)).not.toThrow();
        expect(() => normalizeRequest({ subject: value, enclave: value })).not.toThrow();
        expect(() => normalizeRequest({ ...validRequest(), enclave: { sigstruct: value } })).not.toThrow();
      }),
      { numRuns: 2000 },
    );
  });
});

describe('SPEC 2 and 9: an enclave given as a SIGSTRUCT', () => {
  beforeEach(() => clearSigstructCache());

  const mrenclave = 'cd'.repeat(32);
  const bytes = makeSigstruct({ mrenclave, isvprodid: 9, isvsvn: 4, attributesFlags: 0x1_0000_0016n });
  const base64 = toBase64(bytes);
  const withSigstruct = (sigstruct: unknown) => withChange((r) => (r.enclave = { sigstruct }));

  it('a valid SIGSTRUCT gives the identity it carries, with MRSIGNER derived from its key', () => {
    const result = normalizeRequest(withSigstruct(base64));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.request.enclave).toEqual({
      mrenclave,
      mrsigner: mrsignerOf(testKey()),
      isvprodid: 9,
      isvsvn: 4,
      attributeBits: 0x16,
      attributesHex: '0000000100000016',
    });
  });

  it('base64 without padding is accepted too', () => {
    expect(base64.endsWith('=')).toBe(true);
    expect(normalizeRequest(withSigstruct(base64.replace(/=+$/, ''))).ok).toBe(true);
  });

  it('the SIGSTRUCT and the identity fields together are invalid', () => {
    expectInvalid(
      withChange((r) => (r.enclave.sigstruct = base64)),
      'enclave must give either sigstruct or the identity fields, not both',
    );
  });

  it('not base64, or not a string', () => {
    expectInvalid(withSigstruct(base64.slice(0, 100) + '!' + base64.slice(101)), 'enclave.sigstruct must be base64 (found "!" at character 100)');
    expectInvalid(withSigstruct(base64.slice(0, 100) + ' ' + base64.slice(101)), /^enclave\.sigstruct must be base64/);
    // The character is shown whole, and counted in characters.
    expectInvalid(withSigstruct('😀' + base64.slice(0, 50) + '😀' + base64.slice(51)), 'enclave.sigstruct must be base64 (found "😀" at character 0)');
    expectInvalid(withSigstruct('A😀' + base64.slice(2)), 'enclave.sigstruct must be base64 (found "😀" at character 1)');
    expectInvalid(withSigstruct(base64.replace(/\+/g, '-').replace(/\//g, '_')), /^enclave\.sigstruct must be base64/);
    expectInvalid(withSigstruct(base64 + '='), /^enclave\.sigstruct must be base64/);
    expectInvalid(withSigstruct(12), 'enclave.sigstruct must be a base64 string (found 12)');
    expectInvalid(withSigstruct(null), 'enclave.sigstruct must be a base64 string (found null)');
    expectInvalid(withSigstruct(Array.from(bytes)), 'enclave.sigstruct must be a base64 string (found an array)');
  });

  it('the wrong size', () => {
    expectInvalid(withSigstruct(toBase64(bytes.subarray(0, 1807))), 'enclave.sigstruct must be a 1808-byte SIGSTRUCT (found 1807 bytes)');
    expectInvalid(withSigstruct(toBase64(new Uint8Array([...bytes, 0, 0, 0]))), 'enclave.sigstruct must be a 1808-byte SIGSTRUCT (found 1811 bytes)');
    expectInvalid(withSigstruct(''), 'enclave.sigstruct must be a 1808-byte SIGSTRUCT (found 0 bytes)');
    expectInvalid(withSigstruct('A'.repeat(5000)), /^enclave\.sigstruct is longer than 4096 characters \(5000\)/);
  });

  it('a wrong header, vendor, header2, exponent or signature names what was wrong', () => {
    const cases: [number, number, string][] = [
      [0, 0x07, 'HEADER is wrong'],
      [16, 0x01, 'VENDOR must be 0 or 0x8086 (found 0x1)'],
      [24, 0x02, 'HEADER2 is wrong'],
      [512, 0x05, 'EXPONENT must be 3 (found 5)'],
      [960, bytes[960] ^ 1, 'the signature does not verify'],
      [600, bytes[600] ^ 1, 'the signature does not verify'],
    ];
    for (const [offset, value, problem] of cases) {
      const copy = new Uint8Array(bytes);
      copy[offset] = value;
      const result = normalizeRequest(withSigstruct(toBase64(copy)));
      expect(result.ok).toBe(false);
      if (result.ok) continue;
      expect(result.reason.startsWith('enclave.sigstruct is not a valid SIGSTRUCT: ')).toBe(true);
      expect(result.reason).toContain(problem);
    }
  });

  it('agrees with parseSigstruct on the fields', () => {
    const info = parseSigstruct(bytes);
    const result = normalizeEnclave({ sigstruct: base64 });
    expect(result.ok && result.enclave.mrsigner).toBe(info.mrsigner);
    expect(result.ok && result.enclave.mrenclave).toBe(info.mrenclave);
  });

  it('a repeated SIGSTRUCT is answered from the cache, valid or not', () => {
    const first = normalizeEnclave({ sigstruct: base64 });
    expect(sigstructCacheSize()).toBe(1);
    const again = normalizeEnclave({ sigstruct: base64 });
    expect(again).toStrictEqual(first);
    expect(sigstructCacheSize()).toBe(1); // answered from the cache: no second parse or RSA verify
    const broken = new Uint8Array(bytes);
    broken[960] ^= 1;
    const bad = normalizeEnclave({ sigstruct: toBase64(broken) });
    expect(bad.ok).toBe(false);
    expect(normalizeEnclave({ sigstruct: toBase64(broken) })).toStrictEqual(bad);
    expect(sigstructCacheSize()).toBe(2);

    // Repeated lookups are far cheaper than verifying (printed, not asserted).
    const n = 2000;
    let start = performance.now();
    for (let i = 0; i < n; i++) normalizeEnclave({ sigstruct: base64 });
    const cachedMicros = ((performance.now() - start) * 1000) / n;
    start = performance.now();
    for (let i = 0; i < 50; i++) parseSigstruct(bytes);
    const parseMicros = ((performance.now() - start) * 1000) / 50;
    console.log(`sigstruct: cached ${cachedMicros.toFixed(2)} µs, parse+verify ${parseMicros.toFixed(1)} µs`);
  });

  it('the cache is bounded, and the oldest entry goes first', () => {
    const first = normalizeEnclave({ sigstruct: base64 });
    // Distinct strings that fail fast (wrong size) fill the cache without any RSA work.
    for (let i = 0; i < SIGSTRUCT_CACHE_LIMIT + 10; i++) {
      normalizeEnclave({ sigstruct: Buffer.from(`filler ${i}`).toString('base64') });
      expect(sigstructCacheSize()).toBeLessThanOrEqual(SIGSTRUCT_CACHE_LIMIT);
    }
    expect(sigstructCacheSize()).toBe(SIGSTRUCT_CACHE_LIMIT);
    const again = normalizeEnclave({ sigstruct: base64 });
    expect(again).not.toBe(first); // evicted, parsed again
    expect(again).toEqual(first);
  });
});

describe('the parts can be validated separately', () => {
  it('checkRequestEnvelope checks the top level and hands back subject and enclave unread', () => {
    const raw = validRequest();
    const envelope = checkRequestEnvelope(raw);
    expect(envelope).toEqual({ ok: true, via: 'kvm', subject: raw.subject, enclave: raw.enclave });
    expect(checkRequestEnvelope({ subject: 1, enclave: 2 })).toEqual({ ok: true, via: 'host', subject: 1, enclave: 2 });
    expect(checkRequestEnvelope({ subject: 1 })).toEqual({ ok: false, reason: 'enclave is missing' });
    expect(checkRequestEnvelope({ subject: 1, enclave: 2, via: 'x' }).ok).toBe(false);
  });

  it('normalizeRequestWithSubject hands the subject to the given validator', () => {
    const handle = { resolved: true };
    const result = normalizeRequestWithSubject({ ...validRequest(), subject: handle }, (s) =>
      s === handle ? { ok: true, subject: handle } : { ok: false, reason: 'not a handle' },
    );
    expect(result.ok && result.request.subject).toBe(handle);
    const refused = normalizeRequestWithSubject(validRequest(), () => ({ ok: false, reason: 'no' }));
    expect(refused).toEqual({ ok: false, reason: 'no' });
  });

  it('normalizeSubject and normalizeEnclave check their part alone', () => {
    expect(normalizeSubject(validRequest().subject).ok).toBe(true);
    expect(normalizeSubject({ exe: '/x', uid: 1 })).toEqual({ ok: false, reason: 'subject.gid is missing' });
    expect(normalizeEnclave(validRequest().enclave).ok).toBe(true);
    expect(normalizeEnclave({})).toEqual({ ok: false, reason: 'enclave.mrenclave is missing' });
  });
});

describe('SPEC 2: remembering validated measurements changes no answer', () => {
  it('a string that shares a cache slot with a valid one is still validated in full', () => {
    const good = 'abc' + '0'.repeat(61);
    const bad = 'abc' + '0'.repeat(60) + 'g';
    const enclave = (mrenclave: string) => ({ mrenclave, mrsigner: 'f'.repeat(64), isvprodid: 0, isvsvn: 0 });
    for (let i = 0; i < 3; i++) {
      expect(normalizeEnclave(enclave(good)).ok).toBe(true);
      expect(normalizeEnclave(enclave(bad)).ok).toBe(false);
    }
  });
  it('agrees with a plain check on random measurements, repeated', () => {
    const hexOrNot = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFg/ '), minLength: 63, maxLength: 65 });
    fc.assert(
      fc.property(fc.array(hexOrNot, { minLength: 1, maxLength: 10 }), (values) => {
        for (const v of [...values, ...values]) {
          const ok = /^[0-9a-fA-F]{64}$/.test(v);
          const result = normalizeEnclave({ mrenclave: v, mrsigner: 'f'.repeat(64), isvprodid: 0, isvsvn: 0 });
          expect(result.ok).toBe(ok);
          if (result.ok) expect(result.enclave.mrenclave).toBe(v.toLowerCase());
        }
      }),
      { numRuns: 2000, seed: 9 },
    );
  });
});

describe('attribute names', () => {
  it('attributeBit agrees with ATTRIBUTE_BITS and knows no other name', () => {
    for (const [name, bit] of Object.entries(ATTRIBUTE_BITS)) expect(attributeBit(name)).toBe(bit);
    for (const name of ['', 'Mode64bit', 'MODE64BIT', 'mode64bit ', 'toString', '__proto__', 'constructor', 'provision', 'sgx_provision']) {
      expect(attributeBit(name)).toBe(-1);
    }
  });
});
