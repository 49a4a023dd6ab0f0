import { qs } from '../api.ts';
import { ActionButton, type ActionSpec } from '../components/action-dialog.ts';
import type { LoadPoint } from '../components/load-chart.ts';
import { LoadChart } from '../components/load-chart.ts';
import { SloBudget } from '../components/slo-budget.ts';
import { ago, pct, rps, time, until } from '../format.ts';
import { html } from '../html.ts';
import { usePoll } from '../live.ts';
import { canAct, useStore } from '../store.ts';
import type { Action, Consumer, Page, Run, Slo } from '../types.ts';
import { edgeStatus } from './map.ts';

interface ObservedAnnouncement {
  prefix: string;
  state?: string;
  session?: string;
  communities?: string[];
}
interface Session {
  name: string;
  state?: string;
  established?: boolean;
}

/** The buttons of an edge: each opens the reason / expiry / dry-run dialog. */
function edgeActions(edge: string, others: string[], unicast: string[], active: Action[]): ActionSpec[] {
  const has = (kind: string) => active.some((a) => a.kind === kind);
  const base = `/v1/edges/${encodeURIComponent(edge)}`;
  const specs: ActionSpec[] = [];
  specs.push(
    has('drain')
      ? { title: `Undrain ${edge}`, path: `${base}/undrain`, expiry: false, dryRun: true }
      : {
          title: `Drain ${edge}`,
          path: `${base}/drain`,
          expiry: true,
          dryRun: true,
          danger: true,
          help: 'DNS stops answering with this edge; its routes stay announced.',
        },
  );
  specs.push(
    has('dns-shift')
      ? { title: `Undo shift of ${edge}`, path: `${base}/unshift`, expiry: false, dryRun: true }
      : {
          title: `Shift ${edge}`,
          path: `${base}/shift`,
          expiry: true,
          dryRun: true,
          help: "Moves a share of the edge's DNS answers to other edges.",
          params: [
            { name: 'percent', label: 'Percent of answers to move', type: 'number', value: '25' },
            {
              name: 'targets',
              label: 'Target edges (comma-separated; empty: nearest)',
              type: 'list',
              value: '',
              hint: others.join(', '),
            },
          ],
        },
  );
  for (const prefix of unicast) {
    const withdrawn = active.some((a) => a.kind === 'withdraw-unicast' && a.prefix === prefix);
    const p = `/v1/prefixes/${encodeURIComponent(prefix)}`;
    specs.push(
      withdrawn
        ? { title: `Restore ${prefix}`, path: `${p}/restore`, expiry: false, dryRun: true }
        : {
            title: `Withdraw ${prefix}`,
            path: `${p}/withdraw`,
            expiry: true,
            dryRun: true,
            danger: true,
            help: 'The edge stops announcing its unicast prefix; traffic follows the anycast supernet.',
          },
    );
  }
  specs.push(
    has('dsr-shed')
      ? { title: `Undo DSR of ${edge}`, path: `${base}/undsr`, expiry: false, dryRun: true }
      : {
          title: `DSR ${edge}`,
          path: `${base}/dsr`,
          expiry: true,
          dryRun: true,
          help: "The edge's XDP program sends a fraction of new flows to other edges (direct server return).",
          params: [
            { name: 'fraction', label: 'Fraction of new flows (0-1)', type: 'number', value: '0.25' },
            {
              name: 'targets',
              label: 'Target edges (comma-separated)',
              type: 'list',
              value: others.slice(0, 2).join(', '),
            },
          ],
        },
  );
  specs.push(
    has('freeze')
      ? { title: `Unfreeze ${edge}`, path: `${base}/unfreeze`, expiry: false, dryRun: true }
      : {
          title: `Freeze automation on ${edge}`,
          path: `${base}/freeze`,
          expiry: true,
          dryRun: true,
          help: 'Playbooks stop acting on this edge until the freeze expires or is undone.',
        },
  );
  return specs;
}

interface LoadSeries {
  capacityRps: number;
  stepSeconds: number;
  points: { at: string; rps: number; maxRps: number; samples: number }[];
}

/** The server's history (one-minute means of the agent's reports, 6 h), then the latest load. */
function chartPoints(series: LoadSeries | undefined, latest: { rps: number | null; capacity: number }): LoadPoint[] {
  const points: LoadPoint[] = (series?.points ?? []).map((p) => ({
    t: Date.parse(p.at) / 1000,
    rps: p.rps,
    capacity: series!.capacityRps,
  }));
  points.push({ t: Date.now() / 1000, rps: latest.rps, capacity: latest.capacity });
  return points;
}

/** Pins to this edge (from the snapshot, with their actions for revert), and a button to add one. */
function PinsSection({ name, active, reload }: { name: string; active: Action[]; reload: () => void }) {
  const { snapshot, me } = useStore();
  const pins = (snapshot?.body.pins ?? []).filter((p) => p.edge === name);
  const pinActions = active.filter((a) => a.kind === 'pin');
  const spec: ActionSpec = {
    title: `Pin clients to ${name}`,
    path: '/v1/actions',
    extra: { kind: 'pin', edge: name },
    expiry: true,
    dryRun: true,
    help: 'Clients in a prefix (ECS or resolver address) or a country always get this edge: DNS shifts do not move them; a drain of the edge suspends the pin.',
    params: [
      { name: 'cidr', label: 'Client prefix (CIDR), or leave empty', type: 'text', value: '' },
      { name: 'country', label: 'Country (ISO code), or leave empty', type: 'text', value: '' },
      { name: 'name', label: 'Service (empty: every service)', type: 'text', value: '' },
    ],
  };
  return html`<h2>Pinned answers</h2>
    ${canAct(me) ? html`<div class="toolbar" role="group" aria-label="pins"><${ActionButton} spec=${spec} onDone=${reload} /></div>` : null}
    ${
      pinActions.length === 0
        ? html`<p class="muted" data-testid="pins-none">No client is pinned to ${name}.</p>`
        : html`<table data-testid="pins" aria-label="pinned answers">
            <thead><tr><th scope="col">action</th><th scope="col">clients</th><th scope="col">service</th><th scope="col">reason</th><th scope="col">expires</th><th scope="col">in the snapshot</th>${canAct(me) ? html`<th scope="col">revert</th>` : null}</tr></thead>
            <tbody>${pinActions.map((a) => {
              const p = a.params as { cidr?: string; country?: string; name?: string };
              const published = pins.some((x) => x.action === a.id);
              return html`<tr data-pin=${a.id}>
                <td>${a.id}</td><td><code>${p.cidr ?? `country ${p.country}`}</code></td><td>${p.name ?? 'every service'}</td>
                <td>${a.reason}</td><td>${until(a.expiresAt)}</td><td>${published ? (edgeServes(snapshot, name) ? 'yes' : 'suspended: the edge does not serve') : 'not yet'}</td>
                ${canAct(me) ? html`<td><${ActionButton} spec=${{ title: `Unpin ${a.id}`, path: `/v1/actions/${a.id}/revert`, expiry: false, dryRun: true }} onDone=${reload} /></td>` : null}
              </tr>`;
            })}</tbody>
          </table>`
    }`;
}

const edgeServes = (snapshot: ReturnType<typeof useStore>['snapshot'], name: string) =>
  snapshot?.body.edges.find((e) => e.name === name)?.usable ?? false;

export function EdgePage({ name }: { name: string }) {
  const { snapshot, me, edges } = useStore();
  const history = usePoll<LoadSeries>(`/v1/edges/${encodeURIComponent(name)}/load?since=6h&step=1m`, 10_000);
  const actions = usePoll<Page<Action>>(`/v1/actions${qs({ edge: name, limit: 500 })}`);
  const runs = usePoll<Page<Run>>(`/v1/runs${qs({ edge: name, limit: 200 })}`);
  const slos = usePoll<Page<Slo>>('/v1/slos?limit=500', 10_000);
  const consumers = usePoll<{ items: Consumer[] }>('/v1/consumers?kind=edge&limit=500', 2000);
  if (!snapshot) return html`<p role="status">Loading the snapshot…</p>`;
  const edge = edges.find((e) => e.name === name);
  if (!edge) return html`<h1>No edge "${name}"</h1><p><a href="#/">Back to the map</a></p>`;
  const utilSlo = (slos.data?.items ?? []).find((s) => s.edge === name && s.metric === 'utilisation');
  const edgeSlos = (slos.data?.items ?? []).filter((s) => !s.edge || s.edge === name);
  const all = actions.data?.items ?? [];
  const active = all.filter((a) => a.active);
  const desired = snapshot.body.announcements.filter((a) => a.edge === name);
  const agent = (consumers.data?.items ?? []).find((c) => c.name === `edge:${name}` || c.name === name);
  // What the agent read from its speaker, per session; null: the speaker could not be read.
  const reported = agent?.details?.announcements as ObservedAnnouncement[] | null | undefined;
  const observed = reported ?? [];
  const sessions = (agent?.details?.sessions as Session[] | undefined) ?? [];
  const dsr = snapshot.body.dsr.find((d) => d.edge === name);
  const dsrObserved = agent?.details?.dsr as Record<string, unknown> | undefined;
  const others = edges.filter((e) => e.name !== name).map((e) => e.name);
  const unicast = snapshot.body.prefixes.filter((p) => p.kind === 'unicast' && p.edge === name).map((p) => p.cidr);
  // The threshold the rules use (compiled into the snapshot: the lowest utilisation SLO enter, else 0.85).
  const enter = edge.threshold;
  const exit = utilSlo?.exit ?? 0.7;

  return html`<section aria-labelledby="edge-title">
    <h1 id="edge-title">Edge ${name}</h1>
    <p data-testid="edge-summary">
      <span class="pill" data-testid="edge-status">${edgeStatus(edge)}</span>
      state ${edge.state}, override ${edge.override}, ${rps(edge.loadRps)} of ${rps(edge.capacityRps)}
      (${pct(edge.utilisation)}${edge.loadReportedAt ? `, reported ${ago(edge.loadReportedAt)}` : ''})${edge.shiftPercent ? `, ${edge.shiftPercent} % of answers shifted to ${edge.shiftTargets.join(', ') || 'others'}` : ''};
      ${edge.region}, ${edge.country}.
    </p>

    ${
      canAct(me)
        ? html`<div class="toolbar" role="group" aria-label="operator actions" data-testid="edge-actions">
            ${edgeActions(name, others, unicast, active).map((s) => html`<${ActionButton} spec=${s} onDone=${actions.reload} />`)}
          </div>`
        : html`<p class="muted" data-testid="read-only">Read only: your role (${me?.role}) cannot act on edges.</p>`
    }

    <h2>Load</h2>
    <${LoadChart} points=${chartPoints(history.data, { rps: edge.loadRps, capacity: edge.capacityRps })} enter=${enter} exit=${exit}
      label=${`Load of ${name} against capacity and the utilisation SLO thresholds${utilSlo ? ` (${utilSlo.name})` : ' (default 85 % / 70 %)'} over the last 6 hours: one-minute means of the edge agent's reports (${history.data?.points.length ?? 0} minute${history.data?.points.length === 1 ? '' : 's'} with reports), then the latest.`} />
    <${PinsSection} name=${name} active=${active} reload=${actions.reload} />
    ${
      edgeSlos.length
        ? html`<table aria-label="SLOs"><thead><tr><th scope="col">SLO</th><th scope="col">metric</th><th scope="col">enter</th><th scope="col">exit</th><th scope="col">window</th><th scope="col">error budget / burn</th></tr></thead>
            <tbody>${edgeSlos.map((s) => html`<tr><td>${s.name}</td><td>${s.metric}</td><td>${s.enter}</td><td>${s.exit}</td><td>${s.window ?? '–'}</td><td><${SloBudget} slo=${s.name} edge=${name} /></td></tr>`)}</tbody></table>`
        : html`<p class="muted">No SLO on this edge.</p>`
    }

    <h2>Announcements: desired and observed</h2>
    <p class="muted">${agent ? html`Edge agent ${agent.name} reported ${ago(agent.reportedAt)} (snapshot v${agent.snapshotVersion ?? '–'}); sessions: ${sessions.map((s) => `${s.name} ${s.established ? 'up' : (s.state ?? 'down')}`).join(', ') || 'none'}.` : 'No edge agent reports for this edge: observed state unknown.'}</p>
    <table data-testid="announcements" aria-label="announcements">
      <thead><tr><th scope="col">prefix</th><th scope="col">desired</th><th scope="col">observed</th><th scope="col">communities</th><th scope="col">why</th></tr></thead>
      <tbody>${desired.map((a) => {
        const seen = observed.filter((o) => o.prefix === a.prefix);
        const obs =
          agent && reported !== null
            ? seen.map((o) => `${o.state ?? 'announced'}${o.session ? ` (${o.session})` : ''}`).join(', ') ||
              'not announced'
            : 'unknown';
        const mismatch =
          agent &&
          reported !== null &&
          (a.state === 'announced') !== seen.some((o) => (o.state ?? 'announced') === 'announced');
        return html`<tr class=${mismatch ? 'mismatch' : ''}><td><code>${a.prefix}</code></td><td>${a.state}</td><td>${obs}${mismatch ? html` <strong class="warn">differs</strong>` : ''}</td><td>${a.communities.join(' ') || '–'}</td><td>${a.reason ?? '–'}</td></tr>`;
      })}</tbody>
    </table>

    <h2>Direct server return</h2>
    <p data-testid="dsr">${dsr ? html`${dsr.enabled ? `shedding ${pct(dsr.fraction)} of new flows` : 'off'}; targets: ${(dsr.targets as { edge?: string; address?: string }[]).map((t) => t.edge ?? t.address ?? JSON.stringify(t)).join(', ') || 'none'}; redirected flows: ${dsrObserved ? JSON.stringify(dsrObserved) : 'not reported'}.` : 'No DSR configuration.'}</p>

    <h2>Actions on ${name}</h2>
    <${ActionTable} actions=${[...all].reverse()} />

    <h2>Runs on ${name}</h2>
    <ul>${[...(runs.data?.items ?? [])].reverse().map((r) => html`<li><a href=${`#/runs/${r.id}`}>run ${r.id}</a>: ${r.playbook}, ${r.state}, started ${time(r.startedAt)}</li>`)}</ul>
    ${(runs.data?.items ?? []).length === 0 ? html`<p class="muted">No run has touched ${name}.</p>` : null}
  </section>`;
}

export function ActionTable({ actions, revert = false }: { actions: Action[]; revert?: boolean }) {
  const { me } = useStore();
  if (actions.length === 0) return html`<p class="muted">None.</p>`;
  return html`<table aria-label="actions" data-testid="actions">
    <thead><tr><th scope="col">id</th><th scope="col">kind</th><th scope="col">on</th><th scope="col">by</th><th scope="col">reason</th><th scope="col">created</th><th scope="col">expires</th><th scope="col">state</th>${revert && canAct(me) ? html`<th scope="col">revert</th>` : null}</tr></thead>
    <tbody>${actions.map(
      (a) => html`<tr data-action=${a.id}>
        <td>${a.id}</td><td>${a.kind}${a.forced ? ' (forced)' : ''}</td><td>${a.edge ?? 'global'}${a.prefix ? ` ${a.prefix}` : ''}</td>
        <td>${a.actor}${a.runId ? html` (<a href=${`#/runs/${a.runId}`}>run ${a.runId}</a>)` : ''}</td><td>${a.reason}</td>
        <td>${time(a.createdAt)}</td><td>${a.active ? until(a.expiresAt) : '–'}</td>
        <td>${a.active ? 'active' : a.revertedAt ? `reverted by ${a.revertedBy ?? '?'}` : 'expired'}</td>
        ${revert && canAct(me) ? html`<td>${a.active ? html`<${ActionButton} spec=${{ title: `Revert ${a.id}`, path: `/v1/actions/${a.id}/revert`, expiry: false, dryRun: true }} />` : null}</td>` : null}
      </tr>`,
    )}</tbody>
  </table>`;
}
