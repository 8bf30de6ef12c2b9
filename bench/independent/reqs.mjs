// Request texts for a generated policy: a process population + targeted/random/unknown/invalid mix.
import { rng } from './gen.mjs';

const LTYPES = ['unconfined_t', 'container_t', 'sgx_app_t', 'init_t', 'aesmd_t'];

export function makeRequests(g, n, seed) {
  const r = rng(seed);
  const { classes, rules, signers, enclaves } = g.model;
  // process population
  const procs = [];
  const byClass = classes.map(() => []);
  const baseProc = () => {
    const uid = r.chance(0.15) ? 0 : r.int(100, 70000);
    const p = { exe: `/usr/local/bin/tool${r.int(0, 60)}`, uid, gid: r.chance(0.8) ? uid : r.int(0, 200) };
    if (r.chance(0.7)) p.label = `system_u:system_r:${r.pick(LTYPES)}:s0${r.chance(0.3) ? ':c' + r.int(0, 20) : ''}`;
    const holds = ['/dev/sgx_enclave'];
    if (r.chance(0.1)) holds.push('/dev/sgx_provision');
    if (r.chance(0.05)) holds.push('/dev/kvm');
    p.holds = holds;
    return p;
  };
  for (let i = 0; i < classes.length; i++) {
    const k = r.int(1, 2);
    for (let j = 0; j < k; j++) {
      const p = { ...baseProc(), ...classes[i].sample() };
      if (r.chance(0.05)) delete p.holds; // default []
      p.kvm = classes[i].kvm;
      procs.push(p); byClass[i].push(p);
    }
  }
  for (let i = 0; i < Math.max(30, classes.length / 4); i++) procs.push({ ...baseProc(), kvm: false });
  const pickProc = () => procs[r.skew(procs.length, 0.8)];
  const allSigners = (i) => { const s = signers[i]; return s.items; };
  const hexCase = (h) => (r.chance(0.15) ? h.toUpperCase() : h);
  const attrs = () => {
    const names = [];
    if (r.chance(0.5)) names.push('init');
    if (r.chance(0.9)) names.push('mode64bit');
    if (r.chance(0.12)) names.push('debug');
    if (r.chance(0.06)) names.push('provisionkey');
    if (r.chance(0.03)) names.push('kss');
    if (r.chance(0.01)) names.push('einittokenkey');
    if (r.chance(0.02)) names.push('aexnotify');
    if (r.chance(0.02)) names.push('cet');
    const f = r();
    if (f < 0.05 && names.length === 0) return undefined;
    if (f < 0.7) return names;
    const bits = { init: 0, debug: 1, mode64bit: 2, provisionkey: 4, einittokenkey: 5, cet: 6, kss: 7, aexnotify: 10 };
    let v = 0n; for (const nm of names) v |= 1n << BigInt(bits[nm]);
    if (r.chance(0.3)) v |= 0x3n << 32n; // high (unnamed) bits carried
    const h = v.toString(16);
    return '0x' + (r.chance(0.5) ? h.toUpperCase() : h);
  };
  const stats = { targeted: 0, random: 0, unknown: 0, invalid: 0 };
  const out = [];
  for (let k = 0; k < n; k++) {
    let proc, via, ms, me, prod, svn, invalid = null;
    const t = r();
    if (t < 0.65) {
      stats.targeted++;
      const ru = rules[r.int(0, rules.length - 1)];
      if (ru.subjects && r.chance(0.7)) { const c = r.pick(ru.subjects); proc = byClass[c].length ? r.pick(byClass[c]) : pickProc(); }
      else proc = pickProc();
      if ((ru.via === 'host' || ru.via === 'kvm') && r.chance(0.9)) via = ru.via;
      else via = proc.kvm && r.chance(0.8) ? 'kvm' : 'host';
      const o = ru.objects ? r.pick(ru.objects) : null;
      if (o === null) { ms = r.pick(allSigners(r.int(0, signers.length - 1))); me = r.hex(); }
      else if (o.kind === 'signer') { ms = o.lit ?? r.pick(allSigners(o.name)); me = r.chance(0.05) ? r.pick(enclaves[r.int(0, enclaves.length - 1)].items) : r.hex(); }
      else { me = o.lit ?? r.pick(enclaves[o.name].items); ms = r.chance(0.5) ? r.pick(allSigners(r.int(0, signers.length - 1))) : r.hex(); }
      prod = r.chance(0.8) ? ru.prodHint ?? r.int(0, 40) : r.int(0, 40);
      svn = Math.max(0, (ru.svnHint ?? 10) + r.int(-3, 5));
    } else if (t < 0.85) {
      stats.random++;
      proc = pickProc(); via = proc.kvm && r.chance(0.7) ? 'kvm' : 'host';
      ms = r.pick(allSigners(r.skew(signers.length, 1.5))); me = r.hex(); prod = r.int(0, 40); svn = r.int(0, 35);
    } else {
      stats.unknown++;
      proc = pickProc(); via = proc.kvm && r.chance(0.7) ? 'kvm' : 'host';
      ms = r.hex(); me = r.hex(); prod = r.int(0, 40); svn = r.int(0, 35);
    }
    const subject = { exe: proc.exe, uid: proc.uid, gid: proc.gid };
    if (proc.label !== undefined) subject.label = proc.label;
    if (proc.holds !== undefined) subject.holds = proc.holds;
    const enclave = { mrenclave: hexCase(me), mrsigner: hexCase(ms), isvprodid: prod, isvsvn: Math.min(svn, 65535) };
    const a = attrs(); if (a !== undefined) enclave.attributes = a;
    const req = {};
    if (r.chance(0.5)) req.action = 'einit';
    if (via === 'kvm' || r.chance(0.5)) req.via = via;
    req.subject = subject; req.enclave = enclave;
    if (r.chance(0.03)) {
      stats.invalid++;
      invalid = r.int(0, 9);
      switch (invalid) {
        case 0: enclave.mrsigner = enclave.mrsigner.slice(1); break;
        case 1: subject.uid = -1; break;
        case 2: subject.gid = 4294967296; break;
        case 3: enclave.attributes = ['debugx']; break;
        case 4: subject.exe = '/usr//bin/x'; break;
        case 5: subject.exe = subject.exe + '/'; break;
        case 6: req.foo = 1; break;
        case 7: enclave.isvsvn = 70000; break;
        case 8: req.via = 'guest'; break;
        case 9: subject.exe = '/opt/./x'; break;
      }
    }
    out.push(JSON.stringify(req));
  }
  return { texts: out, stats, nProcs: procs.length };
}
