// SPEC 8: the command line itself — help, version, unknown commands and options (fmt: fmt.test.ts).
import { describe, expect, it } from 'vitest';
import { commands } from '../../src/cli/run.js';
import { scratch, sgxpol } from './harness.js';

const cwd = scratch();

describe('top level', () => {
  it('--help and -h print the command list and exit 0', async () => {
    for (const flag of ['--help', '-h']) {
      const r = await sgxpol([flag], { cwd });
      expect(r.code).toBe(0);
      for (const name of ['compile', 'check', 'eval', 'test', 'sigstruct', 'fmt']) expect(r.stdout).toContain(`sgxpol ${name}`);
      expect(r.stderr).toBe('');
    }
  });

  it('no arguments prints usage to stderr and exits 1', async () => {
    const r = await sgxpol([], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('usage: sgxpol COMMAND');
    expect(r.stdout).toBe('');
  });

  it('--version prints the package version', async () => {
    const r = await sgxpol(['--version'], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^sgxpol \d+\.\d+\.\d+/);
  });

  it('an unknown command is an error with a suggestion and the usage', async () => {
    const r = await sgxpol(['chek', 'x.sgxpol'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("sgxpol: unknown command 'chek'; did you mean 'check'?");
    expect(r.stderr).toContain('usage: sgxpol COMMAND');
  });

  it('an unknown top-level option is an error', async () => {
    const r = await sgxpol(['--frobnicate'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("unknown option '--frobnicate'");
  });

  it('`help COMMAND` prints that command’s help', async () => {
    const r = await sgxpol(['help', 'eval'], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('usage: sgxpol eval POLICY --request');
  });
});

describe('every command', () => {
  for (const command of commands) {
    it(`${command.name} --help and -h print its usage and exit 0`, async () => {
      for (const flag of ['--help', '-h']) {
        const r = await sgxpol([command.name, flag], { cwd });
        expect(r.code).toBe(0);
        expect(r.stdout).toContain(`usage: sgxpol ${command.name}`);
        expect(r.stdout).toContain('exit');
      }
    });

    it(`${command.name} refuses an unknown option with its usage`, async () => {
      const r = await sgxpol([command.name, '--no-such-option', 'x'], { cwd });
      expect(r.code).toBe(command.errorStatus ?? 1); // diff keeps 1 for "changed"
      expect(r.stderr).toContain(`sgxpol ${command.name}: unknown option '--no-such-option'`);
      expect(r.stderr).toContain(`usage: sgxpol ${command.name}`);
    });
  }

  it('a command without its FILE is a usage error', async () => {
    for (const name of ['compile', 'check', 'eval', 'test', 'sigstruct']) {
      const r = await sgxpol([name], { cwd });
      expect(r.code, name).toBe(1);
      expect(r.stderr, name).toContain(`usage: sgxpol ${name}`);
    }
  });

  it('a stray extra argument is a usage error', async () => {
    const r = await sgxpol(['check', 'a.sgxpol', 'b.sgxpol'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("unexpected argument 'b.sgxpol'");
  });

  it('an option missing its value is a usage error', async () => {
    const r = await sgxpol(['compile', 'a.sgxpol', '-o'], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("option '-o' needs a value");
  });
});
