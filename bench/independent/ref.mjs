// Independent linear-scan interpreter of SPEC section 5, over gen.mjs's abstract model.
import { ATTR_BITS } from './gen.mjs';

function globRe(g, label) {
  let re = '^';
  for (let i = 0; i < g.length; i++) {
    const c = g[i];
    if (c === '\\') {
      const n = g[i + 1];
      if (n === '*' || n === '?' || n === '\\') { re += '\\' + n; i++; }
      else re += '\\\\';
    } else if (c === '*') {
      if (g[i + 1] === '*') { re += '.*'; i++; }
      else re += label ? '.*' : '[^/]*';
    } else if (c === '?') re += label ? '.' : '[^/]';
    else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(re + '$', 's');
}

function flatten(sets) {
  const out = new Array(sets.length);
  const go = (i, seen) => {
    if (out[i]) return out[i];
    const s = new Set(sets[i].items.map((h) => h.toLowerCase()));
    for (const j of sets[i].incl) for (const h of go(j)) s.add(h);
    return (out[i] = s);
  };
  for (let i = 0; i < sets.length; i++) go(i);
  return out;
}

export function prepare(model) {
  const sig = flatten(model.signers), enc = flatten(model.enclaves);
  const comp = (e) => {
    switch (e.k) {
      case 'exe': return { ...e, re: globRe(e.g, false) };
      case 'label': return { ...e, re: globRe(e.g, true) };
      case 'not': return { ...e, e: comp(e.e) };
      case 'and': case 'or': return { ...e, l: comp(e.l), r: comp(e.r) };
      case 'subj': return { ...e, e: comp(e.e) };
      case 'obj': return { ...e, o: compObj(e.o) };
      default: return e;
    }
  };
  const compObj = (o) => ({ kind: o.kind, set: o.lit ? new Set([o.lit.toLowerCase()]) : o.kind === 'signer' ? sig[o.name] : enc[o.name] });
  const classes = model.classes.map((c) => comp(c.expr));
  const rules = model.rules.map((ru) => ({
    effect: ru.effect, audit: ru.audit, subjects: ru.subjects, via: ru.via ?? 'any', line: ru.line, because: ru.because,
    objects: ru.objects ? ru.objects.map(compObj) : null, where: ru.where ? comp(ru.where) : null,
  }));
  return { classes, rules, defaultEffect: model.defaultEffect, defaultAudit: model.defaultAudit, nClasses: classes.length };
}

// ---- request validation (section 2) ----
const HEX64 = /^[0-9a-fA-F]{64}$/;
const isInt = (v, max) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max;
function canonExe(p) {
  if (typeof p !== 'string' || p.length === 0 || p.length > 4096 || p[0] !== '/') return false;
  if (p === '/') return true;
  if (p.endsWith('/')) return false;
  for (const seg of p.slice(1).split('/')) if (seg === '' || seg === '.' || seg === '..') return false;
  return true;
}
function validSubject(s) {
  if (!s || typeof s !== 'object' || Array.isArray(s)) return false;
  for (const k of Object.keys(s)) if (!['exe', 'uid', 'gid', 'label', 'holds'].includes(k)) return false;
  if (!canonExe(s.exe) || !isInt(s.uid, 4294967295) || !isInt(s.gid, 4294967295)) return false;
  if (s.label !== undefined && typeof s.label !== 'string') return false;
  if (s.holds !== undefined && (!Array.isArray(s.holds) || !s.holds.every((h) => typeof h === 'string' && h[0] === '/'))) return false;
  return true;
}
function enclaveBits(e) {
  if (!e || typeof e !== 'object' || Array.isArray(e)) return null;
  for (const k of Object.keys(e)) if (!['mrenclave', 'mrsigner', 'isvprodid', 'isvsvn', 'attributes'].includes(k)) return null;
  if (typeof e.mrenclave !== 'string' || !HEX64.test(e.mrenclave) || typeof e.mrsigner !== 'string' || !HEX64.test(e.mrsigner)) return null;
  if (!isInt(e.isvprodid, 65535) || !isInt(e.isvsvn, 65535)) return null;
  let bits = 0;
  const a = e.attributes;
  if (a === undefined) return 0;
  if (typeof a === 'string') {
    if (!/^0x[0-9a-fA-F]{1,16}$/.test(a)) return null;
    return Number(BigInt(a) & 0xfffn);
  }
  if (!Array.isArray(a)) return null;
  for (const n of a) { if (typeof n !== 'string' || !(n in ATTR_BITS)) return null; bits |= 1 << ATTR_BITS[n]; }
  return bits;
}

// ---- matching ----
function evalSubj(e, s, P, memo) {
  switch (e.k) {
    case 'exe': return e.re.test(s.exe);
    case 'label': return s.label !== undefined && e.re.test(s.label);
    case 'holds': return (s.holds ?? []).includes(e.p);
    case 'uid': return s.uid >= e.a && s.uid <= e.b;
    case 'gid': return s.gid >= e.a && s.gid <= e.b;
    case 'cls': return inClass(e.i, s, P, memo);
    case 'not': return !evalSubj(e.e, s, P, memo);
    case 'and': return evalSubj(e.l, s, P, memo) && evalSubj(e.r, s, P, memo);
    case 'or': return evalSubj(e.l, s, P, memo) || evalSubj(e.r, s, P, memo);
  }
  throw new Error('bad subj ' + e.k);
}
function inClass(i, s, P, memo) {
  if (memo) { const m = memo[i]; if (m !== 0) return m === 1; }
  const v = evalSubj(P.classes[i], s, P, memo);
  if (memo) memo[i] = v ? 1 : 2;
  return v;
}
const objMatch = (o, ms, me) => (o.kind === 'signer' ? o.set.has(ms) : o.set.has(me));
function evalCond(c, ctx) {
  switch (c.k) {
    case 'cmp': {
      const x = c.f === 'isvprodid' ? ctx.prod : ctx.svn;
      switch (c.op) { case '==': return x === c.v; case '!=': return x !== c.v; case '<': return x < c.v; case '<=': return x <= c.v; case '>': return x > c.v; case '>=': return x >= c.v; }
      throw new Error('op');
    }
    case 'in': { const x = c.f === 'isvprodid' ? ctx.prod : ctx.svn; return x >= c.a && x <= c.b; }
    case 'attr': return (ctx.bits & (1 << ATTR_BITS[c.n])) !== 0;
    case 'obj': return objMatch(c.o, ctx.ms, ctx.me);
    case 'subj': return evalSubj(c.e, ctx.s, ctx.P, ctx.memo);
    case 'cls': return inClass(c.i, ctx.s, ctx.P, ctx.memo);
    case 'true': return true;
    case 'false': return false;
    case 'not': return !evalCond(c.e, ctx);
    case 'and': return evalCond(c.l, ctx) && evalCond(c.r, ctx);
    case 'or': return evalCond(c.l, ctx) || evalCond(c.r, ctx);
  }
  throw new Error('bad cond ' + c.k);
}

// decide(P, req, file, precomputedMembership?) -> {decision, rule, audit}
/** SPEC 5 once no deny rule matched: the first matching allow, or the default, then the provisioning-key invariant. */
function noDenyMatched(firstAllow, bits, s, P, file) {
  const allowed = firstAllow ? { decision: 'allow', rule: `${file}:${firstAllow.line}`, audit: firstAllow.audit } : P.defaultEffect === 'allow' ? { decision: 'allow', rule: 'default', audit: P.defaultAudit } : null;
  if (allowed === null) return { decision: 'deny', rule: 'default', audit: P.defaultAudit };
  if ((bits & (1 << ATTR_BITS.provisionkey)) && !(s.holds ?? []).includes('/dev/sgx_provision')) return { decision: 'deny', rule: 'builtin:provisionkey', audit: false };
  return allowed;
}

const INVALID = Object.freeze({ decision: 'deny', rule: null, audit: false });

/** The enclave's attribute bits when the request is valid (SPEC 2), else null. */
function validRequestBits(req) {
  if (!req || typeof req !== 'object' || Array.isArray(req)) return null;
  for (const k of Object.keys(req)) if (!['subject', 'action', 'via', 'enclave'].includes(k)) return null;
  if (req.action !== undefined && req.action !== 'einit') return null;
  if (req.via !== undefined && req.via !== 'host' && req.via !== 'kvm') return null;
  if (!validSubject(req.subject)) return null;
  return enclaveBits(req.enclave);
}

export function decideRef(P, req, file, memoIn) {
  const bits = validRequestBits(req);
  if (bits === null) return INVALID;
  const s = req.subject, e = req.enclave;
  const via = req.via ?? 'host';
  const ctx = { s, P, memo: memoIn ?? new Uint8Array(P.nClasses), ms: e.mrsigner.toLowerCase(), me: e.mrenclave.toLowerCase(), prod: e.isvprodid, svn: e.isvsvn, bits };
  let firstAllow = null;
  for (const ru of P.rules) {
    if (ru.via !== 'any' && ru.via !== via) continue;
    if (ru.objects !== null) {
      let ok = false;
      for (const o of ru.objects) if (objMatch(o, ctx.ms, ctx.me)) { ok = true; break; }
      if (!ok) continue;
    }
    if (ru.effect === 'allow' && firstAllow !== null) continue; // cannot change the outcome
    if (ru.subjects !== null) {
      let ok = false;
      for (const i of ru.subjects) if (inClass(i, s, P, ctx.memo)) { ok = true; break; }
      if (!ok) continue;
    }
    if (ru.where !== null && !evalCond(ru.where, ctx)) continue;
    if (ru.effect === 'deny') return { decision: 'deny', rule: `${file}:${ru.line}`, audit: ru.audit };
    firstAllow = ru;
  }
  return noDenyMatched(firstAllow, bits, s, P, file);
}

// A fully naive scan (no early-skip of allows, no memo) for the conservative/naive timing variant is not used;
// the scan above is the *stronger* baseline (memoized class membership, cheap checks first).
// membership vector for a (valid) subject, for the "pre-resolved subject" linear-scan baseline
export function membership(P, s) {
  const m = new Uint8Array(P.nClasses);
  for (let i = 0; i < P.nClasses; i++) inClass(i, s, P, m);
  return m;
}

// ---- a faster linear scan (stronger baseline): measurements interned to ints, rules in flat arrays ----
export function prepareFast(P) {
  const sigId = new Map(), encId = new Map();
  const id = (m, h) => { let v = m.get(h); if (v === undefined) { v = m.size; m.set(h, v); } return v; };
  const VIA = { any: 0, host: 1, kvm: 2 };
  const rules = P.rules.map((ru) => {
    const sig = [], enc = [];
    if (ru.objects) for (const o of ru.objects) for (const h of o.set) (o.kind === 'signer' ? sig : enc).push(id(o.kind === 'signer' ? sigId : encId, h));
    return { deny: ru.effect === 'deny', via: VIA[ru.via], wild: ru.objects === null, sig: Int32Array.from(sig), enc: Int32Array.from(enc), subjects: ru.subjects, where: ru.where, line: ru.line, audit: ru.audit };
  });
  return { P, sigId, encId, rules };
}
function hasInt(a, v) { for (let i = 0; i < a.length; i++) if (a[i] === v) return true; return false; }
export function decideFast(F, req, file, memoIn) {
  const P = F.P;
  const bits = validRequestBits(req);
  if (bits === null) return INVALID;
  const s = req.subject, e = req.enclave;
  const via = req.via === 'kvm' ? 2 : 1;
  const ms = e.mrsigner.toLowerCase(), me = e.mrenclave.toLowerCase();
  const sid = F.sigId.get(ms) ?? -2, eid = F.encId.get(me) ?? -2;
  const ctx = { s, P, memo: memoIn ?? new Uint8Array(P.nClasses), ms, me, prod: e.isvprodid, svn: e.isvsvn, bits };
  let firstAllow = null;
  const R = F.rules;
  for (let k = 0; k < R.length; k++) {
    const ru = R[k];
    if (ru.via !== 0 && ru.via !== via) continue;
    if (!ru.wild && !hasInt(ru.sig, sid) && !hasInt(ru.enc, eid)) continue;
    if (!ru.deny && firstAllow !== null) continue;
    if (ru.subjects !== null) {
      let ok = false;
      for (const i of ru.subjects) if (inClass(i, s, P, ctx.memo)) { ok = true; break; }
      if (!ok) continue;
    }
    if (ru.where !== null && !evalCond(ru.where, ctx)) continue;
    if (ru.deny) return { decision: 'deny', rule: `${file}:${ru.line}`, audit: ru.audit };
    firstAllow = ru;
  }
  return noDenyMatched(firstAllow, bits, s, P, file);
}
