// `sgxpol graph`: the launch-rights graph as DOT, and as SVG rendered in-process.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileSource } from '../../src/compiler/compile.js';
import { launchGraphDot, wrap } from '../../src/graph/launch-graph.js';
import { scratch, sgxpol, INTEL_LE_SIGNER, OTHER_SIGNER } from '../cli/harness.js';

const POLICY = `policy "g" version 2;
default deny audit;
signer intel = "${INTEL_LE_SIGNER}";
signer all = intel, "${OTHER_SIGNER}";
subject aesmd = exe "/usr/bin/aesm_service" and uid 0..999;
subject qemu = exe "/usr/bin/qemu" and holds "/dev/sgx_vepc";
subject unused = uid 5;
allow audit aesmd einit via host signer intel where isvsvn >= 2 because "arch";
allow qemu einit via kvm { signer all, enclave "${OTHER_SIGNER}" };
deny * einit * where debug and not subject aesmd;
neverallow qemu einit via host *;
`;

function dotOf(text: string): string {
  const result = compileSource(text, { filename: '/tmp/g.sgxpol' });
  if (!result.program) throw new Error('no program');
  return launchGraphDot(result.program, new Map(result.program.files.map((f) => [f.file, f.text])));
}

/** The attribute list of the edge from `from` to `to`. */
function edge(dot: string, from: string, to: string): string {
  const line = dot.split('\n').find((l) => l.trimStart().startsWith(`"${from}" -> "${to}"`));
  if (line === undefined) throw new Error(`no edge ${from} -> ${to}`);
  return line;
}

describe('launch-rights graph (DOT)', () => {
  const dot = dotOf(POLICY);

  it('has subject classes on one side and signer and enclave sets on the other', () => {
    expect(dot).toMatch(/subgraph cluster_subjects \{[\s\S]*\{ rank=same; "subject:\*"; "subject:aesmd"; "subject:qemu"; "subject:unused"; \}/);
    expect(dot).toMatch(/subgraph cluster_objects \{[\s\S]*\{ rank=same; "enclave:\*"; "signer:intel"; "signer:all"; "enclave:\\"[0-9a-f]{64}\\""; \}/);
    expect(dot).toContain('<B>aesmd</B><BR/><FONT POINT-SIZE="9">exe &quot;/usr/bin/aesm_service&quot; and uid<BR ALIGN="LEFT"/>0..999');
    expect(dot).toContain('<B>signer all</B><BR/><FONT POINT-SIZE="9">includes intel<BR ALIGN="LEFT"/>2 MRSIGNERs');
  });

  it('draws an allow as a green arrow labelled with its rule id and condition', () => {
    const e = edge(dot, 'subject:aesmd', 'signer:intel');
    expect(e).toContain('color="#2e7d32"');
    expect(e).toContain('arrowhead="normal"');
    expect(e).toContain('allow audit  g.sgxpol:8');
    expect(e).toContain('host only');
    expect(e).toContain('where isvsvn &gt;= 2');
    expect(e).toContain('style="solid"');
  });

  it('draws via kvm edges dashed, one per subject and object of the rule', () => {
    expect(edge(dot, 'subject:qemu', 'signer:all')).toContain('style="dashed"');
    expect(edge(dot, 'subject:qemu', `enclave:\\"${OTHER_SIGNER}\\"`)).toContain('via kvm');
  });

  it('draws a deny in red ending in a bar, and a neverallow grey and dotted', () => {
    const deny = edge(dot, 'subject:*', 'enclave:*');
    expect(deny).toContain('color="#c62828"');
    expect(deny).toContain('arrowhead="tee"');
    expect(deny).toContain('where debug and not subject aesmd');
    const never = edge(dot, 'subject:qemu', 'enclave:*');
    expect(never).toContain('style="dotted"');
    expect(never).toContain('neverallow  g.sgxpol:11');
  });

  it('shows the policy, the default and the provisioning-key invariant', () => {
    expect(dot).toContain('policy &quot;g&quot; version 2');
    expect(dot).toContain('default deny, audited: the decision when no rule matches');
    const text = dot.replace(/<BR ALIGN="LEFT"\/>/g, ' ');
    expect(text).toContain('built-in: an allowed enclave with provisionkey is denied unless the subject holds /dev/sgx_provision (on host and kvm)');
  });

  it('says when the default is implicit', () => {
    expect(dotOf('subject s = uid 1;\nallow s einit *;\n')).toContain('default deny (implicit)');
  });

  it('wraps long labels at spaces', () => {
    expect(wrap('aaa bbb ccc ddd', 7)).toEqual(['aaa bbb', 'ccc ddd']);
    expect(wrap('a-very-long-word x', 5)).toEqual(['a-very-long-word', 'x']);
  });
});

describe('sgxpol graph', () => {
  it('prints DOT by default', async () => {
    const dir = scratch({ 'g.sgxpol': POLICY });
    const r = await sgxpol(['graph', 'g.sgxpol'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^digraph launch_rights \{/);
  });

  it('renders SVG in-process with --format svg, or when -o ends in .svg', async () => {
    const dir = scratch({ 'g.sgxpol': POLICY });
    const r = await sgxpol(['graph', 'g.sgxpol', '--format', 'svg'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/<svg[\s\S]*aesmd[\s\S]*<\/svg>\s*$/);
    const o = await sgxpol(['graph', 'g.sgxpol', '-o', 'out.svg'], { cwd: dir });
    expect(o.code).toBe(0);
    expect(readFileSync(join(dir, 'out.svg'), 'utf8')).toMatch(/^<\?xml[\s\S]*<svg/);
  });

  it('renders every example', async () => {
    const root = new URL('../../', import.meta.url).pathname;
    for (const policy of ['examples/virt-host/host.sgxpol', 'examples/workstation/workstation.sgxpol', 'examples/fleet/main.sgxpol']) {
      const r = await sgxpol(['graph', policy, '--format', 'svg'], { cwd: root });
      expect(r.code, policy).toBe(0);
      expect(r.stdout).toContain('</svg>');
    }
  });

  it('refuses a policy with errors, and an unknown format', async () => {
    const dir = scratch({ 'bad.sgxpol': 'allow nobody einit *;\n', 'g.sgxpol': POLICY });
    const bad = await sgxpol(['graph', 'bad.sgxpol'], { cwd: dir });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('error[E101]');
    const format = await sgxpol(['graph', 'g.sgxpol', '--format', 'png'], { cwd: dir });
    expect(format.code).toBe(1);
    expect(format.stderr).toContain('--format must be dot or svg');
  });
});

describe('graphs too large to draw (SPEC 10: a clear error, not gigabytes or a crash)', () => {
  /** `rules` rules, each from all of `n` subject classes to all of `n` signers: rules × n × n edges. */
  const fanOut = (n: number, rules: number): string => {
    const names = Array.from({ length: n }, (_, i) => i);
    let text = names.map((i) => `subject s${i} = uid ${i};\nsigner g${i} = "${i.toString(16).padStart(64, '0')}";\n`).join('');
    const subjects = `{${names.map((i) => `s${i}`).join(', ')}}`;
    const objects = `{${names.map((i) => `signer g${i}`).join(', ')}}`;
    for (let r = 0; r < rules; r++) text += `allow ${subjects} einit ${objects} where isvsvn == ${r};\n`;
    return text;
  };

  it('DOT: more than 20,000 edges is refused with the count', async () => {
    const dir = scratch({ 'big.sgxpol': fanOut(100, 3), 'ok.sgxpol': fanOut(100, 2) });
    const big = await sgxpol(['graph', 'big.sgxpol'], { cwd: dir });
    expect(big.code).toBe(1);
    expect(big.stderr).toBe('sgxpol: the graph would have 30000 edges (one per rule, subject class and object), more than the 20000 drawn\n');
    const ok = await sgxpol(['graph', 'ok.sgxpol'], { cwd: dir });
    expect(ok.code).toBe(0);
    expect(ok.stdout.match(/->/g)).toHaveLength(20_000);
  });

  it('SVG: more than 2,500 edges is not laid out; DOT is offered instead', async () => {
    const dir = scratch({ 'g.sgxpol': fanOut(30, 3) });
    const r = await sgxpol(['graph', 'g.sgxpol', '-o', 'g.svg'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('sgxpol: the graph has 2700 edges, more than the 2500 laid out as SVG; --format dot writes its DOT text\n');
  });
});
