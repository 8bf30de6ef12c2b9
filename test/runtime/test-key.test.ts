// The test signer's key (src/testing/sigstruct-signer.ts) under garbage collection. On Node 20, a
// collection during `export({ format: 'jwk' })` of a key straight from `generateKeyPairSync` can
// destroy the finished generation job, which locks the key being exported: the process hangs for
// ever (it hung `npm run bench` once). Run in a child process with a time limit, against the
// built package, so that a hang fails this test instead of hanging the suite.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const signer = root + 'dist/testing/sigstruct-signer.js';

describe('testKey', () => {
  it.skipIf(!existsSync(signer))('survives JWK exports through garbage collections', () => {
    // ~2 KB a JWK: 20,000 exports fill the young generation more than once, so collections
    // happen inside exports, right after the key's generation.
    const script = `import { testKey, storedModulus } from ${JSON.stringify(signer)};
const key = testKey();
let n = 0;
for (let i = 0; i < 20000; i++) n += key.export({ format: 'jwk' }).n.length;
console.log(storedModulus(key).length, n > 0);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(r.error?.message, 'the child timed out: the export deadlocked').toBeUndefined();
    expect(r.stdout.trim()).toBe('384 true');
    expect(r.status).toBe(0);
  }, 90_000);
});
