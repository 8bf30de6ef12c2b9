import { describe, expect, it } from 'vitest';
import { syntacticDuplicates } from '../../src/compiler/check.js';
import { compileSource } from '../../src/compiler/compile.js';
import type { Diagnostic } from '../../src/compiler/diagnostics.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

// Rules written alike and rules that differ in one token each, mixed.
const SOURCE = `subject s = exe "/s";
subject t = exe "/t";
allow s einit signer "${A}";
allow t einit signer "${A}";
allow s einit signer "${A}";
allow s einit signer "${B}";
deny s einit signer "${A}";
allow s einit signer "${A}" where isvsvn >= 1;
allow s einit signer "${A}" where isvsvn >= 01;
allow s einit signer "${A}" where isvsvn >= 1;
allow { s } einit signer "${A}";
allow s einit via kvm signer "${A}";
allow t einit signer "${A}";
`;

function duplicateLines(hash?: (key: string) => number): number[] {
  const { program } = compileSource(SOURCE, { filename: 'dup.sgxpol' });
  const diagnostics: Diagnostic[] = [];
  const duplicates = syntacticDuplicates(program!, diagnostics, hash);
  expect(diagnostics.map((d) => d.code)).toEqual(diagnostics.map(() => 'W002'));
  expect(diagnostics.length).toBe(duplicates.size);
  return [...duplicates].map((rule) => rule.decl.span.line).sort((a, b) => a - b);
}

describe('W002 syntactic duplicates', () => {
  it('reports exactly the rules written like an earlier one', () => {
    expect(duplicateLines()).toEqual([5, 10, 13]);
  });

  it('gives the same answer when every rule hashes alike (buckets compare keys)', () => {
    expect(duplicateLines(() => 0)).toEqual([5, 10, 13]);
    expect(duplicateLines((key) => key.length % 2)).toEqual([5, 10, 13]);
    // and names the same earlier rules
    const { program } = compileSource(SOURCE, { filename: 'dup.sgxpol' });
    const diagnostics: Diagnostic[] = [];
    syntacticDuplicates(program!, diagnostics, () => 0);
    expect(diagnostics.map((d) => d.message.match(/rule (\S+),/)![1])).toEqual(['dup.sgxpol:3', 'dup.sgxpol:8', 'dup.sgxpol:4']);
  });

  it('names the earlier rule', () => {
    const result = compileSource(SOURCE, { filename: 'dup.sgxpol' });
    const w002 = result.diagnostics.filter((d) => d.code === 'W002' && d.message.includes('identical'));
    expect(w002.map((d) => [d.line, d.message])).toEqual([
      [5, 'this rule is identical to rule dup.sgxpol:3, so it never decides anything'],
      [10, 'this rule is identical to rule dup.sgxpol:8, so it never decides anything'],
      [13, 'this rule is identical to rule dup.sgxpol:4, so it never decides anything'],
    ]);
  });
});
