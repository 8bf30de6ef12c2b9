// The analyses on a realistic large policy (the benchmark's scenario, bench/scenario.mjs):
// exact verdicts that are known by construction, within a time a CI machine can afford.
import { describe, expect, it } from 'vitest';
import { compileSource } from '../../src/compiler/compile.js';
import { Codes } from '../../src/compiler/diagnostics.js';
import { diffPrograms, whoCan } from '../../src/compiler/analysis/queries.js';
import { setUpAnalysis, withBudget } from '../../src/compiler/analysis/context.js';
import { DEFAULT_SPACE_LIMITS } from '../../src/compiler/analysis/space.js';
import { patternMatches, referenceDecide } from '../../src/reference/interpreter.js';
import { normalizeRequest } from '../../src/runtime/request.js';

interface Scenario {
  classes: { name: string }[];
  signers: { name: string; mrsigner: string }[];
}
const bench = (await import(new URL('../../bench/scenario.mjs', import.meta.url).href)) as { scenario(n: number, seed?: number): Scenario; toSgxpol(s: Scenario): string };

const RULES = 3000;

describe('the analyses at scale (3,000-rule scenario)', () => {
  const s = bench.scenario(RULES, 1);
  const classes = s.classes.map((c) => c.name);
  const base = bench.toSgxpol(s);
  // Each class also refuses SVN 0 and 1, so the first neverallow holds; the scenario's enclave
  // pins allow any signer and any SVN, so the third does not.
  const text =
    base +
    classes.map((c) => `deny ${c} einit * where isvsvn < 2;`).join('\n') +
    `
neverallow * einit * where isvsvn < 2;
neverallow * einit * where not (${classes.map((c) => `subject ${c}`).join(' or ')});
neverallow * einit signer ${s.signers[3].name} where isvprodid > 15;
`;

  it('decides each neverallow exactly, with replayable witnesses', () => {
    const result = compileSource(text, { filename: '/scale/bench.sgxpol' });
    const program = result.program!;
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((d) => d.code).every((c) => c === Codes.NEVERALLOW_VIOLATED)).toBe(true);
    const [kept, onlyClasses, broken] = program.neverallows;
    expect(errors.filter((d) => d.line === kept.decl.span.line)).toEqual([]);
    expect(errors.filter((d) => d.line === onlyClasses.decl.span.line)).toEqual([]);
    const violations = errors.filter((d) => d.line === broken.decl.span.line);
    expect(violations.length).toBeGreaterThan(0);
    for (const d of violations) {
      const check = normalizeRequest(d.witness);
      expect(check.ok).toBe(true);
      if (check.ok) expect(patternMatches(program, broken.decl, check.request)).toBe(true);
      expect(referenceDecide(program, d.witness).decision).toBe('allow');
    }
    // The lints ran on every rule (no W007).
    expect(result.diagnostics.some((d) => d.code === Codes.LINTS_INCOMPLETE)).toBe(false);
  }, 60_000);

  it('diff: a policy against itself changes nothing; dropping one deny changes exactly its requests', () => {
    const before = compileSource(base, { filename: '/scale/a.sgxpol' }).program!;
    expect(diffPrograms(before, before)).toMatchObject({ status: 'ok', groups: [], complete: true });
    const lines = base.split('\n');
    const at = lines.findIndex((l) => l.startsWith('deny '));
    const dropped = lines[at];
    lines[at] = '';
    const after = compileSource(lines.join('\n'), { filename: '/scale/b.sgxpol' }).program!;
    const outcome = diffPrograms(before, after);
    if (outcome.status !== 'ok') throw new Error(outcome.reason);
    expect(outcome.groups.length).toBeGreaterThan(0);
    const deny = before.rules.find((r) => r.decl.span.line === at + 1)!;
    for (const g of outcome.groups) {
      expect(g.old).toEqual({ decision: 'deny', rule: deny.id });
      expect(referenceDecide(after, g.witness).decision).toBe('allow');
    }
    expect(dropped.startsWith('deny')).toBe(true);
  }, 60_000);

  it('who-can lists allowing rules for one signer, each with a witness that replays', () => {
    const program = compileSource(base, { filename: '/scale/a.sgxpol' }).program!;
    const outcome = whoCan(program, { mrsigner: s.signers[3].mrsigner, via: 'host' });
    if (outcome.status !== 'ok') throw new Error(outcome.reason);
    expect(outcome.groups.length).toBeGreaterThan(0);
    for (const g of outcome.groups) expect(referenceDecide(program, g.witness)).toMatchObject({ decision: 'allow', rule: g.rule });
  }, 60_000);
});

describe('diff of signer-keyed rules that each pin their own product id', () => {
  // `allow * einit signer gN where isvprodid == N;`: each rule is keyed on both a signer and a
  // product id. The index of "some allow rule matches" files it under the product id (the
  // narrower key), and the search branches on the signer: without the rule also filed under its
  // signer, every branch looked at every rule (1,500 rules took 10–30 million units of work;
  // 10,000 rules ran out of the default budget after 15 s).
  const hex = (i: number) => (i.toString(16).padStart(8, '0') + 'a').repeat(8).slice(0, 64);
  const policy = (n: number, dropped: number) =>
    [
      'policy "p" version 1;',
      ...Array.from({ length: n }, (_, i) => `signer g${i} = "${hex(i)}";`),
      ...Array.from({ length: n }, (_, i) => (i === dropped ? '' : `allow * einit signer g${i} where isvprodid == ${i};`)),
    ].join('\n') + '\n';

  it('finds the one rule removed from 1,500 within 2 million units of work', () => {
    const before = compileSource(policy(1500, -1), { filename: '/scale/a.sgxpol' }).program!;
    const after = compileSource(policy(1500, 750), { filename: '/scale/b.sgxpol' }).program!;
    const outcome = diffPrograms(before, after, { budget: 2_000_000, groupBudget: 2_000_000, maxGroups: 50 });
    if (outcome.status !== 'ok') throw new Error(outcome.reason);
    expect(outcome.complete).toBe(true);
    expect(outcome.groups).toHaveLength(1);
    const [group] = outcome.groups;
    expect(group.old).toEqual({ decision: 'allow', rule: before.rules[750].id });
    expect(group.new).toEqual({ decision: 'deny', rule: 'default' });
    expect(group.shape.isvprodid).toEqual([[750, 750]]);
    expect(referenceDecide(before, group.witness)).toMatchObject({ decision: 'allow', rule: before.rules[750].id });
    expect(referenceDecide(after, group.witness)).toMatchObject({ decision: 'deny', rule: 'default' });
  }, 60_000);
});

describe('nested uid ranges: region sets listed only for classes in use, and at most so many while the analysis is set up', () => {
  // `uid i..4294967295` for each i: a class's uid set lists every region from i on, so together
  // they list a number of regions that grows with the square of their count.
  const nested = (count: number, used: number) =>
    [...Array.from({ length: count }, (_, i) => `subject s${i} = uid ${i}..4294967295;`), ...Array.from({ length: used }, (_, i) => `allow s${i * 7} einit *;`)].join('\n');
  const programOf = (text: string) => {
    const result = compileSource(text, { filename: 'nested.sgxpol' });
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    return result.program!;
  };

  it('lists no regions for classes no rule uses (3,000 classes, 2 used, within 10,000 region numbers)', () => {
    const setup = setUpAnalysis([programOf(nested(3000, 2))], { ...DEFAULT_SPACE_LIMITS, maxRangeRegions: 10_000 });
    expect(setup.ok).toBe(true);
  });

  it('refuses the analysis, saying why, when the classes in use would list more', () => {
    const setup = setUpAnalysis([programOf(nested(3000, 300))], { ...DEFAULT_SPACE_LIMITS, maxRangeRegions: 10_000 });
    expect(setup).toMatchObject({ ok: false, ranges: true });
    expect(setup.ok ? '' : setup.reason).toMatch(/would list more than 10,000 region numbers \(uid has 3,000 regions\)/);
  });

  it('compiles the classes a query needs after the set-up as before, without the limit', () => {
    // who-can and diff describe their answers by every subject class; they answered before the
    // limit existed, and must still.
    const program = programOf(nested(3000, 1));
    const setup = setUpAnalysis([program], { ...DEFAULT_SPACE_LIMITS, maxRangeRegions: 10_000 });
    if (!setup.ok) throw new Error(setup.reason);
    const logic = setup.analysis.logics[0];
    const outcome = withBudget(setup.analysis, 1_000_000, (solver) => solver.satisfiable(setup.analysis.builder.and(Array.from({ length: 40 }, (_, i) => logic.subjectClass(`s${i * 50}`)))));
    expect(outcome).toEqual({ done: true, value: true });
  });
});
