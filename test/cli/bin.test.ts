// The built executable, end to end (only when `npm run build` has produced it).
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = root + 'dist/cli/main.js';

describe('dist/cli/main.js', () => {
  it.skipIf(!existsSync(bin))('prints help and exits 0', () => {
    const r = spawnSync(process.execPath, [bin, '--help'], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('usage: sgxpol COMMAND');
  });
  it.skipIf(!existsSync(bin))('is executable, so `npx sgxpol` works from the repository root', () => {
    expect(statSync(bin).mode & 0o111).not.toBe(0);
    const r = spawnSync('npx', ['--no-install', 'sgxpol', '--help'], { cwd: root, encoding: 'utf8' });
    expect(r.stderr).not.toContain('Permission denied');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('usage: sgxpol COMMAND');
  });
});
