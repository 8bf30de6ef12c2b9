// The Prettier plugin (issue 5): canonical layout, comments kept in order, idempotence, and
// formatting never changes what a policy decides.
import fc from 'fast-check';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { compileFile } from '../../src/compiler/compile.js';
import { formatSource, SgxpolSyntaxError } from '../../src/format/format.js';
import { formattingProblem } from '../../src/format/verify.js';
import { arbPolicy, arbRequests, writePolicyFiles, type PolicyInfo } from '../support/generators.js';
import { commentsOf, compileText, evaluatorOf, format, makeMessy } from './support.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const SEED = Number(process.env.SGXPOL_FMT_SEED ?? 0x5f0_4a7);
/** Policies per property (SGXPOL_FMT_RUNS widens a run). */
const RUNS = Number(process.env.SGXPOL_FMT_RUNS ?? 40);

const M1 = 'acb77012053e05a63d413b8bbae8fb6c5d73b3f2996d91c43bbbf90959c0f8d4';
const M2 = 'ec15b10787d2f84667ceb0b598ffc44a1f1cb80f670aae5df9e8fa9f6376e1f8';

function exampleFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return exampleFiles(path);
    return entry.name.endsWith('.sgxpol') ? [path] : [];
  });
}

async function expectStable(text: string): Promise<string> {
  const once = await format(text);
  expect(await format(once), 'formatting is idempotent').toBe(once);
  expect(commentsOf(once), 'every comment, in order').toEqual(commentsOf(text));
  expect(formattingProblem(text, once)).toBeUndefined();
  return once;
}

describe('layout', () => {
  it('puts each statement on its own line and keeps at most one blank line between groups', async () => {
    const out = await expectStable(`\n\npolicy "p"   version 1 ;default deny audit;\n\n\n\nsigner a = "${M1}";signer b = a;\n`);
    expect(out).toBe(`policy "p" version 1;\ndefault deny audit;\n\nsigner a = "${M1}";\nsigner b = a;\n`);
  });

  it('aligns = across a run of declarations; a blank line or another statement ends the run', async () => {
    const out = await expectStable(
      `signer a = "${M1}";\n# about the next one\nsigner longer = a;\nsubject s = uid 1;\n\nsubject t = uid 2;\nenclave e = "${M2}";\nallow s einit *;\nsubject u = uid 3;\n`,
    );
    expect(out).toBe(
      [
        `signer a      = "${M1}";`,
        '# about the next one',
        'signer longer = a;',
        'subject s     = uid 1;',
        '',
        'subject t = uid 2;',
        `enclave e = "${M2}";`,
        'allow s einit *;',
        'subject u = uid 3;',
        '',
      ].join('\n'),
    );
  });

  it('lower-cases measurement literals and nothing else', async () => {
    const out = await expectStable(`signer a = "${M1.toUpperCase()}";\nsubject s = exe "/OPT/X" and label "A:B";\nallow s einit enclave "${M2.toUpperCase()}" because "KEEP";\n`);
    expect(out).toContain(`"${M1}"`);
    expect(out).toContain(`enclave "${M2}"`);
    expect(out).toContain('exe "/OPT/X" and label "A:B"');
    expect(out).toContain('because "KEEP"');
  });

  it('breaks a long set one item per line', async () => {
    const out = await expectStable(`signer all = "${M1}", "${M2}";\nsigner few = a, b;\n`);
    expect(out).toBe(`signer all =\n    "${M1}",\n    "${M2}";\nsigner few = a, b;\n`);
  });

  it('puts where and because on lines of their own when a rule is long, and breaks the condition at and/or', async () => {
    const out = await expectStable(
      'allow audit some_long_subject_name einit via host signer some_signer_name where isvsvn >= 10 and not debug because "why";\n' +
        'allow audit short_subject einit via host signer some_signer_name where isvsvn >= 10 and not debug because "why";\n' +
        'deny * einit * where isvprodid == 1 and isvsvn >= 100 and not debug and not provisionkey and signer some_signer_set and subject builders or kss;\n',
    );
    expect(out).toBe(
      [
        'allow audit some_long_subject_name einit via host signer some_signer_name',
        '    where isvsvn >= 10 and not debug',
        '    because "why";',
        'allow audit short_subject einit via host signer some_signer_name where isvsvn >= 10 and not debug',
        '    because "why";',
        'deny * einit *',
        '    where isvprodid == 1',
        '            and isvsvn >= 100',
        '            and not debug',
        '            and not provisionkey',
        '            and signer some_signer_set',
        '            and subject builders',
        '        or kss;',
        '',
      ].join('\n'),
    );
  });

  it('breaks a subject class at its top-level operators', async () => {
    const out = await expectStable('subject sgx_guest = qemu and label "system_u:system_r:svirt_t:*" and holds "/dev/kvm" and holds "/dev/sgx_vepc";\n');
    expect(out).toBe('subject sgx_guest = qemu\n    and label "system_u:system_r:svirt_t:*"\n    and holds "/dev/kvm"\n    and holds "/dev/sgx_vepc";\n');
  });

  it('breaks long {…} lists one item per line', async () => {
    const out = await expectStable(
      'allow {first_subject_class, second_subject_class} einit via kvm {signer first_signer_set, signer second_signer_set, enclave some_enclaves};\n',
    );
    expect(out).toBe(
      'allow { first_subject_class, second_subject_class } einit via kvm {\n    signer first_signer_set,\n    signer second_signer_set,\n    enclave some_enclaves\n};\n',
    );
  });

  it('drops redundant parentheses and keeps the ones that group', async () => {
    const out = await expectStable('subject s = ((uid 1)) or (uid 2 or uid 3) or (uid 4 and uid 5) and (uid 6 or uid 7);\nsubject t = uid 1 or (uid 2 and (uid 3));\ndeny * einit * where not (debug) and not (kss or cet) and ((true));\n');
    expect(out).toBe('subject s = uid 1 or uid 2 or uid 3 or uid 4 and uid 5 and (uid 6 or uid 7);\nsubject t = uid 1 or (uid 2 and uid 3);\ndeny * einit * where not debug and not (kss or cet) and true;\n');
  });

  it('writes ranges without spaces and keeps numbers as written', async () => {
    const out = await expectStable('subject s = uid 0x10 .. 0x20 and gid 007;\ndeny * einit * where isvsvn in 1 .. 3;\n');
    expect(out).toBe('subject s = uid 0x10..0x20 and gid 007;\ndeny * einit * where isvsvn in 1..3;\n');
  });

  it('formats an empty file, and a file of comments only', async () => {
    expect(await format('')).toBe('');
    expect(await format('\n\n  \n')).toBe('');
    expect(await expectStable('# one\n\n\n# two   \n')).toBe('# one\n\n# two\n');
  });
});

describe('comments', () => {
  it('keeps own-line comments before their statement and trailing comments after it', async () => {
    const out = await expectStable(`# about a\nsigner a = "${M1}";   # trailing\n\n# about the rule\nallow * einit signer a; # why\n# the end\n`);
    expect(out).toBe(`# about a\nsigner a = "${M1}"; # trailing\n\n# about the rule\nallow * einit signer a; # why\n# the end\n`);
  });

  it('keeps comments inside a statement, each followed by a line break', async () => {
    const text = [
      'allow # after the effect',
      '  audit { a, # after a',
      '  b } einit # after einit',
      '  signer x # before where',
      '  where debug # after debug',
      '  and # after and',
      '  kss',
      '  # before because',
      '  because "r" # before the semicolon',
      '  ; # after the semicolon',
      'signer s = "' + M1 + '" # after the item',
      ', # after the comma',
      '"' + M2 + '";',
      'subject c = ( # in the parenthesis',
      'uid 1 ) ;',
    ].join('\n');
    const out = await expectStable(text);
    expect(out).toBe(
      [
        'allow # after the effect',
        '    audit {',
        '    a, # after a',
        '    b',
        '} einit # after einit',
        '    signer x # before where',
        '    where debug # after debug',
        '        and # after and',
        '        kss',
        '    # before because',
        '    because "r"; # before the semicolon',
        '# after the semicolon',
        'signer s  =',
        `    "${M1}", # after the item`,
        '    # after the comma',
        `    "${M2}";`,
        'subject c = # in the parenthesis',
        '    uid 1;',
        '',
      ].join('\n'),
    );
  });

  it('keeps every comment in order in messy versions of the examples', async () => {
    for (const file of exampleFiles(join(root, 'examples'))) {
      const text = readFileSync(file, 'utf8');
      for (const seed of [1, 2, 3]) await expectStable(makeMessy(text, seed));
    }
  });
});

describe('the examples', () => {
  for (const file of exampleFiles(join(root, 'examples')).sort()) {
    it(`${relative(root, file)} is formatted (fmt --check passes)`, async () => {
      const text = readFileSync(file, 'utf8');
      expect(await formatSource(text, { filepath: file })).toBe(text);
    });
  }
});

describe('errors', () => {
  it('refuses a file with a syntax error, saying where', async () => {
    const text = 'signer a = "' + M1 + '";\nallow aesmd einit signer;\n';
    const error = await format(text).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SgxpolSyntaxError);
    const e = error as SgxpolSyntaxError;
    expect(e.loc.start).toEqual({ line: 2, column: 25 });
    expect(e.message).toMatch(/expected .* \(2:25\)/);
  });

  it('refuses a file with a bad value (the statement would be lost)', async () => {
    await expect(format('signer a = "abc";\n')).rejects.toThrow(/64/);
    await expect(format('deny * einit * where isvsvn >= 70000;\n')).rejects.toThrow(/out of range/);
  });
});

describe('meaning (differential)', () => {
  const workDir = mkdtempSync(join(tmpdir(), 'sgxpol-fmt-'));
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));
  let run = 0;

  async function checkPolicy(info: PolicyInfo, requestCount: number, seed: number): Promise<void> {
    const requests = fc.sample(arbRequests(info, requestCount), { seed, numRuns: 1 })[0];
    const dir = join(workDir, `run${run++}`);
    const messy = { ...info, files: info.files.map((f, i) => ({ ...f, text: makeMessy(f.text, seed + i) })) };
    const formatted = { ...messy, files: [] as PolicyInfo['files'] };
    for (const file of messy.files) {
      const once = await format(file.text);
      expect(await format(once), `idempotent\n${file.text}`).toBe(once);
      expect(commentsOf(once), `comments\n${file.text}`).toEqual(commentsOf(file.text));
      expect(formattingProblem(file.text, once)).toBeUndefined();
      formatted.files.push({ ...file, text: once });
    }
    const before = evaluatorOf(compileFile(writePolicyFiles(join(dir, 'messy'), messy)));
    const after = evaluatorOf(compileFile(writePolicyFiles(join(dir, 'formatted'), formatted)));
    for (const request of requests) expect(after.decide(request), JSON.stringify(request)).toEqual(before.decide(request));
  }

  it('a formatted random policy decides like the original on 300 requests (single file)', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbPolicy(),
        fc.integer(),
        (info, seed) => checkPolicy(info, 300, seed),
      ),
      { seed: SEED, numRuns: RUNS },
    );
  }, 600_000);

  it('… and over imports', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbPolicy({ multiFile: true }),
        fc.integer(),
        (info, seed) => checkPolicy(info, 200, seed),
      ),
      { seed: SEED + 1, numRuns: Math.ceil(RUNS / 3) },
    );
  }, 600_000);

  it('single-file examples decide their cases the same after formatting a messy copy', async () => {
    for (const [policy, cases] of [
      ['examples/workstation/workstation.sgxpol', 'examples/workstation/workstation.cases.json'],
      ['examples/virt-host/host.sgxpol', 'examples/virt-host/host.cases.json'],
    ]) {
      const messy = makeMessy(readFileSync(join(root, policy), 'utf8'), 11);
      const formatted = await format(messy);
      const before = evaluatorOf(compileText(messy, join(workDir, 'messy.sgxpol')));
      const after = evaluatorOf(compileText(formatted, join(workDir, 'formatted.sgxpol')));
      const requests = (JSON.parse(readFileSync(join(root, cases), 'utf8')) as { cases: { request: unknown }[] }).cases.map((c) => c.request);
      for (const request of requests) expect(after.decide(request)).toEqual(before.decide(request));
    }
  });
});
