import { ago, time } from '../format.ts';
import { html } from '../html.ts';
import { usePoll } from '../live.ts';
import type { Consumer } from '../types.ts';

/** Reports older than this are stale: three DNS report intervals (60 s each by default). */
export const STALE_AFTER_MS = 180_000;

export function isStale(c: Consumer, latest: number | null, now = Date.now()): boolean {
  const behind = latest !== null && (c.snapshotVersion === null || c.snapshotVersion < latest);
  return behind || !c.healthy || now - new Date(c.reportedAt).getTime() > STALE_AFTER_MS;
}

export function ConsumersPage() {
  const list = usePoll<{ latestVersion: number | null; items: Consumer[] }>('/v1/consumers?limit=500');
  const latest = list.data?.latestVersion ?? null;
  const items = list.data?.items ?? [];
  return html`<section aria-labelledby="consumers-title">
    <h1 id="consumers-title">Consumers</h1>
    <p>Latest published snapshot: <strong data-testid="latest-version">v${latest ?? '–'}</strong>. A consumer is stale when it runs an older version, reports unhealthy, or has not reported for ${STALE_AFTER_MS / 60000} minutes.</p>
    ${
      items.length === 0
        ? html`<p class="muted">No DNS server or edge agent has reported yet.</p>`
        : html`<table data-testid="consumers" aria-label="consumers">
            <thead><tr><th scope="col">consumer</th><th scope="col">kind</th><th scope="col">snapshot</th><th scope="col">lag</th><th scope="col">health</th><th scope="col">last report</th><th scope="col">load</th></tr></thead>
            <tbody>${items.map((c) => {
              const stale = isStale(c, latest);
              return html`<tr data-consumer=${c.name} class=${stale ? 'stale' : ''} data-stale=${String(stale)}>
                <th scope="row">${c.name}${stale ? html` <strong class="warn">stale</strong>` : ''}</th>
                <td>${c.kind}</td><td>v${c.snapshotVersion ?? '–'}</td><td>${c.lag ?? '–'}</td>
                <td>${c.healthy ? 'healthy' : 'unhealthy'}</td>
                <td title=${time(c.reportedAt)}>${ago(c.reportedAt)}</td>
                <td><code>${c.load ? JSON.stringify(c.load).slice(0, 120) : '–'}</code></td>
              </tr>`;
            })}</tbody>
          </table>`
    }
  </section>`;
}
