// SIGSTRUCT parsing and signature verification (SPEC 9; Intel SDM Vol. 3D, "SIGSTRUCT").
import { createHash, createPublicKey, verify } from 'node:crypto';

/** Byte layout of the 1808-byte SIGSTRUCT. Multi-byte integers are little-endian. */
export const SIGSTRUCT_SIZE = 1808;
export const SigstructLayout = {
  header: { offset: 0, size: 16 },
  vendor: { offset: 16, size: 4 },
  date: { offset: 20, size: 4 },
  header2: { offset: 24, size: 16 },
  swdefined: { offset: 40, size: 4 },
  modulus: { offset: 128, size: 384 },
  exponent: { offset: 512, size: 4 },
  signature: { offset: 516, size: 384 },
  miscselect: { offset: 900, size: 4 },
  miscmask: { offset: 904, size: 4 },
  isvfamilyid: { offset: 912, size: 16 },
  attributes: { offset: 928, size: 16 },
  attributeMask: { offset: 944, size: 16 },
  enclavehash: { offset: 960, size: 32 },
  isvextprodid: { offset: 1008, size: 16 },
  isvprodid: { offset: 1024, size: 2 },
  isvsvn: { offset: 1026, size: 2 },
  q1: { offset: 1040, size: 384 },
  q2: { offset: 1424, size: 384 },
} as const;

/** The signed bytes are [0, 128) followed by [900, 1028). */
export const SIGNED_RANGES = [
  [0, 128],
  [900, 1028],
] as const;

export const SIGSTRUCT_HEADER = '06000000e10000000000010000000000';
export const SIGSTRUCT_HEADER2 = '01010000600000006000000001000000';
export const SIGSTRUCT_EXPONENT = 3;
export const VENDOR_INTEL = 0x8086;

/**
 * The fields of a SIGSTRUCT. Byte strings are lower-case hex in the order stored, except
 * `modulus` and `signature`, which are the big-endian numbers (the stored bytes reversed).
 * ATTRIBUTES flags and XFRM are the 64-bit values as 16 hex digits (most significant first).
 */
export interface SigstructInfo {
  /** True when size, HEADER, VENDOR, HEADER2, EXPONENT and the signature are all right. */
  ok: boolean;
  /** One short sentence per thing that is wrong; empty when `ok`. */
  problems: string[];
  header: string;
  header2: string;
  vendor: number;
  /** `YYYY-MM-DD` read from the BCD DATE field (u32 0xYYYYMMDD); the raw hex digits when not BCD. */
  date: string;
  swdefined: number;
  /** Big-endian hex of the 3072-bit modulus. */
  modulus: string;
  exponent: number;
  /** Big-endian hex of the signature. */
  signature: string;
  miscselect: number;
  miscmask: number;
  isvfamilyid: string;
  attributes: { flags: string; xfrm: string };
  attributeMask: { flags: string; xfrm: string };
  /** ENCLAVEHASH. */
  mrenclave: string;
  isvextprodid: string;
  isvprodid: number;
  isvsvn: number;
  /** SHA-256 of the 384 MODULUS bytes as stored (little-endian). */
  mrsigner: string;
  /** The RSA PKCS#1 v1.5 SHA-256 signature verifies under the stored MODULUS and EXPONENT. */
  signatureValid: boolean;
  /**
   * Q1 and Q2 (the CPU's helpers for checking the signature) are right for this signature and
   * modulus. Informational: SPEC 9 does not require them, so they do not affect `ok`.
   */
  quotientsValid: boolean;
}

const ZERO_HEX_16 = '0000000000000000';

function emptyInfo(problem: string): SigstructInfo {
  return {
    ok: false,
    problems: [problem],
    header: '',
    header2: '',
    vendor: 0,
    date: '',
    swdefined: 0,
    modulus: '',
    exponent: 0,
    signature: '',
    miscselect: 0,
    miscmask: 0,
    isvfamilyid: '',
    attributes: { flags: ZERO_HEX_16, xfrm: ZERO_HEX_16 },
    attributeMask: { flags: ZERO_HEX_16, xfrm: ZERO_HEX_16 },
    mrenclave: '',
    isvextprodid: '',
    isvprodid: 0,
    isvsvn: 0,
    mrsigner: '',
    signatureValid: false,
    quotientsValid: false,
  };
}

function hexOf(bytes: Uint8Array, offset: number, size: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + offset, size).toString('hex');
}

/** Hex of a little-endian field read as a big-endian number (bytes reversed). */
function hexReversed(bytes: Uint8Array, offset: number, size: number): string {
  const copy = Buffer.from(bytes.subarray(offset, offset + size));
  return copy.reverse().toString('hex');
}

function u16(bytes: Uint8Array, offset: number): number {
  return bytes[offset] | (bytes[offset + 1] << 8);
}

function u32(bytes: Uint8Array, offset: number): number {
  const low = bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16);
  return (low | (bytes[offset + 3] << 24)) >>> 0;
}

function dateOf(raw: number): string {
  const digits = raw.toString(16).padStart(8, '0');
  if (!/^[0-9]{8}$/.test(digits)) return digits;
  return `${digits.slice(0, 4)}-${digits.slice(4, 6)}-${digits.slice(6, 8)}`;
}

function bigIntOfHex(hex: string): bigint {
  return hex === '' ? 0n : BigInt('0x' + hex);
}

/** Parses and checks a SIGSTRUCT. Never throws. */
export function parseSigstruct(bytes: Uint8Array | ArrayBuffer | ArrayBufferView): SigstructInfo {
  try {
    return parseChecked(asBytes(bytes));
  } catch (error) {
    // Only a bug can get here (every read below is in bounds once the size is right).
    return emptyInfo(`SIGSTRUCT could not be parsed (${messageOf(error)})`);
  }
}

/**
 * The bytes of a Uint8Array (a Buffer is one), an ArrayBuffer, or any other view (a DataView, an
 * Int8Array, …), without copying; anything else is passed on to be refused.
 */
function asBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return value as Uint8Array;
}

function parseChecked(bytes: Uint8Array): SigstructInfo {
  if (!(bytes instanceof Uint8Array)) return emptyInfo('SIGSTRUCT must be bytes (a Uint8Array, a Buffer, an ArrayBuffer or another view of one)');
  if (bytes.length !== SIGSTRUCT_SIZE) {
    return emptyInfo(`SIGSTRUCT must be ${SIGSTRUCT_SIZE} bytes (found ${bytes.length})`);
  }
  const L = SigstructLayout;
  const problems: string[] = [];

  const header = hexOf(bytes, L.header.offset, L.header.size);
  if (header !== SIGSTRUCT_HEADER) problems.push(`HEADER is wrong (found ${header})`);
  const vendor = u32(bytes, L.vendor.offset);
  if (vendor !== 0 && vendor !== VENDOR_INTEL) {
    problems.push(`VENDOR must be 0 or 0x8086 (found 0x${vendor.toString(16)})`);
  }
  const header2 = hexOf(bytes, L.header2.offset, L.header2.size);
  if (header2 !== SIGSTRUCT_HEADER2) problems.push(`HEADER2 is wrong (found ${header2})`);
  const exponent = u32(bytes, L.exponent.offset);
  if (exponent !== SIGSTRUCT_EXPONENT) problems.push(`EXPONENT must be 3 (found ${exponent})`);

  const modulusStored = bytes.subarray(L.modulus.offset, L.modulus.offset + L.modulus.size);
  const modulus = hexReversed(bytes, L.modulus.offset, L.modulus.size);
  const signature = hexReversed(bytes, L.signature.offset, L.signature.size);
  const mrsigner = createHash('sha256').update(modulusStored).digest('hex');

  const signatureValid = verifySignature(bytes, modulus, exponent, signature);
  if (!signatureValid) problems.push('the signature does not verify');

  const attributes = {
    flags: hexReversed(bytes, L.attributes.offset, 8),
    xfrm: hexReversed(bytes, L.attributes.offset + 8, 8),
  };
  const attributeMask = {
    flags: hexReversed(bytes, L.attributeMask.offset, 8),
    xfrm: hexReversed(bytes, L.attributeMask.offset + 8, 8),
  };

  return {
    ok: problems.length === 0,
    problems,
    header,
    header2,
    vendor,
    date: dateOf(u32(bytes, L.date.offset)),
    swdefined: u32(bytes, L.swdefined.offset),
    modulus,
    exponent,
    signature,
    miscselect: u32(bytes, L.miscselect.offset),
    miscmask: u32(bytes, L.miscmask.offset),
    isvfamilyid: hexOf(bytes, L.isvfamilyid.offset, L.isvfamilyid.size),
    attributes,
    attributeMask,
    mrenclave: hexOf(bytes, L.enclavehash.offset, L.enclavehash.size),
    isvextprodid: hexOf(bytes, L.isvextprodid.offset, L.isvextprodid.size),
    isvprodid: u16(bytes, L.isvprodid.offset),
    isvsvn: u16(bytes, L.isvsvn.offset),
    mrsigner,
    signatureValid,
    quotientsValid: quotientsValid(bytes, modulus, signature),
  };
}

/** The bytes the signature covers: [0, 128) then [900, 1028). */
export function signedBytes(bytes: Uint8Array): Buffer {
  return Buffer.concat(SIGNED_RANGES.map(([from, to]) => bytes.subarray(from, to)));
}

function base64url(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64url');
}

function verifySignature(
  bytes: Uint8Array,
  modulusHex: string,
  exponent: number,
  signatureHex: string,
): boolean {
  if (exponent < 3 || exponent % 2 === 0) return false;
  // A real RSA-3072 modulus has its top bit set; anything else cannot be this signature scheme.
  if ((Number.parseInt(modulusHex.slice(0, 1), 16) & 8) === 0) return false;
  let exponentHex = exponent.toString(16);
  if (exponentHex.length % 2 === 1) exponentHex = '0' + exponentHex;
  try {
    const key = createPublicKey({
      key: { kty: 'RSA', n: base64url(modulusHex), e: base64url(exponentHex) },
      format: 'jwk',
    });
    // OpenSSL's RSA PKCS#1 v1.5 verify decodes s^e mod n and compares it with the one exact
    // encoding of the SHA-256 DigestInfo, and rejects a signature that is not below n.
    return verify('sha256', signedBytes(bytes), key, Buffer.from(signatureHex, 'hex'));
  } catch {
    return false;
  }
}

/** Q1 = floor(s² / n), Q2 = floor((s³ − Q1·s·n) / n), both stored little-endian in 384 bytes. */
export function computeQuotients(modulus: bigint, signature: bigint): { q1: bigint; q2: bigint } {
  if (modulus === 0n) return { q1: 0n, q2: 0n };
  const q1 = (signature * signature) / modulus;
  const q2 = (signature * signature * signature - q1 * signature * modulus) / modulus;
  return { q1, q2 };
}

function quotientsValid(bytes: Uint8Array, modulusHex: string, signatureHex: string): boolean {
  const { q1, q2 } = computeQuotients(bigIntOfHex(modulusHex), bigIntOfHex(signatureHex));
  const L = SigstructLayout;
  return (
    q1 === bigIntOfHex(hexReversed(bytes, L.q1.offset, L.q1.size)) &&
    q2 === bigIntOfHex(hexReversed(bytes, L.q2.offset, L.q2.size))
  );
}

function messageOf(error: unknown): string {
  try {
    return error instanceof Error ? error.message : String(error);
  } catch {
    return 'unknown error';
  }
}
