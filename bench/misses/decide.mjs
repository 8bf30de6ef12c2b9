// Run under valgrind by misses.sh: loads a table and its requests (prepare.mjs), resolves a
// subject handle per distinct subject, decides every request 3 times to warm up, then waits for
// the file DIR/go, decides every request ROUNDS times, writes DIR/done and waits for DIR/stop.
// Only the rounds between go and done are counted (callgrind_control switches counting on and off).
// usage: node --single-threaded bench/misses/decide.mjs DIR ROUNDS
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { Evaluator } from '../../dist/runtime/index.js';

const [dir, rounds] = [process.argv[2], Number(process.argv[3])];
const evaluator = Evaluator.fromTable(readFileSync(`${dir}/table.json`, 'utf8'));
const handles = new Map();
const requests = JSON.parse(readFileSync(`${dir}/requests.json`, 'utf8')).map((request) => {
  const key = JSON.stringify(request.subject);
  if (!handles.has(key)) handles.set(key, evaluator.resolveSubject(request.subject));
  return { action: request.action ?? 'einit', via: request.via ?? 'host', subject: handles.get(key), enclave: request.enclave };
});
let allowed = 0;
const decideAll = () => {
  for (const request of requests) if (evaluator.decide(request).decision === 'allow') allowed++;
};
for (let round = 0; round < 3; round++) decideAll();
// Sleeping, not spinning, so that the waits add (almost) nothing to the counts.
const cell = new Int32Array(new SharedArrayBuffer(4));
const waitFor = (file) => {
  while (!existsSync(file)) Atomics.wait(cell, 0, 0, 20);
};
writeFileSync(`${dir}/ready`, String(process.pid));
waitFor(`${dir}/go`);
for (let round = 0; round < rounds; round++) decideAll();
writeFileSync(`${dir}/done`, String(allowed));
waitFor(`${dir}/stop`);
