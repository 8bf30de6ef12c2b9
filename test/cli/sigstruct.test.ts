// SPEC 8 `sgxpol sigstruct FILE [--json]` and SPEC 9: exit 0 valid, 1 otherwise.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { scratch, sgxpol } from './harness.js';
import { makeSigstruct as sign, mrsignerOf, testKey } from '../../src/testing/sigstruct-signer.js';

/** A SIGSTRUCT signed with the test key (src/testing's signer, node:crypto). */
function makeSigstruct(): { bytes: Buffer; mrsigner: string } {
  const bytes = sign({ vendor: 0x8086, date: '2024-08-11', attributesFlags: 0x24n, xfrm: 0x3n, mrenclave: 'ab'.repeat(32), isvprodid: 32, isvsvn: 7 });
  return { bytes: Buffer.from(bytes), mrsigner: mrsignerOf(testKey()) };
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
