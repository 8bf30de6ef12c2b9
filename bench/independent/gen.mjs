// Independent seeded generator of sgxpol policies + abstract model + request texts.
// The abstract model is consumed by ref.mjs (linear scan); sgxpol only ever sees the text.

export function rng(seed) {
  let s = seed >>> 0;
  const f = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  f.int = (a, b) => a + Math.floor(f() * (b - a + 1)); // inclusive
  f.pick = (arr) => arr[Math.floor(f() * arr.length)];
  f.chance = (p) => f() < p;
  // zipf-like skew: index in [0,n)
  f.skew = (n, alpha = 1.6) => Math.min(n - 1, Math.floor(n * Math.pow(f(), alpha * 2)));
  f.hex = () => {
    let h = '';
    for (let i = 0; i < 8; i++) h += (Math.floor(f() * 4294967296) >>> 0).toString(16).padStart(8, '0');
    return h;
  };
  return f;
}

const ATTR_BITS = { init: 0, debug: 1, mode64bit: 2, provisionkey: 4, einittokenkey: 5, cet: 6, kss: 7, aexnotify: 10 };
export { ATTR_BITS };

// ---------- subject expressions (abstract) ----------
// {k:'exe',g} {k:'label',g} {k:'holds',p} {k:'uid',a,b} {k:'gid',a,b} {k:'cls',i} {k:'not',e} {k:'and',l,r} {k:'or',l,r}
function sx(e, names) {
  switch (e.k) {
    case 'exe': return `exe "${e.g.replace(/"/g, '\\"')}"`;
    case 'label': return `label "${e.g}"`;
    case 'holds': return `holds "${e.p}"`;
    case 'uid': case 'gid': return e.a === e.b ? `${e.k} ${e.a}` : `${e.k} ${e.a}..${e.b}`;
    case 'cls': return names[e.i];
    case 'not': return `not ${paren(e.e, names)}`;
    case 'and': return `${paren(e.l, names, 'and')} and ${paren(e.r, names, 'and')}`;
    case 'or': return `${sx(e.l, names)} or ${sx(e.r, names)}`;
  }
}
function paren(e, names, ctx) {
  if (e.k === 'or' || (e.k === 'and' && ctx !== 'and')) return `(${sx(e, names)})`;
  return sx(e, names);
}

// ---------- conditions (abstract) ----------
// {k:'cmp', f:'isvprodid'|'isvsvn', op, v} {k:'in', f, a, b} {k:'attr', n} {k:'obj', o} {k:'subj', e} (subj_pred)
// {k:'cls', i} {k:'true'} {k:'false'} {k:'not',e} {k:'and',l,r} {k:'or',l,r}
function cx(c, names, signerNames, enclaveNames) {
  switch (c.k) {
    case 'cmp': return `${c.f} ${c.op} ${c.hexv ? '0x' + c.v.toString(16) : c.v}`;
    case 'in': return `${c.f} in ${c.a}..${c.b}`;
    case 'attr': return c.n;
    case 'obj': return ox(c.o, signerNames, enclaveNames);
    case 'subj': return sx(c.e, names);
    case 'cls': return `subject ${names[c.i]}`;
    case 'true': return 'true';
    case 'false': return 'false';
    case 'not': return `not ${cparen(c.e, names, signerNames, enclaveNames)}`;
    case 'and': return `${cparen(c.l, names, signerNames, enclaveNames, 'and')} and ${cparen(c.r, names, signerNames, enclaveNames, 'and')}`;
    case 'or': return `${cx(c.l, names, signerNames, enclaveNames)} or ${cx(c.r, names, signerNames, enclaveNames)}`;
  }
}
function cparen(c, n, s, e, ctx) {
  if (c.k === 'or' || (c.k === 'and' && ctx !== 'and')) return `(${cx(c, n, s, e)})`;
  return cx(c, n, s, e);
}
// object: {kind:'signer'|'enclave', name?:idx, lit?:hex}
function ox(o, signerNames, enclaveNames) {
  if (o.lit) return `${o.kind} "${o.litText ?? o.lit}"`;
  return `${o.kind} ${o.kind === 'signer' ? signerNames[o.name] : enclaveNames[o.name]}`;
}

const VIAS = ['host', 'kvm', 'any'];

export function generate(seed, nRules) {
  const r = rng(seed);
  const nClasses = Math.max(40, Math.floor(nRules / 50));
  const nSigners = Math.max(40, Math.floor(nRules / 10));
  const nEnclaveSets = Math.max(10, Math.floor(nRules / 40));
  const vendors = ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark', 'wayne', 'tyrell', 'cyberdyne', 'soylent'];

  // ---- signers: named sets of 1..3 mrsigners; a few include another set ----
  const signers = []; // {name, items:[hex], incl:[idx]}
  for (let i = 0; i < nSigners; i++) {
    const k = r.chance(0.8) ? 1 : r.int(2, 3);
    const items = [];
    for (let j = 0; j < k; j++) items.push(r.hex());
    const incl = [];
    if (i > 5 && r.chance(0.03)) incl.push(r.int(0, i - 1));
    signers.push({ name: `s_${r.pick(vendors)}_${i}`, items, incl });
  }
  const enclaves = [];
  for (let i = 0; i < nEnclaveSets; i++) {
    const k = r.int(1, 4);
    const items = [];
    for (let j = 0; j < k; j++) items.push(r.hex());
    const incl = [];
    if (i > 5 && r.chance(0.05)) incl.push(r.int(0, i - 1));
    enclaves.push({ name: `e_build_${i}`, items, incl });
  }

  // ---- subject classes ----
  // each class: {name, expr, sample(): partial subject that (usually) matches, kvm:boolean}
  const classes = [];
  const labelTypes = ['svirt_t', 'aesmd_t', 'unconfined_t', 'container_t', 'sgx_app_t', 'init_t'];
  for (let i = 0; i < nClasses; i++) {
    const app = `app${i}`;
    let kind = i < 6 ? ['qemu', 'aesmd', 'broad_uid', 'broad_usr', 'prov', 'admins'][i] : r.pick(
      ['exact', 'exact', 'dir', 'dir', 'dstar', 'qmark', 'uidexe', 'gid', 'label', 'holdsx', 'or2', 'andnot', 'combo', 'escape', 'qemu2']);
    let expr, sample, kvm = false;
    const uidBase = 1000 + i * 7;
    switch (kind) {
      case 'qemu':
        expr = { k: 'and', l: { k: 'and', l: { k: 'exe', g: '/usr/bin/qemu-system-*' }, r: { k: 'holds', p: '/dev/sgx_vepc' } }, r: { k: 'label', g: 'system_u:system_r:svirt_t:*' } };
        sample = () => ({ exe: '/usr/bin/qemu-system-' + r.pick(['x86_64', 'i386', 'x86_64-microvm']), uid: 107, gid: 107, label: `system_u:system_r:svirt_t:s0:c${r.int(0, 1023)},c${r.int(0, 1023)}`, holds: ['/dev/kvm', '/dev/sgx_vepc'] });
        kvm = true; break;
      case 'qemu2':
        expr = { k: 'and', l: { k: 'exe', g: `/opt/${app}/vmm/**` }, r: { k: 'and', l: { k: 'holds', p: '/dev/kvm' }, r: { k: 'not', e: { k: 'uid', a: 0, b: 0 } } } };
        sample = () => ({ exe: `/opt/${app}/vmm/${r.pick(['bin', 'libexec/x'])}/vmm-${r.int(1, 3)}`, uid: uidBase, gid: uidBase, holds: ['/dev/kvm', '/dev/sgx_vepc'] });
        kvm = true; break;
      case 'aesmd':
        expr = { k: 'or', l: { k: 'exe', g: '/opt/intel/sgx-aesm-service/aesm/aesm_service' }, r: { k: 'and', l: { k: 'exe', g: '/usr/sbin/aesmd' }, r: { k: 'uid', a: 0, b: 999 } } };
        sample = () => r.chance(0.5) ? { exe: '/opt/intel/sgx-aesm-service/aesm/aesm_service', uid: 998, gid: 998, holds: ['/dev/sgx_provision', '/dev/sgx_enclave'] } : { exe: '/usr/sbin/aesmd', uid: 0, gid: 0, holds: ['/dev/sgx_provision'] };
        break;
      case 'broad_uid':
        expr = { k: 'uid', a: 1000, b: 60000 };
        sample = () => ({ uid: r.int(1000, 60000) }); break;
      case 'broad_usr':
        expr = { k: 'exe', g: '/usr/**' };
        sample = () => ({ exe: `/usr/lib/${app}/x${r.int(0, 9)}` }); break;
      case 'prov':
        expr = { k: 'holds', p: '/dev/sgx_provision' };
        sample = () => ({ holds: ['/dev/sgx_enclave', '/dev/sgx_provision'] }); break;
      case 'admins':
        expr = { k: 'or', l: { k: 'uid', a: 0, b: 0 }, r: { k: 'gid', a: 10, b: 10 } };
        sample = () => ({ uid: 0, gid: r.pick([0, 10]) }); break;
      case 'exact':
        expr = { k: 'exe', g: `/opt/${app}/bin/enclave-host` };
        sample = () => ({ exe: `/opt/${app}/bin/enclave-host` }); break;
      case 'dir':
        expr = { k: 'exe', g: `/opt/${app}/bin/*` };
        sample = () => ({ exe: `/opt/${app}/bin/svc${r.int(0, 20)}` }); break;
      case 'dstar':
        expr = { k: 'exe', g: `/srv/${app}/**/runner` };
        sample = () => ({ exe: `/srv/${app}/${r.pick(['a', 'b/c', 'd/e/f'])}/runner` }); break;
      case 'qmark':
        expr = { k: 'exe', g: `/usr/lib/${app}/worker-?` };
        sample = () => ({ exe: `/usr/lib/${app}/worker-${r.pick(['1', '2', 'z', '10'])}` }); break;
      case 'uidexe':
        expr = { k: 'and', l: { k: 'exe', g: `/home/*/${app}/*` }, r: { k: 'uid', a: uidBase, b: uidBase + 50 } };
        sample = () => ({ exe: `/home/u${r.int(1, 9)}/${app}/run`, uid: r.int(uidBase - 5, uidBase + 55) }); break;
      case 'gid':
        expr = { k: 'or', l: { k: 'gid', a: uidBase, b: uidBase }, r: { k: 'gid', a: uidBase + 100, b: uidBase + 120 } };
        sample = () => ({ gid: r.pick([uidBase, uidBase + 110, uidBase + 121]) }); break;
      case 'label': {
        const t = process.env.NOBROAD ? `${app}_t` : r.pick(labelTypes); // NOBROAD: per-class label type
        expr = { k: 'label', g: `system_u:system_r:${t}:s0${r.chance(0.5) ? '*' : ':c?'}` };
        sample = () => ({ label: `system_u:system_r:${t}:s0${r.pick(['', ':c1', ':c12', ':c1,c2'])}` }); break;
      }
      case 'holdsx':
        expr = { k: 'and', l: { k: 'exe', g: `/opt/${app}/**` }, r: { k: 'holds', p: '/dev/sgx_enclave' } };
        sample = () => ({ exe: `/opt/${app}/${r.pick(['x', 'bin/y', 'lib/z/w'])}`, holds: r.chance(0.8) ? ['/dev/sgx_enclave'] : [] }); break;
      case 'or2': case 'andnot': case 'combo': {
        if (classes.length < 8) { expr = { k: 'exe', g: `/opt/${app}/bin/*` }; sample = () => ({ exe: `/opt/${app}/bin/a` }); break; }
        const lo = process.env.NOBROAD ? 6 : 0; const a = r.int(lo, classes.length - 1), b = r.int(lo, classes.length - 1); // NOBROAD: composites never include the 6 broad base classes
        if (kind === 'or2') { expr = { k: 'or', l: { k: 'cls', i: a }, r: { k: 'cls', i: b } }; const sa = classes[a].sample, sb = classes[b].sample; sample = () => (r.chance(0.5) ? sa() : sb()); kvm = classes[a].kvm || classes[b].kvm; }
        else if (kind === 'andnot') { expr = { k: 'and', l: { k: 'cls', i: a }, r: { k: 'not', e: { k: 'or', l: { k: 'uid', a: 0, b: 0 }, r: { k: 'label', g: '*:unconfined_t:*' } } } }; sample = classes[a].sample; kvm = classes[a].kvm; }
        else { expr = { k: 'or', l: { k: 'and', l: { k: 'exe', g: `/opt/${app}/sbin/*d` }, r: { k: 'not', e: { k: 'gid', a: 0, b: 99 } } }, r: { k: 'and', l: { k: 'cls', i: a }, r: { k: 'label', g: 'system_u:*' } } }; const sa = classes[a].sample; sample = () => (r.chance(0.5) ? { exe: `/opt/${app}/sbin/${r.pick(['food', 'bard', 'baz'])}`, gid: r.int(50, 200) } : { ...sa(), label: 'system_u:system_r:sgx_app_t:s0' }); }
        break;
      }
      case 'escape':
        expr = { k: 'exe', g: `/opt/${app}/weird/a\\*b\\?c\\x` }; // literal a*b?c\x
        sample = () => ({ exe: r.chance(0.7) ? `/opt/${app}/weird/a*b?c\\x` : `/opt/${app}/weird/aZZb?c\\x` }); break;
    }
    classes.push({ name: `${kind}_${i}`, kind, expr, sample, kvm });
  }
  const clsNames = classes.map((c) => c.name);
  const kvmClasses = classes.map((c, i) => (c.kvm ? i : -1)).filter((i) => i >= 0);

  // ---- rules ----
  const rules = []; // {effect,audit,subjects:null|[idx],via,objects:null|[obj],where:null|cond,because, prodHint, svnHint}
  const nWild = 4 + Math.floor(nRules / 20000);
  const wildAt = new Set();
  while (wildAt.size < nWild) wildAt.add(r.int(0, nRules - 1));
  const pickClass = () => r.skew(nClasses, 0.9);
  const SKEW = +(process.env.SKEW ?? 1.5);
  const pickSigner = () => r.skew(nSigners, SKEW);
  for (let k = 0; k < nRules; k++) {
    const rule = { effect: r.chance(0.12) ? 'deny' : 'allow', audit: r.chance(0.05), subjects: null, via: null, objects: null, where: null, because: null };
    if (wildAt.has(k)) {
      // a few global rules, mostly deny-with-condition
      rule.objects = null;
      const w = r.int(0, 3);
      if (w === 0) { rule.effect = 'deny'; rule.via = 'kvm'; rule.where = { k: 'and', l: { k: 'attr', n: 'debug' }, r: { k: 'not', e: { k: 'cls', i: 4 } } }; rule.because = 'no debug enclaves from guests'; }
      else if (w === 1) { rule.effect = 'deny'; rule.audit = true; rule.where = { k: 'and', l: { k: 'attr', n: 'einittokenkey' }, r: { k: 'not', e: { k: 'cls', i: 1 } } }; }
      else if (w === 2) { rule.effect = 'allow'; rule.subjects = [5]; rule.where = { k: 'and', l: { k: 'attr', n: 'mode64bit' }, r: { k: 'cmp', f: 'isvsvn', op: '>=', v: 60000 } }; }
      else { rule.effect = 'deny'; rule.subjects = [2]; rule.where = { k: 'and', l: { k: 'attr', n: 'kss' }, r: { k: 'attr', n: 'aexnotify' } }; }
      rules.push(rule); continue;
    }
    const sr = r();
    if (sr < 0.08) rule.subjects = null;
    else if (sr < 0.75) rule.subjects = [pickClass()];
    else { const n = r.int(2, 4); const s = new Set(); while (s.size < n) s.add(pickClass()); rule.subjects = [...s]; }
    const vr = r();
    rule.via = vr < 0.5 ? null : vr < 0.75 ? 'host' : vr < 0.9 ? 'kvm' : 'any';
    if (rule.via === 'kvm' && rule.subjects && r.chance(0.7)) rule.subjects = [r.pick(kvmClasses)];
    const objOne = () => {
      const o = r();
      if (o < 0.5) return { kind: 'signer', name: pickSigner() };
      if (o < 0.7) { const s = signers[pickSigner()]; const lit = r.pick(s.items); return { kind: 'signer', lit, litText: r.chance(0.3) ? lit.toUpperCase() : lit }; }
      if (o < 0.85) { const lit = r.chance(0.5) ? r.pick(enclaves[r.int(0, nEnclaveSets - 1)].items) : r.hex(); return { kind: 'enclave', lit, litText: lit }; }
      return { kind: 'enclave', name: r.int(0, nEnclaveSets - 1) };
    };
    if (r.chance(0.1)) { const n = r.int(2, 3); rule.objects = []; for (let j = 0; j < n; j++) rule.objects.push(objOne()); }
    else rule.objects = [objOne()];
    // where
    const prod = r.int(0, 40), svn = r.int(0, 30);
    rule.prodHint = prod; rule.svnHint = svn;
    const wr = r();
    let c = null;
    if (wr < 0.3) c = null;
    else if (wr < 0.55) c = { k: 'cmp', f: 'isvprodid', op: '==', v: prod, hexv: r.chance(0.1) };
    else if (wr < 0.72) c = { k: 'and', l: { k: 'cmp', f: 'isvprodid', op: '==', v: prod }, r: { k: 'cmp', f: 'isvsvn', op: r.pick(['>=', '>']), v: svn } };
    else if (wr < 0.77) c = { k: 'in', f: 'isvsvn', a: svn, b: svn + r.int(0, 10) };
    else if (wr < 0.8) c = { k: 'or', l: { k: 'cmp', f: 'isvprodid', op: '<', v: prod }, r: { k: 'cmp', f: 'isvsvn', op: '<=', v: svn } };
    else if (wr < 0.83) c = { k: 'cmp', f: 'isvprodid', op: '!=', v: prod };
    else if (wr < 0.86) c = { k: 'and', l: { k: 'attr', n: 'provisionkey' }, r: { k: 'cmp', f: 'isvprodid', op: '==', v: prod } };
    else if (wr < 0.89) c = { k: 'and', l: { k: 'cmp', f: 'isvprodid', op: '==', v: prod }, r: { k: 'subj', e: r.chance(0.5) ? { k: 'uid', a: 0, b: 999 } : { k: 'holds', p: '/dev/sgx_provision' } } };
    else if (wr < 0.91) c = { k: 'and', l: { k: 'cls', i: pickClass() }, r: { k: 'cmp', f: 'isvsvn', op: '>=', v: svn } };
    else if (wr < 0.93) c = { k: 'obj', o: { kind: 'signer', name: pickSigner() } };
    else if (wr < 0.95) c = { k: 'and', l: { k: 'attr', n: 'mode64bit' }, r: { k: 'not', e: { k: 'or', l: { k: 'attr', n: 'debug' }, r: { k: 'attr', n: 'kss' } } } };
    else if (wr < 0.96) c = { k: 'subj', e: { k: 'exe', g: '/opt/**' } };
    else if (wr < 0.97) c = r.chance(0.5) ? { k: 'true' } : { k: 'false' };
    else c = { k: 'cmp', f: 'isvprodid', op: '==', v: prod };
    // `not debug` conjunct on many allows
    if (rule.effect === 'allow' && r.chance(0.3)) c = c ? { k: 'and', l: c, r: { k: 'not', e: { k: 'attr', n: 'debug' } } } : { k: 'not', e: { k: 'attr', n: 'debug' } };
    if (rule.effect === 'deny' && r.chance(0.3)) c = c ? { k: 'and', l: c, r: { k: 'attr', n: 'debug' } } : { k: 'attr', n: 'debug' };
    rule.where = c;
    if (r.chance(0.2)) rule.because = `ticket SEC-${r.int(1000, 99999)}`;
    rules.push(rule);
  }

  // ---- render text, tracking rule lines ----
  const lines = [];
  lines.push(`# held-out generated policy seed=${seed} rules=${nRules}`);
  lines.push(`policy "heldout-${nRules}" version ${seed};`);
  const defAudit = r.chance(0.5);
  const defEffect = process.env.DEFAULT_ALLOW ? 'allow' : 'deny';
  lines.push(`default ${defEffect}${defAudit ? ' audit' : ''};`);
  // Rules first for half the policy, defs later (use-before-definition is allowed)
  const signerNames = signers.map((s) => s.name), enclaveNames = enclaves.map((e) => e.name);
  const renderSet = (kw, s, names) => `${kw} ${s.name} = ${[...s.items.map((h) => `"${h}"`), ...s.incl.map((i) => names[i])].join(', ')};`;
  const defLines = [];
  for (const s of signers) defLines.push(renderSet('signer', s, signerNames));
  for (const e of enclaves) defLines.push(renderSet('enclave', e, enclaveNames));
  for (const c of classes) defLines.push(`subject ${c.name} = ${sx(c.expr, clsNames)};`);
  const half = Math.floor(defLines.length / 2);
  for (let i = 0; i < half; i++) lines.push(defLines[i]);
  for (let k = 0; k < rules.length; k++) {
    const ru = rules[k];
    let t = ru.effect + (ru.audit ? ' audit' : '') + ' ';
    t += ru.subjects === null ? '*' : ru.subjects.length === 1 ? clsNames[ru.subjects[0]] : `{${ru.subjects.map((i) => clsNames[i]).join(', ')}}`;
    t += ' einit';
    if (ru.via) t += ` via ${ru.via}`;
    t += ' ';
    t += ru.objects === null ? '*' : ru.objects.length === 1 ? ox(ru.objects[0], signerNames, enclaveNames) : `{${ru.objects.map((o) => ox(o, signerNames, enclaveNames)).join(', ')}}`;
    if (ru.where) t += ` where ${cx(ru.where, clsNames, signerNames, enclaveNames)}`;
    if (ru.because) t += ` because "${ru.because}"`;
    t += ';';
    if (k % 997 === 5) lines.push('# section break');
    lines.push(t);
    ru.line = lines.length; // 1-based
  }
  for (let i = half; i < defLines.length; i++) lines.push(defLines[i]);
  const text = lines.join('\n') + '\n';

  return { seed, nRules, text, model: { signers, enclaves, classes, rules, defaultEffect: defEffect, defaultAudit: defAudit }, rng: r };
}
