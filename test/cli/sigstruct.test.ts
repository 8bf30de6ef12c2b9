// SPEC 8 `sgxpol sigstruct FILE [--json]` and SPEC 9: exit 0 valid, 1 otherwise.
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { scratch, sgxpol } from './harness.js';

/** A SIGSTRUCT signed here with a fresh RSA-3072 e=3 key (SPEC 9 layout). */
function makeSigstruct(): { bytes: Buffer; mrsigner: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 3072, publicExponent: 3 });
  const n = Buffer.from(publicKey.export({ format: 'jwk' }).n as string, 'base64url');
  const s = Buffer.alloc(1808);
  Buffer.from('06000000E10000000000010000000000', 'hex').copy(s, 0);
  s.writeUInt32LE(0x8086, 16);
  s.writeUInt32LE(0x20240811, 20);
  Buffer.from('01010000600000006000000001000000', 'hex').copy(s, 24);
  const modulus = Buffer.from(n).reverse();
  modulus.copy(s, 128);
  s.writeUInt32LE(3, 512);
  s.writeBigUInt64LE(0x24n, 928); // mode64bit, einittokenkey
  s.writeBigUInt64LE(0x3n, 936);
  Buffer.alloc(32, 0xab).copy(s, 960);
  s.writeUInt16LE(32, 1024);
  s.writeUInt16LE(7, 1026);
  const signature = sign('sha256', Buffer.concat([s.subarray(0, 128), s.subarray(900, 1028)]), privateKey);
  Buffer.from(signature).reverse().copy(s, 516);
  return { bytes: s, mrsigner: createHash('sha256').update(modulus).digest('hex') };
}

let cwd: string;
let mrsigner: string;

beforeAll(() => {
  const made = makeSigstruct();
  mrsigner = made.mrsigner;
  const tampered = Buffer.from(made.bytes);
  tampered[1026] ^= 1; // ISVSVN is signed
  cwd = scratch({
    'good.sig': made.bytes,
    'tampered.sig': tampered,
    'short.sig': made.bytes.subarray(0, 1000),
    'padded.sig': Buffer.concat([made.bytes, Buffer.alloc(16)]),
  });
});

describe('sigstruct', () => {
  it('prints the identity fields, the derived MRSIGNER and "valid"; exit 0', async () => {
    const r = await sgxpol(['sigstruct', 'good.sig'], { cwd });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`mrsigner:   ${mrsigner}`);
    expect(r.stdout).toContain(`mrenclave:  ${'ab'.repeat(32)}`);
    expect(r.stdout).toContain('isvprodid:  32\n');
    expect(r.stdout).toContain('isvsvn:     7\n');
    expect(r.stdout).toContain('attributes: 0x24 (mode64bit, einittokenkey), xfrm 0x3\n');
    expect(r.stdout).toContain('vendor:     0x8086 (Intel)\n');
    expect(r.stdout).toContain('signature:  valid\n');
  });

  it('--json prints the parsed fields', async () => {
    const r = await sgxpol(['sigstruct', 'good.sig', '--json'], { cwd });
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info).toMatchObject({ valid: true, signatureValid: true, mrsigner, isvprodid: 32, isvsvn: 7, vendor: 0x8086, size: 1808 });
  });

  it('a tampered, truncated or padded SIGSTRUCT is not valid; exit 1', async () => {
    for (const file of ['tampered.sig', 'short.sig', 'padded.sig']) {
      const r = await sgxpol(['sigstruct', file], { cwd });
      expect(r.code, file).toBe(1);
      expect(r.stdout, file).toMatch(/signature: +INVALID|problem: /);
      const json = JSON.parse((await sgxpol(['sigstruct', file, '--json'], { cwd })).stdout);
      expect(json.valid, file).toBe(false);
    }
  });

  it('a missing file is one line, exit 1', async () => {
    const r = await sgxpol(['sigstruct', 'nope.sig'], { cwd });
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: 'sgxpol: cannot read SIGSTRUCT file nope.sig: no such file or directory\n' });
  });

  const vectors = fileURLToPath(new URL('../../../shared/vectors/', import.meta.url));
  it.skipIf(!existsSync(vectors + 'intel_le_prod.sig'))("reads Intel's production Launch Enclave", async () => {
    const r = await sgxpol(['sigstruct', vectors + 'intel_le_prod.sig', '--json'], { cwd });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      valid: true,
      mrsigner: 'acb77012053e05a63d413b8bbae8fb6c5d73b3f2996d91c43bbbf90959c0f8d4',
      mrenclave: '7881af9f9def547da9908c008f29cde9bd78064e36ac7e14c83c294ca4806150',
      isvprodid: 32,
      isvsvn: 7,
    });
  });
});
