// Cedar peer: the benchmark scenario translated into a Cedar policy set, evaluated with
// @cedar-policy/cedar-wasm's stateful API (preparsePolicySet once, statefulIsAuthorized per request).
//
// Model:
//   principal  Process::"p"            attrs { exe, uid, gid, holds: Set<String> }
//                                      parents: the SubjectClass::"<name>" entities it belongs to
//   action     Action::"einit"
//   resource   Enclave::"<mrenclave>"  attrs { mrsigner, isvprodid, isvsvn, attributes: Set<String> }
//                                      parents: [Signer::"<mrsigner>"]
//   context    { via }
//
//   allow CLS einit signer S where isvprodid == P and isvsvn >= N
//     → permit(principal in SubjectClass::"CLS", action == Action::"einit", resource in Signer::"<hex>")
//         when { resource.isvprodid == P && resource.isvsvn >= N };
//   allow CLS einit enclave "<hex>"
//     → permit(principal in SubjectClass::"CLS", action == Action::"einit", resource == Enclave::"<hex>");
//   deny CLS einit signer S where isvsvn < N
//     → forbid(principal in SubjectClass::"CLS", action == Action::"einit", resource in Signer::"<hex>")
//         when { resource.isvsvn < N };
//   builtin:provisionkey
//     → forbid(principal, action, resource)
//         when { resource.attributes.contains("provisionkey") && !principal.holds.contains("/dev/sgx_provision") };
//
// Cedar's semantics are deny-overrides with default deny, like sgxpol's. The invariant is an
// unconditional forbid: it can only turn an allow into a deny, and without an allow the default
// is deny anyway, so it decides exactly like SPEC 5 step 5.
//
// Subject classes (options.classes):
//   'resolved' (default) — class membership is matched in JS with the same matcher as the linear
//     baseline, per request inside decide() (or once, by resolveSubject()), and handed to Cedar
//     as the principal's parents; the policies test it with `principal in SubjectClass::…` in the
//     scope. This gives Cedar the same per-request subject matching that sgxpol pays.
//   'native' — no class entities: every policy tests the class itself with Cedar operators.
//     Cedar's `like` has only `*`, which matches any run including `/`, so the scenario's shapes
//     translate exactly as: exact path → `==`; `A*B` (one `*`) → `like "A*B" && !(like "A*/*B")`
//     (the run matched by `*` is fixed by the lengths, so the second test is exactly "contains
//     a `/`"); `A**B` → `like "A*B"`. The uid range becomes two comparisons.
import { setFlagsFromString } from 'node:v8';
import { classMatchers, resolveClassNames, attributeNames } from './linear.mjs';

let instances = 0;

/** Cedar string literal. */
const str = (v) => JSON.stringify(v);

/** Cedar `like` pattern literal: the literal parts joined by wildcards (a `*` in the text is escaped). */
const likeLit = (...parts) => '"' + parts.map((t) => JSON.stringify(t).slice(1, -1).replace(/\*/g, '\\*')).join('*') + '"';

/** A class as a Cedar condition on `principal` ('native' mode). */
export function cedarClassCondition(c) {
  const g = c.exe;
  if (/[?\\]/.test(g)) throw new Error(`cedar peer: glob ${g} has no exact Cedar translation here`);
  const stars = g.match(/\*+/g) ?? [];
  let exe;
  if (stars.length === 0) exe = `principal.exe == ${str(g)}`;
  else if (stars.length === 1 && stars[0] === '*') {
    const [a, b] = g.split('*');
    exe = `principal.exe like ${likeLit(a, b)} && !(principal.exe like ${likeLit(a, '/', b)})`;
  } else if (stars.length === 1 && stars[0] === '**') {
    const [a, b] = g.split('**');
    exe = `principal.exe like ${likeLit(a, b)}`;
  } else throw new Error(`cedar peer: glob ${g} has no exact Cedar translation here`);
  const uid = c.uidLo === c.uidHi ? `principal.uid == ${c.uidLo}` : `principal.uid >= ${c.uidLo} && principal.uid <= ${c.uidHi}`;
  return `${exe} && ${uid}`;
}

/** The scenario as Cedar policy text. */
export function toCedar(s, classes = 'resolved') {
  const signerHex = new Map(s.signers.map((g) => [g.name, g.mrsigner]));
  const classCond = new Map(s.classes.map((c) => [c.name, classes === 'native' ? cedarClassCondition(c) : null]));
  const out = [];
  for (const r of s.rules) {
    const native = classCond.get(r.cls);
    const principal = native ? 'principal' : `principal in SubjectClass::${str(r.cls)}`;
    const conds = native ? [native] : [];
    let head;
    if (r.enclave) {
      head = `permit(${principal}, action == Action::"einit", resource == Enclave::${str(r.enclave)})`;
    } else if (r.effect === 'allow') {
      head = `permit(${principal}, action == Action::"einit", resource in Signer::${str(signerHex.get(r.signer))})`;
      conds.push(`resource.isvprodid == ${r.prodid} && resource.isvsvn >= ${r.minSvn}`);
    } else {
      head = `forbid(${principal}, action == Action::"einit", resource in Signer::${str(signerHex.get(r.signer))})`;
      conds.push(`resource.isvsvn < ${r.maxSvn}`);
    }
    out.push(conds.length ? `${head} when { ${conds.join(' && ')} };` : `${head};`);
  }
  out.push('forbid(principal, action, resource) when { resource.attributes.contains("provisionkey") && !principal.holds.contains("/dev/sgx_provision") };');
  return out.join('\n') + '\n';
}

const HANDLE = Symbol('cedar subject handle');

let warm = false;

/**
 * The first parse and the first authorization in a process pay for V8 compiling the wasm
 * functions they reach (100–250 ms here). Pay that once on a one-policy set, so that `loadMs`
 * measures parsing the scenario's policies and the first timed decisions are not cold.
 */
function warmUp(cedar) {
  if (warm) return;
  const id = `sgxpol-bench-warmup-${process.pid}`;
  const text = 'permit(principal in SubjectClass::"c", action == Action::"einit", resource in Signer::"s") when { resource.isvsvn >= 1 && principal.exe like "/a/*" };';
  if (cedar.preparsePolicySet(id, { staticPolicies: text }).type !== 'success') throw new Error('cedar peer: warm-up policy refused');
  const uid = { type: 'Process', id: 'p' };
  const res = { type: 'Enclave', id: 'e' };
  cedar.statefulIsAuthorized({
    principal: uid,
    action: { type: 'Action', id: 'einit' },
    resource: res,
    context: {},
    preparsedPolicySetId: id,
    entities: [
      { uid, attrs: { exe: '/a/b' }, parents: [{ type: 'SubjectClass', id: 'c' }] },
      { uid: res, attrs: { isvsvn: 1 }, parents: [{ type: 'Signer', id: 's' }] },
    ],
  });
  warm = true;
}

/**
 * Loads cedar-wasm and returns the Cedar peer. Node 20.20 has crashed inside V8 calling into
 * Cedar's wasm in long loops; turning off TurboFan's inlining of JS→wasm calls prevents it, so
 * that flag is set here before the module loads (pass `--no-turbo-inline-js-wasm-calls` on the
 * command line too, as PEERS.md advises).
 */
export async function cedarEngine(s, options = {}) {
  const classes = options.classes ?? 'resolved';
  if (classes !== 'resolved' && classes !== 'native') throw new Error(`cedar peer: unknown classes mode ${classes}`);
  setFlagsFromString('--no-turbo-inline-js-wasm-calls');
  const cedar = await import('@cedar-policy/cedar-wasm/nodejs');
  warmUp(cedar);
  const matchers = classMatchers(s);
  const policyText = toCedar(s, classes);
  const id = `sgxpol-bench-${process.pid}-${++instances}`;
  let loaded = false;

  const principalUid = { type: 'Process', id: 'p' };
  const action = { type: 'Action', id: 'einit' };

  /** The principal entity (with its class parents, in 'resolved' mode). */
  const principalEntity = (subject) => ({
    uid: principalUid,
    attrs: { exe: subject.exe, uid: subject.uid, gid: subject.gid, holds: subject.holds ?? [] },
    parents: classes === 'resolved' ? resolveClassNames(s, matchers, subject).map((name) => ({ type: 'SubjectClass', id: name })) : [],
  });

  const engine = {
    name: `Cedar ${cedar.getCedarVersion()} (cedar-wasm, preparsed${classes === 'native' ? ', classes in policy' : ''})`,
    policyText,
    policyCount: s.rules.length + 1,
    loadMs: 0,
    load() {
      const t0 = performance.now();
      const answer = cedar.preparsePolicySet(id, { staticPolicies: policyText });
      engine.loadMs = performance.now() - t0;
      if (answer.type !== 'success') throw new Error(`cedar peer: policy set refused: ${answer.errors.map((e) => e.message).join('; ')}`);
      loaded = true;
    },
    /** A handle that stands in for `subject` in later requests: the principal entity built once. */
    resolveSubject(subject) {
      return { ...subject, [HANDLE]: principalEntity(subject) };
    },
    decide(request) {
      if (!loaded) throw new Error('cedar peer: load() first');
      const subject = request.subject;
      const e = request.enclave;
      const resourceUid = { type: 'Enclave', id: e.mrenclave };
      const answer = cedar.statefulIsAuthorized({
        principal: principalUid,
        action: request.action === undefined ? action : { type: 'Action', id: request.action },
        resource: resourceUid,
        context: { via: request.via ?? 'host' },
        preparsedPolicySetId: id,
        entities: [
          subject[HANDLE] ?? principalEntity(subject),
          {
            uid: resourceUid,
            attrs: { mrsigner: e.mrsigner, isvprodid: e.isvprodid, isvsvn: e.isvsvn, attributes: attributeNames(e.attributes) },
            parents: [{ type: 'Signer', id: e.mrsigner }],
          },
        ],
      });
      if (answer.type !== 'success') throw new Error(`cedar peer: ${answer.errors.map((x) => x.message).join('; ')}`);
      const response = answer.response;
      // An evaluation error would silently skip a policy: treat it as a bug in the translation.
      if (response.diagnostics.errors.length) throw new Error(`cedar peer: ${JSON.stringify(response.diagnostics.errors[0])}`);
      return response.decision;
    },
  };
  return engine;
}
