// `sgxpol test CASES.json…`: run policy test cases (SPEC 8). Every case file is read and
// validated against schemas/cases.schema.json before any policy is compiled or any case runs.
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { Evaluator } from '../runtime/evaluator.js';
import type { Decision } from '../runtime/types.js';
import type { CommandSpec } from './args.js';
import { absolute, parseUserJson, readUserFile, UserError, type CliIo } from './io.js';
import { loadEvaluator } from './load.js';
import { plural } from './print.js';

/** A case file as the schema guarantees it. */
interface CaseFile {
  policy: string;
  cases: TestCase[];
}

interface TestCase {
  name: string;
  /** Any JSON value: the evaluator validates it (an invalid request is a deny). */
  request: unknown;
  expect: 'allow' | 'deny';
  rule?: string | null;
  audit?: boolean;
}

export const testCommand: CommandSpec = {
  name: 'test',
  summary: 'Run policy test cases.',
  usage: ['test CASES.json... [--verbose]'],
  help: `A case file is JSON:

  { "policy": "host.sgxpol",
    "cases": [ { "name": "aesmd launches the QE", "request": { ... },
                 "expect": "allow", "rule": "host.sgxpol:12", "audit": false } ] }

"policy" is relative to the case file (a .sgxpol root file, or a compiled table); it is
compiled once. "rule" and "audit" are optional checks; "rule": null expects an invalid
request. Every case file is validated against schemas/cases.schema.json before anything
runs. Each failing case is printed with what was expected and what came; the last line is
"N passed, N failed".

options:
  -v, --verbose  also list the cases that pass
  -h, --help     show this help

exit status: 0 every case passed, 1 otherwise (a failing case, a policy that does not
compile, an invalid case file, a usage error)`,
  options: { verbose: { type: 'boolean', short: 'v' } },
  positionals: [1, Infinity],
  async run(args, io) {
    const files = await readCaseFiles(io, args.positionals);
    if (!files) return 1;
    const verbose = args.values.verbose === true;
    const evaluators = new Map<string, Evaluator | undefined>();
    let passed = 0;
    let failed = 0;
    for (const { path, content } of files) {
      const policyPath = relative(io.cwd, resolve(dirname(absolute(io, path)), content.policy)) || content.policy;
      let evaluator: Evaluator | undefined;
      if (evaluators.has(policyPath)) evaluator = evaluators.get(policyPath);
      else {
        try {
          evaluator = await loadEvaluator(io, policyPath);
        } catch (e) {
          if (!(e instanceof UserError)) throw e;
          io.stderr.write(`sgxpol: ${e.message}\n`);
        }
        evaluators.set(policyPath, evaluator);
      }
      if (!evaluator) {
        io.stdout.write(`FAIL ${path}: policy ${policyPath} could not be loaded; ${plural(content.cases.length, 'case')} not run\n`);
        failed += content.cases.length;
        continue;
      }
      for (const testCase of content.cases) {
        const problem = runCase(evaluator, testCase);
        if (problem === undefined) {
          passed++;
          if (verbose) io.stdout.write(`ok   ${path} › ${testCase.name}\n`);
        } else {
          failed++;
          io.stdout.write(`FAIL ${path} › ${testCase.name}\n${problem}`);
        }
      }
    }
    io.stdout.write(`${passed} passed, ${failed} failed\n`);
    return failed === 0 ? 0 : 1;
  },
};

/** undefined when the case passes; otherwise the indented "expected / got" lines. */
function runCase(evaluator: Evaluator, testCase: TestCase): string | undefined {
  let got: Decision;
  try {
    got = evaluator.decide(testCase.request);
  } catch (e) {
    // decide() must never throw (SPEC 5); if it does, that is a bug worth a failing case, not a crash.
    return `  expected: ${describeExpectation(testCase)}\n  got:      an exception: ${e instanceof Error ? e.message : String(e)}\n`;
  }
  const ruleChecked = testCase.rule !== undefined;
  const auditChecked = testCase.audit !== undefined;
  const pass =
    got.decision === testCase.expect && (!ruleChecked || got.rule === testCase.rule) && (!auditChecked || got.audit === testCase.audit);
  if (pass) return undefined;
  return (
    `  expected: ${describeExpectation(testCase)}\n` +
    `  got:      ${got.decision}, rule ${showRule(got.rule)}, audit ${got.audit}\n` +
    `  reason:   ${got.reason}\n`
  );
}

function describeExpectation(testCase: TestCase): string {
  let text: string = testCase.expect;
  if (testCase.rule !== undefined) text += `, rule ${showRule(testCase.rule)}`;
  if (testCase.audit !== undefined) text += `, audit ${testCase.audit}`;
  return text;
}

function showRule(rule: string | null): string {
  return rule === null ? 'null (invalid request)' : rule;
}

/** Reads and validates every case file; on any problem prints them all and returns undefined. */
async function readCaseFiles(io: CliIo, paths: string[]): Promise<{ path: string; content: CaseFile }[] | undefined> {
  const files: { path: string; content: CaseFile }[] = [];
  let problems = 0;
  for (const path of paths) {
    let content: unknown;
    let characters = 0;
    try {
      const text = (await readUserFile(io, path, 'case file')).toString('utf8');
      characters = text.length;
      content = parseUserJson(text, `case file ${path}`);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      io.stderr.write(`sgxpol: ${e.message}\n`);
      problems++;
      continue;
    }
    // Every schema error of a small file is listed; a large one's first only, since a 16 MiB
    // file of bad cases has millions of them (they took gigabytes to collect).
    const large = characters > ALL_ERRORS_UP_TO;
    const validate = caseFileValidator(!large);
    if (!validate(content)) {
      io.stderr.write(`sgxpol: ${path}: not a valid case file (schemas/cases.schema.json)${large ? '; its first error' : ''}:\n`);
      for (const error of validate.errors ?? []) io.stderr.write(`  ${describeSchemaError(error)}\n`);
      problems++;
      continue;
    }
    files.push({ path, content: content as CaseFile });
  }
  if (problems > 0) {
    io.stderr.write(`sgxpol: ${plural(problems, 'case file')} refused; no case was run\n`);
    return undefined;
  }
  return files;
}

/** Case files up to this many characters have all their schema errors listed. */
const ALL_ERRORS_UP_TO = 256 * 1024;

const cachedValidators = new Map<boolean, ValidateFunction>();

/** The case-file schema's validator, collecting every error or stopping at the first. */
function caseFileValidator(allErrors: boolean): ValidateFunction {
  let validator = cachedValidators.get(allErrors);
  if (validator === undefined) {
    // The schema ships in the package next to dist/ and src/ (both two levels below the root).
    const schema = JSON.parse(readFileSync(new URL('../../schemas/cases.schema.json', import.meta.url), 'utf8')) as object;
    validator = new Ajv2020({ allErrors, strict: true }).compile(schema);
    cachedValidators.set(allErrors, validator);
  }
  return validator;
}

/** `cases[3].rule: must be string,null` from ajv's `/cases/3/rule`. */
function describeSchemaError(error: ErrorObject): string {
  const where =
    error.instancePath === ''
      ? '(top level)'
      : error.instancePath
          .split('/')
          .slice(1)
          .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
          .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc === '' ? part : `${acc}.${part}`), '');
  const params = error.params as Record<string, unknown>;
  let message = error.message ?? 'is invalid';
  if (error.keyword === 'additionalProperties') message = `unknown field '${String(params.additionalProperty)}'`;
  else if (error.keyword === 'enum') message = `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  return `${where}: ${message}`;
}
