// The "plain JS linear scan" baseline of PEERS.md: an interpreter of the benchmark scenario
// (bench/scenario.mjs) that walks the rules in program order on every request.
//
// It also exports the pieces the other peers share (glob translation, subject-class resolution,
// request helpers), so that every engine resolves subject classes with the same matcher.

/**
 * Translates an `exe` glob (SPEC 3.4) to an anchored RegExp: `**` is any run, `*` any run
 * without `/`, `?` one character other than `/`; `\*`, `\?`, `\\` are literal, and a backslash
 * before any other character is itself literal. Fine for the benchmark's baseline; unlike
 * sgxpol's matcher it is not guaranteed linear-time for every glob.
 */
export function globToRegExp(glob) {
  let src = '^';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === '*') {
      if (glob[i + 1] === '*') {
        src += '[\\s\\S]*';
        i++;
      } else {
        src += '[^/]*';
      }
    } else if (ch === '?') {
      src += '[^/]';
    } else if (ch === '\\' && (glob[i + 1] === '*' || glob[i + 1] === '?' || glob[i + 1] === '\\')) {
      src += '\\' + glob[i + 1];
      i++;
    } else {
      src += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(src + '$');
}

/** The scenario's subject classes as matchers: `exe GLOB and uid LO..HI`. */
export function classMatchers(s) {
  return s.classes.map((c) => {
    const re = globToRegExp(c.exe);
    const lo = c.uidLo;
    const hi = c.uidHi;
    return (subject) => subject.uid >= lo && subject.uid <= hi && re.test(subject.exe);
  });
}

/** The names of the classes a subject belongs to (in class order). */
export function resolveClassNames(s, matchers, subject) {
  const out = [];
  for (let i = 0; i < matchers.length; i++) if (matchers[i](subject)) out.push(s.classes[i].name);
  return out;
}

/** Attribute names of SPEC 2 and their bit in the ATTRIBUTES flags. */
const ATTRIBUTE_BITS = { init: 0, debug: 1, mode64bit: 2, provisionkey: 4, einittokenkey: 5, cet: 6, kss: 7, aexnotify: 10 };

/** The request's attributes as a list of names (accepts the name list or the `"0x…"` flags). */
export function attributeNames(attributes) {
  if (attributes === undefined) return [];
  if (Array.isArray(attributes)) return attributes;
  const flags = BigInt(attributes);
  const out = [];
  for (const [name, bit] of Object.entries(ATTRIBUTE_BITS)) if ((flags >> BigInt(bit)) & 1n) out.push(name);
  return out;
}

/** Whether the request's attributes include `provisionkey` (bit 4). */
export function hasProvisionKey(attributes) {
  if (attributes === undefined) return false;
  if (Array.isArray(attributes)) return attributes.includes('provisionkey');
  const digits = attributes.slice(2);
  return (parseInt(digits.slice(-2), 16) & 0x10) !== 0;
}

/** Whether the subject holds /dev/sgx_provision. */
export function holdsProvision(subject) {
  const holds = subject.holds;
  return holds !== undefined && holds.includes('/dev/sgx_provision');
}

const HANDLE = Symbol('linear subject handle');

const ALLOW_SIGNER = 0;
const ALLOW_ENCLAVE = 1;
const DENY_SIGNER = 2;

/**
 * Linear-scan interpreter. Requests are taken as valid and normalized (lower-case hex), as the
 * scenario produces them; validation is not part of what the peers are compared on.
 */
export function linearEngine(s) {
  const matchers = classMatchers(s);
  const classIndex = new Map(s.classes.map((c, i) => [c.name, i]));
  const signerHex = new Map(s.signers.map((g) => [g.name, g.mrsigner]));
  let rules = [];
  // Per-request memo of class membership: 0 unknown, 1 member, 2 not a member.
  const memo = new Uint8Array(s.classes.length);

  const engine = {
    name: 'linear scan (JS)',
    loadMs: 0,
    load() {
      const t0 = performance.now();
      rules = s.rules.map((r) => {
        const cls = classIndex.get(r.cls);
        if (r.enclave) return { kind: ALLOW_ENCLAVE, cls, key: r.enclave, a: 0 };
        if (r.effect === 'allow') return { kind: ALLOW_SIGNER, cls, key: signerHex.get(r.signer), a: r.prodid, b: r.minSvn };
        return { kind: DENY_SIGNER, cls, key: signerHex.get(r.signer), a: r.maxSvn, b: 0 };
      });
      engine.loadMs = performance.now() - t0;
    },
    /** A handle that stands in for `subject` in later requests: class membership matched once. */
    resolveSubject(subject) {
      const m = new Uint8Array(matchers.length);
      for (let i = 0; i < matchers.length; i++) m[i] = matchers[i](subject) ? 1 : 2;
      return { ...subject, [HANDLE]: m };
    },
    decide(request) {
      if ((request.action ?? 'einit') !== 'einit') return 'deny';
      const subject = request.subject;
      const enclave = request.enclave;
      const known = subject[HANDLE];
      const member = known ?? memo;
      if (known === undefined) memo.fill(0);
      const mrsigner = enclave.mrsigner;
      const mrenclave = enclave.mrenclave;
      const prodid = enclave.isvprodid;
      const svn = enclave.isvsvn;
      let allowed = false;
      for (let i = 0; i < rules.length; i++) {
        const r = rules[i];
        // Object and condition first (cheap string/number compares), then the subject class.
        if (r.kind === ALLOW_SIGNER) {
          if (allowed || r.key !== mrsigner || prodid !== r.a || svn < r.b) continue;
        } else if (r.kind === ALLOW_ENCLAVE) {
          if (allowed || r.key !== mrenclave) continue;
        } else if (r.key !== mrsigner || svn >= r.a) continue;
        let m = member[r.cls];
        if (m === 0) m = member[r.cls] = matchers[r.cls](subject) ? 1 : 2;
        if (m !== 1) continue;
        if (r.kind === DENY_SIGNER) return 'deny'; // the first matching deny decides
        allowed = true; // the first matching allow decides unless a deny matches later
      }
      if (!allowed) return 'deny'; // default deny
      if (hasProvisionKey(enclave.attributes) && !holdsProvision(subject)) return 'deny'; // builtin:provisionkey
      return 'allow';
    },
  };
  return engine;
}
