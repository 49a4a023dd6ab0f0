import { pct, rps } from '../format.ts';
import { html } from '../html.ts';

interface Target {
  edge: string;
  loadRps?: number | null;
  movedRps?: number | null;
  capacityRps?: number;
  predictedUtilisation?: number | null;
  threshold?: number;
}

/**
 * Predicted loads where the API gives them (dry runs once the decision engine returns
 * them; run steps' `predicted`): the load moved and each target's utilisation after.
 */
export function Predicted({ value }: { value: unknown }) {
  const v = value as { edge?: string; movedRps?: number; targets?: Target[]; confidence?: string } | undefined;
  if (!v || typeof v !== 'object' || !Array.isArray(v.targets)) return null;
  return html`<div class="predicted">
    <h4>Predicted loads${v.confidence ? ` (${v.confidence})` : ''}</h4>
    ${v.movedRps !== undefined ? html`<p>Moves ${rps(v.movedRps)} off ${v.edge ?? 'the edge'}.</p>` : null}
    ${
      v.targets.length === 0
        ? html`<p class="muted">No target edge.</p>`
        : html`<table aria-label="predicted loads">
            <thead><tr><th scope="col">target</th><th scope="col">moved</th><th scope="col">utilisation after</th><th scope="col">threshold</th></tr></thead>
            <tbody>${v.targets.map(
              (t) =>
                html`<tr><td>${t.edge}</td><td>${rps(t.movedRps)}</td><td>${pct(t.predictedUtilisation)}</td><td>${pct(t.threshold)}</td></tr>`,
            )}</tbody>
          </table>`
    }
  </div>`;
}

/** One affected edge of a change, before and after (the API's dry run `predictedLoads`). */
export interface PredictedLoad {
  edge: string;
  capacityRps: number;
  beforeRps: number | null;
  afterRps: number | null;
  beforeUtilisation: number | null;
  afterUtilisation: number | null;
}

const maybe = (v: number | null, f: (n: number) => string) => (v === null ? 'unknown' : f(v));

/**
 * The dry run's predicted load per affected edge (the edge shed first, then each
 * target), before and after: what the controller records for the same playbook step.
 */
export function PredictedLoads({ loads }: { loads: PredictedLoad[] | undefined }) {
  if (!loads || loads.length === 0) return null;
  return html`<div class="predicted">
    <h4>Predicted loads</h4>
    <table aria-label="predicted loads" data-testid="predicted-loads">
      <thead><tr><th scope="col">edge</th><th scope="col">before</th><th scope="col">after</th><th scope="col">utilisation before</th><th scope="col">utilisation after</th></tr></thead>
      <tbody>${loads.map(
        (l) =>
          html`<tr><td>${l.edge}</td><td>${maybe(l.beforeRps, rps)}</td><td>${maybe(l.afterRps, rps)}</td><td>${maybe(l.beforeUtilisation, pct)}</td><td>${maybe(l.afterUtilisation, pct)}</td></tr>`,
      )}</tbody>
    </table>
  </div>`;
}
