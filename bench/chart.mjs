// A log-log SVG chart: decisions per second against rule count, one line per engine.

const COLORS = ['#1b7837', '#5aae61', '#762a83', '#e08214', '#2166ac', '#b2182b', '#666666'];

export function renderChart(results, machine) {
  const W = 840;
  const H = 460;
  const left = 80;
  const right = 300;
  const top = 40;
  const bottom = 60;
  // One line per engine; the variants of the sgxpol handle row ("sgxpol (handle), …"), and the
  // rows without a decision cache but the subject handle's, stay in the table only.
  const engines = [...new Set(results.flatMap((r) => Object.keys(r.engines)))].filter(
    (name) => !name.includes('), ') && (!name.includes('no decision cache') || name === 'sgxpol (handle, no decision cache)'),
  );
  const series = engines.map((name) => ({
    name,
    points: results.filter((r) => r.engines[name]?.ns).map((r) => [r.rules, 1e9 / r.engines[name].ns]),
  }));
  const xs = results.map((r) => r.rules);
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const decade = (v, up) => 10 ** (up ? Math.ceil(Math.log10(v)) : Math.floor(Math.log10(v)));
  const x0 = decade(Math.min(...xs), false);
  const x1 = decade(Math.max(...xs), true);
  const y0 = decade(Math.min(...ys), false);
  const y1 = decade(Math.max(...ys), true);
  const sx = (x) => left + ((Math.log10(x) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0) || 1)) * (W - left - right);
  const sy = (y) => H - bottom - ((Math.log10(y) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0) || 1)) * (H - top - bottom);
  const label = (v) => (v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : `${v}`);
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${left}" y="22" font-size="15" font-weight="bold">Decisions per second against policy size (log-log; higher is better)</text>`);
  for (let x = x0; x <= x1; x *= 10) {
    out.push(`<line x1="${sx(x)}" y1="${top}" x2="${sx(x)}" y2="${H - bottom}" stroke="#ddd"/>`);
    out.push(`<text x="${sx(x)}" y="${H - bottom + 16}" text-anchor="middle">${label(x)}</text>`);
  }
  for (let y = y0; y <= y1; y *= 10) {
    out.push(`<line x1="${left}" y1="${sy(y)}" x2="${W - right}" y2="${sy(y)}" stroke="#ddd"/>`);
    out.push(`<text x="${left - 6}" y="${sy(y) + 4}" text-anchor="end">${label(y)}</text>`);
  }
  out.push(`<text x="${(left + W - right) / 2}" y="${H - bottom + 36}" text-anchor="middle">rules in the policy</text>`);
  out.push(`<text transform="translate(18 ${(top + H - bottom) / 2}) rotate(-90)" text-anchor="middle">decisions per second (one core)</text>`);
  series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const color = COLORS[i % COLORS.length];
    const path = s.points.map((p, k) => `${k === 0 ? 'M' : 'L'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' ');
    out.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="2.5"/>`);
    for (const p of s.points) out.push(`<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="3.5" fill="${color}"/>`);
    const ly = top + 10 + i * 22;
    out.push(`<line x1="${W - right + 15}" y1="${ly}" x2="${W - right + 40}" y2="${ly}" stroke="${color}" stroke-width="2.5"/>`);
    out.push(`<text x="${W - right + 46}" y="${ly + 4}">${escape(s.name)}</text>`);
  });
  out.push(`<text x="${left}" y="${H - 8}" font-size="10" fill="#555">${escape(machine)}</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

const escape = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
