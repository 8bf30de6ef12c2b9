// Runs the CLI in-process with captured streams, in a scratch folder.
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { run } from '../../src/cli/run.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function sgxpol(args: string[], options: { cwd: string; stdin?: string }): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    stdin: Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]),
    cwd: options.cwd,
  });
  return { code, stdout, stderr };
}

/** A fresh folder holding `files` (path → text or bytes). */
export function scratch(files: Record<string, string | Uint8Array> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'sgxpol-cli-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

export const INTEL_LE_SIGNER = 'acb77012053e05a63d413b8bbae8fb6c5d73b3f2996d91c43bbbf90959c0f8d4';
export const OTHER_SIGNER = 'fb4bab3d6036ac1d730fa83d7366df1dd2dfeac194ef335d6854d8a6c6475542';
export const SOME_MRENCLAVE = '7881af9f9def547da9908c008f29cde9bd78064e36ac7e14c83c294ca4806150';

/** A small valid policy: line numbers below are part of the tests. */
export const HOST_POLICY = `policy "cli-test" version 1;
signer intel = "${INTEL_LE_SIGNER}";
subject aesmd = exe "/usr/bin/aesm_service" and uid 0..999;
allow audit aesmd einit signer intel because "Intel architectural enclave";
deny * einit via kvm * where debug because "no debug enclaves in guests";
allow * einit via kvm signer intel where isvsvn >= 2;
`;
// Rule ids: host.sgxpol:4 (allow audit), host.sgxpol:5 (deny via kvm debug), host.sgxpol:6
// (allow via kvm; it decides for subjects other than aesmd, so no lint calls it shadowed).

export function request(overrides: { exe?: string; uid?: number; via?: string; mrsigner?: string; attributes?: string[]; holds?: string[] } = {}): Record<string, unknown> {
  return {
    subject: { exe: overrides.exe ?? '/usr/bin/aesm_service', uid: overrides.uid ?? 120, gid: 120, holds: overrides.holds ?? [] },
    action: 'einit',
    via: overrides.via ?? 'host',
    enclave: {
      mrenclave: SOME_MRENCLAVE,
      mrsigner: overrides.mrsigner ?? INTEL_LE_SIGNER,
      isvprodid: 32,
      isvsvn: 7,
      attributes: overrides.attributes ?? ['mode64bit'],
    },
  };
}
