// `sgxpol graph POLICY [--format dot|svg] [-o OUT]`: the launch-rights graph.
import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { graphEdgeCount, GraphTooLarge, launchGraphDot, MAX_GRAPH_EDGES } from '../graph/launch-graph.js';
import { renderSvg } from '../graph/render.js';
import { UsageError, type CommandSpec } from './args.js';
import { absolute, systemReason, UserError } from './io.js';
import { compilePolicy } from './load.js';
import { formatDiagnostics } from './print.js';

export const graphCommand: CommandSpec = {
  name: 'graph',
  summary: 'Draw who may launch what: the launch-rights graph (DOT or SVG).',
  usage: ['graph POLICY [--format dot|svg] [-o OUT]'],
  help: `POLICY is the root .sgxpol file. Draws subject classes (left) and signer and
enclave sets (right), with an edge for each rule: allow (green), deny (red, ending in a
bar), via kvm (dashed), host only (labelled), neverallow (grey, dotted); each edge says
its rule id and its where condition. A box shows the policy, its default and the
built-in provisioning-key invariant. SVG is rendered in-process (Graphviz in
WebAssembly); no system Graphviz is needed.

options:
  --format F  dot or svg (default: svg when OUT ends in .svg, otherwise dot)
  -o OUT      write to OUT instead of standard output
  -h, --help  show this help

exit status: 0 ok, 1 the policy has errors or the graph could not be written`,
  options: { format: { type: 'string' }, o: { type: 'string', short: 'o' } },
  positionals: [1, 1],
  async run(args, io) {
    const file = args.positionals[0];
    const out = typeof args.values.o === 'string' ? args.values.o : undefined;
    const format = typeof args.values.format === 'string' ? args.values.format : out !== undefined && extname(out).toLowerCase() === '.svg' ? 'svg' : 'dot';
    if (format !== 'dot' && format !== 'svg') throw new UsageError(`--format must be dot or svg, not '${format}'`);

    const result = await compilePolicy(io, file);
    if (!result.ok || result.program === undefined) {
      io.stderr.write(formatDiagnostics(result.diagnostics.filter((d) => d.severity === 'error'), result.sources));
      return 1;
    }
    // Graphviz's layout grows faster than the graph: 1,000 edges take about 2 s, 12,500 ran for
    // 33 s and then out of stack. Checked before the DOT text is built; a graph past
    // MAX_GRAPH_EDGES gets launchGraphDot's message, as with --format dot.
    if (format === 'svg') {
      const edges = graphEdgeCount(result.program);
      if (edges > MAX_SVG_EDGES && edges <= MAX_GRAPH_EDGES) throw new UserError(`the graph has ${edges} edges, more than the ${MAX_SVG_EDGES} laid out as SVG; --format dot writes its DOT text`);
    }
    let dot: string;
    try {
      // The CLI renames sources for the terminal; spans keep the compiler's names, which the compiler's own sources use.
      dot = launchGraphDot(result.program, compilerSources(result.program));
    } catch (e) {
      if (e instanceof GraphTooLarge) throw new UserError(e.message);
      throw e;
    }
    let text = dot;
    if (format === 'svg') {
      try {
        text = await renderSvg(dot);
      } catch (e) {
        // Graphviz (WebAssembly) can fail on a large graph, down to running out of stack.
        const reason = e instanceof Error ? e.message : String(e);
        const said = reason.startsWith('Graphviz') ? reason : `Graphviz could not lay out the graph (${reason})`;
        throw new UserError(`${said}; --format dot still writes the graph's DOT text`);
      }
    }
    if (out === undefined) {
      io.stdout.write(text);
    } else {
      try {
        await writeFile(absolute(io, out), text, 'utf8');
      } catch (e) {
        throw new UserError(`cannot write ${out}: ${systemReason(e)}`);
      }
    }
    return 0;
  },
};

/** Graphs with more edges are not laid out in-process (see the SVG branch above). */
const MAX_SVG_EDGES = 2_500;

function compilerSources(program: { files: { file: string; text: string }[] }): Map<string, string> {
  return new Map(program.files.map((f) => [f.file, f.text]));
}
