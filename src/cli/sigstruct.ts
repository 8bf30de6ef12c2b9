// `sgxpol sigstruct FILE [--json]`: the identity fields of a SIGSTRUCT (SPEC 9), its derived
// MRSIGNER, and whether its signature verifies.
import { parseSigstruct, type SigstructInfo } from '../runtime/sigstruct.js';
import { ATTRIBUTE_BITS } from '../runtime/types.js';
import type { CommandSpec } from './args.js';
import { readUserFile } from './io.js';

export const sigstructCommand: CommandSpec = {
  name: 'sigstruct',
  summary: "Show a SIGSTRUCT's identity; verify its signature.",
  usage: ['sigstruct FILE [--json]'],
  help: `FILE holds the 1808 raw bytes of a SIGSTRUCT (for example a *.sig from an SGX SDK
build, or Intel's le_prod_css.bin). Printed: vendor, date, MRENCLAVE (ENCLAVEHASH), the
derived MRSIGNER (SHA-256 of MODULUS as stored), ISVPRODID, ISVSVN, ATTRIBUTES, and whether
the RSA-3072 signature verifies. The values printed are the ones a request's "enclave"
takes (mrenclave, mrsigner, isvprodid, isvsvn, attributes).

options:
  --json      print every parsed field as one JSON object
  -h, --help  show this help

exit status: 0 a well-formed SIGSTRUCT whose signature verifies, 1 otherwise`,
  options: { json: { type: 'boolean' } },
  positionals: [1, 1],
  async run(args, io) {
    const file = args.positionals[0];
    const bytes = await readUserFile(io, file, 'SIGSTRUCT file');
    const info = parseSigstruct(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    const valid = info.ok && info.signatureValid;
    if (args.values.json === true) io.stdout.write(JSON.stringify({ file, size: bytes.length, valid, ...info }, null, 2) + '\n');
    else io.stdout.write(describeSigstruct(file, bytes.length, info));
    return valid ? 0 : 1;
  },
};

function describeSigstruct(file: string, size: number, info: SigstructInfo): string {
  // A file of the wrong size is not read field by field: show only why.
  if (info.mrenclave === '') {
    return `file:       ${file} (${size} bytes)\nsignature:  not checked\n` + info.problems.map((p) => `problem:    ${p}\n`).join('');
  }
  const rows: [string, string][] = [
    ['file', `${file} (${size} bytes)`],
    ['vendor', info.vendor === 0x8086 ? '0x8086 (Intel)' : `0x${info.vendor.toString(16)}`],
    ['date', info.date],
    ['mrenclave', info.mrenclave],
    ['mrsigner', `${info.mrsigner} (SHA-256 of MODULUS)`],
    ['isvprodid', String(info.isvprodid)],
    ['isvsvn', String(info.isvsvn)],
    ['attributes', `0x${trimHex(info.attributes.flags)}${attributeNames(info.attributes.flags)}, xfrm 0x${trimHex(info.attributes.xfrm)}`],
    ['miscselect', `0x${info.miscselect.toString(16)}`],
    ['exponent', String(info.exponent)],
    ['signature', info.signatureValid ? 'valid' : 'INVALID'],
  ];
  let out = rows.map(([k, v]) => `${(k + ':').padEnd(12)}${v}\n`).join('');
  for (const problem of info.problems) out += `problem:    ${problem}\n`;
  return out;
}

function trimHex(hex: string): string {
  return hex.replace(/^0+(?=.)/, '');
}

/** ` (mode64bit, einittokenkey)` for the named bits of the flags; '' when none is set. */
function attributeNames(flagsHex: string): string {
  let flags: bigint;
  try {
    flags = BigInt('0x' + (flagsHex || '0'));
  } catch {
    return '';
  }
  const names = Object.entries(ATTRIBUTE_BITS)
    .filter(([, bit]) => (flags >> BigInt(bit)) & 1n)
    .map(([name]) => name);
  return names.length > 0 ? ` (${names.join(', ')})` : '';
}
