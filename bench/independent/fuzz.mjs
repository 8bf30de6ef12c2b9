// correctness fuzz: many seeds, small policies; decide() (plain, subject handle, both handles) vs ref
import { compileSource, Evaluator } from '../../dist/index.js';
import { generate } from './gen.mjs';
import { makeRequests } from './reqs.mjs';
import { prepare, decideRef } from './ref.mjs';
const [from, to, nRules, nReq] = process.argv.slice(2).map(Number);
let total = 0, bad = 0;
for (let seed = from; seed < to; seed++) {
  const g = generate(seed, nRules);
  const res = compileSource(g.text, { filename: 'f.sgxpol' });
  if (!res.ok) { console.log('COMPILE FAIL seed', seed, res.diagnostics.filter((d) => d.severity === 'error').slice(0, 3)); continue; }
  const ev = Evaluator.fromTable(res.table);
  const P = prepare(g.model);
  const rq = makeRequests(g, nReq, seed * 31);
  for (const t of rq.texts) {
    const q = JSON.parse(t);
    const e = decideRef(P, q, 'f.sgxpol');
    const vs = [['plain', JSON.parse(t)]];
    const h = ev.resolveSubject(JSON.parse(t).subject);
    const q2 = { ...JSON.parse(t), subject: h }; vs.push(['subj', q2]);
    let eh; try { eh = ev.resolveEnclave(JSON.parse(t).enclave); } catch { eh = null; }
    if (eh) vs.push(['both', { ...q2, enclave: eh }]);
    for (const [name, r] of vs) {
      total++;
      const d = ev.decide(r);
      if (d.decision !== e.decision || d.rule !== e.rule || d.audit !== e.audit) {
        bad++;
        if (bad <= 10) console.log('MISMATCH seed', seed, name, JSON.stringify(d), 'expected', JSON.stringify(e), t);
      }
    }
  }
}
console.log(`checked ${total} decisions, ${bad} mismatches, default=${process.env.DEFAULT_ALLOW ? 'allow' : 'deny'} skew=${process.env.SKEW ?? 1.5}`);
