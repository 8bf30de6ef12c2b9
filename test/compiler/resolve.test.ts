import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileFile, compileSource } from '../../src/compiler/compile.js';
import type { Diagnostic } from '../../src/compiler/diagnostics.js';
import { resolveProgram } from '../../src/compiler/resolve.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sgxpol-resolve-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const errors = (ds: Diagnostic[]) => ds.filter((d) => d.severity === 'error');
const codes = (ds: Diagnostic[]) => errors(ds).map((d) => d.code);

describe('SPEC 3.3 imports', () => {
  it('loads each file once, at its first import, and orders rules by expansion', () => {
    const dir = tree({
      'main.sgxpol': `import "common/a.sgxpol";\nallow * einit *;\nimport "common/b.sgxpol";\n`,
      'common/a.sgxpol': `import "b.sgxpol";\ndeny * einit signer "${A}";\n`,
      'common/b.sgxpol': `deny * einit signer "${B}";\n`,
    });
    const result = compileFile(path.join(dir, 'main.sgxpol'));
    expect(errors(result.diagnostics)).toEqual([]);
    expect(result.program!.rules.map((r) => r.id)).toEqual(['common/b.sgxpol:1', 'common/a.sgxpol:2', 'main.sgxpol:2']);
    expect(result.program!.files.map((f) => f.file)).toEqual(['main.sgxpol', 'common/a.sgxpol', 'common/b.sgxpol']);
  });

  it('reports a cycle and lists it', () => {
    const dir = tree({
      'main.sgxpol': `import "x.sgxpol";\n`,
      'x.sgxpol': `import "y.sgxpol";\n`,
      'y.sgxpol': `import "x.sgxpol";\n`,
    });
    const result = compileFile(path.join(dir, 'main.sgxpol'));
    const cycle = result.diagnostics.find((d) => d.code === 'E302')!;
    expect(cycle.message).toContain('x.sgxpol -> y.sgxpol -> x.sgxpol');
    expect(cycle.file).toBe('y.sgxpol');
    expect(cycle.line).toBe(1);
  });

  it('reports a missing import at the import, and a non-.sgxpol import', () => {
    const dir = tree({ 'main.sgxpol': `allow * einit *;\nimport "nope.sgxpol";\nimport "x.txt";\n` });
    const result = compileFile(path.join(dir, 'main.sgxpol'));
    expect(codes(result.diagnostics)).toEqual(['E301', 'E303']);
    expect(result.diagnostics[0].line).toBe(2);
  });

  it('accepts policy and default only in the root file, once', () => {
    const dir = tree({
      'main.sgxpol': `policy "p" version 1;\ndefault deny;\ndefault allow;\nimport "lib.sgxpol";\n`,
      'lib.sgxpol': `policy "q" version 2;\ndefault deny;\n`,
    });
    const result = compileFile(path.join(dir, 'main.sgxpol'));
    expect(codes(result.diagnostics).sort()).toEqual(['E105', 'E107', 'E108']);
  });

  it('SPEC 10: imports may nest 64 deep, not deeper (E903)', () => {
    const chain = (depth: number) => {
      const files: Record<string, string> = {};
      for (let i = 0; i <= depth; i++) files[`f${i}.sgxpol`] = i < depth ? `import "f${i + 1}.sgxpol";\n` : 'allow * einit *;\n';
      return compileFile(path.join(tree(files), 'f0.sgxpol'));
    };
    const ok = chain(64); // f64 is 64 imports below the root
    expect(ok.diagnostics).toEqual([]);
    expect(ok.table!.rules).toHaveLength(1);
    const deep = chain(65);
    expect(deep.diagnostics.map((d) => [d.code, d.file, d.message])).toEqual([['E903', 'f64.sgxpol', 'imports are nested more than 64 deep']]);
  });

  it('reports an unreadable root file as a diagnostic', () => {
    const result = compileFile('/nonexistent/dir/root.sgxpol');
    expect(result.ok).toBe(false);
    expect(codes(result.diagnostics)).toEqual(['E304']);
  });
});

describe('SPEC 3.3 names', () => {
  it('allows use before definition', () => {
    const result = compileSource(`allow app einit signer vendor;\nsubject app = uid 5;\nsigner vendor = "${A}";\n`);
    expect(errors(result.diagnostics)).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it('suggests a close name for an unknown one', () => {
    const result = compileSource(`signer intel = "${A}";\nallow * einit signer intle;\n`);
    const d = errors(result.diagnostics);
    expect(d.map((x) => x.code)).toEqual(['E101']);
    expect(d[0].message).toContain('did you mean `intel`?');
    expect(d[0].line).toBe(2);
  });

  it('names both places of a duplicate definition', () => {
    const result = compileSource(`signer x = "${A}";\nsubject x = uid 1;\n`);
    const d = errors(result.diagnostics)[0];
    expect(d.code).toBe('E102');
    expect(d.line).toBe(2);
    expect(d.related?.[0].line).toBe(1);
  });

  it('rejects a name of the wrong kind', () => {
    const result = compileSource(`signer acme = "${A}";\nallow acme einit *;\nenclave e = acme;\n`);
    expect(codes(result.diagnostics)).toEqual(['E103', 'E103']);
  });

  it('rejects recursive definitions', () => {
    expect(codes(compileSource('subject a = b;\nsubject b = a;\n').diagnostics)).toContain('E104');
    expect(codes(compileSource('signer s = s;\n').diagnostics)).toEqual(['E104']);
  });

  it('expands nested sets', () => {
    const result = compileSource(`signer all = one, "${B}";\nsigner one = "${A.toUpperCase()}";\nallow * einit signer all;\n`);
    expect(result.program!.signers.get('all')!.values).toEqual([A, B]);
  });

  it("binds each rule's named objects to their sets, in the order of its objects", () => {
    const C = 'c'.repeat(64);
    const result = compileSource(
      `signer all = one, "${B}";\nsigner one = "${A}";\nenclave e = "${C}";\nallow * einit { signer all, enclave "${C}", enclave e, signer all };\nallow * einit *;\n`,
    );
    const program = result.program!;
    const [listed, any] = program.rules;
    expect(listed.objectSets).toHaveLength(4);
    expect(listed.objectSets[0]).toBe(program.signers.get('all'));
    expect(listed.objectSets[1]).toBeUndefined();
    expect(listed.objectSets[2]).toBe(program.enclaves.get('e'));
    expect(listed.objectSets[3]).toBe(listed.objectSets[0]);
    expect(any.objectSets).toEqual([]);
  });

  it('leaves an unknown name or a name of the wrong kind unbound; binds a name defined twice to its first definition', () => {
    const { program } = resolveProgram({
      path: path.join(tmpdir(), 'x.sgxpol'),
      text: `signer s = "${A}";\nsigner s = "${B}";\nsigner r = q;\nsigner q = r, "${B}";\nallow * einit { signer nope, enclave s, signer s, signer r };\n`,
    });
    const sets = program!.rules[0].objectSets;
    expect(sets.slice(0, 2)).toEqual([undefined, undefined]);
    expect(sets[2]).toBe(program!.signers.get('s'));
    expect(sets[2]!.values).toEqual([A]);
    expect(sets[3]).toBe(program!.signers.get('r'));
  });
});

describe('names defined through names: at most 256 deep (E906), never a stack overflow', () => {
  const classChain = (n: number, reversed = false) => {
    const lines = Array.from({ length: n }, (_, i) => (i === 0 ? 'subject c0 = uid 1;' : `subject c${i} = c${i - 1} or uid ${i};`));
    if (reversed) lines.reverse();
    return `${lines.join('\n')}\nallow c${n - 1} einit *;\n`;
  };
  const setChain = (n: number, reversed = false) => {
    const lines = Array.from({ length: n }, (_, i) => (i === 0 ? `signer s0 = "${A}";` : `signer s${i} = s${i - 1};`));
    if (reversed) lines.reverse();
    return `${lines.join('\n')}\nallow * einit signer s${n - 1};\n`;
  };

  it('a chain of 256 subject classes compiles, and decides through all of them', () => {
    const result = compileSource(classChain(256));
    expect(result.diagnostics).toEqual([]);
    expect(result.table!.classes).toHaveLength(256);
  });

  it('a longer chain is one E906, at the first class past the limit, in either order', () => {
    for (const [n, reversed] of [[257, false], [5000, false], [5000, true]] as const) {
      const result = compileSource(classChain(n, reversed), { filename: 'p.sgxpol' });
      expect(result.ok).toBe(false);
      expect(result.diagnostics.map((d) => [d.code, d.line, d.message])).toEqual([
        ['E906', reversed ? n - 256 : 257, 'subject class `c256` is defined through more than 256 levels of names; define it more directly'],
      ]);
    }
  });

  it('the same for signer sets', () => {
    expect(compileSource(setChain(256, true)).diagnostics).toEqual([]);
    const result = compileSource(setChain(5000, true));
    expect(result.diagnostics.map((d) => [d.code, d.message])).toEqual([
      ['E906', 'signer set `s256` is defined through more than 256 levels of names; define it more directly'],
    ]);
  });

  it('nesting through names is bounded too: 2,048 levels written out (E906 past them)', () => {
    // c_i = uid 3 or (uid 3 or (… c_{i-1})): each class nests `depth` levels around the previous.
    const nested = (classes: number, depth: number) => {
      const lines = ['subject c0 = uid 5;'];
      for (let i = 1; i < classes; i++) lines.push(`subject c${i} = ${'uid 3 or ('.repeat(depth - 1)}c${i - 1}${')'.repeat(depth - 1)};`);
      lines.push(`allow c${classes - 1} einit *;`, 'neverallow * einit * where debug;');
      return `${lines.join('\n')}\n`;
    };
    // 8 classes nesting 255 each: 7 × 255 + 1 = 1,786 levels, compiled, analysed and decided.
    const ok = compileSource(nested(8, 256), { filename: 'p.sgxpol' });
    expect(ok.diagnostics.map((d) => d.code)).toEqual(['E401']); // the neverallow's analysis ran through them
    const witness = ok.diagnostics[0].witness as { subject: { uid: number } };
    expect(witness.subject.uid).toBe(3);
    // The edge: 24 classes nesting 90 each are 23 × 89 + 1 = 2,048 levels; 33 nesting 65 are 2,049.
    expect(compileSource(nested(24, 90)).diagnostics.map((d) => d.code)).toEqual(['E401']);
    expect(compileSource(nested(33, 65), { filename: 'p.sgxpol' }).diagnostics.map((d) => [d.code, d.line])).toEqual([['E906', 33]]);
    // 9 classes: 8 × 255 + 1 = 2,041 levels still; 10: 2,296, one error at c9.
    expect(compileSource(nested(9, 256)).diagnostics.map((d) => d.code)).toEqual(['E401']);
    expect(compileSource(nested(10, 256), { filename: 'p.sgxpol' }).diagnostics.map((d) => [d.code, d.line, d.message])).toEqual([
      ['E906', 10, 'subject class `c9` is defined through names whose expressions nest more than 2048 levels deep written out; define it more directly'],
    ]);
  });

  it('a name used many times at depth is counted once (diamonds are not chains)', () => {
    const lines = ['subject d0 = uid 0;'];
    for (let i = 1; i <= 200; i++) lines.push(`subject d${i} = d${i - 1} or d${i - 1} and uid ${i};`);
    lines.push('allow d200 einit *;');
    expect(compileSource(lines.join('\n')).diagnostics).toEqual([]);
  });
});

describe('SPEC 4 rule identity', () => {
  it('uses the base name of the root and the line of the first token', () => {
    const result = compileSource(`\n\n  allow *\n einit *;`, { filename: '/some/where/host.sgxpol' });
    expect(result.program!.rules[0].id).toBe('host.sgxpol:3');
  });
});

describe('SPEC 3.5 warnings', () => {
  const warnings = (text: string) => compileSource(text).diagnostics.filter((d) => d.severity === 'warning').map((d) => d.code);
  it('warns on default allow', () => expect(warnings('default allow;')).toEqual(['W003']));
  it('warns on a rule that can never match', () => {
    expect(warnings('allow * einit * where debug and not debug;')).toEqual(['W001']);
    expect(warnings('allow * einit * where isvsvn < 0;')).toEqual(['W001']);
    expect(warnings(`allow * einit signer "${A}" where signer "${B}";`)).toEqual(['W001']);
    expect(warnings('allow * einit * where isvsvn < 1 and isvsvn in 1..5;')).toEqual(['W001']);
    expect(warnings('allow * einit * where isvsvn <= 1 and isvsvn in 1..5;')).toEqual([]);
  });
  it('warns on a duplicate rule', () => expect(warnings('allow * einit *;\nallow *  einit * ;')).toEqual(['W002']));
  it('warns when only holding /dev/kvm admits guests', () => {
    expect(warnings('subject k = holds "/dev/kvm";\nallow k einit via kvm *;')).toEqual(['W004']);
    expect(warnings('subject k = holds "/dev/kvm";\nallow k einit *;')).toEqual(['W004']);
    expect(warnings('subject k = holds "/dev/kvm";\nallow k einit via host *;')).toEqual([]);
    expect(warnings('subject k = holds "/dev/kvm" and exe "/usr/bin/qemu";\nallow k einit via kvm *;')).toEqual([]);
  });
  it('checks neverallow instead of warning about it', () => {
    expect(warnings('neverallow * einit * where provisionkey;')).toEqual([]);
    expect(compileSource('allow * einit *;\nneverallow * einit * where provisionkey;').diagnostics.map((d) => d.code)).toEqual(['E401']);
  });
});

describe('SPEC 6 determinism', () => {
  it('gives byte-identical tables for the same sources', () => {
    const text = `subject s = exe "/usr/bin/*" or uid 0..10;\nsigner v = "${B}", "${A}";\nallow s einit signer v where isvsvn >= 2;\ndeny * einit enclave "${A}";\n`;
    expect(JSON.stringify(compileSource(text).table)).toBe(JSON.stringify(compileSource(text).table));
  });
});
