// The shipped examples stay true: every examples/**/*.cases.json passes `sgxpol test`, and
// every example root policy passes `sgxpol check` without errors.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { sgxpol } from './cli/harness.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const examples = join(root, 'examples');

function caseFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return caseFiles(path);
    return entry.name.endsWith('.cases.json') ? [relative(root, path)] : [];
  });
}

const files = caseFiles(examples).sort();

describe('examples', () => {
  it('has the three documented examples, each with 10-20 cases', () => {
    expect(files).toEqual(['examples/fleet/fleet.cases.json', 'examples/virt-host/host.cases.json', 'examples/workstation/workstation.cases.json']);
    for (const file of files) {
      const count = (JSON.parse(readFileSync(join(root, file), 'utf8')) as { cases: unknown[] }).cases.length;
      expect(count, file).toBeGreaterThanOrEqual(10);
      expect(count, file).toBeLessThanOrEqual(20);
    }
  });

  for (const file of files) {
    const policy = relative(root, resolve(root, dirname(file), (JSON.parse(readFileSync(join(root, file), 'utf8')) as { policy: string }).policy));

    it(`sgxpol check ${policy} has no errors`, async () => {
      const r = await sgxpol(['check', policy, '--json'], { cwd: root });
      const out = JSON.parse(r.stdout) as { ok: boolean; diagnostics: { severity: string }[] };
      expect(out.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      expect(r.code).toBe(0);
    });

    it(`sgxpol test ${file} passes`, async () => {
      const r = await sgxpol(['test', file], { cwd: root });
      expect(r.stdout).toMatch(/^\d+ passed, 0 failed\n$/);
      expect(r.code).toBe(0);
    });
  }
});
