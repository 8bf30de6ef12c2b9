#!/usr/bin/env node
// The `sgxpol` executable: run the CLI against the real process and exit with its status.
import { run } from './run.js';

process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  cwd: process.cwd(),
});
