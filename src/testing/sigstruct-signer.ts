// Builds and signs SIGSTRUCTs for tests, with node:crypto (RSA-3072, exponent 3), the way an
// enclave signing tool does. Nothing here is read from ../shared: fixtures are generated.
import { createHash, createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import {
  computeQuotients,
  SIGSTRUCT_HEADER,
  SIGSTRUCT_HEADER2,
  SIGSTRUCT_SIZE,
  SigstructLayout as L,
  signedBytes,
} from '../runtime/sigstruct.js';

export interface SigstructOptions {
  /** RSA-3072 private key with exponent 3; default: one key generated per test process. */
  key?: KeyObject;
  /** ENCLAVEHASH, 64 hex digits; default: SHA-256 of "sgxpol test enclave". */
  mrenclave?: string;
  isvprodid?: number;
  isvsvn?: number;
  /** ATTRIBUTES flags; default 0x4 (MODE64BIT). */
  attributesFlags?: bigint;
  /** ATTRIBUTES XFRM; default 0x3. */
  xfrm?: bigint;
  /** ATTRIBUTEMASK flags and XFRM; default the SGX SDK signer's 0xfffffffffffffffd / 0xffffffffffffff1b. */
  attributeMaskFlags?: bigint;
  attributeMaskXfrm?: bigint;
  /** VENDOR; default 0. */
  vendor?: number;
  /** DATE as `YYYY-MM-DD` (stored as BCD 0xYYYYMMDD); default 2024-01-01. */
  date?: string;
  swdefined?: number;
  miscselect?: number;
  /** MISCMASK; default 0xffffffff. */
  miscmask?: number;
  /** 32 hex digits each; default zero. */
  isvfamilyid?: string;
  isvextprodid?: string;
}

let cachedKey: KeyObject | undefined;

/**
 * The test process's RSA-3072 e=3 key (generation takes a while, so it happens once). It is
 * generated as DER bytes and read back into a key of its own: Node 20 can deadlock when a garbage
 * collection during `export({ format: 'jwk' })` of a key straight from `generateKeyPairSync`
 * destroys the finished generation job, which locks the key that is being exported (seen once in
 * `npm run bench`: the main thread waiting on a mutex in ~KeyGenJob under ExportJWKRsaKey).
 */
export function testKey(): KeyObject {
  cachedKey ??= createPrivateKey({
    key: generateKeyPairSync('rsa', { modulusLength: 3072, publicExponent: 3, privateKeyEncoding: { type: 'pkcs8', format: 'der' }, publicKeyEncoding: { type: 'spki', format: 'der' } }).privateKey,
    format: 'der',
    type: 'pkcs8',
  });
  return cachedKey;
}

export function keyFromPem(pem: string): KeyObject {
  return createPrivateKey(pem);
}

/** The 384 MODULUS bytes as a SIGSTRUCT stores them (little-endian). */
export function storedModulus(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  const bigEndian = Buffer.from(jwk.n as string, 'base64url');
  if (bigEndian.length > 384) throw new Error('the key is not RSA-3072');
  const padded = Buffer.alloc(384);
  bigEndian.copy(padded, 384 - bigEndian.length);
  return padded.reverse();
}

/** MRSIGNER of a key: SHA-256 of its stored modulus. */
export function mrsignerOf(key: KeyObject): string {
  return createHash('sha256').update(storedModulus(key)).digest('hex');
}

function exponentOf(key: KeyObject): number {
  const jwk = key.export({ format: 'jwk' });
  return Number.parseInt(Buffer.from(jwk.e as string, 'base64url').toString('hex'), 16);
}

export const DEFAULT_MRENCLAVE = createHash('sha256').update('sgxpol test enclave').digest('hex');

function writeHex(out: Buffer, offset: number, size: number, hex: string): void {
  const bytes = Buffer.from(hex, 'hex');
  if (bytes.length !== size) throw new Error(`expected ${size} bytes of hex, got ${hex}`);
  bytes.copy(out, offset);
}

function bcdDate(date: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (match === null) throw new Error(`date must be YYYY-MM-DD, got ${date}`);
  return Number.parseInt(match[1] + match[2] + match[3], 16);
}

function littleEndian384(value: bigint): Buffer {
  const hex = value.toString(16).padStart(768, '0');
  if (hex.length !== 768) throw new Error('value does not fit 384 bytes');
  return Buffer.from(hex, 'hex').reverse();
}

/**
 * A signed SIGSTRUCT. Reserved fields are zero. Q1 and Q2 are filled in as the CPU expects
 * them (Q1 = ⌊s²/n⌋, Q2 = ⌊(s³ − Q1·s·n)/n⌋), so the result is what a real signer would write.
 * RSA PKCS#1 v1.5 signing is deterministic, so the same key and fields give the same bytes.
 */
export function makeSigstruct(opts: SigstructOptions = {}): Uint8Array {
  const key = opts.key ?? testKey();
  const out = Buffer.alloc(SIGSTRUCT_SIZE);
  writeHex(out, L.header.offset, L.header.size, SIGSTRUCT_HEADER);
  out.writeUInt32LE(opts.vendor ?? 0, L.vendor.offset);
  out.writeUInt32LE(bcdDate(opts.date ?? '2024-01-01'), L.date.offset);
  writeHex(out, L.header2.offset, L.header2.size, SIGSTRUCT_HEADER2);
  out.writeUInt32LE(opts.swdefined ?? 0, L.swdefined.offset);
  storedModulus(key).copy(out, L.modulus.offset);
  out.writeUInt32LE(exponentOf(key), L.exponent.offset);
  out.writeUInt32LE(opts.miscselect ?? 0, L.miscselect.offset);
  out.writeUInt32LE(opts.miscmask ?? 0xffffffff, L.miscmask.offset);
  writeHex(out, L.isvfamilyid.offset, 16, opts.isvfamilyid ?? '0'.repeat(32));
  out.writeBigUInt64LE(opts.attributesFlags ?? 0x4n, L.attributes.offset);
  out.writeBigUInt64LE(opts.xfrm ?? 0x3n, L.attributes.offset + 8);
  out.writeBigUInt64LE(opts.attributeMaskFlags ?? 0xfffffffffffffffdn, L.attributeMask.offset);
  out.writeBigUInt64LE(opts.attributeMaskXfrm ?? 0xffffffffffffff1bn, L.attributeMask.offset + 8);
  writeHex(out, L.enclavehash.offset, 32, opts.mrenclave ?? DEFAULT_MRENCLAVE);
  writeHex(out, L.isvextprodid.offset, 16, opts.isvextprodid ?? '0'.repeat(32));
  out.writeUInt16LE(opts.isvprodid ?? 0, L.isvprodid.offset);
  out.writeUInt16LE(opts.isvsvn ?? 0, L.isvsvn.offset);

  const signatureBigEndian = sign('sha256', signedBytes(out), key);
  Buffer.from(signatureBigEndian).reverse().copy(out, L.signature.offset);

  const modulus = BigInt('0x' + Buffer.from(storedModulus(key)).reverse().toString('hex'));
  const signature = BigInt('0x' + signatureBigEndian.toString('hex'));
  const { q1, q2 } = computeQuotients(modulus, signature);
  littleEndian384(q1).copy(out, L.q1.offset);
  littleEndian384(q2).copy(out, L.q2.offset);
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64');
}
