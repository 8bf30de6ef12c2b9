// SPEC 9: SIGSTRUCT parsing and signature verification.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseSigstruct, SIGSTRUCT_SIZE } from '../../src/runtime/sigstruct.js';
import { keyFromPem, makeSigstruct, mrsignerOf, testKey } from '../../src/testing/sigstruct-signer.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const vectors = path.resolve(repoRoot, '..', 'shared', 'vectors');

function tampered(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = new Uint8Array(bytes);
  copy[offset] = value;
  return copy;
}

describe('SPEC 9: generated SIGSTRUCTs', () => {
  const mrenclave = 'AB'.repeat(32);
  const good = makeSigstruct({ mrenclave, isvprodid: 7, isvsvn: 513, attributesFlags: 0x16n, vendor: 0x8086, date: '2025-02-28' });

  it('a well-formed, correctly signed SIGSTRUCT parses and verifies', () => {
    const info = parseSigstruct(good);
    expect(info.problems).toEqual([]);
    expect(info.ok).toBe(true);
    expect(info.signatureValid).toBe(true);
    expect(info.quotientsValid).toBe(true);
    expect(info.mrenclave).toBe('ab'.repeat(32));
    expect(info.mrsigner).toBe(mrsignerOf(testKey()));
    expect(info.isvprodid).toBe(7);
    expect(info.isvsvn).toBe(513);
    expect(info.attributes).toEqual({ flags: '0000000000000016', xfrm: '0000000000000003' });
    expect(info.attributeMask).toEqual({ flags: 'fffffffffffffffd', xfrm: 'ffffffffffffff1b' });
    expect(info.vendor).toBe(0x8086);
    expect(info.date).toBe('2025-02-28');
    expect(info.exponent).toBe(3);
    expect(info.header).toBe('06000000e10000000000010000000000');
    expect(info.header2).toBe('01010000600000006000000001000000');
    expect(info.miscmask).toBe(0xffffffff);
    expect(info.modulus).toMatch(/^[89a-f][0-9a-f]{767}$/);
    expect(info.signature).toMatch(/^[0-9a-f]{768}$/);
  });

  it('vendor 0 is accepted', () => {
    expect(parseSigstruct(makeSigstruct({ vendor: 0 })).ok).toBe(true);
  });

  it('the signature covers bytes 0-127 and 900-1027 and nothing else', () => {
    for (const offset of [0x30, 100, 127, 900, 930, 960, 1024, 1027]) {
      const info = parseSigstruct(tampered(good, offset, good[offset] ^ 0x01));
      expect(info.signatureValid, `byte ${offset}`).toBe(false);
      expect(info.ok).toBe(false);
    }
    // Reserved bytes outside the signed ranges and Q1/Q2 are not signed (a changed Q1 only
    // breaks the quotients, which SPEC 9 does not check).
    for (const offset of [1028, 1039, 1040, 1807]) {
      const info = parseSigstruct(tampered(good, offset, good[offset] ^ 0x01));
      expect(info.signatureValid, `byte ${offset}`).toBe(true);
    }
    expect(parseSigstruct(tampered(good, 1040, good[1040] ^ 1)).quotientsValid).toBe(false);
  });

  it('a tampered modulus or signature fails', () => {
    expect(parseSigstruct(tampered(good, 200, good[200] ^ 0x80)).signatureValid).toBe(false);
    expect(parseSigstruct(tampered(good, 600, good[600] ^ 0x80)).signatureValid).toBe(false);
  });

  it('takes the bytes as a Buffer, an ArrayBuffer or any view of one, with the same result', () => {
    const expected = parseSigstruct(good);
    const copy = good.slice();
    const inLargerBuffer = new Uint8Array(SIGSTRUCT_SIZE + 16);
    inLargerBuffer.set(good, 8);
    for (const bytes of [Buffer.from(good), copy.buffer, new DataView(copy.buffer), new Int8Array(copy.buffer), new DataView(inLargerBuffer.buffer, 8, SIGSTRUCT_SIZE)]) {
      expect(parseSigstruct(bytes)).toEqual(expected);
    }
    expect(expected.ok).toBe(true);
    for (const wrong of ['AAAA', [1, 2, 3], null, undefined, 7]) {
      expect(parseSigstruct(wrong as unknown as Uint8Array).problems).toEqual(['SIGSTRUCT must be bytes (a Uint8Array, a Buffer, an ArrayBuffer or another view of one)']);
    }
  });

  it('truncated, padded and empty input fails with a size problem and empty fields', () => {
    for (const bytes of [good.subarray(0, 1807), new Uint8Array([...good, 0]), new Uint8Array(0)]) {
      const info = parseSigstruct(bytes);
      expect(info.ok).toBe(false);
      expect(info.problems).toEqual([`SIGSTRUCT must be ${SIGSTRUCT_SIZE} bytes (found ${bytes.length})`]);
      expect(info.mrsigner).toBe('');
      expect(info.signatureValid).toBe(false);
    }
  });

  it('a wrong HEADER, VENDOR, HEADER2 or EXPONENT is reported', () => {
    const cases: [number, number, RegExp][] = [
      [0, 0x07, /^HEADER is wrong/],
      [17, 0x81, /^VENDOR must be 0 or 0x8086 \(found 0x8186\)/],
      [24, 0x02, /^HEADER2 is wrong/],
      [512, 0x05, /^EXPONENT must be 3 \(found 5\)/],
    ];
    for (const [offset, value, problem] of cases) {
      const info = parseSigstruct(tampered(good, offset, value));
      expect(info.ok).toBe(false);
      expect(info.problems.some((p) => problem.test(p)), info.problems.join('; ')).toBe(true);
    }
  });

  it('a header or exponent fault is reported even when the signature is right', () => {
    // Re-sign with a VENDOR the spec does not allow: the signature holds, the vendor does not.
    const info = parseSigstruct(makeSigstruct({ vendor: 1 }));
    expect(info.signatureValid).toBe(true);
    expect(info.ok).toBe(false);
    expect(info.problems).toEqual(['VENDOR must be 0 or 0x8086 (found 0x1)']);
  });

  it('a zero modulus or signature never throws', () => {
    const zeroModulus = new Uint8Array(good);
    zeroModulus.fill(0, 128, 512);
    expect(parseSigstruct(zeroModulus).signatureValid).toBe(false);
    const zeroSignature = new Uint8Array(good);
    zeroSignature.fill(0, 516, 900);
    expect(parseSigstruct(zeroSignature).signatureValid).toBe(false);
    const allOnes = new Uint8Array(SIGSTRUCT_SIZE).fill(0xff);
    expect(parseSigstruct(allOnes).ok).toBe(false);
  });

  it('a signature equal to or above the modulus is refused', () => {
    const copy = new Uint8Array(good);
    copy.set(good.subarray(128, 512), 516); // signature := modulus
    expect(parseSigstruct(copy).signatureValid).toBe(false);
  });

  it('the same key and fields give the same bytes (PKCS#1 v1.5 is deterministic)', () => {
    expect(makeSigstruct({ isvsvn: 3 })).toEqual(makeSigstruct({ isvsvn: 3 }));
  });
});

describe.skipIf(!existsSync(vectors))('SPEC 9: real SIGSTRUCTs from ../shared/vectors', () => {
  const read = (name: string) => new Uint8Array(readFileSync(path.join(vectors, name)));

  it("Intel's production Launch Enclave", () => {
    const info = parseSigstruct(read('intel_le_prod.sig'));
    expect(info.problems).toEqual([]);
    expect(info.ok).toBe(true);
    expect(info.signatureValid).toBe(true);
    expect(info.quotientsValid).toBe(true);
    expect(info.vendor).toBe(0x8086);
    expect(info.date).toBe('2024-08-11');
    expect(info.mrsigner).toBe('acb77012053e05a63d413b8bbae8fb6c5d73b3f2996d91c43bbbf90959c0f8d4');
    expect(info.mrenclave).toBe('7881af9f9def547da9908c008f29cde9bd78064e36ac7e14c83c294ca4806150');
    expect(info.isvprodid).toBe(32);
    expect(info.isvsvn).toBe(7);
    expect(info.attributes).toEqual({ flags: '0000000000000024', xfrm: '0000000000000003' });
  });

  it('the rust-sgx test enclave', () => {
    const info = parseSigstruct(read('rust-sgx_test_enclave.sig'));
    expect(info.ok).toBe(true);
    expect(info.signatureValid).toBe(true);
    expect(info.mrsigner).toBe('fb4bab3d6036ac1d730fa83d7366df1dd2dfeac194ef335d6854d8a6c6475542');
    expect(info.isvprodid).toBe(65535);
    expect(info.isvsvn).toBe(0);
    expect(BigInt('0x' + info.attributes.flags) & 0x4n).toBe(0x4n); // MODE64BIT
    const whitelist = readFileSync(path.join(vectors, 'intel_le_whitelist_mrsigners.txt'), 'utf8');
    expect(whitelist.toLowerCase()).toContain(info.mrsigner);
  });

  it('rust-sgx sig1: parses, and our signer reproduces it byte for byte from its key', () => {
    const golden = read('rust-sgx_sig1.sigstruct.bin');
    const info = parseSigstruct(golden);
    expect(info.ok).toBe(true);
    expect(info.date).toBe('2016-01-09');
    expect(info.attributes.flags).toBe('0000000000000004');
    expect(info.mrenclave).toBe('c50673624a6cb17c1c6c2a4e6906f47a170c4629b8723781d1017ef376f1a75d');
    expect(info.mrsigner).toBe('83d719e77deaca1470f6baf62a4d774303c899db69020f9c70ee1dfc08c7ce9e');

    const key = keyFromPem(readFileSync(path.join(vectors, 'rust-sgx_sig1.key.pem'), 'utf8'));
    expect(mrsignerOf(key)).toBe(info.mrsigner);
    const rebuilt = makeSigstruct({
      key,
      date: info.date,
      vendor: info.vendor,
      mrenclave: info.mrenclave,
      isvprodid: info.isvprodid,
      isvsvn: info.isvsvn,
      attributesFlags: BigInt('0x' + info.attributes.flags),
      xfrm: BigInt('0x' + info.attributes.xfrm),
      attributeMaskFlags: BigInt('0x' + info.attributeMask.flags),
      attributeMaskXfrm: BigInt('0x' + info.attributeMask.xfrm),
      miscselect: info.miscselect,
      miscmask: info.miscmask,
    });
    expect(Buffer.from(rebuilt).equals(Buffer.from(golden))).toBe(true);
  });

  it("the Linux selftest key's MRSIGNER", () => {
    const key = keyFromPem(readFileSync(path.join(vectors, 'linux_selftest_sign_key.pem'), 'utf8'));
    const mrsigner = mrsignerOf(key);
    expect(mrsigner.startsWith('2f9f8fd4')).toBe(true);
    expect(mrsigner.endsWith('e8c4')).toBe(true);
    const info = parseSigstruct(makeSigstruct({ key }));
    expect(info.ok).toBe(true);
    expect(info.mrsigner).toBe(mrsigner);
  });
});
