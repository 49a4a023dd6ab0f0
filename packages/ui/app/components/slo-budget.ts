import { html } from '../html.ts';
import { usePoll } from '../live.ts';

interface Budget {
  objective: { target: number; window: string } | null;
  edges: {
    edge: string;
    budgetRemaining: number | null;
    windows: Record<string, { burnRate: number | null }>;
    firing: { long: string; short: string; severity: string }[];
    evaluatedAt: string;
  }[];
}

import { objectivePct, pct } from '../format.ts';

/**
 * One SLO's error budget at one edge, as the controller last evaluated it
 * (`GET /v1/slos/{name}/budget`): budget left, the fastest burn, the pairs that fire.
 */
export function SloBudget({ slo, edge }: { slo: string; edge: string }) {
  const budget = usePoll<Budget>(`/v1/slos/${encodeURIComponent(slo)}/budget`, 15_000);
  if (!budget.data) return html`<span class="muted">…</span>`;
  const o = budget.data.objective;
  if (!o) return html`<span class="muted">no objective (threshold only)</span>`;
  const here = budget.data.edges.find((e) => e.edge === edge);
  if (!here || here.budgetRemaining === null) {
    return html`<span class="muted">${objectivePct(o.target)} over ${o.window}: not evaluated yet (needs Prometheus)</span>`;
  }
  const burns = Object.entries(here.windows)
    .filter(([, w]) => w.burnRate !== null)
    .map(([w, v]) => `${w} ${(v.burnRate as number).toFixed(1)}×`);
  return html`<span data-testid=${`budget-${slo}`} class=${here.firing.length ? 'hot' : ''}>
    ${pct(here.budgetRemaining)} of ${o.window} budget left (objective ${objectivePct(o.target)});
    burn ${burns.join(', ')}${here.firing.length ? html`; <strong>burning ${here.firing.map((p) => `${p.long}/${p.short} ${p.severity}`).join(', ')}</strong>` : ''}
  </span>`;
}
