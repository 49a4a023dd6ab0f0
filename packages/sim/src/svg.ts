import type { RunResult } from './engine.ts';

export const COLOURS = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Utilisation per edge over time for each run, one panel per strategy, the threshold dashed
 * and every published step marked. Edges that never pass 30 % are left out (a legend of 200
 * flat lines says nothing); at most 10 edges are drawn, the busiest.
 */
export function loadSvg(
  runs: RunResult[],
  opts: { width?: number; panelHeight?: number; title?: string } = {},
): string {
  const W = opts.width ?? 900;
  const H = opts.panelHeight ?? 220;
  const padL = 50;
  const padR = 140;
  const padT = 24;
  const padB = 28;
  const parts: string[] = [];
  const total = runs.length * (H + padT + padB);
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${total}" viewBox="0 0 ${W} ${total}" font-family="sans-serif" font-size="11" role="img">`,
    `<title>${esc(opts.title ?? 'Utilisation per edge over time, one panel per strategy, steps marked')}</title>`,
  );
  runs.forEach((run, ri) => {
    const y0 = ri * (H + padT + padB) + padT;
    const T = run.durationS;
    const edges = run.edges
      .filter((e) => e.peakUtilisation > 0.3)
      .sort((a, b) => b.peakUtilisation - a.peakUtilisation)
      .slice(0, 10);
    const maxU = Math.max(1.2, ...edges.map((e) => e.peakUtilisation));
    const x = (t: number) => padL + ((W - padL - padR) * t) / Math.max(1, T - 1);
    const y = (u: number) => y0 + H - (H * u) / maxU;
    parts.push(`<text x="${padL}" y="${y0 - 8}" font-weight="bold">${esc(run.strategy)}</text>`);
    parts.push(`<rect x="${padL}" y="${y0}" width="${W - padL - padR}" height="${H}" fill="none" stroke="#999"/>`);
    for (const u of [0, 0.5, 1]) {
      parts.push(`<text x="${padL - 6}" y="${y(u) + 4}" text-anchor="end">${Math.round(u * 100)} %</text>`);
    }
    for (let k = 0; k <= 4; k++) {
      const t = Math.round(((T - 1) * k) / 4);
      parts.push(`<text x="${x(t)}" y="${y0 + H + 14}" text-anchor="middle">${Math.round(t / 60)} min</text>`);
    }
    for (const s of run.steps) {
      parts.push(
        `<line x1="${x(s.t)}" x2="${x(s.t)}" y1="${y0}" y2="${y0 + H}" stroke="#bbb" stroke-dasharray="2,3"><title>${esc(`${s.t} s: ${s.text}`)}</title></line>`,
      );
    }
    edges.forEach((e, i) => {
      const colour = COLOURS[i % COLOURS.length]!;
      // One point per pixel column at most: the path stays small for a 2-hour run.
      const stride = Math.max(1, Math.floor(T / (W - padL - padR)));
      const pts: string[] = [];
      for (let t = 0; t < T; t += stride) pts.push(`${x(t).toFixed(1)},${y(e.load[t]! / e.capacityRps).toFixed(1)}`);
      parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${pts.join(' ')}"/>`);
      parts.push(
        `<line x1="${padL}" x2="${W - padR}" y1="${y(e.threshold)}" y2="${y(e.threshold)}" stroke="${colour}" stroke-dasharray="6,4" stroke-opacity="0.5"/>`,
      );
      parts.push(
        `<text x="${W - padR + 8}" y="${y0 + 14 + i * 14}" fill="${colour}">${esc(e.name)} (peak ${Math.round(e.peakUtilisation * 100)} %)</text>`,
      );
    });
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
