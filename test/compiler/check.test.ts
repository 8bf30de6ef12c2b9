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

  it('hashes a key piece by piece exactly as the whole key, for every kind of condition', () => {
    // Each rule twice (the copy spaced differently), beside a near miss; the default path feeds
    // the hash the key's pieces, and misses a duplicate if that ever hashes differently from the
    // built key, which the FNV-1a-over-the-key path below hashes.
    const rules = [
      `allow audit s einit via kvm { signer "${A}", enclave "${B}" } where isvsvn in 1..4 or not debug;`,
      `deny { s, t } einit signer "${A}" where (isvprodid != 3 and provisionkey) or signer "${B}";`,
      `allow s einit * where exe "/opt/é/*" and uid 5..9 and subject t because "why \\"so\\"";`,
      `allow t einit enclave "${B}" where holds "/dev/kvm" or label "l:*" or gid 7 or true or false;`,
      `allow * einit via host signer "${A}" where enclave "${B}" and isvsvn > 2;`,
    ];
    const near = ['allow audit s einit via kvm { signer "' + A + '", enclave "' + B + '" } where isvsvn in 1..5 or not debug;'];
    const source = 'subject s = exe "/s";\nsubject t = exe "/t";\n' + [...rules, ...near, ...rules.map((r) => r.replace(' einit ', '   einit  ').replace(/;$/, ' ;'))].join('\n') + '\n';
    const fnv = (key: string) => {
      let h = 0x811c9dc5 | 0;
      for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
      return h;
    };
    const lines = (hash?: (key: string) => number) => {
      const { program, diagnostics: compileDiagnostics } = compileSource(source, { filename: 'kinds.sgxpol' });
      expect(compileDiagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      const diagnostics: Diagnostic[] = [];
      return [...syntacticDuplicates(program!, diagnostics, hash)].map((rule) => rule.decl.span.line);
    };
    const expected = rules.map((_, i) => 3 + rules.length + near.length + i);
    expect(lines()).toEqual(expected);
    expect(lines(fnv)).toEqual(expected);
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

describe('more warnings than a call may have arguments (SPEC 10: never a crash)', () => {
  it('130,000 copies of one rule compile, with a W002 for each copy', () => {
    // The warnings were once added with push(...all), which overflows the stack past ~120,000.
    const r = compileSource('allow * einit *;\n'.repeat(130_000));
    expect(r.ok).toBe(true);
    expect(r.diagnostics.filter((d) => d.code === 'W002')).toHaveLength(129_999);
  }, 60_000);
});
