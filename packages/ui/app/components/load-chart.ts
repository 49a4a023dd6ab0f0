import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

import { html } from '../html.ts';

export interface LoadPoint {
  /** Seconds since the epoch (uPlot's unit). */
  t: number;
  rps: number | null;
  capacity: number;
}

/** Load against capacity and the SLO's enter/exit thresholds (as rps), over time (uPlot). */
export function LoadChart({
  points,
  enter,
  exit,
  label,
}: {
  points: LoadPoint[];
  enter: number;
  exit: number;
  label: string;
}) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = (): uPlot.AlignedData => {
    // Two points at least, so a fresh page draws the thresholds as lines.
    const p = points.length > 0 ? points : [{ t: Date.now() / 1000, rps: null, capacity: 0 }];
    const ts = p.length === 1 ? [p[0]!.t - 60, p[0]!.t] : p.map((x) => x.t);
    const at = (i: number) => p[Math.min(i, p.length - 1)]!;
    return [
      ts,
      ts.map((_, i) => at(i).rps),
      ts.map((_, i) => at(i).capacity),
      ts.map((_, i) => at(i).capacity * enter),
      ts.map((_, i) => at(i).capacity * exit),
    ];
  };
  useEffect(() => {
    if (!el.current) return;
    const opts: uPlot.Options = {
      width: Math.min(900, el.current.clientWidth || 900),
      height: 260,
      series: [
        {},
        { label: 'load (rps)', stroke: '#1f5fbf', width: 2, spanGaps: false },
        { label: 'capacity', stroke: '#333', dash: [2, 2] },
        { label: `SLO enter (${Math.round(enter * 100)} %)`, stroke: '#b3261e', dash: [6, 4] },
        { label: `SLO exit (${Math.round(exit * 100)} %)`, stroke: '#8a5a00', dash: [6, 4] },
      ],
      axes: [{}, { label: 'rps', size: 70 }],
      scales: { y: { range: (_u, _min, max) => [0, Math.max(max, 1) * 1.05] } },
    };
    plot.current = new uPlot(opts, data(), el.current);
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, [enter, exit]);
  useEffect(() => {
    plot.current?.setData(data());
  }, [points.length, points[points.length - 1]?.t]);
  return html`<figure class="chart" data-testid="load-chart">
    <div ref=${el}></div>
    <figcaption>${label}</figcaption>
  </figure>`;
}
