// Loads a table file in a fresh process, as a launch hook would at start-up, and prints the
// median milliseconds of `Evaluator.fromFile` (read, parse, validate, check the digest, index).
// Usage: node bench/load.mjs TABLE.json [ROUNDS]
import { Evaluator } from '../dist/runtime/index.js';

const [file, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg ?? 3);
const times = [];
for (let i = 0; i < rounds; i++) {
  globalThis.gc?.();
  const start = performance.now();
  Evaluator.fromFile(file);
  times.push(performance.now() - start);
}
times.sort((a, b) => a - b);
process.stdout.write(JSON.stringify({ ms: times[Math.floor(times.length / 2)], rounds }) + '\n');
