// The benchmark: `npm run bench [-- --quick] [-- --sizes 100,1000]`. Runs each size in its own
// process (bench/size.mjs), then prints a table of medians and same-run ratios, then (unless
// --sizes is given) checks issue 3's floor in one process (bench/floor.mjs), and writes
// bench/out/results.json and the chart docs/bench-chart.svg.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { fileURLToPath } from 'node:url';
import { renderChart } from './chart.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const sizesArg = args.includes('--sizes') ? args[args.indexOf('--sizes') + 1] : undefined;
const sizes = sizesArg ? sizesArg.split(',').map(Number) : quick ? [100, 1000, 10000] : [100, 1000, 10000, 100000, 1000000];
const here = fileURLToPath(new URL('.', import.meta.url));

const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
console.log(`sgxpol benchmark — ${machine}`);
console.log(`sizes: ${sizes.join(', ')} rules${quick ? ' (quick)' : ''}\n`);

const results = [];
for (const size of sizes) {
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', '--no-turbo-inline-js-wasm-calls', '--max-old-space-size=20000', `${here}size.mjs`, String(size), ...(quick ? ['--quick'] : []), '--progress'],
    { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  if (child.status !== 0) {
    console.error(`size ${size} failed (exit ${child.status}${child.signal ? `, ${child.signal}` : ''})`);
    continue;
  }
  results.push(JSON.parse(child.stdout.trim().split('\n').pop()));
}

const fmtNs = (ns) => (ns === undefined ? '—' : ns < 1000 ? `${ns.toFixed(0)} ns` : ns < 1e6 ? `${(ns / 1000).toFixed(1)} µs` : `${(ns / 1e6).toFixed(2)} ms`);
const fmtX = (x) => (x >= 100 ? `${Math.round(x).toLocaleString('en-US')}×` : `${x.toFixed(1)}×`);
const engines = [...new Set(results.flatMap((r) => Object.keys(r.engines)))];

const lines = [];
lines.push(`| engine | ${results.map((r) => `${r.rules.toLocaleString('en-US')} rules`).join(' | ')} |`);
lines.push(`|---|${results.map(() => '---:').join('|')}|`);
for (const engine of engines) {
  lines.push(`| ${engine} | ${results.map((r) => (r.engines[engine]?.skipped ? 'skipped' : fmtNs(r.engines[engine]?.ns))).join(' | ')} |`);
}
const ratio = (r, base, ours) => (r.engines[base]?.ns && r.engines[ours]?.ns ? fmtX(r.engines[base].ns / r.engines[ours].ns) : '—');
for (const ours of ['sgxpol (handle)', 'sgxpol (handle, no decision cache)']) {
  for (const base of engines.filter((e) => !e.startsWith('sgxpol'))) {
    lines.push(`| speed-up of ${ours} over ${base} | ${results.map((r) => ratio(r, base, ours)).join(' | ')} |`);
  }
}
lines.push(`| compile | ${results.map((r) => `${(r.compileMs / 1000).toFixed(2)} s`).join(' | ')} |`);
lines.push(`| compile heap growth | ${results.map((r) => `${r.compileHeapMB.toFixed(0)} MiB`).join(' | ')} |`);
lines.push(`| load + validate table | ${results.map((r) => `${r.loadMs.toFixed(1)} ms`).join(' | ')} |`);
lines.push(`| table size | ${results.map((r) => `${(r.tableBytes / 2 ** 20).toFixed(2)} MiB (${Math.round(r.tableBytes / r.rules)} B/rule)`).join(' | ')} |`);
lines.push(
  `| agreement with the reference | ${results.map((r) => `${r.agreement.disagreements === 0 ? 'all' : `${r.agreement.disagreements} disagree of`} ${r.agreement.checked.toLocaleString('en-US')}`).join(' | ')} |`,
);
const table = lines.join('\n');
console.log(table);

const peerDisagreements = results.flatMap((r) => Object.entries(r.engines).filter(([, e]) => e.disagreements > 0).map(([name, e]) => `${name} at ${r.rules}: ${e.disagreements}/${e.checked}`));
if (peerDisagreements.length > 0) console.log(`\nDISAGREEMENTS: ${peerDisagreements.join('; ')}`);
const sig = results.find((r) => r.sigstruct);
if (sig) console.log(`\nSIGSTRUCT requests at ${sig.rules} rules: first sight ${sig.sigstruct.firstUs.toFixed(0)} µs (parse + SHA-256 + RSA verify), repeat ${fmtNs(sig.sigstruct.cachedNs)} (cache)`);
const mix = results.map((r) => `${r.rules}: ${JSON.stringify(r.agreement.tally)}`).join('; ');
console.log(`\nrequest mix (reference decisions): ${mix}`);

// The floor of issue 3, as it is judged: one process, both sizes, a policy seeded apart.
let floor;
if (!sizesArg) {
  const child = spawnSync(process.execPath, ['--expose-gc', `${here}floor.mjs`, ...(quick ? ['--quick'] : []), '--progress'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  if (child.status !== 0) console.error(`the floor check failed (exit ${child.status}${child.signal ? `, ${child.signal}` : ''})`);
  else floor = JSON.parse(child.stdout.trim().split('\n').pop());
}
if (floor) {
  const verdict = (ok) => (ok ? 'met' : 'MISSED');
  const { ns, compileMs } = floor;
  const growth = (kind) => ns[kind][100000] / ns[kind][1000];
  const speedUp = (kind) => ns.linear[100000] / ns[kind][100000];
  console.log(`\nfloor (issue 3's judging: one process, policy seed ${floor.seed}, 1,000 and 100,000 rules):`);
  console.log(
    `  agreement with the linear scan: ${floor.disagreements === 0 ? 'all' : `${floor.disagreements} disagree of`} ${floor.checked.toLocaleString('en-US')} decisions ` +
      `(${floor.requests.toLocaleString('en-US')} requests a size, each with a subject handle and with both handles, with and without a decision cache) — ${verdict(floor.disagreements === 0)}`,
  );
  for (const [kind, label] of [
    ['subject', 'subject handle'],
    ['both', 'subject + enclave handles'],
    ['subjectCold', 'subject handle, no decision cache'],
    ['bothCold', 'subject + enclave handles, no decision cache'],
  ]) {
    console.log(
      `  ${label}: ${fmtNs(ns[kind][1000])} → ${fmtNs(ns[kind][100000])}, growth ${growth(kind).toFixed(2)}× (≤ 2×: ${verdict(growth(kind) <= 2)}), ` +
        `${fmtX(speedUp(kind))} the linear scan's ${fmtNs(ns.linear[100000])} (≥ 500×: ${verdict(speedUp(kind) >= 500)})`,
    );
  }
  console.log(`  compile 100,000 rules: ${(compileMs[100000] / 1000).toFixed(2)} s (< 10 s: ${verdict(compileMs[100000] < 10000)})`);
}

mkdirSync(`${here}out`, { recursive: true });
writeFileSync(`${here}out/results.json`, JSON.stringify({ machine, quick, results, floor }, null, 2));
writeFileSync(`${here}out/table.md`, table + '\n');
if (!quick) writeFileSync(`${here}../docs/bench-chart.svg`, renderChart(results, machine));
else writeFileSync(`${here}out/bench-chart.svg`, renderChart(results, machine));
console.log(`\nwrote bench/out/results.json${quick ? ', bench/out/bench-chart.svg' : ', docs/bench-chart.svg'}`);
