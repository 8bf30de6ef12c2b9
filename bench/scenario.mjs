// A seeded generator of realistic launch policies and requests (the scenario of PEERS.md):
// subject classes by exe (exact paths and globs) and uid ranges; mostly signer-keyed allow
// rules with product and SVN conditions; some pinned MRENCLAVEs; some denies; default deny.
// The same description drives every engine, so each one is fed the same policy.
import { createHash } from 'node:crypto';

/** mulberry32: a small, fast, seeded PRNG. */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (list) => list[Math.floor(next() * list.length)],
  };
}

const hex = (label) => createHash('sha256').update(label).digest('hex');

/**
 * Builds a scenario of `ruleCount` rules. Returns the abstract description (classes, signers,
 * rules) that every engine translates, the sgxpol source text, and a request generator.
 * `signerCount` fixes the number of signers (by default one per 8 rules, so a signer keys about
 * seven rules at every size; a fixed count makes the rules per signer grow with the policy).
 */
export function scenario(ruleCount, seed = 1, { signerCount: fixedSigners } = {}) {
  const r = rng(seed);
  const classCount = Math.max(4, Math.min(64, Math.round(Math.sqrt(ruleCount) / 2)));
  const classes = [];
  for (let i = 0; i < classCount; i++) {
    const uidLo = 1000 + i * 100;
    const kind = i % 3;
    const exe = kind === 0 ? `/opt/vendor${i}/bin/launcher` : kind === 1 ? `/opt/vendor${i}/bin/*` : `/opt/vendor${i}/**/run`;
    classes.push({ name: `svc${i}`, exe, uidLo, uidHi: uidLo + 49 });
  }
  const signerCount = fixedSigners ?? Math.max(2, Math.round(ruleCount / 8));
  const signers = Array.from({ length: signerCount }, (_, i) => ({ name: `vendor${i}`, mrsigner: hex(`signer-${seed}-${i}`) }));
  const rules = [];
  for (let i = 0; i < ruleCount; i++) {
    const cls = r.pick(classes);
    const roll = r.next();
    if (roll < 0.88) {
      const signer = signers[i % signerCount];
      rules.push({ effect: 'allow', cls: cls.name, signer: signer.name, prodid: r.int(0, 15), minSvn: r.int(0, 8) });
    } else if (roll < 0.96) {
      rules.push({ effect: 'allow', cls: cls.name, enclave: hex(`enclave-${seed}-${i}`) });
    } else {
      const signer = r.pick(signers);
      rules.push({ effect: 'deny', cls: cls.name, signer: signer.name, maxSvn: r.int(1, 4) });
    }
  }
  return { classes, signers, rules, seed };
}

/** The scenario as an sgxpol policy. */
export function toSgxpol(s) {
  const lines = ['policy "bench" version 1;', 'default deny;', ''];
  for (const c of s.classes) lines.push(`subject ${c.name} = exe "${c.exe}" and uid ${c.uidLo}..${c.uidHi};`);
  for (const g of s.signers) lines.push(`signer ${g.name} = "${g.mrsigner}";`);
  lines.push('');
  for (const rule of s.rules) {
    if (rule.enclave) lines.push(`allow ${rule.cls} einit enclave "${rule.enclave}";`);
    else if (rule.effect === 'allow') lines.push(`allow ${rule.cls} einit signer ${rule.signer} where isvprodid == ${rule.prodid} and isvsvn >= ${rule.minSvn};`);
    else lines.push(`deny ${rule.cls} einit signer ${rule.signer} where isvsvn < ${rule.maxSvn};`);
  }
  return lines.join('\n') + '\n';
}

/**
 * The scenario as policy files: a root that declares the classes and signers and imports the
 * rules in parts of at most `rulesPerFile` rules, because one source file may not exceed 16 MiB
 * (SPEC 10). Returns `{ name: text }`, the root named `bench.sgxpol`.
 */
export function toSgxpolFiles(s, rulesPerFile = 100000) {
  const text = toSgxpol(s);
  const lines = text.split('\n');
  const firstRule = lines.findIndex((l) => l.startsWith('allow ') || l.startsWith('deny '));
  const head = lines.slice(0, firstRule);
  const rules = lines.slice(firstRule).filter((l) => l.length > 0);
  const files = {};
  const imports = [];
  for (let i = 0; i * rulesPerFile < rules.length; i++) {
    const name = `rules/part${String(i).padStart(3, '0')}.sgxpol`;
    files[name] = rules.slice(i * rulesPerFile, (i + 1) * rulesPerFile).join('\n') + '\n';
    imports.push(`import "${name}";`);
  }
  files['bench.sgxpol'] = [...head, ...imports].join('\n') + '\n';
  return files;
}

/** A concrete subject that a class matches (or, sometimes, that no class matches). */
function subjectFor(r, c) {
  const exe = c.exe.includes('**') ? c.exe.replace('**', 'lib/x86_64') : c.exe.replace('*', 'worker');
  return { exe, uid: r.int(c.uidLo, c.uidHi), gid: 100 };
}

/** `count` requests biased toward the scenario's own rules, so that allows, denies and defaults all occur. */
export function requests(s, count, seed = 2) {
  const r = rng(seed);
  const out = [];
  for (let i = 0; i < count; i++) {
    const rule = r.pick(s.rules);
    const cls = r.next() < 0.8 ? s.classes.find((c) => c.name === rule.cls) : r.pick(s.classes);
    const subject = r.next() < 0.05 ? { exe: '/usr/bin/unknown', uid: 5, gid: 5 } : subjectFor(r, cls);
    const signer = rule.signer ? s.signers.find((g) => g.name === rule.signer).mrsigner : r.pick(s.signers).mrsigner;
    out.push({
      subject,
      via: r.next() < 0.2 ? 'kvm' : 'host',
      enclave: {
        mrenclave: rule.enclave ?? hex(`other-${i % 97}`),
        mrsigner: signer,
        isvprodid: rule.prodid ?? r.int(0, 15),
        isvsvn: r.int(0, 9),
        attributes: ['mode64bit'],
      },
    });
  }
  return out;
}
