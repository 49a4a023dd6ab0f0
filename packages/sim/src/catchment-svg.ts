import { type Catchment, type CatchmentAt, catchmentShares, mainEdge } from './catchment.ts';
import type { RunResult } from './engine.ts';
import { COLOURS, esc } from './svg.ts';

/** The CSS class of an edge's colour (`edge-none`: the country's load mostly reaches no edge). */
export const edgeClass = (edge: string | null) =>
  `edge-${edge === null ? 'none' : edge.replace(/[^A-Za-z0-9_-]/g, '_')}`;

const MAP_W = 540;
const MAP_H = 270;
const PAD = 24;

/** One equirectangular map: a dot per client country at its centroid, coloured by its main edge; edges as squares. */
function panel(c: Catchment, at: CatchmentAt, x0: number, y0: number, title: string): string[] {
  const x = (lon: number) => (x0 + ((lon + 180) / 360) * MAP_W).toFixed(1);
  const y = (lat: number) => (y0 + ((90 - lat) / 180) * MAP_H).toFixed(1);
  const out = [
    `<text x="${x0}" y="${y0 - 8}" font-weight="bold">${esc(title)}</text>`,
    `<rect x="${x0}" y="${y0}" width="${MAP_W}" height="${MAP_H}" fill="#f6f8fa" stroke="#999"/>`,
  ];
  for (let lon = -150; lon <= 150; lon += 30)
    out.push(`<line x1="${x(lon)}" x2="${x(lon)}" y1="${y0}" y2="${y0 + MAP_H}" stroke="#e1e4e8"/>`);
  for (let lat = -60; lat <= 60; lat += 30)
    out.push(`<line x1="${x0}" x2="${x0 + MAP_W}" y1="${y(lat)}" y2="${y(lat)}" stroke="#e1e4e8"/>`);
  // Edges first, larger and pale, so the country dots near them stay visible on top.
  for (const e of c.edges) {
    const ex = Number(x(e.lon));
    const ey = Number(y(e.lat));
    out.push(
      `<rect class="edge ${edgeClass(e.name)}" data-edge="${esc(e.name)}" x="${(ex - 7).toFixed(1)}" y="${(ey - 7).toFixed(1)}" width="14" height="14"><title>${esc(`edge ${e.name}`)}</title></rect>`,
      `<text x="${ex.toFixed(1)}" y="${(ey + 18).toFixed(1)}" text-anchor="middle" font-size="9" fill="#555">${esc(e.name)}</text>`,
    );
  }
  const shares = catchmentShares(c, at);
  c.countries.forEach((country, ci) => {
    const main = mainEdge(c, at, ci);
    const tip = Object.entries(shares[country.code] ?? {})
      .map(([e, s]) => `${e} ${Math.round(s * 100)} %`)
      .join(', ');
    out.push(
      `<circle class="country ${edgeClass(main)}" data-country="${esc(country.code)}" cx="${x(country.lon)}" cy="${y(country.lat)}" r="5"><title>${esc(`${country.code}: ${tip || 'no load'}`)}</title></circle>`,
      `<text x="${(Number(x(country.lon)) + 7).toFixed(1)}" y="${(Number(y(country.lat)) - 5).toFixed(1)}" font-size="9">${esc(country.code)}</text>`,
    );
  });
  return out;
}

/**
 * The catchment before and after, one row per strategy: which edge each client country lands
 * at (the edge receiving most of its load, routes and DNS answers together, before DSR), before
 * the first event and at the end. Plain SVG: a map of dots, no coastlines.
 */
export function catchmentSvg(runs: RunResult[], opts: { title?: string } = {}): string {
  const first = runs[0]?.catchment;
  const edges = first?.edges ?? [];
  const legendW = 140;
  const W = PAD + 2 * (MAP_W + PAD) + legendW;
  const rowH = MAP_H + 2 * PAD;
  const H = Math.max(1, runs.length) * rowH + PAD;
  const style = [
    ...edges.map((e, i) => `.${edgeClass(e.name)} { fill: ${COLOURS[i % COLOURS.length]}; }`),
    `.${edgeClass(null)} { fill: #bbb; }`,
    '.country { stroke: #fff; stroke-width: 1; }',
    '.edge { fill-opacity: 0.35; stroke: #333; }',
  ];
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11" role="img">`,
    `<title>${esc(opts.title ?? 'Catchment before and after: the edge each client country lands at, one row per strategy')}</title>`,
    `<style>${style.join(' ')}</style>`,
  ];
  runs.forEach((run, ri) => {
    const y0 = ri * rowH + PAD + 12;
    const c = run.catchment;
    parts.push(...panel(c, c.before, PAD, y0, `${run.strategy}: before (${c.before.atS} s)`));
    parts.push(...panel(c, c.after, 2 * PAD + MAP_W, y0, `${run.strategy}: at the end (${c.after.atS} s)`));
  });
  // The legend lists the edges some country lands at (200 edges would not fit), and "no edge".
  const used = new Set<string | null>();
  for (const run of runs)
    for (const at of [run.catchment.before, run.catchment.after])
      run.catchment.countries.forEach((_, ci) => used.add(mainEdge(run.catchment, at, ci)));
  const lx = W - legendW + 8;
  [...edges.map((e) => e.name as string | null).filter((n) => used.has(n)), null].forEach((name, i) => {
    const ly = PAD + 12 + i * 16;
    parts.push(`<circle class="${edgeClass(name)}" cx="${lx}" cy="${ly}" r="5"/>`);
    parts.push(`<text x="${lx + 10}" y="${ly + 4}">${esc(name ?? 'no edge')}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
