// The built executable, end to end (only when `npm run build` has produced it).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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
});
