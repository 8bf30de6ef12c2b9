// The benchmark's peer engines (bench/peers/*.mjs) must decide exactly alike on the scenario:
// the linear-scan baseline, Cedar and casbin, each with subject classes resolved in JS and with
// the classes written into the peer's own policy language.
import { describe, expect, it } from 'vitest';

type Decision = 'allow' | 'deny';
interface Request {
  subject: { exe: string; uid: number; gid: number; holds?: string[] };
  via?: string;
  action?: string;
  enclave: { mrenclave: string; mrsigner: string; isvprodid: number; isvsvn: number; attributes?: string[] | string };
}
interface Scenario {
  classes: { name: string; exe: string; uidLo: number; uidHi: number }[];
  rules: unknown[];
}
interface Engine {
  name: string;
  loadMs: number;
  load(): void;
  decide(request: Request): Decision;
  resolveSubject(subject: Request['subject']): Request['subject'];
}

// The bench modules are plain .mjs with no declarations: import them by URL (typed here).
const load = (path: string): Promise<any> => import(new URL(path, import.meta.url).href);
const scenarioMod: {
  scenario(rules: number, seed?: number): Scenario;
  requests(s: Scenario, count: number, seed?: number): Request[];
} = await load('../bench/scenario.mjs');
const linear: { linearEngine(s: Scenario): Engine; globToRegExp(glob: string): RegExp } = await load('../bench/peers/linear.mjs');
const cedar: {
  cedarEngine(s: Scenario, o?: { classes: string }): Promise<Engine>;
  cedarClassCondition(c: Scenario['classes'][number]): string;
} = await load('../bench/peers/cedar.mjs');
const casbin: { casbinEngine(s: Scenario, o?: { classes: string }): Promise<Engine> } = await load('../bench/peers/casbin.mjs');

/** The scenario's requests plus variants for the provisionkey invariant and the flags form of attributes. */
function requestsFor(s: Scenario, seed: number): Request[] {
  const base = scenarioMod.requests(s, 300, seed);
  const out = [...base];
  base.slice(0, 60).forEach((r, i) => {
    const v: Request = structuredClone(r);
    v.enclave.attributes = i % 3 === 0 ? ['mode64bit', 'provisionkey'] : i % 3 === 1 ? '0x14' : '0x4';
    if (i % 2 === 0) v.subject.holds = ['/dev/kvm', '/dev/sgx_provision'];
    v.via = i % 4 < 2 ? 'kvm' : 'host';
    out.push(v);
  });
  return out;
}

describe('glob translation of the linear baseline (SPEC 3.4)', () => {
  it('keeps * within a segment and lets ** cross segments', () => {
    const star = linear.globToRegExp('/usr/bin/*');
    expect(star.test('/usr/bin/qemu')).toBe(true);
    expect(star.test('/usr/bin/x/qemu')).toBe(false);
    const deep = linear.globToRegExp('/opt/**/run');
    expect(deep.test('/opt/a/run')).toBe(true);
    expect(deep.test('/opt/a/b/run')).toBe(true);
    expect(deep.test('/opt/run')).toBe(false);
    expect(linear.globToRegExp('/a/b?c').test('/a/b/c')).toBe(false);
    expect(linear.globToRegExp('/a/b?c').test('/a/bxc')).toBe(true);
    expect(linear.globToRegExp('/a/\\*').test('/a/x')).toBe(false);
    expect(linear.globToRegExp('/a/\\*').test('/a/*')).toBe(true);
    expect(linear.globToRegExp('/a.b').test('/axb')).toBe(false);
  });

  it('has exact Cedar translations for the scenario glob shapes', () => {
    const c = (exe: string) => cedar.cedarClassCondition({ name: 'x', exe, uidLo: 1, uidHi: 2 });
    expect(c('/opt/v/bin/launcher')).toBe('principal.exe == "/opt/v/bin/launcher" && principal.uid >= 1 && principal.uid <= 2');
    expect(c('/opt/v/bin/*')).toBe(
      'principal.exe like "/opt/v/bin/*" && !(principal.exe like "/opt/v/bin/*/*") && principal.uid >= 1 && principal.uid <= 2',
    );
    expect(c('/opt/v/**/run')).toBe('principal.exe like "/opt/v/*/run" && principal.uid >= 1 && principal.uid <= 2');
    expect(() => c('/opt/*/bin/*')).toThrow(/no exact Cedar translation/);
  });
});

describe.each([
  [20, 11],
  [100, 12],
])('peers agree on a %i-rule scenario', (ruleCount, seed) => {
  it('linear, Cedar and casbin decide every request alike, from requests and from subject handles', async () => {
    const s = scenarioMod.scenario(ruleCount, seed);
    const requests = requestsFor(s, seed + 100);
    const engines: Engine[] = [
      linear.linearEngine(s),
      await cedar.cedarEngine(s),
      await cedar.cedarEngine(s, { classes: 'native' }),
      await casbin.casbinEngine(s),
      await casbin.casbinEngine(s, { classes: 'native' }),
    ];
    for (const e of engines) e.load();
    const counts = { allow: 0, deny: 0 };
    const disagreements: string[] = [];
    for (const [i, r] of requests.entries()) {
      const expected = engines[0].decide(r);
      counts[expected]++;
      for (const e of engines.slice(1)) {
        const got = e.decide(r);
        if (got !== expected) disagreements.push(`#${i} ${e.name}: ${got}, linear: ${expected}: ${JSON.stringify(r)}`);
      }
      if (i % 5 === 0) {
        for (const e of engines) {
          const got = e.decide({ ...r, subject: e.resolveSubject(r.subject) });
          if (got !== expected) disagreements.push(`#${i} ${e.name} with a handle: ${got}, linear: ${expected}`);
        }
      }
    }
    expect(disagreements.slice(0, 5)).toEqual([]);
    // Not vacuous: the scenario's requests produce both outcomes, and the invariant bites.
    expect(counts.allow).toBeGreaterThan(30);
    expect(counts.deny).toBeGreaterThan(30);
    const pk = requests.find((r) => r.enclave.attributes === '0x14' && !r.subject.holds && engines[0].decide({ ...r, enclave: { ...r.enclave, attributes: '0x4' } }) === 'allow');
    expect(pk).toBeDefined();
    for (const e of engines) expect(e.decide(pk!)).toBe('deny');
  }, 20_000);
});
