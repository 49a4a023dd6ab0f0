import { qs } from '../api.ts';
import { ActionButton } from '../components/action-dialog.ts';
import { Predicted } from '../components/predicted.ts';
import { json, time } from '../format.ts';
import { html } from '../html.ts';
import { usePoll } from '../live.ts';
import { canAct, useStore } from '../store.ts';
import type { Page, Run, RunStep } from '../types.ts';

const OPEN = new Set(['triggered', 'acting', 'awaiting-approval', 'mitigated', 'recovering']);

function refusals(step: RunStep): { rule: string; reason: string }[] {
  const r = step.refusal;
  if (!r) return [];
  const list = Array.isArray(r) ? r : [r];
  return list.map((x) => ({
    rule: String((x as { rule?: string }).rule ?? '?'),
    reason: String((x as { reason?: string; message?: string }).reason ?? (x as { message?: string }).message ?? ''),
  }));
}

/** The stage's effect as the controller checked it at the end of its verify window. */
function verification(step: RunStep): { state: string; reason: string } | null {
  const v = (step.observed as { verification?: { state?: unknown; reason?: unknown } } | null)?.verification;
  return v ? { state: String(v.state ?? '?'), reason: String(v.reason ?? '') } : null;
}

function Step({ step }: { step: RunStep }) {
  const rs = refusals(step);
  const v = verification(step);
  return html`<li class=${`step step-${step.state}`} data-state=${step.state} data-kind=${step.kind}>
    <div class="step-head">
      <strong>${step.position + 1}.${step.stage + 1} ${step.kind}</strong>
      <span class="pill">${step.state}</span>
      <span class="muted">${time(step.startedAt)}${step.endedAt ? ` → ${time(step.endedAt)}` : ''}</span>
    </div>
    ${step.params && Object.keys(step.params as object).length ? html`<div><code>${json(step.params)}</code></div>` : null}
    ${rs.map((r) => html`<div class="refusal">refused by <strong>${r.rule}</strong>: ${r.reason}</div>`)}
    ${v ? html`<div class=${v.state === 'failed' ? 'refusal' : ''} data-testid="verification">verification <strong>${v.state}</strong>: ${v.reason}</div>` : null}
    ${step.decidedBy ? html`<div>decided by ${step.decidedBy} at ${time(step.decidedAt)}</div>` : null}
    ${step.actionId ? html`<div>action <a href="#/changes">${step.actionId}</a></div>` : null}
    ${step.observed ? html`<div>observed <code>${json(step.observed)}</code></div>` : null}
    <details><summary>predicted</summary><${Predicted} value=${step.predicted} /></details>
  </li>`;
}

/** One run as a timeline of its steps, with the decisions an operator can take on it. */
export function RunCard({ id }: { id: number }) {
  const { me } = useStore();
  const run = usePoll<Run>(`/v1/runs/${id}`);
  const r = run.data;
  if (!r) return html`<article class="run" aria-busy="true">run ${id}…</article>`;
  const waiting = r.steps?.some((s) => s.state === 'awaiting-approval');
  const open = OPEN.has(r.state);
  return html`<article class="run" data-run=${r.id} data-state=${r.state} aria-labelledby=${`run-${r.id}`}>
    <h2 id=${`run-${r.id}`}><a href=${`#/runs/${r.id}`}>Run ${r.id}</a>: ${r.playbook} on ${r.edge ?? 'all edges'}</h2>
    <p><span class="pill" data-testid="run-state">${r.state}</span> mode ${r.mode}, started ${time(r.startedAt)},
      updated ${time(r.updatedAt)}${r.endedAt ? `, ended ${time(r.endedAt)}` : ''}${r.error ? html`; <span class="warn">${r.error}</span>` : ''}</p>
    ${r.holding ? html`<p data-testid="run-holding">holding since ${time(r.holding.since)}: ${r.holding.reason}</p>` : null}
    ${
      canAct(me) && open
        ? html`<div class="toolbar" role="group" aria-label=${`decisions on run ${r.id}`}>
            ${
              waiting
                ? html`<${ActionButton} spec=${{ title: `Approve run ${r.id}`, path: `/v1/runs/${r.id}/approve`, expiry: false, dryRun: false, help: 'The controller applies the waiting stage at its next tick, after checking the safety rules again.' }} onDone=${run.reload} />
                  <${ActionButton} spec=${{ title: `Reject run ${r.id}`, path: `/v1/runs/${r.id}/reject`, expiry: false, dryRun: false, help: 'The controller skips the waiting stage.' }} onDone=${run.reload} />`
                : null
            }
            <${ActionButton} spec=${{ title: `Abort run ${r.id}`, path: `/v1/runs/${r.id}/abort`, expiry: false, dryRun: false, danger: true, help: 'Stops the run and reverts its active actions.' }} onDone=${run.reload} />
          </div>`
        : null
    }
    <ol class="timeline" aria-label=${`steps of run ${r.id}`}>${(r.steps ?? []).map((s) => html`<${Step} step=${s} />`)}</ol>
    ${(r.steps ?? []).length === 0 ? html`<p class="muted">No step yet.</p>` : null}
  </article>`;
}

export function RunsPage({ id }: { id?: number }) {
  const list = usePoll<Page<Run>>(`/v1/runs${qs({ limit: 200 })}`);
  if (id !== undefined)
    return html`<section aria-label="run"><p><a href="#/runs">All runs</a></p><${RunCard} id=${id} /></section>`;
  const runs = [...(list.data?.items ?? [])].reverse();
  const open = runs.filter((r) => OPEN.has(r.state));
  const past = runs.filter((r) => !OPEN.has(r.state));
  return html`<section aria-labelledby="runs-title">
    <h1 id="runs-title">Playbook runs</h1>
    <h2>Active</h2>
    ${open.length === 0 ? html`<p class="muted" data-testid="no-active-runs">No active run.</p>` : open.map((r) => html`<${RunCard} key=${r.id} id=${r.id} />`)}
    <h2>Past</h2>
    ${
      past.length === 0
        ? html`<p class="muted">None.</p>`
        : html`<table aria-label="past runs"><thead><tr><th scope="col">run</th><th scope="col">playbook</th><th scope="col">edge</th><th scope="col">state</th><th scope="col">started</th><th scope="col">ended</th></tr></thead>
      <tbody>${past.slice(0, 100).map((r) => html`<tr data-run=${r.id}><td><a href=${`#/runs/${r.id}`}>${r.id}</a></td><td>${r.playbook}</td><td>${r.edge ?? '–'}</td><td>${r.state}</td><td>${time(r.startedAt)}</td><td>${time(r.endedAt)}</td></tr>`)}</tbody></table>`
    }
  </section>`;
}
