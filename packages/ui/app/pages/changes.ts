import { useState } from 'preact/hooks';
import { qs } from '../api.ts';
import { ObjectDiff } from '../components/diff.ts';
import { time } from '../format.ts';
import { html } from '../html.ts';
import { usePoll } from '../live.ts';
import type { Action, AuditRecord, Page } from '../types.ts';
import { ActionTable } from './edge.ts';

interface Filters {
  actor: string;
  objectType: string;
  objectId: string;
  since: string;
  until: string;
}
const EMPTY: Filters = { actor: '', objectType: '', objectId: '', since: '', until: '' };
const iso = (local: string) => (local ? new Date(local).toISOString() : undefined);

/** The audit log with filters, each entry's before/after as a diff; the active actions with revert. */
export function ChangesPage() {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const audit = usePoll<Page<AuditRecord>>(
    `/v1/audit${qs({
      limit: 100,
      actor: filters.actor,
      objectType: filters.objectType,
      objectId: filters.objectId,
      since: iso(filters.since),
      until: iso(filters.until),
    })}`,
  );
  const active = usePoll<Page<Action>>(`/v1/actions${qs({ active: true, limit: 500 })}`);
  const field = (k: keyof Filters, label: string, type = 'text') =>
    html`<div><label for=${`f-${k}`}>${label}</label><input id=${`f-${k}`} type=${type} value=${draft[k]}
      onInput=${(e: Event) => setDraft({ ...draft, [k]: (e.target as HTMLInputElement).value })} /></div>`;
  return html`<section aria-labelledby="changes-title">
    <h1 id="changes-title">Changes</h1>
    <h2>Active actions</h2>
    <${ActionTable} actions=${[...(active.data?.items ?? [])].reverse()} revert=${true} />

    <h2>Audit log</h2>
    <form class="filters" aria-label="audit filters" onSubmit=${(e: Event) => {
      e.preventDefault();
      setFilters(draft);
    }}>
      ${field('actor', 'Actor')}
      ${field('objectType', 'Object type')}
      ${field('objectId', 'Object')}
      ${field('since', 'Since', 'datetime-local')}
      ${field('until', 'Until', 'datetime-local')}
      <div class="buttons"><button type="submit" class="primary">Filter</button>
        <button type="button" onClick=${() => {
          setDraft(EMPTY);
          setFilters(EMPTY);
        }}>Clear</button></div>
    </form>
    ${audit.error ? html`<p class="error" role="alert">${audit.error.message}</p>` : null}
    <ul class="audit" data-testid="audit">
      ${(audit.data?.items ?? []).map(
        (a) => html`<li data-audit=${a.id} data-object=${`${a.objectType}:${a.objectId ?? ''}`}>
          <details>
            <summary><strong>${a.action}</strong> ${a.objectType} <code>${a.objectId ?? ''}</code> by ${a.actor}
              at ${time(a.at)}${a.reason ? ` — “${a.reason}”` : ''}${a.forced ? ' (forced)' : ''}</summary>
            <${ObjectDiff} before=${a.before} after=${a.after} />
          </details>
        </li>`,
      )}
    </ul>
    ${audit.data && audit.data.items.length === 0 ? html`<p class="muted">No audit record matches.</p>` : null}
  </section>`;
}
