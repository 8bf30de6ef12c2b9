// DOT → SVG in-process, with Graphviz compiled to WebAssembly (@viz-js/viz): no system
// Graphviz needed.
import { instance, type Viz } from '@viz-js/viz';

let viz: Promise<Viz> | undefined;

export async function renderSvg(dot: string): Promise<string> {
  viz ??= instance();
  const result = (await viz).render(dot, { format: 'svg', engine: 'dot' });
  if (result.status !== 'success') {
    const messages = result.errors.map((e) => e.message.trim()).join('; ');
    throw new Error(`Graphviz could not render the graph: ${messages}`);
  }
  // Graphviz sizes text with Helvetica's metrics; name the fonts that share them, so a viewer
  // without Helvetica picks one of those before its generic sans-serif.
  return result.output.replaceAll('font-family="Helvetica,sans-Serif"', `font-family="Helvetica,Arial,'Liberation Sans','Nimbus Sans',sans-serif"`);
}
