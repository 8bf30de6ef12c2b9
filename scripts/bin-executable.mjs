// Run by `npm run build` after tsc: marks the CLI entry point executable. tsc writes files
// without the executable bit, and `npx sgxpol` (which runs the package's own bin from the
// repository root) fails with "Permission denied" on a fresh clone without it.
import { chmodSync, statSync } from 'node:fs';

const bin = new URL('../dist/cli/main.js', import.meta.url);
chmodSync(bin, statSync(bin).mode | 0o111);
