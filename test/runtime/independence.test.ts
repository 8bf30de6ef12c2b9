import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const runtimeDir = fileURLToPath(new URL('../../src/runtime/', import.meta.url));

describe('SPEC 7 sgxpol/runtime stands alone', () => {
  it('imports nothing from the compiler, chevrotain or prettier, and never turns data into code', () => {
    for (const name of readdirSync(runtimeDir).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(join(runtimeDir, name), 'utf8');
      const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1]);
      for (const specifier of specifiers) {
        expect(specifier, `${name} imports ${specifier}`).not.toMatch(/compiler|chevrotain|prettier|vscode|viz-js/);
        expect(specifier.startsWith('.') ? specifier.startsWith('./') : true, `${name} reaches outside src/runtime: ${specifier}`).toBe(true);
      }
      expect(text, name).not.toMatch(/new Function|\beval\(|import\(/);
    }
  });
});
