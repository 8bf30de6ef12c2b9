import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileSource } from '../../src/compiler/compile.js';
import { canonicalJson, digestMatches, tableDigest } from '../../src/runtime/canonical.js';
import { arbPolicy } from '../support/generators.js';

describe('SPEC 6 the digest', () => {
  it('is the SHA-256 of the canonical content for every compiled table (the compiler builds objects with sorted keys)', () => {
    fc.assert(
      fc.property(arbPolicy(), (info) => {
        const result = compileSource(info.source, { filename: 'policy.sgxpol' });
        if (!result.ok) return;
        const table = result.table as unknown as Record<string, unknown>;
        expect(tableDigest(table)).toBe(table.digest);
        // The table as written is already canonical below the top level.
        const { digest: _d, ...content } = table;
        void _d;
        for (const value of Object.values(content)) expect(JSON.stringify(value)).toBe(canonicalJson(value));
      }),
      { numRuns: 150, seed: 5 },
    );
  });

  it('still verifies after the table is re-serialized with other key orders', () => {
    const result = compileSource('subject s = uid 1;\nallow s einit * where isvsvn >= 2 because "x";\n');
    const reversed = JSON.parse(JSON.stringify(result.table), (_key, value) =>
      value && typeof value === 'object' && !Array.isArray(value) ? Object.fromEntries(Object.entries(value).reverse()) : value,
    );
    expect(Object.keys(reversed.default)[0]).toBe('effect');
    expect(digestMatches(reversed)).toBe(true);
    reversed.rules[0][5] = 'y';
    expect(digestMatches(reversed)).toBe(false);
  });
});
