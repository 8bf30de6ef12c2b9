// SPEC 3.5 and 10: when an analysis cannot finish within its work limit it says so — an error
// for a neverallow (never a silent pass), a warning for the lints — and never hangs.
import { describe, expect, it } from 'vitest';
import { checkProgram } from '../../src/compiler/check.js';
import { compileSource } from '../../src/compiler/compile.js';
import { Codes } from '../../src/compiler/diagnostics.js';
import { globRegions } from '../../src/compiler/analysis/automata.js';
import { intersect, rangeSet, setWorkDone } from '../../src/compiler/analysis/regionset.js';
import { Budget, BudgetExceeded, SET_WORK_PER_UNIT } from '../../src/compiler/analysis/solve.js';

const POLICY = `subject a = exe "/usr/bin/*" and uid 1..100;
allow a einit * where isvsvn >= 2;
deny * einit * where debug;
allow * einit via kvm * where holds "/dev/kvm" and label "x*";
neverallow * einit via kvm * where isvsvn < 2;
`;

describe('work limits', () => {
  it('a neverallow the analysis cannot decide within its budget is error E402, not a pass', () => {
    const program = compileSource(POLICY).program!;
    const diagnostics = checkProgram(program, { neverallow: { budget: 1, moreViolations: 0 } });
    const e402 = diagnostics.filter((d) => d.code === Codes.ANALYSIS_INCOMPLETE);
    expect(e402).toHaveLength(1);
    expect(e402[0]).toMatchObject({ severity: 'error', line: 5 });
    expect(e402[0].message).toContain('could not be checked');
  });

  it('lints that run out of budget, or a policy too large for them, say so (W007)', () => {
    const program = compileSource(POLICY).program!;
    const tight = checkProgram(program, { lints: { budget: 5 } });
    expect(tight.find((d) => d.code === Codes.LINTS_INCOMPLETE)?.message).toContain('work limit');
    const large = checkProgram(program, { maxLintRules: 2 });
    expect(large.find((d) => d.code === Codes.LINTS_INCOMPLETE)?.message).toContain('more than the 2 the lints run on');
    // neverallow is still checked exactly: rule 4 breaks it.
    expect(large.filter((d) => d.severity === 'error').map((d) => d.code)).toEqual([Codes.NEVERALLOW_VIOLATED]);
  });

  it('glob sets whose product would be too large are refused, not explored for ever', () => {
    const globs = Array.from({ length: 14 }, (_, i) => `/**${String.fromCharCode(97 + i)}?${String.fromCharCode(98 + i)}**${String.fromCharCode(99 + i)}*`);
    const outcome = globRegions(globs, 'exe', { maxStates: 2_000 });
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.reason).toContain('more than 2000 automaton states');
  });

  it('"does some exe match no glob?" stops at the first such string, not after the whole breadth of the product', () => {
    // 1,000 globs `/**X`, X distinct: any path ending in another character matches none (depth
    // 2). Checked when states were expanded rather than found, the search first went through the
    // thousand states of depth 2, a thousand transitions each, each a thousand globs wide: 64 s,
    // and now past the work limit.
    const globs = Array.from({ length: 1_000 }, (_, i) => `/**${String.fromCodePoint(0x4e00 + i)}`);
    const outcome = globRegions(globs, 'exe', { maxStates: 200_000 });
    expect(outcome.ok ? 'ok' : outcome.reason).toBe('ok');
    if (outcome.ok) expect(outcome.regions.vectors.filter((v) => v.length === 0)).toHaveLength(1);
  }, 60_000);

  it('a product of many live globs is refused by the work it costs, not only by its state count', () => {
    // 1,000 globs `/**X/**` all overlap and stay alive: about a thousand states, each 1,000 globs
    // wide, with a thousand transitions each.
    const globs = Array.from({ length: 1_000 }, (_, i) => `/**${String.fromCodePoint(0x4e00 + i)}/**`);
    const outcome = globRegions(globs, 'exe', { maxStates: 200_000 });
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.reason).toContain('too costly to explore (more than 100000000 steps)');
  }, 60_000);
});

describe('the lints pay for long region sets (thousands of overlapping uid ranges)', () => {
  it('a Budget that counts set work is charged for the region numbers the set operations read', () => {
    const counting = new Budget(1_000, true);
    const plain = new Budget(1_000);
    const before = setWorkDone();
    // Two sets of 100,000 regions each, merged: 200,000 numbers read.
    const a = rangeSet(300_000, 0, 99_999);
    const b = rangeSet(300_000, 50_000, 149_999);
    expect(intersect(a, b).ids.length).toBe(50_000);
    expect(setWorkDone() - before).toBe(200_000);
    expect(() => counting.spend(0)).toThrow(BudgetExceeded);
    expect(counting.used).toBe(200_000 / SET_WORK_PER_UNIT);
    plain.spend(0);
    expect(plain.used).toBe(0);
  });

  it('nested uid ranges: the set work counts toward the lints\' budget', () => {
    // 100 classes on nested uid ranges, each its own rule: every pair of rules overlaps, and each
    // class's set lists up to 200 regions. The lints take about 445,000 units of solver steps and
    // read 11.2 million region numbers (175,000 units more): a budget of 550,000 covers the first
    // alone, not both. (10,000 such rules took 154 s before set work was charged; 4 s now.)
    let source = '';
    for (let i = 0; i < 100; i++) source += `subject s${i} = uid ${i * 7}..${4_000_000_000 - i * 5};\nallow s${i} einit * where isvsvn >= ${i};\n`;
    const program = compileSource(source).program!;
    const w007 = (budget: number) => checkProgram(program, { lints: { budget } }).filter((d) => d.code === Codes.LINTS_INCOMPLETE);
    expect(w007(700_000)).toEqual([]);
    const stopped = w007(550_000);
    expect(stopped).toHaveLength(1);
    expect(stopped[0].message).toMatch(/^the lints reached their work limit after \d+ of 100 rules/);
  }, 60_000);
});

describe('a neverallow over globs too many for the exact space (SPEC 3.5: iff, fail closed)', () => {
  // Sixteen label classes: a label can hold any subset of the sixteen types, so the exact label
  // dimension has 2^16 regions and its automaton passes the 200,000-state limit.
  const classes = (where: string) => Array.from({ length: 16 }, (_, i) => `subject c${i} = label "*:t${i}_t:*";\nallow c${i} einit *${where};`).join('\n');

  it('is proved in the coarse space (each glob on its own) when that suffices: no E402', () => {
    const result = compileSource(`deny * einit via kvm * where debug;\n${classes('')}\nneverallow * einit via kvm * where debug;\n`, { filename: 'p.sgxpol' });
    expect(result.ok).toBe(true);
    expect(result.diagnostics.map((d) => [d.code, d.message])).toEqual([
      ['W007', 'the lints could not run: the label globs (16) combine into more than 200000 automaton states'],
    ]);
  });

  it('stays E402 when only the relations between globs would prove it', () => {
    // No request is in q (every /usr/bin/x is under /usr/**), but each glob on its own cannot see that.
    const q = 'subject q = exe "/usr/bin/*" and not exe "/usr/**";\nallow q einit * where debug;\n';
    const result = compileSource(`${classes(' where not debug')}\n${q}neverallow * einit * where debug;\n`, { filename: 'p.sgxpol' });
    expect(result.ok).toBe(false);
    expect(result.diagnostics.filter((d) => d.severity === 'error').map((d) => [d.code, d.line])).toEqual([['E402', 35]]);
    expect(result.diagnostics.find((d) => d.code === 'E402')!.message).toBe('neverallow p.sgxpol:35 could not be checked: the label globs (16) combine into more than 200000 automaton states; treating each glob on its own, a request it forbids might be allowed; it is neither proved nor refuted, so the policy is not accepted (use fewer overlapping globs, or split the policy)');
  });
});

describe('globs at the 4096-character limit (SPEC 10: never a crash)', () => {
  // The analyses check each witness with the reference interpreter, whose glob matcher once
  // recursed a level per pattern character and ran out of stack past about 3,300.
  it('a neverallow over a 4096-character exe glob is decided, with a witness', () => {
    const glob = '/' + 'a'.repeat(4095);
    const result = compileSource(`subject s = exe "${glob}";\nallow s einit *;\nneverallow * einit *;\n`, { filename: 'p.sgxpol' });
    expect(result.diagnostics.map((d) => [d.code, d.message])).toEqual([
      ['E401', 'neverallow p.sgxpol:3 is broken: rule p.sgxpol:2 allows a request it forbids (see the witness request)'],
    ]);
    expect((result.diagnostics[0].witness as { subject: { exe: string } }).subject.exe).toBe(glob);
  });

  it('the default-allow lint over a 4000-character glob', () => {
    const result = compileSource(`default allow;\ndeny * einit * where not exe "/${'a'.repeat(3999)}";\n`);
    expect(result.diagnostics.map((d) => d.code)).toEqual(['W003']);
  });
});

describe('globs of many distinct characters (their automata are capped, not built to gigabytes)', () => {
  it('eight 4000-character globs of distinct CJK characters: lints W007, a neverallow still decided', () => {
    const glob = (k: number) => '/' + Array.from({ length: 3999 }, (_, j) => String.fromCodePoint(0x4e00 + k * 4000 + j)).join('');
    const classes = Array.from({ length: 8 }, (_, k) => `subject c${k} = exe "${glob(k)}";\nallow c${k} einit * where not debug;`).join('\n');
    const result = compileSource(`${classes}\nneverallow * einit * where debug;\n`, { filename: 'p.sgxpol' });
    expect(result.ok).toBe(true); // proved with each glob on its own
    expect(result.diagnostics.map((d) => d.code)).toEqual(['W007']);
    expect(result.diagnostics[0].message).toMatch(/^the lints could not run: the exe globs \(8\) need automata of more than 20000 states, or more than 16000000 transitions together \(\d+ distinct characters\)$/);
  });
});
