// casbin peer: the benchmark scenario as a casbin ABAC model plus one policy line per rule,
// evaluated with enforceSync(sub, obj, act).
//
// Request: r = sub, obj, act
//   sub  { exe, uid, gid, holds, classes }   classes: Set of class names ('resolved' mode)
//   obj  { mrenclave, mrsigner, isvprodid, isvsvn, attributes: [names] }
//   act  "einit"
// Effect: some(where (p.eft == allow)) && !some(where (p.eft == deny)) — allow if some line allows
//   and no line denies, otherwise deny: sgxpol's deny-overrides with default deny. (casbin stops
//   at the first matching deny line and otherwise walks every line.)
// Policy lines, in rule order (casbin policy values are strings; the matcher's `==`, `>=`, `<`
// compare them with the request's numbers numerically, by JS coercion):
//   allow CLS einit signer S where isvprodid == P and isvsvn >= N → p, CLS, signer, <hex>, P, N, allow
//   allow CLS einit enclave "<hex>"                               → p, CLS, enclave, <hex>, , , allow
//   deny CLS einit signer S where isvsvn < N                      → p, CLS, denysigner, <hex>, , N, deny
//   builtin:provisionkey (last)                                   → p, *, provisionkey, , , , deny
//   The invariant line matches when the enclave has provisionkey and the subject does not hold
//   /dev/sgx_provision; as a deny it can only turn an allow into a deny, exactly SPEC 5 step 5.
//
// Subject classes (options.classes):
//   'resolved' (default) — membership is matched in JS with the linear baseline's matcher, per
//     request inside decide() (or once, by resolveSubject()), and the matcher tests it with a
//     custom function inClass(r.sub, p.sub) (a Set lookup).
//   'native' — casbin matches the class itself on every line: each line carries the class's
//     glob as an anchored regular expression (SPEC 3.4 translated exactly) and its uid range,
//     and the matcher uses casbin's built-in regexMatch and two comparisons.
import { createRequire } from 'node:module';
import { newEnforcer, newModelFromString, Helper } from 'casbin';
import { classMatchers, resolveClassNames, attributeNames, globToRegExp } from './linear.mjs';

const OBJECT_CONDITION =
  '(p.kind == "signer" && r.obj.mrsigner == p.key && r.obj.isvprodid == p.prodid && r.obj.isvsvn >= p.svn' +
  ' || p.kind == "enclave" && r.obj.mrenclave == p.key' +
  ' || p.kind == "denysigner" && r.obj.mrsigner == p.key && r.obj.isvsvn < p.svn)';
const INVARIANT = 'p.kind == "provisionkey" && hasAttribute(r.obj, "provisionkey") && !holds(r.sub, "/dev/sgx_provision")';

/** The casbin model text for a classes mode. */
export function casbinModel(classes = 'resolved') {
  const native = classes === 'native';
  const policy = native ? 'p = exe, uidlo, uidhi, kind, key, prodid, svn, eft' : 'p = sub, kind, key, prodid, svn, eft';
  const subject = native ? '(regexMatch(r.sub.exe, p.exe) && r.sub.uid >= p.uidlo && r.sub.uid <= p.uidhi)' : 'inClass(r.sub, p.sub)';
  return [
    '[request_definition]',
    'r = sub, obj, act',
    '',
    '[policy_definition]',
    policy,
    '',
    '[policy_effect]',
    'e = some(where (p.eft == allow)) && !some(where (p.eft == deny))',
    '',
    '[matchers]',
    `m = r.act == "einit" && (${INVARIANT} || ${OBJECT_CONDITION} && ${subject})`,
    '',
  ].join('\n');
}

/** The scenario as casbin policy lines (CSV text for a StringAdapter). */
export function casbinPolicy(s, classes = 'resolved') {
  const native = classes === 'native';
  const signerHex = new Map(s.signers.map((g) => [g.name, g.mrsigner]));
  const subjectFields = new Map(
    s.classes.map((c) => [c.name, native ? [globToRegExp(c.exe).source, String(c.uidLo), String(c.uidHi)] : [c.name]]),
  );
  for (const [, fields] of subjectFields) {
    for (const f of fields) if (/[,"()]/.test(f)) throw new Error(`casbin peer: field ${f} would need CSV quoting`);
  }
  const lines = [];
  for (const r of s.rules) {
    const sub = subjectFields.get(r.cls);
    let rest;
    if (r.enclave) rest = ['enclave', r.enclave, '', '', 'allow'];
    else if (r.effect === 'allow') rest = ['signer', signerHex.get(r.signer), String(r.prodid), String(r.minSvn), 'allow'];
    else rest = ['denysigner', signerHex.get(r.signer), '', String(r.maxSvn), 'deny'];
    lines.push(['p', ...sub, ...rest].join(', '));
  }
  const anySubject = native ? ['^/', '0', '4294967295'] : ['*'];
  lines.push(['p', ...anySubject, 'provisionkey', '', '', '', 'deny'].join(', '));
  return lines.join('\n') + '\n';
}

const HANDLE = Symbol('casbin subject handle');
const VERSION = createRequire(import.meta.url)('casbin/package.json').version;

export async function casbinEngine(s, options = {}) {
  const classes = options.classes ?? 'resolved';
  if (classes !== 'resolved' && classes !== 'native') throw new Error(`casbin peer: unknown classes mode ${classes}`);
  const matchers = classMatchers(s);
  const modelText = casbinModel(classes);
  const policyText = casbinPolicy(s, classes);
  // The enforcer (model parsed, custom functions registered, no policy yet) is built here because
  // casbin's constructor is async; load() then loads the policy lines synchronously.
  const enforcer = await newEnforcer(newModelFromString(modelText));
  await enforcer.addFunction('inClass', (sub, cls) => sub.classes.has(cls));
  await enforcer.addFunction('hasAttribute', (obj, name) => obj.attributes.includes(name));
  await enforcer.addFunction('holds', (sub, path) => sub.holds.includes(path));
  let loaded = false;

  const toSub = (subject) => ({
    exe: subject.exe,
    uid: subject.uid,
    gid: subject.gid,
    holds: subject.holds ?? [],
    classes: classes === 'resolved' ? new Set(resolveClassNames(s, matchers, subject)) : null,
  });

  const engine = {
    name: `casbin ${VERSION} (enforceSync${classes === 'native' ? ', classes in matcher' : ''})`,
    modelText,
    policyText,
    loadMs: 0,
    /**
     * Loads the policy lines into the enforcer's model with casbin's own CSV line loader — what
     * its StringAdapter/FileAdapter do line by line, minus the async wrapper (no adapter, no
     * duplicate check, so the scenario's repeated rules stay, as in sgxpol).
     */
    load() {
      const t0 = performance.now();
      const model = enforcer.getModel();
      model.clearPolicy();
      for (const line of policyText.split('\n')) if (line) Helper.loadPolicyLine(line, model);
      engine.loadMs = performance.now() - t0;
      loaded = true;
    },
    /** A handle that stands in for `subject` in later requests: class membership matched once. */
    resolveSubject(subject) {
      return { ...subject, [HANDLE]: toSub(subject) };
    },
    decide(request) {
      if (!loaded) throw new Error('casbin peer: load() first');
      const subject = request.subject;
      const e = request.enclave;
      const obj = { mrenclave: e.mrenclave, mrsigner: e.mrsigner, isvprodid: e.isvprodid, isvsvn: e.isvsvn, attributes: attributeNames(e.attributes) };
      return enforcer.enforceSync(subject[HANDLE] ?? toSub(subject), obj, request.action ?? 'einit') ? 'allow' : 'deny';
    },
  };
  return engine;
}
