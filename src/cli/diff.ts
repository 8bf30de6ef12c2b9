// `sgxpol diff OLD NEW [--json]`: which requests change decision (SPEC 5) between two policies.
import type { CompileResult } from '../compiler/compile.js';
import { Codes } from '../compiler/diagnostics.js';
import type { Program } from '../compiler/ir.js';
import { DEFAULT_QUERY_OPTIONS, diffPrograms, type DiffGroup } from '../compiler/analysis/queries.js';
import { sourceText } from '../compiler/analysis/explain.js';
import { UsageError, type CommandSpec } from './args.js';
import { UserError, type CliIo } from './io.js';
import { compilePolicy } from './load.js';
import { formatDiagnostics, plural } from './print.js';

export const diffCommand: CommandSpec = {
  name: 'diff',
  summary: 'Show which requests change decision between two policies (exit 1 if any).',
  usage: ['diff OLD NEW [--json] [--max-groups N]'],
  help: `OLD and NEW are root .sgxpol files. Every valid request (SPEC 2) is considered, not
a sample: the requests whose decision (allow or deny) differs are found exactly and
grouped by the rule that decided them before and the rule that decides them now. Each
group is described in words (subject classes, path, signers or enclaves, numbers,
attributes) with one concrete request of it, the witness.

options:
  --json          print { "changed", "complete", "groups": [...] }; each group has
                  "old" and "new" ({ decision, rule }), "description", "witness",
                  "shape" and the deciding rules' source text
  --max-groups N  list at most N groups (default ${DEFAULT_QUERY_OPTIONS.maxGroups})
  -h, --help      show this help

exit status: 0 no request changes decision, 1 some request does, 2 error (a policy does
not compile, the question could not be decided within the work limit, usage error)`,
  options: { json: { type: 'boolean' }, 'max-groups': { type: 'string' } },
  positionals: [2, 2],
  errorStatus: 2,
  async run(args, io) {
    const maxGroups = positiveInt(args.values['max-groups'], DEFAULT_QUERY_OPTIONS.maxGroups);
    const [oldFile, newFile] = args.positionals;
    const before = await programOf(io, oldFile);
    const after = await programOf(io, newFile);
    if (before === undefined || after === undefined) return 2;

    const outcome = diffPrograms(before.program, after.program, { ...DEFAULT_QUERY_OPTIONS, maxGroups });
    if (outcome.status === 'unknown') {
      io.stderr.write(`sgxpol diff: could not compare the policies: ${outcome.reason}\n`);
      return 2;
    }
    const { groups, complete } = outcome;
    const ruleText = (program: Program, rule: string) => {
      const found = program.rules.find((r) => r.id === rule);
      return found ? sourceText(program, found.decl.span) : rule === 'default' ? `default ${program.default.effect}` : 'the built-in provisionkey invariant';
    };
    if (args.values.json === true) {
      const json = {
        changed: groups.length > 0,
        complete,
        groups: groups.map((g) => ({
          old: { ...g.old, text: ruleText(before.program, g.old.rule) },
          new: { ...g.new, text: ruleText(after.program, g.new.rule) },
          description: g.description,
          subjects: g.witnessSubjects,
          shape: g.shape,
          witness: g.witness,
        })),
      };
      io.stdout.write(JSON.stringify(json, null, 2) + '\n');
    } else {
      io.stdout.write(describe(groups, complete, oldFile, newFile, (g) => [ruleText(before.program, g.old.rule), ruleText(after.program, g.new.rule)]));
    }
    return groups.length > 0 ? 1 : 0;
  },
};

function describe(groups: DiffGroup[], complete: boolean, oldFile: string, newFile: string, texts: (g: DiffGroup) => [string, string]): string {
  if (groups.length === 0) return `${oldFile} → ${newFile}: no request changes decision\n`;
  const count = complete ? plural(groups.length, 'group') : `at least ${plural(groups.length, 'group')}`;
  let out = `${oldFile} → ${newFile}: requests change decision (${count} by deciding rules${complete ? '' : '; the listing stops here'})\n`;
  groups.forEach((g, i) => {
    const [oldText, newText] = texts(g);
    out += `\n${i + 1}. ${g.old.decision} → ${g.new.decision}: ${g.summary}\n`;
    out += `   before: ${g.old.decision} by ${g.old.rule}  ${oldText}\n`;
    out += `   now:    ${g.new.decision} by ${g.new.rule}  ${newText}\n`;
    out += `   witness: ${JSON.stringify(g.witness)}\n`;
  });
  return out;
}

/** A compiled policy for diff: errors stop it, except a broken neverallow (which is still a policy to compare). */
async function programOf(io: CliIo, file: string): Promise<{ program: Program; result: CompileResult } | undefined> {
  let result: CompileResult;
  try {
    result = await compilePolicy(io, file);
  } catch (e) {
    if (e instanceof UserError) {
      io.stderr.write(`sgxpol: ${e.message}\n`);
      return undefined;
    }
    throw e;
  }
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  const analysisOnly = errors.every((d) => d.code === Codes.NEVERALLOW_VIOLATED || d.code === Codes.ANALYSIS_INCOMPLETE);
  if (result.program === undefined || !analysisOnly) {
    io.stderr.write(formatDiagnostics(errors, result.sources));
    return undefined;
  }
  return { program: result.program, result };
}

function positiveInt(value: string | boolean | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--max-groups must be a positive integer, not '${String(value)}'`);
  return n;
}
