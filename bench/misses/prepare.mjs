// Writes the independent generator's compiled table and requests for one size, so that the
// miss count (misses.sh) can load them without compiling under valgrind.
// usage: node bench/misses/prepare.mjs RULES OUTDIR
import { mkdirSync, writeFileSync } from 'node:fs';
import { compileSource } from '../../dist/index.js';
import { generate } from '../independent/gen.mjs';
import { makeRequests } from '../independent/reqs.mjs';

const [rules, out] = [Number(process.argv[2]), process.argv[3]];
if (!(rules > 0) || !out) throw new Error('usage: node bench/misses/prepare.mjs RULES OUTDIR');
const seed = 20261127;
const generated = generate(seed + rules, rules);
const compiled = compileSource(generated.text, { filename: `independent${rules}.sgxpol` });
if (!compiled.ok) throw new Error('the generated policy does not compile');
mkdirSync(out, { recursive: true });
writeFileSync(`${out}/table.json`, JSON.stringify(compiled.table));
const requests = makeRequests(generated, 8000, seed * 7 + rules).texts.map((text) => JSON.parse(text));
writeFileSync(`${out}/requests.json`, JSON.stringify(requests));
